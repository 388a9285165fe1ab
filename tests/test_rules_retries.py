"""The failure and retry rules: CEL206, CEL208, CEL209, one shape per test."""

from __future__ import annotations

from pathlib import Path

from helpers import CELERY_APP, MODELS, codes_at, lint, run_project

# The Celery app of helpers.CELERY_APP with a hard limit only: no task has a soft limit unless its
# decorator gives one.
HARD_LIMIT_ONLY = {
    **CELERY_APP,
    "proj/settings.py": """
        CELERY_BROKER_URL = "redis://localhost:6379/0"
        CELERY_TASK_TIME_LIMIT = 300
    """,
}


def tasks(tmp_path: Path, code: str, source: str, project: dict[str, str] | None = None,
          preview: bool = False, **files: str) -> list[tuple[str, int]]:
    """(code, row) of rule `code` in shop/tasks.py; `files` adds modules (`shop__other`)."""
    found = {**(project if project is not None else HARD_LIMIT_ONLY), "shop/models.py": MODELS,
             "shop/tasks.py": source}
    found.update({name.replace("__", "/") + ".py": text for name, text in files.items()})
    return codes_at(tmp_path, found, "shop/tasks.py", select=(code,), preview=preview)


# -- CEL206 swallowed-celery-exception: Retry ------------------------------------------------

def test_cel206_retry_swallowed_then_the_task_goes_on(tmp_path: Path) -> None:
    source = """
        import logging

        from celery import shared_task

        logger = logging.getLogger(__name__)


        @shared_task(bind=True)
        def fetch(self, url):
            try:
                if not download(url):
                    raise self.retry(countdown=60)
            except Exception:
                logger.exception("fetch failed")
            publish(url)
    """
    assert tasks(tmp_path, "CEL206", source) == [("CEL206", 13)]


def test_cel206_retry_swallowed_by_a_handler_that_logs_and_ends(tmp_path: Path) -> None:
    """The attempt ends right there: the retry already queued runs, nothing runs twice."""
    source = """
        import logging

        from celery import shared_task

        logger = logging.getLogger(__name__)


        @shared_task(bind=True)
        def fetch(self, url):
            try:
                if not download(url):
                    raise self.retry(countdown=60)
            except Exception:
                logger.exception("fetch failed")
    """
    assert tasks(tmp_path, "CEL206", source) == []


def test_cel206_bare_except_swallows_retry_in_a_loop(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch_all(self, urls):
            for url in urls:
                try:
                    download(url)
                    self.retry(countdown=60)
                except:
                    pass
    """
    assert tasks(tmp_path, "CEL206", source) == [("CEL206", 10)]


def test_cel206_except_base_exception_then_continue(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch_all(self, urls):
            for url in urls:
                try:
                    raise self.retry()
                except BaseException as exc:
                    note(exc)
                    continue
    """
    assert tasks(tmp_path, "CEL206", source) == [("CEL206", 9)]


def test_cel206_handler_returns_inside_a_loop(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch_all(self, urls):
            for url in urls:
                try:
                    raise self.retry()
                except BaseException as exc:
                    return str(exc)
    """
    assert tasks(tmp_path, "CEL206", source) == []


def test_cel206_loop_turn_that_returns_after_the_try(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch_first(self, urls):
            for url in urls:
                try:
                    raise self.retry()
                except BaseException as exc:
                    note(exc)
                return url


        @shared_task(bind=True)
        def fetch_until(self, urls):
            for url in urls:
                try:
                    raise self.retry()
                except BaseException as exc:
                    note(exc)
                publish(url)
                break
    """
    assert tasks(tmp_path, "CEL206", source) == [("CEL206", 19)]


def test_cel206_one_line_handler_that_returns(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch_all(self, urls):
            for url in urls:
                try:
                    raise self.retry()
                except Exception: return None
    """
    assert tasks(tmp_path, "CEL206", source) == []


def test_cel206_one_line_handler_that_passes(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch_all(self, urls):
            for url in urls:
                try:
                    raise self.retry()
                except Exception: pass
    """
    assert tasks(tmp_path, "CEL206", source) == [("CEL206", 9)]


def test_cel206_handler_breaks_out_of_the_loop_with_work_after(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch_all(self, urls):
            for url in urls:
                try:
                    raise self.retry()
                except Exception:
                    break
            publish(urls)
    """
    assert tasks(tmp_path, "CEL206", source) == [("CEL206", 9)]


def test_cel206_handler_breaks_out_of_the_last_loop(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch_all(self, urls):
            for url in urls:
                try:
                    raise self.retry()
                except Exception:
                    break
            return len(urls)
    """
    assert tasks(tmp_path, "CEL206", source) == []


def test_cel206_tuple_with_exception_swallows_retry(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch(self, url):
            try:
                raise self.retry()
            except (ValueError, Exception):
                result = None
            publish(url, result)
    """
    assert tasks(tmp_path, "CEL206", source) == [("CEL206", 8)]


def test_cel206_retry_deep_in_the_try_body(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch(self, urls):
            try:
                for url in urls:
                    with open(url) as handle:
                        if not handle.read():
                            raise self.retry()
            except Exception:
                urls = []
            publish(urls)
    """
    assert tasks(tmp_path, "CEL206", source) == [("CEL206", 11)]


def test_cel206_helper_that_raises_retry(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        def retry_later(task, exc):
            raise task.retry(exc=exc, countdown=60)


        @shared_task(bind=True)
        def fetch(self, url):
            try:
                response = download(url)
                if response is None:
                    retry_later(self, ValueError(url))
            except Exception:
                response = None
            publish(url, response)
    """
    assert tasks(tmp_path, "CEL206", source) == [("CEL206", 14)]


def test_cel206_retry_raised_directly(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from celery.exceptions import Retry


        @shared_task
        def fetch(url):
            try:
                if not download(url):
                    raise Retry("not ready")
            except Exception:
                pass
            publish(url)
    """
    assert tasks(tmp_path, "CEL206", source) == [("CEL206", 10)]


def test_cel206_retry_from_an_inner_handler_reaches_the_outer_one(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch(self, url):
            try:
                try:
                    download(url)
                except OSError as exc:
                    raise self.retry(exc=exc)
            except Exception:
                pass
            publish(url)
    """
    assert tasks(tmp_path, "CEL206", source) == [("CEL206", 11)]


def test_cel206_app_task_swallows_retry(tmp_path: Path) -> None:
    source = """
        from proj.celery import app


        @app.task(bind=True)
        def fetch(self, url):
            try:
                raise self.retry()
            except Exception:
                pass
            publish(url)
    """
    assert tasks(tmp_path, "CEL206", source) == [("CEL206", 8)]


def test_cel206_raise_inside_a_nested_def_does_not_reraise(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch(self, url):
            try:
                raise self.retry()
            except Exception:
                def fail():
                    raise
                schedule(fail)
            publish(url)
    """
    assert tasks(tmp_path, "CEL206", source) == [("CEL206", 8)]


def test_cel206_message_says_what_happens_to_the_retry(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch(self, url):
            try:
                raise self.retry()
            except Exception:
                pass
            publish(url)
    """
    files = {**HARD_LIMIT_ONLY, "shop/models.py": MODELS, "shop/tasks.py": source}
    [message] = [d.message for d in run_project(tmp_path, files, ("CEL206",)).diagnostics]
    assert message == (
        "`except Exception` in task `fetch` catches the `Retry` that `self.retry()` raises to "
        "end the attempt, and the task goes on after the `try`: the work that follows runs in "
        "this attempt and again in the retry already queued")


# -- CEL206: SoftTimeLimitExceeded ------------------------------------------------------------

# a task that rebuilds shops one after the other and skips a shop whose rebuild fails
LOOP_TASK = """
    from celery import shared_task


    @shared_task{options}
    def rebuild_indexes(shop_ids):
        for shop_id in shop_ids:
            try:
                rebuild(shop_id)
            except Exception:
                continue
"""


def test_cel206_task_soft_limit_swallowed_in_a_loop(tmp_path: Path) -> None:
    source = LOOP_TASK.format(options="(soft_time_limit=60)")
    assert tasks(tmp_path, "CEL206", source) == [("CEL206", 9)]


def test_cel206_task_soft_limit_swallowed_by_a_handler_that_ends_the_task(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(soft_time_limit=60)
        def rebuild_index(shop_id):
            try:
                rebuild(shop_id)
            except Exception:
                mark_failed(shop_id)
                return False
    """
    assert tasks(tmp_path, "CEL206", source) == []


def test_cel206_handler_that_marks_the_job_failed_at_the_end(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(soft_time_limit=60)
        def rebuild_index(job):
            try:
                rebuild(job.shop_id)
            except Exception:
                job.state = "failed"
                job.save()
            return job.state
    """
    assert tasks(tmp_path, "CEL206", source) == []


def test_cel206_global_soft_limit_swallowed_in_a_loop(tmp_path: Path) -> None:
    assert tasks(tmp_path, "CEL206", LOOP_TASK.format(options=""), CELERY_APP) == [("CEL206", 9)]


def test_cel206_soft_limit_message(tmp_path: Path) -> None:
    files = {**HARD_LIMIT_ONLY, "shop/models.py": MODELS,
             "shop/tasks.py": LOOP_TASK.format(options="(soft_time_limit=60)")}
    [message] = [d.message for d in run_project(tmp_path, files, ("CEL206",)).diagnostics]
    assert message == (
        "`except Exception` in task `rebuild_indexes` catches the `SoftTimeLimitExceeded` the "
        "soft time limit raises to stop it, and the loop goes on: the task runs on past its soft "
        "limit until the hard limit, if any, kills its worker process")


def test_cel206_soft_limit_from_the_environment_without_a_default(tmp_path: Path) -> None:
    settings = """
        import os

        CELERY_BROKER_URL = "redis://localhost:6379/0"
        CELERY_TASK_SOFT_TIME_LIMIT = os.environ.get("SOFT_LIMIT", None)
    """
    project = {**CELERY_APP, "proj/settings.py": settings}
    assert tasks(tmp_path, "CEL206", LOOP_TASK.format(options=""), project) == []


def test_cel206_soft_limit_from_the_environment_with_a_default(tmp_path: Path) -> None:
    settings = """
        import os

        CELERY_BROKER_URL = "redis://localhost:6379/0"
        CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("SOFT_LIMIT", 240))
    """
    project = {**CELERY_APP, "proj/settings.py": settings}
    assert tasks(tmp_path, "CEL206", LOOP_TASK.format(options=""), project) == [("CEL206", 9)]


def test_cel206_soft_limit_on_the_worker_command_line(tmp_path: Path) -> None:
    project = {**HARD_LIMIT_ONLY,
               "Procfile": "worker: celery -A proj worker --soft-time-limit=120 -l info\n"}
    assert tasks(tmp_path, "CEL206", LOOP_TASK.format(options=""), project) == [("CEL206", 9)]


def test_cel206_threads_pool_enforces_no_soft_limit(tmp_path: Path) -> None:
    project = {**CELERY_APP, "Procfile": "worker: celery -A proj worker -P threads -c 8\n"}
    assert tasks(tmp_path, "CEL206", LOOP_TASK.format(options=""), project) == []


def test_cel206_solo_pool_from_the_settings_enforces_no_soft_limit(tmp_path: Path) -> None:
    settings = """
        CELERY_BROKER_URL = "redis://localhost:6379/0"
        CELERY_TASK_SOFT_TIME_LIMIT = 240
        CELERY_WORKER_POOL = "solo"
    """
    project = {**CELERY_APP, "proj/settings.py": settings,
               "Procfile": "worker: celery -A proj worker -l info\n"}
    assert tasks(tmp_path, "CEL206", LOOP_TASK.format(options=""), project) == []


def test_cel206_one_prefork_worker_beside_a_threads_one(tmp_path: Path) -> None:
    project = {**CELERY_APP, "Procfile": "fast: celery -A proj worker -P threads -Q fast\n"
                                         "slow: celery -A proj worker --pool=prefork -Q slow\n"}
    assert tasks(tmp_path, "CEL206", LOOP_TASK.format(options=""), project) == [("CEL206", 9)]


def test_cel206_soft_limit_a_hook_may_set_is_not_a_soft_limit(tmp_path: Path) -> None:
    # the settings hand globals() to a hook: it may set a soft limit, the settings set none
    hooked = {**CELERY_APP, "proj/plugins.py": "def load(names):\n    pass\n",
              "proj/settings.py": "from proj.plugins import load\nload(globals())\n"}
    source = """
        from celery import shared_task


        @shared_task
        def rebuild_index(shop_id):
            try:
                rebuild(shop_id)
            except Exception:
                return False
    """
    assert tasks(tmp_path, "CEL206", source, hooked) == []


def test_cel206_soft_limit_after_a_specific_handler(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(soft_time_limit=60)
        def rebuild_indexes(shop_ids):
            for shop_id in shop_ids:
                try:
                    rebuild(shop_id)
                except KeyError:
                    continue
                except Exception:
                    continue
    """
    assert tasks(tmp_path, "CEL206", source) == [("CEL206", 11)]


def test_cel206_retry_caught_first_but_soft_limit_swallowed(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from celery.exceptions import Retry


        @shared_task(bind=True, soft_time_limit=60)
        def rebuild_index(self, shop_id):
            try:
                raise self.retry()
            except Retry:
                raise
            except Exception:
                pass
            publish(shop_id)
    """
    assert tasks(tmp_path, "CEL206", source) == [("CEL206", 11)]


def test_cel206_retry_and_soft_limit_reported_once(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True, soft_time_limit=60)
        def rebuild_index(self, shop_id):
            try:
                raise self.retry()
            except Exception:
                pass
            publish(shop_id)
    """
    assert tasks(tmp_path, "CEL206", source) == [("CEL206", 8)]


def test_cel206_only_the_first_broad_handler(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(soft_time_limit=60)
        def rebuild_indexes(shop_ids):
            for shop_id in shop_ids:
                try:
                    rebuild(shop_id)
                except Exception:
                    continue
                except BaseException:
                    continue
    """
    assert tasks(tmp_path, "CEL206", source) == [("CEL206", 9)]


# -- CEL206 near-misses -----------------------------------------------------------------------

def test_cel206_handler_reraises(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True, soft_time_limit=60)
        def fetch(self, url):
            try:
                raise self.retry()
            except Exception:
                cleanup(url)
                raise
            publish(url)
    """
    assert tasks(tmp_path, "CEL206", source) == []


def test_cel206_handler_reraises_in_a_nested_block(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True, soft_time_limit=60)
        def fetch(self, url):
            try:
                raise self.retry()
            except Exception as exc:
                if not is_transient(exc):
                    raise
            publish(url)
    """
    assert tasks(tmp_path, "CEL206", source) == []


def test_cel206_handler_retries_itself(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True, soft_time_limit=60)
        def fetch(self, url):
            try:
                download(url)
            except Exception as exc:
                self.retry(exc=exc)
            publish(url)
    """
    assert tasks(tmp_path, "CEL206", source) == []


def test_cel206_specific_exception(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True, soft_time_limit=60)
        def fetch(self, url):
            try:
                raise self.retry()
            except ValueError:
                pass
            publish(url)
    """
    assert tasks(tmp_path, "CEL206", source) == []


def test_cel206_retry_caught_and_reraised_first(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from celery.exceptions import Retry


        @shared_task(bind=True)
        def fetch(self, url):
            try:
                raise self.retry()
            except Retry:
                raise
            except Exception:
                pass
            publish(url)
    """
    assert tasks(tmp_path, "CEL206", source) == []


def test_cel206_soft_limit_caught_first(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from celery.exceptions import SoftTimeLimitExceeded


        @shared_task(soft_time_limit=60)
        def rebuild_indexes(shop_ids):
            for shop_id in shop_ids:
                try:
                    rebuild(shop_id)
                except (SoftTimeLimitExceeded, KeyboardInterrupt):
                    cleanup(shop_id)
                    return False
                except Exception:
                    continue
    """
    assert tasks(tmp_path, "CEL206", source) == []


def test_cel206_outside_a_task(tmp_path: Path) -> None:
    source = """
        def rebuild_indexes(shop_ids):
            for shop_id in shop_ids:
                try:
                    rebuild(shop_id)
                except Exception:
                    continue
    """
    assert tasks(tmp_path, "CEL206", source, CELERY_APP) == []


def test_cel206_no_soft_limit_and_no_retry(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def rebuild_indexes(self, shop_ids):
            for shop_id in shop_ids:
                try:
                    rebuild(shop_id)
                except Exception:
                    continue
    """
    assert tasks(tmp_path, "CEL206", source) == []


def test_cel206_retry_in_a_sibling_handler(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch(self, url):
            try:
                download(url)
            except OSError as exc:
                raise self.retry(exc=exc)
            except Exception:
                pass
            publish(url)
    """
    assert tasks(tmp_path, "CEL206", source) == []


def test_cel206_retry_in_the_else_block(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch(self, url):
            try:
                response = download(url)
            except Exception:
                response = None
            else:
                if response is None:
                    raise self.retry()
            publish(url, response)
    """
    assert tasks(tmp_path, "CEL206", source) == []


def test_cel206_retry_that_does_not_throw(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch(self, url):
            try:
                self.retry(throw=False)
            except Exception:
                pass
            publish(url)
    """
    assert tasks(tmp_path, "CEL206", source) == []


def test_cel206_retry_inside_a_nested_function(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch(self, url):
            try:
                def later():
                    raise self.retry()
                schedule(later)
            except Exception:
                pass
            publish(url)
    """
    assert tasks(tmp_path, "CEL206", source) == []


def test_cel206_soft_limit_switched_off_on_the_task(tmp_path: Path) -> None:
    assert tasks(tmp_path, "CEL206", LOOP_TASK.format(options="(soft_time_limit=None)"),
                 CELERY_APP) == []


def test_cel206_helper_that_does_not_raise_retry(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        def record(url):
            raise ValueError(url)


        @shared_task(bind=True)
        def fetch(self, url):
            try:
                record(url)
            except Exception:
                pass
            publish(url)
    """
    assert tasks(tmp_path, "CEL206", source) == []


def test_cel206_global_soft_limit_unknown_configuration(tmp_path: Path) -> None:
    without_settings = {k: v for k, v in CELERY_APP.items() if k != "proj/settings.py"}
    assert tasks(tmp_path, "CEL206", LOOP_TASK.format(options=""), without_settings) == []


# -- CEL208 unbounded-retry -------------------------------------------------------------------

def test_cel208_decorator_max_retries_none(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True,
                     max_retries=None)
        def fetch(self, url):
            return url
    """
    assert tasks(tmp_path, "CEL208", source, preview=True) == [("CEL208", 6)]


def test_cel208_retry_call_max_retries_none(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch(self, url):
            try:
                return download(url)
            except OSError as exc:
                raise self.retry(exc=exc, max_retries=None)
    """
    assert tasks(tmp_path, "CEL208", source, preview=True) == [("CEL208", 9)]


def test_cel208_autoretry_for_exception_tuple(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(autoretry_for=(ConnectionError, Exception))
        def fetch(url):
            return url
    """
    assert tasks(tmp_path, "CEL208", source) == [("CEL208", 5)]


def test_cel208_autoretry_for_base_exception_list(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(
            autoretry_for=[BaseException],
        )
        def fetch(url):
            return url
    """
    assert tasks(tmp_path, "CEL208", source) == [("CEL208", 7)]


def test_cel208_autoretry_for_single_name(tmp_path: Path) -> None:
    source = """
        from proj.celery import app


        @app.task(autoretry_for=Exception)
        def fetch(url):
            return url
    """
    assert tasks(tmp_path, "CEL208", source) == [("CEL208", 5)]


def test_cel208_retry_kwargs_max_retries_none(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(autoretry_for=(ConnectionError,),
                     retry_kwargs={"max_retries": None})
        def fetch(url):
            return url
    """
    assert tasks(tmp_path, "CEL208", source, preview=True) == [("CEL208", 6)]


def test_cel208_both_keywords_reported(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(max_retries=None,
                     autoretry_for=(Exception,))
        def fetch(url):
            return url
    """
    assert tasks(tmp_path, "CEL208", source, preview=True) == [("CEL208", 6), ("CEL208", 6)]


# -- CEL208 near-misses -----------------------------------------------------------------------

def test_cel208_max_retries_none_is_a_preview_part(tmp_path: Path) -> None:
    """Judged on real projects, `max_retries=None` was as often a deliberate wait for a lock that
    expires as a retry that never ends: that part runs with --preview only; the broad
    `autoretry_for` part stays on."""
    source = """
        from celery import shared_task


        @shared_task(bind=True, max_retries=None)
        def fetch(self, url):
            return url


        @shared_task(autoretry_for=(Exception,))
        def fetch_more(url):
            return url
    """
    assert tasks(tmp_path, "CEL208", source) == [("CEL208", 10)]
    assert tasks(tmp_path, "CEL208", source, preview=True) == [("CEL208", 5), ("CEL208", 10)]


def test_cel208_bounded_max_retries(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True, max_retries=5)
        def fetch(self, url):
            try:
                return download(url)
            except OSError as exc:
                raise self.retry(exc=exc, max_retries=8)
    """
    assert tasks(tmp_path, "CEL208", source) == []


def test_cel208_autoretry_for_specific_errors(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from requests import RequestException


        @shared_task(autoretry_for=(RequestException,))
        def fetch(url):
            return url
    """
    assert tasks(tmp_path, "CEL208", source) == []


def test_cel208_max_retries_omitted(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch(self, url):
            return url
    """
    assert tasks(tmp_path, "CEL208", source) == []


def test_cel208_exception_name_shadowed_by_an_import(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.errors import Exception


        @shared_task(autoretry_for=(Exception,))
        def fetch(url):
            return url
    """
    errors = "class Exception(OSError):\n    pass\n"
    assert tasks(tmp_path, "CEL208", source, shop__errors=errors) == []


def test_cel208_max_retries_none_outside_a_task(tmp_path: Path) -> None:
    source = """
        from shop.client import backoff


        @backoff(max_retries=None, autoretry_for=(Exception,))
        def fetch(url):
            return url
    """
    assert tasks(tmp_path, "CEL208", source) == []


def test_cel208_retry_of_an_object_that_is_not_a_task(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.client import Client


        @shared_task
        def fetch(url):
            return Client().retry(max_retries=None)
    """
    assert tasks(tmp_path, "CEL208", source) == []


# -- CEL209 app-task-in-django-app ------------------------------------------------------------

APP_TASK = """
    from proj.celery import app


    @app.task
    def send_invoice(order_id):
        return order_id
"""


def test_cel209_app_task_in_a_django_app(tmp_path: Path) -> None:
    assert tasks(tmp_path, "CEL209", APP_TASK) == [("CEL209", 5)]


def test_cel209_app_task_with_options(tmp_path: Path) -> None:
    source = """
        from proj.celery import app


        @app.task(bind=True, soft_time_limit=60)
        def send_invoice(self, order_id):
            return order_id
    """
    assert tasks(tmp_path, "CEL209", source) == [("CEL209", 5)]


def test_cel209_app_reexported_as_celery_app(tmp_path: Path) -> None:
    source = """
        from proj import celery_app


        @celery_app.task
        def send_invoice(order_id):
            return order_id
    """
    project = {**HARD_LIMIT_ONLY, "proj/__init__.py": "from .celery import app as celery_app\n"}
    assert tasks(tmp_path, "CEL209", source, project) == [("CEL209", 5)]


def test_cel209_app_with_only_an_apps_module(tmp_path: Path) -> None:
    files = {**HARD_LIMIT_ONLY, "billing/apps.py": "", "billing/tasks.py": APP_TASK}
    assert codes_at(tmp_path, files, "billing/tasks.py", select=("CEL209",)) == [("CEL209", 5)]


def test_cel209_tasks_package_inside_a_django_app(tmp_path: Path) -> None:
    files = {**HARD_LIMIT_ONLY, "shop/models.py": MODELS, "shop/tasks/emails.py": APP_TASK}
    assert codes_at(tmp_path, files, "shop/tasks/emails.py", select=("CEL209",)) == [
        ("CEL209", 5)]


def test_cel209_app_in_a_worker_module(tmp_path: Path) -> None:
    files = {
        "manage.py": "",
        "proj/worker.py": 'from celery import Celery\n\napp = Celery("proj")\n',
        "shop/models.py": MODELS,
        "shop/tasks.py": APP_TASK.replace("proj.celery", "proj.worker"),
    }
    assert codes_at(tmp_path, files, "shop/tasks.py", select=("CEL209",)) == [("CEL209", 5)]


def test_cel209_not_reported_by_default(tmp_path: Path) -> None:
    files = {**HARD_LIMIT_ONLY, "shop/models.py": MODELS, "shop/tasks.py": APP_TASK}
    assert [d for d in lint(tmp_path, files) if d[0] == "CEL209"] == []


# -- CEL209 near-misses -----------------------------------------------------------------------

def test_cel209_shared_task_in_a_django_app(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task
        def send_invoice(order_id):
            return order_id
    """
    assert tasks(tmp_path, "CEL209", source) == []


def test_cel209_app_task_next_to_the_celery_module(tmp_path: Path) -> None:
    files = {**HARD_LIMIT_ONLY, "proj/models.py": MODELS, "proj/tasks.py": APP_TASK}
    assert codes_at(tmp_path, files, "proj/tasks.py", select=("CEL209",)) == []


def test_cel209_app_task_in_a_package_without_models_or_apps(tmp_path: Path) -> None:
    files = {**HARD_LIMIT_ONLY, "jobs/tasks.py": APP_TASK}
    assert codes_at(tmp_path, files, "jobs/tasks.py", select=("CEL209",)) == []


def test_cel209_current_app_task(tmp_path: Path) -> None:
    source = """
        from celery import current_app


        @current_app.task
        def send_invoice(order_id):
            return order_id
    """
    assert tasks(tmp_path, "CEL209", source) == []


def test_cel209_task_method_of_something_that_is_not_an_app(tmp_path: Path) -> None:
    source = """
        from shop.scheduler import queue


        @queue.task
        def send_invoice(order_id):
            return order_id
    """
    assert tasks(tmp_path, "CEL209", source, shop__scheduler="queue = object()\n") == []


def test_cel209_single_package_project_with_models(tmp_path: Path) -> None:
    files = {
        "manage.py": "",
        "shop/celery.py": 'from celery import Celery\n\napp = Celery("shop")\n',
        "shop/models.py": MODELS,
        "shop/tasks.py": APP_TASK.replace("proj.celery", "shop.celery"),
    }
    assert codes_at(tmp_path, files, "shop/tasks.py", select=("CEL209",)) == []


def test_cel206_retry_method_of_something_that_is_not_a_task(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.client import Client


        @shared_task(bind=True)
        def fetch(self, url):
            client = Client()
            try:
                raise client.retry()
            except Exception:
                return None
    """
    assert tasks(tmp_path, "CEL206", source) == []
