"""Rules about how a task fails and retries (CEL206, CEL208) and which app it is bound to (CEL209)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import libcst as cst

from celery_lint.analysis.raising import Chain, first_chain, retry_through
from celery_lint.analysis.summaries import SUMMARY_NOTE, called_function, describe_chain
from celery_lint.analysis.values import Kind, dotted_name, source_of
from celery_lint.analysis.walk import children
from celery_lint.analysis.workers import is_cli_limit, production_workers
from celery_lint.codes import rule_for
from celery_lint.facts.effects import BUILTIN_CALLS
from celery_lint.facts.summaries import BROAD, CATCHES_SOFT_LIMIT
from celery_lint.facts.types import FromEnv, TaskDefinition, Unknown, Value
from celery_lint.index import ProjectIndex
from celery_lint.rules.base import Rule
from celery_lint.rules.definitions import _decorator_keyword, _task_of

# handlers that catch Retry by name (Retry derives from these two)
CATCHES_RETRY = frozenset({"Retry", "TaskPredicate", "CeleryError"})
_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
# pools that never raise SoftTimeLimitExceeded: only prefork's supervisor enforces a soft limit
# (threads and solo enforce no limit at all; gevent and eventlet only the hard one)
NO_SOFT_LIMIT_POOLS = frozenset({"threads", "solo", "gevent", "eventlet"})
LOGGING = frozenset({"log", "logger", "logging", "_log", "_logger", "LOGGER", "LOG"})


def _descendants(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node below `node` that runs with it: nested functions, classes and lambdas excluded."""
    for child in children(node):
        if isinstance(child, _SCOPES):
            continue
        yield child
        yield from _descendants(child)


def _builtin(rule: Rule, node: cst.BaseExpression, names: tuple[str, ...]) -> str | None:
    """The builtin of `names` that `node` refers to, when no import or assignment shadows it."""
    if isinstance(node, cst.Name) and node.value in names and node not in rule.binder.names:
        return node.value
    qualname = rule.binder.infer(node).qualname or ""
    module, _, name = qualname.rpartition(".")
    return name if module == "builtins" and name in names else None


def _class_name(rule: Rule, node: cst.BaseExpression) -> str:
    """The last part of the class name an `except` names: `Retry` for `exceptions.Retry`."""
    qualname = rule.binder.infer(node).qualname or dotted_name(node) or ""
    return qualname.rpartition(".")[2]


def _is_task_retry(rule: Rule, node: cst.CSTNode) -> bool:
    """`self.retry(...)` on a task, without `throw=False` (which returns instead of raising)."""
    if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
            and node.func.attr.value == "retry"):
        return False
    if any(a.keyword is not None and a.keyword.value == "throw"
           and not (isinstance(a.value, cst.Name) and a.value.value == "True") for a in node.args):
        return False
    return rule.binder.infer(node.func.value).kind in (Kind.TASK_SELF, Kind.TASK)


def _raises_retry(node: cst.CSTNode) -> bool:
    """`raise Retry(...)`."""
    if not isinstance(node, cst.Raise) or node.exc is None:
        return False
    exc = node.exc.func if isinstance(node.exc, cst.Call) else node.exc
    return (dotted_name(exc) or "").rpartition(".")[2] == "Retry"


def _is_limit(value: Value) -> bool:
    """Whether a time-limit value sets a limit; one that is not known is taken as set."""
    if isinstance(value, FromEnv):
        return _is_limit(value.default) if value.has_default else True
    if isinstance(value, Unknown):
        return True
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _has_soft_limit(task: TaskDefinition, index: ProjectIndex) -> bool:
    """Whether a soft time limit can stop the task: one is set (on the task, in the settings or
    on a production worker's command line) and the production workers, when known, run a pool
    that enforces it."""
    config = index.celery_config
    workers = [p.invocation for p in production_workers(index)]
    if "soft_time_limit" in task.options:
        limited = _is_limit(task.options["soft_time_limit"])
    else:
        setting = config.get("task_soft_time_limit") if config is not None else None
        limited = (setting is not None and _is_limit(setting.value)) or any(
            is_cli_limit(w.soft_time_limit) for w in workers)
    if not limited or not workers:
        return limited
    setting = config.get("worker_pool") if config is not None else None
    default = setting.value if setting is not None and isinstance(setting.value, str) \
        else "prefork"
    return any((w.pool or default) not in NO_SOFT_LIMIT_POOLS for w in workers)


def _does_work(statement: cst.BaseStatement) -> bool:
    """Whether a statement after a handler does more than return, pass or log."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return True
    for small in statement.body:
        if isinstance(small, (cst.Pass, cst.Break, cst.Continue)):
            continue
        if isinstance(small, cst.Return) and not any(
                isinstance(n, cst.Call) and (dotted_name(n.func) or "") not in BUILTIN_CALLS
                for n in _descendants(small)):
            continue
        if isinstance(small, cst.Expr) and (
                isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString)) or (
                    isinstance(small.value, cst.Call) and (
                        dotted_name(small.value.func) or "").split(".")[0] in LOGGING)):
            continue
        return True
    return False


def _ends(block: cst.BaseSuite | cst.SimpleStatementLine) -> str:
    """How a block (or a line) ends: "return", "raise", "continue", "break", or "" (it falls
    through)."""
    last = block.body[-1] if block.body else None  # a statement, or a one-line suite's small one
    if isinstance(last, cst.SimpleStatementLine):
        last = last.body[-1] if last.body else None
    for kind, name in ((cst.Return, "return"), (cst.Raise, "raise"), (cst.Continue, "continue"),
                       (cst.Break, "break")):
        if isinstance(last, kind):
            return name
    return ""


def _handler_outcomes(body: Sequence[cst.BaseStatement], after: bool,
                      loop: tuple[bool, bool], found: dict[cst.CSTNode, str]) -> None:
    """What the task does once each handler under `body` is done, and once each call under it
    that is a statement of its own (its result unused) returns: "loop" (the loop around it
    goes on), "after" (work after it), or "" (the task ends). `after` says whether work
    follows `body`; `loop` is (inside a loop of the task, work after that loop). A `return`,
    `raise` or `break` later in the same block ends the loop's turn for what comes before it."""
    following = after
    for statement in reversed(body):
        _statement_outcomes(statement, following, loop, found)
        ends = _ends(statement) if isinstance(statement, cst.SimpleStatementLine) else ""
        if ends in ("return", "raise"):
            following, loop = _does_work(statement), (False, False)
        elif ends == "break":
            following, loop = loop[1], (False, False)
        else:
            following = following or _does_work(statement)


def _statement_outcomes(node: cst.BaseStatement, after: bool, loop: tuple[bool, bool],
                        found: dict[cst.CSTNode, str]) -> None:
    if isinstance(node, cst.SimpleStatementLine) and len(node.body) == 1 \
            and isinstance(node.body[0], cst.Expr):
        value = node.body[0].value
        value = value.expression if isinstance(value, cst.Await) else value
        if isinstance(value, cst.Call):
            found[value] = "loop" if loop[0] else "after" if after else ""
    elif isinstance(node, (cst.For, cst.While)):
        _handler_outcomes(node.body.body, True, (True, after), found)
        if node.orelse is not None:
            _handler_outcomes(node.orelse.body.body, after, loop, found)
    elif isinstance(node, cst.If):
        _handler_outcomes(node.body.body, after, loop, found)
        if isinstance(node.orelse, cst.If):
            _statement_outcomes(node.orelse, after, loop, found)
        elif node.orelse is not None:
            _handler_outcomes(node.orelse.body.body, after, loop, found)
    elif isinstance(node, cst.With):
        _handler_outcomes(node.body.body, after, loop, found)
    elif isinstance(node, cst.Match):
        for case in node.cases:
            _handler_outcomes(case.body.body, after, loop, found)
    elif isinstance(node, (cst.Try, cst.TryStar)):
        in_loop, after_loop = loop
        for handler in node.handlers:
            end = _ends(handler.body)
            found[handler] = "loop" if end == "continue" or (not end and in_loop) else \
                "after" if (end == "break" and after_loop) or (not end and after) else ""
            _handler_outcomes(handler.body.body, after, loop, found)
        for block in (node.body, node.orelse and node.orelse.body,
                      node.finalbody and node.finalbody.body):
            if block is not None:
                _handler_outcomes(block.body, after, loop, found)


class SwallowedCeleryException(Rule):
    info = rule_for("CEL206")

    def __init__(self, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(context)
        self._tasks: list[TaskDefinition | None] = []
        self._outcomes: dict[cst.CSTNode, str] = {}
        self._swallowing: dict[str, Chain | None] = {}  # by the qualified name of the function

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        task = _task_of(self, node)
        self._tasks.append(task)
        if task is None or not isinstance(node.body, cst.IndentedBlock):
            return
        outcomes: dict[cst.CSTNode, str] = {}
        _handler_outcomes(node.body.body, False, (False, False), outcomes)
        self._outcomes.update(outcomes)
        if _has_soft_limit(task, self.context.index):
            for call, goes_on in outcomes.items():
                if goes_on and isinstance(call, cst.Call):
                    self._swallowed_in_call(task, call, goes_on)

    def _swallowed_in_call(self, task: TaskDefinition, call: cst.Call, goes_on: str) -> None:
        """A call, in a task with a soft limit, of a project function whose broad `except`
        swallows the limit's exception, when the task goes on once it returns."""
        function = called_function(call, self.binder)
        if function is None:
            return
        if function.qualname not in self._swallowing:
            self._swallowing[function.qualname] = first_chain(
                self.context.index, function, lambda summary: summary.swallows)
        chain = self._swallowing[function.qualname]
        if chain is None:
            return
        # A preview part of the rule, until the corpus shows it holds on real projects.
        if not self.context.config.preview:
            return
        words = describe_chain(chain, "catches everything in a broad `except` and returns as if "
                                      "nothing happened", self.context.index)
        where = "the loop of the task goes on with its next turn" if goes_on == "loop" else \
            "the task goes on after this call"
        self.report(call, f"{words}: it catches the `SoftTimeLimitExceeded` that the soft time "
                          f"limit of task `{task.function}` raises to stop it, and {where}: the "
                          f"task runs on past its soft limit until the hard limit, if any, kills "
                          f"its worker process ({SUMMARY_NOTE})")

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._tasks.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._tasks.append(None)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._tasks.pop()

    def visit_Try(self, node: cst.Try) -> None:
        task = self._tasks[-1] if self._tasks else None
        if task is None:
            return
        retried = self._retries(node.body)
        retry = retried is not None
        soft_limit = _has_soft_limit(task, self.context.index)
        for handler in node.handlers:
            types = self._caught(handler)
            names = {_class_name(self, t) for t in types or ()}
            retry = retry and not names & CATCHES_RETRY
            soft_limit = soft_limit and not names & CATCHES_SOFT_LIMIT
            if types is None or any(_builtin(self, t, BROAD) for t in types):
                # a handler that ends the task is what a soft limit and a retry expect
                goes_on = self._outcomes.get(handler, "")
                if (retry or soft_limit) and goes_on and not self._reraises(handler):
                    self._report(task, handler, retried if retry else None, soft_limit,
                                 goes_on)
                return  # later handlers never see what this one catches

    def _caught(self, handler: cst.ExceptHandler) -> list[cst.BaseExpression] | None:
        """The classes an `except` names; None for a bare `except:`."""
        if handler.type is None:
            return None
        if isinstance(handler.type, cst.Tuple):
            return [e.value for e in handler.type.elements]
        return [handler.type]

    def _retries(self, body: cst.CSTNode) -> str | None:
        """How `body` raises Retry: "" for `self.retry()` or `raise Retry(...)` in it, the chain
        of calls for a project function that raises it for this task; None when it does not."""
        for node in _descendants(body):
            if _is_task_retry(self, node) or _raises_retry(node):
                return ""
        for node in _descendants(body):
            if isinstance(node, cst.Call):
                found = retry_through(node, self.binder)
                if found is not None:
                    chain, retry = found
                    what = "raises `Retry`" if not retry.param else \
                        f"calls `{retry.param}.retry()` on the task it is given"
                    return describe_chain(chain, what, self.context.index)
        return None

    def _reraises(self, handler: cst.ExceptHandler) -> bool:
        return any(isinstance(n, cst.Raise) or _is_task_retry(self, n)
                   for n in _descendants(handler.body))

    def _report(self, task: TaskDefinition, handler: cst.ExceptHandler, retry: str | None,
                soft_limit: bool, goes_on: str) -> None:
        """`retry`: None when the `try` block raises no Retry, "" when it does itself, the chain
        of calls when a project function it calls does."""
        clause = "except:" if handler.type is None else f"except {source_of(handler.type)}"
        caught = []
        if retry == "":
            caught.append("the `Retry` that `self.retry()` raises to end the attempt")
        elif retry is not None:
            caught.append("the `Retry` that a function called in the `try` block raises to end "
                          "the attempt")
        if soft_limit:
            caught.append("the `SoftTimeLimitExceeded` the soft time limit raises to stop it")
        where = "the loop goes on" if goes_on == "loop" else "the task goes on after the `try`"
        effects = []
        if retry is not None:
            effects.append("the work that follows runs in this attempt and again in the retry "
                           "already queued")
        if soft_limit:
            effects.append("the task runs on past its soft limit until the hard limit, if any, "
                           "kills its worker process")
        note = f"; {retry} ({SUMMARY_NOTE})" if retry else ""
        self.report(handler, f"`{clause}` in task `{task.function}` catches "
                             f"{' and '.join(caught)}, and {where}: {'; '.join(effects)}{note}",
                    end=handler.type)


class UnboundedRetry(Rule):
    info = rule_for("CEL208")

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        task = _task_of(self, node)
        if task is None:
            return
        max_retries = _decorator_keyword(node, "max_retries")
        # options of the task as a whole are reported at its `def`, as SPEC places them
        if max_retries is not None and task.options.get("max_retries", 0) is None:
            self._report_forever(task.function, node, node.name)
        retry_kwargs = _decorator_keyword(node, "retry_kwargs")
        if retry_kwargs is not None and isinstance(retry_kwargs.value, cst.Dict):
            for element in retry_kwargs.value.elements:
                if isinstance(element, cst.DictElement) and isinstance(
                        element.key, cst.SimpleString) and element.key.evaluated_value == \
                        "max_retries" and _is_none(element.value):
                    self._report_forever(task.function, node, node.name)
        autoretry = _decorator_keyword(node, "autoretry_for")
        if autoretry is not None:
            value = autoretry.value
            members = [e.value for e in value.elements] if isinstance(
                value, (cst.Tuple, cst.List)) else [value]
            broad = next(filter(None, (_builtin(self, m, BROAD) for m in members)), None)
            if broad is not None:
                self.report(node, f"`autoretry_for` with `{broad}` retries task `{task.function}` "
                                   "on every error, bugs and bad input included: list the "
                                   "transient errors it should retry", end=node.name)

    def visit_Call(self, node: cst.Call) -> None:
        if not _is_task_retry(self, node):
            return
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "max_retries" \
                    and _is_none(arg.value):
                assert isinstance(node.func, cst.Attribute)
                function = self.binder.function_at(node)
                task = self.binder.task_of(node.func.value) or (
                    function.task if function is not None else None)
                self._report_forever(task.function if task else "task", arg.value)

    def _report_forever(self, function: str, node: cst.CSTNode,
                        end: cst.CSTNode | None = None) -> None:
        # A preview part of the rule: on real projects it was as often a deliberate wait for a
        # lock that expires (the error always goes away) as a retry that never ends.
        if not self.context.config.preview:
            return
        self.report(node, f"`max_retries=None` lets task `{function}` retry forever: an error "
                          "that never goes away keeps it in the queue for good", end=end)


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


class AppTaskInDjangoApp(Rule):
    info = rule_for("CEL209")

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        task = _task_of(self, node)
        if task is None or task.decorator == "shared_task":
            return
        index = self.context.index
        app = index.resolve(task.decorator)
        if app not in {a.qualname for a in index.apps}:
            return  # `current_app.task`: not bound to one app
        package = self._django_app_of(task.module)
        app_package = self._package_of(app.rpartition(".")[0])
        if package is None or app_package == package or app_package.startswith(package + "."):
            return  # the project's own package, next to the app
        decorator = next((d for d in node.decorators if self._is_task_decorator(d.decorator)),
                         None)
        if decorator is None:
            return
        callee = decorator.decorator
        callee = callee.func if isinstance(callee, cst.Call) else callee
        self.report(node, f"Task `{task.function}` of Django app `{package}` is bound to the "
                               f"project's Celery app by `@{source_of(callee)}`: use "
                               "`@shared_task`, so the app does not import the project (circular "
                               "imports) and can be reused", end=node.name)

    def _django_app_of(self, module: str) -> str | None:
        """The nearest package around `module` that has a `models` or `apps` module."""
        files = self.context.index.files
        package = self._package_of(module)
        while package:
            if f"{package}.models" in files or f"{package}.apps" in files:
                return package
            package = package.rpartition(".")[0]
        return None

    def _package_of(self, module: str) -> str:
        facts = self.context.index.files.get(module)
        return module if facts is not None and facts.is_package else module.rpartition(".")[0]

    @staticmethod
    def _is_task_decorator(node: cst.BaseExpression) -> bool:
        callee = node.func if isinstance(node, cst.Call) else node
        return isinstance(callee, cst.Attribute) and callee.attr.value == "task"
