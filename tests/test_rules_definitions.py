"""The task-definition rules: CEL201, CEL202, CEL204, CEL205, CEL207, CEL210, one shape per test."""

from __future__ import annotations

from pathlib import Path

from helpers import CELERY_APP, MODELS, codes_at, lint, run_project

# The Celery app of helpers.CELERY_APP, with settings that set no time limit.
NO_LIMITS = {
    **CELERY_APP,
    "proj/settings.py": """
        CELERY_BROKER_URL = "redis://localhost:6379/0"
    """,
}
WITHOUT_SETTINGS = {k: v for k, v in CELERY_APP.items() if k != "proj/settings.py"}

PLAIN_TASK = """
    from celery import shared_task


    @shared_task
    def sync_stock(warehouse_code):
        return warehouse_code
"""


def tasks(tmp_path: Path, code: str, source: str, **files: str) -> list[tuple[str, int]]:
    """(code, row) of rule `code` in shop/tasks.py; `files` adds modules (`shop__other`)."""
    project = {"shop/models.py": MODELS, "shop/tasks.py": source}
    project.update({name.replace("__", "/") + ".py": text for name, text in files.items()})
    return codes_at(tmp_path, project, "shop/tasks.py", select=(code,))


def project_tasks(tmp_path: Path, code: str, project: dict[str, str],
                  source: str) -> list[tuple[str, int]]:
    return codes_at(tmp_path, {**project, "shop/models.py": MODELS, "shop/tasks.py": source},
                    "shop/tasks.py", select=(code,))


# -- CEL201 missing-time-limit ----------------------------------------------------------------

def test_cel201_task_without_limit_and_no_global_limit(tmp_path: Path) -> None:
    assert project_tasks(tmp_path, "CEL201", NO_LIMITS, PLAIN_TASK) == [("CEL201", 5)]


def test_cel201_task_with_soft_limit(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(soft_time_limit=60)
        def sync_stock(warehouse_code):
            return warehouse_code
    """
    assert project_tasks(tmp_path, "CEL201", NO_LIMITS, source) == []


def test_cel201_task_with_hard_limit(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(time_limit=90)
        def sync_stock(warehouse_code):
            return warehouse_code
    """
    assert project_tasks(tmp_path, "CEL201", NO_LIMITS, source) == []


def test_cel201_limit_on_the_production_worker_command_line(tmp_path: Path) -> None:
    project = {**NO_LIMITS, "Procfile": "worker: celery -A proj worker --time-limit=300\n"}
    assert project_tasks(tmp_path, "CEL201", project, PLAIN_TASK) == []


def test_cel201_limit_on_a_development_worker_only(tmp_path: Path) -> None:
    project = {**NO_LIMITS, "Procfile": "worker: celery -A proj worker\n",
               "Procfile.dev": "worker: celery -A proj worker --soft-time-limit=300\n"}
    assert project_tasks(tmp_path, "CEL201", project, PLAIN_TASK) == [("CEL201", 5)]


def test_cel201_global_hard_limit_in_settings(tmp_path: Path) -> None:
    settings = {**CELERY_APP, "proj/settings.py": "CELERY_TASK_TIME_LIMIT = 300\n"}
    assert project_tasks(tmp_path, "CEL201", settings, PLAIN_TASK) == []


def test_cel201_global_soft_limit_in_settings(tmp_path: Path) -> None:
    settings = {**CELERY_APP, "proj/settings.py": "CELERY_TASK_SOFT_TIME_LIMIT = 240\n"}
    assert project_tasks(tmp_path, "CEL201", settings, PLAIN_TASK) == []


def test_cel201_global_limit_through_star_import(tmp_path: Path) -> None:
    settings = {
        **WITHOUT_SETTINGS,
        "proj/settings/__init__.py": "from .base import *\n",
        "proj/settings/base.py": "CELERY_TASK_TIME_LIMIT = 300\n",
    }
    assert project_tasks(tmp_path, "CEL201", settings, PLAIN_TASK) == []


def test_cel201_star_import_of_settings_without_limit(tmp_path: Path) -> None:
    settings = {
        **WITHOUT_SETTINGS,
        "proj/settings/__init__.py": "from .base import *\n",
        "proj/settings/base.py": 'CELERY_BROKER_URL = "redis://localhost:6379/0"\n',
    }
    assert project_tasks(tmp_path, "CEL201", settings, PLAIN_TASK) == [("CEL201", 5)]


def with_celery_line(line: str) -> dict[str, str]:
    """NO_LIMITS whose proj/celery.py ends with `line`."""
    celery = f"""
        import os
        from celery import Celery

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
        app = Celery("proj")
        app.config_from_object("django.conf:settings", namespace="CELERY")
        {line}
    """
    return {**NO_LIMITS, "proj/celery.py": celery}


def test_cel201_global_limit_by_app_conf_attribute(tmp_path: Path) -> None:
    project = with_celery_line("app.conf.task_time_limit = 300")
    assert project_tasks(tmp_path, "CEL201", project, PLAIN_TASK) == []


def test_cel201_global_limit_by_app_conf_update(tmp_path: Path) -> None:
    project = with_celery_line("app.conf.update(task_soft_time_limit=240)")
    assert project_tasks(tmp_path, "CEL201", project, PLAIN_TASK) == []


def test_cel201_app_conf_update_of_another_setting(tmp_path: Path) -> None:
    project = with_celery_line("app.conf.update(task_acks_late=True)")
    assert project_tasks(tmp_path, "CEL201", project, PLAIN_TASK) == [("CEL201", 5)]


def test_cel201_silent_without_celery_app(tmp_path: Path) -> None:
    project = {"manage.py": "", "proj/settings.py": 'CELERY_BROKER_URL = "redis://"\n'}
    assert project_tasks(tmp_path, "CEL201", project, PLAIN_TASK) == []


def test_cel201_silent_when_settings_module_is_outside_the_project(tmp_path: Path) -> None:
    celery = CELERY_APP["proj/celery.py"].replace('"proj.settings"', '"elsewhere.settings"')
    project = {**NO_LIMITS, "proj/celery.py": celery}
    assert project_tasks(tmp_path, "CEL201", project, PLAIN_TASK) == []


def test_cel201_task_with_custom_base(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.base import LimitedTask


        @shared_task(base=LimitedTask)
        def sync_stock(warehouse_code):
            return warehouse_code
    """
    base = """
        from celery import Task


        class LimitedTask(Task):
            time_limit = 90
    """
    project = {**NO_LIMITS, "shop/base.py": base}
    assert project_tasks(tmp_path, "CEL201", project, source) == []


def test_cel201_reported_at_def_line_not_decorator(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(
            queue="stock",
        )
        def sync_stock(warehouse_code):
            return warehouse_code
    """
    assert project_tasks(tmp_path, "CEL201", NO_LIMITS, source) == [("CEL201", 7)]


def test_cel201_app_task_with_app_imported_from_celery_module(tmp_path: Path) -> None:
    source = """
        from proj.celery import app


        @app.task
        def sync_stock(warehouse_code):
            return warehouse_code
    """
    assert project_tasks(tmp_path, "CEL201", NO_LIMITS, source) == [("CEL201", 5)]


def test_cel201_app_task_with_app_reexported_by_package(tmp_path: Path) -> None:
    project = {
        **NO_LIMITS,
        "proj/__init__.py": """
            from .celery import app as celery_app

            __all__ = ("celery_app",)
        """,
    }
    source = """
        from proj import celery_app


        @celery_app.task(ignore_result=True)
        def sync_stock(warehouse_code):
            return warehouse_code
    """
    assert project_tasks(tmp_path, "CEL201", project, source) == [("CEL201", 5)]


def test_cel201_x_task_on_something_that_is_not_an_app(tmp_path: Path) -> None:
    source = """
        from shop import registry


        @registry.task
        def sync_stock(warehouse_code):
            return warehouse_code
    """
    project = {**NO_LIMITS, "shop/registry.py": "def task(f):\n    return f\n"}
    assert project_tasks(tmp_path, "CEL201", project, source) == []


# -- CEL202 soft-limit-not-below-hard ---------------------------------------------------------

def test_cel202_task_soft_equal_to_hard(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(soft_time_limit=120, time_limit=120)
        def build_report(year):
            return year
    """
    assert tasks(tmp_path, "CEL202", source) == [("CEL202", 4)]


def test_cel202_task_soft_above_hard_reported_at_soft_keyword(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(
            time_limit=60,
            soft_time_limit=120,
        )
        def build_report(year):
            return year
    """
    assert tasks(tmp_path, "CEL202", source) == [("CEL202", 6)]


def test_cel202_task_soft_below_hard(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(soft_time_limit=120, time_limit=150)
        def build_report(year):
            return year
    """
    assert tasks(tmp_path, "CEL202", source) == []


def test_cel202_task_soft_above_global_hard_limit(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(soft_time_limit=600)
        def build_report(year):
            return year
    """
    assert project_tasks(tmp_path, "CEL202", CELERY_APP, source) == [("CEL202", 4)]


def test_cel202_task_soft_below_global_hard_limit(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(soft_time_limit=200)
        def build_report(year):
            return year
    """
    assert project_tasks(tmp_path, "CEL202", CELERY_APP, source) == []


def test_cel202_settings_soft_not_below_hard(tmp_path: Path) -> None:
    project = {**CELERY_APP, "proj/settings.py": """
        CELERY_BROKER_URL = "redis://localhost:6379/0"
        CELERY_TASK_TIME_LIMIT = 300
        CELERY_TASK_SOFT_TIME_LIMIT = 600
    """}
    assert codes_at(tmp_path, project, "proj/settings.py", select=("CEL202",)) == [("CEL202", 3)]


def test_cel202_settings_soft_below_hard(tmp_path: Path) -> None:
    project = {**CELERY_APP, "proj/settings.py": """
        CELERY_BROKER_URL = "redis://localhost:6379/0"
        CELERY_TASK_TIME_LIMIT = 600
        CELERY_TASK_SOFT_TIME_LIMIT = 540
    """}
    assert codes_at(tmp_path, project, "proj/settings.py", select=("CEL202",)) == []


# -- CEL204 retry-not-raised ------------------------------------------------------------------

def test_cel204_statements_after_a_bare_retry(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch(self, url):
            try:
                return download(url)
            except OSError as exc:
                self.retry(exc=exc)
                mark_unreachable(url)
    """
    assert tasks(tmp_path, "CEL204", source) == [("CEL204", 9)]


def test_cel204_bare_retry_last_in_its_block(tmp_path: Path) -> None:
    """`self.retry()` raises by itself: with nothing after it, nothing is skipped."""
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch(self, url):
            try:
                response = download(url)
            except OSError as exc:
                self.retry(exc=exc)
            return response.json()
    """
    assert tasks(tmp_path, "CEL204", source) == []


def test_cel204_bare_retry_last_in_a_try_that_catches_max_retries(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from celery.exceptions import MaxRetriesExceededError


        @shared_task(bind=True, max_retries=3)
        def fetch(self, url):
            try:
                self.retry(countdown=10)
            except MaxRetriesExceededError:
                give_up(url)
    """
    assert tasks(tmp_path, "CEL204", source) == []


def test_cel204_bare_retry_then_only_a_return(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch(self, url):
            if not ready(url):
                self.retry(countdown=10)
                return None
            return download(url)
    """
    assert tasks(tmp_path, "CEL204", source) == []


def test_cel204_bare_retry_then_continue_in_a_loop(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch_all(self, urls):
            for url in urls:
                if not ready(url):
                    self.retry(countdown=10)
                    continue
                download(url)
    """
    assert tasks(tmp_path, "CEL204", source) == [("CEL204", 8)]


def test_cel204_statement_after_the_retry_on_the_same_line(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch(self, url):
            if not ready(url): self.retry(countdown=10); note(url)
            return download(url)
    """
    assert tasks(tmp_path, "CEL204", source) == [("CEL204", 6)]


def test_cel204_message_says_what_never_runs(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch(self, url):
            try:
                return download(url)
            except OSError as exc:
                self.retry(exc=exc)
                job.state = "retrying"
                job.save()
    """
    files = {**CELERY_APP, "shop/models.py": MODELS, "shop/tasks.py": source}
    [message] = [d.message for d in run_project(tmp_path, files, ("CEL204",)).diagnostics]
    assert message == (
        "`self.retry(...)` raises `Retry` (or, once the retries are used up, the error), so the "
        "2 statements after it never run: move them before the retry if they should run, or "
        "delete them, and write `raise self.retry(...)`")


def test_cel204_raised_retry(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch(self, url):
            try:
                return download(url)
            except OSError as exc:
                raise self.retry(exc=exc)
    """
    assert tasks(tmp_path, "CEL204", source) == []


def test_cel204_returned_retry(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch(self, url):
            try:
                return download(url)
            except OSError as exc:
                return self.retry(exc=exc)
    """
    assert tasks(tmp_path, "CEL204", source) == []


def test_cel204_retry_on_an_object_that_is_not_a_task(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.client import Client


        @shared_task(bind=True)
        def fetch(self, url):
            client = Client()
            client.retry()
            client.reset()
            return client.get(url)
    """
    assert tasks(tmp_path, "CEL204", source) == []


def test_cel204_bare_retry_with_throw_false(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def fetch(self, url):
            try:
                return download(url)
            except OSError as exc:
                self.retry(exc=exc, throw=False)
                note_retry(url)
    """
    assert tasks(tmp_path, "CEL204", source) == []


# -- CEL205 bind-mismatch ---------------------------------------------------------------------

def test_cel205_self_request_without_bind(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task
        def archive(self, order_id):
            return self.request.id
    """
    assert tasks(tmp_path, "CEL205", source) == [("CEL205", 6)]


def test_cel205_self_retry_without_bind(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task
        def archive(self, order_id):
            raise self.retry(countdown=5)
    """
    assert tasks(tmp_path, "CEL205", source) == [("CEL205", 6)]


def test_cel205_self_request_with_bind(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(bind=True)
        def archive(self, order_id):
            return self.request.id
    """
    assert tasks(tmp_path, "CEL205", source) == []


def test_cel205_bind_without_parameters(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(
            bind=True,
        )
        def clear_sessions():
            return None
    """
    assert tasks(tmp_path, "CEL205", source) == [("CEL205", 5)]


def test_cel205_no_bind_and_no_parameters(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task
        def clear_sessions():
            return None
    """
    assert tasks(tmp_path, "CEL205", source) == []


def test_cel205_self_request_in_a_class_method_that_is_not_a_task(tmp_path: Path) -> None:
    source = """
        class Mixin:
            def current_user(self):
                return self.request.user
    """
    assert tasks(tmp_path, "CEL205", source) == []


# -- CEL207 result-get-in-task ----------------------------------------------------------------

OTHER_TASK = """
    from celery import shared_task


    @shared_task
    def render(order_id):
        return order_id
"""


def test_cel207_delay_get_in_task(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.other import render


        @shared_task
        def send(order_id):
            return render.delay(order_id).get()
    """
    assert tasks(tmp_path, "CEL207", source, shop__other=OTHER_TASK) == [("CEL207", 8)]


def test_cel207_apply_async_result_get_in_task(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.other import render


        @shared_task
        def send(order_id):
            result = render.apply_async(args=(order_id,))
            return result.get()
    """
    assert tasks(tmp_path, "CEL207", source, shop__other=OTHER_TASK) == [("CEL207", 9)]


def test_cel207_delay_get_in_plain_function(tmp_path: Path) -> None:
    source = """
        from shop.other import render


        def send(order_id):
            return render.delay(order_id).get()
    """
    assert tasks(tmp_path, "CEL207", source, shop__other=OTHER_TASK) == []


def test_cel207_result_get_in_plain_function(tmp_path: Path) -> None:
    source = """
        from shop.other import render


        def send(order_id):
            result = render.apply_async(args=(order_id,))
            return result.get()
    """
    assert tasks(tmp_path, "CEL207", source, shop__other=OTHER_TASK) == []


def test_cel207_get_with_disable_sync_subtasks(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.other import render


        @shared_task
        def send(order_id):
            return render.delay(order_id).get(disable_sync_subtasks=False)
    """
    assert tasks(tmp_path, "CEL207", source, shop__other=OTHER_TASK) == []


def test_cel207_dict_get_in_task(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task
        def send(payload):
            options = dict(payload)
            return options.get("order_id")
    """
    assert tasks(tmp_path, "CEL207", source) == []


# -- CEL210 orm-object-parameter --------------------------------------------------------------

def test_cel210_parameter_annotated_with_model(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.models import Order


        @shared_task
        def ship(order: Order):
            return order.pk
    """
    assert tasks(tmp_path, "CEL210", source) == [("CEL210", 7)]


def test_cel210_parameter_annotated_with_queryset(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.db.models import QuerySet


        @shared_task
        def ship(orders: QuerySet):
            return orders.count()
    """
    assert tasks(tmp_path, "CEL210", source) == [("CEL210", 6)]


def test_cel210_parameter_annotated_with_subscripted_queryset(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.db.models import QuerySet

        from shop.models import Order


        @shared_task
        def ship(orders: QuerySet[Order]):
            return orders.count()
    """
    assert tasks(tmp_path, "CEL210", source) == [("CEL210", 8)]


def test_cel210_parameter_annotated_with_model_in_bound_task(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.models import Order


        @shared_task(bind=True)
        def ship(self, order: Order):
            return order.pk
    """
    assert tasks(tmp_path, "CEL210", source) == [("CEL210", 7)]


def test_cel210_reported_at_def_line(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.models import Order


        @shared_task
        def ship(
            order: Order,
        ):
            return order.pk
    """
    assert tasks(tmp_path, "CEL210", source) == [("CEL210", 7)]


def test_cel210_parameter_annotated_with_optional_model(tmp_path: Path) -> None:
    source = """
        from typing import Optional

        from celery import shared_task

        from shop.models import Order


        @shared_task
        def ship(order: Optional[Order]):
            return order
    """
    assert tasks(tmp_path, "CEL210", source) == [("CEL210", 9)]


def test_cel210_parameter_annotated_with_model_or_none(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.models import Order


        @shared_task
        def ship(order: Order | None):
            return order
    """
    assert tasks(tmp_path, "CEL210", source) == [("CEL210", 7)]


def test_cel210_optional_model_defaulting_to_none_beside_the_id_not_flagged(tmp_path: Path) -> None:
    # weblate's shape: the queue sends the id, an in-process caller may hand over the object
    source = """
        from celery import shared_task

        from shop.models import Order


        @shared_task
        def ship(order_id, order: Order | None = None):
            if order is None:
                order = Order.objects.get(pk=order_id)
            return order.pk
    """
    assert tasks(tmp_path, "CEL210", source) == []


def test_cel210_parameter_annotated_with_int(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task
        def ship(order_id: int):
            return order_id
    """
    assert tasks(tmp_path, "CEL210", source) == []


def test_cel210_model_annotation_in_plain_function(tmp_path: Path) -> None:
    source = """
        from shop.models import Order


        def ship(order: Order):
            return order.pk
    """
    assert tasks(tmp_path, "CEL210", source) == []


# -- CEL211 unknown-task-option ---------------------------------------------------------------

def option_rows(tmp_path: Path, decorator: str, project: dict[str, str] | None = None,
                head: str = "from celery import shared_task", **config: object) -> list[int]:
    """Rows of CEL211 for a task decorated with `decorator`, whose line is row 3 under `head`."""
    source = f"{head}\n\n{decorator}\ndef sync_stock(warehouse_code):\n    return warehouse_code\n"
    files = {**(project if project is not None else CELERY_APP), "shop/tasks.py": source}
    return [row for code, where, row in lint(tmp_path, files, select=("CEL211",), **config)
            if where == "shop/tasks.py"]


def option_messages(tmp_path: Path, decorator: str, **files: str) -> list[str]:
    source = f"from celery import shared_task\n\n{decorator}\ndef sync_stock(code):\n    pass\n"
    result = run_project(tmp_path, {**CELERY_APP, "shop/tasks.py": source, **files},
                         select=("CEL211",))
    return [d.message for d in result.diagnostics]


def test_cel211_misspelled_option(tmp_path: Path) -> None:
    assert option_rows(tmp_path, "@shared_task(max_retry=5)") == [3]


def test_cel211_options_celery_reads_not_flagged(tmp_path: Path) -> None:
    decorator = ("@shared_task(bind=True, name='x', max_retries=5, default_retry_delay=10, "
                 "autoretry_for=(ValueError,), retry_backoff=True, retry_backoff_max=60, "
                 "retry_jitter=False, retry_kwargs={}, acks_late=True, queue='q', "
                 "routing_key='q', priority=3, expires=60, time_limit=30, soft_time_limit=20, "
                 "rate_limit='1/s', ignore_result=True, trail=False, typing=False, "
                 "throws=(KeyError,), serializer='json', track_started=True, "
                 "reject_on_worker_lost=True, on_failure=None, shared=False, lazy=False)")
    assert option_rows(tmp_path, decorator) == []


def test_cel211_each_unknown_keyword_on_its_line(tmp_path: Path) -> None:
    decorator = "@shared_task(\n    acks_lat=True,\n    bind=True,\n    soft_timelimit=30,\n)"
    assert option_rows(tmp_path, decorator) == [4, 6]


def test_cel211_app_task(tmp_path: Path) -> None:
    assert option_rows(tmp_path, "@app.task(autoretry_on=(ValueError,))",
                       head="from proj.celery import app") == [3]


def test_cel211_bare_decorator_not_flagged(tmp_path: Path) -> None:
    assert option_rows(tmp_path, "@shared_task") == []


def test_cel211_unpacked_options_still_checks_the_written_ones(tmp_path: Path) -> None:
    assert option_rows(tmp_path, "@shared_task(**OPTIONS, acks_lat=True)") == [3]
    assert option_rows(tmp_path, "@shared_task(**OPTIONS)") == []


def test_cel211_attribute_of_a_project_base_class_not_flagged(tmp_path: Path) -> None:
    head = "from celery import shared_task\nfrom shop.base import LockedTask"
    base = {"shop/base.py": """
        from celery import Task


        class LockedTask(Task):
            lock_timeout = 60

            def lock_key(self, *args):
                return str(args)
    """}
    assert option_rows(tmp_path, "@shared_task(base=LockedTask, lock_timeout=5, lock_key=None)",
                       {**CELERY_APP, **base}, head=head) == []
    assert option_rows(tmp_path, "@shared_task(base=LockedTask, lock_timout=5)",
                       {**CELERY_APP, **base}, head=head) == [4]


def test_cel211_attribute_of_a_grandparent_class_not_flagged(tmp_path: Path) -> None:
    head = "from celery import shared_task\nfrom shop.base import AuditedTask"
    base = {"shop/base.py": """
        from celery import Task


        class LockedTask(Task):
            lock_timeout = 60


        class AuditedTask(LockedTask):
            audit = True
    """}
    assert option_rows(tmp_path, "@shared_task(base=AuditedTask, lock_timeout=5, audit=False)",
                       {**CELERY_APP, **base}, head=head) == []


def test_cel211_base_class_outside_the_project_not_flagged(tmp_path: Path) -> None:
    head = "from celery import shared_task\nfrom somelib.tasks import FancyTask"
    assert option_rows(tmp_path, "@shared_task(base=FancyTask, fancy_level=3)", head=head) == []


def test_cel211_project_base_deriving_from_an_unknown_class_not_flagged(tmp_path: Path) -> None:
    head = "from celery import shared_task\nfrom shop.base import LockedTask"
    base = {"shop/base.py": """
        from somelib.tasks import FancyTask


        class LockedTask(FancyTask):
            lock_timeout = 60
    """}
    assert option_rows(tmp_path, "@shared_task(base=LockedTask, fancy_level=3)",
                       {**CELERY_APP, **base}, head=head) == []


def test_cel211_celery_once_option_through_its_base(tmp_path: Path) -> None:
    head = "from celery import shared_task\nfrom celery_once import QueueOnce"
    assert option_rows(tmp_path, "@shared_task(base=QueueOnce, once={'graceful': True})",
                       head=head) == []
    assert option_rows(tmp_path, "@shared_task(once={'graceful': True})", head=head) == [4]


def test_cel211_celery_singleton_option_through_its_base(tmp_path: Path) -> None:
    head = "from celery import shared_task\nfrom celery_singleton import Singleton"
    assert option_rows(tmp_path, "@shared_task(base=Singleton, unique_on=['a'], lock_expiry=60)",
                       head=head) == []


def test_cel211_celery_s_own_task_class_as_base(tmp_path: Path) -> None:
    head = "from celery import shared_task\nfrom celery.contrib.abortable import AbortableTask"
    assert option_rows(tmp_path, "@shared_task(base=AbortableTask, max_retry=1)",
                       head=head) == [4]


def test_cel211_app_task_class_declares_the_option(tmp_path: Path) -> None:
    app = {**CELERY_APP, "proj/celery.py": """
        from celery import Celery

        app = Celery("proj", task_cls="proj.base:LockedTask")
        app.config_from_object("django.conf:settings", namespace="CELERY")
    """, "proj/base.py": """
        from celery import Task


        class LockedTask(Task):
            lock_timeout = 60
    """}
    assert option_rows(tmp_path, "@shared_task(lock_timeout=5)", app) == []
    assert option_rows(tmp_path, "@shared_task(lock_timout=5)", app) == [3]


def test_cel211_celery_subclass_with_a_task_class(tmp_path: Path) -> None:
    app = {**CELERY_APP, "proj/celery.py": """
        from celery import Celery


        class ProjectCelery(Celery):
            task_cls = "proj.base:LockedTask"


        app = ProjectCelery("proj")
        app.config_from_object("django.conf:settings", namespace="CELERY")
    """, "proj/base.py": """
        from celery import Task


        class LockedTask(Task):
            lock_timeout = 60
    """}
    assert option_rows(tmp_path, "@shared_task(lock_timeout=5)", app) == []
    assert option_rows(tmp_path, "@shared_task(lock_timout=5)", app) == [3]


def test_cel211_app_from_a_factory_not_flagged(tmp_path: Path) -> None:
    app = {**CELERY_APP, "proj/celery.py": """
        from proj.factory import make_celery

        app = make_celery()
        app.config_from_object("django.conf:settings", namespace="CELERY")
    """}
    assert option_rows(tmp_path, "@shared_task(lock_timeout=5)", app) == []


def test_cel211_shared_task_of_a_reusable_app_without_a_celery_app(tmp_path: Path) -> None:
    assert option_rows(tmp_path, "@shared_task(max_retry=5)", {"shop/models.py": MODELS}) == [3]


def test_cel211_extra_task_options(tmp_path: Path) -> None:
    assert option_rows(tmp_path, "@shared_task(lock_timeout=5)",
                       extra_task_options=("lock_timeout",)) == []


def test_cel211_option_of_a_newer_celery(tmp_path: Path) -> None:
    pinned = {**CELERY_APP, "requirements.txt": "celery>=5.4,<6\n"}
    assert option_rows(tmp_path / "a", "@shared_task(pydantic=True)", pinned) == [3]
    newer = {**CELERY_APP, "requirements.txt": "celery>=5.5\n"}
    assert option_rows(tmp_path / "b", "@shared_task(pydantic=True)", newer) == []


def test_cel211_option_celery_dropped(tmp_path: Path) -> None:
    old = {**CELERY_APP, "requirements.txt": "celery==5.0.5\n"}
    assert option_rows(tmp_path / "a", "@shared_task(autoregister=False)", old) == []
    assert option_rows(tmp_path / "b", "@shared_task(autoregister=False)") == [3]


def test_cel211_messages(tmp_path: Path) -> None:
    from celery import __version__

    found = option_messages(tmp_path, "@shared_task(task_track_started=True, bogus=1)")
    assert found == [
        (f"`task_track_started` is no task option of Celery {__version__}: Celery stores it on "
         "the task and nothing reads it; did you mean `track_started`?"),
        (f"`bogus` is no task option of Celery {__version__}: Celery stores it on the task and "
         "nothing reads it"),
    ]


def test_cel211_message_of_a_newer_option(tmp_path: Path) -> None:
    found = option_messages(tmp_path, "@shared_task(pydantic=True)",
                            **{"requirements.txt": "celery>=5.4\n"})
    assert found == [("`pydantic` is a task option from Celery 5.5 on, but the project allows "
                      "Celery 5.4, which stores it on the task and ignores it")]
