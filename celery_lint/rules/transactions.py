"""Rules about tasks and database transactions: a task sent before its data is committed (CEL103)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import libcst as cst
from libcst.metadata import Scope, ScopeProvider

from celery_lint.analysis.calls import TaskCall, is_canvas
from celery_lint.analysis.flow import Calls, calls_in, exclusive
from celery_lint.analysis.summaries import (
    SUMMARY_NOTE,
    called_function,
    describe,
    function_name,
    location,
)
from celery_lint.analysis.values import (
    Binder,
    FunctionContext,
    dotted_name,
    source_of,
    string_value,
)
from celery_lint.analysis.writes import database_write
from celery_lint.codes import rule_for
from celery_lint.diagnostics import Applicability, Edit, Fix, Location
from celery_lint.facts.placement import import_rows
from celery_lint.facts.summaries import ATOMIC, SEND_METHODS
from celery_lint.facts.types import TaskDefinition
from celery_lint.index import HTTP_HANDLERS, ProjectIndex
from celery_lint.rules.base import Rule

NON_ATOMIC_REQUESTS = "django.db.transaction.non_atomic_requests"
METHOD_DECORATOR = "django.utils.decorators.method_decorator"
ENQUEUE_METHODS = frozenset({"delay", "apply_async", "send_task"})
ON_COMMIT_METHODS = (5, 4)  # the Celery that gives Django tasks `delay_on_commit()`
LINE_LENGTH = 88  # black's and ruff's: where a fix wraps the `on_commit(...)` it writes
DJANGO_TASK = "celery.contrib.django.task.DjangoTask"
# ModelAdmin methods Django calls after it wrote in its transaction (options.py: `save_model`
# before `save_related`, which calls `save_formset`, and the responses; `delete_model` before
# `response_delete`)
ADMIN_WRITTEN = {
    "save_related": "the admin saved the object (`save_model`)",
    "save_formset": "the admin saved the object (`save_model`)",
    "response_add": "the admin saved the object and its inlines (`save_model`, `save_related`)",
    "response_change": "the admin saved the object and its inlines (`save_model`, `save_related`)",
    "response_delete": "the admin deleted the object (`delete_model`)",
}


def atomic_requests(index: ProjectIndex) -> bool:
    """Whether every production settings module sets `ATOMIC_REQUESTS` on the default database."""
    configs = index.settings.configs
    if not configs:
        return False
    for config in configs:
        if not config.complete or config.django is None:
            return False
        entry = config.django.entries.get("DATABASES")
        databases = entry.value if entry is not None else None
        default = databases.get("default") if isinstance(databases, dict) else None
        if not isinstance(default, dict) or default.get("ATOMIC_REQUESTS") is not True:
            return False
    return True


@dataclass(frozen=True)
class Transaction:
    """Why a block's code runs in a transaction: the `atomic` call or decorator that opens it (None
    for a view under `ATOMIC_REQUESTS`), the code that runs in it, and the `with` statement or the
    reason in words."""

    atomic: cst.BaseExpression | None
    body: cst.BaseSuite
    block: cst.With | None = None  # its line is found only when a call is reported: positions cost
    reason: str = ""
    written: str = ""  # a write made in the transaction before its code runs (the admin's)
    wrapper: str = ""  # the project's own wrapper of `atomic` that opens it, by name
    summarized: bool = False  # found through function summaries (a view's `dispatch`)


class EnqueueInTransaction(Rule):
    info = rule_for("CEL103")

    def __init__(self, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(context)
        # why the code of a block runs in a transaction (None: it does not, or not yet)
        self.blocks: dict[cst.CSTNode, Transaction | None] = {}
        self.inside: list[Transaction | None] = [None]
        self.non_atomic_classes: list[bool] = []
        # per class entered: its HTTP handlers when `@method_decorator(atomic, name="dispatch")`
        # runs them in a transaction, with the decorator
        self.atomic_handlers: list[tuple[frozenset[cst.FunctionDef], cst.BaseExpression | None]] \
            = []
        self.statements: set[cst.Call] = set()  # calls in a transaction whose result is unused
        self.bodies: dict[cst.BaseSuite, Calls] = {}  # the calls of the transactions reported in

    @cached_property
    def atomic_requests(self) -> bool:
        return atomic_requests(self.context.index)

    # -- where a transaction is open -----------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.non_atomic_classes.append(any(
            self._decorates_with(d.decorator, NON_ATOMIC_REQUESTS) for d in node.decorators))

        self.atomic_handlers.append(self._atomic_dispatch(node))

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.non_atomic_classes.pop()
        self.atomic_handlers.pop()

    def _atomic_dispatch(self, node: cst.ClassDef
                         ) -> tuple[frozenset[cst.FunctionDef], cst.BaseExpression | None]:
        """The HTTP handlers (`get`, `post`, ...) of a view class decorated
        `@method_decorator(transaction.atomic, name="dispatch")` whose `dispatch` is Django's (no
        project class of its lineage defines one): Django's `dispatch` calls them in it."""
        for decorator in node.decorators:
            call = decorator.decorator
            atomic = self._decorator_match(call, ATOMIC)
            if atomic is None or not isinstance(call, cst.Call) or not any(
                    arg.keyword is not None and arg.keyword.value == "name"
                    and string_value(arg.value) == "dispatch" for arg in call.args):
                continue
            handlers = frozenset(statement for statement in node.body.body
                                 if isinstance(statement, cst.FunctionDef)
                                 and statement.name.value in HTTP_HANDLERS)
            function = self.binder.function_at(next(iter(handlers))) if handlers else None
            index = self.context.index
            qualname = function.class_qualname if function is not None else None
            if qualname is None or qualname not in index.view_classes \
                    or index.function(f"{qualname}.dispatch") is not None:
                break
            return handlers, atomic
        return frozenset(), None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        # a function's body runs when it is called, not where it is defined
        self.blocks[node.body] = self._function_transaction(node)

    def visit_With(self, node: cst.With) -> None:
        for item in node.items:
            if not isinstance(item.item, cst.Call):
                continue
            qualname = self._qualname(item.item.func)
            if qualname == ATOMIC:
                self.blocks[node.body] = Transaction(item.item, node.body, node)
                return
            if self.context.index.transaction_wrapper(qualname) in ("atomic", "with"):
                self.blocks[node.body] = Transaction(item.item, node.body, node,
                                                     wrapper=_short(item.item.func))
                return

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.inside.append(None)  # runs later: `transaction.on_commit(lambda: ...)`

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self.inside.pop()

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._enter(node)

    def leave_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._leave(node)

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        self._enter(node)

    def leave_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        self._leave(node)

    def _enter(self, node: cst.CSTNode) -> None:
        if node in self.blocks:
            self.inside.append(self.blocks[node])

    def _leave(self, node: cst.CSTNode) -> None:
        if node in self.blocks:
            self.inside.pop()

    def _function_transaction(self, node: cst.FunctionDef) -> Transaction | None:
        for decorator in node.decorators:
            atomic = self._decorator_match(decorator.decorator, ATOMIC)
            if atomic is not None:
                return Transaction(atomic, node.body, reason=f"in `@{_short(decorator.decorator)}` "
                                                             f"function `{node.name.value}`")
            wrapper = self._wrapper_decorator(decorator.decorator)
            if wrapper is not None:
                return Transaction(wrapper, node.body, reason=(
                    f"in `@{_short(decorator.decorator)}` function `{node.name.value}`"),
                    wrapper=_short(wrapper.func if isinstance(wrapper, cst.Call) else wrapper))
        function = self.binder.function_at(node)
        admin_view = self.context.index.admin_views.get(function.qualname or "") \
            if function is not None else None
        if function is not None and admin_view is not None:
            owner = (function.class_qualname or "").rpartition(".")[2]
            return Transaction(None, node.body, reason=(
                f"in `{owner}.{node.name.value}`, which the Django admin runs inside its own "
                f"transaction (its `{admin_view}` wraps it in `transaction.atomic`)"),
                written=ADMIN_WRITTEN.get(node.name.value, ""))
        handlers, decorator = self.atomic_handlers[-1] if self.atomic_handlers \
            else (frozenset(), None)
        if node in handlers:
            owner = (function.class_qualname or "").rpartition(".")[2] if function else ""
            return Transaction(decorator, node.body, reason=(
                f"in `{owner}.{node.name.value}`, which Django's `dispatch` runs inside "
                f"`transaction.atomic()` (the class is decorated with "
                f"`@method_decorator({_short(decorator)}, name=\"dispatch\")`)"))
        dispatched = self._dispatched(function, node)
        if dispatched is not None:
            return dispatched
        if function is None or not function.is_view or not self.atomic_requests:
            return None
        if any(self._decorates_with(d.decorator, NON_ATOMIC_REQUESTS) for d in node.decorators):
            return None
        if function.class_qualname is not None and self.non_atomic_classes \
                and self.non_atomic_classes[-1]:
            return None
        return Transaction(None, node.body, reason=f"in view `{node.name.value}`, which "
                                                   "`ATOMIC_REQUESTS` runs in a transaction")

    def _dispatched(self, function: FunctionContext | None,
                    node: cst.FunctionDef) -> Transaction | None:
        """A method of a view class whose `dispatch` runs it inside `transaction.atomic()`
        (index.ProjectIndex.dispatch_transactions)."""
        index = self.context.index
        if function is None or function.qualname not in index.dispatch_transactions:
            return None
        view, dispatch = index.dispatch_transactions[function.qualname]
        owner = (function.class_qualname or "").rpartition(".")[2]
        view_name = view.rpartition(".")[2]
        for_view = f" for view `{view_name}`" if view_name != owner else ""
        return Transaction(None, node.body, reason=(
            f"in `{owner}.{node.name.value}`, which `{function_name(dispatch)}()` "
            f"({location(index, dispatch, dispatch.line)}) runs inside `transaction.atomic()`"
            f"{for_view}"), summarized=True)

    def _decorates_with(self, decorator: cst.BaseExpression, qualname: str) -> bool:
        return self._decorator_match(decorator, qualname) is not None

    def _decorator_match(self, decorator: cst.BaseExpression,
                         qualname: str) -> cst.BaseExpression | None:
        """The `atomic` or `atomic(...)` of `@atomic`, `@atomic(using=...)`,
        `@method_decorator(atomic(...), ...)`, for `qualname`."""
        if self._qualname(decorator) == qualname:
            return decorator
        if not isinstance(decorator, cst.Call):
            return None
        if self._qualname(decorator.func) == qualname:
            return decorator
        if self._qualname(decorator.func) == METHOD_DECORATOR and decorator.args:
            return self._decorator_match(decorator.args[0].value, qualname)
        return None

    def _wrapper_decorator(self, decorator: cst.BaseExpression) -> cst.BaseExpression | None:
        """`@traced_atomic`, `@traced_atomic(...)`: a project decorator (or context manager, which
        decorates too) that runs the function inside `transaction.atomic`."""
        index = self.context.index
        if index.transaction_wrapper(self._qualname(decorator)) in ("atomic", "decorator"):
            return decorator
        if isinstance(decorator, cst.Call) and index.transaction_wrapper(
                self._qualname(decorator.func)) in ("atomic", "decorator", "with"):
            return decorator
        return None

    def _qualname(self, node: cst.BaseExpression) -> str | None:
        return self.binder.infer(node).qualname

    # -- the report ----------------------------------------------------------------------------
    def visit_Expr(self, node: cst.Expr) -> None:
        if self.inside[-1] is not None and isinstance(node.value, cst.Call):
            self.statements.add(node.value)

    def visit_Call(self, node: cst.Call) -> None:
        transaction = self.inside[-1]
        if transaction is None:
            return
        call = self.context.task_call(node)
        if call is None:
            self._called(node, transaction)
            return
        if call.method not in ENQUEUE_METHODS:
            return
        assert isinstance(node.func, cst.Attribute)
        receiver = node.func.value
        task = call.task or _signed_task(receiver, self.binder)
        overrides = ("apply_async", "delay") if call.method == "delay" else ("apply_async",)
        if task is not None and self.context.index.base_defines(task, *overrides):
            return  # a base class that overrides sending usually defers it to on_commit itself
        outermost = self._outermost()
        write = first_write(self._calls(outermost.body), node, self.binder)
        if write is None and not outermost.written:
            return  # nothing written yet: the task cannot miss what the transaction holds
        canvas = is_canvas(receiver, self.binder)
        written = self._written(write, outermost)
        self.report(node, f"{_label(call, receiver)} {self._where(transaction)}, after {written}: "
                          "a worker can run the task before the transaction commits, and not see "
                          f"that write yet (or ever, on rollback); "
                          f"{_advice(call, receiver, canvas)}{self._note(transaction)}",
                    fix=None if transaction.wrapper else self._fix(call, canvas, transaction))

    def _called(self, node: cst.Call, transaction: Transaction) -> None:
        """A call, in a transaction, of a project function that sends a task (itself, or a
        function it calls): reported on the call, with the chain."""
        function = called_function(node, self.binder)
        if function is None:
            return
        index = self.context.index
        for reached in index.reach(function.qualname, SEND_METHODS):
            task = reached.task
            assert task is not None
            if reached.atomic:
                continue  # in a transaction of its own function: reported there
            if not reached.use.keys:
                continue  # given no primary key, the task has no row to miss
            overrides = ("apply_async", "delay") if reached.use.method == "delay" \
                else ("apply_async",)
            if index.base_defines(task, *overrides):
                continue  # it may defer sending to on_commit itself
            outermost = self._outermost()
            write = first_write(self._calls(outermost.body), node, self.binder)
            if write is not None or outermost.written:
                written = self._written(write, outermost)
            elif reached.written:
                written = "a database write it makes first"
            else:
                continue
            self.report(node, f"{describe(reached, index)} {self._where(transaction)}, before "
                              f"this transaction commits, after {written}: a worker can run "
                              "the task before that write is committed, and not see it (or "
                              "ever, on rollback); send it from `transaction.on_commit(...)` "
                              f"({SUMMARY_NOTE}){self._note(transaction, summarized=False)}")
            return

    def _where(self, transaction: Transaction) -> str:
        if transaction.block is None:
            return transaction.reason
        line = self.context.range_of(transaction.block).start.line
        return f"inside the `{_short(transaction.atomic)}` block opened on line {line}"

    def _written(self, write: cst.Call | None, outermost: Transaction) -> str:
        if write is None:
            return outermost.written
        return f"`{_short(write)}` on line {self.context.range_of(write).start.line}"

    def _note(self, transaction: Transaction, summarized: bool = True) -> str:
        """Says that the transaction was found through the summary of a project wrapper or of a
        view's `dispatch` (the latter left to the message when it says so already)."""
        for open_ in reversed(self.inside):
            if open_ is None:
                break
            if open_.wrapper:
                return (f" (`{open_.wrapper}` enters `transaction.atomic()`: {SUMMARY_NOTE})")
        return f" ({SUMMARY_NOTE})" if transaction.summarized and summarized else ""

    def _calls(self, body: cst.BaseSuite) -> Calls:
        if body not in self.bodies:
            self.bodies[body] = calls_in(body)
        return self.bodies[body]

    def _outermost(self) -> Transaction:
        """The outermost transaction open in the current function: an inner `atomic()` is a
        savepoint, and what the outer one wrote before it is not committed either."""
        outermost = self.inside[-1]
        for transaction in reversed(self.inside):
            if transaction is None:
                break
            outermost = transaction
            if transaction.block is None:
                break  # a function's own transaction: nothing outside its body runs in it
        assert outermost is not None
        return outermost

    # -- the fix -------------------------------------------------------------------------------
    def _fix(self, call: TaskCall, canvas: bool, transaction: Transaction) -> Fix | None:
        """`task.delay_on_commit(...)` where the task has it, else `transaction.on_commit(...)`;
        only for a call whose result is unused, since both return None."""
        node = call.node
        if node not in self.statements:
            return None
        database = _database(transaction.atomic)
        if database is not None and not isinstance(database, cst.SimpleString):
            return None  # `using=` an expression: its value may not be at hand where the call is
        assert isinstance(node.func, cst.Attribute)
        if database is None and not canvas and call.task is not None \
                and call.method in ("delay", "apply_async") and self._has_on_commit(call.task):
            method = f"{call.method}_on_commit"
            return Fix(Applicability.UNSAFE, f"Use `{_short(node.func.value)}.{method}(...)`",
                       (self.context.insert_after(node.func.attr, "_on_commit"),))
        return self._on_commit_fix(node, database)

    def _has_on_commit(self, task: TaskDefinition) -> bool:
        """Whether the project's Celery is 5.4 or later and `task` is a `DjangoTask`: its class
        is the default one, or derives from `DjangoTask` or `app.Task` without overriding how
        tasks are sent."""
        index = self.context.index
        version = index.celery.lowest  # None when no dependency file states it
        if version is None or version < ON_COMMIT_METHODS:
            return False
        if "base" not in task.options:
            return True
        qualname = index.base_of(task)
        if qualname is None or index.base_defines(task, "apply_async", "delay"):
            return False
        project = list(index.ancestors(qualname))
        roots = {qualname} if not project else {
            index.resolve(b) for cls in project for b in cls.bases} - set(index.classes)
        apps = {f"{app.qualname}.Task" for app in index.apps}
        return bool(roots) and roots <= apps | {DJANGO_TASK}

    @cached_property
    def scopes(self) -> Mapping[cst.CSTNode, Scope | None]:
        return self.context.wrapper.resolve(ScopeProvider)

    def _on_commit_fix(self, node: cst.Call, database: cst.BaseExpression | None) -> Fix | None:
        """`transaction.on_commit(functools.partial(task.delay, args...))`, with the imports."""
        names = self._on_commit_names(node)
        if names is None:
            return None
        on_commit, partial, missing = names
        closing = f", using={source_of(database)})" if database is not None else ")"
        edits = self._call_edits(node, on_commit, partial, closing)
        imports = self._import_edits(node, missing)
        if edits is None or imports is None:
            return None
        shown = f"{on_commit}({partial}(...))" if partial else f"{on_commit}(...)"
        return Fix(Applicability.UNSAFE, f"Send it from `{shown}`", (*edits, *imports))

    def _on_commit_names(self, node: cst.Call) -> tuple[str, str, list[str]] | None:
        """How the call's scope spells `transaction.on_commit` and `partial` (empty when the call
        has no arguments to bind), and the imports they need; None when a name is taken."""
        scope = self.scopes.get(node)
        if scope is None:
            return None
        imports = self.context.facts.imports
        missing = []
        transaction = _name_for(scope, imports, "transaction", "django.db.transaction")
        if transaction is None:
            return None
        if not transaction:
            transaction = "transaction"
            missing.append("from django.db import transaction")
        if not node.args:
            return f"{transaction}.on_commit", "", missing
        partial = _name_for(scope, imports, "partial", "functools.partial")
        if partial:
            return f"{transaction}.on_commit", partial, missing
        functools = _name_for(scope, imports, "functools", "functools")
        if functools is None:
            return None
        if not functools:
            functools = "functools"
            missing.insert(0, "import functools")
        return f"{transaction}.on_commit", f"{functools}.partial", missing

    def _call_edits(self, node: cst.Call, on_commit: str, partial: str,
                    closing: str) -> list[Edit] | None:
        """`on_commit(partial(f, a))` from `f(a)`, or `on_commit(f)` from `f()`: text before the
        call, its `(` turned into a comma, and `closing` after it, so comments inside stay."""
        if not isinstance(node.whitespace_after_func, cst.SimpleWhitespace):
            return None
        end = self.context.range_of(node.func).end
        paren = Location(end.line, end.column + 1 + len(node.whitespace_after_func.value))
        inner = f"{partial}(" if node.args else ""
        opening, closing = self._wrapped(node, f"{on_commit}(", inner, closing)
        if not node.args:
            if not isinstance(node.whitespace_before_args, cst.SimpleWhitespace):
                return None  # a comment between the parentheses
            stop = self.context.range_of(node).end
            return [self.context.insert_before(node, opening),
                    Edit(closing, paren, Location(stop.line, stop.column + 1))]
        spaced = isinstance(node.whitespace_before_args, cst.SimpleWhitespace) \
            and not node.whitespace_before_args.value
        return [self.context.insert_before(node, opening),
                Edit(", " if spaced else ",", paren, Location(paren.row, paren.column + 1)),
                self.context.insert_after(node, closing)]

    def _wrapped(self, node: cst.Call, outer: str, inner: str, closing: str) -> tuple[str, str]:
        """The text before and after the call: `on_commit(partial(` and `)` on its line, or, when
        that makes a line within LINE_LENGTH longer than it, the call on a line of its own inside
        `on_commit(` as black and ruff's formatter write it. A line already longer is left long:
        the project does not keep to that length."""
        where = self.context.range_of(node)
        line = self.context.source.line(where.start.line)
        indent = line[:where.start.column]
        if where.start.line != where.end.line or indent.strip() or "\t" in indent \
                or len(line) > LINE_LENGTH:
            return outer + inner, closing
        # what the call's own text becomes: its "(" turned into ", " (with arguments), or its
        # "()" replaced by `closing` (without)
        grown = 1 + len(closing) if inner else len(closing) - 2
        if len(line) + len(outer + inner) + grown <= LINE_LENGTH:
            return outer + inner, closing
        call = where.end.column - where.start.column
        if len(indent) + 4 + len(inner) + call + grown - 1 > LINE_LENGTH:
            return outer + inner, closing  # more lines than one: the formatter's work
        return f"{outer}\n{indent}    {inner}", f"{closing[:-1]}\n{indent})"

    def _import_edits(self, node: cst.Call, missing: list[str]) -> list[Edit] | None:
        """`missing` imports where isort would put them (facts.placement), `transaction` added to
        a `from django.db import ...` there is; None when there is nowhere to put them."""
        if not missing:
            return []
        edits = []
        joined = _django_db_import(self.context.module)
        if joined is not None and missing[-1] == "from django.db import transaction":
            missing = missing[:-1]
            edits.append(self.context.insert_after(joined, ", transaction"))
        if not missing:
            return edits
        rows = import_rows(self.context.source.text, missing, self.context.index.top_packages)
        if rows is None:
            return None
        if self.binder.function_at(node) is None and \
                max(row for row, _ in rows) > self.context.range_of(node).start.line:
            return None  # code that runs on import, above the imports it would need
        return edits + [Edit(text, Location(row, 1), Location(row, 1)) for row, text in rows]


def first_write(calls: Calls, target: cst.Call, binder: Binder) -> cst.Call | None:
    """The first database write that runs before `target` (earlier in the source, or in its own
    arguments, evaluated before it is sent), and not in a branch that excludes `target`'s. A write
    later in a loop body also runs before the next pass's `target`, but it writes the previous
    item, which the next task does not read: not counted."""
    if target not in calls.order:
        return None
    path = calls.order[target][1]
    for call, (_, where) in calls.order.items():  # in source order
        if calls.before(call, target) and not exclusive(where, path) \
                and database_write(call, binder):
            return call
    return None


def _database(atomic: cst.BaseExpression | None) -> cst.BaseExpression | None:
    """The database of `atomic("db")` or `atomic(using="db")`; None for the default one."""
    if not isinstance(atomic, cst.Call):
        return None
    for arg in atomic.args:
        if arg.keyword is not None and arg.keyword.value == "using" \
                or arg.keyword is None and not arg.star and arg is atomic.args[0]:
            value = arg.value
            return None if isinstance(value, cst.Name) and value.value == "None" else value
    return None


def _name_for(scope: Scope, imports: dict[str, str], name: str, qualname: str) -> str | None:
    """The name that holds `qualname` where `scope` is: `name` or a module-level alias of it;
    "" when `name` is free (it can be imported), None when it holds something else."""
    for candidate in (name, *(local for local, target in imports.items() if target == qualname)):
        if {q.name for q in scope.get_qualified_names_for(candidate)} == {qualname}:
            return candidate
    return None if scope.get_qualified_names_for(name) else ""


def _django_db_import(module: cst.Module) -> cst.CSTNode | None:
    """The last name of a module-level `from django.db import a, b`, which `transaction` can join."""
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.ImportFrom) and not small.relative and small.module \
                    and dotted_name(small.module) == "django.db" \
                    and not isinstance(small.names, cst.ImportStar):
                last = small.names[-1]
                return last.asname if last.asname is not None else last.name
    return None


def _signed_task(receiver: cst.BaseExpression, binder: Binder) -> TaskDefinition | None:
    """The task of `task.s(...)`, `task.si(...)` or `task.signature(...)`."""
    if isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Attribute) \
            and receiver.func.attr.value in ("s", "si", "signature", "subtask"):
        return binder.task_of(receiver.func.value)
    return None


def _label(call: TaskCall, receiver: cst.BaseExpression) -> str:
    if call.task is not None:
        return call.label
    return f"`{_short(receiver)}.{call.method}()`"


def _advice(call: TaskCall, receiver: cst.BaseExpression, canvas: bool) -> str:
    text = _short(receiver)
    sent = f"{text}.{call.method}"
    later = f"`transaction.on_commit(partial({sent}, ...))`" if call.node.args \
        else f"`transaction.on_commit({sent})`"
    if call.method == "send_task" or canvas:
        return f"send it from {later}"
    return f"use `{sent}_on_commit(...)` (Celery ≥ 5.4) or {later}"


def _short(node: cst.BaseExpression) -> str:
    """The source of `node` when it fits in a message, else its callee with `(...)`."""
    text = source_of(node)
    if len(text) <= 40 and "\n" not in text:
        return text
    if isinstance(node, cst.Call):
        return f"{_short(node.func)}(...)"
    if isinstance(node, cst.Attribute):
        return f"{_short(node.value)}.{node.attr.value}"
    return "(...)"
