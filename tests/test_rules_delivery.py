"""CEL316 route-to-undeclared-queue, one tiny project per shape, each flagged shape beside its near
miss. Sources are dedented and their leading newline dropped, so their first line is row 1.

CEL315 (visibility timeout) is tested in test_rules_timing.py, beside CEL106.
"""

from __future__ import annotations

from pathlib import Path

from helpers import CELERY_APP, lint, run_project

APP = {name: text for name, text in CELERY_APP.items() if name != "proj/settings.py"}
SETTINGS = """
import re

from kombu import Queue

CELERY_BROKER_URL = "redis://localhost:6379/0"
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_CREATE_MISSING_QUEUES = False
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [Queue("default"), Queue("mail", routing_key="mail")]
"""
TASKS = """
from celery import shared_task


@shared_task(queue="mail")
def send_receipt(order_id):
    pass


@shared_task
def close_order(order_id):
    pass
"""


def found(tmp_path: Path, settings: str = SETTINGS, tasks: str = TASKS,
          **files: str) -> list[tuple[str, int]]:
    """(path, row) of CEL316 in the project."""
    project = {**APP, "proj/settings.py": settings, "shop/tasks.py": tasks,
               **{name.replace("__", "/") + ".py": text for name, text in files.items()}}
    return [(path, row) for _, path, row in lint(tmp_path, project, select=("CEL316",))]


def test_declared_queues_not_flagged(tmp_path: Path) -> None:
    assert found(tmp_path) == []


def test_task_queue_not_declared(tmp_path: Path) -> None:
    assert found(tmp_path, tasks=TASKS.replace('queue="mail"', 'queue="reports"')) == [
        ("shop/tasks.py", 4)]


def test_missing_queues_created_not_flagged(tmp_path: Path) -> None:
    settings = SETTINGS.replace("CREATE_MISSING_QUEUES = False", "CREATE_MISSING_QUEUES = True")
    assert found(tmp_path, settings, TASKS.replace('queue="mail"', 'queue="reports"')) == []


def test_missing_queues_created_by_default_not_flagged(tmp_path: Path) -> None:
    settings = SETTINGS.replace("CELERY_TASK_CREATE_MISSING_QUEUES = False\n", "")
    assert found(tmp_path, settings, TASKS.replace('queue="mail"', 'queue="reports"')) == []


def test_create_missing_queues_from_the_environment_not_flagged(tmp_path: Path) -> None:
    settings = "import os\n" + SETTINGS.replace(
        "CREATE_MISSING_QUEUES = False", 'CREATE_MISSING_QUEUES = os.environ.get("C") == "1"')
    assert found(tmp_path, settings, TASKS.replace('queue="mail"', 'queue="reports"')) == []


def test_apply_async_queue_not_declared(tmp_path: Path) -> None:
    services = """
        from shop.tasks import close_order


        def close(order_id):
            close_order.apply_async((order_id,), queue="slow")
            close_order.apply_async((order_id,), queue="mail")
    """
    assert found(tmp_path, shop__services=services) == [("shop/services.py", 5)]


def test_queue_in_a_test_module_not_flagged(tmp_path: Path) -> None:
    test = """
        from shop.tasks import close_order


        def test_close():
            close_order.apply_async((1,), queue="testing")
    """
    assert found(tmp_path, shop__tests__test_tasks=test) == []


def test_route_to_an_undeclared_queue(tmp_path: Path) -> None:
    settings = SETTINGS + 'CELERY_TASK_ROUTES = {"shop.tasks.close_order": {"queue": "orders"}}\n'
    assert found(tmp_path, settings) == [("proj/settings.py", 11)]


def test_route_as_a_queue_name_and_in_a_list_of_tables(tmp_path: Path) -> None:
    settings = SETTINGS + ('CELERY_TASK_ROUTES = [{"shop.tasks.close_order": "orders"}, '
                           '{"shop.tasks.*": "mail"}]\n')
    assert found(tmp_path, settings) == [("proj/settings.py", 11)]


def test_routes_as_a_list_of_pairs(tmp_path: Path) -> None:
    settings = SETTINGS + ('CELERY_TASK_ROUTES = ([("shop.tasks.close_*", {"queue": "orders"}), '
                           '("shop.tasks.send_receipt", "mail")],)\n')
    assert found(tmp_path, settings) == [("proj/settings.py", 11)]


def test_regex_route_to_an_undeclared_queue(tmp_path: Path) -> None:
    settings = SETTINGS + 'CELERY_TASK_ROUTES = {re.compile(r"shop\\..*"): {"queue": "orders"}}\n'
    assert found(tmp_path, settings) == [("proj/settings.py", 11)]


def test_route_to_a_queue_object_not_flagged(tmp_path: Path) -> None:
    settings = SETTINGS + ('CELERY_TASK_ROUTES = {"shop.tasks.close_order": '
                           '{"queue": Queue("orders")}}\n')
    assert found(tmp_path, settings) == []


def test_router_function_not_flagged(tmp_path: Path) -> None:
    settings = SETTINGS + 'CELERY_TASK_ROUTES = ("shop.routers.route_task",)\n'
    assert found(tmp_path, settings) == []


def test_queue_alias_is_declared(tmp_path: Path) -> None:
    settings = SETTINGS.replace('Queue("mail", routing_key="mail")',
                                'Queue("mail-v2", alias="mail")')
    assert found(tmp_path, settings) == []


def test_queues_that_cannot_be_read_not_flagged(tmp_path: Path) -> None:
    settings = SETTINGS.replace('[Queue("default"), Queue("mail", routing_key="mail")]',
                                "[Queue(name) for name in QUEUE_NAMES]")
    assert found(tmp_path, settings, TASKS.replace('queue="mail"', 'queue="reports"')) == []


def test_queues_declared_as_a_dict(tmp_path: Path) -> None:
    settings = SETTINGS.replace('[Queue("default"), Queue("mail", routing_key="mail")]',
                                '{"default": {}, "mail": {"routing_key": "mail"}}')
    assert found(tmp_path, settings) == []
    assert found(tmp_path, settings, TASKS.replace('queue="mail"', 'queue="reports"')) == [
        ("shop/tasks.py", 4)]


def test_queues_changed_at_run_time_not_flagged(tmp_path: Path) -> None:
    setup = """
        from kombu import Queue

        from proj.celery import app


        def add_queue(name):
            app.conf.task_queues.append(Queue(name))
    """
    assert found(tmp_path, tasks=TASKS.replace('queue="mail"', 'queue="reports"'),
                 shop__queues=setup) == []


def test_no_task_queues_declares_the_default_queue_only(tmp_path: Path) -> None:
    settings = SETTINGS.replace(
        'CELERY_TASK_QUEUES = [Queue("default"), Queue("mail", routing_key="mail")]\n', "")
    assert found(tmp_path, settings) == [("shop/tasks.py", 4)]


def test_default_queue_not_declared(tmp_path: Path) -> None:
    settings = SETTINGS.replace('CELERY_TASK_DEFAULT_QUEUE = "default"',
                                'CELERY_TASK_DEFAULT_QUEUE = "standard"')
    assert found(tmp_path, settings) == [("proj/settings.py", 9)]


def test_celery_s_default_queue_not_declared(tmp_path: Path) -> None:
    settings = SETTINGS.replace('CELERY_TASK_DEFAULT_QUEUE = "default"\n', "")
    assert found(tmp_path, settings) == [("proj/settings.py", 9)]


def test_default_queue_not_declared_but_every_task_routed_not_flagged(tmp_path: Path) -> None:
    settings = SETTINGS.replace('CELERY_TASK_DEFAULT_QUEUE = "default"\n', "") + \
        'CELERY_TASK_ROUTES = {"shop.tasks.close_*": "mail"}\n'
    assert found(tmp_path, settings) == []


def test_app_conf_settings(tmp_path: Path) -> None:
    app = {"proj/celery.py": """
        from celery import Celery
        from kombu import Queue

        app = Celery("proj", broker="redis://localhost:6379/0")
        app.conf.task_create_missing_queues = False
        app.conf.task_queues = (Queue("celery"), Queue("mail"))
    """, "manage.py": ""}
    tasks = TASKS.replace('queue="mail"', 'queue="reports"')
    project = {**app, "shop/tasks.py": tasks}
    result = lint(tmp_path, project, select=("CEL316",))
    assert [(path, row) for _, path, row in result] == [("shop/tasks.py", 4)]


def test_messages(tmp_path: Path) -> None:
    settings = SETTINGS.replace('CELERY_TASK_DEFAULT_QUEUE = "default"',
                                'CELERY_TASK_DEFAULT_QUEUE = "standard"')
    project = {**APP, "proj/settings.py": settings,
               "shop/tasks.py": TASKS.replace('queue="mail"', 'queue="reports"')}
    result = run_project(tmp_path, project, select=("CEL316",))
    assert sorted(d.message for d in result.diagnostics) == [
        ("Queue `reports` (`queue=` of `shared_task(...)`) is not declared in "
         "`CELERY_TASK_QUEUES`, and `CELERY_TASK_CREATE_MISSING_QUEUES` is False: sending a "
         "task there raises QueueNotFound; declare it in `CELERY_TASK_QUEUES`"),
        ("Tasks without a route, such as `shop.tasks.close_order`, go to the default queue "
         "`standard`, which is not declared in `CELERY_TASK_QUEUES`, and "
         "`CELERY_TASK_CREATE_MISSING_QUEUES` is False: sending a task there raises "
         "QueueNotFound; declare it in `CELERY_TASK_QUEUES`, or route every task"),
    ]
