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
            carrier.book_pickup(order_id)
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
            crm.log_contact(email)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 6)]


def test_autoretry_for(tmp_path: Path) -> None:
    source = """
        import requests
        from celery import shared_task


        @shared_task(autoretry_for=(ConnectionError,), max_retries=3)
        def push_order(order_id):
            requests.post("https://erp.example.com/orders", json={"id": order_id}, timeout=10)
            requests.post("https://crm.example.com/orders", json={"id": order_id}, timeout=10)
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
                stripe.Transfer.create(amount=amount, currency="eur", destination="acct_1")
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
            stripe.Transfer.create(amount=amount, currency="eur", destination="acct_1")
    """
    assert flagged(tmp_path, source) == []


def test_global_acks_late(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import send_mail


        @shared_task
        def send_receipt(email):
            send_mail("Receipt", "Thank you", None, [email])
            crm.log_contact(email)
    """
    assert flagged(tmp_path, source, ACKS_LATE_SETTINGS) == [("CEL203", TASKS, 6)]


def test_global_acks_late_turned_off_by_the_task(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import send_mail


        @shared_task(acks_late=False)
        def send_receipt(email):
            send_mail("Receipt", "Thank you", None, [email])
            crm.log_contact(email)
    """
    assert flagged(tmp_path, source, ACKS_LATE_SETTINGS) == []


def test_app_task_with_acks_late(tmp_path: Path) -> None:
    source = """
        from django.core.mail import send_mail

        from proj.celery import app


        @app.task(acks_late=True)
        def send_receipt(email):
            send_mail("Receipt", "Thank you", None, [email])
            crm.log_contact(email)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 7)]


# -- when an effect can really happen twice ------------------------------------------------------

def test_mail_sent_last_under_autoretry_cannot_repeat(tmp_path: Path) -> None:
    """Whatever raises the retried error runs before the mail, or is the mail failing: when the
    next attempt starts, no mail went out."""
    source = """
        from celery import shared_task
        from django.core.mail import EmailMessage


        @shared_task(autoretry_for=(Exception,), max_retries=4)
        def mail_export_report(address, export_id):
            body = render_export_summary(export_id)
            EmailMessage("Your export", body, to=[address]).send()
    """
    assert flagged(tmp_path, source) == []


def test_mail_then_more_work_under_autoretry(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import EmailMessage


        @shared_task(autoretry_for=(Exception,), max_retries=4)
        def mail_export_report(address, export_id):
            body = render_export_summary(export_id)
            EmailMessage("Your export", body, to=[address]).send()
            storage.delete_export(export_id)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 6)]


def test_only_logging_and_a_return_after_the_effect(tmp_path: Path) -> None:
    source = """
        import logging

        from celery import shared_task
        from django.core.mail import send_mail

        logger = logging.getLogger(__name__)


        @shared_task(acks_late=True, autoretry_for=(OSError,))
        def mail_password_reset(address, link):
            send_mail("Reset your password", link, None, [address])
            logger.info("reset link mailed to %s", address)
            return len(link)
    """
    assert flagged(tmp_path, source) == []


def test_webhook_refused_then_retried_is_the_effect_failing(tmp_path: Path) -> None:
    """A POST that the receiver refuses raises in `raise_for_status()`: the retry sends it again
    because it was not taken, not a second time."""
    source = """
        import requests
        from celery import shared_task


        @shared_task(bind=True, max_retries=6)
        def deliver_hook(self, url, payload):
            try:
                answer = requests.post(url, json=payload, timeout=5)
                answer.raise_for_status()
            except requests.RequestException as exc:
                raise self.retry(exc=exc, countdown=30)
            return answer.status_code
    """
    assert flagged(tmp_path, source) == []


def test_webhook_status_checked_then_retried_is_the_effect_failing(tmp_path: Path) -> None:
    source = """
        import requests
        from celery import shared_task


        @shared_task(bind=True, max_retries=6)
        def deliver_hook(self, url, payload):
            answer = requests.post(url, json=payload, timeout=5)
            if answer.status_code >= 500:
                raise self.retry(countdown=30)
    """
    assert flagged(tmp_path, source) == []


def test_webhook_then_a_second_call_inside_the_retried_try(tmp_path: Path) -> None:
    source = """
        import requests
        from celery import shared_task


        @shared_task(bind=True, max_retries=6)
        def deliver_hook(self, url, payload):
            try:
                requests.post(url, json=payload, timeout=5)
                requests.post(url + "/ack", json={"id": payload["id"]}, timeout=5)
            except requests.RequestException as exc:
                raise self.retry(exc=exc, countdown=30)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 6)]


def test_retry_only_around_the_work_before_the_effect(tmp_path: Path) -> None:
    source = """
        import requests
        from celery import shared_task


        @shared_task(bind=True, max_retries=6)
        def forward_reading(self, sensor_id):
            try:
                reading = requests.get(f"https://sensors.example.com/{sensor_id}", timeout=5)
            except requests.RequestException as exc:
                raise self.retry(exc=exc)
            requests.post("https://archive.example.com/readings", json=reading.json())
            archive.notify_subscribers(sensor_id)
    """
    assert flagged(tmp_path, source) == []


def test_retry_after_the_effect(tmp_path: Path) -> None:
    source = """
        import requests
        from celery import shared_task


        @shared_task(bind=True, max_retries=6)
        def forward_reading(self, sensor_id, reading):
            requests.post("https://archive.example.com/readings", json=reading)
            if not archive.is_indexed(sensor_id):
                raise self.retry(countdown=60)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 6)]


def test_mails_in_a_loop_with_a_network_autoretry(tmp_path: Path) -> None:
    """The third mail failing retries the task, and the first two go out again."""
    source = """
        from celery import shared_task
        from django.core.mail import EmailMultiAlternatives


        @shared_task(autoretry_for=(ConnectionRefusedError, OSError), retry_backoff=60)
        def mail_digest(entries):
            for entry in entries:
                digest = EmailMultiAlternatives(entry["subject"], entry["text"],
                                                to=[entry["to"]])
                digest.attach_alternative(entry["html"], "text/html")
                digest.send()
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 6)]


def test_mails_in_a_comprehension(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import send_mail


        @shared_task(autoretry_for=(OSError,))
        def mail_everyone(addresses):
            return [send_mail("Hello", "News", None, [a]) for a in addresses]
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 6)]


def test_network_autoretry_does_not_retry_a_failed_save_after_the_mail(tmp_path: Path) -> None:
    source = """
        from smtplib import SMTPException

        from celery import shared_task
        from django.core.mail import send_mail
        from django.utils import timezone

        from shop.models import Order


        @shared_task(autoretry_for=(SMTPException,))
        def mail_receipt(order_id):
            order = Order.objects.get(pk=order_id)
            send_mail("Receipt", "Thanks", None, [order.email])
            order.receipt_mailed_on = timezone.now()
            order.save(update_fields=["receipt_mailed_on"])
    """
    assert flagged(tmp_path, source) == []


def test_broad_autoretry_retries_a_failed_save_after_the_mail(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import send_mail

        from shop.models import Order


        @shared_task(autoretry_for=(Exception,))
        def mail_receipt(order_id, address):
            send_mail("Receipt", "Thanks", None, [address])
            Order.objects.filter(pk=order_id).update(status="receipt-mailed")
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 8)]


def test_work_after_the_effect_whose_errors_are_swallowed(tmp_path: Path) -> None:
    source = """
        import logging

        from celery import shared_task
        from django.core.mail import send_mail

        logger = logging.getLogger(__name__)


        @shared_task(autoretry_for=(Exception,))
        def mail_welcome(address):
            send_mail("Welcome", "Hello", None, [address])
            try:
                newsletter.subscribe(address)
            except Exception:
                logger.warning("could not subscribe %s", address)
    """
    assert flagged(tmp_path, source) == []


def test_acks_late_with_only_database_work_after_the_effect(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import send_mail

        from shop.models import Order


        @shared_task(acks_late=True)
        def mail_receipt(order_id, address):
            send_mail("Receipt", "Thanks", None, [address])
            Order.objects.filter(pk=order_id).update(status="receipt-mailed")
    """
    assert flagged(tmp_path, source) == []


def test_acks_late_with_only_an_enqueue_after_the_row(tmp_path: Path) -> None:
    """An outbox row, then its sending task published: quick work, like a database write."""
    source = """
        from celery import shared_task

        from shop.models import Invoice
        from shop.mailing import mail_invoice


        @shared_task(acks_late=True)
        def queue_invoice_mail(order_id):
            invoice = Invoice.objects.create(order_id=order_id)
            mail_invoice.delay(invoice.pk)
    """
    assert flagged(tmp_path, source) == []


def test_broad_autoretry_with_an_enqueue_after_the_row(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.models import Invoice
        from shop.mailing import mail_invoice


        @shared_task(autoretry_for=(Exception,))
        def queue_invoice_mail(order_id):
            invoice = Invoice.objects.create(order_id=order_id)
            mail_invoice.delay(invoice.pk)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 8)]


def test_a_row_per_attempt_is_no_duplicate(tmp_path: Path) -> None:
    source = """
        import requests
        from celery import shared_task

        from shop.models import HookAttempt


        @shared_task(autoretry_for=(requests.RequestException,))
        def deliver_hook(url, payload):
            HookAttempt.objects.create(url=url)
            requests.post(url, json=payload, timeout=5).raise_for_status()
    """
    assert flagged(tmp_path, source) == []


def test_a_row_the_attempt_produces_is_a_duplicate(tmp_path: Path) -> None:
    source = """
        import requests
        from celery import shared_task

        from shop.models import Invoice


        @shared_task(autoretry_for=(requests.RequestException,))
        def invoice_and_notify(order_id, url):
            Invoice.objects.create(order_id=order_id)
            requests.post(url, json={"order": order_id}, timeout=5).raise_for_status()
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 8)]


def test_effect_last_in_the_function_the_task_calls_last(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.mailing import mail_invoice


        @shared_task(acks_late=True)
        def send_invoice(order_id):
            mail_invoice(order_id)
    """
    mailing = """
        from django.core.mail import send_mail


        def mail_invoice(order_id):
            text = f"Invoice for order {order_id}"
            send_mail("Invoice", text, None, ["billing@example.com"])
    """
    assert flagged(tmp_path, source, shop__mailing=mailing) == []


def test_effect_followed_by_work_in_the_function_the_task_calls(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.mailing import mail_invoice


        @shared_task(acks_late=True)
        def send_invoice(order_id):
            mail_invoice(order_id)
    """
    mailing = """
        from django.core.mail import send_mail


        def mail_invoice(order_id):
            send_mail("Invoice", "Attached", None, ["billing@example.com"])
            archive.store_invoice(order_id)
    """
    assert flagged(tmp_path, source, shop__mailing=mailing) == [("CEL203", TASKS, 7)]


def test_effect_in_a_called_function_then_work_in_the_task(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.mailing import mail_invoice


        @shared_task(acks_late=True)
        def send_invoice(order_id):
            mail_invoice(order_id)
            archive.store_invoice(order_id)
    """
    mailing = """
        from django.core.mail import send_mail


        def mail_invoice(order_id):
            send_mail("Invoice", "Attached", None, ["billing@example.com"])
    """
    assert flagged(tmp_path, source, shop__mailing=mailing) == [("CEL203", TASKS, 7)]


# -- payments ------------------------------------------------------------------------------------

def test_stripe_charge_without_idempotency_key(tmp_path: Path) -> None:
    source = """
        import stripe
        from celery import shared_task


        @shared_task(acks_late=True)
        def charge_order(order_id, amount):
            stripe.PaymentIntent.create(amount=amount, currency="eur", confirm=True)
            fulfil_order(order_id)
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
            fulfil_order(order_id)
    """
    assert flagged(tmp_path, source) == []


def test_refund_by_name(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.payments import gateway


        @shared_task(acks_late=True)
        def refund_order(order_id):
            gateway.refund_payment(order_id)
            gateway.close_order(order_id)
    """
    assert flagged(tmp_path, source, shop__payments="gateway = None\n") == [("CEL203", TASKS, 7)]


def test_sentry_capture_exception_is_not_a_payment(tmp_path: Path) -> None:
    source = """
        import sentry_sdk
        from celery import shared_task


        @shared_task(acks_late=True)
        def report(error):
            sentry_sdk.capture_exception(error)
            alerts.page_on_call(error)
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
            warehouse.release(order_id)
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
            warehouse.release(order_id)
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
            warehouse.release(order_id)
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
            warehouse.release(order_id)
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
            crm.log_contact(email)
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
            crm.log_contact(email)
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
            crm.log_contact(phone)
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
            crm.log_contact(order.email)
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
            accounting.export_invoices(order_id)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 7)]


def test_objects_get_or_create(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.models import Invoice


        @shared_task(acks_late=True)
        def create_invoice(order_id):
            Invoice.objects.get_or_create(order_id=order_id)
            accounting.export_invoices(order_id)
    """
    assert flagged(tmp_path, source) == []


def test_bulk_create(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.models import Invoice


        @shared_task(acks_late=True)
        def create_invoices(order_ids):
            Invoice.objects.bulk_create([Invoice(order_id=i) for i in order_ids])
            accounting.export_invoices(order_ids)
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
            accounting.export_invoices(order_id)
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
            accounting.export_invoices(order_id)
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
            accounting.export_invoices(order_id)
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
            accounting.export_invoices(order_id)
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
            accounting.export_invoices(order_id)
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
            accounting.export_invoices(order_id)
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
                accounting.export_invoices(order_id)
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
            analytics.track_view(order_id)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 8)]


def test_counter_set_to_a_value(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.models import Order


        @shared_task(acks_late=True)
        def reset_views(order_id):
            Order.objects.filter(pk=order_id).update(views=0)
            analytics.track_view(order_id)
    """
    assert flagged(tmp_path, source) == []


def test_counter_incr(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.cache import cache


        @shared_task(acks_late=True)
        def count_download(file_id):
            cache.incr(f"downloads:{file_id}")
            analytics.track_download(file_id)
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
            analytics.track_view(order_id)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 7)]


def test_counter_of_a_time_window_is_a_rate_limit(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.redis import client


        @shared_task(acks_late=True)
        def throttle_partner(partner_id):
            window = client.pipeline()
            window.incr(f"calls:{partner_id}")
            window.expire(f"calls:{partner_id}", 60)
            window.execute()
            partners.forward_queue(partner_id)
    """
    assert flagged(tmp_path, source, shop__redis="client = None\n") == []


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
            crm.log_contact(email)
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
            crm.log_contact(email)
    """
    assert flagged(tmp_path, source, shop__redis="client = None\n") == []


def test_objects_update_or_create(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.models import Invoice


        @shared_task(acks_late=True)
        def create_invoice(order_id):
            Invoice.objects.update_or_create(order_id=order_id, defaults={"status": "new"})
            accounting.export_invoices(order_id)
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
            crm.log_contact(email)
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
            accounting.export_invoices(order_id)
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
            accounting.export_invoices(order_id)
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
            order.ship()
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
                order.ship()
    """
    assert flagged(tmp_path, source) == []


def test_early_return_that_does_not_look_at_what_the_task_did(tmp_path: Path) -> None:
    """An inactive user is skipped, but nothing records that the mail went out: a second run
    passes the same check and mails again."""
    source = """
        from celery import shared_task
        from django.contrib.auth import get_user_model
        from django.core.mail import send_mail


        @shared_task(acks_late=True)
        def mail_newsletter(user_id, issue):
            user = get_user_model().objects.get(pk=user_id)
            if not user.is_active:
                return
            send_mail(issue.title, issue.text, None, [user.email])
            stats.count_delivery(issue.pk)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 7)]


def test_early_return_on_the_object_the_effect_is_called_on(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.contrib.auth import get_user_model


        @shared_task(acks_late=True)
        def mail_newsletter(user_id, issue):
            user = get_user_model().objects.get(pk=user_id)
            if not user.is_active:
                return
            user.email_user(issue.title, issue.text)
            stats.count_delivery(issue.pk)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 6)]


def test_early_return_on_a_flag_the_task_sets(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import send_mail

        from shop.models import Order


        @shared_task(acks_late=True)
        def mail_receipt(order_id):
            order = Order.objects.get(pk=order_id)
            if order.receipt_mailed:
                return
            send_mail("Receipt", "Thanks", None, [order.email])
            order.receipt_mailed = True
            order.save(update_fields=["receipt_mailed"])
            stats.count_delivery(order_id)
    """
    assert flagged(tmp_path, source) == []


def test_early_return_on_a_flag_a_called_function_sets(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import send_mail

        from shop.models import Order
        from shop.receipts import remember_receipt


        @shared_task(acks_late=True)
        def mail_receipt(order_id):
            order = Order.objects.get(pk=order_id)
            if order.receipt_mailed:
                return
            send_mail("Receipt", "Thanks", None, [order.email])
            remember_receipt(order_id)
    """
    receipts = """
        from shop.models import Order


        def remember_receipt(order_id):
            Order.objects.filter(pk=order_id).update(receipt_mailed=True)
    """
    assert flagged(tmp_path, source, shop__receipts=receipts) == []


def test_early_return_on_a_flag_a_mark_method_names(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import send_mail

        from shop.models import Order


        @shared_task(acks_late=True)
        def mail_receipt(order_id):
            order = Order.objects.get(pk=order_id)
            if order.receipt_mailed:
                return
            send_mail("Receipt", "Thanks", None, [order.email])
            Order.mark_receipt_mailed(order_id)
    """
    assert flagged(tmp_path, source) == []


def test_early_return_on_existing_rows_of_another_model(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.models import Invoice, Order


        @shared_task(acks_late=True)
        def create_invoice(order_id):
            if not Order.objects.filter(pk=order_id, status="paid").exists():
                return
            Invoice.objects.create(order_id=order_id)
            accounting.export_invoices(order_id)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 7)]


def test_early_return_on_a_flag_kept_in_the_cache(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.cache import cache
        from django.core.mail import send_mail


        @shared_task(acks_late=True)
        def mail_reminder(booking_id, address):
            if cache.get(f"reminded:{booking_id}"):
                return
            send_mail("Reminder", "See you soon", None, [address])
            cache.set(f"reminded:{booking_id}", True, 86400)
            stats.count_delivery(booking_id)
    """
    assert flagged(tmp_path, source) == []


def test_rows_created_only_when_not_yet_known(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.models import Invoice


        @shared_task(acks_late=True)
        def import_invoices(rows):
            known = set(Invoice.objects.values_list("number", flat=True))
            for row in rows:
                if row["number"] not in known:
                    Invoice.objects.create(number=row["number"], order_id=row["order"])
            accounting.export_invoices(rows)
    """
    assert flagged(tmp_path, source) == []


def test_rows_created_under_a_condition_on_the_input(tmp_path: Path) -> None:
    source = """
        from celery import shared_task

        from shop.models import Invoice


        @shared_task(acks_late=True)
        def import_invoices(rows):
            for row in rows:
                if row["total"] > 0:
                    Invoice.objects.create(number=row["number"], order_id=row["order"])
            accounting.export_invoices(rows)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 7)]


def test_early_return_on_the_retry_count_is_no_guard(tmp_path: Path) -> None:
    source = """
        import requests
        from celery import shared_task


        @shared_task(bind=True, acks_late=True)
        def push_stock(self, sku, count):
            if self.request.retries > 3:
                return
            requests.put(f"https://shop.example.com/stock/{sku}", json={"count": count})
            ledger.note_push(sku)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 6)]


# -- e-mail SDKs -------------------------------------------------------------------------------

def test_sendgrid_client_send(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from sendgrid import SendGridAPIClient
        from sendgrid.helpers.mail import Mail


        @shared_task(acks_late=True)
        def mail_invite(address):
            client = SendGridAPIClient("key")
            client.send(Mail(from_email="team@example.com", to_emails=address))
            crm.log_contact(address)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 7)]


def test_postmark_emails_send(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from postmarker.core import PostmarkClient


        @shared_task(acks_late=True)
        def mail_invite(address):
            postmark = PostmarkClient(server_token="token")
            postmark.emails.send(From="team@example.com", To=address, Subject="Join us")
            crm.log_contact(address)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 6)]


def test_message_built_elsewhere_sent_with_fail_silently(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(acks_late=True)
        def mail_invite(address):
            invite = build_invite(address)
            invite.send(fail_silently=False)
            crm.log_contact(address)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 5)]


def test_send_mass_mail_and_mail_admins(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.core.mail import mail_admins, send_mass_mail


        @shared_task(acks_late=True)
        def mail_round(messages):
            send_mass_mail(messages)
            mail_admins("Round sent", f"{len(messages)} mails")
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 6)]


def test_email_user(tmp_path: Path) -> None:
    source = """
        from celery import shared_task
        from django.contrib.auth import get_user_model


        @shared_task(acks_late=True)
        def welcome(user_id):
            user = get_user_model().objects.get(pk=user_id)
            user.email_user("Welcome", "Glad you are here")
            crm.log_contact(user.email)
    """
    assert flagged(tmp_path, source) == [("CEL203", TASKS, 6)]


def test_channel_message_send_is_no_mail(tmp_path: Path) -> None:
    source = """
        from celery import shared_task


        @shared_task(acks_late=True)
        def push_update(group, text):
            message = build_message(group, text)
            message.send()
            crm.log_contact(group)
    """
    assert flagged(tmp_path, source) == []


# -- one call deep -------------------------------------------------------------------------------

SERVICES = """
    from shop.models import Order


    def fulfil_order(order_id):
        order = Order.objects.get(pk=order_id)
        order.charge()
        order.ship()


    def fulfil_order_once(order_id):
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != "pending":
            return
        order.charge()
        order.ship()


    def charge_order_once(order_id):
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != "pending":
            return
        order.charge()
        order.ship()
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
        notify_sales(order_id)
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
            crm.log_contact(email)
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
        "Task `charge_and_fulfill` charges money (`order.charge`) and can do it twice: the "
        "project acknowledges late (`CELERY_TASK_ACKS_LATE = True`) and the task works on after "
        "it: a worker lost before it returns leaves the message to another worker")
