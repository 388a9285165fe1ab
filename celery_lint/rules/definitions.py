"""Rules about defining tasks: limits (CEL201, CEL202), binding and retries (CEL204, CEL205),
waiting inside a task (CEL207), what a task accepts (CEL210) and the options it is given (CEL211)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import libcst as cst

from celery_lint.analysis.calls import is_result_wait
from celery_lint.analysis.raising import retry_through
from celery_lint.analysis.summaries import SUMMARY_NOTE, describe_chain
from celery_lint.analysis.task_options import (
    EXCEPTION_OPTIONS,
    TaskClass,
    added_in,
    celery_task_options,
    dropped_in,
    installed_task_options,
    task_class,
)
from celery_lint.analysis.values import ORM_KINDS, Kind, source_of
from celery_lint.analysis.workers import limited_worker
from celery_lint.codes import rule_for
from celery_lint.diagnostics import Applicability, Edit, Fix, Location
from celery_lint.facts.requirements import Version, version_text
from celery_lint.facts.settings import unread_note
from celery_lint.facts.types import TaskDefinition
from celery_lint.rules.base import Rule

# how close a keyword must be to an option to be renamed to it, and how far ahead of the next one
MEANT_RATIO = 0.8
MEANT_GAP = 0.08


def _task_of(rule: Rule, node: cst.FunctionDef) -> TaskDefinition | None:
    context = rule.binder.functions.get(node)
    return context.task if context is not None else None


def _decorator_keyword(node: cst.FunctionDef, keyword: str) -> cst.Arg | None:
    for decorator in node.decorators:
        if isinstance(decorator.decorator, cst.Call):
            for arg in decorator.decorator.args:
                if arg.keyword is not None and arg.keyword.value == keyword:
                    return arg
    return None


def _defaults_to_none(param: cst.Param) -> bool:
    return isinstance(param.default, cst.Name) and param.default.value == "None"


def _number(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


class MissingTimeLimit(Rule):
    info = rule_for("CEL201")

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        task = _task_of(self, node)
        config = self.context.index.celery_config
        if task is None or config is None or config.has_time_limit:
            return
        if limited_worker(self.context.index) is not None:
            return  # the worker's --time-limit is the global one
        if {"soft_time_limit", "time_limit", "base"} & set(task.options):
            return
        # a global limit written under a name Celery does not read is no global limit
        misnamed = config.unread_as("task_soft_time_limit", "task_time_limit")
        note = f"; {unread_note(misnamed, self.context.index.celery)}" if misnamed else ""
        self.report(node, f"Task `{task.function}` has no time limit, and the project sets no "
                          f"global one: a hung call holds a worker forever{note}", end=node.name,
                    # the settings mean a global limit of their own: per-task limits with the
                    # fix's values would contradict it; renaming that line is the fix
                    fix=None if misnamed else self._fix(node))

    def _fix(self, node: cst.FunctionDef) -> Fix | None:
        """Time limits from `fix-time-limits` written into the task's decorator; none when the
        project has not chosen them."""
        if self.context.config.fix_time_limits is None:
            return None
        limits = dict(self.context.config.fix_time_limits)
        keywords = f"soft_time_limit={limits['soft']}, time_limit={limits['hard']}"
        decorator = next((d.decorator for d in node.decorators
                          if self._is_task_decorator(d.decorator)), None)
        if decorator is None:
            return None
        if isinstance(decorator, cst.Call):
            args = decorator.args
            if any(a.star for a in args):
                return None
            if args:  # right after the last argument, before its comma or comment
                last = self.context.range_of(args[-1].value).end
                at = Location(last.line, last.column + 1)
                content = f", {keywords}"
            else:
                closing = self.context.range_of(decorator).end
                at = Location(closing.line, closing.column)  # before the closing parenthesis
                content = keywords
            edit = Edit(content, at, at)
        else:
            edit = self.context.insert_after(decorator, f"({keywords})")
        return Fix(Applicability.UNSAFE, f"Add `{keywords}` to the task's decorator", (edit,))

    def _is_task_decorator(self, expression: cst.BaseExpression) -> bool:
        callee = expression.func if isinstance(expression, cst.Call) else expression
        return isinstance(callee, (cst.Name, cst.Attribute)) and \
            source_of(callee).rsplit(".", 1)[-1] in ("task", "shared_task")


class SoftLimitNotBelowHard(Rule):
    info = rule_for("CEL202")

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        task = _task_of(self, node)
        soft_arg = _decorator_keyword(node, "soft_time_limit")
        if task is None or soft_arg is None:
            return
        soft = _number(task.options.get("soft_time_limit"))
        hard = _number(task.options.get("time_limit"))
        source = "its `time_limit`"
        if hard is None and "time_limit" not in task.options:
            config = self.context.index.celery_config
            setting = config.get("task_time_limit") if config is not None else None
            hard = _number(setting.value) if setting is not None else None
            source = "the global `task_time_limit`"
        if soft is not None and hard is not None and soft >= hard:
            self.report(soft_arg, f"Task `{task.function}`'s soft_time_limit ({soft:g} s) is not "
                                  f"below {source} ({hard:g} s): the soft limit never fires")


class RetryNotRaised(Rule):
    info = rule_for("CEL204")

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._block(node.body)

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        self._block([node])

    def _block(self, body: Sequence[cst.BaseStatement]) -> None:
        """Each bare retry of a block that other statements follow in the same block (a `pass`,
        `return` or `raise` after it would end the attempt all the same)."""
        items: list[cst.BaseSmallStatement | cst.BaseStatement] = []
        for statement in body:
            items += statement.body if isinstance(
                statement, (cst.SimpleStatementLine, cst.SimpleStatementSuite)) else [statement]
        for index, item in enumerate(items):
            if not isinstance(item, cst.Expr):
                continue
            later = [s for s in items[index + 1:]
                     if not isinstance(s, (cst.Pass, cst.Return, cst.Raise))]
            if later and self._is_bare_retry(item.value):
                self._report(item, len(later))
            elif later and isinstance(item.value, cst.Call):
                self._retrying_call(item.value, len(later))

    def _retrying_call(self, call: cst.Call, count: int) -> None:
        """A call, in a task, of a project function that always raises `Retry` for it (a
        `.retry()` on the task it is given, or `raise Retry(...)`, that every call reaches), with
        statements after it in the same block. Only the function called: a retry further down
        the chain, or in a branch, is not certain."""
        function = self.binder.function_at(call)
        if function is None or function.task is None:
            return
        found = retry_through(call, self.binder)
        if found is None or len(found[0]) > 1 or not found[1].always:
            return
        chain, retry = found
        what = f"calls `{retry.param}.retry()` on the task it is given" if retry.param else \
            "raises `Retry`"
        after = "the statement after this call never runs: move it before the call if it " \
            "should run, or delete it" if count == 1 else \
            f"the {count} statements after this call never run: move them before the call if " \
            "they should run, or delete them"
        self.report(call, f"{describe_chain(chain, what, self.context.index)} every time it is "
                          f"called, so {after} ({SUMMARY_NOTE})")

    def _is_bare_retry(self, call: cst.BaseExpression) -> bool:
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
                and call.func.attr.value == "retry"):
            return False
        if any(a.keyword is not None and a.keyword.value == "throw"
               and not (isinstance(a.value, cst.Name) and a.value.value == "True")
               for a in call.args):
            return False  # `throw=False` returns on purpose: the code after it runs
        return self.binder.infer(call.func.value).kind in (Kind.TASK_SELF, Kind.TASK)

    def _report(self, node: cst.Expr, count: int) -> None:
        call = node.value
        assert isinstance(call, cst.Call)
        retry = source_of(call.func)
        statements = "the statement" if count == 1 else f"the {count} statements"
        # before the statement, so `(self.retry())` becomes `raise (self.retry())`
        fix = Fix(Applicability.SAFE, f"Raise it: `raise {retry}(...)`",
                  (self.context.insert_before(node, "raise "),))
        self.report(call, f"`{retry}(...)` raises `Retry` (or, once the retries are used up, the "
                          f"error), so {statements} after it never run: move them before the "
                          f"retry if they should run, or delete them, and write "
                          f"`raise {retry}(...)`", fix=fix)


class BindMismatch(Rule):
    info = rule_for("CEL205")

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value not in ("request", "retry") or not isinstance(node.value, cst.Name) \
                or node.value.value != "self":
            return
        function = self.binder.function_at(node)
        task = function.task if function is not None else None
        if task is None or task.bound or not task.params or task.params[0].name != "self":
            return
        self.report(node, f"Task `{task.function}` uses `self.{node.attr.value}` but is not "
                          "declared with `bind=True`: `self` is its first argument, not the task")

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        task = _task_of(self, node)
        if task is None or not task.bound or task.params:
            return
        bind = _decorator_keyword(node, "bind")
        self.report(bind or node, f"Task `{task.function}` has `bind=True` but no parameter to "
                                  "receive the task instance")


class ResultGetInTask(Rule):
    info = rule_for("CEL207")

    def visit_Call(self, node: cst.Call) -> None:
        function = self.binder.function_at(node)
        if function is None or function.task is None or not is_result_wait(node, self.binder):
            return
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "disable_sync_subtasks":
                return
        assert isinstance(node.func, cst.Attribute)
        self.report(node, f"Task `{function.task.function}` waits for another task's result with "
                          f"`.{node.func.attr.value}()`: use a chain or chord callback instead")


class OrmObjectParameter(Rule):
    info = rule_for("CEL210")

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        task = _task_of(self, node)
        if task is None or self.context.index.rewrites_arguments(task):
            return  # a base class whose __call__ loads the object from the id it was sent
        params = [*node.params.posonly_params, *node.params.params, *node.params.kwonly_params]
        if task.bound:
            params = params[1:]
        found = []
        for param in params:
            if param.annotation is None or _defaults_to_none(param):
                continue  # `obj: Model | None = None`: an in-process shortcut beside the id
            value = self.binder.annotation_value(param.annotation.annotation)
            if value.kind in ORM_KINDS:
                what = value.a_model if value.model else f"a {value.kind.value}"
                found.append(f"`{param.name.value}` as {what}")
        if found:
            self.report(node, f"Task `{task.function}` takes {' and '.join(found)}: take primary "
                              "keys and load the rows inside the task", end=node.name)


class UnknownTaskOption(Rule):
    info = rule_for("CEL211")

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        task = _task_of(self, node)
        decorator = _task_decorator(node)
        if task is None or decorator is None:
            return
        index = self.context.index
        version = index.celery_version
        known = celery_task_options(version) | set(self.context.config.extra_task_options)
        keywords = [arg.keyword for arg in decorator.args if arg.keyword is not None]
        unknown = [k for k in keywords if k.value not in known]
        if not unknown:
            return
        base = task_class(index, task)
        if base is None:
            return  # the task's class cannot be read: it may declare any of them
        given = {k.value for k in keywords}
        for keyword in unknown:
            if keyword.value not in base.names:
                self._report(keyword, decorator, base, given, version)

    def _report(self, keyword: cst.Name, decorator: cst.Call, base: TaskClass,
                given: set[str], version: Version | None) -> None:
        name = keyword.value
        celery = f"Celery {version_text(version)}"
        added, dropped = added_in(name), dropped_in(name)
        if added is not None:
            why = (f"`{name}` is a task option from Celery {version_text(added)} on, but the "
                   f"project allows {celery}, which stores it on the task and ignores it")
            self.report(keyword, why)
            return
        owner = f" nor an attribute of {base.name}" if base.name else ""
        why = f"`{name}` is no task option of {celery}{owner}: Celery stores it on the task and " \
              "nothing reads it"
        if dropped is not None:
            why += f" (Celery {version_text(dropped)} dropped it)"
        meant = _meant_option(name, celery_task_options(version), base.names)
        fix = None
        if meant is not None:
            why += f"; did you mean `{meant}`?"
            value = next(a.value for a in decorator.args
                         if a.keyword is not None and a.keyword.value == name)
            if meant not in given and not (meant in EXCEPTION_OPTIONS and isinstance(
                    value, (cst.Integer, cst.Float, cst.SimpleString, cst.Name))
                    and not _is_class_name(value)):
                fix = Fix(Applicability.UNSAFE, f"Rename to `{meant}`",
                          (self.context.replace(keyword, meant),))
        self.report(keyword, why, fix=fix)


def _task_decorator(node: cst.FunctionDef) -> cst.Call | None:
    """The `@shared_task(...)`/`@app.task(...)` call of a task, when it is called."""
    for decorator in node.decorators:
        expression = decorator.decorator
        if isinstance(expression, cst.Call) and isinstance(expression.func, (
                cst.Name, cst.Attribute)) and source_of(expression.func).rsplit(".", 1)[-1] in (
                "task", "shared_task"):
            return expression
    return None


def _meant_option(name: str, known: frozenset[str], declared: frozenset[str]) -> str | None:
    """The option `name` clearly stands for: the option a setting name configures
    (`task_track_started` → `track_started`), else the one close match well ahead of the next,
    among Celery's options and the names the task's class declares."""
    options = installed_task_options()
    candidates = sorted((options.values & known) | declared)
    setting = options.settings.get(name)
    if setting is not None and setting in known:
        return setting
    ranked = sorted(((difflib.SequenceMatcher(None, name, c).ratio(), c) for c in candidates),
                    reverse=True)
    if not ranked or ranked[0][0] < MEANT_RATIO:
        return None
    if len(ranked) > 1 and ranked[0][0] - ranked[1][0] < MEANT_GAP:
        return None
    return ranked[0][1]


def _is_class_name(node: cst.BaseExpression) -> bool:
    """`ValueError`, `requests.Timeout`: an exception class given to an option, not a flag."""
    return isinstance(node, cst.Name) and node.value not in ("True", "False", "None") \
        and node.value[:1].isupper()
