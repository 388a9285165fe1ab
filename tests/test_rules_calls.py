"""The call-site rules, one tiny project per shape: CEL101, CEL102, CEL104, CEL105, CEL107, CEL108.

Each flagged shape sits next to its near miss. A source string is dedented and its leading newline
dropped, so its first line of code is row 1.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from helpers import CELERY_APP, MODELS, codes_at, run_project

TASKS = """
    from celery import shared_task


    @shared_task
    def process_order(order_id, note=None):
        pass
"""

SHOP = {**CELERY_APP, "shop/models.py": MODELS, "shop/tasks.py": TASKS}


def rows(tmp_path: Path, code: str, source: str, path: str = "shop/services.py",
         files: dict[str, str] | None = None, **config: object) -> list[int]:
    """Rows of rule `code` in `path` of the shop project, `source` written at `path`."""
    project = {**SHOP, **(files or {}), path: source}
    return [row for _, row in codes_at(tmp_path, project, path, select=(code,), **config)]


# -- CEL101: orm-object-argument ---------------------------------------------------------------

def orm_rows(tmp_path: Path, source: str, path: str = "shop/services.py",
             files: dict[str, str] | None = None) -> list[int]:
    return rows(tmp_path, "CEL101", source, path, files)


INSTANCE_SOURCES = [
    "Order.objects.get(pk=1)",
    "Order.objects.create(status='new')",
    "Order.objects.first()",
    "Order.objects.last()",
    "Order.objects.latest('id')",
    "Order.objects.earliest('id')",
]


@pytest.mark.parametrize("expression", INSTANCE_SOURCES)
def test_manager_method_instance(tmp_path, expression):
    source = f"""
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            order = {expression}
            process_order.delay(order)
    """
    assert orm_rows(tmp_path, source) == [7]


@pytest.mark.parametrize("expression", INSTANCE_SOURCES)
def test_manager_method_instance_pk_not_flagged(tmp_path, expression):
    source = f"""
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            order = {expression}
            process_order.delay(order.pk)
    """
    assert orm_rows(tmp_path, source) == []


def test_manager_method_instance_passed_directly(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            process_order.delay(Order.objects.get(pk=1))
    """
    assert orm_rows(tmp_path, source) == [6]


def test_instance_id_not_flagged(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            order = Order.objects.get(pk=1)
            process_order.delay(order.id)
    """
    assert orm_rows(tmp_path, source) == []


def test_instance_foreign_key_id_not_flagged(tmp_path):
    source = """
        from shop.models import Invoice
        from shop.tasks import process_order


        def run():
            invoice = Invoice.objects.get(pk=1)
            process_order.delay(invoice.order_id)
    """
    assert orm_rows(tmp_path, source) == []


def test_name_ending_in_id_not_flagged(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            order_id = Order.objects.get(pk=1).pk
            process_order.delay(order_id)
    """
    assert orm_rows(tmp_path, source) == []


def test_get_or_create_first_item(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            order = Order.objects.get_or_create(status="new")[0]
            process_order.delay(order)
    """
    assert orm_rows(tmp_path, source) == [7]


def test_get_or_create_created_flag_not_flagged(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            created = Order.objects.get_or_create(status="new")[1]
            process_order.delay(created)
    """
    assert orm_rows(tmp_path, source) == []


def test_get_or_create_tuple_unpacked(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            order, created = Order.objects.get_or_create(status="new")
            process_order.delay(order)
    """
    assert orm_rows(tmp_path, source) == [7]


def test_get_or_create_tuple_unpacked_pk_not_flagged(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            order, created = Order.objects.get_or_create(status="new")
            process_order.delay(order.pk, created)
    """
    assert orm_rows(tmp_path, source) == []


def test_update_or_create_tuple_unpacked(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            order, _ = Order.objects.update_or_create(pk=1, defaults={"status": "new"})
            process_order.delay(order)
    """
    assert orm_rows(tmp_path, source) == [7]


def test_get_object_or_404(tmp_path):
    source = """
        from django.shortcuts import get_object_or_404

        from shop.models import Order
        from shop.tasks import process_order


        def confirm(request, pk):
            order = get_object_or_404(Order, pk=pk)
            process_order.delay(order)
    """
    assert orm_rows(tmp_path, source, "shop/views.py") == [9]


def test_get_object_or_404_pk_not_flagged(tmp_path):
    source = """
        from django.shortcuts import get_object_or_404

        from shop.models import Order
        from shop.tasks import process_order


        def confirm(request, pk):
            order = get_object_or_404(Order, pk=pk)
            process_order.delay(order.pk)
    """
    assert orm_rows(tmp_path, source, "shop/views.py") == []


def test_get_object_or_404_of_queryset(tmp_path):
    source = """
        from django.shortcuts import get_object_or_404

        from shop.models import Order
        from shop.tasks import process_order


        def confirm(request, pk):
            order = get_object_or_404(Order.objects.filter(status="new"), pk=pk)
            process_order.delay(order)
    """
    assert orm_rows(tmp_path, source, "shop/views.py") == [9]


def test_model_constructor(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            order = Order(status="new")
            process_order.delay(order)
    """
    assert orm_rows(tmp_path, source) == [7]


def test_plain_class_constructor_not_flagged(tmp_path):
    source = """
        from shop.tasks import process_order


        class Receipt:
            pass


        def run():
            receipt = Receipt()
            process_order.delay(receipt)
    """
    assert orm_rows(tmp_path, source) == []


def test_loop_variable_over_queryset(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            for order in Order.objects.filter(status="new"):
                process_order.delay(order)
    """
    assert orm_rows(tmp_path, source) == [7]


def test_loop_variable_over_queryset_pk_not_flagged(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            for order in Order.objects.filter(status="new"):
                process_order.delay(order.pk)
    """
    assert orm_rows(tmp_path, source) == []


def test_loop_variable_over_values_list_not_flagged(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            for order_id in Order.objects.values_list("id", flat=True):
                process_order.delay(order_id)
    """
    assert orm_rows(tmp_path, source) == []


def test_loop_variable_over_values_not_flagged(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            for row in Order.objects.values("id", "status"):
                process_order.delay(row)
    """
    assert orm_rows(tmp_path, source) == []


def test_item_of_values_list_not_flagged(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            process_order.delay(Order.objects.values_list("id", flat=True)[0])
    """
    assert orm_rows(tmp_path, source) == []


def test_comprehension_variable_over_queryset(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            [process_order.delay(order) for order in Order.objects.all()]
    """
    assert orm_rows(tmp_path, source) == [6]


def test_request_user_in_view(tmp_path):
    source = """
        from shop.tasks import process_order


        def checkout(request):
            process_order.delay(request.user)
    """
    assert orm_rows(tmp_path, source, "shop/views.py") == [5]


def test_request_user_pk_in_view_not_flagged(tmp_path):
    source = """
        from shop.tasks import process_order


        def checkout(request):
            process_order.delay(request.user.pk)
    """
    assert orm_rows(tmp_path, source, "shop/views.py") == []


def test_self_request_user_in_class_based_view(tmp_path):
    source = """
        from django.views import View

        from shop.tasks import process_order


        class CheckoutView(View):
            def post(self, request):
                process_order.delay(self.request.user)
    """
    assert orm_rows(tmp_path, source, "shop/views.py") == [8]


def test_self_request_user_id_in_class_based_view_not_flagged(tmp_path):
    source = """
        from django.views import View

        from shop.tasks import process_order


        class CheckoutView(View):
            def post(self, request):
                process_order.delay(self.request.user.id)
    """
    assert orm_rows(tmp_path, source, "shop/views.py") == []


def test_self_request_user_in_plain_class_not_flagged(tmp_path):
    source = """
        from shop.tasks import process_order


        class Checkout:
            def post(self):
                process_order.delay(self.request.user)
    """
    assert orm_rows(tmp_path, source) == []


def test_form_save(tmp_path):
    source = """
        from shop.forms import OrderForm
        from shop.tasks import process_order


        def create_order(request):
            form = OrderForm(request.POST)
            if form.is_valid():
                order = form.save()
                process_order.delay(order)
    """
    assert orm_rows(tmp_path, source, "shop/views.py") == [9]


def test_form_save_pk_not_flagged(tmp_path):
    source = """
        from shop.forms import OrderForm
        from shop.tasks import process_order


        def create_order(request):
            form = OrderForm(request.POST)
            if form.is_valid():
                order = form.save()
                process_order.delay(order.pk)
    """
    assert orm_rows(tmp_path, source, "shop/views.py") == []


def test_form_cleaned_data_not_flagged(tmp_path):
    source = """
        from shop.forms import OrderForm
        from shop.tasks import process_order


        def create_order(request):
            form = OrderForm(request.POST)
            if form.is_valid():
                process_order.delay(form.cleaned_data["email"])
    """
    assert orm_rows(tmp_path, source, "shop/views.py") == []


def test_serializer_save(tmp_path):
    source = """
        from shop.serializers import OrderSerializer
        from shop.tasks import process_order


        def create_order(request):
            serializer = OrderSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            order = serializer.save()
            process_order.delay(order)
    """
    assert orm_rows(tmp_path, source, "shop/views.py") == [9]


def test_serializer_save_pk_not_flagged(tmp_path):
    source = """
        from shop.serializers import OrderSerializer
        from shop.tasks import process_order


        def create_order(request):
            serializer = OrderSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            order = serializer.save()
            process_order.delay(order.pk)
    """
    assert orm_rows(tmp_path, source, "shop/views.py") == []


def test_serializer_save_in_perform_create(tmp_path):
    source = """
        from rest_framework import viewsets

        from shop.tasks import process_order


        class OrderViewSet(viewsets.ModelViewSet):
            def perform_create(self, serializer):
                process_order.delay(serializer.save())
    """
    assert orm_rows(tmp_path, source, "shop/api.py") == [8]


def test_serializer_data_in_perform_create_not_flagged(tmp_path):
    source = """
        from rest_framework import viewsets

        from shop.tasks import process_order


        class OrderViewSet(viewsets.ModelViewSet):
            def perform_create(self, serializer):
                process_order.delay(serializer.data)
    """
    assert orm_rows(tmp_path, source, "shop/api.py") == []


def test_get_object_in_drf_view(tmp_path):
    source = """
        from rest_framework import viewsets

        from shop.tasks import process_order


        class OrderViewSet(viewsets.ModelViewSet):
            def retrieve(self, request, pk=None):
                order = self.get_object()
                process_order.delay(order)
    """
    assert orm_rows(tmp_path, source, "shop/api.py") == [9]


def test_get_object_pk_in_drf_view_not_flagged(tmp_path):
    source = """
        from rest_framework import viewsets

        from shop.tasks import process_order


        class OrderViewSet(viewsets.ModelViewSet):
            def retrieve(self, request, pk=None):
                order = self.get_object()
                process_order.delay(order.pk)
    """
    assert orm_rows(tmp_path, source, "shop/api.py") == []


def test_get_object_of_plain_class_not_flagged(tmp_path):
    source = """
        from shop.tasks import process_order


        class Loader:
            def run(self):
                process_order.delay(self.get_object())
    """
    assert orm_rows(tmp_path, source) == []


def test_self_in_model_method(tmp_path):
    models = """
        from django.db import models

        from shop.tasks import process_order


        class Order(models.Model):
            def ship(self):
                process_order.delay(self)
    """
    assert orm_rows(tmp_path, models, "shop/models.py") == [8]


def test_self_pk_in_model_method_not_flagged(tmp_path):
    models = """
        from django.db import models

        from shop.tasks import process_order


        class Order(models.Model):
            def ship(self):
                process_order.delay(self.pk)
    """
    assert orm_rows(tmp_path, models, "shop/models.py") == []


def test_self_in_plain_class_method_not_flagged(tmp_path):
    source = """
        from shop.tasks import process_order


        class Shipper:
            def ship(self):
                process_order.delay(self)
    """
    assert orm_rows(tmp_path, source) == []


@pytest.mark.parametrize("signal", ["post_save", "pre_save"])
def test_instance_in_save_receiver(tmp_path, signal):
    source = f"""
        from django.db.models.signals import {signal}
        from django.dispatch import receiver

        from shop.models import Order
        from shop.tasks import process_order


        @receiver({signal}, sender=Order)
        def handler(sender, instance, created, **kwargs):
            process_order.delay(instance)
    """
    assert orm_rows(tmp_path, source, "shop/signals.py") == [10]


@pytest.mark.parametrize("signal", ["post_save", "pre_save"])
def test_instance_pk_in_save_receiver_not_flagged(tmp_path, signal):
    source = f"""
        from django.db.models.signals import {signal}
        from django.dispatch import receiver

        from shop.models import Order
        from shop.tasks import process_order


        @receiver({signal}, sender=Order)
        def handler(sender, instance, created, **kwargs):
            process_order.delay(instance.pk)
    """
    assert orm_rows(tmp_path, source, "shop/signals.py") == []


def test_instance_parameter_without_sender_not_flagged(tmp_path):
    source = """
        from shop.tasks import process_order


        def render(instance):
            process_order.delay(instance)
    """
    assert orm_rows(tmp_path, source) == []


def receiver_reports(tmp_path: Path, files: dict[str, str],
                     path: str = "shop/signals.py") -> list[tuple[int, str, str | None]]:
    """(row, message, fix title) of CEL101 in `path` of the shop project with `files`."""
    result = run_project(tmp_path, {**SHOP, **files}, select=("CEL101",))
    return [(d.location.row, d.message, d.fix.message if d.fix else None)
            for d in result.diagnostics if d.path.endswith(path)]


DELETED = ("`instance` is a model instance (the signal's `instance`), sent to "
           "`process_order.delay()` from a `{signal}` receiver: {what}, so the task cannot load it "
           "by its pk; pass the values the task needs")
ALREADY_DELETED = DELETED.format(signal="post_delete", what="the row is already deleted")


@pytest.mark.parametrize(("signal", "what"), [
    ("post_delete", "the row is already deleted"),
    ("pre_delete", "the row is deleted as soon as the receiver returns"),
])
def test_instance_in_delete_receiver_advises_the_values_not_the_pk(tmp_path, signal, what):
    source = f"""
        from django.db.models.signals import {signal}
        from django.dispatch import receiver

        from shop.models import Order
        from shop.tasks import process_order


        @receiver({signal}, sender=Order)
        def handler(sender, instance, **kwargs):
            process_order.delay(instance)
    """
    assert receiver_reports(tmp_path, {"shop/signals.py": source}) == [
        (10, DELETED.format(signal=signal, what=what), None)]


@pytest.mark.parametrize("decorator", [
    "@receiver([pre_delete, post_delete], sender=Order)",
    "@receiver(signal=signals.post_delete, sender=Order)",
    "@receiver((models.signals.post_delete,), sender=Order)",
])
def test_delete_receiver_decorator_shapes(tmp_path, decorator):
    source = f"""
        from django.db import models
        from django.db.models import signals
        from django.db.models.signals import post_delete, pre_delete
        from django.dispatch import receiver

        from shop.models import Order
        from shop.tasks import process_order

        {decorator}
        def handler(sender, instance, **kwargs):
            process_order.delay(instance)
    """
    assert receiver_reports(tmp_path, {"shop/signals.py": source}) == [
        (11, ALREADY_DELETED, None)]


def test_delete_receiver_connected_in_the_same_module(tmp_path):
    source = """
        from django.db.models.signals import post_delete

        from shop.models import Order
        from shop.tasks import process_order


        def handler(sender, instance, **kwargs):
            process_order.delay(instance)


        post_delete.connect(handler, sender=Order)
    """
    assert receiver_reports(tmp_path, {"shop/signals.py": source}) == [(8, ALREADY_DELETED, None)]


def test_delete_receiver_connected_in_another_module(tmp_path):
    source = """
        from shop.tasks import process_order


        def handler(sender, instance, **kwargs):
            process_order.delay(instance)
    """
    apps = """
        from django.apps import AppConfig
        from django.db.models.signals import post_delete


        class ShopConfig(AppConfig):
            name = "shop"

            def ready(self):
                from shop import signals
                from shop.models import Order

                post_delete.connect(receiver=signals.handler, sender=Order)
    """
    assert receiver_reports(tmp_path, {"shop/signals.py": source, "shop/apps.py": apps}) == [
        (5, ALREADY_DELETED, None)]


def test_save_receiver_keeps_the_pk_advice_and_fix(tmp_path):
    source = """
        from django.db.models.signals import post_delete, post_save

        from shop.models import Order
        from shop.tasks import process_order


        def handler(sender, instance, **kwargs):
            process_order.delay(instance)


        post_save.connect(handler, sender=Order)
        post_delete.connect(print, sender=Order)
    """
    [(row, message, fix)] = receiver_reports(tmp_path, {"shop/signals.py": source})
    assert (row, fix) == (8, "Pass `instance.pk`")
    assert message.endswith(": pass `instance.pk` and load it in the task")


def test_other_instance_in_delete_receiver_keeps_the_pk_advice(tmp_path):
    # the order outlives its deleted invoice: its pk can be loaded in the task
    source = """
        from django.db.models.signals import post_delete
        from django.dispatch import receiver

        from shop.models import Invoice, Order
        from shop.tasks import process_order


        @receiver(post_delete, sender=Invoice)
        def handler(sender, instance, **kwargs):
            order = Order.objects.get(pk=instance.order_id)
            process_order.delay(order)
    """
    [(row, message, fix)] = receiver_reports(tmp_path, {"shop/signals.py": source})
    assert (row, fix) == (11, "Pass `order.pk`")
    assert message.endswith(": pass `order.pk` and load it in the task")


def test_parameter_annotated_with_model(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def notify(order: Order):
            process_order.delay(order)
    """
    assert orm_rows(tmp_path, source) == [6]


def test_parameter_annotated_with_model_string(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def notify(order: "Order"):
            process_order.delay(order)
    """
    assert orm_rows(tmp_path, source) == [6]


def test_parameter_annotated_with_optional_model(tmp_path):
    source = """
        from typing import Optional

        from shop.models import Order
        from shop.tasks import process_order


        def notify(order: Optional[Order]):
            process_order.delay(order)
    """
    assert orm_rows(tmp_path, source) == [8]


def test_parameter_annotated_with_model_or_none(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def notify(order: Order | None):
            process_order.delay(order)
    """
    assert orm_rows(tmp_path, source) == [6]


def test_parameter_annotated_with_int_not_flagged(tmp_path):
    source = """
        from shop.tasks import process_order


        def notify(order: int):
            process_order.delay(order)
    """
    assert orm_rows(tmp_path, source) == []


def test_parameter_annotated_with_model_pk_not_flagged(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def notify(order: Order):
            process_order.delay(order.pk)
    """
    assert orm_rows(tmp_path, source) == []


def test_queryset_passed_directly(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            process_order.delay(Order.objects.filter(status="new"))
    """
    assert orm_rows(tmp_path, source) == [6]


def test_queryset_via_name(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            orders = Order.objects.filter(status="new").order_by("id")
            process_order.delay(orders)
    """
    assert orm_rows(tmp_path, source) == [7]


def test_manager_all(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            process_order.delay(Order.objects.all())
    """
    assert orm_rows(tmp_path, source) == [6]


def test_sliced_queryset(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            process_order.delay(Order.objects.all()[:10])
    """
    assert orm_rows(tmp_path, source) == [6]


def test_queryset_of_custom_manager(tmp_path):
    models = """
        from django.db import models


        class OrderManager(models.Manager):
            pass


        class Order(models.Model):
            pending = OrderManager()
    """
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            process_order.delay(Order.pending.all())
    """
    assert orm_rows(tmp_path, source, files={"shop/models.py": models}) == [6]


def test_values_list_ids_as_list_not_flagged(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            orders = Order.objects.filter(status="new")
            process_order.delay(list(orders.values_list("id", flat=True)))
    """
    assert orm_rows(tmp_path, source) == []


def test_queryset_count_not_flagged(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            process_order.delay(Order.objects.filter(status="new").count())
    """
    assert orm_rows(tmp_path, source) == []


def test_request_in_view(tmp_path):
    source = """
        from shop.tasks import process_order


        def checkout(request):
            process_order.delay(request)
    """
    assert orm_rows(tmp_path, source, "shop/views.py") == [5]


def test_request_value_in_view_not_flagged(tmp_path):
    source = """
        from shop.tasks import process_order


        def checkout(request):
            process_order.delay(request.GET.get("order"))
    """
    assert orm_rows(tmp_path, source, "shop/views.py") == []


def test_apply_async_args(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            order = Order.objects.get(pk=1)
            process_order.apply_async(args=[order])
    """
    assert orm_rows(tmp_path, source) == [7]


def test_apply_async_args_pk_not_flagged(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            order = Order.objects.get(pk=1)
            process_order.apply_async(args=[order.pk])
    """
    assert orm_rows(tmp_path, source) == []


def test_apply_async_kwargs(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            order = Order.objects.get(pk=1)
            process_order.apply_async(kwargs={"order_id": order})
    """
    assert orm_rows(tmp_path, source) == [7]


def test_apply_async_kwargs_pk_not_flagged(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            order = Order.objects.get(pk=1)
            process_order.apply_async(kwargs={"order_id": order.pk})
    """
    assert orm_rows(tmp_path, source) == []


def test_delay_keyword_argument(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            order = Order.objects.get(pk=1)
            process_order.delay(order_id=order)
    """
    assert orm_rows(tmp_path, source) == [7]


def test_item_of_list_argument(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            order = Order.objects.get(pk=1)
            process_order.delay([order])
    """
    assert orm_rows(tmp_path, source) == [7]


@pytest.mark.parametrize("method", ["s", "si"])
def test_signature(tmp_path, method):
    source = f"""
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            order = Order.objects.get(pk=1)
            return process_order.{method}(order)
    """
    assert orm_rows(tmp_path, source) == [7]


@pytest.mark.parametrize("method", ["s", "si"])
def test_signature_pk_not_flagged(tmp_path, method):
    source = f"""
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            order = Order.objects.get(pk=1)
            return process_order.{method}(order.pk)
    """
    assert orm_rows(tmp_path, source) == []


def test_s_on_non_task_not_flagged(tmp_path):
    source = """
        from shop.models import Order


        class Formatter:
            def s(self, value):
                return str(value)


        def run():
            order = Order.objects.get(pk=1)
            return Formatter().s(order)
    """
    assert orm_rows(tmp_path, source) == []


def test_send_task_args(tmp_path):
    source = """
        from proj.celery import app
        from shop.models import Order


        def run():
            order = Order.objects.get(pk=1)
            app.send_task("shop.tasks.process_order", args=[order])
    """
    assert orm_rows(tmp_path, source) == [7]


def test_send_task_args_pk_not_flagged(tmp_path):
    source = """
        from proj.celery import app
        from shop.models import Order


        def run():
            order = Order.objects.get(pk=1)
            app.send_task("shop.tasks.process_order", args=[order.pk])
    """
    assert orm_rows(tmp_path, source) == []


def test_signature_by_name_args(tmp_path):
    source = """
        from celery import signature

        from shop.models import Order


        def run():
            order = Order.objects.get(pk=1)
            return signature("shop.tasks.process_order", args=(order,))
    """
    assert orm_rows(tmp_path, source) == [8]


def test_model_imported_relatively(tmp_path):
    source = """
        from .models import Order
        from .tasks import process_order


        def run():
            process_order.delay(Order.objects.get(pk=1))
    """
    assert orm_rows(tmp_path, source) == [6]


def test_model_through_models_module(tmp_path):
    source = """
        from shop import models
        from shop.tasks import process_order


        def run():
            process_order.delay(models.Order.objects.get(pk=1))
    """
    assert orm_rows(tmp_path, source) == [6]


def test_model_of_other_app(tmp_path):
    catalog = """
        from django.db import models


        class Product(models.Model):
            name = models.CharField(max_length=50)
    """
    source = """
        from catalog.models import Product
        from shop.tasks import process_order


        def run():
            process_order.delay(Product.objects.get(pk=1))
    """
    assert orm_rows(tmp_path, source, files={"catalog/models.py": catalog}) == [6]


ABSTRACT_BASE = """
    from django.db import models


    class TimeStamped(models.Model):
        created = models.DateTimeField(auto_now_add=True)

        class Meta:
            abstract = True
"""


def test_model_through_abstract_base_in_another_file(tmp_path):
    models = """
        from core.models import TimeStamped


        class Order(TimeStamped):
            pass
    """
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            process_order.delay(Order.objects.get(pk=1))
    """
    files = {"core/models.py": ABSTRACT_BASE, "shop/models.py": models}
    assert orm_rows(tmp_path, source, files=files) == [6]


def test_class_through_non_model_base_not_flagged(tmp_path):
    base = """
        class Record:
            pass
    """
    source = """
        from core.records import Record
        from shop.tasks import process_order


        class Receipt(Record):
            pass


        def run():
            process_order.delay(Receipt())
    """
    assert orm_rows(tmp_path, source, files={"core/records.py": base}) == []


def test_get_user_model(tmp_path):
    source = """
        from django.contrib.auth import get_user_model

        from shop.tasks import process_order

        User = get_user_model()


        def run():
            user = User.objects.get(pk=1)
            process_order.delay(user)
    """
    assert orm_rows(tmp_path, source) == [10]


def test_get_user_model_pk_not_flagged(tmp_path):
    source = """
        from django.contrib.auth import get_user_model

        from shop.tasks import process_order

        User = get_user_model()


        def run():
            user = User.objects.get(pk=1)
            process_order.delay(user.pk)
    """
    assert orm_rows(tmp_path, source) == []


def test_reassigned_name_not_flagged(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def run():
            order = Order.objects.get(pk=1)
            order = order.pk
            process_order.delay(order)
    """
    assert orm_rows(tmp_path, source) == []


def test_same_name_in_another_function_not_flagged(tmp_path):
    source = """
        from shop.models import Order
        from shop.tasks import process_order


        def load():
            order = Order.objects.get(pk=1)
            return order.pk


        def run(order):
            process_order.delay(order)
    """
    assert orm_rows(tmp_path, source) == []


# -- CEL102: blocking-call-in-view -------------------------------------------------------------

def blocking_rows(tmp_path: Path, source: str, path: str = "shop/views.py",
                  files: dict[str, str] | None = None, preview: bool = True) -> list[int]:
    """The whole rule, its preview part (a task run in the view) included, unless `preview` is
    off."""
    return rows(tmp_path, "CEL102", source, path, files, preview=preview)


def test_a_task_run_in_the_view_is_the_preview_part(tmp_path):
    """A view that runs the task itself often needs its outcome before it answers (the error to
    show, the file to send back): only `--preview` reports it. A wait on a result sent to a
    worker always holds the request, and is reported either way."""
    source = """
        from django.http import HttpResponse

        from shop.tasks import process_order


        def refund(request, pk):
            try:
                outcome = process_order(pk, note="refund")
            except ValueError as error:
                return HttpResponse(str(error), status=400)
            receipt = process_order.apply(args=[pk]).get()
            queued = process_order.delay(pk)
            queued.wait(timeout=5)
            return HttpResponse(f"{outcome} {receipt}")
    """
    assert blocking_rows(tmp_path, source, preview=False) == [13]
    assert blocking_rows(tmp_path, source) == [8, 11, 13]


def test_task_called_directly_in_function_view(tmp_path):
    source = """
        from shop.tasks import process_order


        def checkout(request, pk):
            process_order(pk)
    """
    assert blocking_rows(tmp_path, source) == [5]


def test_delay_in_function_view_not_flagged(tmp_path):
    source = """
        from shop.tasks import process_order


        def checkout(request, pk):
            process_order.delay(pk)
    """
    assert blocking_rows(tmp_path, source) == []


def test_apply_in_function_view(tmp_path):
    source = """
        from shop.tasks import process_order


        def checkout(request, pk):
            process_order.apply(args=[pk])
    """
    assert blocking_rows(tmp_path, source) == [5]


def test_apply_async_in_function_view_not_flagged(tmp_path):
    source = """
        from shop.tasks import process_order


        def checkout(request, pk):
            process_order.apply_async(args=[pk], countdown=10)
    """
    assert blocking_rows(tmp_path, source) == []


@pytest.mark.parametrize("switch", [
    """
            if settings.CELERY_ENABLED:
                process_order.delay(pk)
            else:
                process_order(pk)
    """,
    """
            if not settings.HAS_CELERY:
                process_order.apply(args=[pk])
            else:
                process_order.apply_async(args=[pk], countdown=5)
    """,
    """
            if settings.QUEUE_MODE == "sync":
                process_order(pk)
            elif settings.QUEUE_MODE == "async":
                process_order.delay(pk)
    """,
    """
            if not settings.USE_WORKERS:
                process_order(pk)
                return redirect("done")
            process_order.delay(pk)
    """,
    """
            if settings.USE_WORKERS:
                process_order.delay(pk)
                return redirect("done")
            process_order(pk)
    """,
    """
            try:
                process_order.delay(pk)
            except OSError:
                process_order(pk)
    """,
    """
            result = process_order.delay(pk) if settings.USE_WORKERS else process_order(pk)
    """,
])
def test_synchronous_fallback_when_celery_is_off_not_flagged(tmp_path, switch):
    source = textwrap.dedent("""
        from django.conf import settings
        from django.shortcuts import redirect

        from shop.tasks import process_order


        def checkout(request, pk):
    """) + textwrap.indent(textwrap.dedent(switch).strip("\n"), " " * 4) + """
    return redirect("done")
"""
    assert blocking_rows(tmp_path, source) == []


@pytest.mark.parametrize(("switch", "row"), [
    # the other branch sends another task
    ("""
            if settings.CELERY_ENABLED:
                process_refund.delay(pk)
            else:
                process_order(pk)
    """, 11),
    # both run: the `if` does not return
    ("""
            if settings.DEBUG:
                process_order(pk)
            process_order.delay(pk)
    """, 9),
    # the same branch
    ("""
            if settings.CELERY_ENABLED:
                process_order.delay(pk)
                process_order(pk)
    """, 10),
    # the handler sends, the body runs it here
    ("""
            try:
                process_order(pk)
            except OSError:
                process_order.delay(pk)
    """, 9),
])
def test_task_run_in_view_beside_a_delay_that_is_no_alternative(tmp_path, switch, row):
    source = textwrap.dedent("""
        from django.conf import settings
        from django.shortcuts import redirect

        from shop.tasks import process_order, process_refund


        def checkout(request, pk):
    """) + textwrap.indent(textwrap.dedent(switch).strip("\n"), " " * 4) + """
    return redirect("done")
"""
    tasks = TASKS + """
        @shared_task
        def process_refund(order_id):
            pass
    """
    assert blocking_rows(tmp_path, source, files={"shop/tasks.py": tasks}) == [row]


@pytest.mark.parametrize("wait", ["get(timeout=30)", "wait()", "join()"])
def test_result_of_delay_waited_for_in_view(tmp_path, wait):
    source = f"""
        from shop.tasks import process_order


        def checkout(request, pk):
            return process_order.delay(pk).{wait}
    """
    assert blocking_rows(tmp_path, source) == [5]


def test_result_of_apply_async_waited_for_in_view(tmp_path):
    source = """
        from shop.tasks import process_order


        def checkout(request, pk):
            return process_order.apply_async(args=[pk]).get()
    """
    assert blocking_rows(tmp_path, source) == [5]


def test_result_name_waited_for_in_view(tmp_path):
    source = """
        from shop.tasks import process_order


        def checkout(request, pk):
            result = process_order.delay(pk)
            return result.get()
    """
    assert blocking_rows(tmp_path, source) == [6]


def test_result_id_in_view_not_flagged(tmp_path):
    source = """
        from shop.tasks import process_order


        def checkout(request, pk):
            result = process_order.delay(pk)
            return result.id
    """
    assert blocking_rows(tmp_path, source) == []


def test_async_result_by_id_fetched_after_ready_in_view_not_flagged(tmp_path):
    # A result looked up by id belongs to a task sent earlier: a status view that reads it once it
    # is ready does not block, so only results of tasks sent in the same code are waits.
    source = """
        from celery.result import AsyncResult


        def status(request, task_id):
            result = AsyncResult(task_id)
            if result.ready():
                return result.get()
            return None
    """
    assert blocking_rows(tmp_path, source) == []


def test_async_result_by_id_state_in_view_not_flagged(tmp_path):
    source = """
        from celery.result import AsyncResult


        def status(request, task_id):
            return AsyncResult(task_id).state
    """
    assert blocking_rows(tmp_path, source) == []


def test_dict_get_in_view_not_flagged(tmp_path):
    source = """
        from shop.tasks import process_order


        def checkout(request):
            pk = request.GET.get("pk")
            options = {"note": "rush"}
            process_order.delay(pk, options.get("note"))
    """
    assert blocking_rows(tmp_path, source) == []


def test_function_without_request_in_views_module_not_flagged(tmp_path):
    source = """
        from shop.tasks import process_order


        def _process_now(pk):
            process_order(pk)
    """
    assert blocking_rows(tmp_path, source) == []


def test_non_task_called_directly_in_view_not_flagged(tmp_path):
    source = """
        def compute(pk):
            return pk


        def checkout(request, pk):
            return compute(pk)
    """
    assert blocking_rows(tmp_path, source) == []


@pytest.mark.parametrize("base", [
    "from django.views import View",
    "from django.views.generic import TemplateView as View",
    "from rest_framework.views import APIView as View",
    "from rest_framework.viewsets import ViewSet as View",
])
def test_task_called_directly_in_class_based_view(tmp_path, base):
    source = f"""
        {base}

        from shop.tasks import process_order


        class CheckoutView(View):
            def post(self, request, pk):
                process_order(pk)
    """
    assert blocking_rows(tmp_path, source) == [8]


@pytest.mark.parametrize("base", [
    "from django.views import View",
    "from django.views.generic import TemplateView as View",
    "from rest_framework.views import APIView as View",
    "from rest_framework.viewsets import ViewSet as View",
])
def test_delay_in_class_based_view_not_flagged(tmp_path, base):
    source = f"""
        {base}

        from shop.tasks import process_order


        class CheckoutView(View):
            def post(self, request, pk):
                process_order.delay(pk)
    """
    assert blocking_rows(tmp_path, source) == []


def test_result_waited_for_in_drf_viewset_outside_views_module(tmp_path):
    source = """
        from rest_framework import viewsets

        from shop.tasks import process_order


        class OrderViewSet(viewsets.ModelViewSet):
            def create(self, request):
                return process_order.delay(1).get()
    """
    assert blocking_rows(tmp_path, source, "shop/api.py") == [8]


def test_class_based_view_through_project_base_in_another_file(tmp_path):
    base = """
        from django.views.generic import View


        class BaseView(View):
            pass
    """
    source = """
        from core.views import BaseView
        from shop.tasks import process_order


        class CheckoutView(BaseView):
            def post(self, request, pk):
                process_order(pk)
    """
    assert blocking_rows(tmp_path, source, "shop/pages.py", {"core/views.py": base}) == [7]


def test_function_in_configured_view_module(tmp_path):
    source = """
        from shop.tasks import process_order


        def checkout(request, pk):
            process_order(pk)
    """
    project = {**SHOP, "shop/endpoints.py": source}
    found = codes_at(tmp_path, project, "shop/endpoints.py", select=("CEL102",),
                     view_modules=("shop.endpoints",), preview=True)
    assert found == [("CEL102", 5)]


def test_function_view_routed_in_urls(tmp_path):
    pages = """
        from shop.tasks import process_order


        def checkout(request, pk):
            process_order(pk)
    """
    urls = """
        from django.urls import path

        from shop import pages

        urlpatterns = [path("checkout/<int:pk>/", pages.checkout)]
    """
    assert blocking_rows(tmp_path, pages, "shop/pages.py", {"shop/urls.py": urls}) == [5]


def test_api_view_decorated_function(tmp_path):
    source = """
        from rest_framework.decorators import api_view

        from shop.tasks import process_order


        @api_view(["POST"])
        def checkout(request, pk):
            process_order(pk)
    """
    assert blocking_rows(tmp_path, source, "shop/api.py") == [8]


def test_blocking_calls_in_management_command_not_flagged(tmp_path):
    source = """
        from django.core.management.base import BaseCommand

        from shop.tasks import process_order


        class Command(BaseCommand):
            def handle(self, *args, **options):
                process_order(1)
                process_order.apply(args=[1])
                process_order.delay(1).get()
    """
    assert blocking_rows(tmp_path, source, "shop/management/commands/process.py") == []


def test_blocking_calls_in_service_module_not_flagged(tmp_path):
    source = """
        from shop.tasks import process_order


        def process_now(request, pk):
            process_order(pk)
            process_order.apply(args=[pk])
    """
    assert blocking_rows(tmp_path, source, "shop/services.py") == []


def test_result_get_in_helper_not_flagged(tmp_path):
    source = """
        from shop.tasks import process_order


        def fetch(pk):
            return process_order.delay(pk).get(timeout=5)
    """
    assert blocking_rows(tmp_path, source, "shop/services.py") == []


def test_plain_class_in_views_module_not_flagged(tmp_path):
    source = """
        from shop.tasks import process_order


        class Processor:
            def run(self, request, pk):
                return process_order.delay(pk).get()
    """
    assert blocking_rows(tmp_path, source) == []


# -- CEL104: task-signature-mismatch -----------------------------------------------------------

SIGNATURE_TASKS = """
    from celery import shared_task


    @shared_task
    def charge(order_id, amount, currency="EUR"):
        pass


    @shared_task
    def render(order_id):
        return ""


    @shared_task
    def cleanup():
        pass


    @shared_task
    def email(url, order_id):
        pass


    @shared_task(bind=True)
    def retrying(self, order_id):
        pass


    @shared_task
    def flexible(*args, **kwargs):
        pass
"""


def mismatch_rows(tmp_path: Path, body: str) -> list[int]:
    """Rows of CEL104 for one statement `body`, written on row 6 of a service module."""
    source = f"""
        from celery import chain, chord

        from shop.tasks import charge, cleanup, email, flexible, render, retrying

        def run(values, options):
            {body}
    """
    return rows(tmp_path, "CEL104", source, files={"shop/tasks.py": SIGNATURE_TASKS})


def test_exact_arguments_not_flagged(tmp_path):
    assert mismatch_rows(tmp_path, 'charge.delay(1, 10, "EUR")') == []


def test_too_many_positional(tmp_path):
    assert mismatch_rows(tmp_path, 'charge.delay(1, 10, "EUR", True)') == [6]


def test_missing_required(tmp_path):
    assert mismatch_rows(tmp_path, "charge.delay(1)") == [6]


def test_required_given_by_keyword_not_flagged(tmp_path):
    assert mismatch_rows(tmp_path, "charge.delay(1, amount=10)") == []


def test_default_left_out_not_flagged(tmp_path):
    assert mismatch_rows(tmp_path, "charge.delay(1, 10)") == []


def test_unknown_keyword(tmp_path):
    assert mismatch_rows(tmp_path, 'charge.delay(1, 10, curency="EUR")') == [6]


def test_known_keyword_not_flagged(tmp_path):
    assert mismatch_rows(tmp_path, 'charge.delay(1, 10, currency="EUR")') == []


def test_given_twice(tmp_path):
    assert mismatch_rows(tmp_path, "charge.delay(1, 10, order_id=1)") == [6]


def test_no_arguments_to_task_without_parameters_not_flagged(tmp_path):
    assert mismatch_rows(tmp_path, "cleanup.delay()") == []


def test_argument_to_task_without_parameters(tmp_path):
    assert mismatch_rows(tmp_path, "cleanup.delay(1)") == [6]


def test_apply_async_args_missing(tmp_path):
    assert mismatch_rows(tmp_path, "charge.apply_async(args=[1])") == [6]


def test_apply_async_args_and_kwargs_not_flagged(tmp_path):
    assert mismatch_rows(tmp_path, 'charge.apply_async(args=[1], kwargs={"amount": 10})') == []


def test_apply_async_unknown_kwarg(tmp_path):
    assert mismatch_rows(tmp_path, 'charge.apply_async(args=[1, 10], kwargs={"colour": 1})') == [6]


def test_apply_async_too_many_args(tmp_path):
    assert mismatch_rows(tmp_path, 'charge.apply_async(args=(1, 10, "EUR", True))') == [6]


def test_apply_async_options_not_counted(tmp_path):
    assert mismatch_rows(tmp_path, 'charge.apply_async(args=[1, 10], countdown=5, queue="x")') == []


def test_apply_async_positional_args_missing(tmp_path):
    assert mismatch_rows(tmp_path, "charge.apply_async((1,))") == [6]


def test_apply_async_positional_args_not_flagged(tmp_path):
    assert mismatch_rows(tmp_path, "charge.apply_async((1, 10))") == []


def test_si_missing_required(tmp_path):
    assert mismatch_rows(tmp_path, "charge.si(1)") == [6]


def test_si_exact_not_flagged(tmp_path):
    assert mismatch_rows(tmp_path, "charge.si(1, 10)") == []


def test_s_partial_not_flagged(tmp_path):
    assert mismatch_rows(tmp_path, "charge.s(1)") == []


def test_s_too_many(tmp_path):
    assert mismatch_rows(tmp_path, 'charge.s(1, 10, "EUR", True)') == [6]


def test_s_unknown_keyword(tmp_path):
    assert mismatch_rows(tmp_path, "charge.s(1, colour=2)") == [6]


def test_chain_link_takes_previous_result_not_flagged(tmp_path):
    assert mismatch_rows(tmp_path, "chain(render.s(1), render.s()).delay()") == []


def test_chain_link_without_parameters(tmp_path):
    assert mismatch_rows(tmp_path, "chain(render.s(1), cleanup.s()).delay()") == [6]


def test_chain_link_needing_two(tmp_path):
    assert mismatch_rows(tmp_path, "chain(render.s(1), email.s()).delay()") == [6]


def test_chain_link_given_rest_not_flagged(tmp_path):
    assert mismatch_rows(tmp_path, "chain(render.s(1), email.s(1)).delay()") == []


def test_chain_link_written_as_if_alone(tmp_path):
    assert mismatch_rows(tmp_path, "chain(render.s(1), render.s(1)).delay()") == [6]


def test_immutable_chain_link_not_flagged(tmp_path):
    assert mismatch_rows(tmp_path, "chain(render.s(1), cleanup.si()).delay()") == []


def test_chord_body_takes_results_not_flagged(tmp_path):
    assert mismatch_rows(tmp_path, "chord([render.s(1), render.s(2)], render.s()).delay()") == []


def test_chord_body_without_parameters(tmp_path):
    assert mismatch_rows(tmp_path, "chord([render.s(1), render.s(2)], cleanup.s()).delay()") == [6]


def test_pipe_link_takes_previous_result_not_flagged(tmp_path):
    assert mismatch_rows(tmp_path, "(render.s(1) | render.s()).delay()") == []


def test_pipe_link_without_parameters(tmp_path):
    assert mismatch_rows(tmp_path, "(render.s(1) | cleanup.s()).delay()") == [6]


def test_pipe_link_needing_two(tmp_path):
    assert mismatch_rows(tmp_path, "(render.s(1) | email.s()).delay()") == [6]


def test_bound_task_self_not_counted(tmp_path):
    assert mismatch_rows(tmp_path, "retrying.delay(1)") == []


def test_bound_task_missing_argument(tmp_path):
    assert mismatch_rows(tmp_path, "retrying.delay()") == [6]


def test_bound_task_too_many(tmp_path):
    assert mismatch_rows(tmp_path, "retrying.delay(1, 2)") == [6]


def test_var_args_task_accepts_anything(tmp_path):
    assert mismatch_rows(tmp_path, 'flexible.delay(1, 2, 3, mode="fast")') == []


def test_star_args_call_not_checked(tmp_path):
    assert mismatch_rows(tmp_path, "charge.delay(*values)") == []


def test_star_kwargs_call_not_checked(tmp_path):
    assert mismatch_rows(tmp_path, "charge.delay(1, **options)") == []


def test_apply_async_args_from_name_not_checked(tmp_path):
    assert mismatch_rows(tmp_path, "charge.apply_async(args=values)") == []


WRAPPED_TASKS = """
    import functools

    import sentry_sdk
    from celery import shared_task
    from django.db import transaction

    from shop.clients import Warehouse
    from shop.registry import nightly_jobs


    def with_warehouse(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            return function(Warehouse(), *args, **kwargs)
        return wrapper


    @shared_task
    @with_warehouse
    def restock(warehouse, sku):
        pass


    @shared_task(bind=True)
    @with_warehouse
    def recount(self, warehouse, sku):
        pass


    @shared_task
    @transaction.atomic
    def archive(order_id):
        pass


    @shared_task
    @sentry_sdk.monitor(monitor_slug="stock")
    def audit(day):
        pass


    @nightly_jobs.register
    @shared_task
    def compact(day):
        pass
"""


def wrapped_rows(tmp_path: Path, body: str) -> list[int]:
    source = f"""
        from shop.tasks import archive, audit, compact, recount, restock


        def run():
            {body}
    """
    return rows(tmp_path, "CEL104", source, files={"shop/tasks.py": WRAPPED_TASKS})


@pytest.mark.parametrize("body", ['restock.delay("A-1")', 'recount.delay("A-1")',
                                  'restock.apply_async(kwargs={"sku": "A-1"})'])
def test_task_wrapped_by_a_decorator_that_may_change_its_parameters_not_flagged(tmp_path, body):
    # the wrapper passes the warehouse itself: the function's parameters are not the task's
    assert wrapped_rows(tmp_path, body) == []


@pytest.mark.parametrize("body", ["archive.delay()", "audit.delay(1, 2)"])
def test_task_wrapped_by_a_decorator_that_keeps_its_parameters(tmp_path, body):
    assert wrapped_rows(tmp_path, body) == [5]


def test_decorator_above_the_task_decorator_is_no_wrapper(tmp_path):
    # it receives the task object, whose parameters are the function's
    assert wrapped_rows(tmp_path, "compact.delay()") == [5]


# -- CEL105: unknown-task-name -----------------------------------------------------------------

NAMED_TASKS = """
    from celery import shared_task


    @shared_task
    def send_invoice(order_id):
        pass


    @shared_task(name="billing.charge")
    def charge_card(order_id):
        pass
"""


def name_rows(tmp_path: Path, source: str, path: str = "shop/services.py",
              **config: object) -> list[int]:
    return rows(tmp_path, "CEL105", source, path, {"shop/tasks.py": NAMED_TASKS}, **config)


def send_task(name: str) -> str:
    return f"""
        from proj.celery import app


        def run():
            app.send_task({name}, args=[1])
    """


def test_send_task_registered_name_not_flagged(tmp_path):
    assert name_rows(tmp_path, send_task('"shop.tasks.send_invoice"')) == []


def test_send_task_typo(tmp_path):
    assert name_rows(tmp_path, send_task('"shop.tasks.send_invoise"')) == [5]


def test_send_task_typo_suggests_registered_name(tmp_path):
    files = {**SHOP, "shop/tasks.py": NAMED_TASKS,
             "shop/services.py": send_task('"shop.tasks.send_invoise"')}
    result = run_project(tmp_path, files, select=("CEL105",))
    [diagnostic] = result.diagnostics
    assert "did you mean `shop.tasks.send_invoice`?" in diagnostic.message


def test_send_task_unknown_name_in_project_package(tmp_path):
    assert name_rows(tmp_path, send_task('"shop.tasks.refund_order"')) == [5]


def test_send_task_explicit_name_not_flagged(tmp_path):
    assert name_rows(tmp_path, send_task('"billing.charge"')) == []


def test_send_task_module_path_of_explicitly_named_task(tmp_path):
    assert name_rows(tmp_path, send_task('"shop.tasks.charge_card"')) == [5]


def test_send_task_other_service_not_flagged(tmp_path):
    assert name_rows(tmp_path, send_task('"billing_service.charge"')) == []


def test_send_task_extra_task_name_not_flagged(tmp_path):
    source = send_task('"shop.tasks.legacy_export"')
    assert name_rows(tmp_path, source, extra_task_names=("shop.tasks.legacy_export",)) == []


def test_send_task_celery_builtin_not_flagged(tmp_path):
    assert name_rows(tmp_path, send_task('"celery.backend_cleanup"')) == []


def test_send_task_f_string_not_flagged(tmp_path):
    assert name_rows(tmp_path, send_task('f"shop.tasks.{kind}_invoice"')) == []


def test_send_task_variable_not_flagged(tmp_path):
    source = """
        from proj.celery import app

        TASK = "shop.tasks.send_invoise"


        def run(name=TASK):
            app.send_task(name, args=[1])
    """
    assert name_rows(tmp_path, source) == []


def test_send_task_name_keyword(tmp_path):
    assert name_rows(tmp_path, send_task('name="shop.tasks.send_invoise"')) == [5]


def test_signature_by_name_typo(tmp_path):
    source = """
        from celery import signature


        def run():
            return signature("shop.tasks.send_invoise", args=(1,))
    """
    assert name_rows(tmp_path, source) == [5]


def test_signature_by_registered_name_not_flagged(tmp_path):
    source = """
        from celery import signature


        def run():
            return signature("shop.tasks.send_invoice", args=(1,))
    """
    assert name_rows(tmp_path, source) == []


def beat_settings(task: str) -> str:
    return f"""
        CELERY_BROKER_URL = "redis://localhost:6379/0"

        CELERY_BEAT_SCHEDULE = {{
            "invoices": {{
                "task": "{task}",
                "schedule": 60.0,
            }},
        }}
    """


def test_beat_schedule_in_settings_unknown(tmp_path):
    assert name_rows(tmp_path, beat_settings("shop.tasks.send_invoices"), "proj/settings.py") == [5]


def test_beat_schedule_in_settings_registered_not_flagged(tmp_path):
    assert name_rows(tmp_path, beat_settings("shop.tasks.send_invoice"), "proj/settings.py") == []


def test_beat_schedule_in_settings_celery_builtin_not_flagged(tmp_path):
    assert name_rows(tmp_path, beat_settings("celery.backend_cleanup"), "proj/settings.py") == []


CELERY_MODULE = """
    from celery import Celery

    app = Celery("proj")
    app.config_from_object("django.conf:settings", namespace="CELERY")
"""


def test_app_conf_beat_schedule_unknown(tmp_path):
    source = CELERY_MODULE + """
    app.conf.beat_schedule = {
        "invoices": {"task": "shop.tasks.send_invoices", "schedule": 60.0},
    }
    """
    assert name_rows(tmp_path, source, "proj/celery.py") == [7]


def test_app_conf_beat_schedule_registered_not_flagged(tmp_path):
    source = CELERY_MODULE + """
    app.conf.beat_schedule = {
        "invoices": {"task": "shop.tasks.send_invoice", "schedule": 60.0},
    }
    """
    assert name_rows(tmp_path, source, "proj/celery.py") == []


def test_app_conf_update_beat_schedule_unknown(tmp_path):
    source = CELERY_MODULE + """
    app.conf.update(beat_schedule={
        "invoices": {"task": "shop.tasks.send_invoices", "schedule": 60.0},
    })
    """
    assert name_rows(tmp_path, source, "proj/celery.py") == [7]


def test_beat_schedule_entry_added_by_subscript_unknown(tmp_path):
    source = """
        CELERY_BEAT_SCHEDULE = {}
        CELERY_BEAT_SCHEDULE["invoices"] = {"task": "shop.tasks.send_invoices", "schedule": 60.0}
    """
    assert name_rows(tmp_path, source, "proj/settings.py") == [2]


def test_beat_schedule_entries_added_by_update_unknown(tmp_path):
    source = """
        CELERY_BEAT_SCHEDULE = {}
        CELERY_BEAT_SCHEDULE.update({
            "invoices": {"task": "shop.tasks.send_invoices", "schedule": 60.0},
            "ok": {"task": "shop.tasks.send_invoice", "schedule": 60.0},
        })
    """
    assert name_rows(tmp_path, source, "proj/settings.py") == [3]


def test_subscript_of_another_dict_not_checked(tmp_path):
    source = """
        TEMPLATES = [{}]
        TEMPLATES[0] = {"task": "shop.tasks.send_invoices"}
    """
    assert name_rows(tmp_path, source, "proj/settings.py") == []


def test_task_routes_exact_name_unknown(tmp_path):
    source = """
        CELERY_TASK_ROUTES = {
            "shop.tasks.send_invoices": {"queue": "mail"},
            "shop.tasks.send_invoice": {"queue": "mail"},
            "shop.tasks.*": {"queue": "default"},
        }
    """
    assert name_rows(tmp_path, source, "proj/settings.py") == [2]


def test_task_routes_list_of_tables_and_app_conf(tmp_path):
    source = CELERY_MODULE + """
    app.conf.task_routes = [{"shop.tasks.send_invoices": {"queue": "mail"}}]
    app.conf.update(task_routes={"shop.tasks.send_invoise": "mail"})
    """
    assert name_rows(tmp_path, source, "proj/celery.py") == [6, 7]


def test_task_routes_globs_and_registered_names_not_flagged(tmp_path):
    source = """
        CELERY_TASK_ROUTES = {
            "shop.tasks.send_invoice": {"queue": "mail"},
            "shop.*": {"queue": "default"},
            "shop.tasks.send_[a-z]+": {"queue": "default"},
        }
    """
    assert name_rows(tmp_path, source, "proj/settings.py") == []


def test_task_routes_glob_matching_no_task(tmp_path):
    source = """
        CELERY_TASK_ROUTES = {
            "shop.tasks.*": {"queue": "default"},
            "shop.report.*": {"queue": "reports"},
            "billing.*": "billing",
            "shop.tasks.send_*": "mail",
        }
    """
    assert name_rows(tmp_path, source, "proj/settings.py") == [3]


def test_task_routes_regex_matching_no_task(tmp_path):
    source = """
        import re

        CELERY_TASK_ROUTES = {
            re.compile(r"shop\\.tasks\\.send_.*"): {"queue": "mail"},
            re.compile(r"shop\\.reports\\..*"): {"queue": "reports"},
            re.compile(r"^billing\\.char"): "billing",
        }
    """
    assert name_rows(tmp_path, source, "proj/settings.py") == [5]


def test_task_routes_as_a_list_of_pairs(tmp_path):
    source = """
        CELERY_TASK_ROUTES = ([
            ("shop.tasks.*", {"queue": "default"}),
            ("shop.report.*", {"queue": "reports"}),
            ("shop.tasks.send_invoise", {"queue": "mail"}),
        ],)
    """
    assert name_rows(tmp_path, source, "proj/settings.py") == [3, 4]


def test_task_routes_pattern_for_another_code_base_not_flagged(tmp_path):
    source = """
        import re

        CELERY_TASK_ROUTES = {
            "django_celery_beat.*": "beat",
            "*.send_mail": "mail",
            re.compile(r"(thirdparty|other)\\..*"): "other",
            "celery.*": "celery",
        }
    """
    assert name_rows(tmp_path, source, "proj/settings.py") == []


def test_task_routes_pattern_with_dynamic_task_names_not_flagged(tmp_path):
    tasks = NAMED_TASKS + """

    @shared_task(name=NAME)
    def dynamic():
        pass
    """
    source = 'CELERY_TASK_ROUTES = {"shop.report.*": "reports"}\n'
    assert rows(tmp_path, "CEL105", source, "proj/settings.py", {"shop/tasks.py": tasks}) == []


def test_task_routes_glob_matching_an_extra_task_name_not_flagged(tmp_path):
    source = 'CELERY_TASK_ROUTES = {"shop.report.*": "reports"}\n'
    assert name_rows(tmp_path, source, "proj/settings.py",
                     extra_task_names=("shop.report.monthly",)) == []


# -- CEL107: unserializable-argument -----------------------------------------------------------

def unserializable_rows(tmp_path: Path, argument: str, settings: str | None = None) -> list[int]:
    """Rows of CEL107 when `argument` is sent with `.delay()`, on row 11 of a service module."""
    source = f"""
        import json

        from shop.tasks import process_order


        def make_payload():
            return {{}}


        def run(ids, path):
            process_order.delay({argument})
    """
    files = {"proj/settings.py": settings} if settings is not None else None
    return rows(tmp_path, "CEL107", source, files=files)


@pytest.mark.parametrize("argument", [
    "{1, 2}",
    "{i for i in ids}",
    "set(ids)",
    "frozenset(ids)",
    "lambda: 1",
    "make_payload",
    "(i for i in ids)",
    "open(path)",
    "json",
    "[{1, 2}]",
    "{'ids': set(ids)}",
])
def test_unserializable(tmp_path, argument):
    assert unserializable_rows(tmp_path, argument) == [11]


@pytest.mark.parametrize("argument", [
    "[1, 2]",
    "(1, 2)",
    "{'a': 1}",
    "[i for i in ids]",
    "sorted(set(ids))",
    "list(set(ids))",
    "json.dumps({'a': 1})",
    "make_payload()",
    "open(path).read()",
    "path",
])
def test_serializable_not_flagged(tmp_path, argument):
    assert unserializable_rows(tmp_path, argument) == []


def test_generator_as_only_argument(tmp_path):
    assert unserializable_rows(tmp_path, "i for i in ids") == [11]


def test_open_file_bound_with_with(tmp_path):
    source = """
        from shop.tasks import process_order


        def run(path):
            with open(path) as handle:
                process_order.delay(handle)
    """
    assert rows(tmp_path, "CEL107", source) == [6]


def test_set_in_apply_async_args(tmp_path):
    source = """
        from shop.tasks import process_order


        def run(ids):
            process_order.apply_async(args=[set(ids)])
    """
    assert rows(tmp_path, "CEL107", source) == [5]


def test_set_in_send_task_args(tmp_path):
    source = """
        from proj.celery import app


        def run(ids):
            app.send_task("shop.tasks.process_order", args=[set(ids)])
    """
    assert rows(tmp_path, "CEL107", source) == [5]


PICKLE_SETTINGS = """
    CELERY_BROKER_URL = "redis://localhost:6379/0"
    CELERY_TASK_SERIALIZER = "pickle"
    CELERY_ACCEPT_CONTENT = ["pickle"]
"""


def test_set_with_pickle_serializer_not_flagged(tmp_path):
    assert unserializable_rows(tmp_path, "{1, 2}", settings=PICKLE_SETTINGS) == []


def test_set_with_pickle_in_app_conf_not_flagged(tmp_path):
    celery = CELERY_APP["proj/celery.py"] + """
        app.conf.task_serializer = "pickle"
    """
    source = """
        from shop.tasks import process_order


        def run(ids):
            process_order.delay(set(ids))
    """
    assert rows(tmp_path, "CEL107", source, files={"proj/celery.py": celery}) == []


def test_set_with_json_serializer(tmp_path):
    settings = """
        CELERY_BROKER_URL = "redis://localhost:6379/0"
        CELERY_TASK_SERIALIZER = "json"
    """
    assert unserializable_rows(tmp_path, "{1, 2}", settings=settings) == [11]


def test_set_to_task_with_own_serializer_not_flagged(tmp_path):
    tasks = """
        from celery import shared_task


        @shared_task(serializer="pickle")
        def process_order(order_id, note=None):
            pass
    """
    source = """
        from shop.tasks import process_order


        def run(ids):
            process_order.delay(set(ids))
    """
    assert rows(tmp_path, "CEL107", source, files={"shop/tasks.py": tasks}) == []


def test_set_with_call_serializer_not_flagged(tmp_path):
    source = """
        from shop.tasks import process_order


        def run(ids):
            process_order.apply_async(args=[set(ids)], serializer="pickle")
    """
    assert rows(tmp_path, "CEL107", source) == []


def test_set_to_task_with_own_json_serializer(tmp_path):
    tasks = """
        from celery import shared_task


        @shared_task(serializer="json")
        def process_order(order_id, note=None):
            pass
    """
    source = """
        from shop.tasks import process_order


        def run(ids):
            process_order.delay(set(ids))
    """
    assert rows(tmp_path, "CEL107", source, files={"shop/tasks.py": tasks}) == [5]


def test_set_with_call_json_serializer(tmp_path):
    source = """
        from shop.tasks import process_order


        def run(ids):
            process_order.apply_async(args=[set(ids)], serializer="json")
    """
    assert rows(tmp_path, "CEL107", source) == [5]


# -- CEL108: wait-on-ignored-result ------------------------------------------------------------

BASE_SETTINGS = textwrap.dedent(CELERY_APP["proj/settings.py"]).lstrip("\n")
WITH_BACKEND = 'CELERY_RESULT_BACKEND = "redis://localhost:6379/1"\n'
IGNORING_TASKS = """
    from celery import shared_task


    @shared_task(ignore_result=True)
    def notify(order_id):
        return order_id


    @shared_task
    def price(order_id):
        return order_id


    @shared_task(ignore_result=False)
    def total(order_id):
        return order_id
"""


def wait_rows(tmp_path: Path, body: str, settings: str = WITH_BACKEND,
              path: str = "shop/services.py", tasks: str = IGNORING_TASKS,
              **files: str) -> list[int]:
    """Rows of CEL108 in `path`: `body` is the body of `run()`, from row 5."""
    source = "from shop.tasks import notify, price, total\n\n\ndef run():\n" + "".join(
        f"    {line}\n" for line in body.strip("\n").splitlines())
    project = {**SHOP, "proj/settings.py": BASE_SETTINGS + settings, "shop/tasks.py": tasks,
               **files}
    return rows(tmp_path, "CEL108", source, path, project)


def test_cel108_get_on_a_task_with_ignore_result(tmp_path):
    assert wait_rows(tmp_path, "return notify.delay(1).get()") == [5]


def test_cel108_get_on_a_task_that_stores_its_result_not_flagged(tmp_path):
    assert wait_rows(tmp_path, "return price.delay(1).get(timeout=5)") == []


def test_cel108_wait_on_a_result_bound_to_a_name(tmp_path):
    assert wait_rows(tmp_path, "result = notify.apply_async((1,))\nreturn result.wait()") == [6]


def test_cel108_global_ignore_result(tmp_path):
    settings = WITH_BACKEND + "CELERY_TASK_IGNORE_RESULT = True\n"
    assert wait_rows(tmp_path, "return price.delay(1).get()", settings) == [5]


def test_cel108_global_ignore_result_overridden_by_the_task_not_flagged(tmp_path):
    settings = WITH_BACKEND + "CELERY_TASK_IGNORE_RESULT = True\n"
    assert wait_rows(tmp_path, "return total.delay(1).get()", settings) == []


def test_cel108_global_ignore_result_overridden_by_the_call_not_flagged(tmp_path):
    settings = WITH_BACKEND + "CELERY_TASK_IGNORE_RESULT = True\n"
    body = "return price.apply_async((1,), ignore_result=False).get()"
    assert wait_rows(tmp_path, body, settings) == []


def test_cel108_call_overrides_a_task_that_ignores_not_flagged(tmp_path):
    assert wait_rows(tmp_path, "return notify.apply_async((1,), ignore_result=False).get()") == []


def test_cel108_call_ignores_the_result(tmp_path):
    assert wait_rows(tmp_path, "return price.apply_async((1,), ignore_result=True).get()") == [5]


def test_cel108_call_with_unpacked_options_not_flagged(tmp_path):
    settings = WITH_BACKEND + "CELERY_TASK_IGNORE_RESULT = True\n"
    assert wait_rows(tmp_path, "return price.apply_async((1,), **OPTIONS).get()", settings) == []


def test_cel108_global_ignore_result_from_the_environment_not_flagged(tmp_path):
    settings = WITH_BACKEND + ('import os\nCELERY_TASK_IGNORE_RESULT = '
                               'os.environ.get("IGNORE", "") == "1"\n')
    assert wait_rows(tmp_path, "return price.delay(1).get()", settings) == []


def test_cel108_task_class_that_may_store_results_not_flagged(tmp_path):
    settings = WITH_BACKEND + "CELERY_TASK_IGNORE_RESULT = True\n"
    tasks = """
        from celery import shared_task
        from somelib.tasks import StoredTask


        @shared_task(base=StoredTask)
        def price(order_id):
            return order_id


        notify = total = price
    """
    assert wait_rows(tmp_path, "return price.delay(1).get()", settings, tasks=tasks) == []


def test_cel108_no_result_backend(tmp_path):
    assert wait_rows(tmp_path, "return price.delay(1).get()", settings="") == [5]


def test_cel108_result_backend_in_the_app_not_flagged(tmp_path):
    app = CELERY_APP["proj/celery.py"].replace('Celery("proj")',
                                               'Celery("proj", backend="redis://localhost/1")')
    assert wait_rows(tmp_path, "return price.delay(1).get()", settings="",
                     **{"proj/celery.py": app}) == []


def test_cel108_unknown_configuration_not_flagged(tmp_path):
    settings = "from .secrets import *  # not in the repository\n"
    assert wait_rows(tmp_path, "return price.delay(1).get()", settings=settings) == []


def test_cel108_eager_production_settings_not_flagged(tmp_path):
    settings = WITH_BACKEND + "CELERY_TASK_ALWAYS_EAGER = True\n"
    assert wait_rows(tmp_path, "return notify.delay(1).get()", settings) == []


def test_cel108_in_a_test_module_not_flagged(tmp_path):
    assert wait_rows(tmp_path, "return notify.delay(1).get()", path="shop/tests/test_x.py") == []


def test_cel108_get_of_a_dict_not_flagged(tmp_path):
    assert wait_rows(tmp_path, "data = {}\nreturn data.get('x')") == []


def test_cel108_signature_result_not_flagged(tmp_path):
    assert wait_rows(tmp_path, "return notify.s(1).delay().get()") == []


def test_cel108_messages(tmp_path):
    from celery import __version__

    source = ("from shop.tasks import notify, price\n\n\ndef run():\n"
              "    notify.delay(1).get()\n")
    project = {**SHOP, "shop/tasks.py": IGNORING_TASKS, "shop/services.py": source}
    result = run_project(tmp_path, project, select=("CEL108",))
    assert [d.message for d in result.diagnostics] == [
        (f"`.get()` on the result of `notify.delay()`, whose result is not stored "
         f"(`ignore_result=True`): Celery {__version__} returns None at once instead of the "
         "task's value; drop the wait, or store the result (`ignore_result=False`)")]
    source = source.replace("notify.delay", "price.delay")
    result = run_project(tmp_path, {**project, "shop/services.py": source}, select=("CEL108",))
    assert [d.message for d in result.diagnostics] == [
        (f"`.get()` on the result of `price.delay()` in a project with no result backend: "
         f"Celery {__version__} raises NotImplementedError (\"No result backend is "
         "configured\"); set `result_backend`, or drop the wait")]
