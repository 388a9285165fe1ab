"""Rules about when a task runs: a countdown or eta the broker cannot hold (CEL106), a task that
runs longer than the broker waits for its acknowledgement (CEL315)."""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property

import libcst as cst

from celery_lint.analysis.broker import (
    VisibilityTimeout,
    duration,
    is_number,
    visibility_timeout,
)
from celery_lint.analysis.calls import is_canvas
from celery_lint.analysis.values import Binder, Kind, source_of
from celery_lint.codes import rule_for
from celery_lint.facts.evaluate import evaluate_source
from celery_lint.rules.base import Rule
from celery_lint.rules.definitions import _decorator_keyword, _task_of
from celery_lint.rules.delivery import (
    VISIBILITY_BELOW_LIMIT,
    redelivered_limit,
    redelivery_message,
)

TIMED_METHODS = frozenset({"apply_async", "send_task", "signature", "subtask"})
NOW = frozenset({"django.utils.timezone.now", "datetime.datetime.now", "datetime.datetime.utcnow"})
TIMEDELTA = frozenset({"datetime.timedelta"})


class CountdownExceedsVisibilityTimeout(Rule):
    info = rule_for("CEL106")

    @cached_property
    def timeout(self) -> VisibilityTimeout | None:
        return visibility_timeout(self.context.index.celery_config)

    def visit_Call(self, node: cst.Call) -> None:
        if self.timeout is None or not self._schedules(node):
            return
        timeout = self.timeout
        for arg in node.args:
            if arg.keyword is None or arg.keyword.value not in ("countdown", "eta"):
                continue
            if arg.keyword.value == "countdown":
                seconds = _seconds(arg.value, self.binder)
            else:
                seconds = _from_now(arg.value, self.binder)
            if seconds is None or seconds <= timeout.seconds:
                continue
            what = f"countdown of {duration(seconds)}" if arg.keyword.value == "countdown" \
                else f"eta {duration(seconds)} from now"
            self.report(arg.value, (
                f"{what} is beyond the {timeout.broker} visibility timeout, "
                f"{duration(timeout.seconds)} ({timeout.source}): the broker delivers "
                "the unacknowledged message again after that, so the task runs twice or more; "
                "use a shorter countdown, a beat schedule entry, or raise `visibility_timeout` "
                "in `broker_transport_options`"))

    def _schedules(self, node: cst.Call) -> bool:
        """`apply_async`, `send_task` and signatures, `self.retry(...)`, a signature's `.set()`."""
        call = self.context.task_call(node)
        if call is not None:
            return call.method in TIMED_METHODS
        func = node.func
        if not isinstance(func, cst.Attribute):
            return False
        if func.attr.value == "retry":
            return self.binder.infer(func.value).kind in (Kind.TASK_SELF, Kind.TASK)
        return func.attr.value == "set" and is_canvas(func.value, self.binder)


def _seconds(node: cst.BaseExpression, binder: Binder) -> float | None:
    """A countdown written as a number or arithmetic, or `timedelta(...).total_seconds()`."""
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) \
            and node.func.attr.value == "total_seconds" and not node.args:
        delta = _timedelta(node.func.value, binder)
        return delta.total_seconds() if delta is not None else None
    value = evaluate_source(source_of(node), {})
    return float(value) if is_number(value) else None


def _from_now(node: cst.BaseExpression, binder: Binder) -> float | None:
    """How far ahead an eta written as `now() + timedelta(...)` lies, in seconds."""
    if isinstance(node, cst.Call) and binder.infer(node.func).qualname in NOW:
        return 0.0
    if not isinstance(node, cst.BinaryOperation) or not isinstance(
            node.operator, (cst.Add, cst.Subtract)):
        return None
    sign = 1 if isinstance(node.operator, cst.Add) else -1
    start, delta = _from_now(node.left, binder), _timedelta(node.right, binder)
    if start is not None and delta is not None:
        return start + sign * delta.total_seconds()
    if sign == 1:
        start, delta = _from_now(node.right, binder), _timedelta(node.left, binder)
        if start is not None and delta is not None:
            return start + delta.total_seconds()
    return None


def _timedelta(node: cst.BaseExpression, binder: Binder) -> timedelta | None:
    """`timedelta(hours=2)` with numbers for arguments."""
    if not isinstance(node, cst.Call) or binder.infer(node.func).qualname not in TIMEDELTA:
        return None
    positional: list[float] = []
    keywords: dict[str, float] = {}
    for arg in node.args:
        if arg.star:
            return None
        value = evaluate_source(source_of(arg.value), {})
        if not is_number(value):
            return None
        if arg.keyword is None:
            positional.append(value)  # type: ignore[arg-type]
        else:
            keywords[arg.keyword.value] = value  # type: ignore[assignment]
    try:
        return timedelta(*positional, **keywords)
    except (TypeError, OverflowError, ValueError):
        return None


class VisibilityTimeoutBelowTimeLimit(Rule):
    """CEL315 for a task whose own options make it outlive the visibility timeout; the global
    case is reported once, at the setting (`rules.delivery.global_redelivery`)."""

    info = VISIBILITY_BELOW_LIMIT

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        task = _task_of(self, node)
        if task is None:
            return
        found = redelivered_limit(self.context.index, task)
        if found is None:
            return
        limit, acks = found.limit_source, found.acks_source
        if limit.on_task:
            at = _decorator_keyword(node, limit.option)
            late = "`acks_late=True`" if acks.on_task or acks.setting is None \
                else f"`{acks.setting.key}`"
            what = (f"Task `{task.function}` is acknowledged late ({late}) and, with "
                    f"`{limit.option}={limit.value}`, it")
        elif acks.on_task:
            at = _decorator_keyword(node, "acks_late")
            assert limit.setting is not None
            what = (f"Task `{task.function}` is acknowledged late (`acks_late=True`) and, with the "
                    f"global `{limit.setting.key}`, it")
        else:
            return  # both global: reported once, at the setting
        if at is not None:
            self.report(at, redelivery_message(what, found.limit, found.timeout))
