"""Rules about calling tasks: what is sent (CEL101, CEL107), to what (CEL104, CEL105), from where
(CEL102), and waiting for a result that is never stored (CEL108)."""

from __future__ import annotations

import builtins
import difflib
import fnmatch
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import ClassVar

import libcst as cst

from celery_lint.analysis.calls import TaskCall, chain_links, is_result_wait
from celery_lint.analysis.flow import Calls, calls_in, exclusive, handler_of
from celery_lint.analysis.results import has_no_result_backend, ignores_result
from celery_lint.analysis.summaries import (
    SUMMARY_NOTE,
    called_function,
    describe,
    function_name,
    location,
)
from celery_lint.analysis.values import (
    ORM_KINDS,
    Binder,
    FunctionContext,
    Kind,
    Value,
    source_of,
    string_value,
)
from celery_lint.codes import rule_for
from celery_lint.diagnostics import Applicability, Diagnostic, Edit, Fix, Location
from celery_lint.facts.placement import import_rows
from celery_lint.facts.requirements import version_text
from celery_lint.facts.settings import uncertain
from celery_lint.facts.summaries import SEND_METHODS
from celery_lint.facts.task_uses import TaskCallSite, task_references
from celery_lint.facts.types import FileFacts, Param, TaskDefinition
from celery_lint.index import BLOCKING, WAITS, Handed, ProjectIndex, Reached
from celery_lint.modules import is_test_module
from celery_lint.rules.base import Rule
from celery_lint.source import SourceFile

JSON_LIKE = ("json", "msgpack")  # serializers that cannot carry sets, functions or files
BEAT_SCHEDULE_NAMES = frozenset({"CELERY_BEAT_SCHEDULE", "CELERYBEAT_SCHEDULE", "beat_schedule"})
TASK_ROUTES_NAMES = frozenset({"CELERY_TASK_ROUTES", "CELERY_ROUTES", "task_routes"})
PERIODIC_TASK = "django_celery_beat.models.PeriodicTask"
PERIODIC_TASK_CALLS = frozenset({PERIODIC_TASK} | {
    f"{PERIODIC_TASK}.objects.{method}" for method in (
        "create", "get_or_create", "update_or_create", "acreate", "aget_or_create",
        "aupdate_or_create")})
DEFAULTS_KEYWORDS = frozenset({"defaults", "create_defaults"})
# decorators known to call the function they wrap with the arguments they are given; any other one
# between the task decorator and the `def` may add, drop or inject parameters
SIGNATURE_KEEPING = frozenset({
    "django.db.transaction.atomic", "functools.cache", "functools.lru_cache",
    "sentry_sdk.trace", "sentry_sdk.tracing.trace", "sentry_sdk.monitor", "sentry_sdk.crons.monitor",
})


def _travelling(call: TaskCall) -> list[cst.BaseExpression]:
    """Arguments sent to the worker, one level into list, tuple and dict literals."""
    if call.method in ("direct", "apply"):
        return []
    found = []
    for value in call.values:
        found.append(value)
        if isinstance(value, (cst.List, cst.Tuple)):
            found += [e.value for e in value.elements if isinstance(e, cst.Element)]
        elif isinstance(value, cst.Dict):
            found += [e.value for e in value.elements if isinstance(e, cst.DictElement)]
    return found


class OrmObjectArgument(Rule):
    info = rule_for("CEL101")

    def visit_Call(self, node: cst.Call) -> None:
        call = self.context.task_call(node)
        if call is None:
            self._called(node)
            return
        for argument in _travelling(call):
            value = self.binder.infer(argument)
            if value.kind not in ORM_KINDS:
                continue
            deleted = self._deleted(argument) if value.kind is Kind.INSTANCE else None
            if deleted is not None:
                self.report(argument, _orm_message(source_of(argument), value, call) + (
                    f" from a `{deleted}` receiver: {DELETED[deleted]}, so the task cannot load "
                    "it by its pk; pass the values the task needs"))
            else:
                self.report(argument, _orm_message(source_of(argument), value, call) + ": "
                            + _orm_advice(source_of(argument), value),
                            fix=self._fix(argument, value, call))

    def _called(self, node: cst.Call) -> None:
        """A model instance given to a project function that hands that parameter, whole, to a
        task's `.delay()` or `.apply_async()`: in its own body (`def notify(order):
        send_receipt.delay(order)` called as `notify(order)`), or through the functions it hands
        it on to, up to the summaries' depth bound."""
        if not _may_call(node.func, self.context.facts, self.context.index.parameter_senders):
            return
        called = called_function(node, self.binder)
        summary = called.summary if called is not None else None
        if called is None or summary is None or not summary.positional:
            return
        index = self.context.index
        offset = 1 if isinstance(node.func, cst.Attribute) and summary.positional[:1] == ("self",) \
            else 0
        for position, arg in enumerate(node.args):
            if arg.star:
                return  # the positions after it are unknown
            if arg.keyword is not None:
                param = arg.keyword.value
            elif position + offset < len(summary.positional):
                param = summary.positional[position + offset]
            else:
                continue
            value = self.binder.infer(arg.value)
            if value.kind is not Kind.INSTANCE:
                continue
            handed = index.handed(called.qualname, param)
            if not handed:
                continue
            text = source_of(arg.value)
            what = f"{value.a_model} instance" if value.model else "a model instance"
            self.report(arg.value, f"`{text}` is {what}, given as `{param}` to "
                                   f"`{function_name(called)}()`, {_handing(handed[0], index)}: "
                                   f"pass `{text}.pk` and load it in the task ({SUMMARY_NOTE})")

    def _deleted(self, argument: cst.BaseExpression) -> str | None:
        """"pre_delete" or "post_delete" when `argument` is the `instance` a receiver of that
        signal is given: the row being deleted."""
        if not isinstance(argument, cst.Name) or argument.value != "instance":
            return None
        function = self.binder.function_at(argument)
        if function is None or function.qualname is None or "instance" not in {
                p.name.value for p in (*function.node.params.params,
                                       *function.node.params.kwonly_params)}:
            return None
        return self.context.index.delete_receivers.get(function.qualname)

    def _fix(self, argument: cst.BaseExpression, value: Value, call: TaskCall) -> Fix | None:
        """`order` → `order.pk` for a model instance named plainly, when the task takes an id;
        when the task uses it as an object, this call's share of the whole fix (the task loads
        the row: `join_whole_fixes`); none when the task cannot be changed so. Unsafe: the task
        receives an integer instead of an object."""
        if value.kind is not Kind.INSTANCE or not isinstance(argument, (cst.Name, cst.Attribute)):
            return None
        text = source_of(argument)
        pk = Fix(Applicability.UNSAFE, f"Pass `{text}.pk`",
                 (self.context.insert_after(argument, ".pk"),))
        task = call.task
        if task is None or task.wrappers:
            return pk  # the task is not in view: the advice as it stands
        bound = _bound(call, argument)
        if bound is None:
            return None  # which parameter it fills is not plain: the task may not take an id
        name, key = bound
        use = next((u for u in task.param_uses if u.name == name), None)
        if use is not None and use.use == "id":
            return pk
        if use is None or use.use != "object" or value.model is None:
            return None
        edits = [self.context.insert_after(argument, ".pk")]
        if key is not None:
            edits.append(self.context.replace(key, _renamed_key(key, f"{name}_id")))
        return Fix(Applicability.UNSAFE, f"Pass `{text}.pk`", tuple(edits),
                   part_of=f"{task.qualname} {name} {value.model}")


def _handing(handed: Handed, index: ProjectIndex) -> str:
    """"which hands it to `b()` (x.py:3), which sends it to `t.delay()` (x.py:7)"."""
    steps = [f"which hands it to `{function_name(callee)}()` ({location(index, function, line)})"
             for (function, line, _), (callee, _, _) in zip(handed.chain, handed.chain[1:])]
    last, line, _ = handed.chain[-1]
    steps.append(f"which sends it to `{handed.task.function}.{handed.use.method}()` "
                 f"({location(index, last, line)})")
    return ", ".join(steps)


def _bound(call: TaskCall, argument: cst.BaseExpression
           ) -> tuple[str, cst.Name | cst.SimpleString | None] | None:
    """The task parameter `argument` fills at `call`, with the keyword (or `kwargs` key) that
    names it; None when that cannot be told (a star argument before it, a nested literal)."""
    assert call.task is not None
    params = [p.name for p in call.task.call_params]
    node = call.node
    if call.method in ("delay", "s", "si"):
        position = 0
        for arg in node.args:
            if arg.star:
                return None
            if arg.value is argument:
                if arg.keyword is not None:
                    return arg.keyword.value, arg.keyword
                return (params[position], None) if position < len(params) else None
            position += arg.keyword is None
        return None
    if call.method != "apply_async":
        return None
    for arg in node.args:
        if isinstance(arg.value, (cst.List, cst.Tuple)) and (
                arg.keyword is None or arg.keyword.value == "args"):
            elements = arg.value.elements
            if any(isinstance(e, cst.StarredElement) for e in elements):
                return None
            for position, element in enumerate(elements):
                if element.value is argument:
                    return (params[position], None) if position < len(params) else None
        if isinstance(arg.value, cst.Dict) and arg.keyword is not None and \
                arg.keyword.value == "kwargs":
            for element in arg.value.elements:
                if isinstance(element, cst.DictElement) and element.value is argument and \
                        isinstance(element.key, cst.SimpleString) and \
                        isinstance(element.key.evaluated_value, str):
                    return element.key.evaluated_value, element.key
    return None


def _renamed_key(key: cst.Name | cst.SimpleString, new: str) -> str:
    if isinstance(key, cst.Name):
        return new
    quote = key.quote
    return f"{key.prefix}{quote}{new}{quote}"


DELETED = {"post_delete": "the row is already deleted",
           "pre_delete": "the row is deleted as soon as the receiver returns"}


def _orm_message(text: str, value: Value, call: TaskCall) -> str:
    """What `text` is and where it goes: "`order` is an `Order` instance, sent to `x.delay()`"."""
    origin = value.origin
    if not origin or origin == text:
        via = ""
    elif "`" in origin or " " in origin:
        via = f" ({origin})"
    else:
        via = f" from `{origin}`"
    if value.kind is Kind.INSTANCE:
        what = f"{value.a_model} instance" if value.model else "a model instance"
    elif value.kind is Kind.REQUEST:
        what = "an HttpRequest"
    else:
        what = f"a QuerySet of `{value.model_name}`" if value.model else "a QuerySet"
    return f"`{text}` is {what}{via}, sent to {call.label}"


def _orm_advice(text: str, value: Value) -> str:
    if value.kind is Kind.INSTANCE:
        return f"pass `{text}.pk` and load it in the task"
    if value.kind is Kind.REQUEST:
        return "pass the values the task needs"
    return "pass a list of primary keys"


class UnserializableArgument(Rule):
    info = rule_for("CEL107")

    _KINDS: ClassVar[dict[Kind, str]] = {
        Kind.SET: "a set", Kind.LAMBDA: "a lambda", Kind.FUNCTION: "a function",
        Kind.GENERATOR: "a generator", Kind.FILE: "an open file", Kind.MODULE: "a module",
        Kind.MODEL_CLASS: "a class", Kind.CLASS: "a class", Kind.TASK: "a task object",
    }

    def visit_Call(self, node: cst.Call) -> None:
        call = self.context.task_call(node)
        if call is None or self._pickled(call):
            return
        for argument in _travelling(call):
            value = self.binder.infer(argument)
            if value.kind in self._KINDS:
                self.report(argument, f"`{source_of(argument)}` is {self._KINDS[value.kind]}, "
                                      f"which JSON cannot carry to {call.label}")

    def _pickled(self, call: TaskCall) -> bool:
        config = self.context.index.celery_config
        if config is not None and config.may_use_pickle:
            return True
        chosen = [a.value for a in call.node.args
                  if a.keyword is not None and a.keyword.value == "serializer"]
        if chosen:
            return string_value(chosen[0]) not in JSON_LIKE
        if call.task is not None and "serializer" in call.task.options:
            return call.task.options["serializer"] not in JSON_LIKE
        return False


# what a function a view calls may do that keeps the request waiting for a task


BUILTIN_NAMES = frozenset(dir(builtins))


def _may_call(func: cst.BaseExpression, facts: FileFacts, names: frozenset[str]) -> bool:
    """Whether a call of `func` may run a function whose name (the last part) is in `names`:
    `notify()`, `services.notify()`, `self.notify()`, `n()` after `from services import notify as
    n` at the top of the module; and any other name but a builtin's, which an import inside the
    function may bind. A gate before inferring what the call runs, which costs more."""
    if isinstance(func, cst.Attribute):
        return func.attr.value in names
    if isinstance(func, cst.Name):
        imported = facts.imports.get(func.value)
        if imported is not None:
            return imported.rpartition(".")[2] in names
        return func.value in names or func.value not in BUILTIN_NAMES
    return False


class BlockingCallInView(Rule):
    info = rule_for("CEL102")

    def __init__(self, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(context)
        self.bodies: dict[cst.FunctionDef, Calls] = {}

    def visit_Call(self, node: cst.Call) -> None:
        function = self.binder.function_at(node)
        if function is None or not function.is_view:
            return
        if is_result_wait(node, self.binder):
            assert isinstance(node.func, cst.Attribute)
            self.report(node, f"`.{node.func.attr.value}()` waits for a task's result inside a "
                              "view: the request blocks until a worker finishes")
            return
        call = self.context.task_call(node)
        if call is None:
            self._called(node)
            return
        # A preview part of the rule: on real projects, a task run in the view by a direct call or
        # `.apply()` was mostly a view that needs the outcome before it answers (an error to
        # show, a file to send), which only reading the view can tell from work to hand off.
        if not self.context.config.preview:
            return
        if call.task is not None and call.method in ("direct", "apply") \
                and not self._fallback(call, call.task, function):
            how = "calling it directly" if call.method == "direct" else "`.apply()`"
            self.report(node, f"{call.label} runs task `{call.task.function}` inside the view "
                              f"({how}): use `.delay()` and return")

    def _called(self, node: cst.Call) -> None:
        """A call, in a view, of a project function that runs a task in this process or waits on
        a result (itself, or a function it calls)."""
        called = called_function(node, self.binder)
        if called is None:
            return
        index = self.context.index
        # a task run in place is the preview part of the rule (above), one call away too
        uses = BLOCKING if self.context.config.preview else WAITS
        for reached in index.reach(called.qualname, uses):
            if reached.conditional:
                continue  # in a branch: the caller may choose the other (`synchronous=False`)
            if reached.task is not None and _sends_too(reached, index):
                continue  # the synchronous side of a switch whose other side sends it
            if any(index.is_view(f.qualname) for f, _ in reached.chain):
                continue  # reported in that view
            self.report(node, f"{describe(reached, index)}, called inside the view: the request "
                              "blocks until the task has run; send it with `.delay()` and return "
                              f"({SUMMARY_NOTE})")
            return

    def _fallback(self, call: TaskCall, task: TaskDefinition, function: FunctionContext) -> bool:
        """Whether `call` is the synchronous side of a switch whose other side sends the same task
        to a worker: `if settings.CELERY_ENABLED: task.delay(x) else: task(x)`, a branch that
        returns before the `.delay()`, or an `except` handler of a `try` that sends it. Running the
        task in the view is then what the project chose for when Celery is off or unreachable."""
        if function.node not in self.bodies:
            self.bodies[function.node] = calls_in(function.node.body)
        calls = self.bodies[function.node]
        if call.node not in calls.order:
            return False  # in a lambda or a nested function
        path = calls.order[call.node][1]
        for other, (_, where) in calls.order.items():
            sent = self.context.task_call(other)
            if sent is not None and sent.method in ("delay", "apply_async") \
                    and sent.task is not None and sent.task.qualname == task.qualname \
                    and (exclusive(path, where) or handler_of(path, where)):
                return True
        return False


def _sends_too(reached: Reached, index: ProjectIndex) -> bool:
    """Whether the function that runs the task also sends it to a worker (`if eager: task(x)
    else: task.delay(x)`): running it in place is then what the project chose for one case."""
    summary = reached.function.summary
    assert summary is not None and reached.task is not None
    return any(use.method in SEND_METHODS and index.task(use.task) == reached.task
               for use in summary.uses)


class WaitOnIgnoredResult(Rule):
    info = rule_for("CEL108")

    def visit_Call(self, node: cst.Call) -> None:
        if not is_result_wait(node, self.binder) or self._eager:
            return
        assert isinstance(node.func, cst.Attribute)
        result = self.binder.infer(node.func.value)
        sent = self.context.task_call(result.sent_by) if result.sent_by is not None else None
        if sent is None or sent.task is None:
            return
        wait = f"`.{node.func.attr.value}()`"
        celery = f"Celery {version_text(self.context.index.celery_version)}"
        why = self._ignored(sent)
        if why is not None:
            self.report(node, f"{wait} on the result of {sent.label}, whose result is not stored "
                              f"({why}): {celery} returns None at once instead of the task's "
                              "value; drop the wait, or store the result "
                              "(`ignore_result=False`)")
        elif has_no_result_backend(self.context.index.celery_config):
            self.report(node, f"{wait} on the result of {sent.label} in a project with no result "
                              f"backend: {celery} raises NotImplementedError (\"No result backend "
                              "is configured\"); set `result_backend`, or drop the wait")

    @cached_property
    def _eager(self) -> bool:
        """Tasks may run in the caller, whose EagerResult holds the value: a test module (test
        settings make tasks eager), or production settings that may."""
        if is_test_module(self.context.facts.module):
            return True
        config = self.context.index.celery_config
        eager = config.get("task_always_eager") if config is not None else None
        return eager is not None and (uncertain(eager.value) or bool(eager.value))

    def _ignored(self, sent: TaskCall) -> str | None:
        """Why the result of this call is not stored: the call's own `ignore_result=` wins over
        the task's."""
        assert sent.task is not None
        for arg in sent.node.args:
            if arg.keyword is not None and arg.keyword.value == "ignore_result":
                given = arg.value
                if isinstance(given, cst.Name) and given.value == "True":
                    return "`ignore_result=True` on the call"
                return None  # stored, or decided at run time
        if any(arg.star == "**" for arg in sent.node.args):
            return None  # `**options` may carry `ignore_result=False`
        return ignores_result(self.context.index, sent.task)


class TaskSignatureMismatch(Rule):
    info = rule_for("CEL104")

    def __init__(self, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(context)
        self.links: set[cst.CSTNode] = set()

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if isinstance(node.operator, cst.BitOr):
            self.links.add(node.right)

    def visit_Call(self, node: cst.Call) -> None:
        self.links.update(chain_links(node, self.binder))
        call = self.context.task_call(node)
        if call is None or call.task is None or call.star or call.args is None \
                or call.kwargs is None or call.method == "direct" \
                or self.context.index.rewrites_arguments(call.task) \
                or not set(call.task.wrappers) <= SIGNATURE_KEEPING:
            return  # a signature celery-lint cannot know
        link = node in self.links and call.method == "s"
        problem = signature_problem(call.task, len(call.args) + (1 if link else 0),
                                    list(call.kwargs), partial=call.is_partial and not link)
        if problem:
            extra = " (a chain link gets the previous result first)" if link else ""
            self.report(node, f"{call.label}: {problem}{extra}")


def signature_problem(task: TaskDefinition, positional: int, keywords: list[str],
                      partial: bool) -> str | None:
    """Why `positional` arguments and `keywords` do not fit `task`, or None when they do."""
    params = task.call_params
    slots = [p for p in params if p.kind in ("positional", "positional_only")]
    by_keyword = {p.name: p for p in params if p.kind in ("positional", "keyword_only")}
    var_positional = any(p.kind == "var_positional" for p in params)
    var_keyword = any(p.kind == "var_keyword" for p in params)
    if positional > len(slots) and not var_positional:
        given = f"{positional} positional argument{'s' if positional != 1 else ''}"
        return f"{given} given, `{task.function}` takes {len(slots)}"
    filled = {p.name for p in slots[:positional]}
    for keyword in keywords:
        if keyword in filled:
            return f"`{keyword}` is given twice"
        if keyword not in by_keyword and not var_keyword:
            return f"`{task.function}` has no parameter `{keyword}`"
    if partial:
        return None
    missing = [p.name for p in params if _required(p) and p.name not in filled
               and p.name not in keywords]
    if missing:
        names = ", ".join(f"`{m}`" for m in missing)
        return f"missing required argument{'s' if len(missing) > 1 else ''} {names}"
    return None


def _required(param: Param) -> bool:
    return not param.has_default and param.kind in ("positional", "positional_only", "keyword_only")


class UnknownTaskName(Rule):
    info = rule_for("CEL105")

    def visit_Call(self, node: cst.Call) -> None:
        call = self.context.task_call(node)
        if call is not None and call.name_node is not None:
            self.check(call.name_node)
            return
        periodic = periodic_task_fields(node, self.binder)
        if periodic is not None:
            if "task" in periodic.values:
                self.check(periodic.values["task"])
            return
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "update" and isinstance(
                func.value, cst.Attribute) and func.value.attr.value == "conf":
            for arg in node.args:
                if arg.keyword is not None and arg.keyword.value == "beat_schedule":
                    self.check_schedule(arg.value)
                elif arg.keyword is not None and arg.keyword.value == "task_routes":
                    self.check_routes(arg.value)

    def visit_Module(self, node: cst.Module) -> None:
        for statement in node.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.Assign):
                    self._assignment(small)
                elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                    # CELERY_BEAT_SCHEDULE.update({...})
                    func = small.value.func
                    if isinstance(func, cst.Attribute) and func.attr.value == "update" and \
                            setting_kind(func.value) == "beat_schedule":
                        for arg in small.value.args:
                            if arg.keyword is None:
                                self.check_schedule(arg.value)

    def _assignment(self, node: cst.Assign) -> None:
        for target in node.targets:
            kind = setting_kind(target.target)
            if kind == "beat_schedule":
                self.check_schedule(node.value)
            elif kind == "task_routes":
                self.check_routes(node.value)
            elif isinstance(target.target, cst.Subscript) and \
                    setting_kind(target.target.value) == "beat_schedule":
                self.check_entry(node.value)  # CELERY_BEAT_SCHEDULE["name"] = {...}

    def check_schedule(self, schedule: cst.BaseExpression) -> None:
        if not isinstance(schedule, cst.Dict):
            return
        for entry in schedule.elements:
            if isinstance(entry, cst.DictElement):
                self.check_entry(entry.value)

    def check_entry(self, entry: cst.BaseExpression) -> None:
        if isinstance(entry, cst.Dict):
            for field in entry.elements:
                if isinstance(field, cst.DictElement) and string_value(field.key) == "task":
                    self.check(field.value)

    def check_routes(self, routes: cst.BaseExpression) -> None:
        """The keys of `task_routes` (a dict, or a list of dicts): exact task names, and the glob
        (`"shop.reports.*"`) and `re.compile(...)` patterns Celery's MapRoute matches names with."""
        tables = [e.value for e in routes.elements if isinstance(e, cst.Element)] \
            if isinstance(routes, (cst.List, cst.Tuple)) else [routes]
        for table in tables:
            for key in _route_keys(table):
                name = string_value(key)
                if name is not None and "*" in name:
                    self.check_pattern(key, name, re.compile(fnmatch.translate(name)))
                elif name is not None and not any(c in name for c in "?[^$\\"):
                    self.check(key)
                elif isinstance(key, cst.Call):
                    self._check_regex(key)

    def _check_regex(self, key: cst.Call) -> None:
        if self.binder.infer(key.func).qualname != "re.compile" or len(key.args) != 1 \
                or key.args[0].keyword is not None:
            return
        text = string_value(key.args[0].value)
        try:
            pattern = re.compile(text) if text is not None else None
        except re.error:
            return
        if pattern is not None and text is not None:
            self.check_pattern(key, text, pattern)

    def check_pattern(self, node: cst.BaseExpression, text: str, pattern: re.Pattern[str]) -> None:
        """A route pattern that matches no task the project registers: only when every task is
        known and the pattern starts with a package the project's task names start with (`shop`
        in `shop.reports.*` or `shop\\.reports\\..*`), so that routes for other code bases'
        tasks are left alone."""
        index = self.context.index
        if not index.tasks or index.has_dynamic_task_names:
            return
        head = re.match(r"\^?([A-Za-z_][A-Za-z0-9_]*)(\\?\.|\[\.\])", text)
        prefixes = {n.split(".")[0] for n in index.task_names if "." in n}
        if head is None or head.group(1) not in prefixes:
            return
        if any(_matches(pattern, name) for name in index.task_names):
            return
        what = "glob" if "*" in text and not isinstance(node, cst.Call) else "regex"
        self.report(node, f"The route {what} `{text}` matches no task the project registers: "
                          "the route does nothing")

    def check(self, node: cst.BaseExpression) -> None:
        name = string_value(node)
        index = self.context.index
        if name is None or not index.tasks or index.has_dynamic_task_names:
            return
        if _registered(name, index.task_names) or name.startswith("celery."):
            return
        head = name.split(".")[0]
        prefixes = {n.split(".")[0] for n in index.task_names if "." in n}
        ours = "." in name and (head in index.top_packages or head in prefixes)
        close = difflib.get_close_matches(name, sorted(index.task_names), n=1, cutoff=0.85)
        if close and (ours or close[0].split(".")[0] == head):
            self.report(node, f"No task is registered as `{name}`; did you mean `{close[0]}`?")
        elif ours:
            self.report(node, f"No task in the project is registered as `{name}`")


@dataclass(frozen=True)
class PeriodicTaskFields:
    values: dict[str, cst.BaseExpression]  # by field name, from keywords and `defaults=`
    complete: bool  # False when a `**kwargs` or a `defaults=` that is not a dict may set more


def periodic_task_fields(node: cst.Call, binder: Binder) -> PeriodicTaskFields | None:
    """The fields a django-celery-beat `PeriodicTask(...)` or `PeriodicTask.objects.create(...)`
    (also `get_or_create` and `update_or_create` with their defaults) sets; None for other calls."""
    qualname = binder.infer(node.func).qualname
    if qualname not in PERIODIC_TASK_CALLS:
        return None
    values: dict[str, cst.BaseExpression] = {}
    complete = True
    for arg in node.args:
        if arg.keyword is None:
            complete = False
        elif arg.keyword.value in DEFAULTS_KEYWORDS and qualname.endswith("_or_create"):
            if not isinstance(arg.value, cst.Dict):
                complete = False
                continue
            for element in arg.value.elements:
                key = string_value(element.key) if isinstance(element, cst.DictElement) else None
                if key is None:
                    complete = False
                else:
                    values.setdefault(key, element.value)
        else:
            values[arg.keyword.value] = arg.value
    return PeriodicTaskFields(values, complete)


def _route_keys(table: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The keys of one table of `task_routes`: a dict, or a list of `(key, route)` pairs, both of
    which Celery's MapRoute takes."""
    if isinstance(table, cst.Dict):
        return [e.key for e in table.elements if isinstance(e, cst.DictElement)]
    if isinstance(table, (cst.List, cst.Tuple)):
        pairs = [e.value for e in table.elements if isinstance(e, cst.Element)]
        if all(isinstance(p, cst.Tuple) and len(p.elements) == 2 for p in pairs):
            return [p.elements[0].value for p in pairs]  # type: ignore[union-attr]
    return []


def _matches(pattern: re.Pattern[str], name: str) -> bool:
    """Whether a route pattern matches a registered name, or the same name with more or fewer
    leading packages (see `_registered`)."""
    parts = name.split(".")
    return any(pattern.match(".".join(parts[i:])) for i in range(len(parts)))


def _registered(name: str, names: frozenset[str]) -> bool:
    if name in names:
        return True
    # a module path computed from a project laid out as namespace packages may lack its head
    return any(n.endswith("." + name) or name.endswith("." + n) for n in names if "." in n)


def setting_kind(target: cst.BaseExpression) -> str | None:
    """"beat_schedule" or "task_routes" for the names a settings module or `app.conf` uses."""
    if isinstance(target, cst.Name):
        name = target.value
        if name in BEAT_SCHEDULE_NAMES or name.endswith("_BEAT_SCHEDULE"):
            return "beat_schedule"
        if name in TASK_ROUTES_NAMES or name.endswith("_TASK_ROUTES"):
            return "task_routes"
        return None
    if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Attribute) \
            and target.value.attr.value == "conf":
        return {"beat_schedule": "beat_schedule", "task_routes": "task_routes"}.get(
            target.attr.value)
    return None


# -- CEL101's whole fix: joined once every file is checked ---------------------------------------
# calls where `_bound` finds the parameter for sure: not `.s()`, whose arguments follow the
# previous task's result in a chain
HANDLED_CALLS = frozenset({"delay", "si", "apply_async"})


def join_whole_fixes(diagnostics: list[Diagnostic], index: ProjectIndex,
                     sources: Mapping[str, SourceFile],
                     texts: Callable[[str], Mapping[str, str]]) -> list[Diagnostic]:
    """`diagnostics` with each share of a CEL101 whole fix (`Fix.part_of`) replaced by the whole
    fix, or by no fix when the shares do not cover every call of the task (a call this run did
    not check, one that passes something else, the task called by name or handed on).

    `sources` are the files the run checked; `texts(word)` gives the text of every Python file of
    the project that says `word`, by path: where the callers of a task are looked for."""
    parts: dict[str, list[Diagnostic]] = {}
    for diagnostic in diagnostics:
        if diagnostic.fix is not None and diagnostic.fix.part_of is not None:
            parts.setdefault(diagnostic.fix.part_of, []).append(diagnostic)
    if not parts:
        return diagnostics
    whole = {key: _whole_fix(key, found, index, sources, texts) for key, found in parts.items()}
    return [replace(d, fix=whole[d.fix.part_of])
            if d.fix is not None and d.fix.part_of is not None else d for d in diagnostics]


def _whole_fix(key: str, parts: list[Diagnostic], index: ProjectIndex,
               sources: Mapping[str, SourceFile], texts: Callable[[str], Mapping[str, str]]
               ) -> Fix | None:
    qualname, name, model = key.split(" ")
    task = index.task(qualname)
    use = next((u for u in task.param_uses if u.name == name), None) if task else None
    if task is None or use is None or use.use != "object":
        return None
    source = sources.get(task.path)
    facts = index.files.get(task.module)
    if source is None or facts is None:
        return None  # the task's file is not in the run
    loading = _loading(model, facts, index, source, task)
    if loading is None:
        return None
    said = {**texts(task.function), **(texts(task.explicit_name) if task.explicit_name else {})}
    calls = _calls_of(task, index, said)
    if calls is None or any(not any(_inside(d, path, call) for d in parts)
                            for path, call in calls):
        return None  # a call of the task that passes something else, or that no check saw
    if len(parts) != len(calls):
        return None  # a share in a call phase 1 does not see as one (`getattr(...)`)
    load, imports, local = loading
    path = task.path
    edits = [replace(e, path=e.file(d)) for d in parts for e in d.fix.edits]  # type: ignore
    edits.append(Edit(f"{name}_id", Location(use.line, use.column),
                      Location(use.line, use.column + len(name)), path))
    row = Location(use.load_line, 1)
    lines = ([local] if local else []) + [f"{name} = {load}(pk={name}_id)"]
    edits.append(Edit("".join(f"{use.indent}{line}\n" for line in lines), row, row, path))
    edits += [replace(e, path=path) for e in imports]
    files = len({e.path for e in edits})
    return Fix(Applicability.UNSAFE,
               f"Pass the primary key to `{task.function}` ({len(calls)} "
               f"call{'s' if len(calls) > 1 else ''}, {files} file{'s' if files > 1 else ''}) and "
               f"load the `{model.rsplit('.', 1)[-1]}` in the task", tuple(edits))


def _calls_of(task: TaskDefinition, index: ProjectIndex, texts: Mapping[str, str]
              ) -> list[tuple[str, TaskCallSite]] | None:
    """Every call of `task` in the project, by file (`texts`: the files that say its name);
    None when some caller cannot be seen or changed: the task named by a string, handed on as a
    value, called in a way `_bound` does not read, its module handed on, or a file that names
    it and does not parse."""
    qualname = task.qualname
    named = (task.module, task.function, task.module.rpartition(".")[2])
    words = re.compile(r"\b" + re.escape(task.function) + r"\b" + (
        "|" + re.escape(task.explicit_name) if task.explicit_name else ""))
    found = []
    for facts in index.files.values():
        text = texts.get(facts.path)
        if text is None or not words.search(text):
            continue  # a file that does not say the task's name cannot call it
        seen = task_references(text, facts.module, facts.is_package, facts.imports,
                               facts.defined)
        if seen is None or task.registered_name in seen.names or qualname in seen.names:
            return None
        for reference in seen.references:
            # the task or its module handed on, or an attribute of the task (`.run(order)`)
            if any(part in reference for part in named) and (
                    index.resolve(reference) in (qualname, task.module)
                    or reference.startswith(qualname + ".")):
                return None
        for call in seen.calls:
            if (call.target.startswith(task.module) or call.target.endswith(task.function)) \
                    and index.resolve(call.target) == qualname:
                if call.method not in HANDLED_CALLS:
                    return None
                found.append((facts.path, call))
    return found


def _inside(diagnostic: Diagnostic, path: str, call: TaskCallSite) -> bool:
    return diagnostic.path == path and call.line <= diagnostic.location.row <= call.end_line


def _loading(model: str, facts: FileFacts, index: ProjectIndex, source: SourceFile,
             task: TaskDefinition) -> tuple[str, list[Edit], str] | None:
    """How the task module names the model's manager (`Order.objects.get`), with the import it
    needs: at the top of the module, or (`from x import Order`, third) in the task when the
    models module imports the tasks module, as a module that sends a task on save does (the
    import at the top would be circular). None when the model has no `objects` manager or its
    name means something else in the task module."""
    managers = {m for cls in index.ancestors(model) for m in cls.managers}
    if managers and "objects" not in managers:
        return None
    module, _, short = model.rpartition(".")
    bound = facts.imports.get(short)
    load = f"{short}.objects.get"
    if bound is not None and index.resolve(bound) == index.resolve(model) or \
            module == facts.module:
        return load, [], ""
    if bound is not None or short in facts.defined:
        return None
    line = f"from {module} import {short}"
    models = index.files.get(module)
    if models is not None and any(
            target == task.module or target.startswith(task.module + ".")
            for target in models.imports.values()):
        return load, [], line
    rows = import_rows(source.text, [line], index.top_packages)
    if rows is None:
        return None
    (row, text), = rows
    return load, [Edit(text, Location(row, 1), Location(row, 1))], ""
