"""CEL103 enqueue-in-transaction, one tiny project per shape, each flagged shape beside its near miss.

A source string is dedented and its leading newline dropped, so its first line of code is row 1.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from helpers import CELERY_APP, MODELS, codes_at, run_project, write_project

from celery_lint.config import Config
from celery_lint.diagnostics import Applicability
from celery_lint.fixes import fix, write

TASKS = """
    from celery import shared_task


    @shared_task
    def process_order(order_id, note=None):
        pass
"""

SHOP = {**CELERY_APP, "shop/models.py": MODELS, "shop/tasks.py": TASKS}

SETTINGS = """
    CELERY_BROKER_URL = "redis://localhost:6379/0"
    CELERY_TASK_TIME_LIMIT = 300
    CELERY_TASK_SOFT_TIME_LIMIT = 240
"""

ATOMIC_SETTINGS = SETTINGS + """
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.postgresql", "NAME": "shop",
                    "ATOMIC_REQUESTS": True},
    }
"""


def rows(tmp_path: Path, source: str, path: str = "shop/services.py",
         files: dict[str, str] | None = None) -> list[int]:
    """Rows of CEL103 in `path` of the shop project, `source` written at `path`."""
    project = {**SHOP, **(files or {}), path: source}
    return [row for _, row in codes_at(tmp_path, project, path, select=("CEL103",))]


def view_rows(tmp_path: Path, source: str, settings: str = ATOMIC_SETTINGS) -> list[int]:
    return rows(tmp_path, source, "shop/views.py", {"proj/settings.py": settings})


# -- `with transaction.atomic():` -------------------------------------------------------------

@pytest.mark.parametrize("call", [
    "process_order.delay(order.pk)",
    "process_order.apply_async(args=[order.pk])",
    "process_order.apply_async((order.pk,), countdown=10)",
])
def test_enqueue_inside_atomic_block(tmp_path, call):
    source = f"""
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order():
            with transaction.atomic():
                order = Order.objects.create(status="new")
                {call}
    """
    assert rows(tmp_path, source) == [10]


def test_delay_on_commit_inside_atomic_block_not_flagged(tmp_path):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order():
            with transaction.atomic():
                order = Order.objects.create(status="new")
                process_order.delay_on_commit(order.pk)
                process_order.apply_async_on_commit(args=[order.pk])
    """
    assert rows(tmp_path, source) == []


def test_enqueue_after_atomic_block_not_flagged(tmp_path):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order():
            with transaction.atomic():
                order = Order.objects.create(status="new")
            process_order.delay(order.pk)
    """
    assert rows(tmp_path, source) == []


def test_on_commit_lambda_inside_atomic_block_not_flagged(tmp_path):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order():
            with transaction.atomic():
                order = Order.objects.create(status="new")
                transaction.on_commit(lambda: process_order.delay(order.pk))
    """
    assert rows(tmp_path, source) == []


def test_on_commit_partial_inside_atomic_block_not_flagged(tmp_path):
    source = """
        from functools import partial

        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order():
            with transaction.atomic():
                order = Order.objects.create(status="new")
                transaction.on_commit(partial(process_order.delay, order.pk))
    """
    assert rows(tmp_path, source) == []


def test_on_commit_given_the_result_of_delay_is_flagged(tmp_path):
    # `.delay()` runs at once here: on_commit receives its AsyncResult, not a function
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order():
            with transaction.atomic():
                order = Order.objects.create(status="new")
                transaction.on_commit(process_order.delay(order.pk))
    """
    assert rows(tmp_path, source) == [10]


def test_atomic_imported_by_name_with_database(tmp_path):
    source = """
        from django.db.transaction import atomic

        from shop.models import Order
        from shop.tasks import process_order


        def place_order():
            with atomic(using="orders"):
                order = Order.objects.create(status="new")
                process_order.delay(order.pk)
    """
    assert rows(tmp_path, source) == [10]


def test_atomic_among_several_context_managers(tmp_path):
    source = """
        import threading

        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order

        LOCK = threading.Lock()


        def place_order(pk):
            with LOCK, transaction.atomic():
                Order.objects.filter(pk=pk).update(status="placed")
                process_order.delay(pk)
    """
    assert rows(tmp_path, source) == [14]


def test_other_context_manager_not_flagged(tmp_path):
    source = """
        import threading

        from shop.models import Order
        from shop.tasks import process_order

        LOCK = threading.Lock()


        def place_order(pk):
            with LOCK:
                Order.objects.filter(pk=pk).update(status="placed")
                process_order.delay(pk)
    """
    assert rows(tmp_path, source) == []


def test_atomic_of_another_library_not_flagged(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order
        from storage import atomic


        def place_order(pk):
            with atomic():
                Order.objects.filter(pk=pk).update(status="placed")
                process_order.delay(pk)
    """
    assert rows(tmp_path, source) == []


def test_nested_block_inside_atomic_block(tmp_path):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_orders(pks):
            with transaction.atomic():
                Order.objects.filter(pk__in=pks).update(status="placed")
                for pk in pks:
                    if pk:
                        process_order.delay(pk)
    """
    assert rows(tmp_path, source) == [12]


def test_nested_def_inside_atomic_block_not_flagged(tmp_path):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order(pk):
            with transaction.atomic():
                Order.objects.filter(pk=pk).update(status="placed")
                def notify():
                    process_order.delay(pk)
                transaction.on_commit(notify)
    """
    assert rows(tmp_path, source) == []


def test_module_level_atomic_block(tmp_path):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order

        with transaction.atomic():
            Order.objects.create(status="replayed")
            process_order.delay(1)
    """
    assert rows(tmp_path, source, "shop/management/commands/replay.py") == [8]


def test_one_line_atomic_block(tmp_path):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order(pk):
            with transaction.atomic(): Order.objects.filter(pk=pk).delete(); process_order.delay(pk)
    """
    assert rows(tmp_path, source) == [8]


# -- what the transaction wrote before the enqueue ---------------------------------------------

WRITES = """
    from django.core.cache import cache
    from django.db import connection, transaction

    from shop.forms import OrderForm
    from shop.models import Order
    from shop.serializers import OrderSerializer
    from shop.tasks import process_order


    def place_order(pk, data, thumbnail, buffer):
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=pk)
            form = OrderForm(data, instance=order)
            serializer = OrderSerializer(order, data=data)
            {statement}
            process_order.delay(pk)
"""


@pytest.mark.parametrize("statement", [
    "order.save()",
    'order.save(update_fields=["status"])',
    'Order.objects.create(status="new")',
    'Order.objects.filter(pk=pk).update(status="paid")',
    "Order.objects.filter(pk=pk).delete()",
    "order.delete()",
    'Order.objects.bulk_create([Order(status="new")])',
    'Order.objects.bulk_update([order], ["status"])',
    "Order.objects.get_or_create(pk=pk)",
    'Order.objects.update_or_create(pk=pk, defaults={"status": "paid"})',
    'order.invoice_set.create(number="7")',
    "form.save()",
    "serializer.save(placed_by=data)",
    "connection.cursor().execute(\"UPDATE shop_order SET status = 'paid' WHERE id = %s\", [pk])",
    'connection.cursor().execute(f"DELETE FROM shop_order WHERE id = {pk}")',
])
def test_enqueue_after_a_write_in_the_transaction(tmp_path, statement):
    assert rows(tmp_path, WRITES.replace("{statement}", statement)) == [16]


@pytest.mark.parametrize("statement", [
    "pass",  # a transaction that only reads, and locks
    "form.save(commit=False)",  # builds the instance without writing it
    'data.update({"order": pk})',
    'cache.delete(f"order-{pk}")',
    'thumbnail.save(buffer, "PNG")',
    'connection.cursor().execute("SELECT status FROM shop_order WHERE id = %s", [pk])',
    "mark_placed(order)",  # the project's own function: its body is not read
])
def test_enqueue_after_no_database_write_not_flagged(tmp_path, statement):
    source = WRITES.replace("{statement}", statement) + """
        def mark_placed(order):
            order.status = "placed"
    """
    assert rows(tmp_path, source) == []


def test_enqueue_after_a_payment_api_create_not_flagged(tmp_path):
    source = """
        import stripe
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order(pk):
            with transaction.atomic():
                order = Order.objects.select_for_update().get(pk=pk)
                stripe.PaymentIntent.create(amount=100, currency="eur")
                process_order.delay(order.pk)
    """
    assert rows(tmp_path, source) == []


def test_enqueue_before_any_write_not_flagged(tmp_path):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order(pk):
            with transaction.atomic():
                process_order.delay(pk)
                Order.objects.filter(pk=pk).update(status="queued")
    """
    assert rows(tmp_path, source) == []


def test_enqueue_before_any_write_in_atomic_function_not_flagged(tmp_path):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        @transaction.atomic
        def place_order(pk):
            order = Order.objects.select_for_update().get(pk=pk)
            process_order.delay(order.pk)
            order.status = "queued"
            order.save()
    """
    assert rows(tmp_path, source) == []


def test_write_later_in_the_loop_not_counted(tmp_path):
    # the save of one pass runs before the next pass's enqueue, but writes the previous order
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def queue_orders():
            with transaction.atomic():
                for order in Order.objects.select_for_update().filter(status="new"):
                    process_order.delay(order.pk)
                    order.status = "queued"
                    order.save(update_fields=["status"])
    """
    assert rows(tmp_path, source) == []


def test_write_in_an_earlier_loop(tmp_path):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def queue_orders(pks):
            with transaction.atomic():
                for pk in pks:
                    Order.objects.filter(pk=pk).update(status="queued")
                process_order.delay(pks[0])
    """
    assert rows(tmp_path, source) == [11]


@pytest.mark.parametrize("branches", [
    """
                if created:
                    order.save()
                else:
                    process_order.delay(order.pk)
    """,
    """
                if created:
                    order.save()
                elif order.status == "new":
                    process_order.delay(order.pk)
    """,
    """
                try:
                    order.full_clean()
                except ValueError:
                    order.delete()
                except TypeError:
                    process_order.delay(order.pk)
    """,
    """
                try:
                    order.full_clean()
                except ValueError:
                    order.delete()
                else:
                    process_order.delay(order.pk)
    """,
    """
                match order.status:
                    case "new":
                        order.save()
                    case _:
                        process_order.delay(order.pk)
    """,
    """
                order.save() if created else process_order.delay(order.pk)
    """,
])
def test_write_in_another_branch_not_counted(tmp_path, branches):
    source = dedent("""
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order(pk, created):
            with transaction.atomic():
                order = Order.objects.select_for_update().get(pk=pk)
    """) + textwrap.indent(dedent(branches), " " * 8)
    assert rows(tmp_path, source) == []


def test_write_in_a_branch_that_returns_not_counted(tmp_path):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order(pk):
            with transaction.atomic():
                order = Order.objects.select_for_update().get(pk=pk)
                if order.status == "paid":
                    order.save()
                    return
                if order.status == "void": order.delete(); return
                process_order.delay(pk)
    """
    assert rows(tmp_path, source) == []


def test_write_in_a_branch_that_goes_on(tmp_path):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order(pk):
            with transaction.atomic():
                order = Order.objects.select_for_update().get(pk=pk)
                if order.status == "paid":
                    order.save()
                else:
                    return
                process_order.delay(pk)
    """
    assert rows(tmp_path, source) == [14]


def test_write_in_an_enclosing_branch_before_the_enqueue(tmp_path):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order(pk, created):
            with transaction.atomic():
                order = Order.objects.select_for_update().get(pk=pk)
                if created:
                    order.save()
                    if order.status == "new":
                        process_order.delay(order.pk)
                try:
                    order.delete()
                except ValueError:
                    process_order.delay(order.pk)
    """
    assert rows(tmp_path, source) == [13, 17]


def test_write_in_the_arguments_of_the_enqueue(tmp_path):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order():
            with transaction.atomic():
                process_order.delay(Order.objects.create(status="new").pk)
    """
    assert rows(tmp_path, source) == [9]


def test_write_in_a_lambda_or_nested_function_not_counted(tmp_path):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order(pk):
            with transaction.atomic():
                transaction.on_commit(lambda: Order.objects.filter(pk=pk).update(status="sent"))
                def later():
                    Order.objects.filter(pk=pk).delete()
                transaction.on_commit(later)
                process_order.delay(pk)
    """
    assert rows(tmp_path, source) == []


def test_write_before_the_atomic_block_not_counted(tmp_path):
    # outside a transaction, the write is committed by the time the block opens
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order(pk):
            Order.objects.filter(pk=pk).update(status="placed")
            with transaction.atomic():
                process_order.delay(pk)
    """
    assert rows(tmp_path, source) == []


def test_write_of_the_outer_transaction_counts_in_an_inner_block(tmp_path):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        @transaction.atomic
        def place_order(pk):
            Order.objects.filter(pk=pk).update(status="placed")
            with transaction.atomic():
                process_order.delay(pk)


        def cancel_order(pk):
            with transaction.atomic():
                Order.objects.filter(pk=pk).update(status="cancelled")
                with transaction.atomic(using="default"):
                    process_order.delay(pk)
    """
    result = run_project(tmp_path, {**SHOP, "shop/services.py": source}, select=("CEL103",))
    assert [(d.location.row, d.message.split(":")[0]) for d in result.diagnostics] == [
        (11, ("`process_order.delay()` inside the `transaction.atomic()` block opened on line 10, "
              "after `Order.objects.filter(pk=pk).update(...)` on line 9")),
        (18, ("`process_order.delay()` inside the `transaction.atomic(using=\"default\")` block "
              "opened on line 17, after `Order.objects.filter(pk=pk).update(...)` on line 16")),
    ]


def test_message_names_a_multi_line_block_by_its_line(tmp_path):
    source = """
        import threading

        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order

        LOCK = threading.Lock()


        def place_order(pk):
            with (
                LOCK,
                transaction.atomic(
                    using="default",
                    durable=True,
                ),
            ):
                order = Order.objects.get(pk=pk)
                order.save()
                process_order.delay(pk)
    """
    result = run_project(tmp_path, {**SHOP, "shop/services.py": source}, select=("CEL103",))
    [diagnostic] = result.diagnostics
    assert diagnostic.message.startswith(
        "`process_order.delay()` inside the `transaction.atomic(...)` block opened on line 12, "
        "after `order.save()` on line 20: ")


def test_message_of_an_atomic_function_names_the_write(tmp_path):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        @transaction.atomic
        def place_order(pk):
            order = Order.objects.get(pk=pk)
            order.save(update_fields=["status"])
            process_order.delay(pk)
    """
    result = run_project(tmp_path, {**SHOP, "shop/services.py": source}, select=("CEL103",))
    [diagnostic] = result.diagnostics
    assert diagnostic.message.startswith(
        "`process_order.delay()` in `@transaction.atomic` function `place_order`, after "
        "`order.save(update_fields=[\"status\"])` on line 10: ")


# -- canvas and send_task ---------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    "process_order.s(pk).delay()",
    "process_order.si(pk).apply_async(countdown=5)",
    "chain(process_order.s(pk), process_order.s()).apply_async()",
    "group(process_order.s(pk), process_order.s(pk + 1)).delay()",
    "(process_order.s(pk) | process_order.s()).delay()",
])
def test_canvas_sent_inside_atomic_block(tmp_path, call):
    source = f"""
        from celery import chain, group
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order(pk):
            with transaction.atomic():
                Order.objects.filter(pk=pk).update(status="placed")
                {call}
    """
    assert rows(tmp_path, source) == [11]


def test_canvas_built_but_not_sent_inside_atomic_block_not_flagged(tmp_path):
    source = """
        from celery import chain
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order(pk):
            with transaction.atomic():
                Order.objects.filter(pk=pk).update(status="placed")
                workflow = chain(process_order.s(pk), process_order.s())
            workflow.delay()
    """
    assert rows(tmp_path, source) == []


def test_send_task_inside_atomic_block(tmp_path):
    source = """
        from django.db import transaction

        from proj.celery import app
        from shop.models import Order


        def place_order(pk):
            with transaction.atomic():
                Order.objects.filter(pk=pk).update(status="placed")
                app.send_task("shop.tasks.process_order", args=[pk])
    """
    assert rows(tmp_path, source) == [10]


def test_task_called_directly_inside_atomic_block_not_flagged(tmp_path):
    # running the task in-process is CEL102's concern in views, not an enqueue
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order(pk):
            with transaction.atomic():
                Order.objects.filter(pk=pk).update(status="placed")
                process_order(pk)
                process_order.apply(args=[pk])
    """
    assert rows(tmp_path, source) == []


def test_task_whose_base_sends_on_commit_not_flagged(tmp_path):
    tasks = """
        from celery import Task, shared_task
        from django.db import transaction


        class TransactionAwareTask(Task):
            def apply_async(self, *args, **kwargs):
                transaction.on_commit(lambda: super().apply_async(*args, **kwargs))


        @shared_task(base=TransactionAwareTask)
        def process_order(order_id):
            pass
    """
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order(pk):
            with transaction.atomic():
                Order.objects.filter(pk=pk).update(status="placed")
                process_order.delay(pk)
                process_order.s(pk).delay()
    """
    assert rows(tmp_path, source, files={"shop/tasks.py": tasks}) == []


def test_task_whose_base_does_not_override_sending(tmp_path):
    tasks = """
        from celery import Task, shared_task


        class LoggedTask(Task):
            def on_failure(self, exc, task_id, args, kwargs, einfo):
                pass


        @shared_task(base=LoggedTask)
        def process_order(order_id):
            pass
    """
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order(pk):
            with transaction.atomic():
                Order.objects.filter(pk=pk).update(status="placed")
                process_order.delay(pk)
    """
    assert rows(tmp_path, source, files={"shop/tasks.py": tasks}) == [10]


# -- `@transaction.atomic` --------------------------------------------------------------------

@pytest.mark.parametrize("decorator", [
    "transaction.atomic",
    "transaction.atomic()",
    'transaction.atomic(using="orders")',
])
def test_enqueue_in_atomic_function(tmp_path, decorator):
    source = f"""
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        @{decorator}
        def place_order():
            order = Order.objects.create(status="new")
            process_order.delay(order.pk)
    """
    assert rows(tmp_path, source) == [10]


def test_enqueue_in_function_without_atomic_not_flagged(tmp_path):
    source = """
        from django.contrib.auth.decorators import login_required

        from shop.models import Order
        from shop.tasks import process_order


        @login_required
        def place_order():
            order = Order.objects.create(status="new")
            process_order.delay(order.pk)
    """
    assert rows(tmp_path, source) == []


def test_enqueue_in_atomic_method(tmp_path):
    source = """
        from django.db.transaction import atomic

        from shop.models import Order
        from shop.tasks import process_order


        class OrderService:
            @atomic
            def place(self, pk):
                Order.objects.filter(pk=pk).update(status="placed")
                process_order.delay(pk)
    """
    assert rows(tmp_path, source) == [11]


def test_enqueue_in_method_decorator_atomic(tmp_path):
    source = """
        from django.db import transaction
        from django.utils.decorators import method_decorator
        from django.views import View

        from shop.models import Order
        from shop.tasks import process_order


        class CheckoutView(View):
            @method_decorator(transaction.atomic)
            def post(self, request, pk):
                Order.objects.filter(pk=pk).update(status="placed")
                process_order.delay(pk)
    """
    assert rows(tmp_path, source, "shop/views.py") == [13]


def test_nested_def_in_atomic_function_not_flagged(tmp_path):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        @transaction.atomic
        def place_order(pk):
            Order.objects.filter(pk=pk).update(status="placed")
            def notify():
                process_order.delay(pk)
            transaction.on_commit(notify)
    """
    assert rows(tmp_path, source) == []


def test_on_commit_lambda_in_atomic_function_not_flagged(tmp_path):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        @transaction.atomic
        def place_order(pk):
            Order.objects.filter(pk=pk).update(status="placed")
            transaction.on_commit(lambda: process_order.delay(pk))
    """
    assert rows(tmp_path, source) == []


# -- views under ATOMIC_REQUESTS --------------------------------------------------------------

def test_enqueue_in_function_view_with_atomic_requests(tmp_path):
    source = """
        from django.shortcuts import redirect

        from shop.models import Order
        from shop.tasks import process_order


        def checkout(request, pk):
            Order.objects.filter(pk=pk).update(status="placed")
            process_order.delay(pk)
            return redirect("done")
    """
    assert view_rows(tmp_path, source) == [9]


def test_enqueue_in_function_view_without_atomic_requests_not_flagged(tmp_path):
    source = """
        from django.shortcuts import redirect

        from shop.models import Order
        from shop.tasks import process_order


        def checkout(request, pk):
            Order.objects.filter(pk=pk).update(status="placed")
            process_order.delay(pk)
            return redirect("done")
    """
    assert view_rows(tmp_path, source, SETTINGS) == []


def test_enqueue_in_view_with_atomic_requests_false_not_flagged(tmp_path):
    settings = ATOMIC_SETTINGS.replace('"ATOMIC_REQUESTS": True', '"ATOMIC_REQUESTS": False')
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def checkout(request, pk):
            Order.objects.filter(pk=pk).update(status="placed")
            process_order.delay(pk)
    """
    assert view_rows(tmp_path, source, settings) == []


def test_enqueue_in_view_with_atomic_requests_from_environment_not_flagged(tmp_path):
    settings = "\n    import os" + ATOMIC_SETTINGS.replace(
        '"ATOMIC_REQUESTS": True', '"ATOMIC_REQUESTS": os.environ.get("ATOMIC") == "1"')
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def checkout(request, pk):
            Order.objects.filter(pk=pk).update(status="placed")
            process_order.delay(pk)
    """
    assert view_rows(tmp_path, source, settings) == []


def test_enqueue_in_view_with_databases_from_environment_not_flagged(tmp_path):
    settings = SETTINGS + """
    import dj_database_url

    DATABASES = {"default": dj_database_url.config(conn_max_age=600)}
    """
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def checkout(request, pk):
            Order.objects.filter(pk=pk).update(status="placed")
            process_order.delay(pk)
    """
    assert view_rows(tmp_path, source, settings) == []


def test_enqueue_in_class_based_view_with_atomic_requests(tmp_path):
    source = """
        from rest_framework import viewsets

        from shop.models import Order
        from shop.tasks import process_order


        class OrderViewSet(viewsets.ModelViewSet):
            def perform_create(self, serializer):
                order = serializer.save()
                process_order.delay(order.pk)
    """
    assert view_rows(tmp_path, source) == [10]


def test_non_atomic_requests_view_not_flagged(tmp_path):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        @transaction.non_atomic_requests
        def checkout(request, pk):
            Order.objects.filter(pk=pk).update(status="placed")
            process_order.delay(pk)
    """
    assert view_rows(tmp_path, source) == []


def test_non_atomic_requests_view_with_atomic_block(tmp_path):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        @transaction.non_atomic_requests
        def checkout(request, pk):
            with transaction.atomic():
                Order.objects.filter(pk=pk).update(status="placed")
                process_order.delay(pk)
    """
    assert view_rows(tmp_path, source) == [11]


def test_helper_function_in_views_module_not_flagged(tmp_path):
    # not a view (no `request`): ATOMIC_REQUESTS says nothing about it
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def notify(pk):
            Order.objects.filter(pk=pk).update(status="placed")
            process_order.delay(pk)
    """
    assert view_rows(tmp_path, source) == []


def test_on_commit_in_view_with_atomic_requests_not_flagged(tmp_path):
    source = """
        from functools import partial

        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def checkout(request, pk):
            Order.objects.filter(pk=pk).update(status="placed")
            transaction.on_commit(partial(process_order.delay, pk))
            process_order.delay_on_commit(pk)
    """
    assert view_rows(tmp_path, source) == []


def test_message_names_the_block_and_the_on_commit_variant(tmp_path):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order(pk):
            with transaction.atomic():
                Order.objects.filter(pk=pk).update(status="placed")
                process_order.delay(pk)
    """
    result = run_project(tmp_path, {**SHOP, "shop/services.py": source}, select=("CEL103",))
    [diagnostic] = result.diagnostics
    assert diagnostic.message.startswith(
        "`process_order.delay()` inside the `transaction.atomic()` block opened on line 8, after "
        "`Order.objects.filter(pk=pk).update(...)` on line 9: a worker can run the "
        "task before the transaction commits, and not see that write yet (or ever, on "
        "rollback); ")
    assert "`process_order.delay_on_commit(...)` (Celery ≥ 5.4)" in diagnostic.message
    assert "`transaction.on_commit(partial(process_order.delay, ...))`" in diagnostic.message
    assert (diagnostic.location.row, diagnostic.location.column) == (10, 9)


# -- the fix ----------------------------------------------------------------------------------

PINNED = {"requirements.txt": "celery[redis]>=5.4,<6\n"}


def fixed(tmp_path: Path, source: str, files: dict[str, str] | None = None,
          path: str = "shop/services.py") -> str:
    """`path` after `check --fix --unsafe-fixes` of CEL103 on the shop project."""
    write_project(tmp_path, {**SHOP, **(files or {}), path: source})
    outcome = fix([tmp_path], Config(root=tmp_path, select=("CEL103",), preview=True), unsafe=True)
    assert not outcome.unparsable
    write(outcome)
    return (tmp_path / path).read_text(encoding="utf-8")


def refix(tmp_path: Path) -> tuple[int, list[int]]:
    """Fixes a second run applies, and the rows of shop/services.py still reported."""
    config = Config(root=tmp_path, select=("CEL103",), preview=True)
    again = fix([tmp_path], config, unsafe=True).count
    left = [row for _, row in codes_at(tmp_path, {}, "shop/services.py", select=("CEL103",))]
    return again, left


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def test_fix_delay_without_a_pin_sends_it_from_on_commit(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order
        from django.db.transaction import atomic


        def place_order():
            with atomic():
                order = Order.objects.create(status="new")
                process_order.delay(order.pk, note="rush")  # tell the warehouse
    """
    assert fixed(tmp_path, source) == dedent("""
        import functools

        from shop.models import Order
        from shop.tasks import process_order
        from django.db import transaction
        from django.db.transaction import atomic


        def place_order():
            with atomic():
                order = Order.objects.create(status="new")
                transaction.on_commit(
                    functools.partial(process_order.delay, order.pk, note="rush")
                )  # tell the warehouse
    """)
    assert refix(tmp_path) == (0, [])


def test_fix_apply_async_without_a_pin_keeps_its_comments(tmp_path):
    source = """
        from django.db import models, transaction

        from shop.models import Order
        from shop.tasks import process_order


        @transaction.atomic
        def place_order(pk):
            Order.objects.filter(pk=pk).update(status="placed")
            process_order.apply_async(
                args=[pk],  # the order
                countdown=10,
            )
    """
    assert fixed(tmp_path, source) == dedent("""
        import functools

        from django.db import models, transaction

        from shop.models import Order
        from shop.tasks import process_order


        @transaction.atomic
        def place_order(pk):
            Order.objects.filter(pk=pk).update(status="placed")
            transaction.on_commit(functools.partial(process_order.apply_async,
                args=[pk],  # the order
                countdown=10,
            ))
    """)
    assert refix(tmp_path) == (0, [])


def test_fix_with_a_celery_pin_uses_the_on_commit_methods(tmp_path):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order(pk):
            with transaction.atomic():
                Order.objects.filter(pk=pk).update(status="placed")
                process_order.delay(pk)
                process_order.apply_async((pk,), countdown=10)
    """
    assert fixed(tmp_path, source, PINNED) == dedent("""
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order(pk):
            with transaction.atomic():
                Order.objects.filter(pk=pk).update(status="placed")
                process_order.delay_on_commit(pk)
                process_order.apply_async_on_commit((pk,), countdown=10)
    """)
    assert refix(tmp_path) == (0, [])


@pytest.mark.parametrize("files", [
    {"requirements.txt": "celery==5.4.0\n"},
    {"requirements/base.txt": "Django>=4.2\ncelery[redis]~=5.5  # workers\n"},
    {"pyproject.toml": '[project]\nname = "shop"\ndependencies = ["celery[redis]>=5.4.1"]\n'},
    {"pyproject.toml": '[tool.poetry.dependencies]\ncelery = {version = "^5.4", extras = ["redis"]}\n'},
    {"setup.cfg": "[options]\ninstall_requires =\n    django\n    celery>=5.4\n"},
    {"setup.py": 'from setuptools import setup\nsetup(install_requires=["celery>=5.5"])\n'},
    # every file's requirement holds where the project runs: at least 5.4
    {"requirements.txt": "celery>=5.4\n", "requirements-dev.txt": "celery>=5.2\n"},
    {"uv.lock": '[[package]]\nname = "celery"\nversion = "5.5.3"\n',
     "pyproject.toml": '[project]\nname = "shop"\ndependencies = ["celery>=5.0"]\n'},
])
def test_fix_reads_the_celery_pin(tmp_path, files):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        @transaction.atomic
        def place_order(pk):
            Order.objects.filter(pk=pk).update(status="placed")
            process_order.delay(pk)
    """
    assert "process_order.delay_on_commit(pk)" in fixed(tmp_path, source, files)


@pytest.mark.parametrize("files", [
    {"requirements.txt": "celery==5.3.6\n"},
    {"requirements.txt": "celery<6\n"},
    {"requirements.txt": "celery\n"},
    # files for two environments that cannot both hold: either Celery may run
    {"requirements.txt": "celery==5.4.0\n", "requirements-old.txt": "celery==5.2.7\n"},
    {"pyproject.toml": '[project]\nname = "shop"\ndependencies = ["celery-progress>=5.4"]\n'},
])
def test_fix_without_a_celery_pin_of_at_least_5_4(tmp_path, files):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        @transaction.atomic
        def place_order(pk):
            Order.objects.filter(pk=pk).update(status="placed")
            process_order.delay(pk)
    """
    assert "transaction.on_commit(functools.partial(process_order.delay, pk))" in fixed(
        tmp_path, source, files)


def test_fix_adds_the_imports_once_for_two_calls(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order
        from django.db.transaction import atomic


        def place_order(pk):
            with atomic():
                Order.objects.filter(pk=pk).update(status="placed")
                process_order.delay(pk)
                process_order.apply_async(args=[pk], countdown=5)
    """
    assert fixed(tmp_path, source) == dedent("""
        import functools

        from shop.models import Order
        from shop.tasks import process_order
        from django.db import transaction
        from django.db.transaction import atomic


        def place_order(pk):
            with atomic():
                Order.objects.filter(pk=pk).update(status="placed")
                transaction.on_commit(functools.partial(process_order.delay, pk))
                transaction.on_commit(
                    functools.partial(process_order.apply_async, args=[pk], countdown=5)
                )
    """)
    assert refix(tmp_path) == (0, [])


def test_fix_reuses_the_imports_there_are(tmp_path):
    source = """
        from functools import partial

        from django.db import transaction as db_transaction

        from shop.models import Order
        from shop.tasks import process_order


        @db_transaction.atomic
        def place_order(pk):
            Order.objects.filter(pk=pk).update(status="placed")
            process_order.delay(pk)
    """
    assert fixed(tmp_path, source).endswith(
        "    db_transaction.on_commit(partial(process_order.delay, pk))\n")


@pytest.mark.parametrize("statement", [
    "result = process_order.delay(pk)",
    "return process_order.delay(pk).id",
    "transaction.on_commit(process_order.delay(pk))",
])
def test_no_fix_when_the_result_is_used(tmp_path, statement):
    source = f"""
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        @transaction.atomic
        def place_order(pk):
            Order.objects.filter(pk=pk).update(status="placed")
            {statement}
    """
    assert fixed(tmp_path, source, PINNED) == dedent(source)
    assert refix(tmp_path) == (0, [10])


def test_no_fix_when_transaction_names_something_else(tmp_path):
    source = """
        from django.db.transaction import atomic

        from shop.models import Order
        from shop.tasks import process_order


        def settle(transaction):
            with atomic():
                Order.objects.filter(pk=transaction.order_id).update(status="settled")
                process_order.delay(transaction.order_id)
    """
    assert fixed(tmp_path, source) == dedent(source)
    assert refix(tmp_path) == (0, [10])


def test_fix_of_a_canvas_and_send_task(tmp_path):
    source = """
        from django.db import transaction

        from proj.celery import app
        from shop.models import Order
        from shop.tasks import process_order


        @transaction.atomic
        def place_order(pk):
            Order.objects.filter(pk=pk).update(status="placed")
            process_order.s(pk).delay()
            app.send_task("shop.tasks.process_order", args=[pk])
    """
    assert fixed(tmp_path, source, PINNED) == dedent("""
        import functools

        from django.db import transaction

        from proj.celery import app
        from shop.models import Order
        from shop.tasks import process_order


        @transaction.atomic
        def place_order(pk):
            Order.objects.filter(pk=pk).update(status="placed")
            transaction.on_commit(process_order.s(pk).delay)
            transaction.on_commit(
                functools.partial(app.send_task, "shop.tasks.process_order", args=[pk])
            )
    """)
    assert refix(tmp_path) == (0, [])


def test_fix_in_a_block_on_another_database_passes_using(tmp_path):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order(pk, alias):
            with transaction.atomic(using="orders"):
                Order.objects.filter(pk=pk).update(status="placed")
                process_order.delay(pk)
            with transaction.atomic(using=alias):
                Order.objects.filter(pk=pk).update(status="placed")
                process_order.delay(pk)
    """
    assert fixed(tmp_path, source, PINNED) == dedent("""
        import functools

        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        def place_order(pk, alias):
            with transaction.atomic(using="orders"):
                Order.objects.filter(pk=pk).update(status="placed")
                transaction.on_commit(
                    functools.partial(process_order.delay, pk), using="orders"
                )
            with transaction.atomic(using=alias):
                Order.objects.filter(pk=pk).update(status="placed")
                process_order.delay(pk)
    """)


@pytest.mark.parametrize(("base", "expected"), [
    ("app.Task", "process_order.delay_on_commit(pk)"),
    ("DjangoTask", "process_order.delay_on_commit(pk)"),
    # celery.Task has no `delay_on_commit`: only DjangoTask, Django's default task class, has it
    ("Task", "transaction.on_commit(functools.partial(process_order.delay, pk))"),
])
def test_fix_with_a_base_class(tmp_path, base, expected):
    tasks = f"""
        from celery import Task, shared_task
        from celery.contrib.django.task import DjangoTask

        from proj.celery import app


        class LoggedTask({base}):
            def on_failure(self, exc, task_id, args, kwargs, einfo):
                pass


        @shared_task(base=LoggedTask)
        def process_order(order_id):
            pass
    """
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        @transaction.atomic
        def place_order(pk):
            Order.objects.filter(pk=pk).update(status="placed")
            process_order.delay(pk)
    """
    assert expected in fixed(tmp_path, source, {**PINNED, "shop/tasks.py": tasks})


@pytest.mark.parametrize(("files", "title"), [
    (PINNED, "Use `process_order.delay_on_commit(...)`"),
    ({}, "Send it from `transaction.on_commit(functools.partial(...))`"),
])
def test_fix_title_says_what_it_does(tmp_path, files, title):
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        @transaction.atomic
        def place_order(pk):
            Order.objects.filter(pk=pk).update(status="placed")
            process_order.delay(pk)
    """
    project = {**SHOP, **files, "shop/services.py": source}
    [diagnostic] = run_project(tmp_path, project, select=("CEL103",)).diagnostics
    assert diagnostic.fix is not None
    assert (diagnostic.fix.applicability, diagnostic.fix.message) == (Applicability.UNSAFE, title)


# the imports the fix adds go where isort and ruff's `I` rules put them
PLACE_ORDER = '''

@atomic
def place_order(pk):
    Order.objects.filter(pk=pk).update(status="placed")
    process_order.delay(pk)
'''
PLACE_ORDER_FIXED = PLACE_ORDER.replace("process_order.delay(pk)",
                                        "transaction.on_commit(functools.partial(process_order.delay, pk))")


@pytest.mark.parametrize(("imports", "expected"), [
    # each in its sorted place in its section: standard library, third party, first party
    (('"""Orders."""\nimport json\nimport os\n\nfrom django.db.models import F\n'
     "from django.db.transaction import atomic\n\nfrom shop.models import Order\n"
     "from shop.tasks import process_order\n"),
     ('"""Orders."""\nimport functools\nimport json\nimport os\n\n'
     "from django.db import transaction\nfrom django.db.models import F\n"
     "from django.db.transaction import atomic\n\nfrom shop.models import Order\n"
     "from shop.tasks import process_order\n")),
    # a section that is not sorted: after its last import
    (("import os\nimport json\n\nfrom django.db.transaction import atomic\n"
     "from celery import shared_task\n\nfrom shop.models import Order\n"
     "from shop.tasks import process_order\n"),
     ("import os\nimport json\nimport functools\n\nfrom django.db.transaction import atomic\n"
     "from celery import shared_task\nfrom django.db import transaction\n\n"
     "from shop.models import Order\nfrom shop.tasks import process_order\n")),
    # beside the imports from the same module; `import x` lines come before `from x import`
    (("from functools import wraps\n\nfrom django.db.transaction import atomic\n\n"
     "from shop.models import Order\nfrom shop.tasks import process_order\n"),
     ("import functools\nfrom functools import wraps\n\nfrom django.db import transaction\n"
     "from django.db.transaction import atomic\n\nfrom shop.models import Order\n"
     "from shop.tasks import process_order\n")),
    # after the docstring and `from __future__`, as a section of its own
    (('"""Orders.\n\nimport nothing here\n"""\nfrom __future__ import annotations\n\n'
     "from django.db.transaction import atomic\n\nfrom shop.models import Order\n"
     "from shop.tasks import process_order\n"),
     ('"""Orders.\n\nimport nothing here\n"""\nfrom __future__ import annotations\n\n'
     "import functools\n\nfrom django.db import transaction\n"
     "from django.db.transaction import atomic\n\nfrom shop.models import Order\n"
     "from shop.tasks import process_order\n")),
    # the first section: above the comment that heads the block, below the file's header
    (("# Copyright the shop\n\n# Django\nfrom django.db.transaction import atomic\n\n"
     "from shop.models import Order\nfrom shop.tasks import process_order\n"),
     ("# Copyright the shop\n\nimport functools\n\n# Django\nfrom django.db import transaction\n"
     "from django.db.transaction import atomic\n\n"
     "from shop.models import Order\nfrom shop.tasks import process_order\n")),
])
def test_fix_puts_each_import_in_its_section(tmp_path, imports, expected):
    assert fixed(tmp_path, imports + PLACE_ORDER) == expected + PLACE_ORDER_FIXED
    assert refix(tmp_path) == (0, [])


def test_fix_leaves_the_wrapping_to_a_project_whose_lines_are_already_longer(tmp_path):
    # the send already runs past 88 characters: the project does not keep to that length, so the
    # on_commit call stays on the line, as it would be written there
    source = """
        from django.db import transaction

        from shop.models import Order
        from shop.tasks import process_order


        @transaction.atomic
        def reprice(pk):
            Order.objects.filter(pk=pk).update(status="repriced")
            process_order.apply_async(args=[pk], kwargs={"reason": "repriced by the nightly job"})
    """
    assert ('    transaction.on_commit(functools.partial(process_order.apply_async, args=[pk], '
            'kwargs={"reason": "repriced by the nightly job"}))\n') in fixed(tmp_path, source)
    assert refix(tmp_path) == (0, [])
