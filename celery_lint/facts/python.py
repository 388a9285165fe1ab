"""Phase 1 for Python files: read facts with the standard library's `ast` (fast, no formatting)."""

from __future__ import annotations

import ast
import bisect
import copy
import dataclasses
import sys
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from celery_lint.facts import placement, task_uses
from celery_lint.facts.effects import HANDLER_TYPES, SCOPES, Behaviour, Scanner, new_scanner
from celery_lint.facts.evaluate import apply_op, dotted, evaluate, is_literal, source_text
from celery_lint.facts.summaries import ATOMIC, Collector
from celery_lint.facts.syntax import is_template, parse_python
from celery_lint.facts.types import (
    CeleryApp,
    ClassFact,
    ClassSettingsLoad,
    FileFacts,
    FunctionFact,
    NameImport,
    Param,
    RuntimeWrite,
    SettingAssignment,
    SettingsBranch,
    SettingsClass,
    SettingsOp,
    StarImport,
    TaskDefinition,
    Unknown,
    Value,
)
from celery_lint.modules import module_name, resolve_relative
from celery_lint.source import split_lines

SHARED_TASK = {"celery.shared_task", "celery.app.shared_task", "celery.app.base.shared_task"}
CELERY_CLASS = {"celery.Celery", "celery.app.Celery", "celery.app.base.Celery"}
URL_FUNCTIONS = {"path", "re_path", "url"}
APP_METHODS = {"config_from_object", "autodiscover_tasks"}
MANAGER_SUFFIXES = ("Manager",)

# `try` statements only for function summaries (a broad handler that swallows: CEL206)
TRY_TYPES = frozenset({ast.Try, *([ast.TryStar] if hasattr(ast, "TryStar") else [])})
SCANNED = HANDLER_TYPES | TRY_TYPES
COLLECTED = frozenset({ast.Call, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.If,
                       ast.ExceptHandler, ast.With, ast.AsyncWith, *TRY_TYPES})
SCOPE_TYPES = frozenset(SCOPES)
QUEUE_CALLS = frozenset({"task", "shared_task", "apply_async", "set", "signature", "send_task",
                         "s", "si", "options"})
# at module level each of these is the module's own names
NAMESPACE_CALLS = frozenset({"globals", "vars", "locals"})
# calls handed `globals()` that only read it
READING_CALLS = frozenset({"dict", "list", "sorted", "len", "print", "repr", "iter", "set",
                           "tuple", "any", "all", "id", "isinstance", "type", "str", "copy",
                           "deepcopy"})
IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
PROPERTY_DECORATORS = frozenset({"property", "cached_property"})
_MAX_UNROLLED = 64  # items of a loop over a known sequence that are read one by one
MUTATING_METHODS = frozenset({"append", "extend", "insert", "update"})
# what `app.conf.x` reads when it is not a setting: the configuration's own methods
CONF_METHODS = frozenset({"get", "update", "setdefault", "find_option", "find_value_for_key",
                          "get_by_parts", "humanize", "table", "changes", "copy", "keys",
                          "values", "items", "pop", "first", "add_defaults", "finalize",
                          "without_defaults", "value_set_for", "maybe_warn_deprecated_settings"})
AUGMENTED = {ast.Add: "+", ast.Sub: "-", ast.BitOr: "|", ast.Mult: "*"}
# Sentry turns its Celery integration on by itself when celery is installed
MONITORING_CALLS = {"sentry_sdk.init": "sentry", "raven.contrib.celery.register_signal": "sentry",
                    "rollbar.init": "rollbar", "bugsnag.configure": "bugsnag"}
CONSTRUCTOR_SETTINGS = {"broker": "broker_url", "backend": "result_backend"}
DELETE_SIGNALS = {"django.db.models.signals.pre_delete": "pre_delete",
                  "django.db.models.signals.post_delete": "post_delete"}
RECEIVER_DECORATORS = frozenset({"django.dispatch.receiver", "django.dispatch.dispatcher.receiver"})
# makers of module-level objects that are never a Celery app: not worth a candidate
NOT_APP_MAKERS = frozenset(sys.stdlib_module_names) | {"django"}
ADMIN_ACTIONS = "actions"  # the ModelAdmin attribute that lists admin actions
APP_WORDS = ("Celery", "config_from_object", "autodiscover_tasks")


class _Reader:
    def __init__(self, path: Path, tree: ast.Module, text: str = "") -> None:
        self.path = str(path)
        self.text = text
        self.ascii = text.isascii()
        self._lines: list[str] | None = None
        self.module, self.is_package = module_name(path)
        self.tree = tree
        self.imports: dict[str, str] = {}
        self.apps: dict[str, CeleryApp] = {}
        self.tasks: list[TaskDefinition] = []
        self.candidate_tasks: list[TaskDefinition] = []
        self.classes: list[ClassFact] = []
        self.functions: list[FunctionFact] = []
        self.routed: list[str] = []
        self.settings_ops: list[SettingsOp] = []
        self.monitoring: set[tuple[str, int]] = set()
        self.queues: list[tuple[str, int, int, str]] = []
        self.setting_reads: set[str] = set()
        self.delete_receivers: set[tuple[str, str]] = set()
        self.conf_reads: set[str] = set()
        self._scopes: list[tuple[tuple[int, int], tuple[int, int], int, Scanner | None]] = []
        self._scoped: set[int] = set()
        self._defined: list[tuple[Any, str, tuple[Param, ...], tuple[str, ...], bool,
                                  Scanner, Collector]] = []
        self._collectors: dict[Scanner, Collector] = {}
        self._file_imports: dict[str, str] = {}  # every import of the file, in functions too
        self.settings_values: dict[str, Value] = {}
        self.built: dict[str, str] = {}  # module-level name -> the callee that built it
        self.django_settings_module: str | None = None
        self.django_configuration: str | None = None
        self._optional_imports = 0  # depth of blocks whose failed imports are caught
        # `name = make(...)` whose maker only the index can judge, until the module uses the
        # name as an app (apps are local names for `qualify`; these are not)
        self.candidates: dict[str, CeleryApp] = {}
        # module-level functions that build and return a Celery app, and classes, by name
        self.factories: dict[str, CeleryApp] = {}
        self.local_classes: dict[str, ClassFact] = {}
        # top-level functions by where they are: a local `app` in a factory is not the
        # module's `app`
        self._top_functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
        # only a file that says one of these can build a Celery app in a function
        self._may_build_apps = any(word in text for word in APP_WORDS)
        self.module_names = {
            target.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name)
        }
        self.local_definitions = {
            node.name for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        }

    def _column(self, node: ast.AST) -> int:
        """The 1-based column of `node` in characters (ast counts UTF-8 bytes)."""
        offset: int = node.col_offset  # type: ignore[attr-defined]
        if self.ascii:
            return offset + 1
        if self._lines is None:
            self._lines = split_lines(self.text)
        row: int = node.lineno  # type: ignore[attr-defined]
        line = self._lines[row - 1] if 0 < row <= len(self._lines) else ""
        return len(line.encode("utf-8", "surrogatepass")[:offset].decode("utf-8", "replace")) + 1

    # -- names ---------------------------------------------------------------------------
    def qualify(self, node: ast.AST) -> str | None:
        name = dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        if head in self.imports:
            base = self.imports[head]
        elif head in self.apps or head in self.local_definitions:
            base = f"{self.module}.{head}"
        else:
            base = head
        return f"{base}.{rest}" if rest else base

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.imports[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    self.imports[head] = head
            return
        base = resolve_relative(self.module, self.is_package, node.level, node.module)
        for alias in node.names:
            if alias.name != "*":
                self.imports[alias.asname or alias.name] = \
                    f"{base}.{alias.name}" if base else alias.name

    # -- walk ----------------------------------------------------------------------------
    def read(self) -> None:
        for node in self.tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                self._import(node)
        self.settings_ops = self._block(self.tree.body)
        for node in ast.walk(self.tree):
            kind = type(node)
            if kind in SCANNED:
                if kind is ast.Call:
                    self._call(node)  # type: ignore[arg-type]
                if self._scopes:
                    scanner = self._scanner_of(node)
                    if scanner is not None:
                        scanner.handle(node)
                        if kind in COLLECTED:
                            self._collectors[scanner].handle(node)
            elif kind is ast.Attribute or kind is ast.Name:
                self._monitoring_name(node)  # type: ignore[arg-type]
            elif kind is ast.Import or kind is ast.ImportFrom:
                self._file_imports.update(self._import_names(node))  # type: ignore[arg-type]
            elif kind in SCOPE_TYPES and id(node) not in self._scoped:
                self._add_scope(node, None)  # a nested function or lambda: runs later
        self._function_facts()

    def _block(self, body: list[ast.stmt]) -> list[SettingsOp]:
        ops: list[SettingsOp] = []
        for node in body:
            self._statement(node, ops)
        return ops

    def _statement(self, node: ast.stmt, ops: list[SettingsOp]) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self._function(node)
        elif isinstance(node, ast.ClassDef):
            self._class(node)
            settings_class = self._settings_class(node)
            if settings_class is not None:
                ops.append(settings_class)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr)):
            if self._names_write(node, ops, ()):
                return
            if isinstance(node, ast.Expr):
                if isinstance(node.value, ast.Call):
                    self._mutation(node.value, ops)
            else:
                self._assignment(node, ops)
        elif isinstance(node, ast.If):
            ops.append(SettingsBranch(source_text(node.test), node.lineno,
                                      tuple(self._block(node.body)),
                                      tuple(self._block(node.orelse))))
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            try_node: Any = node
            optional = any(_catches_import_error(h.type) for h in try_node.handlers)
            body = self._guarded_block(try_node.body, optional) + self._block(try_node.orelse)
            ops.append(SettingsBranch(None, node.lineno, tuple(body)))
            for handler in try_node.handlers:
                ops.append(SettingsBranch(None, handler.lineno, tuple(self._block(handler.body))))
            ops += self._block(try_node.finalbody)
        elif isinstance(node, ast.With):
            optional = any(self._suppresses_import_error(item.context_expr)
                           for item in node.items)
            ops += self._guarded_block(node.body, optional)
        elif isinstance(node, ast.For):
            self._loop(node, ops)
        elif isinstance(node, ast.ImportFrom):
            base = resolve_relative(self.module, self.is_package, node.level, node.module)
            if base:
                for alias in node.names:
                    ops.append(StarImport(base, node.lineno, self._optional_imports > 0)
                               if alias.name == "*"
                               else NameImport(base, alias.name, alias.asname or alias.name))

    def _guarded_block(self, body: list[ast.stmt], optional: bool) -> list[SettingsOp]:
        """A block whose imports may fail without stopping the module, when `optional`."""
        self._optional_imports += optional
        try:
            return self._block(body)
        finally:
            self._optional_imports -= optional

    def _suppresses_import_error(self, context: ast.expr) -> bool:
        """`contextlib.suppress(ImportError)` (or ModuleNotFoundError, Exception)."""
        if not isinstance(context, ast.Call):
            return False
        callee = self.qualify(context.func) or ""
        return callee.rsplit(".", 1)[-1] == "suppress" and any(
            _catches_import_error(argument) for argument in context.args)

    # -- writes to the module's names: globals(), vars(), exec(), settings classes -------------
    def _names_write(self, node: ast.Assign | ast.AnnAssign | ast.AugAssign | ast.Expr,
                     ops: list[SettingsOp], guards: tuple[ast.expr, ...]) -> bool:
        """Record a write to the module's names that is not a plain assignment; True when the
        statement is nothing else. `guards` are the tests that hold where it runs (in a loop)."""
        if isinstance(node, ast.Assign) and any(_namespace_item(t) for t in node.targets):
            for target in node.targets:
                if isinstance(target, ast.Subscript) and _is_namespace(target.value):
                    self._keyed_write(target.slice, node.value, target, ops, guards)
            return True
        call = node.value if isinstance(node, ast.Expr) else None
        if isinstance(call, ast.Call):
            if self._namespace_method(call, ops, guards) or self._class_load(call, ops):
                return True
            func = call.func
            if isinstance(func, ast.Name) and func.id == "setattr" and len(call.args) == 3 \
                    and _is_this_module(call.args[0]):
                self._keyed_write(call.args[1], call.args[2], call.args[1], ops, guards)
                return True
        if node.value is not None:
            self._hooks(node.value, ops)
        return False

    def _keyed_write(self, key: ast.expr, value: ast.expr, at: ast.expr, ops: list[SettingsOp],
                     guards: tuple[ast.expr, ...]) -> None:
        """`globals()[key] = value`: an assignment when the key is known."""
        name = evaluate(key, self.settings_values, self.qualify)
        if isinstance(name, str) and name.isidentifier():
            ops.append(self._record(name, value, at, "="))
            return
        items = f"{{{source_text(key)}: {source_text(value)}}}"
        ops.append(RuntimeWrite(at.lineno, f"`{source_text(at)}` with a key known only at run "
                                f"time{_where(guards)}", self._prefixes(key, guards), items))

    def _namespace_method(self, call: ast.Call, ops: list[SettingsOp],
                          guards: tuple[ast.expr, ...]) -> bool:
        """`globals().update({...})`, `globals().update(NAME=...)`, `vars().setdefault(...)`."""
        func = call.func
        if not (isinstance(func, ast.Attribute) and _is_namespace(func.value)):
            return False
        if func.attr in ("get", "keys", "items", "values", "copy", "__getitem__", "__contains__"):
            return True  # a read
        if func.attr == "update" and len(call.args) <= 1:
            written: list[tuple[ast.expr, ast.expr]] = [
                (ast.copy_location(ast.Constant(k.arg), k.value), k.value)
                for k in call.keywords if k.arg]
            argument = call.args[0] if call.args else None
            if isinstance(argument, ast.Dict) and None not in argument.keys:
                written += [(k, v) for k, v in zip(argument.keys, argument.values)
                            if k is not None]
                argument = None
            for key, value in written:
                self._keyed_write(key, value, key, ops, guards)
            how = f"`{source_text(call)}`{_where(guards)}"
            if any(k.arg is None for k in call.keywords):
                ops.append(RuntimeWrite(call.lineno, how))
            elif argument is not None:
                key_node, inner = _comprehension_key(argument)
                prefixes = self._prefixes(key_node, guards + inner) if key_node is not None \
                    else ("",)
                ops.append(RuntimeWrite(call.lineno, how, prefixes, source_text(argument)))
            return True
        if func.attr in ("__setitem__", "setdefault") and len(call.args) == 2:
            if func.attr == "__setitem__":
                self._keyed_write(call.args[0], call.args[1], call.args[0], ops, guards)
            else:  # sets the name only when it is not set yet
                ops.append(RuntimeWrite(call.lineno, f"`{source_text(call)}`{_where(guards)}",
                                        self._prefixes(call.args[0], guards)))
            return True
        ops.append(RuntimeWrite(call.lineno, f"`{source_text(call)}`{_where(guards)}"))
        return True

    def _class_load(self, call: ast.Call, ops: list[SettingsOp]) -> bool:
        """`Production.load_settings(__name__)`, `Production().install(globals())`."""
        func = call.func
        if not isinstance(func, ast.Attribute) or not any(
                _is_this_module(a) or _is_namespace(a) for a in call.args):
            return False
        owner = func.value.func if isinstance(func.value, ast.Call) else func.value
        name = dotted(owner)
        if name is None or not name.rsplit(".", 1)[-1][:1].isupper():
            return False
        ops.append(ClassSettingsLoad(name, call.lineno, source_text(call)))
        return True

    def _hooks(self, value: ast.expr, ops: list[SettingsOp]) -> None:
        """`exec(code)` and a call handed `globals()`: they may set any name."""
        for child in ast.walk(value):
            if not isinstance(child, ast.Call):
                continue
            callee = dotted(child.func) or ""
            arguments = [*child.args, *(k.value for k in child.keywords)]
            if callee == "exec":
                scope = arguments[1] if len(arguments) > 1 else None
                if scope is None or _is_namespace(scope):
                    ops.append(RuntimeWrite(child.lineno, "`exec()` of code read at run time"))
            elif callee not in READING_CALLS and any(_is_namespace(a) for a in arguments):
                ops.append(RuntimeWrite(child.lineno, f"`{callee or 'a call'}(...)`, handed "
                                        "`globals()`"))

    def _loop(self, node: ast.For, ops: list[SettingsOp]) -> None:
        """A module-level loop: read item by item over a known sequence; otherwise only the
        writes through `globals()` it makes are recorded, with the names they can reach."""
        items = self._known_items(node.iter)
        targets = [node.target] if isinstance(node.target, ast.Name) else \
            node.target.elts if isinstance(node.target, ast.Tuple) else []
        simple = not any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                        ast.Break, ast.Continue, ast.For, ast.While))
                         for statement in node.body for n in ast.walk(statement))
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if items is not None and simple and targets and len(names) == len(targets) \
                and not node.orelse:
            for item in items:
                values = (item,) if len(names) == 1 else item
                if not isinstance(values, tuple) or len(values) != len(names):
                    break
                for target, value in zip(targets, values):
                    self.settings_values[target.id] = value  # type: ignore[attr-defined]
                    ops.append(SettingAssignment(target.id, value, target.lineno,  # type: ignore[attr-defined]
                                                 self._column(target)))
                ops += self._block(node.body)
            return
        for statement, guards in _guarded_statements(node.body, (node.iter,)):
            if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr)):
                self._names_write(statement, ops, guards)

    def _known_items(self, iterable: ast.expr) -> tuple[Value, ...] | None:
        """The items a loop over `iterable` takes, when known: a tuple, a dict's keys,
        `.items()`, `.keys()`, `.values()` of a known dict."""
        method = None
        if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Attribute) \
                and iterable.func.attr in ("items", "keys", "values") and not iterable.args:
            method, iterable = iterable.func.attr, iterable.func.value
        value = evaluate(iterable, self.settings_values, self.qualify)
        if isinstance(value, dict):
            found: tuple[Value, ...] = tuple(value.items()) if method == "items" else \
                tuple(value.values()) if method == "values" else tuple(value)
        elif isinstance(value, tuple) and method is None:
            found = value
        else:
            return None
        return found if len(found) <= _MAX_UNROLLED else None

    def _prefixes(self, key: ast.expr, guards: tuple[ast.expr, ...]) -> tuple[str, ...]:
        """How the names a key written at run time can start ("" for any name)."""
        known = evaluate(key, self.settings_values, self.qualify)
        if isinstance(known, str):
            return (known,)
        if isinstance(key, ast.Name):
            for guard in guards:
                found = _startswith(guard, key.id)
                if found:
                    return found
            return ("",)
        if isinstance(key, ast.Call) and isinstance(key.func, ast.Attribute) \
                and key.func.attr in ("upper", "lower") and not key.args:
            inner = self._prefixes(key.func.value, guards)
            return tuple(getattr(p, key.func.attr)() for p in inner)
        cut = _cut(key, self.settings_values, self.qualify)
        if cut is not None:  # `name[8:]`, `name.removeprefix("DJANGO_")` of a known prefix
            inner_key, drop = cut
            inner = self._prefixes(inner_key, guards)
            if all(isinstance(drop, int) and len(p) >= drop or isinstance(drop, str)
                   and p.startswith(drop) for p in inner):
                return tuple(p[drop:] if isinstance(drop, int) else p.removeprefix(drop)
                             for p in inner)
            return ("",)
        start = key.left if isinstance(key, ast.BinOp) and isinstance(key.op, ast.Add) else \
            key.values[0] if isinstance(key, ast.JoinedStr) and key.values else None
        if start is not None:
            text = evaluate(start, self.settings_values, self.qualify)
            if isinstance(text, str):
                return (text,)
        return ("",)

    def _settings_class(self, node: ast.ClassDef) -> SettingsClass | None:
        """A class with upper-case attributes, with its attributes and simple properties."""
        if not any(name.isupper() for name in _class_member_names(node)):
            return None  # most classes of a project (models, views, forms): not worth evaluating
        body: list[SettingAssignment] = []
        scope: dict[str, Value] = {}
        names = _Scope(scope, self.settings_values)
        for statement in node.body:
            if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
                targets = statement.targets if isinstance(statement, ast.Assign) \
                    else [statement.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        value = evaluate(statement.value, names, self.qualify, target.id)
                        scope[target.id] = value
                        # a value named after the attribute (`values.IntegerValue(60)`, `env()`)
                        # is kept as read here: evaluated again, it would not know its name
                        implicit = value != evaluate(statement.value, names, self.qualify)
                        source = None if implicit or is_literal(statement.value) else \
                            source_text(statement.value)
                        body.append(SettingAssignment(target.id, value, target.lineno,
                                                      self._column(target), source))
            elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                returned = _simple_property(statement)
                if returned is not None:
                    column = self._column(statement) + len("def ")
                    if isinstance(statement, ast.AsyncFunctionDef):
                        column += len("async ")
                    body.append(SettingAssignment(statement.name, Unknown(returned),
                                                  statement.lineno, column, returned, "property"))
        if not any(a.name.isupper() for a in body):
            return None
        bases = tuple(dotted(b) or source_text(b) for b in node.bases)
        return SettingsClass(node.name, node.lineno, bases, tuple(body))

    def _assignment(self, node: ast.Assign | ast.AnnAssign | ast.AugAssign,
                    ops: list[SettingsOp]) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if node.value is None:
            return
        for target in targets:
            if isinstance(target, ast.Name):
                self.built[target.id] = (self.qualify(node.value.func) or "") \
                    if isinstance(node.value, ast.Call) else ""
        if isinstance(node, ast.Assign) and len(targets) == 1 and isinstance(targets[0], ast.Name) \
                and isinstance(node.value, (ast.Name, ast.Attribute)):
            self._task_alias(targets[0].id, node.value)
        if isinstance(node.value, ast.Call) and not isinstance(node, ast.AugAssign):
            made = self._made_app(node.value)
            names = [t.id for t in targets if isinstance(t, ast.Name) and not t.id.isupper()]
            if made is not None and names:
                for name in names:
                    self._celery_app(name, node.value, *made)
                if made[0]:
                    return  # a Celery app for sure: no setting
        for target in targets:
            if isinstance(target, ast.Name):
                ops.append(self._setting(target, node))
            elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) \
                    and not isinstance(node, ast.AugAssign):
                key = evaluate(target.slice, self.settings_values, self.qualify)
                ops.append(self._record(target.value.id, node.value, target, "item", key))
            elif isinstance(target, ast.Attribute):
                self._conf_attribute(target, node.value)
            elif isinstance(target, (ast.Tuple, ast.List)):
                for element in target.elts:
                    if isinstance(element, ast.Name):
                        self.settings_values[element.id] = Unknown(source_text(node.value))
                        ops.append(SettingAssignment(element.id, Unknown(source_text(node.value)),
                                                     element.lineno, self._column(element)))

    def _setting(self, target: ast.Name, node: ast.Assign | ast.AnnAssign | ast.AugAssign
                 ) -> SettingAssignment:
        assert node.value is not None
        if isinstance(node, ast.AugAssign):
            op = AUGMENTED.get(type(node.op))
            if op is None:
                unknown = Unknown(source_text(node))
                self.settings_values[target.id] = unknown
                return SettingAssignment(target.id, unknown, target.lineno, self._column(target))
            return self._record(target.id, node.value, target, op)
        return self._record(target.id, node.value, target, "=")

    def _record(self, name: str, value_node: ast.expr, at: ast.expr, op: str,
                key: Value = None) -> SettingAssignment:
        value = evaluate(value_node, self.settings_values, self.qualify)
        self.settings_values[name] = apply_op(self.settings_values.get(name), op, value, key)
        source = None if is_literal(value_node) else source_text(value_node)
        return SettingAssignment(name, value, at.lineno, self._column(at), source, op, key)

    def _mutation(self, call: ast.Call, ops: list[SettingsOp]) -> None:
        """`INSTALLED_APPS.append("x")`, `CELERY_BEAT_SCHEDULE.update({...})` at module level."""
        func = call.func
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                and func.attr in MUTATING_METHODS):
            return
        name = func.value.id
        if func.attr == "update" and call.keywords and not call.args:
            value_node: ast.expr = ast.Dict(
                keys=[ast.Constant(k.arg) for k in call.keywords],
                values=[k.value for k in call.keywords])
            ast.copy_location(value_node, call)
        elif func.attr == "insert" and len(call.args) == 2:
            key = evaluate(call.args[0], self.settings_values, self.qualify)
            ops.append(self._record(name, call.args[1], func.value, "insert", key))
            return
        elif len(call.args) == 1 and not call.keywords:
            value_node = call.args[0]
        else:
            return
        ops.append(self._record(name, value_node, func.value, func.attr))

    def _task_alias(self, name: str, value: ast.Name | ast.Attribute) -> None:
        """`project_task = shared_task` (or `= app.task`): the name holds the task decorator, as
        if it were imported under that name."""
        qualified = self.qualify(value)
        if qualified is not None and _is_task_alias(qualified) \
                and (qualified in SHARED_TASK or qualified.endswith(".task")):
            self.imports[name] = qualified

    def _made_app(self, call: ast.Call) -> tuple[str, str | None, CeleryApp | None] | None:
        """How `name = call` makes a Celery app: (how, maker, factory); `how` is "" when only the
        index can tell (a class or function of another module): the name is a candidate. None
        when the call makes no app."""
        maker = self.qualify(call.func)
        if maker is None:
            return None
        if maker in CELERY_CLASS:
            return "direct", None, None
        module, _, name = maker.rpartition(".")
        if module == self.module and name in self.factories:
            factory = self.factories[name]
            return ("factory" if factory.how else ""), maker, factory
        if module == self.module and name in self.local_classes:
            return ("subclass" if self._is_celery_class(name) else ""), maker, None
        local = (dotted(call.func) or "").split(".")[0]
        if module == self.module or local not in self.imports \
                or maker.split(".")[0] in NOT_APP_MAKERS:
            return None  # a local function that builds no app, or not the project's code
        return "", maker, None

    def _is_celery_class(self, name: str, depth: int = 0) -> bool:
        """Whether the class `name` of this module derives from Celery (as far as this module
        tells: a base imported from elsewhere is the index's question)."""
        cls = self.local_classes.get(name)
        if cls is None or depth > 8:
            return False
        for base in cls.bases:
            if base in CELERY_CLASS:
                return True
            module, _, local = base.rpartition(".")
            if module == self.module and self._is_celery_class(local, depth + 1):
                return True
        return False

    def _celery_app(self, variable: str, call: ast.Call, how: str = "direct",
                    maker: str | None = None, factory: CeleryApp | None = None) -> None:
        app = CeleryApp(f"{self.module}.{variable}", call.lineno,
                        conf=self._constructor_conf(call), task_cls=self._task_cls(call),
                        how=how, maker=maker, factory=factory)
        self.apps.pop(variable, None)
        self.candidates.pop(variable, None)
        (self.apps if how else self.candidates)[variable] = app

    def _task_cls(self, call: ast.Call) -> str | None:
        """`Celery(task_cls=...)`: the class of the app's tasks."""
        return next((self._class_name(k.value) for k in call.keywords if k.arg == "task_cls"),
                    None)

    def _app_table(self, name: str | None) -> dict[str, CeleryApp] | None:
        """The table that holds the app or candidate `name`, if any does."""
        return self.apps if name in self.apps else \
            self.candidates if name in self.candidates else None

    def _constructor_conf(self, call: ast.Call) -> tuple[SettingAssignment, ...]:
        """`Celery(broker=..., backend=...)`: settings given to the constructor."""
        return tuple(SettingAssignment(CONSTRUCTOR_SETTINGS[k.arg],
                                       evaluate(k.value, self.settings_values, self.qualify),
                                       k.value.lineno, self._column(k.value))
                     for k in call.keywords if k.arg in CONSTRUCTOR_SETTINGS)

    def _class_name(self, node: ast.expr) -> str:
        """A class as Celery takes it: an object, or a string `"module:Class"`; "" when it
        cannot be read."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value.replace(":", ".")
        return self.qualify(node) or ""

    def _conf_attribute(self, target: ast.Attribute, value: ast.expr) -> None:
        # app.conf.task_time_limit = 60
        app = _conf_owner(target)
        if app is not None and self._app_table(app) is not None:
            self._add_conf(app, [self._conf_entry(target, value)])

    def _conf_entry(self, target: ast.Attribute, value: ast.expr) -> SettingAssignment:
        return SettingAssignment(target.attr, evaluate(value, self.settings_values, self.qualify),
                                 target.lineno, self._column(target))

    def _add_conf(self, app: str, entries: list[SettingAssignment]) -> None:
        table = self._app_table(app)
        assert table is not None
        table[app] = dataclasses.replace(table[app], conf=table[app].conf + tuple(entries))

    def _is_settings(self, node: ast.expr) -> bool:
        """`settings`, `django_settings`, or any name bound to `django.conf.settings`."""
        return isinstance(node, ast.Name) and (
            node.id.endswith("settings") or self.imports.get(node.id) == "django.conf.settings")

    def _read_by_name(self, node: ast.Call) -> None:
        """`getattr(settings, "NAME", ...)`, `hasattr(settings, "NAME")`,
        `app.conf.get("name")`, `getattr(app.conf, "name")`."""
        func = node.func
        name = node.args[1] if len(node.args) >= 2 else None
        target = node.args[0] if node.args else None
        if isinstance(func, ast.Attribute) and func.attr == "get" \
                and isinstance(func.value, ast.Attribute) and func.value.attr == "conf":
            name, target = target, func.value
        if not isinstance(name, ast.Constant) or not isinstance(name.value, str):
            return
        if isinstance(func, ast.Name) and func.id in ("getattr", "hasattr") \
                and target is not None and self._is_settings(target):
            self.setting_reads.add(name.value)
        elif isinstance(target, ast.Attribute) and target.attr == "conf":
            self.conf_reads.add(name.value)

    def _call(self, node: ast.Call) -> None:
        func = node.func
        if node.args:
            self._read_by_name(node)
        if isinstance(func, ast.Attribute):
            owner = dotted(func.value)
            if func.attr == "setdefault" and owner in ("os.environ", "environ"):
                self._setdefault(node)
            elif func.attr in APP_METHODS and owner is not None and "." not in owner \
                    and owner not in self.imports and owner in self.module_names \
                    and not self._shadowed(owner, node):
                # an app whose maker is not in the project (`app = lib.make_celery()`) is
                # known by how it is used
                if owner in self.candidates:
                    self.apps[owner] = dataclasses.replace(self.candidates.pop(owner), how="used")
                elif owner not in self.apps:
                    self.apps[owner] = CeleryApp(f"{self.module}.{owner}", node.lineno,
                                                 how="used", maker=self.built.get(owner, ""))
                if func.attr == "config_from_object":
                    self._config_from_object(owner, node)
            elif func.attr == "update" and isinstance(func.value, ast.Attribute) \
                    and func.value.attr == "conf" \
                    and self._app_table(dotted(func.value.value)) is not None \
                    and not self._shadowed(dotted(func.value.value) or "", node):
                self._add_conf(dotted(func.value.value) or "", self._conf_entries(node))
            elif func.attr == "connect" and self.qualify(func.value) in DELETE_SIGNALS:
                self._connected(node, func.value)
        if node.keywords:
            self._queue(node)
        callee = self.qualify(func) or ""
        if callee in MONITORING_CALLS:
            self.monitoring.add((MONITORING_CALLS[callee], node.lineno))
        if callee.split(".")[-1] in URL_FUNCTIONS and len(node.args) >= 2 \
                and callee.startswith(("django.", "path", "re_path", "url")):
            target = self.qualify(node.args[1])
            if target:
                self.routed.append(target)

    def _connected(self, node: ast.Call, signal: ast.expr) -> None:
        """`post_delete.connect(on_order_deleted, sender=Order)`, also in an `AppConfig.ready()`
        that imports the receiver's module itself."""
        name = DELETE_SIGNALS[self.qualify(signal) or ""]
        given = node.args[:1] or [k.value for k in node.keywords if k.arg == "receiver"]
        for receiver in given:
            qualname = dotted(receiver)
            if qualname is None:
                continue
            head, _, rest = qualname.partition(".")
            if head not in self.imports and head in self._local_imports:
                qualname = self._local_imports[head] + (f".{rest}" if rest else "")
            else:
                qualname = self.qualify(receiver) or qualname
            self.delete_receivers.add((qualname, name))

    @cached_property
    def _local_imports(self) -> dict[str, str]:
        """The names imported anywhere in the file, inside functions too (`_connected` prefers
        the module's own imports)."""
        names: dict[str, str] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    names[alias.asname or alias.name.split(".")[0]] = \
                        alias.name if alias.asname else alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom):
                base = resolve_relative(self.module, self.is_package, node.level, node.module)
                for alias in node.names:
                    names[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
        return names

    def _queue(self, node: ast.Call) -> None:
        """`queue="x"` given to a task decorator, `apply_async`, `.set`, `signature`, `send_task`."""
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else \
            func.id if isinstance(func, ast.Name) else None
        if name not in QUEUE_CALLS:
            return
        for keyword in node.keywords:
            value = keyword.value
            if keyword.arg == "queue" and isinstance(value, ast.Constant) \
                    and isinstance(value.value, str):
                self.queues.append((value.value, value.lineno, self._column(value),
                                    f"`queue=` of `{dotted(func) or name}(...)`"))

    def _monitoring_name(self, node: ast.Attribute | ast.Name) -> None:
        """`task_failure.connect` (call or decorator) and Sentry's `CeleryIntegration`; and
        the settings the project reads itself: `settings.NAME`, `app.conf.name`."""
        if isinstance(node, ast.Attribute):
            if node.attr.isupper() and self._is_settings(node.value):
                self.setting_reads.add(node.attr)
            elif isinstance(node.value, ast.Attribute) and node.value.attr == "conf" \
                    and isinstance(node.ctx, ast.Load) and node.attr not in CONF_METHODS:
                self.conf_reads.add(node.attr)
            if node.attr == "connect" and (self.qualify(node.value) or "").endswith("task_failure"):
                self.monitoring.add(("task_failure", node.lineno))
            elif node.attr == "CeleryIntegration":
                self.monitoring.add(("sentry", node.lineno))
        elif node.id == "CeleryIntegration":
            self.monitoring.add(("sentry", node.lineno))

    def _setdefault(self, node: ast.Call) -> None:
        if len(node.args) >= 2 and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str):
            if node.args[0].value == "DJANGO_SETTINGS_MODULE":
                self.django_settings_module = node.args[1].value
            elif node.args[0].value == "DJANGO_CONFIGURATION":
                self.django_configuration = node.args[1].value

    def _shadowed(self, name: str, node: ast.AST) -> bool:
        """Whether `name` at `node` is a local variable of the function around it."""
        position = (node.lineno, node.col_offset)  # type: ignore[attr-defined]
        return any((f.lineno, f.col_offset) <= position
                   <= (f.end_lineno or f.lineno, f.end_col_offset or 0)
                   and name in _assigned_names(f) for f in self._top_functions)

    def _config_from_object(self, app: str, node: ast.Call) -> None:
        found = self._config_object(node)
        if found is not None:
            current = self.apps[app]
            self.apps[app] = dataclasses.replace(
                current, config_objects=current.config_objects + (found,))

    def _config_object(self, node: ast.Call) -> tuple[str, str | None] | None:
        """(object, namespace) of `app.config_from_object(object, namespace=...)`."""
        given = [k.value for k in node.keywords if k.arg == "obj"]
        if not node.args and not given:
            return None
        target = node.args[0] if node.args else given[0]
        if isinstance(target, ast.Constant) and isinstance(target.value, str):
            obj = target.value
        else:
            qualified = self.qualify(target)
            obj = "django.conf:settings" if qualified == "django.conf.settings" else (
                qualified or source_text(target))
        namespace = None
        for keyword in node.keywords:
            if keyword.arg == "namespace" and isinstance(keyword.value, ast.Constant):
                namespace = keyword.value.value if isinstance(keyword.value.value, str) else None
        return obj, namespace

    def _conf_entries(self, node: ast.Call) -> list[SettingAssignment]:
        """The settings `app.conf.update(...)` sets."""
        entries = [SettingAssignment(k.arg, evaluate(k.value, self.settings_values, self.qualify),
                                     k.value.lineno, self._column(k.value))
                   for k in node.keywords if k.arg]
        for arg in node.args:
            if isinstance(arg, ast.Dict):
                for key, value in zip(arg.keys, arg.values):
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        entries.append(SettingAssignment(key.value, evaluate(value, self.settings_values, self.qualify),
                                                         key.lineno, self._column(key)))
        return entries

    # -- definitions ---------------------------------------------------------------------
    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, owner: str = "") -> None:
        qualname = f"{self.module}.{owner}{node.name}"
        params = _params(node.args, self.qualify)
        decorators = tuple(filter(None, (self.qualify(_callee(d)) for d in node.decorator_list)))
        is_task = False
        if not owner:
            for decorator in node.decorator_list:
                if self._task(node, decorator, params) is not None:
                    is_task = True
                    break
        self._delete_receiver(qualname, node.decorator_list)
        scanner = new_scanner(node, self.qualify, follow_calls=is_task)
        scanner.all_atomic = any(d.rsplit(".", 1)[-1] == "atomic" for d in decorators)
        self._add_scope(node, scanner)
        collector = Collector(node, self.qualify, self._bound, self._file_imports, decorators,
                              f"{self.module}.{owner[:-1]}" if owner else None)
        self._collectors[scanner] = collector
        self._defined.append((node, qualname, params, decorators, is_task, scanner, collector))
        if not owner:
            self._top_functions.append(node)
            factory = self._factory(node, qualname) if self._may_build_apps else None
            if factory is not None:
                self.factories[node.name] = factory

    def _factory(self, node: ast.FunctionDef | ast.AsyncFunctionDef,
                 qualname: str) -> CeleryApp | None:
        """The Celery app a function builds and returns (`app = Celery(...); ...; return app`),
        with the configuration it gives it there; None when it returns no app."""
        built: dict[str, ast.Call] = {}
        returns: list[ast.expr] = []
        uses: list[ast.AST] = []
        for child in _own_nodes(node):
            if isinstance(child, ast.Assign) and isinstance(child.value, ast.Call) \
                    and len(child.targets) == 1 and isinstance(child.targets[0], ast.Name):
                built[child.targets[0].id] = child.value
            elif isinstance(child, ast.Return) and child.value is not None:
                returns.append(child.value)
            elif isinstance(child, (ast.Call, ast.Assign)):
                uses.append(child)
        for value in returns:
            variable = value.id if isinstance(value, ast.Name) and value.id in built else None
            call = built[variable] if variable else value
            if isinstance(call, ast.Call):
                return self._factory_app(qualname, call, variable, uses)
        return None

    def _factory_app(self, qualname: str, call: ast.Call, variable: str | None,
                     uses: list[ast.AST]) -> CeleryApp | None:
        """The app `call` makes in the factory `qualname`, configured by `uses` of `variable`."""
        made = self.qualify(call.func)
        if made is None:
            return None
        objects: list[tuple[str, str | None]] = []
        conf = list(self._constructor_conf(call))
        configured = False  # `config_from_object` or `autodiscover_tasks`: used as an app
        for use in uses:
            if isinstance(use, ast.Call) and isinstance(use.func, ast.Attribute):
                owner = use.func.value
                if isinstance(owner, ast.Name) and owner.id == variable \
                        and use.func.attr in APP_METHODS:
                    configured = True
                    found = self._config_object(use) if use.func.attr == "config_from_object" \
                        else None
                    objects += [found] if found else []
                elif use.func.attr == "update" and isinstance(owner, ast.Attribute) \
                        and owner.attr == "conf" and dotted(owner.value) == variable:
                    conf += self._conf_entries(use)
            elif isinstance(use, ast.Assign):
                for target in use.targets:
                    if isinstance(target, ast.Attribute) and _conf_owner(target) == variable:
                        conf.append(self._conf_entry(target, use.value))
        module, _, name = made.rpartition(".")
        local_class = module == self.module and name in self.local_classes
        if made in CELERY_CLASS:
            how, maker = "direct", None
        elif local_class and self._is_celery_class(name):
            how, maker = "subclass", made
        elif configured or local_class:
            # configured as an app, or a class of this module whose bases come from elsewhere
            # ("": the index tells)
            how, maker = ("used" if configured else ""), made
        else:
            return None
        return CeleryApp(qualname, call.lineno, tuple(objects), tuple(conf),
                         task_cls=self._task_cls(call), how=how, maker=maker)

    def _delete_receiver(self, qualname: str, decorators: list[ast.expr]) -> None:
        """`@receiver(post_delete, sender=Order)`, also with a list of signals."""
        for decorator in decorators:
            if not isinstance(decorator, ast.Call) \
                    or self.qualify(decorator.func) not in RECEIVER_DECORATORS:
                continue
            given = decorator.args[:1] or [k.value for k in decorator.keywords if k.arg == "signal"]
            for signal in given:
                for one in signal.elts if isinstance(signal, (ast.List, ast.Tuple)) else [signal]:
                    name = DELETE_SIGNALS.get(self.qualify(one) or "")
                    if name is not None:
                        self.delete_receivers.add((qualname, name))

    def _add_scope(self, node: ast.AST, scanner: Scanner | None) -> None:
        start = (node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = (node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        bisect.insort(self._scopes, (start, end, id(node), scanner), key=lambda e: e[0])
        self._scoped.add(id(node))

    def _scanner_of(self, node: ast.AST) -> Scanner | None:
        """The scanner of the innermost function around `node` (None: module level, or a
        nested function or lambda, which runs later)."""
        position = (node.lineno, node.col_offset)  # type: ignore[attr-defined]
        index = bisect.bisect_right(self._scopes, position, key=lambda e: e[0]) - 1
        while index >= 0:
            _, end, _, scanner = self._scopes[index]
            if position <= end:
                return scanner
            index -= 1
        return None

    def _function_facts(self) -> None:
        for node, qualname, params, decorators, is_task, scanner, collector in self._defined:
            # only a task's calls are followed (one call deep); what a function the task calls
            # records can be what the task checks first (a method is not followed)
            top = qualname.count(".") == self.module.count(".") + 1
            behaviour: Behaviour | None = None
            if is_task:
                behaviour = scanner.behaviour()
            elif scanner.may_have_effects() or (top and scanner.records()):
                behaviour = scanner.behaviour()
                records = behaviour.writes or behaviour.creates or behaviour.setters
                behaviour = dataclasses.replace(behaviour, calls=()) \
                    if behaviour.effects or (top and records) else None
            keyword = "async def " if isinstance(node, ast.AsyncFunctionDef) else "def "
            name_column = self._column(node) + len(keyword)
            summary = collector.summary()
            self.functions.append(FunctionFact(
                qualname, params[0].name if params else None, decorators, node.lineno,
                self._column(node), name_column + len(node.name), behaviour, summary))

    def _bound(self, name: str) -> bool:
        return name in self.imports or name in self.local_definitions

    def _import_names(self, node: ast.Import | ast.ImportFrom) -> dict[str, str]:
        """The names one import statement binds, qualified."""
        if isinstance(node, ast.Import):
            return {alias.asname or alias.name.split(".")[0]:
                    alias.name if alias.asname else alias.name.split(".")[0]
                    for alias in node.names}
        base = resolve_relative(self.module, self.is_package, node.level, node.module)
        return {alias.asname or alias.name: f"{base}.{alias.name}" if base else alias.name
                for alias in node.names if alias.name != "*"}

    def _atomic_aliases(self) -> tuple[str, ...]:
        """Module-level names bound to `transaction.atomic` (`db_transaction = atomic`)."""
        return tuple(
            f"{self.module}.{node.targets[0].id}" for node in self.tree.body
            if isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, (ast.Name, ast.Attribute))
            and self.qualify(node.value) == ATOMIC)

    def _task(self, node: ast.FunctionDef | ast.AsyncFunctionDef, decorator: ast.expr,
              params: tuple[Param, ...]) -> TaskDefinition | None:
        callee = _callee(decorator)
        qualified = self.qualify(callee)
        if qualified is None:
            return None
        is_candidate = False
        if qualified in SHARED_TASK:
            kind = "shared_task"
        elif qualified.endswith(".task") and isinstance(callee, ast.Attribute):
            kind = qualified[: -len(".task")]
            if kind in self.candidates:  # `app = make()` above: the index judges `make`
                kind = f"{self.module}.{kind}"
            is_candidate = kind not in {a.qualname for a in self.apps.values()}
            if kind in ("celery.current_app", "celery.app.current_app"):
                is_candidate = False
        elif _is_task_alias(qualified) and (dotted(callee) or "").split(".")[0] in self.imports:
            # `@project_task`: a task decorator if another module binds it to `shared_task` or
            # an app's `task` (the index tells)
            kind, is_candidate = qualified, True
        else:
            return None
        options: dict[str, Value] = {}
        explicit_name = None
        if isinstance(decorator, ast.Call):
            for keyword in decorator.keywords:
                if keyword.arg is None:
                    continue
                options[keyword.arg] = evaluate(keyword.value, self.settings_values, self.qualify)
            name = options.get("name")
            explicit_name = name if isinstance(name, str) else None
        below = node.decorator_list[node.decorator_list.index(decorator) + 1:]
        wrappers = tuple(self.qualify(_callee(d)) or source_text(d) for d in below)
        if self._lines is None:
            self._lines = split_lines(self.text)
        filled = params[1:] if options.get("bind") is True else params
        task = TaskDefinition(self.module, node.name, self.path, node.lineno, kind, explicit_name,
                              options, params, wrappers,
                              task_uses.param_uses(node, filled, self._lines, self._column))
        (self.candidate_tasks if is_candidate else self.tasks).append(task)
        return task

    def _class(self, node: ast.ClassDef) -> None:
        # `GenericAPIView[Export]`: the class derives from the subscripted one
        bases = tuple(self.qualify(b) or source_text(b) for b in
                      (b.value if isinstance(b, ast.Subscript) else b for b in node.bases))
        managers = []
        methods = tuple(s.name for s in node.body
                        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)))
        for statement in node.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._function(statement, owner=f"{node.name}.")
        for statement in node.body:
            if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call):
                callee = dotted(_callee(statement.value.func)) or ""
                if callee.endswith(MANAGER_SUFFIXES) or callee.endswith("as_manager") or \
                        "from_queryset" in callee:
                    managers += [t.id for t in statement.targets if isinstance(t, ast.Name)]
        if "on_failure" in methods and any(b.endswith("Task") for b in bases):
            self.monitoring.add(("on_failure", node.lineno))
        attributes = tuple(
            (target.id, evaluate(statement.value) if is_literal(statement.value)
             else Unknown(""))
            for statement in node.body if isinstance(statement, (ast.Assign, ast.AnnAssign))
            for target in (statement.targets if isinstance(statement, ast.Assign)
                           else [statement.target])
            if isinstance(target, ast.Name) and statement.value is not None)
        fact = ClassFact(f"{self.module}.{node.name}", bases, tuple(managers), methods,
                         node.lineno, attributes, self._actions(node))
        self.classes.append(fact)
        self.local_classes[node.name] = fact

    def _actions(self, node: ast.ClassDef) -> tuple[str, ...]:
        """`actions = [publish, "archive"]` in a class body (a ModelAdmin's actions): functions by
        qualified name, methods named by a string as `module.Class.name`."""
        found: list[str] = []
        for statement in node.body:
            if not (isinstance(statement, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == ADMIN_ACTIONS for t in statement.targets)):
                continue
            for child in ast.walk(statement.value):
                if not isinstance(child, (ast.List, ast.Tuple)):
                    continue
                for element in child.elts:
                    if isinstance(element, ast.Constant) and isinstance(element.value, str):
                        found.append(f"{self.module}.{node.name}.{element.value}")
                    elif isinstance(element, (ast.Name, ast.Attribute)):
                        qualified = self.qualify(element)
                        if qualified:
                            found.append(qualified)
        return tuple(found)

    def facts(self) -> FileFacts:
        return FileFacts(
            path=self.path, module=self.module, is_package=self.is_package, imports=self.imports,
            tasks=tuple(self.tasks), candidate_tasks=tuple(self.candidate_tasks),
            apps=tuple(self.apps.values()), app_candidates=tuple(self.candidates.values()),
            factories=tuple(self.factories.values()),
            defined=tuple(sorted(self.module_names | self.local_definitions)),
            classes=tuple(self.classes),
            functions=tuple(self.functions), routed=tuple(self.routed),
            settings_ops=tuple(self.settings_ops),
            django_settings_module=self.django_settings_module,
            django_configuration=self.django_configuration,
            monitoring=tuple(sorted(self.monitoring)),
            queues=tuple(self.queues),
            delete_receivers=tuple(sorted(self.delete_receivers)),
            setting_reads=tuple(sorted(self.setting_reads)),
            conf_reads=tuple(sorted(self.conf_reads)),
            statement_lines=tuple(node.lineno for node in self.tree.body),
            assignments=placement.assignments(self.tree, self.text),
            settings_limit=placement.settings_limit(self.tree, self.text),
            atomic_aliases=self._atomic_aliases(),
        )


def _is_namespace(node: ast.AST) -> bool:
    """`globals()`, `vars()`, `locals()` (the module's names, at module level), or
    `sys.modules[__name__].__dict__`."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id in NAMESPACE_CALLS and not node.args and not node.keywords:
        return True
    return isinstance(node, ast.Attribute) and node.attr == "__dict__" \
        and _is_this_module(node.value)


def _is_this_module(node: ast.AST) -> bool:
    """`__name__` or `sys.modules[__name__]`: the module itself, handed to a loader."""
    if isinstance(node, ast.Name):
        return node.id == "__name__"
    return isinstance(node, ast.Subscript) and dotted(node.value) == "sys.modules" \
        and isinstance(node.slice, ast.Name) and node.slice.id == "__name__"


def _namespace_item(target: ast.expr) -> bool:
    return isinstance(target, ast.Subscript) and _is_namespace(target.value)


def _catches_import_error(handler_type: ast.expr | None) -> bool:
    """Whether an `except` clause of this type catches a failed import (a bare one does)."""
    if handler_type is None:
        return True
    if isinstance(handler_type, ast.Tuple):
        return any(_catches_import_error(t) for t in handler_type.elts)
    return (dotted(handler_type) or "").rsplit(".", 1)[-1] in IMPORT_ERRORS


def _guarded_statements(body: list[ast.stmt], guards: tuple[ast.expr, ...]
                        ) -> Iterator[tuple[ast.stmt, tuple[ast.expr, ...]]]:
    """The statements of a loop body with the tests that hold where each runs: the `if` tests
    around it, and `X` of an earlier `if not X: continue`."""
    for statement in body:
        if isinstance(statement, ast.If):
            yield from _guarded_statements(statement.body, (*guards, statement.test))
            yield from _guarded_statements(statement.orelse, guards)
            test = statement.test
            if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) \
                    and any(isinstance(s, ast.Continue) for s in statement.body):
                guards = (*guards, test.operand)
        elif isinstance(statement, (ast.With, ast.Try)):
            yield from _guarded_statements(statement.body, guards)
        else:
            yield statement, guards


def _startswith(test: ast.expr, name: str) -> tuple[str, ...] | None:
    """The prefixes `name` has where `test` holds: `name.startswith("P")` (or a tuple of them),
    possibly among other conditions joined by `and`."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        for value in test.values:
            found = _startswith(value, name)
            if found:
                return found
        return None
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute) \
            and test.func.attr == "startswith" and isinstance(test.func.value, ast.Name) \
            and test.func.value.id == name and len(test.args) == 1:
        try:
            prefix = ast.literal_eval(test.args[0])
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None
        prefixes = prefix if isinstance(prefix, tuple) else (prefix,)
        if prefixes and all(isinstance(p, str) for p in prefixes):
            return prefixes
    return None


def _cut(key: ast.expr, names: Mapping[str, Value], qualify: Any
         ) -> tuple[ast.expr, int | str] | None:
    """`name[8:]` → (name, 8), `name[len("DJANGO_"):]` → (name, 7),
    `name.removeprefix("DJANGO_")` → (name, "DJANGO_"); None otherwise."""
    if isinstance(key, ast.Subscript) and isinstance(key.slice, ast.Slice) \
            and key.slice.upper is None and key.slice.step is None \
            and key.slice.lower is not None:
        lower = key.slice.lower
        if isinstance(lower, ast.Call) and isinstance(lower.func, ast.Name) \
                and lower.func.id == "len" and len(lower.args) == 1:
            text = evaluate(lower.args[0], names, qualify)
            start: Value = len(text) if isinstance(text, str) else None
        else:
            start = evaluate(lower, names, qualify)
        if isinstance(start, int) and not isinstance(start, bool) and start >= 0:
            return key.value, start
    if isinstance(key, ast.Call) and isinstance(key.func, ast.Attribute) \
            and key.func.attr == "removeprefix" and len(key.args) == 1:
        prefix = evaluate(key.args[0], names, qualify)
        if isinstance(prefix, str):
            return key.func.value, prefix
    return None


def _comprehension_key(node: ast.expr) -> tuple[ast.expr | None, tuple[ast.expr, ...]]:
    """The key of `{k: v for k, v in ... if test}` and its tests; (None, ()) otherwise."""
    if isinstance(node, ast.DictComp):
        return node.key, tuple(test for generator in node.generators for test in generator.ifs)
    return None, ()


def _where(guards: tuple[ast.expr, ...]) -> str:
    """For messages: the loop a write is in (its first guard is the loop's iterable)."""
    if not guards:
        return ""
    return f" in a loop over `{source_text(guards[0])}`"


def _class_member_names(node: ast.ClassDef) -> Iterator[str]:
    """The names a class body assigns (`X = ...`, `X: int = ...`) or defines as methods."""
    for statement in node.body:
        if isinstance(statement, ast.Assign):
            yield from (t.id for t in statement.targets if isinstance(t, ast.Name))
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            yield statement.target.id
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield statement.name


def _simple_property(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The returned expression of a simple settings property, `self.X` written `X`: a
    `@property` (or an upper-case method) whose body is one `return`."""
    decorators = [(dotted(d) or "").rsplit(".", 1)[-1] for d in node.decorator_list]
    if decorators and not set(decorators) <= PROPERTY_DECORATORS:
        return None
    if not decorators and not node.name.isupper():
        return None
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]  # a docstring
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        return None
    params = node.args.posonlyargs + node.args.args
    owner = params[0].arg if params else None
    return source_text(_DropOwner(owner).visit(copy.deepcopy(body[0].value)))


class _DropOwner(ast.NodeTransformer):
    """`self.X` becomes `X`, for evaluating a property with the class's names."""

    def __init__(self, owner: str | None) -> None:
        self.owner = owner

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if isinstance(node.value, ast.Name) and node.value.id == self.owner:
            return ast.copy_location(ast.Name(node.attr, ast.Load()), node)
        return self.generic_visit(node)


class _Scope(Mapping[str, Value]):
    """A class body's names: its own attributes first, then the module's."""

    def __init__(self, own: dict[str, Value], module: dict[str, Value]) -> None:
        self.own, self.module = own, module

    def __getitem__(self, name: str) -> Value:
        return self.own[name] if name in self.own else self.module[name]

    def __iter__(self) -> Iterator[str]:
        return iter({**self.module, **self.own})

    def __len__(self) -> int:
        return len(set(self.own) | set(self.module))


def _is_task_alias(qualified: str) -> bool:
    """Whether a decorator's name may be another name for a task decorator (`project_task`)."""
    return "task" in qualified.rpartition(".")[2].lower()


def _conf_owner(target: ast.Attribute) -> str | None:
    """`app` of `app.conf.name` (an assignment target), else None."""
    owner = target.value
    if isinstance(owner, ast.Attribute) and owner.attr == "conf":
        return dotted(owner.value)
    return None


def _own_nodes(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
    """The nodes of a function's body, without those of functions, classes and lambdas in it."""
    found: list[ast.AST] = []
    pending: list[ast.AST] = list(reversed(function.body))
    while pending:  # in source order
        node = pending.pop()
        found.append(node)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                 ast.Lambda)):
            pending += reversed(list(ast.iter_child_nodes(node)))
    return found


def _assigned_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> frozenset[str]:
    """The local variables a function assigns (not those it declares `global`)."""
    stored, declared = set(), set()
    for node in _own_nodes(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            stored.add(node.id)
        elif isinstance(node, ast.Global):
            declared.update(node.names)
    return frozenset(stored - declared)


def _callee(node: ast.expr) -> ast.expr:
    """`x` of `@x(...)` or `x()`; the node itself otherwise."""
    while isinstance(node, ast.Call):
        node = node.func
    return node


def _params(args: ast.arguments, qualify: Any) -> tuple[Param, ...]:
    def param(arg: ast.arg, kind: str, has_default: bool) -> Param:
        annotation = qualify(arg.annotation) if arg.annotation is not None else None
        if annotation is None and isinstance(arg.annotation, ast.Constant) \
                and isinstance(arg.annotation.value, str):
            annotation = arg.annotation.value
        return Param(arg.arg, kind, has_default, annotation)

    positional = list(args.posonlyargs) + list(args.args)
    first_default = len(positional) - len(args.defaults)
    result = [param(a, "positional_only" if i < len(args.posonlyargs) else "positional",
                    i >= first_default) for i, a in enumerate(positional)]
    if args.vararg:
        result.append(param(args.vararg, "var_positional", True))
    result += [param(a, "keyword_only", d is not None)
               for a, d in zip(args.kwonlyargs, args.kw_defaults)]
    if args.kwarg:
        result.append(param(args.kwarg, "var_keyword", True))
    return tuple(result)


def read_python_facts(path: Path, text: str) -> FileFacts:
    """Facts of one Python file; a file that does not parse yields only its syntax error."""
    module, is_package = module_name(path)
    try:
        tree = parse_python(text, str(path))
    except SyntaxError as exc:
        row = exc.lineno or 1
        column = exc.offset or 1
        return FileFacts(str(path), module, is_package,
                         syntax_error=(exc.msg or "invalid syntax", row, max(column, 1)),
                         template=is_template(path, text))
    except (ValueError, RecursionError, MemoryError) as exc:
        message = "too deeply nested to parse" if isinstance(exc, (RecursionError, MemoryError)) \
            else str(exc) or type(exc).__name__
        return FileFacts(str(path), module, is_package, syntax_error=(message, 1, 1))
    reader = _Reader(path, tree, text)
    try:
        reader.read()
        return reader.facts()
    except RecursionError:
        return FileFacts(str(path), module, is_package)
    finally:
        # The reader's scanners and summary collectors hold its bound methods: a reference cycle
        # that kept the file's whole tree alive until the garbage collector's next full pass,
        # which then had every such tree to traverse (a third of phase 1). Dropped here, the
        # tree goes as soon as the facts are read.
        reader.__dict__.clear()
