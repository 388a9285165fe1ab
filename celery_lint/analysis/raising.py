"""What a task's call of a project function does to the exceptions Celery raises in the task to
control it (CEL206, CEL204), from the function summaries (facts.summaries): a function that raises
`Retry` for the task that calls it, a function whose broad `except` swallows the soft time
limit's `SoftTimeLimitExceeded`."""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from celery_lint.analysis.summaries import called_function
from celery_lint.analysis.values import Binder, Kind
from celery_lint.facts.summaries import RetryOf, Summary
from celery_lint.facts.types import FunctionFact
from celery_lint.index import SUMMARY_DEPTH, ProjectIndex

# from the function called to the one whose own body does it, each with the line of the call that
# leads on (of what it does, for the last), as index.Reached.chain
Chain = tuple[tuple[FunctionFact, int], ...]


def first_chain(index: ProjectIndex, start: FunctionFact,
                line_of: Callable[[Summary], int]) -> Chain | None:
    """The shortest chain of calls from `start` to a project function whose summary does what
    `line_of` asks (the line where it does, 0 where it does not), up to SUMMARY_DEPTH functions
    deep, each function visited once (a recursive pair ends). A call that the summary could not
    name (through a variable, a method of an unknown object) is not in it: not followed."""
    seen = {start.qualname}
    pending: list[Chain] = [((start, 0),)]
    while pending:
        path = pending.pop(0)  # breadth first: the shortest chain first
        function = path[-1][0]
        summary = function.summary
        if summary is None:
            continue
        line = line_of(summary)
        if line:
            return (*path[:-1], (function, line))
        if len(path) >= SUMMARY_DEPTH:
            continue
        for call in summary.calls:
            callee = index.function(call.target)
            if callee is None or callee.qualname in seen:
                continue
            seen.add(callee.qualname)
            pending.append((*path[:-1], (function, call.line), (callee, 0)))
    return None


def retry_through(node: cst.Call, binder: Binder) -> tuple[Chain, RetryOf] | None:
    """The chain from the project function `node` calls to the `Retry` it raises for the task
    that calls it: `param.retry()` on a parameter the call gives the task (a bound task's `self`,
    or the task by name), in the function called; or `raise Retry(...)`, in any function of the
    chain. A task handed on to a further function is not followed: the summary does not say
    which argument goes where."""
    function = called_function(node, binder)
    summary = function.summary if function is not None else None
    if function is None or summary is None:
        return None
    retry = summary.retry
    if retry is not None and (not retry.param or _gives_task(node, function, retry, binder)):
        return ((function, retry.line),), retry
    chain = first_chain(binder.index, function,
                        lambda s: s.retry.line if s.retry is not None and not s.retry.param
                        else 0)
    if chain is None:
        return None
    found = chain[-1][0].summary
    assert found is not None and found.retry is not None
    return chain, found.retry


def _gives_task(node: cst.Call, function: FunctionFact, retry: RetryOf, binder: Binder) -> bool:
    """Whether the call gives the task that runs it as the parameter whose `.retry()` the
    function calls: by keyword, or at its position (after `self` for a method called on
    `self`); an argument after a `*args` has no known position."""
    value: cst.BaseExpression | None = None
    position = retry.position
    if isinstance(node.func, cst.Attribute) and function.first_param == "self":
        position -= 1
    given = 0
    for arg in node.args:
        if arg.keyword is not None:
            if arg.keyword.value == retry.param:
                value = arg.value
                break
        elif arg.star == "*":
            if given <= position:
                return False
        elif not arg.star:
            if given == position:
                value = arg.value
            given += 1
    return value is not None and binder.infer(value).kind in (Kind.TASK_SELF, Kind.TASK)
