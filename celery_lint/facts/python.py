"""Phase 1 for Python files: read facts with the standard library's `ast` (fast, no formatting)."""

from __future__ import annotations

import ast
import bisect
import dataclasses
from functools import cached_property
from pathlib import Path
from typing import Any

from celery_lint.facts.effects import HANDLER_TYPES, SCOPES, Behaviour, Scanner, new_scanner
from celery_lint.facts.evaluate import apply_op, dotted, evaluate, is_literal, source_text
from celery_lint.facts.types import (
    CeleryApp,
    ClassFact,
    DynamicNames,
    FileFacts,
    FunctionFact,
    NameImport,
    Param,
    SettingAssignment,
    SettingsBranch,
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

SCANNED = HANDLER_TYPES
SCOPE_TYPES = frozenset(SCOPES)
QUEUE_CALLS = frozenset({"task", "shared_task", "apply_async", "set", "signature", "send_task",
                         "s", "si", "options"})
DYNAMIC_NAME_CALLS = frozenset({"globals", "exec", "vars", "locals"})
MUTATING_METHODS = frozenset({"append", "extend", "insert", "update"})
AUGMENTED = {ast.Add: "+", ast.Sub: "-", ast.BitOr: "|", ast.Mult: "*"}
# Sentry turns its Celery integration on by itself when celery is installed
MONITORING_CALLS = {"sentry_sdk.init": "sentry", "raven.contrib.celery.register_signal": "sentry",
                    "rollbar.init": "rollbar", "bugsnag.configure": "bugsnag"}
CONSTRUCTOR_SETTINGS = {"broker": "broker_url", "backend": "result_backend"}
DELETE_SIGNALS = {"django.db.models.signals.pre_delete": "pre_delete",
                  "django.db.models.signals.post_delete": "post_delete"}
RECEIVER_DECORATORS = frozenset({"django.dispatch.receiver", "django.dispatch.dispatcher.receiver"})


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
                                  Scanner]] = []
        self.settings_values: dict[str, Value] = {}
        self.built: dict[str, str] = {}  # module-level name -> the callee that built it
        self.django_settings_module: str | None = None
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
            elif kind is ast.Attribute or kind is ast.Name:
                self._monitoring_name(node)  # type: ignore[arg-type]
            elif kind in SCOPE_TYPES and id(node) not in self._scoped:
                self._add_scope(node, None)  # a nested function or lambda: runs later
        self._function_facts()

    def _block(self, body: list[ast.stmt]) -> list[SettingsOp]:
        ops: list[SettingsOp] = []
        for node in body:
            self._statement(node, ops)
        return ops

    def _statement(self, node: ast.stmt, ops: list[SettingsOp]) -> None:
        if isinstance(node, (ast.Expr, ast.Assign, ast.AnnAssign, ast.AugAssign)):
            dynamic = _dynamic_names(node)
            if dynamic is not None:
                ops.append(DynamicNames(node.lineno, dynamic))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self._function(node)
        elif isinstance(node, ast.ClassDef):
            self._class(node)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            self._assignment(node, ops)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            self._mutation(node.value, ops)
        elif isinstance(node, ast.If):
            ops.append(SettingsBranch(source_text(node.test), node.lineno,
                                      tuple(self._block(node.body)),
                                      tuple(self._block(node.orelse))))
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            try_node: Any = node
            ops.append(SettingsBranch(None, node.lineno,
                                      tuple(self._block(try_node.body + try_node.orelse))))
            for handler in try_node.handlers:
                ops.append(SettingsBranch(None, handler.lineno, tuple(self._block(handler.body))))
            ops += self._block(try_node.finalbody)
        elif isinstance(node, ast.With):
            ops += self._block(node.body)
        elif isinstance(node, ast.ImportFrom):
            base = resolve_relative(self.module, self.is_package, node.level, node.module)
            if base:
                for alias in node.names:
                    ops.append(StarImport(base, node.lineno) if alias.name == "*"
                               else NameImport(base, alias.name, alias.asname or alias.name))

    def _assignment(self, node: ast.Assign | ast.AnnAssign | ast.AugAssign,
                    ops: list[SettingsOp]) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if node.value is None:
            return
        for target in targets:
            if isinstance(target, ast.Name):
                self.built[target.id] = (self.qualify(node.value.func) or "") \
                    if isinstance(node.value, ast.Call) else ""
        if isinstance(node.value, ast.Call) and self.qualify(node.value.func) in CELERY_CLASS:
            for target in targets:
                if isinstance(target, ast.Name):
                    self._celery_app(target.id, node.value)
            return
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

    def _celery_app(self, variable: str, call: ast.Call) -> None:
        conf = tuple(SettingAssignment(CONSTRUCTOR_SETTINGS[k.arg],
                                       evaluate(k.value, self.settings_values, self.qualify),
                                       k.value.lineno, self._column(k.value))
                     for k in call.keywords if k.arg in CONSTRUCTOR_SETTINGS)
        task_cls = next((self._class_name(k.value) for k in call.keywords
                         if k.arg == "task_cls"), None)
        self.apps[variable] = CeleryApp(f"{self.module}.{variable}", call.lineno, conf=conf,
                                        task_cls=task_cls)

    def _class_name(self, node: ast.expr) -> str:
        """A class as Celery takes it: an object, or a string `"module:Class"`; "" when it
        cannot be read."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value.replace(":", ".")
        return self.qualify(node) or ""

    def _conf_attribute(self, target: ast.Attribute, value: ast.expr) -> None:
        # app.conf.task_time_limit = 60
        owner = target.value
        if isinstance(owner, ast.Attribute) and owner.attr == "conf":
            app = dotted(owner.value)
            if app in self.apps:
                self._add_conf(app, [SettingAssignment(
                    target.attr, evaluate(value, self.settings_values, self.qualify), target.lineno,
                    self._column(target))])

    def _add_conf(self, app: str, entries: list[SettingAssignment]) -> None:
        current = self.apps[app]
        self.apps[app] = dataclasses.replace(current, conf=current.conf + tuple(entries))

    def _call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            owner = dotted(func.value)
            if func.attr == "setdefault" and owner in ("os.environ", "environ"):
                self._setdefault(node)
            elif func.attr in APP_METHODS and owner is not None and "." not in owner \
                    and owner not in self.imports and owner in self.module_names:
                # an app made by a factory (`app = make_celery()`) is known by how it is used
                self.apps.setdefault(owner, CeleryApp(f"{self.module}.{owner}", node.lineno,
                                                      factory=self.built.get(owner, "")))
                if func.attr == "config_from_object":
                    self._config_from_object(owner, node)
            elif func.attr == "update" and isinstance(func.value, ast.Attribute) \
                    and func.value.attr == "conf" and dotted(func.value.value) in self.apps:
                self._conf_update(dotted(func.value.value) or "", node)
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
        """`task_failure.connect` (call or decorator) and Sentry's `CeleryIntegration`; reads of
        `settings.NAME` and `app.conf.NAME`."""
        if isinstance(node, ast.Attribute):
            if node.attr.isupper() and isinstance(node.value, ast.Name) \
                    and node.value.id.endswith("settings"):
                self.setting_reads.add(node.attr)
            if isinstance(node.ctx, ast.Load) and isinstance(node.value, ast.Attribute) \
                    and node.value.attr == "conf":
                self.conf_reads.add(node.attr)
            if node.attr == "connect" and (self.qualify(node.value) or "").endswith("task_failure"):
                self.monitoring.add(("task_failure", node.lineno))
            elif node.attr == "CeleryIntegration":
                self.monitoring.add(("sentry", node.lineno))
        elif node.id == "CeleryIntegration":
            self.monitoring.add(("sentry", node.lineno))

    def _setdefault(self, node: ast.Call) -> None:
        if len(node.args) >= 2 and isinstance(node.args[0], ast.Constant) \
                and node.args[0].value == "DJANGO_SETTINGS_MODULE" \
                and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str):
            self.django_settings_module = node.args[1].value

    def _config_from_object(self, app: str, node: ast.Call) -> None:
        given = [k.value for k in node.keywords if k.arg == "obj"]
        if not node.args and not given:
            return
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
        current = self.apps[app]
        self.apps[app] = dataclasses.replace(
            current, config_objects=current.config_objects + ((obj, namespace),))

    def _conf_update(self, app: str, node: ast.Call) -> None:
        entries = [SettingAssignment(k.arg, evaluate(k.value, self.settings_values, self.qualify),
                                     k.value.lineno, self._column(k.value))
                   for k in node.keywords if k.arg]
        for arg in node.args:
            if isinstance(arg, ast.Dict):
                for key, value in zip(arg.keys, arg.values):
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        entries.append(SettingAssignment(key.value, evaluate(value, self.settings_values, self.qualify),
                                                         key.lineno, self._column(key)))
        self._add_conf(app, entries)

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
        self._defined.append((node, qualname, params, decorators, is_task, scanner))

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
        for node, qualname, params, decorators, is_task, scanner in self._defined:
            behaviour: Behaviour | None = scanner.behaviour()
            if not is_task:
                # only a task's calls are followed (one call deep); what a function the task
                # calls records can be what the task checks first (a method is not followed)
                records = (behaviour.writes or behaviour.creates or behaviour.setters) and \
                    qualname.count(".") == self.module.count(".") + 1
                behaviour = dataclasses.replace(behaviour, calls=()) \
                    if behaviour.effects or records else None
            keyword = "async def " if isinstance(node, ast.AsyncFunctionDef) else "def "
            name_column = self._column(node) + len(keyword)
            self.functions.append(FunctionFact(
                qualname, params[0].name if params else None, decorators, node.lineno,
                self._column(node), name_column + len(node.name), behaviour))

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
            is_candidate = kind not in {a.qualname for a in self.apps.values()}
            if kind in ("celery.current_app", "celery.app.current_app"):
                is_candidate = False
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
        task = TaskDefinition(self.module, node.name, self.path, node.lineno, kind, explicit_name,
                              options, params, wrappers)
        (self.candidate_tasks if is_candidate else self.tasks).append(task)
        return task

    def _class(self, node: ast.ClassDef) -> None:
        bases = tuple(self.qualify(b) or source_text(b) for b in node.bases)
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
        self.classes.append(ClassFact(f"{self.module}.{node.name}", bases, tuple(managers),
                                      methods, node.lineno, attributes))

    def facts(self) -> FileFacts:
        return FileFacts(
            path=self.path, module=self.module, is_package=self.is_package, imports=self.imports,
            tasks=tuple(self.tasks), candidate_tasks=tuple(self.candidate_tasks),
            apps=tuple(self.apps.values()), classes=tuple(self.classes),
            functions=tuple(self.functions), routed=tuple(self.routed),
            settings_ops=tuple(self.settings_ops),
            django_settings_module=self.django_settings_module,
            monitoring=tuple(sorted(self.monitoring)),
            queues=tuple(self.queues),
            delete_receivers=tuple(sorted(self.delete_receivers)),
            setting_reads=tuple(sorted(self.setting_reads)),
            conf_reads=tuple(sorted(self.conf_reads)),
            statement_lines=tuple(node.lineno for node in self.tree.body),
        )


def _dynamic_names(node: ast.stmt) -> str | None:
    """`globals` when a module-level statement calls globals(), exec(), vars() or locals()."""
    for child in ast.walk(node):
        if isinstance(child, ast.Call) and isinstance(child.func, ast.Name) \
                and child.func.id in DYNAMIC_NAME_CALLS:
            return child.func.id
    return None


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
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        row = exc.lineno or 1
        column = exc.offset or 1
        return FileFacts(str(path), module, is_package,
                         syntax_error=(exc.msg or "invalid syntax", row, max(column, 1)))
    except (ValueError, RecursionError, MemoryError) as exc:
        message = "too deeply nested to parse" if isinstance(exc, (RecursionError, MemoryError)) \
            else str(exc) or type(exc).__name__
        return FileFacts(str(path), module, is_package, syntax_error=(message, 1, 1))
    reader = _Reader(path, tree, text)
    try:
        reader.read()
    except RecursionError:
        return FileFacts(str(path), module, is_package)
    return reader.facts()
