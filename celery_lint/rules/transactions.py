"""Rules about tasks and database transactions: a task sent before its data is committed (CEL103)."""

from __future__ import annotations

from functools import cached_property

import libcst as cst

from celery_lint.analysis.calls import TaskCall, is_canvas
from celery_lint.analysis.values import Binder, source_of
from celery_lint.diagnostics import Applicability, Severity
from celery_lint.facts.index import ProjectIndex
from celery_lint.facts.types import TaskDefinition
from celery_lint.registry import RuleInfo, register
from celery_lint.rules.base import Rule

ATOMIC = "django.db.transaction.atomic"
NON_ATOMIC_REQUESTS = "django.db.transaction.non_atomic_requests"
METHOD_DECORATOR = "django.utils.decorators.method_decorator"
ENQUEUE_METHODS = frozenset({"delay", "apply_async", "send_task"})


def atomic_requests(index: ProjectIndex) -> bool:
    """Whether every production settings module sets `ATOMIC_REQUESTS` on the default database."""
    configs = index.settings.configs
    if not configs:
        return False
    for config in configs:
        if not config.complete or config.django is None:
            return False
        entry = config.django.entries.get("DATABASES")
        databases = entry.value if entry is not None else None
        default = databases.get("default") if isinstance(databases, dict) else None
        if not isinstance(default, dict) or default.get("ATOMIC_REQUESTS") is not True:
            return False
    return True


class EnqueueInTransaction(Rule):
    info = register(RuleInfo(
        "CEL103", "enqueue-in-transaction", Severity.WARNING,
        "a task enqueued inside a database transaction instead of on commit",
        Applicability.UNSAFE))

    def __init__(self, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(context)
        # why the code of a block runs in a transaction (None: it does not, or not yet)
        self.blocks: dict[cst.CSTNode, str | None] = {}
        self.inside: list[str | None] = [None]
        self.non_atomic_classes: list[bool] = []

    @cached_property
    def atomic_requests(self) -> bool:
        return atomic_requests(self.context.index)

    # -- where a transaction is open -----------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.non_atomic_classes.append(any(
            self._decorates_with(d.decorator, NON_ATOMIC_REQUESTS) for d in node.decorators))

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.non_atomic_classes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        # a function's body runs when it is called, not where it is defined
        self.blocks[node.body] = self._function_transaction(node)

    def visit_With(self, node: cst.With) -> None:
        for item in node.items:
            if isinstance(item.item, cst.Call) and self._qualname(item.item.func) == ATOMIC:
                # the line is found only when a call is reported: positions are costly
                self.blocks[node.body] = (node, item.item)  # type: ignore[assignment]
                return

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.inside.append(None)  # runs later: `transaction.on_commit(lambda: ...)`

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self.inside.pop()

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._enter(node)

    def leave_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._leave(node)

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        self._enter(node)

    def leave_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        self._leave(node)

    def _enter(self, node: cst.CSTNode) -> None:
        if node in self.blocks:
            self.inside.append(self.blocks[node])

    def _leave(self, node: cst.CSTNode) -> None:
        if node in self.blocks:
            self.inside.pop()

    def _function_transaction(self, node: cst.FunctionDef) -> str | None:
        for decorator in node.decorators:
            if self._decorates_with(decorator.decorator, ATOMIC):
                return f"in `@{source_of(decorator.decorator)}` function `{node.name.value}`"
        function = self.binder.function_at(node)
        if function is None or not function.is_view or not self.atomic_requests:
            return None
        if any(self._decorates_with(d.decorator, NON_ATOMIC_REQUESTS) for d in node.decorators):
            return None
        if function.class_qualname is not None and self.non_atomic_classes \
                and self.non_atomic_classes[-1]:
            return None
        return f"in view `{node.name.value}`, which `ATOMIC_REQUESTS` runs in a transaction"

    def _decorates_with(self, decorator: cst.BaseExpression, qualname: str) -> bool:
        """`@atomic`, `@atomic(using=...)`, `@method_decorator(atomic, ...)` for `qualname`."""
        if self._qualname(decorator) == qualname:
            return True
        if not isinstance(decorator, cst.Call):
            return False
        if self._qualname(decorator.func) == qualname:
            return True
        return self._qualname(decorator.func) == METHOD_DECORATOR and bool(decorator.args) \
            and self._decorates_with(decorator.args[0].value, qualname)

    def _qualname(self, node: cst.BaseExpression) -> str | None:
        return self.binder.infer(node).qualname

    # -- the report ----------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        where = self.inside[-1]
        if where is None:
            return
        call = self.context.task_call(node)
        if call is None or call.method not in ENQUEUE_METHODS:
            return
        assert isinstance(node.func, cst.Attribute)
        receiver = node.func.value
        task = call.task or _signed_task(receiver, self.binder)
        overrides = ("apply_async", "delay") if call.method == "delay" else ("apply_async",)
        if task is not None and self.context.index.base_defines(task, *overrides):
            return  # a base class that overrides sending usually defers it to on_commit itself
        canvas = is_canvas(receiver, self.binder)
        if isinstance(where, tuple):
            block, atomic = where
            line = self.context.range_of(block).start.line
            where = f"inside `with {source_of(atomic)}` (line {line})"
        self.report(node, f"{_label(call, receiver)} {where}: a worker can run the task before the "
                          "transaction commits, and not find its rows yet (or ever, on rollback); "
                          f"{_advice(call, receiver, canvas)}")


def _signed_task(receiver: cst.BaseExpression, binder: Binder) -> TaskDefinition | None:
    """The task of `task.s(...)`, `task.si(...)` or `task.signature(...)`."""
    if isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Attribute) \
            and receiver.func.attr.value in ("s", "si", "signature", "subtask"):
        return binder.task_of(receiver.func.value)
    return None


def _label(call: TaskCall, receiver: cst.BaseExpression) -> str:
    if call.task is not None:
        return call.label
    return f"`{_short(receiver)}.{call.method}()`"


def _advice(call: TaskCall, receiver: cst.BaseExpression, canvas: bool) -> str:
    text = _short(receiver)
    sent = f"{text}.{call.method}"
    later = f"`transaction.on_commit(partial({sent}, ...))`" if call.node.args \
        else f"`transaction.on_commit({sent})`"
    if call.method == "send_task" or canvas:
        return f"send it from {later}"
    return f"use `{sent}_on_commit(...)` (Celery ≥ 5.4) or {later}"


def _short(node: cst.BaseExpression) -> str:
    """The source of `node` when it fits in a message, else its callee with `(...)`."""
    text = source_of(node)
    if len(text) <= 40 and "\n" not in text:
        return text
    if isinstance(node, cst.Call):
        return f"{_short(node.func)}(...)"
    if isinstance(node, cst.Attribute):
        return f"{_short(node.value)}.{node.attr.value}"
    return "(...)"
