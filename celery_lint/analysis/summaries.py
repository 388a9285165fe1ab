"""Rules' questions about a call of a project function, answered with the function summaries the
index joins (index.ProjectIndex.reach): which function a call runs, and the words that name the
chain from the call to what the rule found."""

from __future__ import annotations

import os
from itertools import pairwise

import libcst as cst

from celery_lint.analysis.values import Binder, Kind
from celery_lint.facts.types import FunctionFact
from celery_lint.index import ProjectIndex, Reached

SUMMARY_NOTE = "found through function summaries"


def called_function(node: cst.Call, binder: Binder) -> FunctionFact | None:
    """The project function or method `node` calls, when its name says which: a function by its
    (imported) name, or `self.method()` of the method's own class or a project class it derives
    from. A call through a variable or of another object's method is None: not guessed."""
    func = node.func
    index = binder.index
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
        context = binder.function_at(node)
        params = context.node.params.params if context is not None else ()
        if context is not None and context.class_qualname and params \
                and params[0].name.value == func.value.value == "self":
            return index.function(f"{context.class_qualname}.{func.attr.value}")
    value = binder.infer(func)
    if value.kind not in (Kind.FUNCTION, Kind.SYMBOL):
        return None
    return index.function(value.qualname)


def describe(reached: Reached, index: ProjectIndex) -> str:
    """"`notify()` sends `send_invoice.delay()` (orders/services.py:41)", with every step of a
    longer chain: "`a()` calls `b()` (x.py:10), which sends ..."."""
    use = reached.use
    task = reached.task.function if reached.task is not None else "a task"
    what = {"direct": f"runs task `{task}()` in the caller's process",
            "apply": f"runs `{task}.apply()` in the caller's process",
            "wait": "waits on a task's result (`.get()`)"}.get(
        use.method, f"sends `{task}.{use.method}()`")
    return describe_chain(reached.chain, what, index)


def describe_chain(chain: tuple[tuple[FunctionFact, int], ...], what: str,
                   index: ProjectIndex) -> str:
    """"`a()` calls `b()` (x.py:10), which {what} (y.py:4)": `chain` as index.Reached holds it,
    from the function called to the one whose own body does `what` (at the last line)."""
    steps = []
    for (function, line), (callee, _) in pairwise(chain):
        steps.append(f"calls `{function_name(callee)}()` ({location(index, function, line)})")
    last, line = chain[-1]
    steps.append(f"{what} ({location(index, last, line)})")
    return f"`{function_name(chain[0][0])}()` " + ", which ".join(steps)


def function_name(function: FunctionFact) -> str:
    """`notify` for a function, `Service.notify` for a method."""
    parts = function.qualname.split(".")
    return ".".join(parts[-2:]) if function.first_param == "self" else parts[-1]


def location(index: ProjectIndex, function: FunctionFact, line: int) -> str:
    path = index.function_path(function.qualname)
    root = str(index.config.root)
    shown = os.path.relpath(path, root) if os.path.isabs(path) else path
    return f"{shown.replace(os.sep, '/')}:{line}"
