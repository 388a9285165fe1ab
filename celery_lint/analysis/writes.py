"""Which calls write to the database: what a transaction holds uncommitted until it ends (CEL103).

A write is recognised by the method called and what it is called on, never guessed: a call of the
project's own function that writes (`order.mark_paid()`) is not a write here, since its body is
not read; nor is an m2m `.add()` or `.set()`, which cannot be told from a set's.
"""

from __future__ import annotations

import re

import libcst as cst

from celery_lint.analysis.values import QUERYSET_METHODS, Binder, Kind, string_value

# WRITE_METHODS are always a write; the save/delete/create/update ones write when called on a
# model instance, a manager, a QuerySet, a form or a serializer, or on a name of unknown kind; not
# on a module or an imported class (`stripe.Customer.create(...)`)
from celery_lint.facts.summaries import (
    CREATE_METHODS,
    DELETE_METHODS,
    SAVE_METHODS,
    UPDATE_METHODS,
    WRITE_METHODS,
)

MANAGER_ATTRIBUTES = frozenset({"objects", "_default_manager", "_base_manager"})
NOT_DATABASE = frozenset({Kind.MODULE, Kind.SYMBOL, Kind.CLASS, Kind.FUNCTION, Kind.TASK,
                          Kind.TASK_SELF, Kind.SET, Kind.FILE, Kind.ASYNC_RESULT, Kind.REQUEST,
                          Kind.LAMBDA, Kind.GENERATOR, Kind.ROWS, Kind.PAIR})
CURSOR_METHODS = frozenset({"execute", "executemany"})
# a ModelAdmin method handing the object to Django's own (`super().save_model(...)`) writes it
ADMIN_WRITE_METHODS = frozenset({"save_model", "delete_model", "save_related", "save_formset"})
SQL_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|MERGE|TRUNCATE|UPSERT)\b", re.IGNORECASE)


def database_write(call: cst.Call, binder: Binder) -> bool:
    """Whether `call` writes rows: `.save()`, `.create()`, `.delete()`, a QuerySet's `.update()`,
    `bulk_*`, `get_or_create`/`update_or_create`, a form's or serializer's `.save()`, a cursor
    executing an INSERT, UPDATE or DELETE written in the call, or a ModelAdmin's
    `super().save_model(...)` (and `delete_model`, `save_related`, `save_formset`)."""
    func = call.func
    if not isinstance(func, cst.Attribute):
        return False
    method = func.attr.value
    if method in CURSOR_METHODS:
        return bool(call.args) and call.args[0].keyword is None \
            and SQL_WRITE.match(_leading_text(call.args[0].value)) is not None
    if method in WRITE_METHODS:
        return True
    if method in ADMIN_WRITE_METHODS:
        return _is_super(func.value)
    if method not in SAVE_METHODS | DELETE_METHODS | CREATE_METHODS | UPDATE_METHODS:
        return False
    kind = binder.infer(func.value).kind
    if kind in NOT_DATABASE:
        return False
    positional = any(arg.keyword is None and not arg.star for arg in call.args)
    if method in SAVE_METHODS:
        # `image.save(path)`, `storage.save(name, content)` take positional arguments, and a
        # form's `save(commit=False)` builds the instance without writing it
        return not positional and not any(
            arg.keyword is not None and arg.keyword.value == "commit"
            and isinstance(arg.value, cst.Name) and arg.value.value == "False"
            for arg in call.args)
    if method in DELETE_METHODS:
        return not positional  # `cache.delete(key)`, `client.delete(url)`
    if method in CREATE_METHODS:
        return True
    # `.update()`: a QuerySet's, or a serializer's; a dict's and a set's are far more common
    return kind in (Kind.QUERYSET, Kind.MANAGER, Kind.SERIALIZER) or _queryset_chain(func.value)


def _is_super(node: cst.BaseExpression) -> bool:
    """`super()` or `super(Class, self)`."""
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) \
        and node.func.value == "super"


def _queryset_chain(node: cst.BaseExpression) -> bool:
    """`X.objects`, `order.lines.filter(...)`: read as a manager or QuerySet by their shape."""
    if isinstance(node, cst.Attribute):
        return node.attr.value in MANAGER_ATTRIBUTES
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) \
        and node.func.attr.value in QUERYSET_METHODS


def _leading_text(node: cst.BaseExpression) -> str:
    """The text a string argument starts with (the literal part of an f-string)."""
    if isinstance(node, cst.FormattedString):
        first = node.parts[0] if node.parts else None
        return first.value if isinstance(first, cst.FormattedStringText) else ""
    return string_value(node) or ""
