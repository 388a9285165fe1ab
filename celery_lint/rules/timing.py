"""Rules about when a task runs: a countdown or eta the broker cannot hold (CEL106)."""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from datetime import timedelta
from functools import cache, cached_property
from pathlib import Path

import libcst as cst

from celery_lint.analysis.calls import is_canvas
from celery_lint.analysis.values import Binder, Kind, source_of
from celery_lint.codes import rule_for
from celery_lint.facts.evaluate import evaluate_source
from celery_lint.facts.settings import CeleryConfig
from celery_lint.rules.base import Rule

# broker URL schemes and the kombu transport module whose Channel holds the default timeout
TRANSPORTS = {
    "redis": ("Redis", "kombu.transport.redis", "visibility_timeout"),
    "rediss": ("Redis", "kombu.transport.redis", "visibility_timeout"),
    "redis+socket": ("Redis", "kombu.transport.redis", "visibility_timeout"),
    "sentinel": ("Redis", "kombu.transport.redis", "visibility_timeout"),
    "sqs": ("SQS", "kombu.transport.SQS", "default_visibility_timeout"),
}
TIMED_METHODS = frozenset({"apply_async", "send_task", "signature", "subtask"})
NOW = frozenset({"django.utils.timezone.now", "datetime.datetime.now", "datetime.datetime.utcnow"})
TIMEDELTA = frozenset({"datetime.timedelta"})


@dataclass(frozen=True)
class VisibilityTimeout:
    broker: str  # "Redis" or "SQS"
    seconds: float
    source: str  # where the value comes from, for messages


@cache
def transport_default(module: str, attribute: str) -> float | None:
    """A number kombu's transport `Channel` class sets, read from kombu's source.

    Importing the transport needs its client library (redis, boto3), which a linter does not.
    """
    try:
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            return None
        tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    except (ImportError, OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if not (isinstance(node, ast.ClassDef) and node.name == "Channel"):
            continue
        for statement in node.body:
            if isinstance(statement, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == attribute for t in statement.targets):
                value = statement.value
                if isinstance(value, ast.Constant) and _is_number(value.value):
                    return float(value.value)
    return None


def visibility_timeout(config: CeleryConfig | None) -> VisibilityTimeout | None:
    """The visibility timeout of the production broker, when it is Redis or SQS and known."""
    if config is None:
        return None
    url = config.get("broker_url")
    value = url.value if url is not None else None
    if isinstance(value, tuple) and value:
        value = value[0]  # failover URLs: the first is used first
    if not isinstance(value, str):
        return None
    scheme = value.split(";")[0].strip().partition("://")[0].lower()
    if scheme not in TRANSPORTS:
        return None
    broker, module, attribute = TRANSPORTS[scheme]
    options = config.get("broker_transport_options")
    if options is not None:
        if not isinstance(options.value, dict):
            return None
        if "visibility_timeout" in options.value:
            seconds = options.value["visibility_timeout"]
            if not _is_number(seconds):
                return None
            return VisibilityTimeout(broker, float(seconds), "from `broker_transport_options`")
    default = transport_default(module, attribute)
    if default is None:
        return None
    return VisibilityTimeout(broker, default, "kombu's default")


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
            what = f"countdown of {_duration(seconds)}" if arg.keyword.value == "countdown" \
                else f"eta {_duration(seconds)} from now"
            self.report(arg.value, (
                f"{what} is beyond the {timeout.broker} visibility timeout, "
                f"{_duration(timeout.seconds)} ({timeout.source}): the broker delivers "
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
    return float(value) if _is_number(value) else None


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
        if not _is_number(value):
            return None
        if arg.keyword is None:
            positional.append(value)  # type: ignore[arg-type]
        else:
            keywords[arg.keyword.value] = value  # type: ignore[assignment]
    try:
        return timedelta(*positional, **keywords)
    except (TypeError, OverflowError, ValueError):
        return None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _duration(seconds: float) -> str:
    """`2 h`, `1 day`, `90 min` when whole, else `3601 s`."""
    for size, unit in ((86400, " day"), (3600, " h"), (60, " min")):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count}{unit}{'s' if unit == ' day' and count != 1 else ''}"
    return f"{int(seconds)} s" if float(seconds).is_integer() else f"{seconds:g} s"
