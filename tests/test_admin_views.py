"""The Django admin answers requests too: a ModelAdmin's save, delete and response methods and
its actions are views for CEL102, and Django runs the add, change and delete paths inside
`transaction.atomic`, so an enqueue there is CEL103 (actions are not wrapped). One shape per
test, beside its near miss.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import CELERY_APP, MODELS, codes_at, run_project

TASKS = """
    from celery import shared_task


    @shared_task
    def notify(order_id):
        pass
"""

SHOP = {**CELERY_APP, "shop/models.py": MODELS, "shop/tasks.py": TASKS}

HEADER = """
    from django.contrib import admin

    from .models import Order
    from .tasks import notify

"""


def admin_codes(tmp_path: Path, body: str) -> list[tuple[str, int]]:
    """(code, row) of CEL102 and CEL103 in shop/admin.py, `body` written after HEADER (rows
    count from the first line of HEADER)."""
    files = {**SHOP, "shop/admin.py": HEADER + body.lstrip("\n")}
    return codes_at(tmp_path, files, "shop/admin.py", select=("CEL102", "CEL103"))


@pytest.mark.parametrize("method", [
    "save_related(self, request, form, formsets, change)",
    "save_formset(self, request, form, formset, change)",
    "response_add(self, request, obj, post_url_continue=None)",
    "response_change(self, request, obj)",
    "response_delete(self, request, obj_display, obj_id)",
])
def test_enqueue_in_an_admin_method_after_the_admin_wrote(tmp_path: Path, method: str) -> None:
    # Django saved (or deleted) the object in its transaction before it calls these
    body = f"""
    class OrderAdmin(admin.ModelAdmin):
        def {method}:
            notify.delay(1)
    """
    assert admin_codes(tmp_path, body) == [("CEL103", 8)]


@pytest.mark.parametrize("method, write", [
    ("save_model(self, request, obj, form, change)", "super().save_model(request, obj, form, change)"),
    ("save_model(self, request, obj, form, change)", "obj.save()"),
    ("delete_model(self, request, obj)", "super().delete_model(request, obj)"),
    ("delete_model(self, request, obj)", "obj.delete()"),
])
def test_enqueue_in_an_admin_method_after_its_own_write(tmp_path: Path, method: str,
                                                        write: str) -> None:
    body = f"""
    class OrderAdmin(admin.ModelAdmin):
        def {method}:
            notify.delay(obj.pk)
            {write}
            notify.delay(obj.pk)
    """
    # the first call comes before anything is written in the transaction
    assert admin_codes(tmp_path, body) == [("CEL103", 10)]


def test_admin_transaction_is_named_in_the_message(tmp_path: Path) -> None:
    body = """
    @admin.register(Order)
    class OrderAdmin(admin.ModelAdmin):
        def save_model(self, request, obj, form, change):
            super().save_model(request, obj, form, change)
            notify.delay(obj.pk)

        def response_add(self, request, obj, post_url_continue=None):
            notify.delay(obj.pk)
            return super().response_add(request, obj, post_url_continue)
    """
    result = run_project(tmp_path, {**SHOP, "shop/admin.py": HEADER + body.lstrip("\n")},
                         select=("CEL103",))
    first, second = (d.message for d in result.diagnostics)
    assert "`OrderAdmin.save_model`, which the Django admin runs inside its own transaction (its " \
           "`changeform_view` wraps it in `transaction.atomic`), after `super().save_model(...)` " \
           "on line 9" in first
    assert "`OrderAdmin.response_add`, which the Django admin runs inside its own transaction " \
           "(its `changeform_view` wraps it in `transaction.atomic`), after the admin saved the " \
           "object and its inlines (`save_model`, `save_related`)" in second


def test_enqueue_in_an_admin_action_is_not_in_a_transaction(tmp_path: Path) -> None:
    body = """
    @admin.action(description="Notify")
    def notify_selected(modeladmin, request, queryset):
        for order in queryset:
            order.save()
            notify.delay(order.pk)


    class OrderAdmin(admin.ModelAdmin):
        actions = [notify_selected, "resend"]

        def resend(self, request, queryset):
            queryset.update(status="resent")
            notify.delay(1)

        def delete_queryset(self, request, queryset):
            queryset.delete()
            notify.delay(1)
    """
    assert admin_codes(tmp_path, body) == []


def test_enqueue_in_a_mixin_of_an_admin_class(tmp_path: Path) -> None:
    body = """
    class NotifyMixin:
        def save_model(self, request, obj, form, change):
            super().save_model(request, obj, form, change)
            notify.delay(obj.pk)


    class OrderAdmin(NotifyMixin, admin.ModelAdmin):
        pass
    """
    assert admin_codes(tmp_path, body) == [("CEL103", 9)]


def test_enqueue_in_an_admin_method_on_commit(tmp_path: Path) -> None:
    body = """
    from django.db import transaction


    class OrderAdmin(admin.ModelAdmin):
        def save_model(self, request, obj, form, change):
            super().save_model(request, obj, form, change)
            transaction.on_commit(lambda: notify.delay(obj.pk))
    """
    assert admin_codes(tmp_path, body) == []


def test_admin_that_replaces_its_change_view_is_not_assumed_atomic(tmp_path: Path) -> None:
    body = """
    class OrderAdmin(admin.ModelAdmin):
        def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
            return self._changeform_view(request, object_id, form_url, extra_context)

        def save_model(self, request, obj, form, change):
            super().save_model(request, obj, form, change)
            notify.delay(obj.pk)

        def delete_model(self, request, obj):
            super().delete_model(request, obj)
            notify.delay(obj.pk)
    """
    assert admin_codes(tmp_path, body) == [("CEL103", 16)]


def test_enqueue_in_a_method_of_a_class_that_is_no_admin(tmp_path: Path) -> None:
    body = """
    class OrderExporter:
        def save_model(self, request, obj, form, change):
            obj.save()
            notify.delay(obj.pk)
    """
    assert admin_codes(tmp_path, body) == []


def test_enqueue_in_an_inline_is_no_admin_method(tmp_path: Path) -> None:
    body = """
    class InvoiceInline(admin.TabularInline):
        def save_model(self, request, obj, form, change):
            obj.save()
            notify.delay(obj.pk)
    """
    assert admin_codes(tmp_path, body) == []


@pytest.mark.parametrize("base", ["admin.ModelAdmin", "admin.options.ModelAdmin",
                                  "UserAdmin", "ImportExportModelAdmin"])
def test_admin_base_classes(tmp_path: Path, base: str) -> None:
    body = f"""
    from django.contrib.auth.admin import UserAdmin
    from import_export.admin import ImportExportModelAdmin


    class OrderAdmin({base}):
        def delete_model(self, request, obj):
            super().delete_model(request, obj)
            notify.delay(obj.pk)
    """
    assert admin_codes(tmp_path, body) == [("CEL103", 13)]


# -- CEL102: the admin waits for a task --------------------------------------------------------

def test_direct_call_in_an_admin_action_function(tmp_path: Path) -> None:
    body = """
    @admin.action(description="Notify")
    def notify_selected(modeladmin, request, queryset):
        for order in queryset:
            notify(order.pk)


    def listed(modeladmin, request, queryset):
        notify.apply(args=(1,))


    class OrderAdmin(admin.ModelAdmin):
        actions = [notify_selected, listed, "resend"]

        def resend(self, request, queryset):
            return notify.delay(1).get()
    """
    assert admin_codes(tmp_path, body) == [("CEL102", 9), ("CEL102", 13), ("CEL102", 20)]


def test_direct_call_in_an_admin_save_method(tmp_path: Path) -> None:
    body = """
    class OrderAdmin(admin.ModelAdmin):
        def save_model(self, request, obj, form, change):
            super().save_model(request, obj, form, change)
            notify(obj.pk)
    """
    assert admin_codes(tmp_path, body) == [("CEL102", 9)]


def test_direct_call_in_an_admin_helper_that_is_no_admin_method(tmp_path: Path) -> None:
    body = """
    def notify_all(orders):
        for order in orders:
            notify(order.pk)


    class OrderAdmin(admin.ModelAdmin):
        list_display = ["status", "notified"]

        def notified(self, obj):
            return notify(obj.pk)

        def resend(self, request, queryset):
            notify(1)
    """
    # `resend` is not listed in `actions`: a method like any other
    assert admin_codes(tmp_path, body) == []
