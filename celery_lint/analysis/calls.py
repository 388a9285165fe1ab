"""Recognise the ways a task is called: `.delay()`, `.apply_async()`, signatures, `send_task()`."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from celery_lint.analysis.values import Binder, Kind
from celery_lint.facts.types import TaskDefinition

SIGNATURE_FUNCTIONS = frozenset({"celery.signature", "celery.canvas.signature", "celery.Signature",
                                 "celery.canvas.Signature"})
CHAIN_FUNCTIONS = frozenset({"celery.chain", "celery.canvas.chain", "celery.canvas._chain"})
CHORD_FUNCTIONS = frozenset({"celery.chord", "celery.canvas.chord", "celery.canvas._chord"})
GROUP_FUNCTIONS = frozenset({"celery.group", "celery.canvas.group"})
RESULT_WAITS = frozenset({"get", "wait", "join", "join_native"})
# methods that run the task: receivers must be known tasks (`.s()` and `.apply()` are common names)
_TASK_ONLY = frozenset({"s", "si", "signature", "apply", "subtask"})
_ANY_RECEIVER = frozenset({"delay", "apply_async"})


@dataclass(frozen=True)
class TaskCall:
    node: cst.Call
    method: str  # delay, apply_async, s, si, signature, apply, send_task, direct
    task: TaskDefinition | None
    args: tuple[cst.BaseExpression, ...] | None  # None when they cannot be read statically
    kwargs: dict[str, cst.BaseExpression] | None
    star: bool  # *args / **kwargs in the call: the count is unknown
    name_node: cst.BaseExpression | None = None  # the task-name string of send_task / signature

    @property
    def values(self) -> list[cst.BaseExpression]:
        """Every expression that travels to the worker as an argument."""
        found = list(self.args or ()) + list((self.kwargs or {}).values())
        return found

    @property
    def is_partial(self) -> bool:
        return self.method in ("s", "signature", "subtask")

    @property
    def label(self) -> str:
        name = self.task.function if self.task else "task"
        return f"`{name}()`" if self.method == "direct" else f"`{name}.{self.method}()`"


def _sequence(node: cst.BaseExpression | None) -> tuple[tuple[cst.BaseExpression, ...] | None, bool]:
    if node is None:
        return (), False
    if isinstance(node, (cst.List, cst.Tuple)):
        star = any(isinstance(e, cst.StarredElement) for e in node.elements)
        return tuple(e.value for e in node.elements if isinstance(e, cst.Element)), star
    if isinstance(node, cst.Name) and node.value == "None":
        return (), False
    return None, False


def _mapping(node: cst.BaseExpression | None) -> tuple[dict[str, cst.BaseExpression] | None, bool]:
    if node is None:
        return {}, False
    if isinstance(node, cst.Dict):
        found: dict[str, cst.BaseExpression] = {}
        star = False
        for element in node.elements:
            if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString):
                key = element.key.evaluated_value
                if isinstance(key, str):
                    found[key] = element.value
                    continue
            star = True
        return found, star
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "dict":
        return _direct(node)[1], any(a.star or a.keyword is None for a in node.args)
    if isinstance(node, cst.Name) and node.value == "None":
        return {}, False
    return None, False


def _direct(call: cst.Call) -> tuple[tuple[cst.BaseExpression, ...], dict[str, cst.BaseExpression], bool]:
    args = tuple(a.value for a in call.args if a.keyword is None and not a.star)
    kwargs = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
    star = any(a.star for a in call.args)
    return args, kwargs, star


def _argument(call: cst.Call, keyword: str, position: int) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return positional[position].value if len(positional) > position else None


def _packed(call: cst.Call, method: str, task: TaskDefinition | None, offset: int,
            name_node: cst.BaseExpression | None = None) -> TaskCall:
    """A call whose task arguments come in `args=` / `kwargs=` (apply_async, send_task…)."""
    args, star_args = _sequence(_argument(call, "args", offset))
    kwargs, star_kwargs = _mapping(_argument(call, "kwargs", offset + 1))
    star = star_args or star_kwargs or any(a.star for a in call.args)
    return TaskCall(call, method, task, args, kwargs, star, name_node)


def task_call(call: cst.Call, binder: Binder) -> TaskCall | None:
    """The task call `call` makes, or None when it is not one."""
    func = call.func
    if isinstance(func, cst.Attribute):
        method = func.attr.value
        if method in _ANY_RECEIVER or method in _TASK_ONLY:
            task = binder.task_of(func.value)
            if method in _TASK_ONLY and task is None:
                return None
            if method in ("apply_async", "apply"):
                return _packed(call, method, task, 0)
            if method in ("signature", "subtask"):
                return _packed(call, method, task, 0)
            args, kwargs, star = _direct(call)
            return TaskCall(call, method, task, args, kwargs, star)
        if method == "send_task":
            name = _argument(call, "name", 0)
            return _packed(call, method, None, 1, name)
    callee = binder.infer(func)
    if callee.kind is Kind.TASK:
        args, kwargs, star = _direct(call)
        return TaskCall(call, "direct", binder.index.task(callee.qualname), args, kwargs, star)
    if callee.qualname in SIGNATURE_FUNCTIONS and call.args:
        name = _argument(call, "varies", 0)
        return _packed(call, "signature", None, 1, name)
    return None


def chain_links(call: cst.Call, binder: Binder) -> list[cst.BaseExpression]:
    """Members of `chain(a, b, c)` and the body of `chord(header, body)` that receive a result."""
    qualname = binder.infer(call.func).qualname
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    if qualname in CHAIN_FUNCTIONS:
        return positional[1:]
    if qualname in CHORD_FUNCTIONS:
        body = _argument(call, "body", 1)
        return [body] if body is not None else []
    if isinstance(call.func, cst.Call) and binder.infer(call.func.func).qualname in CHORD_FUNCTIONS:
        return positional[:1]  # chord(header)(body)
    return []


def is_result_wait(call: cst.Call, binder: Binder) -> bool:
    """`.get()`, `.wait()` or `.join()` on the AsyncResult of a task sent in this code."""
    func = call.func
    if not isinstance(func, cst.Attribute) or func.attr.value not in RESULT_WAITS:
        return False
    return binder.infer(func.value).kind is Kind.ASYNC_RESULT


def is_canvas(node: cst.BaseExpression, binder: Binder) -> bool:
    """A signature or canvas built in place: `task.s(...)` on a project task, `signature(...)`,
    `chain(...)`, `group(...)`, `chord(...)`, `a.s() | b.s()`, and `.set(...)`/`.clone()` of one."""
    if isinstance(node, cst.BinaryOperation):
        return isinstance(node.operator, cst.BitOr) and (
            is_canvas(node.left, binder) or is_canvas(node.right, binder))
    if not isinstance(node, cst.Call):
        return False
    func = node.func
    if isinstance(func, cst.Attribute):
        if func.attr.value in ("s", "si", "signature", "subtask"):
            return binder.task_of(func.value) is not None
        if func.attr.value in ("set", "clone"):
            return is_canvas(func.value, binder)
    return binder.infer(func).qualname in (SIGNATURE_FUNCTIONS | CHAIN_FUNCTIONS | CHORD_FUNCTIONS
                                           | GROUP_FUNCTIONS)
