"""The canvas rules: CEL601, one shape per test."""

from __future__ import annotations

from pathlib import Path

from helpers import CELERY_APP, codes_at

# The Celery app of helpers.CELERY_APP, storing results in Redis.
WITH_BACKEND = {
    **CELERY_APP,
    "proj/settings.py": """
        CELERY_BROKER_URL = "redis://localhost:6379/0"
        CELERY_RESULT_BACKEND = "redis://localhost:6379/1"
        CELERY_TASK_TIME_LIMIT = 300
    """,
}
NO_BACKEND = {
    **CELERY_APP,
    "proj/settings.py": """
        CELERY_BROKER_URL = "redis://localhost:6379/0"
        CELERY_TASK_TIME_LIMIT = 300
    """,
}

# Tasks for the workflows below: `count_visits` stores its result, `refresh_cache` does not.
TASKS = """
    from celery import shared_task


    @shared_task
    def count_visits(page_id):
        return page_id


    @shared_task(ignore_result=True)
    def refresh_cache(page_id):
        return page_id


    @shared_task
    def total(counts):
        return sum(counts)
"""


def workflow(tmp_path: Path, source: str, project: dict[str, str] = WITH_BACKEND,
             tasks: str = TASKS) -> list[tuple[str, int]]:
    """(code, row) of CEL601 in shop/reports.py, beside the tasks of shop/tasks.py."""
    files = {**project, "shop/tasks.py": tasks, "shop/reports.py": source}
    return codes_at(tmp_path, files, "shop/reports.py", select=("CEL601",))


# -- no result backend ------------------------------------------------------------------------

def test_cel601_chord_called_with_callback_no_backend(tmp_path: Path) -> None:
    source = """
        from celery import chord

        from shop.tasks import count_visits, total


        def report(page_ids):
            return chord([count_visits.s(p) for p in page_ids])(total.s())
    """
    assert workflow(tmp_path, source, NO_BACKEND) == [("CEL601", 7)]


def test_cel601_chord_with_body_no_backend(tmp_path: Path) -> None:
    source = """
        from celery import chord

        from shop.tasks import count_visits, total


        def report(page_ids):
            header = [count_visits.s(p) for p in page_ids]
            return chord(header, total.s()).delay()
    """
    assert workflow(tmp_path, source, NO_BACKEND) == [("CEL601", 8)]


def test_cel601_backend_disabled(tmp_path: Path) -> None:
    project = {**NO_BACKEND, "proj/settings.py": 'CELERY_TASK_TIME_LIMIT = 300\n'
                                                 'CELERY_RESULT_BACKEND = "disabled"\n'}
    source = """
        from celery import chord

        from shop.tasks import count_visits, total


        def report(page_ids):
            return chord([count_visits.s(1), count_visits.s(2)]).apply_async(body=total.s())
    """
    assert workflow(tmp_path, source, project) == [("CEL601", 7)]


def test_cel601_group_piped_into_a_signature_no_backend(tmp_path: Path) -> None:
    source = """
        from celery import group

        from shop.tasks import count_visits, total


        def report(page_ids):
            return (group(count_visits.s(p) for p in page_ids) | total.s()).delay()
    """
    assert workflow(tmp_path, source, NO_BACKEND) == [("CEL601", 7)]


# -- a header task that ignores its result ----------------------------------------------------

def test_cel601_header_task_ignores_result(tmp_path: Path) -> None:
    source = """
        from celery import chord

        from shop.tasks import refresh_cache, total


        def report(page_ids):
            return chord([refresh_cache.s(p) for p in page_ids])(total.s())
    """
    assert workflow(tmp_path, source) == [("CEL601", 7)]


def test_cel601_header_list_with_one_ignoring_task(tmp_path: Path) -> None:
    source = """
        from celery import chord

        from shop.tasks import count_visits, refresh_cache, total


        def report():
            return chord(
                [count_visits.s(1), refresh_cache.si(2)],
                total.s(),
            ).delay()
    """
    assert workflow(tmp_path, source) == [("CEL601", 7)]


def test_cel601_group_header_inside_chord(tmp_path: Path) -> None:
    source = """
        from celery import chord, group

        from shop.tasks import refresh_cache, total


        def report(page_ids):
            return chord(group(refresh_cache.s(p) for p in page_ids), total.s()).delay()
    """
    assert workflow(tmp_path, source) == [("CEL601", 7)]


def test_cel601_group_piped_after_a_first_task(tmp_path: Path) -> None:
    source = """
        from celery import group

        from shop.tasks import count_visits, refresh_cache, total


        def report(page_ids):
            return (count_visits.s(0) | group([refresh_cache.si(1), refresh_cache.si(2)])
                    | total.s()).delay()
    """
    assert workflow(tmp_path, source) == [("CEL601", 7)]


def test_cel601_group_followed_by_a_task_in_chain(tmp_path: Path) -> None:
    source = """
        from celery import chain, group

        from shop.tasks import refresh_cache, total


        def report():
            return chain(group(refresh_cache.s(1), refresh_cache.s(2)), total.s()).delay()
    """
    assert workflow(tmp_path, source) == [("CEL601", 7)]


def test_cel601_global_ignore_result_not_overridden(tmp_path: Path) -> None:
    project = {**WITH_BACKEND, "proj/settings.py": 'CELERY_TASK_TIME_LIMIT = 300\n'
                                                   'CELERY_RESULT_BACKEND = "redis://r:6379/1"\n'
                                                   "CELERY_TASK_IGNORE_RESULT = True\n"}
    source = """
        from celery import chord

        from shop.tasks import count_visits, total


        def report(page_ids):
            return chord([count_visits.s(p) for p in page_ids])(total.s())
    """
    assert workflow(tmp_path, source, project) == [("CEL601", 7)]


def test_cel601_signature_option_ignore_result(tmp_path: Path) -> None:
    source = """
        from celery import chord

        from shop.tasks import count_visits, total


        def report():
            return chord([count_visits.signature((1,), ignore_result=True)])(total.s())
    """
    assert workflow(tmp_path, source) == [("CEL601", 7)]


def test_cel601_chord_inside_a_task(tmp_path: Path) -> None:
    tasks = TASKS + """

    @shared_task
    def nightly(page_ids):
        from celery import chord
        chord(refresh_cache.s(p) for p in page_ids)(total.s())
    """
    files = {**WITH_BACKEND, "shop/tasks.py": tasks}
    assert codes_at(tmp_path, files, "shop/tasks.py", select=("CEL601",)) == [("CEL601", 22)]


# -- near-misses ------------------------------------------------------------------------------

def test_cel601_chord_with_backend_and_results_stored(tmp_path: Path) -> None:
    source = """
        from celery import chord

        from shop.tasks import count_visits, total


        def report(page_ids):
            return chord([count_visits.s(p) for p in page_ids])(total.s())
    """
    assert workflow(tmp_path, source) == []


def test_cel601_group_without_callback(tmp_path: Path) -> None:
    source = """
        from celery import group

        from shop.tasks import refresh_cache


        def refresh(page_ids):
            return group(refresh_cache.s(p) for p in page_ids).delay()
    """
    assert workflow(tmp_path, source, NO_BACKEND) == []


def test_cel601_task_overrides_global_ignore_result(tmp_path: Path) -> None:
    project = {**WITH_BACKEND, "proj/settings.py": 'CELERY_TASK_TIME_LIMIT = 300\n'
                                                   'CELERY_RESULT_BACKEND = "redis://r:6379/1"\n'
                                                   "CELERY_TASK_IGNORE_RESULT = True\n"}
    tasks = TASKS.replace("@shared_task\n    def count_visits",
                          "@shared_task(ignore_result=False)\n    def count_visits")
    source = """
        from celery import chord

        from shop.tasks import count_visits, total


        def report(page_ids):
            return chord([count_visits.s(p) for p in page_ids])(total.s())
    """
    assert workflow(tmp_path, source, project, tasks) == []


def test_cel601_unknown_configuration(tmp_path: Path) -> None:
    project = {k: v for k, v in CELERY_APP.items() if k != "proj/settings.py"}
    source = """
        from celery import chord

        from shop.tasks import count_visits, total


        def report(page_ids):
            return chord([count_visits.s(p) for p in page_ids])(total.s())
    """
    assert workflow(tmp_path, source, project) == []


def test_cel601_backend_from_the_environment(tmp_path: Path) -> None:
    project = {**NO_BACKEND, "proj/settings.py": "import os\n\nCELERY_TASK_TIME_LIMIT = 300\n"
                                                 'CELERY_RESULT_BACKEND = os.environ.get('
                                                 '"RESULT_URL")\n'}
    source = """
        from celery import chord

        from shop.tasks import count_visits, total


        def report(page_ids):
            return chord([count_visits.s(p) for p in page_ids])(total.s())
    """
    assert workflow(tmp_path, source, project) == []


def test_cel601_backend_given_to_the_app(tmp_path: Path) -> None:
    celery = CELERY_APP["proj/celery.py"].replace(
        'Celery("proj")', 'Celery("proj", backend="redis://localhost:6379/1")')
    project = {**NO_BACKEND, "proj/celery.py": celery}
    source = """
        from celery import chord

        from shop.tasks import count_visits, total


        def report(page_ids):
            return chord([count_visits.s(p) for p in page_ids])(total.s())
    """
    assert workflow(tmp_path, source, project) == []


def test_cel601_ignoring_task_is_the_callback_not_the_header(tmp_path: Path) -> None:
    source = """
        from celery import chord

        from shop.tasks import count_visits, refresh_cache


        def report(page_ids):
            return chord([count_visits.s(p) for p in page_ids])(refresh_cache.s())
    """
    assert workflow(tmp_path, source) == []


def test_cel601_chord_that_is_not_celerys(tmp_path: Path) -> None:
    source = """
        from shop.tasks import count_visits, total


        def chord(header):
            return header


        def report(page_ids):
            return chord([count_visits.s(p) for p in page_ids])
    """
    assert workflow(tmp_path, source, NO_BACKEND) == []


def test_cel601_task_signatures_piped_without_a_group(tmp_path: Path) -> None:
    source = """
        from shop.tasks import count_visits, total


        def report(page_id):
            return (count_visits.s(page_id) | total.s()).delay()
    """
    assert workflow(tmp_path, source, NO_BACKEND) == []


def test_cel601_group_piped_into_something_that_is_not_a_signature(tmp_path: Path) -> None:
    source = """
        from celery import group

        from shop.tasks import refresh_cache


        def report(page_ids, flags):
            return group(refresh_cache.s(p) for p in page_ids) | flags
    """
    assert workflow(tmp_path, source, NO_BACKEND) == []


def test_cel601_tuple_header_with_backend_unset_by_none(tmp_path: Path) -> None:
    project = {**NO_BACKEND, "proj/settings.py": "CELERY_TASK_TIME_LIMIT = 300\n"
                                                 "CELERY_RESULT_BACKEND = None\n"}
    source = """
        from celery import chord

        from shop.tasks import count_visits, total


        def report():
            return chord((count_visits.s(1), count_visits.s(2)), total.s()).delay()
    """
    assert workflow(tmp_path, source, project) == [("CEL601", 7)]
