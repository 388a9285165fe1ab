"""What one function does that rules ask about one call away (phase 1, with `ast`).

A summary keeps what the function does in its own body: the tasks it sends, runs or waits on,
its first database write, the project functions it calls by a name that resolves, and, for a
wrapper of `transaction.atomic`, what it wraps its caller's code in. The index joins summaries
over the call graph (`index.ProjectIndex.reach`); nothing here knows which names are tasks or
project functions, so every name is kept qualified and the index decides.

Only what is certain by its shape is kept: a call through a variable or a method of an object of
unknown class has no name to follow, and a send inside a lambda or nested function (what
`transaction.on_commit(lambda: ...)` runs later) is not the function's own.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import NamedTuple

from celery_lint.facts.effects import chain
from celery_lint.facts.evaluate import dotted

ATOMIC = "django.db.transaction.atomic"
METHOD_DECORATOR = "django.utils.decorators.method_decorator"
CONTEXT_MANAGERS = frozenset({"contextlib.contextmanager", "contextlib.asynccontextmanager"})
SEND_METHODS = frozenset({"delay", "apply_async"})
WAIT_METHODS = frozenset({"get", "wait", "join", "join_native"})
# Django's writing methods, shared with analysis.writes (which judges them on libcst nodes).
# Always a write, whatever holds them: nothing but Django's managers and QuerySets has these.
WRITE_METHODS = frozenset({
    "bulk_create", "bulk_update", "get_or_create", "update_or_create",
    "abulk_create", "abulk_update", "aget_or_create", "aupdate_or_create",
})
# writes when called on a model instance, a manager or a QuerySet (the caller judges the receiver)
SAVE_METHODS = frozenset({"save", "asave"})
DELETE_METHODS = frozenset({"delete", "adelete"})
CREATE_METHODS = frozenset({"create", "acreate"})
UPDATE_METHODS = frozenset({"update", "aupdate"})
NO_POSITIONAL_WRITES = SAVE_METHODS | DELETE_METHODS
MANAGER_WRITES = CREATE_METHODS | UPDATE_METHODS
LATER = "?"  # a name `Collector.qualify` reads once the file's imports are all known
# `with atomic():` after an import in the function: taken for a transaction only to leave out a
# send that function reports itself
LATER_ATOMIC = LATER + "atomic"
# what no project function is under: the standard library, Django, Celery and its parts
NOT_PROJECT = frozenset(sys.stdlib_module_names) | {"django", "celery", "kombu", "billiard",
                                                    "rest_framework", "builtins"}
RETRY = "celery.exceptions.Retry"
# the handlers that catch everything a task can raise (CEL206), and the name that catches the
# soft limit's exception first (it derives from Exception alone)
BROAD = ("Exception", "BaseException")
CATCHES_SOFT_LIMIT = frozenset({"SoftTimeLimitExceeded"})
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_TRY = (ast.Try, *([ast.TryStar] if hasattr(ast, "TryStar") else []))


@dataclass(frozen=True)
class TaskUse:
    """A task sent, run or waited on in the function's own body."""

    task: str  # the receiver, qualified with the module's names ("" for a wait on a result)
    method: str  # "delay", "apply_async", "apply", or "wait"
    line: int
    # for each argument sent (positional first, then keywords as `name=`), the parameter of the
    # function it is, whole ("" when it is anything else)
    params: tuple[str, ...] = ()
    conditional: bool = False  # in an `if` branch or an `except` handler of the function
    atomic: bool = False  # in the function's own `atomic` block (or it is `@atomic`)
    # an argument is a primary key (`x.pk`, `x.id`, `order_id`, `pk=`): the task loads rows
    keys: bool = False


class CallOf(NamedTuple):
    """A call of a function by a name that may be the project's (the index decides); a tuple, as
    there is one per call of every function and they travel in every pickle of the facts."""

    target: str  # qualified
    line: int
    conditional: bool = False
    atomic: bool = False
    # for each argument (the receiver first for `self.name(...)`, then positional ones, then
    # keywords as `name=`), the parameter of the caller it is, whole, "" for anything else, "*"
    # for a star argument (the positions after it are unknown); () when none is a parameter
    args: tuple[str, ...] = ()


class RetryOf(NamedTuple):
    """Where a function raises Celery's `Retry`: `param.retry(...)` on one of its parameters (the
    task a caller gives it; `position` among the positional ones, -1 for a keyword-only one), or
    `Retry(...)` itself (`param` ""). `always`: a statement of the function's own body that
    every call reaches (no branch around it, no `return` or `yield` before it, no decorator)."""

    line: int
    param: str = ""
    position: int = -1
    always: bool = False


@dataclass(frozen=True)
class Summary:
    uses: tuple[TaskUse, ...] = ()
    calls: tuple[CallOf, ...] = ()  # in source order
    write: int = 0  # the line of its first database write (0: none)
    # a wrapper of a transaction: "with" for a context manager whose `yield` runs inside
    # `with X():`, "decorator" for a decorator that runs the function inside one; `through` are
    # the qualified names of what it enters (`transaction.atomic`, or a project wrapper)
    wraps: str = ""
    through: tuple[str, ...] = ()
    # its positional parameters in order (`self` first for a method), when a task use or a call
    # is given one: a caller's arguments are matched to them
    positional: tuple[str, ...] = ()
    retry: RetryOf | None = None  # where it raises `Retry` (an unconditional one first)
    # the line of its first broad `except` (or bare `except:`) that catches a soft time limit's
    # `SoftTimeLimitExceeded` raised in its `try` block (no handler before names it) and does
    # not raise again: the function returns as if nothing happened (0: none)
    swallows: int = 0
    # a view's `dispatch` with an `atomic` block (or decorated with it): when that block runs,
    # "always" when it is in no branch and no `if` of the method tests `self`; the class
    # attribute `X` when every such block is the body of `if self.X:`; "?" otherwise
    guard: str = ""
    # its `atomic` block calls `super().dispatch(...)`: the view's HTTP handlers run in it
    handlers: bool = False

    def __bool__(self) -> bool:
        return bool(self.uses or self.calls or self.write or self.wraps or self.retry
                    or self.swallows or self.guard)


class Collector:
    """Collects one function's summary from the nodes of its own body, given one at a time by the
    file's single `ast.walk` (as effects.Scanner does), in any order; `summary()` ends it.

    `module_qualify` qualifies a dotted name with the module's names, `bound(name)` tells whether
    the module binds `name` (by import or definition), `file_imports` are the names imported
    anywhere in the file (an import inside a function, to avoid a cycle, is common), complete
    only once the walk has ended; `owner` is
    the qualified name of a method's class (`self.name()` is `owner.name`, which the index looks
    up in the class and its bases), None for a function."""

    def __init__(self, function: ast.FunctionDef | ast.AsyncFunctionDef,
                 module_qualify: Callable[[ast.AST], str | None], bound: Callable[[str], bool],
                 file_imports: dict[str, str], decorators: tuple[str, ...],
                 owner: str | None) -> None:
        self.function = function
        self.module_qualify = module_qualify
        self.bound = bound
        self.file_imports = file_imports
        self.decorators = decorators
        self.owner = owner
        self.params = {a.arg for a in function.args.posonlyargs + function.args.args
                       + function.args.kwonlyargs}
        positional = function.args.posonlyargs + function.args.args
        self.first = positional[0].arg if positional and owner else None
        self.uses: list[TaskUse] = []
        self.calls: list[tuple[str, int, tuple[str, ...]]] = []
        # names the body assigns: a parameter among them may hold something else when handed on
        self.rebound: set[str] = set()
        self.write = 0
        self.results: set[str] = set()  # names assigned an AsyncResult
        self.waits: list[tuple[str, int]] = []  # (name, line) of `name.get()`
        self.branches: list[tuple[int, int]] = []  # lines of `if` bodies and `except` handlers
        self.atomic: list[tuple[int, int]] = []  # lines of `with transaction.atomic():` blocks
        self.retries: list[tuple[int, str]] = []  # (line, parameter) of `param.retry(...)`
        # (handler, the `try` around it) of each broad handler that raises nothing again
        self.swallowing: list[tuple[ast.ExceptHandler, ast.Try]] = []
        # a method `dispatch`: what runs the view's methods, in a transaction or not
        self.dispatch = owner is not None and function.name == "dispatch"
        self.tests: list[tuple[int, int, str]] = []  # a dispatch's `if` bodies: what they test
        self.supers: list[int] = []  # lines of a dispatch's `super().dispatch(...)`
        if any((d.rsplit(".", 1)[-1] == "atomic") for d in decorators) or self.dispatch and any(
                self._atomic_method(d) for d in function.decorator_list):
            self.atomic.append((function.lineno, function.end_lineno or function.lineno))

    def _atomic_method(self, decorator: ast.expr) -> bool:
        """`@method_decorator(transaction.atomic)` (or `atomic(...)`)."""
        return isinstance(decorator, ast.Call) and bool(decorator.args) \
            and self.qualify(decorator.func) == METHOD_DECORATOR \
            and self.qualify(_callee(decorator.args[0])) in (ATOMIC, LATER_ATOMIC)

    def qualify(self, node: ast.AST) -> str | None:
        """A name the module imports or defines, qualified; None for a parameter or anything
        without a name; any other name as LATER + the name, for `_late` to read once the walk has
        seen every import of the file."""
        name = dotted(node)
        if name is None:
            return None
        head = name.partition(".")[0]
        if head in self.params:
            return None
        if self.bound(head):
            return self.module_qualify(node)
        return LATER + name

    def _late(self, name: str) -> str | None:
        """A name `qualify` left for later, qualified with the file's imports; None for a local
        variable (its value is not known)."""
        if not name.startswith(LATER):
            return name
        head, _, rest = name[len(LATER):].partition(".")
        imported = self.file_imports.get(head)
        return imported + (f".{rest}" if rest else "") if imported else None

    def handle(self, node: ast.AST) -> None:
        if isinstance(node, ast.Call):
            self._call(node)
        elif isinstance(node, ast.Assign):
            if isinstance(node.value, ast.Call) and _sends(node.value):
                self.results.update(t.id for t in node.targets if isinstance(t, ast.Name))
            self.rebound.update(_names(node.targets))
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            self.rebound.update(_names([node.target]))
        elif isinstance(node, ast.If):
            self.branches.append((node.body[0].lineno, node.end_lineno or node.lineno))
            if self.dispatch:
                self.tests.append((node.body[0].lineno, node.body[-1].end_lineno or node.lineno,
                                   self._tested(node.test)))
        elif isinstance(node, ast.ExceptHandler):
            self.branches.append((node.lineno, node.end_lineno or node.lineno))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            self.rebound.update(_names([item.optional_vars for item in node.items
                                        if item.optional_vars is not None]))
            if any(self.qualify(_callee(item.context_expr)) in (ATOMIC, LATER_ATOMIC)
                   for item in node.items):
                self.atomic.append((node.body[0].lineno, node.end_lineno or node.lineno))
        elif isinstance(node, _TRY):
            self._try(node)

    def _try(self, node: ast.Try) -> None:
        """Keeps the first broad handler of `node` when it may swallow what its `try` block
        raises, a soft limit's exception included: a `try` block that does something (a call),
        and a handler that raises nothing (no `raise`, no `.retry()`). `summary()` decides."""
        for handler in node.handlers:
            types = handler.type.elts if isinstance(handler.type, ast.Tuple) else \
                [handler.type] if handler.type is not None else None
            names = [dotted(t) or "" for t in types or ()]
            if any(name.rpartition(".")[2] in CATCHES_SOFT_LIMIT for name in names):
                return  # caught by name: what it does with it is on purpose
            if types is None or any(name in BROAD and not self.bound(name) for name in names):
                if not any(isinstance(n, ast.Raise) or _is_retry(n)
                           for n in _own_nodes(handler.body)) \
                        and any(isinstance(n, ast.Call) for n in _own_nodes(node.body)):
                    self.swallowing.append((handler, node))
                return  # later handlers never see what this one catches

    def _call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            method = func.attr
            if method == "retry" and isinstance(func.value, ast.Name) \
                    and func.value.id in self.params and func.value.id != self.first \
                    and _is_retry(node):
                self.retries.append((node.lineno, func.value.id))
            if method in SEND_METHODS or method == "apply":
                task = self.qualify(func.value)
                if task is not None:
                    self.uses.append(TaskUse(task, method, node.lineno,
                                             _params(node, self.params), keys=_keys(node)))
                return
            receiver = func.value
            if self.dispatch and method == "dispatch" and isinstance(receiver, ast.Call) \
                    and isinstance(receiver.func, ast.Name) and receiver.func.id == "super":
                self.supers.append(node.lineno)
            if method in WAIT_METHODS:
                if isinstance(receiver, ast.Call) and _sends(receiver):
                    self.uses.append(TaskUse("", "wait", node.lineno))
                    return
                if isinstance(receiver, ast.Name):
                    self.waits.append((receiver.id, node.lineno))
            if _writes(node, method) and (not self.write or node.lineno < self.write):
                self.write = node.lineno
            if self.first is not None and isinstance(receiver, ast.Name) \
                    and receiver.id == self.first:
                self.calls.append((f"{self.owner}.{method}", node.lineno,
                                   _args(node, self.params, self.first)))
                return
        if isinstance(func, (ast.Name, ast.Attribute)):
            target = self.qualify(func)
            if target is not None:
                self.calls.append((target, node.lineno, _args(node, self.params)))

    def summary(self) -> Summary | None:
        uses = [replace(use, task=self._late(use.task) or "",
                        conditional=_within(use.line, self.branches),
                        atomic=_within(use.line, self.atomic),
                        params=self._unbound(use.params))
                for use in self.uses + [TaskUse("", "wait", line) for name, line in self.waits
                                        if name in self.results]]
        uses = sorted((use for use in uses if use.task or use.method == "wait"),
                      key=lambda use: use.line)
        # each target interned: the pickle of a file's facts (to the pool's parent, into the
        # cache) then holds a name called many times once (`self.assertEqual` in a test module)
        calls = sorted((CallOf(sys.intern(target), line, _within(line, self.branches),
                               _within(line, self.atomic), self._unbound(args, receiver=True))
                        for target, line, args in ((self._late(t), n, a) for t, n, a in self.calls)
                        if target is not None and target.partition(".")[0] not in NOT_PROJECT),
                       key=lambda call: call.line)
        wraps, through = _wrapper(self.function, lambda n: self._late(self.qualify(n) or ""),
                                  self.decorators)
        positional = tuple(a.arg for a in self.function.args.posonlyargs
                           + self.function.args.args) \
            if any(any(use.params) for use in uses) or any(call.args for call in calls) else ()
        retries = self.retries + [(line, "") for target, line, _ in self.calls
                                  if self._late(target) == RETRY]
        guard = self._guard() if self.dispatch and self.atomic else ""
        handlers = bool(guard) and any(_within(line, self.atomic) for line in self.supers)
        summary = Summary(tuple(uses), tuple(calls), self.write, wraps, through, positional,
                          self._retry(retries) if retries else None, self._swallows(), guard,
                          handlers)
        return summary or None

    def _swallows(self) -> int:
        """The line of the first broad handler after which the function returns as if nothing
        happened: it ends with `return` (or `continue`, `break`), or it falls through and no
        `raise` follows its `try` in the same block (a function that raises its own error once
        the handler is done does not swallow)."""
        for handler, node in sorted(self.swallowing, key=lambda found: found[0].lineno):
            if handler.body and isinstance(handler.body[-1], (ast.Return, ast.Continue,
                                                               ast.Break)):
                return handler.lineno
            block = _block_of(self.function.body, node)
            if block is not None and not any(isinstance(statement, ast.Raise)
                                             for statement in block[block.index(node) + 1:]):
                return handler.lineno
        return 0

    def _retry(self, retries: list[tuple[int, str]]) -> RetryOf:
        """The function's retry that every call reaches, else its first one."""
        function = self.function
        positional = [a.arg for a in function.args.posonlyargs + function.args.args]
        found = [RetryOf(line, param, positional.index(param) if param in positional else -1,
                         _always(function, line, bool(self.decorators)))
                 for line, param in sorted(retries)]
        return next((retry for retry in found if retry.always), found[0])

    def _tested(self, test: ast.expr) -> str:
        """What an `if` of a dispatch tests: "X" for `self.X`, "?" for anything else that reads
        `self`, "" for what does not."""
        if isinstance(test, ast.Attribute) and isinstance(test.value, ast.Name) \
                and test.value.id == self.first:
            return test.attr
        return "?" if any(isinstance(n, ast.Name) and n.id == self.first
                          for n in ast.walk(test)) else ""

    def _guard(self) -> str:
        """Summary.guard of a dispatch with `atomic` blocks."""
        guards = set()
        for first, last in self.atomic:
            around = [tested for start, end, tested in self.tests if start <= first <= end]
            inner = [(start, end) for start, end in self.branches if start <= first <= end]
            guards.add(around[-1] if len(around) == 1 and len(inner) == 1 else
                       "always" if not inner and not any(t for *_, t in self.tests) else "?")
        return guards.pop() if len(guards) == 1 and "" not in guards else "?"


    def _unbound(self, given: tuple[str, ...], receiver: bool = False) -> tuple[str, ...]:
        """`given` with the parameters the body assigns again as "" (what they hold when handed on
        is not what the caller gave); () when no parameter is left (besides a call's receiver)."""
        if not given:
            return given
        kept = tuple("" if given_ and given_ != "*" and given_.rpartition("=")[2] in self.rebound
                     else given_ for given_ in given)
        shown = kept[1:] if receiver and kept[:1] == (self.first,) and self.first else kept
        return kept if any(k and k != "*" for k in shown) else ()


def _wrapper(function: ast.FunctionDef | ast.AsyncFunctionDef,
             qualify: Callable[[ast.AST], str | None],
             decorators: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """("with", entered) for a `@contextmanager` whose `yield` runs inside `with X():`;
    ("decorator", entered) for a decorator whose inner function calls the decorated one inside
    `with X():`, or that returns `X(func)`; ("", ()) otherwise."""
    if set(decorators) & CONTEXT_MANAGERS:
        entered = _entered_around(function.body, qualify, lambda n: isinstance(
            n, (ast.Yield, ast.YieldFrom)))
        return ("with", entered) if entered else ("", ())
    params = [a.arg for a in function.args.posonlyargs + function.args.args]
    if len(params) != 1:
        return "", ()
    decorated = params[0]

    def calls_decorated(node: ast.AST) -> bool:
        return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id == decorated

    for node in function.body:
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Call) \
                and node.value.args and isinstance(node.value.args[0], ast.Name) \
                and node.value.args[0].id == decorated:
            entered_name = qualify(node.value.func)
            if entered_name is not None:
                return "decorator", (entered_name,)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            entered = _entered_around(node.body, qualify, calls_decorated)
            if entered and any(isinstance(n, ast.Return) and isinstance(n.value, ast.Name)
                               and n.value.id == node.name for n in function.body):
                return "decorator", entered
    return "", ()


def _entered_around(body: list[ast.stmt], qualify: Callable[[ast.AST], str | None],
                    is_target: Callable[[ast.AST], bool]) -> tuple[str, ...]:
    """The context managers (`with X(...):`, qualified) of every `with` in `body` whose block
    holds a node `is_target` accepts."""
    entered: list[str] = []
    for node in _own_nodes(body):
        if isinstance(node, (ast.With, ast.AsyncWith)) \
                and any(is_target(n) for n in _own_nodes(node.body)):
            for item in node.items:
                context = item.context_expr
                name = qualify(context.func if isinstance(context, ast.Call) else context)
                if name is not None and name not in entered:
                    entered.append(name)
    return tuple(entered)


def _own_nodes(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """The nodes of `body` in source order, those of nested functions, classes and lambdas left
    out (they run later, if at all)."""
    pending: list[ast.AST] = list(reversed(body))
    while pending:
        node = pending.pop()
        yield node
        if not isinstance(node, _SCOPES):
            pending += reversed(list(ast.iter_child_nodes(node)))


def _params(call: ast.Call, params: set[str]) -> tuple[str, ...]:
    """For each argument of `task.delay(...)` (or the `args=[...]` and `kwargs={...}` of
    `apply_async`), the parameter it is, whole, or ""."""
    def name(node: ast.expr, key: str = "") -> str:
        found = node.id if isinstance(node, ast.Name) and node.id in params else ""
        return f"{key}={found}" if key and found else found

    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "apply_async":
        given: list[str] = []
        for keyword in call.keywords:
            if keyword.arg == "args" and isinstance(keyword.value, (ast.List, ast.Tuple)):
                given += [name(e) for e in keyword.value.elts]
            elif keyword.arg == "kwargs" and isinstance(keyword.value, ast.Dict):
                given += [name(v, k.value) for k, v in zip(keyword.value.keys, keyword.value.values)
                          if isinstance(k, ast.Constant) and isinstance(k.value, str)]
        if call.args and isinstance(call.args[0], (ast.List, ast.Tuple)):
            given += [name(e) for e in call.args[0].elts]
        return tuple(given)
    return tuple([name(a) for a in call.args]
                 + [name(k.value, k.arg) for k in call.keywords if k.arg])


def _args(call: ast.Call, params: set[str], receiver: str | None = None) -> tuple[str, ...]:
    """For each argument of a call of a function (`receiver` first for `self.name(...)`), the
    parameter it is, whole, "" for anything else, "*" for a star argument; () when no argument
    is a parameter (most calls: nothing to keep)."""
    if not any(isinstance(a, ast.Name) and a.id in params for a in call.args) and not any(
            isinstance(k.value, ast.Name) and k.value.id in params for k in call.keywords):
        return ()
    given = [receiver] if receiver else []
    given += ["*" if isinstance(a, ast.Starred) else a.id if isinstance(a, ast.Name)
              and a.id in params else "" for a in call.args]
    given += [f"{k.arg}={k.value.id}" if isinstance(k.value, ast.Name) and k.value.id in params
              else "" for k in call.keywords if k.arg]
    return tuple(given)


def _keys(call: ast.Call) -> bool:
    """Whether `task.delay(...)` (or `apply_async(args=[...], kwargs={...})`) is given a primary
    key: `x.pk`, `x.id`, `x.order_id`, a name `pk` or `*_id`, or a keyword `pk=`, `*_id=`."""
    values: list[ast.expr] = list(call.args)
    names = [k.arg for k in call.keywords if k.arg]
    for keyword in call.keywords:
        value = keyword.value
        if keyword.arg in ("args", "kwargs") and isinstance(value, (ast.List, ast.Tuple)):
            values += value.elts
        elif keyword.arg == "kwargs" and isinstance(value, ast.Dict):
            values += value.values
            names += [k.value for k in value.keys
                      if isinstance(k, ast.Constant) and isinstance(k.value, str)]
        else:
            values.append(value)
    values += [e for v in values if isinstance(v, (ast.List, ast.Tuple)) for e in v.elts]
    return any(_is_key(name) for name in names) or any(
        _is_key(value.attr if isinstance(value, ast.Attribute) else
                value.id if isinstance(value, ast.Name) else "") for value in values)


def _is_key(name: str) -> bool:
    return name in ("pk", "id") or name.endswith(("_id", "_pk", "_ids", "_pks"))


def _is_retry(node: ast.AST) -> bool:
    """`x.retry(...)` that raises: without `throw=False` (with it, `retry()` returns)."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
        and node.func.attr == "retry" and not any(
            k.arg == "throw" and not (isinstance(k.value, ast.Constant) and k.value.value is True)
            for k in node.keywords)


def _always(function: ast.FunctionDef | ast.AsyncFunctionDef, line: int,
            decorated: bool) -> bool:
    """Whether the call at `line` is a statement of the function's own body (`x.retry()`,
    `raise ...`, `return ...`) that every call of it reaches: not a branch's, no `return` before
    it, and the function is plain (not async, not a generator, not decorated: a decorator may
    catch what it raises)."""
    if decorated or isinstance(function, ast.AsyncFunctionDef) or any(
            isinstance(n, (ast.Yield, ast.YieldFrom)) for n in _own_nodes(function.body)):
        return False
    for statement in function.body:
        if statement.lineno > line:
            return False
        if isinstance(statement, (ast.Expr, ast.Raise, ast.Return)):
            value = statement.exc if isinstance(statement, ast.Raise) else statement.value
            if isinstance(value, ast.Call) and value.lineno == line:
                return True
        if any(isinstance(n, ast.Return) for n in _own_nodes([statement])):
            return False
    return False


def _block_of(body: list[ast.stmt], node: ast.stmt) -> list[ast.stmt] | None:
    """The statement list of the function's own code that holds `node` (nested functions and
    classes left out)."""
    pending = [body]
    while pending:
        block = pending.pop()
        for statement in block:
            if statement is node:
                return block
            if isinstance(statement, _SCOPES):
                continue
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(statement, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    pending.append(inner)
            for part in getattr(statement, "handlers", ()) or getattr(statement, "cases", ()):
                pending.append(part.body)
    return None


def _names(targets: list[ast.expr]) -> Iterator[str]:
    """The names an assignment binds (`a`, and `a, b` of a tuple or list target)."""
    for target in targets:
        if isinstance(target, ast.Name):
            yield target.id
        elif isinstance(target, (ast.Tuple, ast.List)):
            yield from _names(target.elts)
        elif isinstance(target, ast.Starred):
            yield from _names([target.value])


def _within(line: int, ranges: list[tuple[int, int]]) -> bool:
    return any(first <= line <= last for first, last in ranges)


def _callee(node: ast.expr) -> ast.expr:
    """`x` of `x(...)`; the node itself otherwise."""
    return node.func if isinstance(node, ast.Call) else node


def _sends(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Attribute) and call.func.attr in SEND_METHODS


def _writes(call: ast.Call, method: str) -> bool:
    """A database write by its shape alone (analysis.writes decides with types in phase 2; here a
    call is a write only where no other reading is likely)."""
    if method in WRITE_METHODS:
        return True
    receiver = call.func.value  # type: ignore[attr-defined]
    if method in NO_POSITIONAL_WRITES:
        return not call.args and not any(
            k.arg == "commit" and isinstance(k.value, ast.Constant) and k.value.value is False
            for k in call.keywords) and isinstance(receiver, (ast.Name, ast.Attribute, ast.Call))
    if method in MANAGER_WRITES:
        text = chain(receiver)
        return ".objects" in text or "_set" in text or ".filter(" in text \
            or ".exclude(" in text
    return False

