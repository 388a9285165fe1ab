"""Proof by running: the safe fixes keep fixtures/shop's behaviour under Django and Celery.

The test copies fixtures/shop, applies `celery-lint check --fix` (safe fixes only) to one copy, and
runs both copies for real: Django on an in-memory SQLite database, Celery in eager mode
(task_always_eager, task_eager_propagates), with the payment gateway patched to fail. Each copy is
run in its own subprocess (this file run as a script), so neither Django's settings nor Celery's
app leak into the test process or into each other. What the shop did, the task results, the
retries, the emails sent and the database rows, comes back as JSON and must be identical.

CEL204's fix (`self.retry(...)` -> `raise self.retry(...)`) is safe because `Task.retry()` raises
`Retry` itself by default: both copies retry exactly the same way, which the JSON shows, and the
logging call after the retry runs in neither.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from celery_lint.cli import main

SHOP = Path(__file__).resolve().parent.parent / "fixtures" / "shop"
CEL204_LINE = "raise self.retry(exc=exc, countdown=30 * 2 ** self.request.retries)"


def run_shop(project: Path) -> dict[str, Any]:
    """Run the scenarios of `run_scenarios` on `project` in a fresh interpreter; return its JSON."""
    (project / "runtime_settings.py").write_text(SETTINGS, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(project), "DJANGO_SETTINGS_MODULE": "runtime_settings"}
    output = project.parent / "runtime.json"  # not stdout: the shop may print
    completed = subprocess.run([sys.executable, __file__, str(output)], env=env, cwd=project,
                               capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return json.loads(output.read_text(encoding="utf-8"))


def test_safe_fixes_keep_the_shop_running_the_same(tmp_path: Path) -> None:
    original, fixed = tmp_path / "original" / "shop", tmp_path / "fixed" / "shop"
    for copy in (original, fixed):
        shutil.copytree(SHOP, copy)
    result = CliRunner().invoke(main, ["check", str(fixed), "--fix"])
    assert result.exit_code == 1, result.output  # the shop keeps its diagnostics without a fix
    tasks = "orders/tasks.py"
    assert CEL204_LINE not in (original / tasks).read_text(encoding="utf-8")
    assert CEL204_LINE in (fixed / tasks).read_text(encoding="utf-8")
    assert "# noqa: CEL101" not in (fixed / "accounts/views.py").read_text(encoding="utf-8")

    before, after = run_shop(original), run_shop(fixed)

    assert after == before
    # and both copies retry: without `raise`, self.retry() raises Retry all the same
    propagated = before["charge_payment, gateway down, propagating"]
    assert propagated["result"] == {"raised": "Retry",
                                    "message": "Retry in 30s: PaymentError('gateway down')"}
    assert [call["retries"] for call in propagated["gateway_calls"]] == [0]
    rerun = before["charge_payment, gateway down once"]
    assert rerun["retries"] == [{"task": "orders.charge_payment",
                                 "reason": "Retry in 30s: PaymentError('gateway down')"}]
    assert [call["retries"] for call in rerun["gateway_calls"]] == [0, 1]
    assert rerun["result"] == {"state": "SUCCESS", "value": "ch_2"}
    assert [(row["status"], row["payment_reference"]) for row in before["orders"]] == [
        ("pending", ""), ("paid", "ch_2"), ("paid", "ch_0")]
    assert before["resend_welcome view"] == {"status": 302, "location": "/orders/"}
    assert before["mail"] == [{"subject": "Welcome to the shop", "to": ["ada@example.com"]}]


# -- CEL101's whole fix: a task that uses its argument as an object, called from two files -------
# The library's task reads `book.title` and `book.author.name` and saves the book. Both callers
# pass the Book itself (run with pickle: JSON could not carry it at all). The whole fix
# passes `book.pk` from both files, renames the parameter and loads the row in the task.
LIBRARY = {
    "manage.py": "",
    "proj/__init__.py": "",
    "proj/settings.py": """\
SECRET_KEY = "not-secret"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "library"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
""",
    "proj/celery.py": """\
from celery import Celery

app = Celery("proj")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
""",
    "library/__init__.py": "",
    "library/models.py": """\
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=100)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    announced = models.BooleanField(default=False)
""",
    "library/tasks.py": """\
import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task
def announce_book(book, channel):
    \"\"\"Tell the readers about a book.\"\"\"
    logger.info("announcing on %s", channel)
    line = f"{channel}: {book.title} by {book.author.name}"
    book.announced = True
    book.save(update_fields=["announced"])
    return line
""",
    "library/views.py": """\
from library.models import Book
from library.tasks import announce_book


def publish(book_id):
    book = Book.objects.get(pk=book_id)
    return announce_book.delay(book, "news").get()
""",
    "library/digest.py": """\
from library import tasks
from library.models import Book


def announce_all(channel):
    return [tasks.announce_book.apply_async(args=[book, channel], countdown=0).get()
            for book in Book.objects.order_by("pk")]
""",
}


def run_library(project: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(project), "DJANGO_SETTINGS_MODULE": "proj.settings"}
    output = project.parent / "library.json"
    completed = subprocess.run([sys.executable, __file__, str(output), "library"], env=env,
                               cwd=project, capture_output=True, text=True, timeout=60,
                               check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return json.loads(output.read_text(encoding="utf-8"))


def test_the_whole_cel101_fix_keeps_the_library_running_the_same(tmp_path: Path) -> None:
    original, fixed = tmp_path / "original" / "library", tmp_path / "fixed" / "library"
    for copy in (original, fixed):
        for name, text in LIBRARY.items():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            (copy / name).write_text(text, encoding="utf-8")
    before_fix = CliRunner().invoke(main, ["check", str(fixed), "--select", "CEL101",
                                           "--output-format", "concise"])
    assert before_fix.output.count(": CEL101 ") == 2, before_fix.output

    result = CliRunner().invoke(main, ["check", str(fixed), "--select", "CEL101", "--fix",
                                       "--unsafe-fixes"])
    assert result.exit_code == 0, result.output  # no CEL101 remains
    tasks = (fixed / "library/tasks.py").read_text(encoding="utf-8")
    assert "def announce_book(book_id, channel):" in tasks
    assert "    book = Book.objects.get(pk=book_id)\n" in tasks
    assert "from library.models import Book\n" in tasks
    assert "announce_book.delay(book.pk, " in (fixed / "library/views.py").read_text("utf-8")
    assert "args=[book.pk, channel]" in (fixed / "library/digest.py").read_text("utf-8")
    texts = {name: (fixed / name).read_text(encoding="utf-8") for name in LIBRARY}
    again = CliRunner().invoke(main, ["check", str(fixed), "--select", "CEL101", "--fix",
                                      "--unsafe-fixes"])
    assert {name: (fixed / name).read_text(encoding="utf-8") for name in LIBRARY} == texts, \
        again.output  # a second --fix changes nothing

    before, after = run_library(original), run_library(fixed)

    assert after == before
    assert before["published"] == "news: Dune by Frank Herbert"
    assert before["digest"] == ["digest: Dune by Frank Herbert",
                                "digest: Emma by Jane Austen"]
    assert [row["announced"] for row in before["books"]] == [True, True]


def run_library_scenarios() -> dict[str, Any]:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", run_syncdb=True, verbosity=0)

    from library.digest import announce_all
    from library.models import Author, Book
    from library.views import publish
    from proj.celery import app

    # pickle, so that the original can send the Book itself (JSON could not carry it at all)
    app.conf.update(task_always_eager=True, task_eager_propagates=True,
                    broker_url="memory://", result_backend="cache+memory://",
                    task_serializer="pickle", result_serializer="pickle",
                    accept_content=["pickle", "json"])
    dune = Book.objects.create(title="Dune", author=Author.objects.create(name="Frank Herbert"))
    Book.objects.create(title="Emma", author=Author.objects.create(name="Jane Austen"))
    published = publish(dune.pk)
    return {"published": published, "digest": announce_all("digest"),
            "books": list(Book.objects.order_by("pk").values("title", "announced"))}


# -- what runs in the subprocess ----------------------------------------------------------------

SETTINGS = """\
from config.settings.test import *  # noqa: F403  the shop's own test settings

DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': ':memory:'}}
"""


def run_scenarios() -> dict[str, Any]:
    """Set up the shop in this process, run the scenarios, return what they did."""
    import django
    from django.core import mail
    from django.core.management import call_command

    django.setup()
    call_command("migrate", run_syncdb=True, verbosity=0)
    mail.outbox = []  # the locmem backend's outbox, as Django's test runner sets it up

    from celery.signals import task_retry
    from config.celery import app
    from orders.models import Order

    app.conf.update(task_always_eager=True, task_eager_propagates=True,
                    broker_url="memory://", result_backend="cache+memory://")

    retries: list[dict[str, str]] = []
    task_retry.connect(lambda sender, reason, **_: retries.append(
        {"task": sender.name, "reason": str(reason)}), weak=False)

    outcome: dict[str, Any] = {}
    # .delay() runs eagerly, and task_eager_propagates hands the Retry that self.retry() raised to
    # the caller; apply(throw=False) lets Celery handle it instead: it runs the task again
    outcome["charge_payment, gateway down, propagating"] = run_charge_payment(retries, fail=1)
    outcome["charge_payment, gateway down once"] = run_charge_payment(retries, fail=1, rerun=True)
    outcome["charge_payment, already paid"] = run_charge_payment(retries, fail=0, paid=True)
    outcome["resend_welcome view"] = run_resend_welcome()
    outcome["mail"] = [{"subject": m.subject, "to": m.to} for m in mail.outbox]
    outcome["orders"] = list(Order.objects.order_by("pk").values(
        "pk", "status", "payment_reference", "total"))
    return outcome


def run_charge_payment(retries: list[dict[str, str]], fail: int, paid: bool = False,
                       rerun: bool = False) -> dict[str, Any]:
    """Run orders.tasks.charge_payment eagerly for a new order; the gateway fails `fail` times."""
    from decimal import Decimal
    from unittest import mock

    from accounts.models import User
    from celery.exceptions import Retry
    from orders import tasks
    from orders.models import Order
    from orders.payments import PaymentError

    retries.clear()
    number = Order.objects.count() + 1
    user = User.objects.create(username=f"customer{number}", email=f"customer{number}@example.com")
    # bulk_create sends no post_save: the shop's receiver passes the Order itself to .delay()
    # (CEL101, which has no fix), and Celery cannot serialize it, eager or not
    [order] = Order.objects.bulk_create(
        [Order(user=user, shipping_address="1 Main St", total=Decimal("42.50"))])
    if paid:
        Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID, payment_reference="ch_0")

    calls: list[dict[str, Any]] = []

    def gateway(email: str, amount: Decimal, reference: str) -> str:
        calls.append({"email": email, "amount": str(amount), "reference": reference,
                      "retries": tasks.charge_payment.request.retries})
        if len(calls) <= fail:
            raise PaymentError("gateway down")
        return f"ch_{order.pk}"

    with mock.patch.object(tasks, "charge", side_effect=gateway):
        try:
            if rerun:
                result = tasks.charge_payment.apply((order.pk,), throw=False)
            else:
                result = tasks.charge_payment.delay(order.pk)
        except Retry as exc:  # task_eager_propagates: the task's Retry reaches the caller
            returned: dict[str, Any] = {"raised": type(exc).__name__, "message": str(exc)}
        else:
            returned = {"state": result.state, "value": result.get()}
    return {"result": returned, "retries": list(retries), "gateway_calls": calls}


def run_resend_welcome() -> dict[str, Any]:
    """POST to accounts.views.resend_welcome (where CEL002 drops a noqa) as a signed-in user."""
    from accounts import views
    from accounts.models import User
    from django.test import RequestFactory

    request = RequestFactory().post("/accounts/welcome/resend/")
    request.user = User.objects.create(username="newcomer", first_name="Ada",
                                       email="ada@example.com")
    response = views.resend_welcome(request)
    return {"status": response.status_code, "location": response["Location"]}


if __name__ == "__main__":
    scenarios = run_library_scenarios if sys.argv[2:] == ["library"] else run_scenarios
    Path(sys.argv[1]).write_text(json.dumps(scenarios(), indent=2, sort_keys=True, default=str),
                                 encoding="utf-8")
