"""CEL203 non-idempotent-task: one shape per test, the flagged shape and its guarded near-miss side
by side."""

from __future__ import annotations

from pathlib import Path

from helpers import CELERY_APP, MODELS, lint, run_project, write_project

from celery_lint.config import load_config
from celery_lint.runner import run

TASKS = "shop/tasks.py"

# The app of helpers.CELERY_APP with the seed guide's production checklist: acks late for every
# task that does not say otherwise.
ACKS_LATE_SETTINGS = """
    CELERY_BROKER_URL = "redis://localhost:6379/0"
    CELERY_TASK_TIME_LIMIT = 300
    CELERY_TASK_SOFT_TIME_LIMIT = 240
    CELERY_TASK_ACKS_LATE = True
"""


def project(source: str, settings: str | None = None, **files: str) -> dict[str, str]:
    """CELERY_APP with shop/models.py = MODELS and shop/tasks.py = `source`; `files` adds modules
    (`shop__services="..."` is shop/services.py)."""
    found = {**CELERY_APP, "shop/models.py": MODELS, "shop/tasks.py": source}
    if settings is not None:
        found["proj/settings.py"] = settings
    found.update({name.replace("__", "/") + ".py": text for name, text in files.items()})
    return found


def flagged(root: Path, source: str, settings: str | None = None, config: dict[str, object] | None
            = None, **files: str) -> list[tuple[str, str, int]]:
    """(code, path, row) of CEL203 in the project of `project(source, settings, **files)`."""
    return lint(root, project(source, settings, **files), select=("CEL203",), **(config or {}))


# -- the seed guide: charge_and_fulfill, mark_order_shipped ------------------------------------

def test_seed_charge_and_fulfill_under_global_acks_late(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task
        def charge_and_fulfill(order_id):
            order.charge()     # May charge twice if task retries!
            order.fulfill()
    """
    assert flagged(tmp_path, source, ACKS_LATE_SETTINGS) == [("CEL203", TASKS, 5)]


def test_seed_charge_and_fulfill_with_select_for_update_and_status_check(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.models import Order


        @shared_task
        def charge_and_fulfill(order_id):
            order = Order.objects.select_for_update().get(pk=order_id)
            if order.status != Order.Status.PENDING:
                return  # Already processed
            order.charge()
            order.fulfill()
    """
    assert flagged(tmp_path, source, ACKS_LATE_SETTINGS) == []


def test_seed_mark_order_shipped_under_global_acks_late(tmp_path: Path) -> None:
    source = """
        import logging

        from celery import shared_task

        logger = logging.getLogger(__name__)


        @shared_task(name='orders.mark_shipped')
        def mark_order_shipped(order_id: int, tracking_number: str) -> None:
            from shop.models import Order

            updated = Order.objects.filter(
                pk=order_id,
                status=Order.Status.PROCESSING,
            ).update(
                status=Order.Status.SHIPPED,
                tracking_number=tracking_number,
            )

            if not updated:
                logger.info('mark_order_shipped: order %s already shipped', order_id)
    """
    assert flagged(tmp_path, source, ACKS_LATE_SETTINGS) == []


def test_status_filtered_update_checked_before_the_mail(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import send_mail

        from shop.models import Order


        @shared_task
        def mark_order_shipped(order_id, email):
            updated = Order.objects.filter(pk=order_id, status="processing").update(
                status="shipped")
            if not updated:
                return
            send_mail("Shipped", "Your order is on its way", None, [email])
    """
    assert flagged(tmp_path, source, ACKS_LATE_SETTINGS) == []


def test_status_filtered_update_unchecked_before_the_mail(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import send_mail

        from shop.models import Order


        @shared_task
        def mark_order_shipped(order_id, email):
            Order.objects.filter(pk=order_id, status="processing").update(status="shipped")
            send_mail("Shipped", "Your order is on its way", None, [email])
    """
    assert flagged(tmp_path, source, ACKS_LATE_SETTINGS) == [("CEL203", TASKS, 8)]


# -- what makes a task run twice -----------------------------------------------------------------

def test_acks_late_task_option(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import send_mail


        @shared_task(acks_late=True)
        def send_receipt(email):
            send_mail("Receipt", "Thank you", None, [email])
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 6)]


def test_autoretry_for(tmp_path: Path) -> None:
    source = """
        import requests
        from celery import shared_task


        @shared_task(autoretry_for=(ConnectionError,), max_retries=3)
        def push_order(order_id):
            requests.post("https://erp.example.com/orders", json={"id": order_id}, timeout=10)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 6)]


def test_self_retry(tmp_path: Path) -> None:
    source = """
        import stripe
        from celery import shared_task


        @shared_task(bind=True, max_retries=3)
        def charge_order(self, order_id, amount):
            try:
                stripe.Charge.create(amount=amount, currency="eur")
            except stripe.error.APIConnectionError as exc:
                raise self.retry(exc=exc)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 6)]


def test_task_that_cannot_run_twice(tmp_path: Path) -> None:
    source = """
        import stripe
        from celery import shared_task


        @shared_task
        def charge_order(order_id, amount):
            stripe.Charge.create(amount=amount, currency="eur")
    """
    assert flagged(tmp_path, source) == []


def test_global_acks_late(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import send_mail


        @shared_task
        def send_receipt(email):
            send_mail("Receipt", "Thank you", None, [email])
    """
    assert flagged(tmp_path, source, ACKS_LATE_SETTINGS) == [("CEL203", TASKS, 6)]


def test_global_acks_late_turned_off_by_the_task(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import send_mail


        @shared_task(acks_late=False)
        def send_receipt(email):
            send_mail("Receipt", "Thank you", None, [email])
    """
    assert flagged(tmp_path, source, ACKS_LATE_SETTINGS) == []


def test_app_task_with_acks_late(tmp_path: Path) -> None:
    source = """
        from django.core.mail import send_mail

        from proj.celery import app


        @app.task(acks_late=True)
        def send_receipt(email):
            send_mail("Receipt", "Thank you", None, [email])
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 7)]


# -- payments ------------------------------------------------------------------------------------

def test_stripe_charge_without_idempotency_key(tmp_path: Path) -> None:
    source = """
        import stripe
        from celery import shared_task


        @shared_task(acks_late=True)
        def charge_order(order_id, amount):
            stripe.PaymentIntent.create(amount=amount, currency="eur", confirm=True)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 6)]


def test_stripe_charge_with_idempotency_key(tmp_path: Path) -> None:
    source = """
        import stripe
        from celery import shared_task


        @shared_task(acks_late=True)
        def charge_order(order_id, amount):
            stripe.PaymentIntent.create(amount=amount, currency="eur", confirm=True,
                                        idempotency_key=f"order-{order_id}")
    """
    assert flagged(tmp_path, source) == []


def test_refund_by_name(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.payments import gateway


        @shared_task(acks_late=True)
        def refund_order(order_id):
            gateway.refund_payment(order_id)
    """
    assert flagged(tmp_path, source, shop__payments="gateway = None\n") == [("CEL203", TASKS, 7)]


def test_sentry_capture_exception_is_not_a_payment(tmp_path: Path) -> None:
    source = """
        import sentry_sdk
        from celery import shared_task


        @shared_task(acks_late=True)
        def report(error):
            sentry_sdk.capture_exception(error)
    """
    assert flagged(tmp_path, source) == []


# -- external writes -----------------------------------------------------------------------------

def test_requests_post_without_idempotency_header(tmp_path: Path) -> None:
    source = """
        import requests
        from celery import shared_task


        @shared_task(acks_late=True)
        def create_shipment(order_id):
            requests.post("https://carrier.example.com/shipments", json={"ref": order_id},
                          headers={"Authorization": "Bearer x"}, timeout=10)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 6)]


def test_requests_post_with_idempotency_header(tmp_path: Path) -> None:
    source = """
        import requests
        from celery import shared_task


        @shared_task(acks_late=True)
        def create_shipment(order_id):
            requests.post("https://carrier.example.com/shipments", json={"ref": order_id},
                          headers={"Idempotency-Key": f"shipment-{order_id}"}, timeout=10)
    """
    assert flagged(tmp_path, source) == []


def test_requests_post_with_idempotency_header_in_a_variable(tmp_path: Path) -> None:
    source = """
        import requests
        from celery import shared_task


        @shared_task(acks_late=True)
        def create_shipment(order_id):
            headers = {"Idempotency-Key": f"shipment-{order_id}"}
            requests.post("https://carrier.example.com/shipments", json={"ref": order_id},
                          headers=headers, timeout=10)
    """
    assert flagged(tmp_path, source) == []


def test_requests_get_is_not_a_write(tmp_path: Path) -> None:
    source = """
        import requests
        from celery import shared_task


        @shared_task(acks_late=True)
        def fetch_rates():
            return requests.get("https://rates.example.com/eur", timeout=10).json()
    """
    assert flagged(tmp_path, source) == []


def test_session_post(tmp_path: Path) -> None:
    source = """
        import requests
        from celery import shared_task


        @shared_task(acks_late=True)
        def create_shipment(order_id):
            session = requests.Session()
            session.post("https://carrier.example.com/shipments", json={"ref": order_id})
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 6)]


# -- mail and notifications ----------------------------------------------------------------------

def test_send_mail_in_a_loop(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import send_mail


        @shared_task(acks_late=True)
        def send_newsletter(emails):
            for email in emails:
                send_mail("News", "This month", None, [email])
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 6)]


def test_email_message_send(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import EmailMessage


        @shared_task(acks_late=True)
        def send_invoice(email):
            EmailMessage("Invoice", "Attached", to=[email]).send()
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 6)]


def test_email_message_built_then_sent(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import EmailMessage


        @shared_task(acks_late=True)
        def send_invoice(email):
            message = EmailMessage("Invoice", "Attached", to=[email])
            message.send()
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 6)]


def test_email_message_built_but_not_sent(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import EmailMessage


        @shared_task(acks_late=True)
        def render_invoice(email):
            return EmailMessage("Invoice", "Attached", to=[email]).message()
    """
    assert flagged(tmp_path, source) == []


def test_twilio_message(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from twilio.rest import Client


        @shared_task(acks_late=True)
        def text_customer(phone):
            client = Client("sid", "token")
            client.messages.create(to=phone, from_="+10000000000", body="Shipped")
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 6)]


def test_mail_already_sent_flag_checked_first(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import send_mail

        from shop.models import Order


        @shared_task(acks_late=True)
        def send_receipt(order_id):
            order = Order.objects.get(pk=order_id)
            if order.receipt_sent:
                return
            send_mail("Receipt", "Thank you", None, [order.email])
            Order.objects.filter(pk=order_id).update(receipt_sent=True)
    """
    assert flagged(tmp_path, source) == []


# -- rows ----------------------------------------------------------------------------------------

def test_objects_create(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.models import Invoice


        @shared_task(acks_late=True)
        def create_invoice(order_id):
            Invoice.objects.create(order_id=order_id)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 7)]


def test_objects_get_or_create(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.models import Invoice


        @shared_task(acks_late=True)
        def create_invoice(order_id):
            Invoice.objects.get_or_create(order_id=order_id)
    """
    assert flagged(tmp_path, source) == []


def test_bulk_create(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.models import Invoice


        @shared_task(acks_late=True)
        def create_invoices(order_ids):
            Invoice.objects.bulk_create([Invoice(order_id=i) for i in order_ids])
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 7)]


def test_related_set_create(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.models import Order


        @shared_task(acks_late=True)
        def create_invoice(order_id):
            order = Order.objects.get(pk=order_id)
            order.invoice_set.create()
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 7)]


def test_model_instance_saved(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.models import Invoice


        @shared_task(acks_late=True)
        def create_invoice(order_id):
            invoice = Invoice(order_id=order_id)
            invoice.save()
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 7)]


def test_non_model_instance_saved(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.reports import Report


        @shared_task(acks_late=True)
        def build_report(order_id):
            report = Report(order_id)
            report.save()
    """
    reports = """
        class Report:
            def __init__(self, order_id):
                self.order_id = order_id

            def save(self):
                return self.order_id
    """
    assert flagged(tmp_path, source, shop__reports=reports) == []


def test_insert_that_catches_integrity_error(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.db import IntegrityError

        from shop.models import Invoice


        @shared_task(acks_late=True)
        def create_invoice(order_id):
            try:
                Invoice.objects.create(order_id=order_id)
            except IntegrityError:
                return
    """
    assert flagged(tmp_path, source) == []


def test_rows_inside_transaction_atomic(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.db import transaction

        from shop.models import Invoice, Order


        @shared_task(acks_late=True)
        def create_invoice(order_id):
            with transaction.atomic():
                Invoice.objects.create(order_id=order_id)
                Order.objects.filter(pk=order_id).update(status="invoiced")
    """
    assert flagged(tmp_path, source) == []


def test_rows_in_an_atomic_task(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.db import transaction

        from shop.models import Invoice


        @shared_task(acks_late=True)
        @transaction.atomic
        def create_invoice(order_id):
            Invoice.objects.create(order_id=order_id)
    """
    assert flagged(tmp_path, source) == []


def test_mail_inside_transaction_atomic(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import send_mail
        from django.db import transaction

        from shop.models import Invoice


        @shared_task(acks_late=True)
        def create_invoice(order_id, email):
            with transaction.atomic():
                Invoice.objects.create(order_id=order_id)
                send_mail("Invoice", "Attached", None, [email])
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 9)]


# -- counters ------------------------------------------------------------------------------------

def test_counter_f_plus_one(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.db.models import F

        from shop.models import Order


        @shared_task(acks_late=True)
        def count_view(order_id):
            Order.objects.filter(pk=order_id).update(views=F("views") + 1)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 8)]


def test_counter_set_to_a_value(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.models import Order


        @shared_task(acks_late=True)
        def reset_views(order_id):
            Order.objects.filter(pk=order_id).update(views=0)
    """
    assert flagged(tmp_path, source) == []


def test_counter_incr(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.cache import cache


        @shared_task(acks_late=True)
        def count_download(file_id):
            cache.incr(f"downloads:{file_id}")
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 6)]


def test_counter_attribute_plus_equals(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.models import Order


        @shared_task(acks_late=True)
        def count_view(order_id):
            order = Order.objects.get(pk=order_id)
            order.views += 1
            order.save()
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 7)]


def test_local_counter_is_not_a_side_effect(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(acks_late=True)
        def count_lines(text):
            total = 0
            for _ in text.splitlines():
                total += 1
            return total
    """
    assert flagged(tmp_path, source) == []


# -- guards --------------------------------------------------------------------------------------

def test_cache_add_lock(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import send_mail
        from django.core.cache import cache


        @shared_task(acks_late=True)
        def send_receipt(order_id, email):
            if not cache.add(f"receipt:{order_id}", 1, timeout=86400):
                return
            send_mail("Receipt", "Thank you", None, [email])
    """
    assert flagged(tmp_path, source) == []


def test_redis_set_nx(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import send_mail

        from shop.redis import client


        @shared_task(acks_late=True)
        def send_receipt(order_id, email):
            if not client.set(f"receipt:{order_id}", 1, nx=True, ex=86400):
                return
            send_mail("Receipt", "Thank you", None, [email])
    """
    assert flagged(tmp_path, source, shop__redis="client = None\n") == []


def test_objects_update_or_create(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.models import Invoice


        @shared_task(acks_late=True)
        def create_invoice(order_id):
            Invoice.objects.update_or_create(order_id=order_id, defaults={"status": "new"})
    """
    assert flagged(tmp_path, source) == []


def test_with_redis_lock(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import send_mail

        from shop.redis import client


        @shared_task(acks_late=True)
        def send_receipt(order_id, email):
            with client.lock(f"receipt:{order_id}", timeout=60):
                send_mail("Receipt", "Thank you", None, [email])
    """
    assert flagged(tmp_path, source, shop__redis="client = None\n") == []


def test_early_return_on_exists(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.models import Invoice


        @shared_task(acks_late=True)
        def create_invoice(order_id):
            if Invoice.objects.filter(order_id=order_id).exists():
                return
            Invoice.objects.create(order_id=order_id)
    """
    assert flagged(tmp_path, source) == []


def test_early_return_on_a_parameter_only_is_no_guard(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.models import Invoice


        @shared_task(acks_late=True)
        def create_invoice(order_id):
            if not order_id:
                return
            Invoice.objects.create(order_id=order_id)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 7)]


def test_state_checked_only_after_the_charge_is_no_guard(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.models import Order


        @shared_task(acks_late=True)
        def charge_order(order_id):
            order = Order.objects.get(pk=order_id)
            order.charge()
            if order.status == "paid":
                return
            Order.objects.filter(pk=order_id).update(status="paid")
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 7)]


def test_select_for_update_with_status_check_that_raises(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from celery.exceptions import Ignore
        from django.db import transaction

        from shop.models import Order


        @shared_task(acks_late=True)
        def charge_order(order_id):
            with transaction.atomic():
                order = Order.objects.select_for_update().get(pk=order_id)
                if order.status == "paid":
                    raise Ignore()
                order.charge()
    """
    assert flagged(tmp_path, source) == []


# -- one call deep -------------------------------------------------------------------------------

SERVICES = """
    from shop.models import Order


    def fulfil_order(order_id):
        order = Order.objects.get(pk=order_id)
        order.charge()


    def fulfil_order_once(order_id):
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != "pending":
            return
        order.charge()


    def charge_order_once(order_id):
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != "pending":
            return
        order.charge()
"""


def test_effect_one_call_deep_in_a_services_module(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop import services


        @shared_task(acks_late=True)
        def fulfil(order_id):
            services.fulfil_order(order_id)
    """
    assert flagged(tmp_path, source, shop__services=SERVICES) == [("CEL203", TASKS, 7)]


def test_effect_one_call_deep_imported_by_name(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.services import fulfil_order


        @shared_task(acks_late=True)
        def fulfil(order_id):
            fulfil_order(order_id)
    """
    assert flagged(tmp_path, source, shop__services=SERVICES) == [("CEL203", TASKS, 7)]


def test_guarded_helper_one_call_deep(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop import services


        @shared_task(acks_late=True)
        def fulfil(order_id):
            services.fulfil_order_once(order_id)
    """
    assert flagged(tmp_path, source, shop__services=SERVICES) == []


def test_effect_two_calls_deep_is_not_followed(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.orders import fulfil


        @shared_task(acks_late=True)
        def fulfil_later(order_id):
            fulfil(order_id)
    """
    orders = """
        from shop.services import fulfil_order


        def fulfil(order_id):
            fulfil_order(order_id)
    """
    assert flagged(tmp_path, source, shop__services=SERVICES, shop__orders=orders) == []


def test_guarded_helper_named_like_a_payment(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop import services


        @shared_task(acks_late=True)
        def fulfil(order_id):
            services.charge_order_once(order_id)
    """
    assert flagged(tmp_path, source, shop__services=SERVICES) == []


def test_effect_only_in_a_nested_function(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import send_mail


        @shared_task(acks_late=True)
        def prepare_receipt(email):
            def send():
                send_mail("Receipt", "Thank you", None, [email])
            return send
    """
    assert flagged(tmp_path, source) == []


def test_effect_only_in_a_lambda(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import send_mail


        @shared_task(acks_late=True)
        def prepare_receipt(email):
            return lambda: send_mail("Receipt", "Thank you", None, [email])
    """
    assert flagged(tmp_path, source) == []


# -- side-effect-calls ---------------------------------------------------------------------------

LEDGER_TASK = """
    from celery import shared_task

    from shop.ledger import post_entry


    @shared_task(acks_late=True)
    def book_sale(order_id):
        post_entry(order_id)
"""


def test_side_effect_calls_makes_a_custom_call_count(tmp_path: Path) -> None:
    config: dict[str, object] = {"side_effect_calls": ("ledger.post_entry",)}
    assert flagged(tmp_path, LEDGER_TASK, config=config,
                   shop__ledger="def post_entry(order_id):\n    return order_id\n") == [
        ("CEL203", TASKS, 7)]


def test_custom_call_without_side_effect_calls(tmp_path: Path) -> None:
    assert flagged(tmp_path, LEDGER_TASK,
                   shop__ledger="def post_entry(order_id):\n    return order_id\n") == []


def test_side_effect_calls_read_from_pyproject(tmp_path: Path) -> None:
    files = project(LEDGER_TASK, shop__ledger="def post_entry(order_id):\n    return order_id\n")
    files["pyproject.toml"] = (
        '[tool.celery-lint]\nselect = ["CEL203"]\nside-effect-calls = ["shop.ledger.post_entry"]\n')
    write_project(tmp_path, files)
    result = run([tmp_path], load_config(tmp_path))
    assert [(d.code, d.location.row) for d in result.diagnostics] == [("CEL203", 7)]


# -- noqa and the message ------------------------------------------------------------------------

def test_noqa_on_the_def_line(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import send_mail


        @shared_task(acks_late=True)
        def send_receipt(email):  # noqa: CEL203
            send_mail("Receipt", "Thank you", None, [email])
    """
    assert flagged(tmp_path, source) == []


def test_message_names_the_effect_and_the_reason(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task
        def charge_and_fulfill(order_id):
            order.charge()
            order.fulfill()
    """
    result = run_project(tmp_path, project(source, ACKS_LATE_SETTINGS), ("CEL203",))
    [message] = [d.message for d in result.diagnostics]
    assert message.startswith(
        "Task `charge_and_fulfill` charges money (`order.charge`) and can run twice: the project "
        "acknowledges late (`CELERY_TASK_ACKS_LATE = True`)")
