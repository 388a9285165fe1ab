"""Function summaries: a bug one call away is still found (CEL103, CEL102, CEL101), each shape
beside its near miss: a wrapper that opens no transaction, a helper that sends through
`on_commit`, a chain past the depth bound, a recursive pair of functions.

A source string is dedented and its leading newline dropped, so its first line of code is row 1.
"""

from __future__ import annotations

from pathlib import Path

from helpers import CELERY_APP, MODELS, run_project

TASKS = """
    from celery import shared_task


    @shared_task
    def send_invoice(order_id):
        pass


    @shared_task
    def render_report(order_id):
        return order_id
"""

SHOP = {**CELERY_APP, "shop/models.py": MODELS, "shop/tasks.py": TASKS}


def found(tmp_path: Path, files: dict[str, str], code: str,
          **config: object) -> list[tuple[str, int, str]]:
    """(path, row, message) of each `code` diagnostic of the shop project with `files`."""
    result = run_project(tmp_path, {**SHOP, **files}, select=(code,), **config)
    return sorted((Path(d.path).relative_to(tmp_path).as_posix(), d.location.row, d.message)
                  for d in result.diagnostics if d.code == code)


def rows(tmp_path: Path, files: dict[str, str], code: str,
         **config: object) -> list[tuple[str, int]]:
    return [(path, row) for path, row, _ in found(tmp_path, files, code, **config)]


# -- CEL103: a project's own wrapper of `transaction.atomic` ----------------------------------

TRACING = """
    from contextlib import contextmanager

    from django.db import transaction


    @contextmanager
    def traced_atomic(name):
        with transaction.atomic():
            yield


    @contextmanager
    def traced(name):
        yield


    def atomic_decorator(func):
        def inner(*args, **kwargs):
            with transaction.atomic():
                return func(*args, **kwargs)
        return inner


    def logged(func):
        def inner(*args, **kwargs):
            return func(*args, **kwargs)
        return inner


    db_atomic = transaction.atomic
"""


def test_enqueue_inside_a_project_context_manager_that_enters_atomic(tmp_path):
    source = """
        from shop.db import traced_atomic
        from shop.models import Order
        from shop.tasks import send_invoice


        def pay(order):
            with traced_atomic("pay"):
                order.save()
                send_invoice.delay(order.pk)
    """
    found_ = found(tmp_path, {"shop/db.py": TRACING, "shop/services.py": source}, "CEL103")
    assert [(p, r) for p, r, _ in found_] == [("shop/services.py", 9)]
    assert "`traced_atomic` enters `transaction.atomic()`: found through function summaries" \
        in found_[0][2]


def test_enqueue_inside_a_context_manager_that_opens_no_transaction_not_flagged(tmp_path):
    source = """
        from shop.db import traced


        def pay(order):
            with traced("pay"):
                order.save()
                send_invoice.delay(order.pk)
    """
    assert rows(tmp_path, {"shop/db.py": TRACING, "shop/services.py": source}, "CEL103") == []


def test_enqueue_inside_a_project_decorator_that_wraps_in_atomic(tmp_path):
    source = """
        from shop.db import atomic_decorator, logged
        from shop.tasks import send_invoice


        @atomic_decorator
        def pay(order):
            order.save()
            send_invoice.delay(order.pk)


        @logged
        def refund(order):
            order.save()
            send_invoice.delay(order.pk)
    """
    assert rows(tmp_path, {"shop/db.py": TRACING, "shop/services.py": source}, "CEL103") == [
        ("shop/services.py", 8)]


def test_atomic_under_another_name(tmp_path):
    source = """
        from shop.db import db_atomic
        from shop.tasks import send_invoice


        def pay(order):
            with db_atomic():
                order.save()
                send_invoice.delay(order.pk)
    """
    assert rows(tmp_path, {"shop/db.py": TRACING, "shop/services.py": source}, "CEL103") == [
        ("shop/services.py", 8)]


def test_a_wrapper_of_a_wrapper(tmp_path):
    more = TRACING + """

    @contextmanager
    def request_atomic():
        with traced_atomic("request"):
            yield
    """
    source = """
        from shop.db import request_atomic
        from shop.tasks import send_invoice


        def pay(order):
            with request_atomic():
                order.save()
                send_invoice.delay(order.pk)
    """
    assert rows(tmp_path, {"shop/db.py": more, "shop/services.py": source}, "CEL103") == [
        ("shop/services.py", 8)]


# -- CEL103: a function called in a transaction that sends --------------------------------------

NOTIFY = """
    from django.db import transaction

    from shop.tasks import send_invoice


    def notify_customer(order):
        send_invoice.delay(order.pk)


    def notify_later(order):
        transaction.on_commit(lambda: send_invoice.delay(order.pk))


    def record_and_notify(order):
        order.save()
        send_invoice.delay(order.pk)


    def just_record(order):
        order.save()
"""


def test_call_of_a_function_that_sends_inside_atomic(tmp_path):
    source = """
        from django.db import transaction

        from shop.notify import notify_customer


        def pay(order):
            with transaction.atomic():
                order.save()
                notify_customer(order)
    """
    found_ = found(tmp_path, {"shop/notify.py": NOTIFY, "shop/services.py": source}, "CEL103")
    assert [(p, r) for p, r, _ in found_] == [("shop/services.py", 9)]
    message = found_[0][2]
    assert message.startswith("`notify_customer()` sends `send_invoice.delay()` "
                              "(shop/notify.py:7) inside the `transaction.atomic()` block "
                              "opened on line 7, before this transaction commits")
    assert "found through function summaries" in message


def test_call_of_a_function_that_sends_through_on_commit_not_flagged(tmp_path):
    source = """
        from django.db import transaction

        from shop.notify import notify_later


        def pay(order):
            with transaction.atomic():
                order.save()
                notify_later(order)
    """
    assert rows(tmp_path, {"shop/notify.py": NOTIFY, "shop/services.py": source}, "CEL103") == []


def test_call_of_a_function_that_sends_no_primary_key_not_flagged(tmp_path):
    mail = """
        from celery import shared_task


        @shared_task
        def send_rendered(subject, body, recipients):
            pass


        def queue_mail(subject, body, recipients):
            send_rendered.delay(subject, body, recipients)


        def queue_mail_about(order):
            send_rendered.apply_async(kwargs={"subject": "paid", "body": "", "order_id": order.pk,
                                              "recipients": []})
    """
    source = """
        from django.db import transaction

        from shop.mail import queue_mail, queue_mail_about


        def pay(order):
            with transaction.atomic():
                order.save()
                queue_mail("paid", "Thank you", [order.email])
                queue_mail_about(order)
    """
    # the rendered mail reads no row; the one given `order_id` does
    assert rows(tmp_path, {"shop/mail.py": mail, "shop/services.py": source}, "CEL103") == [
        ("shop/services.py", 10)]


def test_call_of_a_function_that_sends_before_any_write_not_flagged(tmp_path):
    source = """
        from django.db import transaction

        from shop.notify import just_record, notify_customer


        def pay(order):
            with transaction.atomic():
                notify_customer(order)
                just_record(order)
    """
    assert rows(tmp_path, {"shop/notify.py": NOTIFY, "shop/services.py": source}, "CEL103") == []


def test_call_of_a_function_that_writes_then_sends(tmp_path):
    source = """
        from django.db import transaction

        from shop.notify import record_and_notify


        def pay(order):
            with transaction.atomic():
                record_and_notify(order)
            record_and_notify(order)
    """
    found_ = found(tmp_path, {"shop/notify.py": NOTIFY, "shop/services.py": source}, "CEL103")
    assert [(p, r) for p, r, _ in found_] == [("shop/services.py", 8)]
    assert "after a database write it makes first" in found_[0][2]


def test_chain_of_three_functions_is_followed(tmp_path):
    source = """
        from django.db import transaction

        from shop.tasks import send_invoice


        def first(order):
            second(order)


        def second(order):
            third(order)


        def third(order):
            send_invoice.delay(order.pk)


        def pay(order):
            with transaction.atomic():
                order.save()
                first(order)
    """
    found_ = found(tmp_path, {"shop/services.py": source}, "CEL103")
    assert [(p, r) for p, r, _ in found_] == [("shop/services.py", 21)]
    assert found_[0][2].startswith(
        "`first()` calls `second()` (shop/services.py:7), which calls `third()` "
        "(shop/services.py:11), which sends `send_invoice.delay()` (shop/services.py:15)")


def test_chain_past_the_depth_bound_not_followed(tmp_path):
    source = """
        from django.db import transaction

        from shop.tasks import send_invoice


        def first(order):
            second(order)


        def second(order):
            third(order)


        def third(order):
            fourth(order)


        def fourth(order):
            send_invoice.delay(order.pk)


        def pay(order):
            with transaction.atomic():
                order.save()
                first(order)
    """
    assert rows(tmp_path, {"shop/services.py": source}, "CEL103") == []


def test_recursive_pair_ends(tmp_path):
    source = """
        from django.db import transaction

        from shop.tasks import send_invoice


        def ping(order, n):
            if n:
                pong(order, n - 1)


        def pong(order, n):
            ping(order, n)


        def ring(order, n):
            ring(order, n - 1)
            send_invoice.delay(order.pk)


        def pay(order):
            with transaction.atomic():
                order.save()
                ping(order, 3)
                ring(order, 3)
    """
    assert rows(tmp_path, {"shop/services.py": source}, "CEL103") == [("shop/services.py", 24)]


def test_call_through_a_variable_or_an_unknown_object_not_followed(tmp_path):
    source = """
        from django.db import transaction

        from shop.notify import notify_customer


        HANDLERS = {"notify": notify_customer}


        def pay(order, notifier, handler):
            with transaction.atomic():
                order.save()
                handler(order)
                HANDLERS["notify"](order)
                notifier.notify_customer(order)
    """
    assert rows(tmp_path, {"shop/notify.py": NOTIFY, "shop/services.py": source}, "CEL103") == []


def test_method_of_the_same_class_is_followed(tmp_path):
    source = """
        from django.db import transaction

        from shop.tasks import send_invoice


        class Checkout:
            def notify(self, order):
                send_invoice.delay(order.pk)

            def pay(self, order):
                with transaction.atomic():
                    order.save()
                    self.notify(order)
    """
    found_ = found(tmp_path, {"shop/services.py": source}, "CEL103")
    assert [(p, r) for p, r, _ in found_] == [("shop/services.py", 13)]
    assert found_[0][2].startswith("`Checkout.notify()` sends `send_invoice.delay()`")


# -- CEL103: a class-based view whose `dispatch` runs its methods in a transaction -----------------

GUARDED = """
    from django.db import transaction
    from django.views import View


    class GuardedView(View):
        in_transaction = True

        def dispatch(self, request, *args, **kwargs):
            if self.in_transaction:
                with transaction.atomic():
                    return self.route(request)
            return self.route(request)

        def route(self, request):
            return self.handle(request)

        def handle(self, request):
            return None


    class PlainView(View):
        def dispatch(self, request, *args, **kwargs):
            return self.handle(request)

        def handle(self, request):
            return None


    class AtomicMixin:
        def dispatch(self, request, *args, **kwargs):
            with transaction.atomic():
                return super().dispatch(request, *args, **kwargs)
"""


def test_method_a_guarded_atomic_dispatch_runs(tmp_path):
    source = """
        from django.conf import settings
        from django.db import transaction
        from django.views import View

        from shop.base import AtomicMixin, GuardedView, PlainView
        from shop.models import Order
        from shop.tasks import send_invoice


        class Upload(GuardedView):
            def handle(self, request):
                order = Order.objects.create(status="new")
                send_invoice.delay(order.pk)


        class Draft(GuardedView):
            in_transaction = False

            def handle(self, request):
                order = Order.objects.create(status="draft")
                send_invoice.delay(order.pk)


        class Unread(GuardedView):
            in_transaction = settings.ATOMIC_UPLOADS

            def handle(self, request):
                order = Order.objects.create(status="new")
                send_invoice.delay(order.pk)


        class Plain(PlainView):
            def handle(self, request):
                order = Order.objects.create(status="new")
                send_invoice.delay(order.pk)


        class Later(GuardedView):
            def handle(self, request):
                order = Order.objects.create(status="new")
                transaction.on_commit(lambda: send_invoice.delay(order.pk))


        class First(GuardedView):
            def handle(self, request):
                send_invoice.delay(request.POST["pk"])
                Order.objects.create(status="new")


        class Checkout(AtomicMixin, View):
            def post(self, request):
                order = Order.objects.create(status="paid")
                send_invoice.delay(order.pk)

            def helper(self, request):
                order = Order.objects.create(status="paid")
                send_invoice.delay(order.pk)
    """
    found_ = found(tmp_path, {"shop/base.py": GUARDED, "shop/views.py": source}, "CEL103",
                   preview=True)
    assert [(p, r) for p, r, _ in found_] == [("shop/views.py", 13), ("shop/views.py", 53)]
    assert found_[0][2].startswith(
        "`send_invoice.delay()` in `Upload.handle`, which `GuardedView.dispatch()` "
        "(shop/base.py:8) runs inside `transaction.atomic()`, after "
        "`Order.objects.create(status=\"new\")` on line 12: ")
    assert found_[0][2].endswith("(found through function summaries)")
    assert "in `Checkout.post`, which `AtomicMixin.dispatch()` (shop/base.py:30)" in found_[1][2]


def test_handler_of_a_view_whose_dispatch_is_decorated_atomic(tmp_path):
    source = """
        from django.db import transaction
        from django.utils.decorators import method_decorator
        from django.views import View

        from shop.models import Order
        from shop.tasks import send_invoice


        class Atomic(View):
            @method_decorator(transaction.atomic)
            def dispatch(self, request, *args, **kwargs):
                return super().dispatch(request, *args, **kwargs)


        class Pay(Atomic):
            def post(self, request):
                order = Order.objects.create(status="paid")
                send_invoice.delay(order.pk)


        @method_decorator(transaction.atomic, name="dispatch")
        class Refund(View):
            def post(self, request):
                order = Order.objects.create(status="refunded")
                send_invoice.delay(order.pk)


        @method_decorator(transaction.atomic, name="get")
        class Lookup(View):
            def post(self, request):
                order = Order.objects.create(status="seen")
                send_invoice.delay(order.pk)


        class Logged(View):
            @method_decorator(transaction.non_atomic_requests)
            def dispatch(self, request, *args, **kwargs):
                return super().dispatch(request, *args, **kwargs)

            def post(self, request):
                order = Order.objects.create(status="logged")
                send_invoice.delay(order.pk)
    """
    found_ = found(tmp_path, {"shop/views.py": source}, "CEL103", preview=True)
    assert [(p, r) for p, r, _ in found_] == [("shop/views.py", 18), ("shop/views.py", 25)]
    assert "`Pay.post`, which `Atomic.dispatch()` (shop/views.py:11)" in found_[0][2]
    assert "`Refund.post`, which Django's `dispatch` runs inside `transaction.atomic()`" \
        in found_[1][2]


def test_method_the_view_resolves_first_and_a_helper_it_calls(tmp_path):
    importer = """
        from shop.models import Order
        from shop.tasks import send_invoice


        def import_orders(rows):
            order = Order.objects.create(status=rows[0])
            send_invoice.delay(order.pk)


        def import_later(rows):
            send_invoice.delay(rows[0])
    """
    source = """
        from shop.base import GuardedView
        from shop.importer import import_later, import_orders


        class Steps:
            def handle(self, request):
                return self.load(request)


        class Import(Steps, GuardedView):
            def load(self, request):
                import_orders(request.POST)

            def handle_other(self, request):
                import_orders(request.POST)


        class ImportLater(Steps, GuardedView):
            def load(self, request):
                import_later(request.POST)
    """
    found_ = found(tmp_path, {"shop/base.py": GUARDED, "shop/importer.py": importer,
                              "shop/views.py": source}, "CEL103", preview=True)
    assert [(p, r) for p, r, _ in found_] == [("shop/views.py", 12)]
    assert found_[0][2].startswith(
        "`import_orders()` sends `send_invoice.delay()` (shop/importer.py:7) in `Import.load`, "
        "which `GuardedView.dispatch()` (shop/base.py:8) runs inside `transaction.atomic()`, ")
    assert found_[0][2].count("found through function summaries") == 1


# -- CEL102: a view calls a function that runs a task or waits on its result ---------------------

REPORTS = """
    from django.conf import settings

    from shop.tasks import render_report


    def build_report(order_id):
        return render_report(order_id)


    def build_report_applied(order_id):
        return render_report.apply(args=[order_id]).get()


    def build_report_waiting(order_id):
        result = render_report.delay(order_id)
        return result.get(timeout=10)


    def build_report_in_background(order_id):
        return render_report.delay(order_id).id


    def build_report_eager_or_not(order_id):
        if settings.DEBUG:
            return render_report(order_id)
        return render_report.delay(order_id).id
"""


def test_view_calls_a_function_that_runs_or_waits(tmp_path):
    views = """
        from django.http import JsonResponse

        from shop import reports


        def report(request, order_id):
            return JsonResponse({"report": reports.build_report(order_id)})


        def applied(request, order_id):
            return JsonResponse({"report": reports.build_report_applied(order_id)})


        def waiting(request, order_id):
            return JsonResponse({"report": reports.build_report_waiting(order_id)})
    """
    files = {"shop/reports.py": REPORTS, "shop/views.py": views}
    found_ = found(tmp_path, files, "CEL102", preview=True)
    assert [(p, r) for p, r, _ in found_] == [
        ("shop/views.py", 7), ("shop/views.py", 11), ("shop/views.py", 15)]
    # running a task in the view is CEL102's preview part, one call away too; the wait is stable
    assert rows(tmp_path, files, "CEL102") == [("shop/views.py", 15)]
    assert found_[0][2].startswith("`build_report()` runs task `render_report()` in the caller's "
                                   "process (shop/reports.py:7), called inside the view")
    assert all("found through function summaries" in message for _, _, message in found_)
    assert "waits on a task's result (`.get()`) (shop/reports.py:16)" in found_[2][2]


def test_view_calls_a_function_that_sends_and_returns_not_flagged(tmp_path):
    views = """
        from django.http import JsonResponse

        from shop import reports


        def report(request, order_id):
            return JsonResponse({"id": reports.build_report_in_background(order_id)})


        def switch(request, order_id):
            return JsonResponse({"id": reports.build_report_eager_or_not(order_id)})
    """
    assert rows(tmp_path, {"shop/reports.py": REPORTS, "shop/views.py": views}, "CEL102",
                preview=True) == []


def test_class_based_view_method_that_waits_reported_once(tmp_path):
    views = """
        from django.http import JsonResponse
        from django.views import View

        from shop.tasks import render_report


        class ReportView(View):
            def render(self, order_id):
                return render_report.delay(order_id).get()

            def get(self, request, order_id):
                return JsonResponse({"report": self.render(order_id)})
    """
    # the method is a view's too: reported where it waits, not again where it is called
    assert rows(tmp_path, {"shop/views.py": views}, "CEL102") == [("shop/views.py", 9)]


def test_function_outside_a_view_that_waits_not_flagged_where_it_is_called(tmp_path):
    source = """
        from shop import reports


        def nightly(order_ids):
            return [reports.build_report_waiting(order_id) for order_id in order_ids]
    """
    assert rows(tmp_path, {"shop/reports.py": REPORTS, "shop/jobs.py": source}, "CEL102") == []


def test_class_based_view_calls_a_service_method_of_its_base(tmp_path):
    views = """
        from django.http import JsonResponse
        from django.views import View

        from shop.services import ReportMixin


        class ReportView(ReportMixin, View):
            def get(self, request, order_id):
                return JsonResponse({"report": self.render(order_id)})
    """
    service = """
        from shop.tasks import render_report


        class ReportMixin:
            def render(self, order_id):
                return render_report.apply(args=[order_id]).get()
    """
    found_ = found(tmp_path, {"shop/views.py": views, "shop/services.py": service}, "CEL102",
                   preview=True)
    assert [(p, r) for p, r, _ in found_] == [("shop/views.py", 9)]
    assert found_[0][2].startswith("`ReportMixin.render()` runs `render_report.apply()`")


# -- CEL101: a model instance given to a function that sends it ---------------------------------

HELPERS = """
    from shop.tasks import send_invoice


    def notify(order):
        send_invoice.delay(order)


    def notify_by_pk(order):
        send_invoice.delay(order.pk)


    def notify_later(note, order=None):
        send_invoice.apply_async(kwargs={"order_id": order})
"""


def test_model_instance_given_to_a_function_that_sends_it(tmp_path):
    source = """
        from shop.helpers import notify, notify_by_pk, notify_later
        from shop.models import Order


        def pay(pk):
            order = Order.objects.get(pk=pk)
            notify(order)
            notify_by_pk(order)
            notify_later("paid", order=order)
            notify(pk)
    """
    found_ = found(tmp_path, {"shop/helpers.py": HELPERS, "shop/services.py": source}, "CEL101")
    assert [(p, r) for p, r, _ in found_] == [("shop/services.py", 7), ("shop/services.py", 9)]
    assert found_[0][2] == (
        "`order` is an `Order` instance, given as `order` to `notify()`, which sends it to "
        "`send_invoice.delay()` (shop/helpers.py:5): pass `order.pk` and load it in the task "
        "(found through function summaries)")


def test_model_instance_given_to_a_function_imported_under_another_name(tmp_path):
    source = """
        from shop import helpers
        from shop.helpers import notify as tell
        from shop.models import Order


        def pay(pk):
            order = Order.objects.get(pk=pk)
            tell(order)
            helpers.notify(order)
            helpers.notify_by_pk(order)


        def refund(pk):
            from shop.helpers import notify as inform

            inform(Order.objects.get(pk=pk))
    """
    assert rows(tmp_path, {"shop/helpers.py": HELPERS, "shop/services.py": source},
                "CEL101") == [("shop/services.py", 8), ("shop/services.py", 9),
                              ("shop/services.py", 16)]


RELAY = """
    from shop.tasks import send_invoice


    def announce(order):
        forward(order)


    def forward(order):
        send_invoice.delay(order)


    def announce_pk(order):
        forward(order.pk)


    def announce_named(order):
        remind(note="paid", order=order)


    def announce_misnamed(order):
        remind(note=order, order=None)


    def remind(note, order):
        send_invoice.delay(order)


    def announce_spread(*orders):
        forward(*orders)


    def announce_shifted(order):
        forward_second(*[], order)


    def forward_second(first, order):
        send_invoice.delay(order)


    def announce_replaced(order):
        order = order.pk
        forward(order)


    def relay_one(order):
        relay_two(order)


    def relay_two(order):
        relay_three(order)


    def relay_three(order):
        forward(order)


    def ping(order, n):
        if n:
            pong(order, n - 1)


    def pong(order, n):
        ping(order, n)
"""


def test_model_instance_handed_on_through_helpers(tmp_path):
    source = """
        from shop.models import Order
        from shop.relay import announce, announce_named, relay_two


        def pay(pk):
            order = Order.objects.get(pk=pk)
            announce(order)
            announce_named(order)
            relay_two(order)
    """
    found_ = found(tmp_path, {"shop/relay.py": RELAY, "shop/services.py": source}, "CEL101")
    assert [(p, r) for p, r, _ in found_] == [
        ("shop/services.py", 7), ("shop/services.py", 8), ("shop/services.py", 9)]
    assert found_[0][2] == (
        "`order` is an `Order` instance, given as `order` to `announce()`, which hands it to "
        "`forward()` (shop/relay.py:5), which sends it to `send_invoice.delay()` "
        "(shop/relay.py:9): pass `order.pk` and load it in the task "
        "(found through function summaries)")
    assert "which hands it to `remind()` (shop/relay.py:17)" in found_[1][2]


def test_model_instance_not_handed_on_whole_or_too_deep_not_flagged(tmp_path):
    source = """
        from shop.models import Order
        from shop.relay import (
            announce,
            announce_misnamed,
            announce_pk,
            announce_replaced,
            announce_shifted,
            announce_spread,
            ping,
            relay_one,
        )


        def pay(pk):
            order = Order.objects.get(pk=pk)
            announce_pk(order)
            announce_misnamed(order)
            announce_spread(order)
            announce_shifted(order)
            announce_replaced(order)
            relay_one(order)
            ping(order, 3)
            handler = announce
            handler(order)
    """
    assert rows(tmp_path, {"shop/relay.py": RELAY, "shop/services.py": source}, "CEL101") == []


def test_model_instance_handed_on_through_a_method_of_the_same_class(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import send_invoice


        class Receipts:
            def issue(self, order):
                self.deliver(order)

            def deliver(self, order):
                send_invoice.delay(order)

            def issue_pk(self, order):
                self.deliver(order.pk)


        def pay(pk):
            order = Order.objects.get(pk=pk)
            Receipts().issue(order)
            Receipts().issue_pk(order)


        class Checkout(Receipts):
            def pay(self, pk):
                order = Order.objects.get(pk=pk)
                self.issue(order)
                self.issue_pk(order)
    """
    found_ = found(tmp_path, {"shop/services.py": source}, "CEL101")
    assert [(p, r) for p, r, _ in found_] == [("shop/services.py", 25)]
    assert "given as `order` to `Receipts.issue()`, which hands it to `Receipts.deliver()`" \
        in found_[0][2]


def test_view_calls_a_function_that_runs_a_task_only_in_a_branch_not_flagged(tmp_path):
    jobs = """
        from django.db import transaction

        from shop.tasks import render_report


        def enqueue(order_id, synchronous=False):
            if synchronous:
                return render_report.apply(args=[order_id])
            transaction.on_commit(lambda: render_report.apply_async(args=[order_id]))
    """
    views = """
        from django.http import JsonResponse

        from shop.jobs import enqueue


        def report(request, order_id):
            enqueue(order_id)
            return JsonResponse({})
    """
    assert rows(tmp_path, {"shop/jobs.py": jobs, "shop/views.py": views}, "CEL102",
                preview=True) == []


def test_call_of_a_function_with_its_own_transaction_reported_there_only(tmp_path):
    source = """
        from django.db import transaction

        from shop.tasks import send_invoice


        @transaction.atomic
        def merge(order, other):
            other.delete()
            send_invoice.delay(order.pk)


        def merge_all(order, others):
            with transaction.atomic():
                order.save()
                for other in others:
                    merge(order, other)
    """
    assert rows(tmp_path, {"shop/services.py": source}, "CEL103") == [("shop/services.py", 9)]


def test_function_imported_inside_the_caller_is_followed(tmp_path):
    source = """
        from django.db import transaction


        def pay(order):
            from shop.notify import record_and_notify

            with transaction.atomic():
                record_and_notify(order)
    """
    assert rows(tmp_path, {"shop/notify.py": NOTIFY, "shop/services.py": source}, "CEL103") == [
        ("shop/services.py", 8)]


# -- CEL206: the retry one call away ------------------------------------------------------------

RETRYING = """
    from celery.exceptions import Retry


    def retry_later(task, exc):
        raise task.retry(exc=exc, countdown=60)


    def retry_quietly(task, exc):
        task.retry(exc=exc, throw=False)


    def not_ready(name):
        raise Retry(f"{name} is not ready")


    def check(name):
        not_ready(name)


    def check_twice(name):
        check(name)


    def check_thrice(name):
        check_twice(name)
"""


def test_retry_in_a_sibling_handler_not_flagged(tmp_path):
    source = """
        from celery import shared_task

        from shop.retrying import retry_later


        @shared_task(bind=True)
        def fetch(self, url):
            try:
                response = download(url)
            except OSError as exc:
                retry_later(self, exc)
            except Exception:
                response = None
            publish(url, response)
    """
    assert rows(tmp_path, {**HARD_LIMIT_ONLY, "shop/retrying.py": RETRYING,
                           "shop/jobs.py": source}, "CEL206") == []


def test_function_that_retries_the_task_it_is_given(tmp_path):
    source = """
        from celery import shared_task

        from shop.retrying import retry_later


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
    found_ = found(tmp_path, {**HARD_LIMIT_ONLY, "shop/retrying.py": RETRYING,
                              "shop/jobs.py": source}, "CEL206")
    assert [(p, r) for p, r, _ in found_] == [("shop/jobs.py", 12)]
    assert found_[0][2].endswith(
        "; `retry_later()` calls `task.retry()` on the task it is given (shop/retrying.py:5) "
        "(found through function summaries)")


def test_function_that_retries_something_else_it_is_given_not_flagged(tmp_path):
    source = """
        from celery import shared_task

        from shop.models import Order
        from shop.retrying import retry_later, retry_quietly


        @shared_task(bind=True)
        def fetch(self, url, order_id):
            order = Order.objects.get(pk=order_id)
            try:
                retry_later(order, ValueError(url))
                retry_quietly(self, ValueError(url))
            except Exception:
                pass
            publish(url)
    """
    assert rows(tmp_path, {**HARD_LIMIT_ONLY, "shop/retrying.py": RETRYING,
                           "shop/jobs.py": source}, "CEL206") == []


def test_retry_raised_through_a_chain_and_past_the_depth_bound(tmp_path):
    source = """
        from celery import shared_task

        from shop.retrying import check_thrice, check_twice


        @shared_task
        def fetch(url):
            try:
                check_twice(url)
            except Exception:
                pass
            publish(url)


        @shared_task
        def fetch_later(url):
            try:
                check_thrice(url)
            except Exception:
                pass
            publish(url)
    """
    found_ = found(tmp_path, {**HARD_LIMIT_ONLY, "shop/retrying.py": RETRYING,
                              "shop/jobs.py": source}, "CEL206")
    assert [(p, r) for p, r, _ in found_] == [("shop/jobs.py", 10)]
    assert "`check_twice()` calls `check()` (shop/retrying.py:21), which calls `not_ready()` " \
           "(shop/retrying.py:17), which raises `Retry` (shop/retrying.py:13)" in found_[0][2]


# -- CEL206: the soft limit's exception swallowed one call away (a preview part) --------------

SWALLOWING = """
    import logging

    from celery.exceptions import SoftTimeLimitExceeded

    logger = logging.getLogger(__name__)


    def reindex(product_id):
        try:
            rebuild(product_id)
        except Exception:
            logger.exception("Could not reindex %s", product_id)


    def reindex_or_fail(product_id):
        try:
            rebuild(product_id)
        except Exception:
            logger.exception("Could not reindex %s", product_id)
            raise


    def reindex_in_time(product_id):
        try:
            rebuild(product_id)
        except SoftTimeLimitExceeded:
            raise
        except Exception:
            logger.exception("Could not reindex %s", product_id)


    def refresh(product_id):
        reindex(product_id)


    def refresh_twice(product_id):
        refresh(product_id)


    def refresh_thrice(product_id):
        refresh_twice(product_id)


    def ping(product_id):
        pong(product_id)


    def pong(product_id):
        ping(product_id)


    def rebuild_or_explain(product_id, output):
        try:
            text = output.decode()
        except Exception:
            text = output.decode("latin1")
        raise ValueError(f"Could not rebuild {product_id}: {text}")
"""

# the shop's settings give every task a soft limit (helpers.CELERY_APP); these give none
HARD_LIMIT_ONLY = {
    "proj/settings.py": """
        CELERY_BROKER_URL = "redis://localhost:6379/0"
        CELERY_TASK_TIME_LIMIT = 300
    """,
}


def test_function_that_swallows_everything_called_in_a_loop_of_a_task(tmp_path):
    source = """
        from celery import shared_task

        from shop.search import reindex


        @shared_task
        def reindex_catalogue(product_ids):
            for product_id in product_ids:
                reindex(product_id)
    """
    found_ = found(tmp_path, {"shop/search.py": SWALLOWING, "shop/jobs.py": source}, "CEL206",
                   preview=True)
    assert [(p, r) for p, r, _ in found_] == [("shop/jobs.py", 9)]
    assert found_[0][2] == (
        "`reindex()` catches everything in a broad `except` and returns as if nothing happened "
        "(shop/search.py:11): it catches the `SoftTimeLimitExceeded` that the soft time limit "
        "of task `reindex_catalogue` raises to stop it, and the loop of the task goes on with "
        "its next turn: the task runs on past its soft limit until the hard limit, if any, "
        "kills its worker process (found through function summaries)")
    # the preview part of the rule: not in a default run
    assert rows(tmp_path, {"shop/search.py": SWALLOWING, "shop/jobs.py": source},
                "CEL206") == []


def test_function_that_swallows_everything_called_before_more_work(tmp_path):
    source = """
        from celery import shared_task

        from shop.search import reindex


        @shared_task
        def reindex_product(product_id):
            reindex(product_id)
            publish(product_id)


        @shared_task
        def reindex_last(product_id):
            publish(product_id)
            reindex(product_id)
            return product_id


        @shared_task
        def reindex_first(product_ids):
            for product_id in product_ids:
                reindex(product_id)
                return
    """
    assert rows(tmp_path, {"shop/search.py": SWALLOWING, "shop/jobs.py": source}, "CEL206",
                preview=True) == [("shop/jobs.py", 8)]


def test_function_that_reraises_catches_the_soft_limit_first_or_raises_after_not_flagged(
        tmp_path):
    source = """
        from celery import shared_task

        from shop.search import rebuild_or_explain, reindex_in_time, reindex_or_fail


        @shared_task
        def reindex_catalogue(product_ids):
            for product_id in product_ids:
                reindex_or_fail(product_id)
                reindex_in_time(product_id)
                rebuild_or_explain(product_id, b"")
    """
    assert rows(tmp_path, {"shop/search.py": SWALLOWING, "shop/jobs.py": source}, "CEL206",
                preview=True) == []


def test_task_without_a_soft_limit_not_flagged(tmp_path):
    source = """
        from celery import shared_task

        from shop.search import reindex


        @shared_task
        def reindex_catalogue(product_ids):
            for product_id in product_ids:
                reindex(product_id)


        @shared_task(soft_time_limit=60)
        def reindex_limited(product_ids):
            for product_id in product_ids:
                reindex(product_id)
    """
    assert rows(tmp_path, {**HARD_LIMIT_ONLY, "shop/search.py": SWALLOWING,
                           "shop/jobs.py": source}, "CEL206", preview=True) == [
        ("shop/jobs.py", 15)]


def test_swallow_through_a_chain_past_the_depth_bound_and_a_recursive_pair(tmp_path):
    source = """
        from celery import shared_task

        from shop.search import ping, refresh_thrice, refresh_twice


        @shared_task
        def reindex_catalogue(product_ids):
            for product_id in product_ids:
                refresh_twice(product_id)
                refresh_thrice(product_id)
                ping(product_id)
    """
    found_ = found(tmp_path, {"shop/search.py": SWALLOWING, "shop/jobs.py": source}, "CEL206",
                   preview=True)
    assert [(p, r) for p, r, _ in found_] == [("shop/jobs.py", 9)]
    assert found_[0][2].startswith(
        "`refresh_twice()` calls `refresh()` (shop/search.py:37), which calls `reindex()` "
        "(shop/search.py:33), which catches everything")


def test_swallowing_function_called_through_a_variable_not_followed(tmp_path):
    source = """
        from celery import shared_task

        from shop.search import reindex

        STEPS = {"reindex": reindex}


        @shared_task
        def reindex_catalogue(product_ids, indexer):
            step = STEPS["reindex"]
            for product_id in product_ids:
                step(product_id)
                indexer.reindex(product_id)
    """
    assert rows(tmp_path, {"shop/search.py": SWALLOWING, "shop/jobs.py": source}, "CEL206",
                preview=True) == []


# -- CEL204: a retry one call away ---------------------------------------------------------------

GIVE_UP = """
    def retry_later(task, exc):
        task.retry(exc=exc, countdown=60)


    def retry_if_young(task, exc):
        if task.request.retries < 3:
            raise task.retry(exc=exc)


    def retry_unless_done(task, exc, done):
        if done:
            return
        raise task.retry(exc=exc)
"""


def test_statements_after_a_call_of_a_function_that_always_retries(tmp_path):
    source = """
        from celery import shared_task

        from shop.retrying import retry_later


        @shared_task(bind=True)
        def fetch(self, url):
            try:
                return download(url)
            except OSError as exc:
                retry_later(self, exc)
                mark_failed(url)
    """
    found_ = found(tmp_path, {"shop/retrying.py": GIVE_UP, "shop/jobs.py": source}, "CEL204")
    assert [(p, r) for p, r, _ in found_] == [("shop/jobs.py", 11)]
    assert found_[0][2] == (
        "`retry_later()` calls `task.retry()` on the task it is given (shop/retrying.py:2) "
        "every time it is called, so the statement after this call never runs: move it before "
        "the call if it should run, or delete it (found through function summaries)")


def test_call_of_a_function_that_retries_only_in_a_branch_not_flagged(tmp_path):
    source = """
        from celery import shared_task

        from shop.models import Order
        from shop.retrying import retry_if_young, retry_later, retry_unless_done


        @shared_task(bind=True)
        def fetch(self, url, order_id):
            try:
                return download(url)
            except OSError as exc:
                retry_if_young(self, exc)
                retry_unless_done(self, exc, done=False)
                retry_later(Order.objects.get(pk=order_id), exc)
                mark_failed(url)
            finally:
                retry_later(self, None)
    """
    assert rows(tmp_path, {"shop/retrying.py": GIVE_UP, "shop/jobs.py": source}, "CEL204") == []
