"""Fixes: each fix's exact output, the engine that applies them, and the command line options.

A fix test writes a small project (helpers.write_project), fixes it in memory with `fixes.fix`,
writes it with `fixes.write` as `check --fix` does, and compares the file's text exactly; fixing
it again must change nothing and apply nothing. Files are read back as bytes, so a test sees the
line endings, the BOM and the encoding that were really written.
"""

from __future__ import annotations

import ast
import os
import runpy
import textwrap
import types
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from celery import Celery
from click.testing import CliRunner, Result
from helpers import CELERY_APP, MODELS, config_of, write_project

from celery_lint import fixes
from celery_lint.cli import main
from celery_lint.config import DEFAULT_FIX_TIME_LIMITS, Config
from celery_lint.diagnostics import Applicability, Diagnostic, Edit, Fix, Location
from celery_lint.fixes import (
    MAX_PASSES,
    FixResult,
    apply_edits,
    choose,
    fix,
    unified_diff,
    write,
    write_atomically,
)
from celery_lint.runner import RunResult, open_cache
from celery_lint.source import SourceFile

# A bound task that retries without raising, with a statement after the retry that never runs:
# CEL204, the one diagnostic of the project.
RETRYING_TASKS = """
    import requests
    from celery import shared_task


    @shared_task(bind=True, max_retries=5)
    def fetch_tracking_status(self, number):
        try:
            response = requests.get(number, timeout=10)
        except requests.RequestException as exc:
            # the carrier is down: try again in a minute
            self.retry(exc=exc, countdown=60)  # transient
            response = None
        return response.json()
"""
RETRYING_TASKS_FIXED = RETRYING_TASKS.replace("self.retry(exc", "raise self.retry(exc")

# A task taking an id (and tags), and a service passing it an `Order` instance: CEL101 at row 8.
INVOICE_TASKS = """
    from celery import shared_task


    @shared_task
    def send_invoice(order_id, tags=None):
        return order_id
"""
SERVICES = """
    from shop.models import Order
    from shop.tasks import send_invoice


    def checkout(order_id):
        order = Order.objects.get(pk=order_id)
        # the customer paid: send the invoice
        send_invoice.delay(order)  # after payment
"""
SERVICES_FIXED = SERVICES.replace("delay(order)", "delay(order.pk)")

# The Celery app of helpers.CELERY_APP, with the settings module left to each test.
APP = {name: text for name, text in CELERY_APP.items() if name != "proj/settings.py"}
APP_WITHOUT_NAMESPACE = {**APP, "proj/celery.py": APP["proj/celery.py"].replace(
    ', namespace="CELERY"', "")}
# Settings that pass the whole production checklist of CEL301-CEL303 and CEL313.
GOOD_SETTINGS = """
    CELERY_BROKER_URL = "redis://localhost:6379/0"
    CELERY_TASK_ACKS_LATE = True
    CELERY_TASK_REJECT_ON_WORKER_LOST = True
    CELERY_WORKER_PREFETCH_MULTIPLIER = 1
    CELERY_TASK_SOFT_TIME_LIMIT = 240
    CELERY_TASK_TIME_LIMIT = 300
"""
CHECKLIST = ("CEL301", "CEL302", "CEL303")


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def read(path: Path) -> str:
    """The file's text with its line endings as they are on disk."""
    return path.read_bytes().decode("utf-8")


def shop(tasks: str = INVOICE_TASKS, services: str = SERVICES, **extra: str) -> dict[str, str]:
    return {"manage.py": "", "shop/models.py": MODELS, "shop/tasks.py": tasks,
            "shop/services.py": services, **extra}


def fix_project(root: Path, unsafe: bool = False, select: tuple[str, ...] | None = None,
                **config: object) -> FixResult:
    """Fix the project under `root` and write the fixed files, as `check --fix` does; the
    project has chosen the limits the time-limit fixes write (`fix-time-limits`) unless the test
    says otherwise."""
    config.setdefault("fix_time_limits", DEFAULT_FIX_TIME_LIMITS)
    outcome = fix([root], config_of(root, select, **config), unsafe)
    assert write(outcome) == []
    return outcome


def applied(root: Path, outcome: FixResult) -> dict[str, dict[str, int]]:
    return {Path(path).relative_to(root).as_posix(): dict(counts)
            for path, counts in outcome.applied.items()}


def remaining(root: Path, outcome: FixResult) -> list[tuple[str, str, int]]:
    return [(d.code, Path(d.path).relative_to(root).as_posix(), d.location.row)
            for d in outcome.result.diagnostics]


def check_fixed(root: Path, files: dict[str, str], path: str, expected: str,
                unsafe: bool = False, select: tuple[str, ...] | None = None,
                **config: object) -> FixResult:
    """The project `files` fixed: `path` reads `expected` exactly, and a second fix is a no-op."""
    write_project(root, files)
    outcome = fix_project(root, unsafe, select, **config)
    assert read(root / path) == dedent(expected)
    again = fix_project(root, unsafe, select, **config)
    assert again.count == 0 and again.fixed == {} and again.unparsable == []
    assert read(root / path) == dedent(expected)
    return outcome


def check_unfixed(root: Path, files: dict[str, str], path: str,
                  select: tuple[str, ...] | None = None, **config: object
                  ) -> list[tuple[str, str, int]]:
    """The project `files` is left as it is, even with the unsafe fixes; what is still reported."""
    write_project(root, files)
    before = read(root / path)
    outcome = fix_project(root, True, select, **config)
    assert outcome.fixed == {} and outcome.count == 0
    assert read(root / path) == before
    return remaining(root, outcome)


# -- CEL002 unused-noqa (safe) ------------------------------------------------------------------

def test_cel002_drops_unused_codes_and_comments(tmp_path: Path) -> None:
    services = """
        from shop.models import Order
        from shop.tasks import send_invoice


        def checkout(order_id, order):
            send_invoice.delay(order.pk)  # noqa: CEL101
            send_invoice.delay(order.pk)  # noqa: CEL101, E501
            send_invoice.delay(order.pk)  # noqa: CEL101 the pk since #12
            send_invoice.delay(order.pk)  # type: ignore  # noqa: CEL101
            # noqa: CEL101
            send_invoice.delay(order.pk)  # keep this comment
            send_invoice.delay(Order.objects.get(pk=order_id))  # noqa: CEL101,CEL107
            send_invoice.delay(order.pk)  # noqa
    """
    outcome = check_fixed(tmp_path, shop(services=services), "shop/services.py", """
        from shop.models import Order
        from shop.tasks import send_invoice


        def checkout(order_id, order):
            send_invoice.delay(order.pk)
            send_invoice.delay(order.pk)  # noqa: E501
            send_invoice.delay(order.pk)  # the pk since #12
            send_invoice.delay(order.pk)  # type: ignore
            send_invoice.delay(order.pk)  # keep this comment
            send_invoice.delay(Order.objects.get(pk=order_id))  # noqa: CEL101
            send_invoice.delay(order.pk)  # noqa
    """)
    assert applied(tmp_path, outcome) == {"shop/services.py": {"CEL002": 6}}
    assert remaining(tmp_path, outcome) == []


def test_cel002_in_a_compose_file(tmp_path: Path) -> None:
    compose = """
        services:
          worker:
            image: app
            command: celery -A proj worker  # noqa: CEL401
            restart: always
    """
    check_fixed(tmp_path, {**CELERY_APP, "docker-compose.yml": compose}, "docker-compose.yml",
                compose.replace("  # noqa: CEL401", ""))


def test_cel002_comment_alone_on_a_last_line_without_newline(tmp_path: Path) -> None:
    write_project(tmp_path, shop())
    (tmp_path / "shop/services.py").write_text(dedent(SERVICES_FIXED) + "# noqa: CEL101",
                                               encoding="utf-8")
    outcome = fix_project(tmp_path)
    assert read(tmp_path / "shop/services.py") == dedent(SERVICES_FIXED)
    assert remaining(tmp_path, outcome) == []


# -- CEL204 retry-not-raised (safe) -------------------------------------------------------------

def test_cel204_raises_the_retry(tmp_path: Path) -> None:
    outcome = check_fixed(tmp_path, {"manage.py": "", "shop/tasks.py": RETRYING_TASKS},
                          "shop/tasks.py", RETRYING_TASKS_FIXED)
    assert applied(tmp_path, outcome) == {"shop/tasks.py": {"CEL204": 1}}
    assert remaining(tmp_path, outcome) == []


def test_cel204_multiline_call_and_one_line_if(tmp_path: Path) -> None:
    tasks = """
        from celery import shared_task


        @shared_task(bind=True)
        def sync(self, first):
            if first: self.retry(); first = False  # fmt: skip
            self.retry(
                countdown=5,  # seconds
            )
            first = True
    """
    check_fixed(tmp_path, {"manage.py": "", "shop/tasks.py": tasks}, "shop/tasks.py", """
        from celery import shared_task


        @shared_task(bind=True)
        def sync(self, first):
            if first: raise self.retry(); first = False  # fmt: skip
            raise self.retry(
                countdown=5,  # seconds
            )
            first = True
    """)


def test_cel204_throw_false_is_left_alone(tmp_path: Path) -> None:
    tasks = RETRYING_TASKS.replace("countdown=60)", "countdown=60, throw=False)")
    assert check_unfixed(tmp_path, {"manage.py": "", "shop/tasks.py": tasks},
                         "shop/tasks.py") == []


def test_cel204_parenthesized_call(tmp_path: Path) -> None:
    tasks = """
        from celery import shared_task


        @shared_task(bind=True)
        def sync(self):
            (self.retry())
            self.synced = True
    """
    check_fixed(tmp_path, {"manage.py": "", "shop/tasks.py": tasks}, "shop/tasks.py",
                tasks.replace("(self.retry())", "raise (self.retry())"))


# -- CEL306 unknown-setting (safe) --------------------------------------------------------------

def test_cel306_renames_old_names_under_the_namespace(tmp_path: Path) -> None:
    settings = """
        CELERY_BROKER_URL = "redis://localhost:6379/0"
        # eager only in tests
        CELERY_ALWAYS_EAGER = False  # not in production
        CELERYD_PREFETCH_MULTIPLIER = 1
    """
    renamed = """
        CELERY_BROKER_URL = "redis://localhost:6379/0"
        # eager only in tests
        CELERY_TASK_ALWAYS_EAGER = False  # not in production
        CELERY_WORKER_PREFETCH_MULTIPLIER = 1
    """
    files = {**APP, "proj/settings.py": settings}
    if _celery_reads([dedent(settings)], "worker_prefetch_multiplier") == 1:
        # Celery 5.7 reads the old names under the namespace: both renames keep what it reads
        outcome = check_fixed(tmp_path, files, "proj/settings.py", renamed, select=("CEL306",))
        assert applied(tmp_path, outcome) == {"proj/settings.py": {"CEL306": 2}}
        assert remaining(tmp_path, outcome) == []
        return
    # Celery 5.3-5.6 ignore them and read their defaults: renaming CELERY_ALWAYS_EAGER = False
    # keeps the default False (safe); CELERYD_PREFETCH_MULTIPLIER = 1 would move the workers from
    # the default 4 to 1, so that rename is unsafe
    assert _celery_reads([dedent(settings)], "worker_prefetch_multiplier") == 4
    half = renamed.replace("CELERY_WORKER_PREFETCH_MULTIPLIER", "CELERYD_PREFETCH_MULTIPLIER")
    outcome = check_fixed(tmp_path, files, "proj/settings.py", half, select=("CEL306",))
    assert applied(tmp_path, outcome) == {"proj/settings.py": {"CEL306": 1}}
    assert remaining(tmp_path, outcome) == [("CEL306", "proj/settings.py", 4)]
    outcome = check_fixed(tmp_path, files, "proj/settings.py", renamed, unsafe=True,
                          select=("CEL306",))
    assert applied(tmp_path, outcome) == {"proj/settings.py": {"CEL306": 2}}
    assert _celery_reads([dedent(renamed)], "worker_prefetch_multiplier") == 1


def test_cel306_renames_a_mixed_in_name_to_the_module_s_style(tmp_path: Path) -> None:
    files = {"proj/celery.py": """
        from celery import Celery

        app = Celery("proj")
        app.config_from_object("proj.celeryconfig")
    """, "proj/celeryconfig.py": """
        BROKER_URL = "redis://localhost:6379/0"  # the local Redis
        CELERY_ALWAYS_EAGER = False
        task_acks_late = True
    """}
    check_fixed(tmp_path, files, "proj/celeryconfig.py", """
        broker_url = "redis://localhost:6379/0"  # the local Redis
        task_always_eager = False
        task_acks_late = True
    """, select=("CEL306",))


def test_cel306_no_fix_when_the_new_name_is_set(tmp_path: Path) -> None:
    settings = """
        CELERY_BROKER_URL = "redis://localhost:6379/0"
        CELERY_ALWAYS_EAGER = False
        CELERY_TASK_ALWAYS_EAGER = False
    """
    assert check_unfixed(tmp_path, {**APP, "proj/settings.py": settings}, "proj/settings.py",
                         select=("CEL306",)) == [("CEL306", "proj/settings.py", 2)]


def test_cel306_no_fix_for_a_typo_or_a_missing_prefix(tmp_path: Path) -> None:
    settings = """
        CELERY_BROKER_URL = "redis://localhost:6379/0"
        CELERY_TASK_ACK_LATE = True
        WORKER_PREFETCH_MULTIPLIER = 1
    """
    assert check_unfixed(tmp_path, {**APP, "proj/settings.py": settings}, "proj/settings.py",
                         select=("CEL306",)) == [("CEL306", "proj/settings.py", 2),
                                                 ("CEL306", "proj/settings.py", 3)]


def test_cel306_rename_keeps_a_module_that_reads_the_name_working(tmp_path: Path) -> None:
    settings = """
        CELERY_BROKER_URL = "redis://localhost:6379/0"
        CELERY_ALWAYS_EAGER = False
        CELERY_EAGER_PROPAGATES_EXCEPTIONS = CELERY_ALWAYS_EAGER
    """
    write_project(tmp_path, {**APP, "proj/settings.py": settings})
    fix_project(tmp_path, select=("CEL306",))
    runpy.run_path(str(tmp_path / "proj/settings.py"))  # Django imports it without an error


def _celery_reads(modules: list[str], setting: str) -> object:
    """What Celery reads for `setting`, under namespace="CELERY", from Django settings made of
    `modules` (literal assignments), each star-importing the one before."""
    names: dict[str, object] = {}
    for text in modules:
        for statement in ast.parse(text).body:
            if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
                names[statement.targets[0].id] = ast.literal_eval(statement.value)
    app = Celery("proj", set_as_current=False)
    app.config_from_object(types.SimpleNamespace(**names), namespace="CELERY")
    return app.conf[setting]


def test_cel306_rename_keeps_the_value_celery_reads(tmp_path: Path) -> None:
    app = {**APP, "proj/celery.py": APP["proj/celery.py"].replace(
        '"proj.settings"', '"proj.settings.production"')}
    base = 'CELERY_BROKER_URL = "redis://localhost:6379/0"\nCELERY_TASK_ALWAYS_EAGER = False\n'
    production = "from .base import *  # noqa: F403\nCELERY_ALWAYS_EAGER = True\n"
    write_project(tmp_path, {**app, "proj/settings/base.py": base,
                             "proj/settings/production.py": production})
    assert _celery_reads([base, production], "task_always_eager") is False
    fix_project(tmp_path, select=("CEL306",))
    fixed = read(tmp_path / "proj/settings/production.py")
    assert _celery_reads([base, fixed], "task_always_eager") is False


# -- CEL101 orm-object-argument (unsafe) --------------------------------------------------------

def test_cel101_passes_the_pk(tmp_path: Path) -> None:
    services = """
        from shop.models import Order
        from shop.tasks import send_invoice


        def checkout(request, order_id):
            order = Order.objects.get(pk=order_id)
            # the customer paid: send the invoice
            send_invoice.delay(order)  # after payment
            send_invoice.apply_async(args=[order], countdown=3)
            send_invoice.delay(order_id=(order))
            send_invoice.delay(request.user)
    """
    outcome = check_fixed(tmp_path, shop(services=services), "shop/services.py", """
        from shop.models import Order
        from shop.tasks import send_invoice


        def checkout(request, order_id):
            order = Order.objects.get(pk=order_id)
            # the customer paid: send the invoice
            send_invoice.delay(order.pk)  # after payment
            send_invoice.apply_async(args=[order.pk], countdown=3)
            send_invoice.delay(order_id=(order.pk))
            send_invoice.delay(request.user.pk)
    """, unsafe=True)
    assert applied(tmp_path, outcome) == {"shop/services.py": {"CEL101": 4}}
    assert remaining(tmp_path, outcome) == []


def test_cel101_no_fix_for_an_expression_or_a_queryset(tmp_path: Path) -> None:
    services = """
        from shop.models import Order
        from shop.tasks import send_invoice


        def checkout(order_id):
            orders = Order.objects.filter(pk=order_id)
            send_invoice.delay(Order.objects.get(pk=order_id))
            send_invoice.delay(Order.objects.get_or_create(pk=order_id)[0])
            send_invoice.delay(orders)
    """
    assert check_unfixed(tmp_path, shop(services=services), "shop/services.py") == [
        ("CEL101", "shop/services.py", 7), ("CEL101", "shop/services.py", 8),
        ("CEL101", "shop/services.py", 9)]


def test_cel101_is_unsafe(tmp_path: Path) -> None:
    write_project(tmp_path, shop())
    outcome = fix_project(tmp_path)
    assert outcome.count == 0
    assert read(tmp_path / "shop/services.py") == dedent(SERVICES)
    assert remaining(tmp_path, outcome) == [("CEL101", "shop/services.py", 8)]


# The whole fix: a task that uses its argument as an object, called from two files.
OBJECT_TASKS = """
    import logging

    from celery import shared_task

    logger = logging.getLogger(__name__)


    @shared_task
    def send_invoice(order, copies):
        \"\"\"Mail the invoice.\"\"\"
        logger.info("sending %s", copies)
        if order.status == "paid":
            return order.pk
"""
CHECKOUT = """
    from shop.models import Order
    from shop.tasks import send_invoice


    def checkout(order_id):
        order = Order.objects.get(pk=order_id)
        send_invoice.delay(order, 2)
"""
RESEND = """
    from shop import tasks
    from shop.models import Order


    def resend():
        for order in Order.objects.filter(status="paid"):
            tasks.send_invoice.apply_async(args=[order], kwargs={"copies": 1})
"""


def whole(**extra: str) -> dict[str, str]:
    return shop(tasks=OBJECT_TASKS, services=CHECKOUT, **{"shop/admin.py": RESEND, **extra})


def test_cel101_whole_fix_changes_the_task_and_every_call(tmp_path: Path) -> None:
    outcome = check_fixed(tmp_path, whole(), "shop/tasks.py", """
        import logging

        from celery import shared_task

        from shop.models import Order

        logger = logging.getLogger(__name__)


        @shared_task
        def send_invoice(order_id, copies):
            \"\"\"Mail the invoice.\"\"\"
            logger.info("sending %s", copies)
            order = Order.objects.get(pk=order_id)
            if order.status == "paid":
                return order.pk
    """, unsafe=True)
    assert read(tmp_path / "shop/services.py") == dedent(CHECKOUT).replace(
        "delay(order, 2)", "delay(order.pk, 2)")
    assert read(tmp_path / "shop/admin.py") == dedent(RESEND).replace(
        "args=[order]", "args=[order.pk]")
    # one fix for both diagnostics, applied once
    assert applied(tmp_path, outcome) == {"shop/services.py": {"CEL101": 1},
                                          "shop/admin.py": {"CEL101": 1}}
    assert remaining(tmp_path, outcome) == []


def test_cel101_whole_fix_renames_a_keyword_at_the_call(tmp_path: Path) -> None:
    services = CHECKOUT.replace("delay(order, 2)", "delay(copies=2, order=order)")
    check_fixed(tmp_path, shop(tasks=OBJECT_TASKS, services=services), "shop/services.py",
                services.replace("order=order)", "order_id=order.pk)"), unsafe=True)
    assert "def send_invoice(order_id, copies):" in read(tmp_path / "shop/tasks.py")


def test_cel101_whole_fix_is_one_fix_for_all_its_diagnostics(tmp_path: Path) -> None:
    write_project(tmp_path, whole())
    result = fixes.run([tmp_path], Config(root=tmp_path, select=("CEL101",)))
    first, second = result.diagnostics
    assert first.fix is not None and first.fix == second.fix and first.fix.part_of is None
    assert first.fix.message == ("Pass the primary key to `send_invoice` (2 calls, 3 files) and "
                                 "load the `Order` in the task")
    assert len({e.path for e in first.fix.edits}) == 3
    # applied for both diagnostics, it edits each file once
    texts, chosen = fixes.fix_pass(result.sources, [first, second])
    assert chosen == [first, second]
    assert texts[str(tmp_path / "shop/tasks.py")].count("Order.objects.get(pk=order_id)") == 1


def test_cel101_whole_fix_imports_the_model_in_the_task_when_models_import_the_tasks(
        tmp_path: Path) -> None:
    models = MODELS.replace("from django.db import models\n",
                            "from django.db import models\n\n    from shop import tasks\n")
    check_fixed(tmp_path, whole(**{"shop/models.py": models}), "shop/tasks.py",
                OBJECT_TASKS.replace("def send_invoice(order, copies):",
                                     "def send_invoice(order_id, copies):").replace(
                    '        if order.status', "        from shop.models import Order\n"
                    "        order = Order.objects.get(pk=order_id)\n        if order.status"),
                unsafe=True)


def test_cel101_no_whole_fix_when_the_task_is_also_sent_by_name(tmp_path: Path) -> None:
    by_name = """
        from proj.celery import app


        def nightly(order):
            app.send_task("shop.tasks.send_invoice", args=[order.pk, 1])
    """
    assert check_unfixed(tmp_path, whole(**{"shop/nightly.py": by_name, **APP}),
                         "shop/tasks.py", select=("CEL101",)) == [
        ("CEL101", "shop/admin.py", 7), ("CEL101", "shop/services.py", 7)]


def test_cel101_no_whole_fix_when_a_call_passes_an_expression(tmp_path: Path) -> None:
    resend = RESEND.replace("args=[order]", "args=[Order.objects.get(pk=order.pk)]")
    assert check_unfixed(tmp_path, whole(**{"shop/admin.py": resend}), "shop/tasks.py",
                         select=("CEL101",)) == [
        ("CEL101", "shop/admin.py", 7), ("CEL101", "shop/services.py", 7)]


@pytest.mark.parametrize(("other", "reported"), [
    ("tasks.send_invoice.delay(order.pk, 1)", False),  # an id already
    ("tasks.send_invoice(order, 1)", False),  # run directly
    ("handlers = [tasks.send_invoice]", False),  # handed on
    ("tasks.send_invoice.run(order, 1)", False),
    ("tasks.send_invoice.delay(*[order, 1])", False),
    ("chain(tasks.send_invoice.s(order, 1))()", True),  # a partial signature
])
def test_cel101_no_whole_fix_when_another_call_cannot_be_changed(tmp_path: Path, other: str,
                                                                 reported: bool) -> None:
    resend = "    from celery import chain\n" + RESEND.replace(
        'tasks.send_invoice.apply_async(args=[order], kwargs={"copies": 1})', other)
    assert check_unfixed(tmp_path, whole(**{"shop/admin.py": resend}), "shop/tasks.py",
                         select=("CEL101",)) == [("CEL101", "shop/admin.py", 9)] * reported + [
        ("CEL101", "shop/services.py", 7)]


def test_cel101_no_whole_fix_when_one_call_is_not_checked(tmp_path: Path) -> None:
    write_project(tmp_path, whole())
    result = fixes.run([tmp_path / "shop/services.py"], Config(root=tmp_path))
    [diagnostic] = [d for d in result.diagnostics if d.code == "CEL101"]
    assert diagnostic.fix is None  # admin.py's call is not in the run: it would stay broken


def test_cel101_whole_fix_from_the_cache(tmp_path: Path) -> None:
    write_project(tmp_path, whole())
    config = Config(root=tmp_path, select=("CEL101",))
    first = fixes.run([tmp_path], config, cache=open_cache(config, [tmp_path]))
    again = fixes.run([tmp_path], config, cache=open_cache(config, [tmp_path]))  # all cached
    assert first.diagnostics == again.diagnostics
    assert again.diagnostics[0].fix is not None and again.diagnostics[0].fix.part_of is None


def test_cel101_keeps_the_pk_fix_when_the_task_uses_its_parameter_as_an_id(tmp_path: Path
                                                                          ) -> None:
    tasks = """
        from celery import shared_task

        from shop.models import Order


        @shared_task
        def send_invoice(order, copies):
            return Order.objects.filter(pk=order).update(status="sent")
    """
    check_fixed(tmp_path, shop(tasks=tasks, services=CHECKOUT), "shop/services.py",
                CHECKOUT.replace("delay(order, 2)", "delay(order.pk, 2)"), unsafe=True)
    assert read(tmp_path / "shop/tasks.py") == dedent(tasks)


@pytest.mark.parametrize("task", [
    "def send_invoice(order, copies):\n    order = order.pk\n    return order",  # reassigned
    "def send_invoice(order=None, copies=1):\n    return order.status",  # a default
    "async def send_invoice(order, copies):\n    return order.status",
    "def send_invoice(order, copies):\n    order_id = 1\n    return order.status + order_id",
])
def test_cel101_no_fix_when_the_task_cannot_take_an_id(tmp_path: Path, task: str) -> None:
    tasks = "from celery import shared_task\n\n\n@shared_task\n" + task + "\n"
    assert check_unfixed(tmp_path, shop(tasks=tasks, services=CHECKOUT), "shop/tasks.py",
                         select=("CEL101",)) == [("CEL101", "shop/services.py", 7)]


def test_cel101_whole_fix_where_the_model_is_imported_or_shadowed(tmp_path: Path) -> None:
    imported = OBJECT_TASKS.replace("from celery import shared_task\n",
                                    "from celery import shared_task\n\n    from shop import models\n"
                                    ).replace("import logging\n", "import logging\n\n    Order = 1\n")
    assert check_unfixed(tmp_path, shop(tasks=imported, services=CHECKOUT), "shop/tasks.py",
                         select=("CEL101",)) == [("CEL101", "shop/services.py", 7)]


# -- CEL201 missing-time-limit (unsafe) ---------------------------------------------------------

NO_LIMITS = {**APP, "proj/settings.py": 'CELERY_BROKER_URL = "redis://localhost:6379/0"\n'}


def test_cel201_adds_the_limits_to_each_decorator_shape(tmp_path: Path) -> None:
    tasks = """
        from celery import shared_task

        from proj.celery import app


        @shared_task  # the invoice task
        def send_invoice(order_id):
            return order_id


        @shared_task()
        def close(order_id):
            return order_id


        @shared_task(bind=True)
        def ship(self, order_id):
            return order_id


        @shared_task(bind=True,)
        def refund(self, order_id):
            return order_id


        @app.task
        def export(order_id):
            return order_id
    """
    outcome = check_fixed(tmp_path, {**NO_LIMITS, "shop/tasks.py": tasks}, "shop/tasks.py", """
        from celery import shared_task

        from proj.celery import app


        @shared_task(soft_time_limit=300, time_limit=360)  # the invoice task
        def send_invoice(order_id):
            return order_id


        @shared_task(soft_time_limit=300, time_limit=360)
        def close(order_id):
            return order_id


        @shared_task(bind=True, soft_time_limit=300, time_limit=360)
        def ship(self, order_id):
            return order_id


        @shared_task(bind=True, soft_time_limit=300, time_limit=360,)
        def refund(self, order_id):
            return order_id


        @app.task(soft_time_limit=300, time_limit=360)
        def export(order_id):
            return order_id
    """, unsafe=True, select=("CEL201",))
    assert applied(tmp_path, outcome) == {"shop/tasks.py": {"CEL201": 5}}


def test_cel201_writes_the_fix_time_limits_option(tmp_path: Path) -> None:
    tasks = """
        from celery import shared_task


        @shared_task
        def send_invoice(order_id):
            return order_id
    """
    check_fixed(tmp_path, {**NO_LIMITS, "shop/tasks.py": tasks}, "shop/tasks.py",
                tasks.replace("@shared_task", "@shared_task(soft_time_limit=60, time_limit=90)"),
                unsafe=True, select=("CEL201",), fix_time_limits=(("soft", 60), ("hard", 90)))


def test_no_time_limit_fix_unless_the_project_chose_the_limits(tmp_path: Path) -> None:
    # a limit guessed by the linter kills the project's long tasks (a database dump, a large
    # export): without `fix-time-limits`, CEL201 and CEL303 are reported with no fix
    tasks = "from celery import shared_task\n\n\n@shared_task\ndef ship(order_id):\n    return 1\n"
    write_project(tmp_path, {**APP, "proj/settings.py": BROKER_ONLY, "proj/tasks.py": tasks})
    outcome = fix_project(tmp_path, True, ("CEL201", "CEL303"), fix_time_limits=None)
    assert applied(tmp_path, outcome) == {}
    assert sorted(code for code, _, _ in remaining(tmp_path, outcome)) == ["CEL201", "CEL303"]
    assert all(d.fix is None for d in outcome.result.diagnostics)
    assert read(tmp_path / "proj/settings.py") == BROKER_ONLY


def test_time_limit_fix_with_the_project_s_own_limits(tmp_path: Path) -> None:
    # the near miss: the project says which limits it wants, and the global fix writes them
    write_project(tmp_path, {**APP, "proj/settings.py": BROKER_ONLY})
    outcome = fix_project(tmp_path, True, ("CEL303",), fix_time_limits=(("soft", 1800),
                                                                         ("hard", 1900)))
    assert applied(tmp_path, outcome) == {"proj/settings.py": {"CEL303": 1}}
    assert "CELERY_TASK_SOFT_TIME_LIMIT = 1800\nCELERY_TASK_TIME_LIMIT = 1900\n" in read(
        tmp_path / "proj/settings.py")


def test_cel201_no_fix_when_the_settings_mean_a_global_limit_under_an_ignored_name(
        tmp_path: Path) -> None:
    # `CELERYD_TIME_LIMIT` is no name Celery reads: the module means a global limit of its own, so
    # per-task limits with the fix's values would contradict it; the finding stays
    tasks = """
        from celery import shared_task


        @shared_task
        def rebuild_index(order_id):
            return order_id
    """
    settings = NO_LIMITS["proj/settings.py"] + "CELERYD_TIME_LIMIT = 1200\n"
    assert check_unfixed(tmp_path, {**NO_LIMITS, "proj/settings.py": settings,
                                    "shop/tasks.py": tasks}, "shop/tasks.py",
                         select=("CEL201",)) == [("CEL201", "shop/tasks.py", 5)]


def test_cel201_no_fix_for_a_decorator_given_star_arguments(tmp_path: Path) -> None:
    tasks = """
        from celery import shared_task

        OPTIONS = {"acks_late": True}


        @shared_task(**OPTIONS)
        def send_invoice(order_id):
            return order_id
    """
    assert check_unfixed(tmp_path, {**NO_LIMITS, "shop/tasks.py": tasks}, "shop/tasks.py",
                         select=("CEL201",)) == [("CEL201", "shop/tasks.py", 7)]


def test_cel201_multiline_decorator(tmp_path: Path) -> None:
    tasks = """
        from celery import shared_task


        @shared_task(
            bind=True,
        )
        def ship(self, order_id):
            return order_id


        @shared_task(bind=True  # for self.request
        )
        def refund(self, order_id):
            return order_id
    """
    check_fixed(tmp_path, {**NO_LIMITS, "shop/tasks.py": tasks}, "shop/tasks.py", """
        from celery import shared_task


        @shared_task(
            bind=True, soft_time_limit=300, time_limit=360,
        )
        def ship(self, order_id):
            return order_id


        @shared_task(bind=True, soft_time_limit=300, time_limit=360  # for self.request
        )
        def refund(self, order_id):
            return order_id
    """, unsafe=True, select=("CEL201",))


# -- CEL211 unknown-task-option (unsafe) --------------------------------------------------------

OPTION_TASKS = """
    from celery import shared_task


    @shared_task(max_retry=5, acks_lat=True)  # retried
    def send_invoice(order_id):
        return order_id


    @shared_task(
        bind=True,
        task_track_started=True,
        soft_timelimit=30,
    )
    def ship(self, order_id):
        return order_id


    @shared_task(autoretry=True, bogus=1)
    def refund(order_id):
        return order_id


    @shared_task(max_retries=3, max_retry=5)
    def close(order_id):
        return order_id
"""


def test_cel211_renames_to_the_option_meant(tmp_path: Path) -> None:
    outcome = check_fixed(tmp_path, {**APP, "proj/settings.py": GOOD_SETTINGS,
                                     "shop/tasks.py": OPTION_TASKS}, "shop/tasks.py", """
        from celery import shared_task


        @shared_task(max_retries=5, acks_late=True)  # retried
        def send_invoice(order_id):
            return order_id


        @shared_task(
            bind=True,
            track_started=True,
            soft_time_limit=30,
        )
        def ship(self, order_id):
            return order_id


        @shared_task(autoretry=True, bogus=1)
        def refund(order_id):
            return order_id


        @shared_task(max_retries=3, max_retry=5)
        def close(order_id):
            return order_id
    """, unsafe=True, select=("CEL211",))
    assert applied(tmp_path, outcome) == {"shop/tasks.py": {"CEL211": 4}}
    # a scalar for `autoretry_for`, a name like nothing, an option given twice: no rename
    assert remaining(tmp_path, outcome) == [("CEL211", "shop/tasks.py", 18),
                                            ("CEL211", "shop/tasks.py", 18),
                                            ("CEL211", "shop/tasks.py", 23)]


def test_cel211_is_unsafe(tmp_path: Path) -> None:
    write_project(tmp_path, {**APP, "proj/settings.py": GOOD_SETTINGS,
                             "shop/tasks.py": OPTION_TASKS})
    outcome = fix_project(tmp_path, unsafe=False, select=("CEL211",))
    assert outcome.count == 0 and len(remaining(tmp_path, outcome)) == 7


# -- CEL504 crontab-every-minute (unsafe) -------------------------------------------------------

SCHEDULES = """
    from celery.schedules import crontab

    BEAT = {
        "export": {"task": "shop.tasks.export", "schedule": crontab(hour=4)},  # nightly
        "report": {"task": "shop.tasks.report", "schedule": crontab(
            hour=3,
            day_of_week="mon",
        )},
        "statements": {"task": "shop.tasks.statements", "schedule": crontab(day_of_month=1)},
        "poll": {"task": "shop.tasks.poll", "schedule": crontab(minute="*", hour=4)},
    }
"""


def test_cel504_adds_minute_zero(tmp_path: Path) -> None:
    outcome = check_fixed(tmp_path, {**APP, "proj/settings.py": GOOD_SETTINGS,
                                     "shop/schedules.py": SCHEDULES}, "shop/schedules.py", """
        from celery.schedules import crontab

        BEAT = {
            "export": {"task": "shop.tasks.export", "schedule": crontab(minute=0, hour=4)},  # nightly
            "report": {"task": "shop.tasks.report", "schedule": crontab(
                minute=0, hour=3,
                day_of_week="mon",
            )},
            "statements": {"task": "shop.tasks.statements", "schedule": crontab(minute=0, day_of_month=1)},
            "poll": {"task": "shop.tasks.poll", "schedule": crontab(minute="*", hour=4)},
        }
    """, unsafe=True, select=("CEL504",), preview=True)
    assert applied(tmp_path, outcome) == {"shop/schedules.py": {"CEL504": 3}}
    assert remaining(tmp_path, outcome) == []


def test_cel504_is_unsafe(tmp_path: Path) -> None:
    write_project(tmp_path, {**APP, "proj/settings.py": GOOD_SETTINGS,
                             "shop/schedules.py": SCHEDULES})
    outcome = fix_project(tmp_path, unsafe=False, select=("CEL504",), preview=True)
    assert outcome.count == 0
    assert [row for code, _, row in remaining(tmp_path, outcome)] == [4, 5, 9]


# -- CEL301, CEL302, CEL303: the missing settings added beside the others (unsafe) -------------

BROKER_ONLY = 'CELERY_BROKER_URL = "redis://localhost:6379/0"  # the local Redis\n'


@pytest.mark.parametrize(("code", "appended"), [
    ("CEL301", "CELERY_TASK_ACKS_LATE = True\n"),
    ("CEL302", "CELERY_WORKER_PREFETCH_MULTIPLIER = 1\n"),
    ("CEL303", "CELERY_TASK_SOFT_TIME_LIMIT = 300\nCELERY_TASK_TIME_LIMIT = 360\n"),
])
def test_checklist_adds_the_missing_setting(tmp_path: Path, code: str, appended: str) -> None:
    outcome = check_fixed(tmp_path, {**APP, "proj/settings.py": BROKER_ONLY}, "proj/settings.py",
                          BROKER_ONLY + appended, unsafe=True, select=(code,))
    assert applied(tmp_path, outcome) == {"proj/settings.py": {code: 1}}
    assert remaining(tmp_path, outcome) == []


def test_checklist_adds_each_missing_setting_once(tmp_path: Path) -> None:
    outcome = check_fixed(tmp_path, {**APP, "proj/settings.py": BROKER_ONLY}, "proj/settings.py",
                          BROKER_ONLY + "CELERY_TASK_ACKS_LATE = True\n"
                          "CELERY_WORKER_PREFETCH_MULTIPLIER = 1\n"
                          "CELERY_TASK_SOFT_TIME_LIMIT = 300\nCELERY_TASK_TIME_LIMIT = 360\n",
                          unsafe=True, select=CHECKLIST)
    assert applied(tmp_path, outcome) == {
        "proj/settings.py": {"CEL301": 1, "CEL302": 1, "CEL303": 1}}


def test_checklist_writes_celery_s_names_without_a_namespace(tmp_path: Path) -> None:
    files = {"proj/celery.py": """
        from celery import Celery

        app = Celery("proj")
        app.config_from_object("proj.celeryconfig")
    """, "proj/celeryconfig.py": 'broker_url = "redis://localhost:6379/0"\n'}
    check_fixed(tmp_path, files, "proj/celeryconfig.py", """
        broker_url = "redis://localhost:6379/0"
        task_acks_late = True
        worker_prefetch_multiplier = 1
        task_soft_time_limit = 300
        task_time_limit = 360
    """, unsafe=True, select=CHECKLIST)


def test_checklist_adds_to_a_file_without_a_final_newline(tmp_path: Path) -> None:
    # on a line of its own after the last setting; the file still ends without a line break
    check_fixed(tmp_path, {**APP, "proj/settings.py": BROKER_ONLY.rstrip("\n")},
                "proj/settings.py", BROKER_ONLY + "CELERY_TASK_ACKS_LATE = True",
                unsafe=True, select=("CEL301",))


def test_checklist_appends_to_the_production_module_not_its_base(tmp_path: Path) -> None:
    app = {**APP, "proj/celery.py": APP["proj/celery.py"].replace(
        '"proj.settings"', '"proj.settings.production"')}
    production = "from .base import *  # noqa: F403\n\nDEBUG = False\n"
    files = {**app, "proj/settings/base.py": BROKER_ONLY,
             "proj/settings/production.py": production}
    check_fixed(tmp_path, files, "proj/settings/production.py",
                production + "CELERY_TASK_ACKS_LATE = True\n", unsafe=True, select=("CEL301",))
    assert read(tmp_path / "proj/settings/base.py") == BROKER_ONLY


def test_checklist_no_fix_for_a_setting_with_a_wrong_value(tmp_path: Path) -> None:
    settings = GOOD_SETTINGS.replace("MULTIPLIER = 1", "MULTIPLIER = 4").replace(
        "ACKS_LATE = True", "ACKS_LATE = False")
    assert check_unfixed(tmp_path, {**APP, "proj/settings.py": settings}, "proj/settings.py",
                         select=CHECKLIST) == [("CEL301", "proj/settings.py", 2),
                                               ("CEL302", "proj/settings.py", 4)]


@pytest.mark.parametrize(("code", "misnamed"), [
    ("CEL301", "CELERYD_ACKS_LATE = True"),
    ("CEL302", "CELERY_PREFETCH_MULTIPLIER = 4"),
    ("CEL303", "CELERYD_SOFT_TIME_LIMIT = 900"),
])
def test_checklist_no_fix_when_the_module_means_the_setting_under_a_name_celery_ignores(
        tmp_path: Path, code: str, misnamed: str) -> None:
    # the author set it and spelt the name wrong: adding it a second time with the fix's value
    # contradicts theirs (renaming their line is the fix); the finding stays and names the line
    settings = BROKER_ONLY + f"# chosen for our workload\n{misnamed}\n"
    assert check_unfixed(tmp_path, {**APP, "proj/settings.py": settings}, "proj/settings.py",
                         select=(code,)) == [(code, "proj/settings.py", 1)]


def test_an_old_name_the_pinned_celery_ignores_is_renamed_not_written_twice(
        tmp_path: Path) -> None:
    # Celery 5.6 reads no old name under a namespace: CEL306 renames the line, and CEL301 must not
    # also add the setting (the module would assign it twice, the second hiding the first)
    settings = BROKER_ONLY + 'CELERY_ACKS_LATE = os.environ.get("WORKER_ACKS_LATE") == "1"\n'
    check_fixed(tmp_path, {**APP, "requirements.txt": "celery[redis]==5.6.3\n",
                           "proj/settings.py": "import os\n\n" + settings}, "proj/settings.py",
                "import os\n\n" + settings.replace("CELERY_ACKS_LATE =", "CELERY_TASK_ACKS_LATE ="),
                unsafe=True, select=("CEL301", "CEL306"))


def test_checklist_fix_beside_a_project_setting_that_only_ends_like_celery_s(
        tmp_path: Path) -> None:
    settings = BROKER_ONLY + "EXPORT_TIME_LIMIT = 45\nCELERY_ACKS_LATENCY_ALERT = 3\n"
    check_fixed(tmp_path, {**APP, "proj/settings.py": settings}, "proj/settings.py",
                BROKER_ONLY + "EXPORT_TIME_LIMIT = 45\nCELERY_ACKS_LATENCY_ALERT = 3\n"
                "CELERY_TASK_SOFT_TIME_LIMIT = 300\nCELERY_TASK_TIME_LIMIT = 360\n",
                unsafe=True, select=("CEL303",))


def test_checklist_no_fix_for_limits_that_are_not_positive(tmp_path: Path) -> None:
    settings = GOOD_SETTINGS.replace("LIMIT = 240", "LIMIT = None").replace("LIMIT = 300",
                                                                            "LIMIT = 0")
    assert check_unfixed(tmp_path, {**APP, "proj/settings.py": settings}, "proj/settings.py",
                         select=CHECKLIST) == [("CEL303", "proj/settings.py", 5)]


def test_checklist_django_settings_without_a_namespace(tmp_path: Path) -> None:
    settings = 'BROKER_URL = "redis://localhost:6379/0"\n'
    check_fixed(tmp_path, {**APP_WITHOUT_NAMESPACE, "proj/settings.py": settings},
                "proj/settings.py", settings + "CELERY_ACKS_LATE = True\n",
                unsafe=True, select=("CEL301",))


def checklist_placed(tmp_path: Path, before: str, after: str) -> None:
    """CEL301's setting added to the production settings `before`: they read `after` exactly."""
    check_fixed(tmp_path, {**APP, "proj/settings.py": dedent(before)}, "proj/settings.py", after,
                unsafe=True, select=("CEL301",))


def test_checklist_adds_after_the_last_celery_setting_not_at_the_end(tmp_path: Path) -> None:
    checklist_placed(tmp_path, """
        DEBUG = False
        CELERY_BROKER_URL = "redis://localhost:6379/0"
        CELERY_BEAT_SCHEDULE = {
            "nightly": {"task": "proj.tasks.nightly", "schedule": 86400},
        }

        LOGGING = {"version": 1}
    """, """
        DEBUG = False
        CELERY_BROKER_URL = "redis://localhost:6379/0"
        CELERY_BEAT_SCHEDULE = {
            "nightly": {"task": "proj.tasks.nightly", "schedule": 86400},
        }
        CELERY_TASK_ACKS_LATE = True

        LOGGING = {"version": 1}
    """)


def test_checklist_adds_after_a_celery_looking_name_celery_does_not_read(tmp_path: Path) -> None:
    # CELERY_SEND_TASK_ERROR_EMAILS is gone from Celery, but it still ends the Celery block
    checklist_placed(tmp_path, """
        CELERY_BROKER_URL = "redis://localhost:6379/0"
        CELERY_SEND_TASK_ERROR_EMAILS = False

        # -- notifications --
        EMAIL_HOST = "localhost"
    """, """
        CELERY_BROKER_URL = "redis://localhost:6379/0"
        CELERY_SEND_TASK_ERROR_EMAILS = False
        CELERY_TASK_ACKS_LATE = True

        # -- notifications --
        EMAIL_HOST = "localhost"
    """)


def test_checklist_adds_above_a_trailing_block_that_exits(tmp_path: Path) -> None:
    checklist_placed(tmp_path, """
        import sys

        DEBUG = False
        TIME_ZONE = "UTC"

        if "check-only" in sys.argv:
            print("settings loaded")
            sys.exit(0)
    """, """
        import sys

        DEBUG = False
        TIME_ZONE = "UTC"
        CELERY_TASK_ACKS_LATE = True

        if "check-only" in sys.argv:
            print("settings loaded")
            sys.exit(0)
    """)


PRODUCTION_APP = {**APP, "proj/celery.py": APP["proj/celery.py"].replace(
    '"proj.settings"', '"proj.settings.production"')}


def test_checklist_adds_above_a_main_guard(tmp_path: Path) -> None:
    production = dedent("""
        from .base import *  # noqa: F403

        DEBUG = False

        # run as a script: show the broker
        if __name__ == "__main__":
            print(CELERY_BROKER_URL)  # noqa: F405
    """)
    check_fixed(tmp_path, {**PRODUCTION_APP, "proj/settings/base.py": BROKER_ONLY,
                           "proj/settings/production.py": production},
                "proj/settings/production.py", production.replace(
                    "DEBUG = False\n", "DEBUG = False\nCELERY_TASK_ACKS_LATE = True\n"),
                unsafe=True, select=("CEL301",))


def test_checklist_adds_above_a_forbidding_comment_with_no_setting_above_it(
        tmp_path: Path) -> None:
    production = dedent("""
        from .base import *  # noqa: F403

        # The deploy script owns this file: no settings below this line.
        DEBUG = False
    """)
    check_fixed(tmp_path, {**PRODUCTION_APP, "proj/settings/base.py": BROKER_ONLY,
                           "proj/settings/production.py": production},
                "proj/settings/production.py", production.replace(
                    "\n# The", "\nCELERY_TASK_ACKS_LATE = True\n\n# The"),
                unsafe=True, select=("CEL301",))


def test_checklist_passes_a_check_that_raises_in_the_middle_of_the_settings(
        tmp_path: Path) -> None:
    # near miss: the `if` ends in a raise but settings follow it, so it is not the module's end
    checklist_placed(tmp_path, """
        import os

        SECRET_KEY = os.environ.get("SECRET_KEY", "")
        if not SECRET_KEY:
            raise RuntimeError("SECRET_KEY is required")
        CELERY_BROKER_URL = "redis://localhost:6379/0"
    """, """
        import os

        SECRET_KEY = os.environ.get("SECRET_KEY", "")
        if not SECRET_KEY:
            raise RuntimeError("SECRET_KEY is required")
        CELERY_BROKER_URL = "redis://localhost:6379/0"
        CELERY_TASK_ACKS_LATE = True
    """)


def test_checklist_stays_above_a_comment_that_forbids_adding_below_it(tmp_path: Path) -> None:
    checklist_placed(tmp_path, """
        DEBUG = False

        # Written by the deploy script: do not add anything below this line.
        ALLOWED_HOSTS = ["shop.example.com"]
    """, """
        DEBUG = False
        CELERY_TASK_ACKS_LATE = True

        # Written by the deploy script: do not add anything below this line.
        ALLOWED_HOSTS = ["shop.example.com"]
    """)


def test_checklist_reads_a_comment_that_forbids_nothing_as_any_comment(tmp_path: Path) -> None:
    # near miss: "don't add" without saying where nothing may go
    checklist_placed(tmp_path, """
        DEBUG = False

        # Don't add a trailing slash: the proxy adds one.
        STATIC_URL = "/static"
    """, """
        DEBUG = False

        # Don't add a trailing slash: the proxy adds one.
        STATIC_URL = "/static"
        CELERY_TASK_ACKS_LATE = True
    """)


# -- encodings, BOM, line endings ---------------------------------------------------------------

def test_crlf_file_keeps_crlf(tmp_path: Path) -> None:
    write_project(tmp_path, {"manage.py": "", "shop/tasks.py": ""})
    tasks = dedent(RETRYING_TASKS).replace(
        "    return", "    # noqa: CEL101\n    return").replace("\n", "\r\n")
    (tmp_path / "shop/tasks.py").write_bytes(tasks.encode())
    outcome = fix_project(tmp_path)
    assert applied(tmp_path, outcome) == {"shop/tasks.py": {"CEL002": 1, "CEL204": 1}}
    assert (tmp_path / "shop/tasks.py").read_bytes() == \
        dedent(RETRYING_TASKS_FIXED).replace("\n", "\r\n").encode()


def test_crlf_settings_get_appended_lines_in_crlf(tmp_path: Path) -> None:
    write_project(tmp_path, APP)
    (tmp_path / "proj/settings.py").write_bytes(BROKER_ONLY.replace("\n", "\r\n").encode())
    fix_project(tmp_path, True, ("CEL301",))
    assert (tmp_path / "proj/settings.py").read_bytes() == \
        (BROKER_ONLY + "CELERY_TASK_ACKS_LATE = True\n").replace("\n", "\r\n").encode()


def test_bom_is_kept(tmp_path: Path) -> None:
    write_project(tmp_path, {"manage.py": "", "shop/tasks.py": ""})
    (tmp_path / "shop/tasks.py").write_bytes(b"\xef\xbb\xbf" + dedent(RETRYING_TASKS).encode())
    assert fix_project(tmp_path).count == 1
    assert (tmp_path / "shop/tasks.py").read_bytes() == \
        b"\xef\xbb\xbf" + dedent(RETRYING_TASKS_FIXED).encode()


def test_latin1_coding_cookie_keeps_its_encoding(tmp_path: Path) -> None:
    write_project(tmp_path, {"manage.py": "", "shop/tasks.py": ""})
    cookie = "# -*- coding: latin-1 -*-\n# Déjà vu: the carrier's café API\n"
    (tmp_path / "shop/tasks.py").write_bytes((cookie + dedent(RETRYING_TASKS)).encode("latin-1"))
    assert fix_project(tmp_path).count == 1
    assert (tmp_path / "shop/tasks.py").read_bytes() == \
        (cookie + dedent(RETRYING_TASKS_FIXED)).encode("latin-1")


# -- safe and unsafe ----------------------------------------------------------------------------

def test_fix_applies_the_safe_fixes_and_unsafe_fixes_the_rest(tmp_path: Path) -> None:
    tasks = """
        import requests
        from celery import shared_task


        @shared_task
        def send_invoice(order_id, tags=None):
            return order_id


        @shared_task(bind=True)
        def fetch_tracking_status(self, number):
            try:
                return requests.get(number, timeout=10).json()
            except requests.RequestException as exc:
                self.retry(exc=exc)
                number = None
    """
    write_project(tmp_path, shop(tasks=tasks))
    safe = fix_project(tmp_path)
    assert applied(tmp_path, safe) == {"shop/tasks.py": {"CEL204": 1}}
    assert read(tmp_path / "shop/tasks.py") == dedent(tasks).replace("self.retry",
                                                                     "raise self.retry")
    assert read(tmp_path / "shop/services.py") == dedent(SERVICES)
    assert remaining(tmp_path, safe) == [("CEL101", "shop/services.py", 8)]
    unsafe = fix_project(tmp_path, unsafe=True)
    assert applied(tmp_path, unsafe) == {"shop/services.py": {"CEL101": 1}}
    assert read(tmp_path / "shop/services.py") == dedent(SERVICES_FIXED)
    assert remaining(tmp_path, unsafe) == []


def test_fix_alone_leaves_the_limits_and_the_checklist_settings(tmp_path: Path) -> None:
    write_project(tmp_path, {**NO_LIMITS, "shop/tasks.py": INVOICE_TASKS})
    outcome = fix_project(tmp_path, select=("CEL201", *CHECKLIST))
    assert outcome.fixed == {} and outcome.count == 0
    assert remaining(tmp_path, outcome) == [("CEL301", "proj/settings.py", 1),
                                            ("CEL302", "proj/settings.py", 1),
                                            ("CEL303", "proj/settings.py", 1),
                                            ("CEL201", "shop/tasks.py", 5)]


# -- the engine ---------------------------------------------------------------------------------

def edit(content: str, row: int, column: int, end_row: int, end_column: int) -> Edit:
    return Edit(content, Location(row, column), Location(end_row, end_column))


PATH = "/p/a.py"


def fixable(code: str, *edits: Edit, path: str = PATH) -> Diagnostic:
    first = edits[0]
    return Diagnostic(code, "message", path, first.location, first.end_location,
                      fix=Fix(Applicability.SAFE, "fix", edits))


def test_apply_edits_applies_from_the_end_whatever_the_order() -> None:
    text = "send(order)\nsend(user)\n"
    edits = [edit(".pk", 1, 11, 1, 11), edit(".pk", 2, 10, 2, 10), edit("raise ", 1, 1, 1, 1)]
    assert apply_edits(text, edits, "\n") == "raise send(order.pk)\nsend(user.pk)\n"


def test_apply_edits_writes_new_lines_in_the_file_s_newline() -> None:
    text = "A = 1\r\nB = 2\r\n"
    edits = [edit("\nC = 3\n", 10**9, 10**9, 10**9, 10**9), edit("", 1, 1, 2, 1)]
    assert apply_edits(text, edits, "\r\n") == "B = 2\r\n\r\nC = 3\r\n"


def test_choose_defers_an_overlapping_fix() -> None:
    text = "send(order)\n"
    first = fixable("CEL101", edit("order.pk", 1, 6, 1, 11))
    overlapping = fixable("CEL999", edit("x", 1, 8, 1, 12))
    touching = fixable("CEL204", edit("raise ", 1, 1, 1, 1))
    after = fixable("CEL998", edit("  # done", 1, 12, 1, 12))
    assert choose([overlapping, after, touching, first], {PATH: text}) == [touching, first, after]


def test_choose_defers_a_second_insertion_at_the_same_place() -> None:
    first = fixable("CEL103", edit("import functools\n", 2, 1, 2, 1))
    second = fixable("CEL999", edit("import functools\n", 2, 1, 2, 1))
    assert choose([second, first], {PATH: "X = 1\n"}) == [first]


def test_choose_takes_settings_added_at_one_point_together() -> None:
    first = fixable("CEL301", edit("\nA = 1", 1, 6, 1, 6))
    second = fixable("CEL302", edit("\nB = 1", 1, 6, 1, 6))
    import_there = fixable("CEL999", edit("import os\n", 1, 6, 1, 6))
    assert choose([import_there, second, first], {PATH: "X = 1\n"}) == [first, second]


def test_choose_takes_a_fix_that_spans_files_whole_or_not_at_all() -> None:
    other = "/p/b.py"
    spanning = fixable("CEL101", edit(".pk", 1, 6, 1, 6), Edit("_id", Location(1, 5),
                                                               Location(1, 5), other))
    clashing = fixable("CEL998", edit("x", 2, 1, 2, 2), Edit("y", Location(1, 3), Location(1, 6),
                                                            other))
    elsewhere = fixable("CEL997", Edit("z", Location(1, 1), Location(1, 1), "/p/gone.py"))
    texts = {PATH: "send(a)\nb\n", other: "def f(a): ...\n"}
    assert choose([clashing, spanning, elsewhere], texts) == [spanning]
    assert spanning.fix is not None and spanning.fix.files(spanning) == [PATH, other]


def test_a_fix_that_spans_files_is_applied_once_for_each_diagnostic_that_carries_it() -> None:
    other = "/p/b.py"
    shared = Fix(Applicability.UNSAFE, "whole", (
        Edit(".pk", Location(1, 7), Location(1, 7), PATH),
        Edit("_id", Location(1, 8), Location(1, 8), other)))
    first = Diagnostic("CEL101", "m", PATH, Location(1, 6), Location(1, 7), fix=shared)
    second = Diagnostic("CEL101", "m", other, Location(2, 1), Location(2, 2), fix=shared)
    sources = {PATH: SourceFile(PATH, PATH, "send(a)\n"),
               other: SourceFile(other, other, "def f(a): ...\nf(b)\n")}
    texts, chosen = fixes.fix_pass(sources, [second, first])
    assert chosen == [first, second]
    assert texts == {PATH: "send(a.pk)\n", other: "def f(a_id): ...\nf(b)\n"}


def counting_runs(monkeypatch: pytest.MonkeyPatch,
                  change: Callable[[RunResult], RunResult] = lambda result: result) -> list[int]:
    """Count the lint passes of `fix`; `change` may alter each pass's result."""
    runs: list[int] = []
    real_run = fixes.run

    def run(*args: object, **kwargs: object) -> RunResult:
        runs.append(1)
        return change(real_run(*args, **kwargs))  # type: ignore[arg-type]

    monkeypatch.setattr(fixes, "run", run)
    return runs


def test_settings_added_at_one_point_apply_in_one_pass(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    write_project(tmp_path, {**APP, "proj/settings.py": BROKER_ONLY})
    runs = counting_runs(monkeypatch)
    outcome = fix_project(tmp_path, True, CHECKLIST)
    assert outcome.count == 3
    assert len(runs) == 2  # the three settings added together, then a clean pass
    assert read(tmp_path / "proj/settings.py") == BROKER_ONLY + "CELERY_TASK_ACKS_LATE = True\n" \
        "CELERY_WORKER_PREFETCH_MULTIPLIER = 1\n" \
        "CELERY_TASK_SOFT_TIME_LIMIT = 300\nCELERY_TASK_TIME_LIMIT = 360\n"


def test_fix_loop_stops_after_max_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_project(tmp_path, {"manage.py": "", "shop/tasks.py": "X = 1\n"})
    path = str(tmp_path / "shop/tasks.py")

    def always_one_more(result: RunResult) -> RunResult:
        result.diagnostics.append(fixable("CEL999", edit("# again\n", 1, 1, 1, 1), path=path))
        return result

    runs = counting_runs(monkeypatch, always_one_more)
    outcome = fix_project(tmp_path)
    assert len(runs) == MAX_PASSES
    assert read(tmp_path / "shop/tasks.py") == "# again\n" * MAX_PASSES + "X = 1\n"
    assert outcome.count == MAX_PASSES


def breaking_cel204(result: RunResult) -> RunResult:
    """CEL204's fix computed from the wrong end of the call: `self.retry(...)raise `."""
    result.diagnostics[:] = [
        d if d.code != "CEL204" else Diagnostic(
            d.code, d.message, d.path, d.location, d.end_location, noqa_row=d.noqa_row,
            fix=Fix(Applicability.SAFE, "Raise it",
                    (Edit("raise ", d.end_location, d.end_location),)))
        for d in result.diagnostics]
    return result


def test_fix_that_breaks_the_file_is_not_applied(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    tasks = RETRYING_TASKS + "        # noqa: CEL101\n"
    services = SERVICES_FIXED.replace("  # after payment", "  # noqa: CEL101")
    write_project(tmp_path, shop(tasks=tasks, services=services))
    counting_runs(monkeypatch, breaking_cel204)
    outcome = fix_project(tmp_path)
    assert outcome.unparsable == [str(tmp_path / "shop/tasks.py")]
    assert read(tmp_path / "shop/tasks.py") == dedent(tasks)  # its good CEL002 fix goes too
    assert applied(tmp_path, outcome) == {"shop/services.py": {"CEL002": 1}}
    assert read(tmp_path / "shop/services.py") == dedent(SERVICES_FIXED).replace(
        "  # after payment", "")
    assert [code for code, _, _ in remaining(tmp_path, outcome)] == ["CEL204", "CEL002"]


def test_write_atomically_replaces_the_file_and_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "tasks.py"
    path.write_bytes(b"old\n")
    path.chmod(0o640)
    write_atomically(path, b"new\n")
    assert path.read_bytes() == b"new\n"
    assert path.stat().st_mode & 0o7777 == 0o640
    assert os.listdir(tmp_path) == ["tasks.py"]


def test_write_atomically_keeps_an_executable_bit(tmp_path: Path) -> None:
    path = tmp_path / "manage.py"
    path.write_bytes(b"#!/usr/bin/env python\n")
    path.chmod(0o755)
    write_atomically(path, b"#!/usr/bin/env python3\n")
    assert path.stat().st_mode & 0o7777 == 0o755


def test_write_atomically_leaves_the_file_and_no_temporary_on_failure(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "tasks.py"
    path.write_bytes(b"old\n")

    def fail(source: object, target: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        write_atomically(path, b"new\n")
    assert path.read_bytes() == b"old\n"
    assert os.listdir(tmp_path) == ["tasks.py"]


def test_write_reports_a_file_it_cannot_write(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    write_project(tmp_path, {"manage.py": "", "shop/tasks.py": RETRYING_TASKS})
    outcome = fix([tmp_path], Config(root=tmp_path), False)

    def fail(path: Path, data: bytes) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(fixes, "write_atomically", fail)
    [problem] = write(outcome)
    assert "cannot write the fixes" in problem and "Permission denied" in problem
    assert read(tmp_path / "shop/tasks.py") == dedent(RETRYING_TASKS)


def test_unified_diff_of_nothing_is_empty(tmp_path: Path) -> None:
    write_project(tmp_path, {"manage.py": "", "shop/tasks.py": RETRYING_TASKS_FIXED})
    assert unified_diff(fix([tmp_path], Config(root=tmp_path), True)) == ""


# -- the command line ---------------------------------------------------------------------------

def invoke(args: list[str], stdin: str | None = None) -> Result:
    """Run the CLI in-process; no run of it may print a traceback."""
    result = CliRunner().invoke(main, args, input=stdin)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def retrying(root: Path, tasks: str = RETRYING_TASKS) -> Path:
    """A project whose one diagnostic is CEL204 at shop/tasks.py:11 (safe fix)."""
    write_project(root, {"manage.py": "", "shop/tasks.py": tasks})
    return root / "shop/tasks.py"


def test_cli_fix_exits_0_when_everything_is_fixed(in_tmp: Path) -> None:
    path = retrying(in_tmp)
    result = invoke(["check", "--fix"])
    assert result.exit_code == 0
    assert result.stdout == "All checks passed!\n"
    assert result.stderr == "Fixed 1 error.\n"
    assert read(path) == dedent(RETRYING_TASKS_FIXED)


def test_cli_fix_exits_1_when_diagnostics_remain(in_tmp: Path) -> None:
    write_project(in_tmp, shop())
    result = invoke(["check", "--fix", "--output-format", "concise"])
    assert result.exit_code == 1
    assert result.stdout.startswith("shop/services.py:8:24: CEL101 ")
    assert result.stdout.endswith("Found 1 error.\n")
    assert read(in_tmp / "shop/services.py") == dedent(SERVICES)


def test_cli_unsafe_fixes_applies_the_unsafe_ones(in_tmp: Path) -> None:
    write_project(in_tmp, shop())
    result = invoke(["check", "--fix", "--unsafe-fixes"])
    assert result.exit_code == 0, result.stdout
    assert read(in_tmp / "shop/services.py") == dedent(SERVICES_FIXED)


def test_cli_second_fix_applies_nothing(in_tmp: Path) -> None:
    path = retrying(in_tmp)
    invoke(["check", "--fix"])
    written = path.stat().st_mtime_ns
    result = invoke(["check", "--fix", "--show-fixes"])
    assert result.exit_code == 0
    assert result.stdout == "All checks passed!\n" and result.stderr == ""
    assert path.stat().st_mtime_ns == written


def test_cli_diff_prints_the_fix_and_writes_nothing(in_tmp: Path) -> None:
    path = retrying(in_tmp)
    result = invoke(["check", "--diff"])
    assert result.exit_code == 1
    assert result.stdout == dedent("""
        --- a/shop/tasks.py
        +++ b/shop/tasks.py
        @@ -8,6 +8,6 @@
                 response = requests.get(number, timeout=10)
             except requests.RequestException as exc:
                 # the carrier is down: try again in a minute
        -        self.retry(exc=exc, countdown=60)  # transient
        +        raise self.retry(exc=exc, countdown=60)  # transient
                 response = None
             return response.json()
    """)
    assert result.stderr == "Would apply 1 fix.\n"
    assert read(path) == dedent(RETRYING_TASKS)


def test_cli_diff_exits_0_when_there_is_nothing_to_fix(in_tmp: Path) -> None:
    retrying(in_tmp, RETRYING_TASKS_FIXED)
    result = invoke(["check", "--diff"])
    assert result.exit_code == 0
    assert result.stdout == ""


def test_cli_diff_shows_unsafe_fixes_only_when_asked(in_tmp: Path) -> None:
    write_project(in_tmp, shop())
    assert invoke(["check", "--diff"]).exit_code == 0
    result = invoke(["check", "--diff", "--unsafe-fixes"])
    assert result.exit_code == 1
    assert "-    send_invoice.delay(order)  # after payment\n" in result.stdout
    assert "+    send_invoice.delay(order.pk)  # after payment\n" in result.stdout
    assert read(in_tmp / "shop/services.py") == dedent(SERVICES)


def test_cli_show_fixes_counts_per_file_and_code(in_tmp: Path) -> None:
    tasks = RETRYING_TASKS.replace("            self.retry(exc", "            self.retry()\n"
                                   "            self.retry(exc") + "        # noqa: CEL101\n"
    write_project(in_tmp, shop(tasks=tasks, services=SERVICES_FIXED.replace(
        "  # after payment", "  # noqa: CEL101")))
    result = invoke(["check", "--fix", "--show-fixes"])
    assert result.exit_code == 0
    assert result.stdout == dedent("""
        Fixed 4 errors:
        - shop/services.py:
            1 x CEL002
        - shop/tasks.py:
            1 x CEL002
            2 x CEL204
        All checks passed!
    """)


def test_cli_fix_stdin_prints_the_fixed_source(in_tmp: Path) -> None:
    path = retrying(in_tmp)
    result = invoke(["check", "--fix", "--stdin-filename", "shop/tasks.py"],
                    stdin=dedent(RETRYING_TASKS))
    assert result.exit_code == 0
    assert result.stdout == dedent(RETRYING_TASKS_FIXED)
    assert result.stderr == ""
    assert read(path) == dedent(RETRYING_TASKS)


def test_cli_fix_stdin_reports_what_remains_on_stderr(in_tmp: Path) -> None:
    write_project(in_tmp, shop())
    source = dedent(SERVICES).replace("  # after payment", "  # noqa: CEL107")
    result = invoke(["check", "--fix", "--stdin-filename", "shop/services.py"], stdin=source)
    assert result.exit_code == 1
    assert result.stdout == source.replace("  # noqa: CEL107", "")
    assert result.stderr.startswith("shop/services.py:8:24: CEL101 ")
    assert result.stderr.count("\n") == 1


def test_cli_warns_about_a_fix_that_would_break_the_file(in_tmp: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    path = retrying(in_tmp)
    counting_runs(monkeypatch, breaking_cel204)
    result = invoke(["check", "--fix", "--output-format", "concise"])
    assert result.exit_code == 1
    assert "warning: shop/tasks.py: a fix would make it unparsable; left unchanged\n" \
        in result.stderr
    assert result.stdout.startswith("shop/tasks.py:11:9: CEL204 ")
    assert read(path) == dedent(RETRYING_TASKS)


# -- --add-noqa ---------------------------------------------------------------------------------

def test_add_noqa_adds_and_merges_directives(in_tmp: Path) -> None:
    services = """
        from shop.models import Order
        from shop.tasks import send_invoice


        def checkout(order_id):
            order = Order.objects.get(pk=order_id)
            send_invoice.delay(order)  # after payment
            send_invoice.delay(order, {"paid"})  # noqa: CEL107
            send_invoice.delay(order)  # noqa: E501
            send_invoice.delay(
                order,
            )
    """
    write_project(in_tmp, shop(services=services))
    result = invoke(["check", "--add-noqa"])
    assert result.exit_code == 0
    assert result.stdout == "Added 4 noqa directives to 1 file.\n"
    assert read(in_tmp / "shop/services.py") == dedent("""
        from shop.models import Order
        from shop.tasks import send_invoice


        def checkout(order_id):
            order = Order.objects.get(pk=order_id)
            send_invoice.delay(order)  # after payment  # noqa: CEL101
            send_invoice.delay(order, {"paid"})  # noqa: CEL101, CEL107
            send_invoice.delay(order)  # noqa: CEL101, E501
            send_invoice.delay(
                order,  # noqa: CEL101
            )
    """)
    again = invoke(["check", "--add-noqa"])
    assert again.stdout == "Added 0 noqa directives to 0 files.\n"
    assert invoke(["check"]).exit_code == 0


def test_add_noqa_in_a_compose_file_but_not_a_procfile(in_tmp: Path) -> None:
    compose = """
        services:
          worker:
            image: app
            command: celery -A proj worker -B  # one node
            restart: always
    """
    procfile = "worker: celery -A proj worker -B\n"
    write_project(in_tmp, {**CELERY_APP, "docker-compose.yml": compose, "Procfile": procfile})
    result = invoke(["check", "--add-noqa", "--select", "CEL401"])
    assert result.stdout == "Added 1 noqa directive to 1 file.\n"
    assert read(in_tmp / "docker-compose.yml") == dedent(compose).replace(
        "# one node", "# one node  # noqa: CEL401")
    assert read(in_tmp / "Procfile") == procfile  # a Procfile line takes no comment
    again = invoke(["check", "--add-noqa", "--select", "CEL401"])
    assert again.stdout == "Added 0 noqa directives to 0 files.\n"


def test_add_noqa_keeps_crlf_and_bom(in_tmp: Path) -> None:
    write_project(in_tmp, shop())
    path = in_tmp / "shop/services.py"
    path.write_bytes(b"\xef\xbb\xbf" + dedent(SERVICES).replace("\n", "\r\n").encode())
    invoke(["check", "--add-noqa"])
    assert path.read_bytes() == b"\xef\xbb\xbf" + dedent(SERVICES).replace(
        "# after payment", "# after payment  # noqa: CEL101").replace("\n", "\r\n").encode()


def test_add_noqa_refuses_stdin(in_tmp: Path) -> None:
    write_project(in_tmp, shop())
    result = invoke(["check", "--add-noqa", "--stdin-filename", "shop/services.py"],
                    stdin=dedent(SERVICES))
    assert result.exit_code == 2
    assert "--add-noqa" in result.stderr


def test_add_noqa_on_an_unused_directive_leaves_nothing_reported(in_tmp: Path) -> None:
    write_project(in_tmp, shop(services=SERVICES_FIXED.replace("# after payment",
                                                               "# noqa: CEL101")))
    invoke(["check", "--add-noqa"])
    result = invoke(["check", "--output-format", "concise"])
    assert result.exit_code == 0, result.stdout


@pytest.mark.xfail(reason="--add-noqa appends the comment to the diagnostic's row, which for a "
                          "folded (`>`) command is inside the scalar: the comment becomes part of "
                          "the command that compose runs", strict=True)
def test_add_noqa_keeps_a_folded_compose_command(in_tmp: Path) -> None:
    compose = """
        services:
          worker:
            image: app
            command: >
              celery -A proj worker
              -B
            restart: always
    """
    write_project(in_tmp, {**CELERY_APP, "docker-compose.yml": compose})
    invoke(["check", "--add-noqa", "--select", "CEL401"])
    assert "noqa: CEL401" in read(in_tmp / "docker-compose.yml")
    assert yaml.safe_load(read(in_tmp / "docker-compose.yml")) == yaml.safe_load(
        dedent(compose))


def test_global_time_limit_first_then_no_per_task_limits(tmp_path: Path) -> None:
    # CEL303 and CEL201 both offer limits; the global one comes first and makes the other moot
    tasks = "from celery import shared_task\n\n\n@shared_task\ndef ship(order_id):\n    return 1\n"
    write_project(tmp_path, {**APP, "proj/settings.py": BROKER_ONLY, "proj/tasks.py": tasks})
    outcome = fix_project(tmp_path, True, ("CEL201", "CEL303"))
    assert applied(tmp_path, outcome) == {"proj/settings.py": {"CEL303": 1}}
    assert read(tmp_path / "proj/tasks.py") == tasks
