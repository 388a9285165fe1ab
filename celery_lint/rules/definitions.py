"""Rules about defining tasks: limits (CEL201, CEL202), binding and retries (CEL204, CEL205),
waiting inside a task (CEL207) and what a task accepts (CEL210)."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from celery_lint.analysis.calls import is_result_wait
from celery_lint.analysis.values import ORM_KINDS, Kind, source_of
from celery_lint.codes import rule_for
from celery_lint.diagnostics import Applicability, Edit, Fix, Location
from celery_lint.facts.types import TaskDefinition
from celery_lint.rules.base import Rule


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
        if {"soft_time_limit", "time_limit", "base"} & set(task.options):
            return
        self.report(node, f"Task `{task.function}` has no time limit, and the project sets no "
                          "global one: a hung call holds a worker forever", end=node.name,
                    fix=self._fix(node))

    def _fix(self, node: cst.FunctionDef) -> Fix | None:
        """Time limits from `fix-time-limits` written into the task's decorator."""
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
            if isinstance(item, cst.Expr) and self._is_bare_retry(item.value):
                later = [s for s in items[index + 1:]
                         if not isinstance(s, (cst.Pass, cst.Return, cst.Raise))]
                if later:
                    self._report(item, len(later))

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
