"""What a name or expression holds at a point of the code: a model instance, a QuerySet, a request…

The Binder walks a libcst module once, in statement order, and records for every name it reads
what that name was last bound to in its scope. Rules then ask `binder.infer(expression)`.
Bindings are flow-insensitive within a function (the last assignment before the read wins),
which is what a reader of the code would assume too.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import libcst as cst

from celery_lint.analysis.walk import children
from celery_lint.facts.types import FileFacts, TaskDefinition
from celery_lint.index import USER_MODEL, ProjectIndex
from celery_lint.modules import resolve_relative


class Kind(enum.Enum):
    UNKNOWN = "unknown"
    INSTANCE = "model instance"
    QUERYSET = "QuerySet"
    ROWS = "QuerySet of rows"
    MANAGER = "model manager"
    PAIR = "(instance, created) pair"
    MODEL_CLASS = "model class"
    REQUEST = "HttpRequest"
    ASYNC_RESULT = "AsyncResult"
    FORM = "form"
    SERIALIZER = "serializer"
    VIEW_SELF = "view"
    TASK_SELF = "bound task"
    TASK = "task"
    FUNCTION = "function"
    LAMBDA = "lambda"
    GENERATOR = "generator"
    SET = "set"
    FILE = "open file"
    MODULE = "module"
    CLASS = "class"
    SYMBOL = "imported name"


ORM_KINDS = frozenset({Kind.INSTANCE, Kind.QUERYSET, Kind.ROWS, Kind.MANAGER, Kind.REQUEST})

INSTANCE_METHODS = frozenset({
    "get", "create", "first", "last", "latest", "earliest", "in_bulk_one", "aget", "acreate",
    "afirst", "alast", "alatest", "aearliest",
})
PAIR_METHODS = frozenset({"get_or_create", "update_or_create", "aget_or_create",
                          "aupdate_or_create"})
QUERYSET_METHODS = frozenset({
    "all", "filter", "exclude", "order_by", "select_related", "prefetch_related", "annotate",
    "alias", "distinct", "using", "defer", "only", "select_for_update", "none", "reverse",
    "extra", "union", "intersection", "difference", "complex_filter", "get_queryset",
})
ROW_METHODS = frozenset({"values", "values_list"})  # QuerySets of dicts or tuples, not instances
QUERYSET_TYPES = frozenset({"django.db.models.QuerySet", "django.db.models.query.QuerySet"})
REQUEST_TYPES = frozenset({"django.http.HttpRequest", "django.http.request.HttpRequest",
                           "rest_framework.request.Request", "django.core.handlers.wsgi.WSGIRequest"})
GET_OBJECT_OR_404 = frozenset({"django.shortcuts.get_object_or_404"})
GET_USER_MODEL = frozenset({"django.contrib.auth.get_user_model"})
OPEN = frozenset({"open", "io.open", "builtins.open", "codecs.open"})
SET_TYPES = frozenset({"set", "frozenset", "builtins.set", "builtins.frozenset"})
RESULT_METHODS = frozenset({"delay", "apply_async"})


@dataclass(frozen=True)
class Value:
    kind: Kind
    origin: str = ""  # how it came to be, for messages: "Order.objects.get()"
    model: str | None = None  # the model class, when known
    qualname: str | None = None  # what an imported or defined name refers to
    # the call an AsyncResult comes from (`send_invoice.apply_async(...)`), with the task's
    # qualname above: how it was sent decides whether its result is stored
    sent_by: cst.Call | None = field(default=None, compare=False)

    @property
    def model_name(self) -> str:
        return self.model.rsplit(".", 1)[-1] if self.model else "model"

    @property
    def a_model(self) -> str:
        """"an `Order`", "a `User`": the model with its article."""
        name = self.model_name
        return f"{'an' if name[:1] in 'AEIO' else 'a'} `{name}`"


UNKNOWN = Value(Kind.UNKNOWN)


@dataclass
class FunctionContext:
    node: cst.FunctionDef
    qualname: str | None
    task: TaskDefinition | None
    is_view: bool
    class_qualname: str | None
    parent: FunctionContext | None


@dataclass
class _Scope:
    names: dict[str, Value] = field(default_factory=dict)
    parent: _Scope | None = None
    function: FunctionContext | None = None

    def lookup(self, name: str) -> Value | None:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        return None


def dotted_name(node: cst.BaseExpression) -> str | None:
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def source_of(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def string_value(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def body_of(node: cst.CSTNode) -> list[cst.CSTNode]:
    body = getattr(node, "body", None)
    if isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite)):
        return list(body.body)
    if isinstance(body, (list, tuple)):
        return list(body)
    return []


class Binder:
    """One walk over a module that records what each name read holds and where each call sits."""

    def __init__(self, module: cst.Module, facts: FileFacts, index: ProjectIndex) -> None:
        self.module = module
        self.facts = facts
        self.index = index
        self.names: dict[cst.Name, Value] = {}
        self.scope_of: dict[cst.CSTNode, FunctionContext | None] = {}
        self.functions: dict[cst.FunctionDef, FunctionContext] = {}
        self._module_scope = _Scope()
        self._class_stack: list[str] = []
        self._prebind(module.body, self._module_scope)
        self._statements(module.body, self._module_scope)

    # -- public ----------------------------------------------------------------------------
    def function_at(self, node: cst.CSTNode) -> FunctionContext | None:
        return self.scope_of.get(node)

    def infer(self, node: cst.BaseExpression) -> Value:
        try:
            return self._infer(node)
        except RecursionError:
            return UNKNOWN

    def task_of(self, node: cst.BaseExpression) -> TaskDefinition | None:
        value = self.infer(node)
        return self.index.task(value.qualname) if value.kind is Kind.TASK else None

    # -- binding ---------------------------------------------------------------------------
    def _symbol(self, qualname: str, is_module: bool = False) -> Value:
        resolved = self.index.resolve(qualname)
        if self.index.is_model(resolved):
            return Value(Kind.MODEL_CLASS, qualname.rsplit(".", 1)[-1], model=resolved,
                         qualname=resolved)
        if self.index.task(resolved) is not None:
            return Value(Kind.TASK, qualname=resolved)
        if is_module or self.index.is_module(resolved):
            return Value(Kind.MODULE, qualname=resolved)
        return Value(Kind.SYMBOL, qualname=resolved)

    def _bind_import(self, node: cst.Import | cst.ImportFrom, scope: _Scope) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = dotted_name(alias.name) or ""
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    scope.names[alias.asname.name.value] = self._symbol(full, is_module=True)
                else:
                    head = full.split(".")[0]
                    scope.names[head] = Value(Kind.MODULE, qualname=head)
            return
        target = dotted_name(node.module) if node.module is not None else None
        base = resolve_relative(self.facts.module, self.facts.is_package, len(node.relative), target)
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = dotted_name(alias.name) or ""
            local = alias.asname.name.value if alias.asname is not None and isinstance(
                alias.asname.name, cst.Name) else name
            scope.names[local] = self._symbol(f"{base}.{name}" if base else name)

    def _prebind(self, body: list[cst.CSTNode] | tuple, scope: _Scope) -> None:  # type: ignore[type-arg]
        """Module-level imports, functions and classes, which function bodies see in full."""
        for statement in body:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if isinstance(small, (cst.Import, cst.ImportFrom)):
                        self._bind_import(small, scope)
            elif isinstance(statement, cst.FunctionDef):
                scope.names[statement.name.value] = self._definition_value(statement.name.value)
            elif isinstance(statement, cst.ClassDef):
                scope.names[statement.name.value] = self._class_value(statement.name.value)
            elif isinstance(statement, (cst.If, cst.Try)):
                self._prebind(body_of(statement), scope)
                for handler in getattr(statement, "handlers", ()):
                    self._prebind(body_of(handler), scope)
                orelse = getattr(statement, "orelse", None)
                if orelse is not None:
                    self._prebind([orelse] if isinstance(orelse, cst.If) else body_of(orelse), scope)

    def _definition_value(self, name: str) -> Value:
        qualname = f"{self.facts.module}.{name}"
        if self.index.task(qualname) is not None:
            return Value(Kind.TASK, qualname=qualname)
        return Value(Kind.FUNCTION, origin=name, qualname=qualname)

    def _class_value(self, name: str) -> Value:
        qualname = f"{self.facts.module}.{name}"
        if self.index.is_model(qualname):
            return Value(Kind.MODEL_CLASS, name, model=qualname, qualname=qualname)
        return Value(Kind.CLASS, name, qualname=qualname)

    def _bind_target(self, target: cst.BaseExpression, value: Value, scope: _Scope) -> None:
        if isinstance(target, cst.Name):
            scope.names[target.value] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = [e.value for e in target.elements]
            for position, element in enumerate(elements):
                if value.kind is Kind.PAIR and position == 0:
                    item = Value(Kind.INSTANCE, value.origin + "[0]", model=value.model)
                else:
                    item = UNKNOWN
                self._bind_target(element, item, scope)
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value, UNKNOWN, scope)
        else:
            self._record(target, scope)

    # -- statements ------------------------------------------------------------------------
    def _statements(self, body, scope: _Scope) -> None:  # type: ignore[no-untyped-def]
        for statement in body:
            self._statement(statement, scope)

    def _statement(self, node: cst.CSTNode, scope: _Scope) -> None:
        if isinstance(node, cst.SimpleStatementLine):
            for small in node.body:
                self._small(small, scope)
        elif isinstance(node, cst.FunctionDef):
            self._function(node, scope)
        elif isinstance(node, cst.ClassDef):
            self._class(node, scope)
        elif isinstance(node, cst.If):
            self._record(node.test, scope)
            self._statements(body_of(node), scope)
            if node.orelse is not None:
                if isinstance(node.orelse, cst.If):
                    self._statement(node.orelse, scope)
                else:
                    self._statements(body_of(node.orelse), scope)
        elif isinstance(node, cst.For):
            self._record(node.iter, scope)
            self._bind_target(node.target, self._element_of(self.infer(node.iter)), scope)
            self._statements(body_of(node), scope)
            if node.orelse is not None:
                self._statements(body_of(node.orelse), scope)
        elif isinstance(node, cst.While):
            self._record(node.test, scope)
            self._statements(body_of(node), scope)
            if node.orelse is not None:
                self._statements(body_of(node.orelse), scope)
        elif isinstance(node, cst.With):
            for item in node.items:
                self._record(item.item, scope)
                if item.asname is not None:
                    self._bind_target(item.asname.name, self.infer(item.item), scope)
            self._statements(body_of(node), scope)
        elif isinstance(node, (cst.Try, cst.TryStar)):
            self._statements(body_of(node), scope)
            for handler in node.handlers:
                if handler.type is not None:
                    self._record(handler.type, scope)
                if handler.name is not None:
                    self._bind_target(handler.name.name, UNKNOWN, scope)
                self._statements(body_of(handler), scope)
            if node.orelse is not None:
                self._statements(body_of(node.orelse), scope)
            if node.finalbody is not None:
                self._statements(body_of(node.finalbody), scope)
        elif isinstance(node, cst.Match):
            self._record(node.subject, scope)
            for case in node.cases:
                self._record(case.pattern, scope)
                self._statements(body_of(case), scope)
        else:
            self._record(node, scope)

    def _small(self, node: cst.BaseSmallStatement, scope: _Scope) -> None:
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            self._bind_import(node, scope)
        elif isinstance(node, cst.Assign):
            self._record(node.value, scope)
            value = self.infer(node.value)
            for target in node.targets:
                self._bind_target(target.target, value, scope)
        elif isinstance(node, cst.AnnAssign):
            self._record(node.annotation.annotation, scope)
            if node.value is not None:
                self._record(node.value, scope)
                self._bind_target(node.target, self.infer(node.value), scope)
        elif isinstance(node, cst.AugAssign):
            self._record(node.value, scope)
            self._record(node.target, scope)
            self._bind_target(node.target, UNKNOWN, scope)
        else:
            self._record(node, scope)

    def _function(self, node: cst.FunctionDef, scope: _Scope) -> None:
        for decorator in node.decorators:
            self._record(decorator.decorator, scope)
        enclosing = scope.function
        top_level = scope is self._module_scope
        in_class = bool(self._class_stack) and not enclosing
        qualname = None
        if top_level:
            qualname = f"{self.facts.module}.{node.name.value}"
        elif in_class and scope.parent is self._module_scope:
            qualname = f"{self._class_stack[-1]}.{node.name.value}"
        task = self.index.task(qualname) if top_level and qualname else None
        class_qualname = self._class_stack[-1] if in_class else None
        is_view = (top_level and qualname in self.index.function_views) or (
            class_qualname is not None and class_qualname in self.index.view_classes) or (
            qualname is not None and qualname in self.index.admin_views)
        context = FunctionContext(node, qualname, task, bool(is_view), class_qualname, enclosing)
        self.functions[node] = context
        self.scope_of[node] = context
        if not top_level and not in_class:
            scope.names[node.name.value] = Value(Kind.FUNCTION, node.name.value)
        parent = scope.parent if in_class else scope  # methods do not see the class body
        inner = _Scope(parent=parent, function=context)
        self._bind_params(node, context, inner, scope)
        self._statements(body_of(node), inner)

    def _bind_params(self, node: cst.FunctionDef, context: FunctionContext, inner: _Scope,
                     outer: _Scope) -> None:
        params = node.params
        ordered = [*params.posonly_params, *params.params]
        star = [params.star_arg] if isinstance(params.star_arg, cst.Param) else []
        everything = [*ordered, *star, *params.kwonly_params,
                      *([params.star_kwarg] if params.star_kwarg is not None else [])]
        names = {p.name.value for p in everything}
        for param in everything:
            if param.default is not None:
                self._record(param.default, outer)
            if param.annotation is not None:
                self._record(param.annotation.annotation, outer)
        for position, param in enumerate(everything):
            inner.names[param.name.value] = self._param_value(
                param, position, context, names)

    def _param_value(self, param: cst.Param, position: int, context: FunctionContext,
                     names: set[str]) -> Value:
        name = param.name.value
        if param.annotation is not None:
            annotated = self.annotation_value(param.annotation.annotation)
            if annotated.kind is not Kind.UNKNOWN:
                return annotated
        if context.task is not None:
            if position == 0 and context.task.bound:
                return Value(Kind.TASK_SELF, name)
            return UNKNOWN
        if position == 0 and context.class_qualname is not None and name == "self":
            if self.index.is_model(context.class_qualname):
                return Value(Kind.INSTANCE, "self", model=context.class_qualname)
            if context.class_qualname in self.index.view_classes:
                return Value(Kind.VIEW_SELF, "self")
            return UNKNOWN
        if name == "request" and param.annotation is None:
            return Value(Kind.REQUEST, "request")
        if name == "instance" and "sender" in names:
            return Value(Kind.INSTANCE, "the signal's `instance`")
        if name == "serializer" and context.is_view:
            return Value(Kind.SERIALIZER, "serializer")
        if name == "form" and context.is_view:
            return Value(Kind.FORM, "form")
        return UNKNOWN

    def annotation_value(self, node: cst.BaseExpression) -> Value:
        """A parameter annotated with a model, a QuerySet or a request (also Optional / `| None`)."""
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
            found = [self.annotation_value(side) for side in (node.left, node.right)
                     if not (isinstance(side, cst.Name) and side.value == "None")]
            return found[0] if len(found) == 1 else UNKNOWN
        if isinstance(node, cst.Subscript):
            wrapper = self.infer(node.value).qualname or ""
            if wrapper in ("typing.Optional", "typing.Union", "typing_extensions.Optional"):
                inner = [e.slice.value for e in node.slice if isinstance(e.slice, cst.Index)
                         and not (isinstance(e.slice.value, cst.Name)
                                  and e.slice.value.value == "None")]
                return self.annotation_value(inner[0]) if len(inner) == 1 else UNKNOWN
            node = node.value
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            text = string_value(node) or ""
            found = self._module_scope.lookup(text.split("[")[0].strip())
            value = found or UNKNOWN
        else:
            value = self.infer(node)
        qualname = value.qualname or ""
        if value.kind is Kind.MODEL_CLASS:
            return Value(Kind.INSTANCE, f"annotated `{value.model_name}`", model=value.model)
        if qualname in QUERYSET_TYPES:
            return Value(Kind.QUERYSET, "annotated `QuerySet`")
        if qualname in REQUEST_TYPES:
            return Value(Kind.REQUEST, "annotated request")
        return UNKNOWN

    def _class(self, node: cst.ClassDef, scope: _Scope) -> None:
        for decorator in node.decorators:
            self._record(decorator.decorator, scope)
        for base in node.bases:
            self._record(base.value, scope)
        nested = bool(self._class_stack) or scope.function is not None
        qualname = f"{self.facts.module}.{node.name.value}" if not nested else f"<local>.{node.name.value}"
        if nested:
            scope.names[node.name.value] = Value(Kind.CLASS, node.name.value)
        self._class_stack.append(qualname)
        try:
            self._statements(body_of(node), _Scope(parent=scope, function=None))
        finally:
            self._class_stack.pop()

    # -- expressions -----------------------------------------------------------------------
    def _record(self, node: cst.CSTNode, scope: _Scope) -> None:
        try:
            _Recorder(self, scope).read(node)
        except RecursionError:
            pass

    def _element_of(self, value: Value) -> Value:
        if value.kind in (Kind.QUERYSET, Kind.MANAGER):
            return Value(Kind.INSTANCE, f"an item of {value.origin}", model=value.model)
        return UNKNOWN

    def _infer(self, node: cst.BaseExpression) -> Value:
        if isinstance(node, cst.Name):
            return self.names.get(node, UNKNOWN)
        if isinstance(node, cst.Attribute):
            return self._attribute(node)
        if isinstance(node, cst.Call):
            return self._call(node)
        if isinstance(node, cst.Subscript):
            base = self._infer(node.value)
            if base.kind is Kind.PAIR and len(node.slice) == 1 and isinstance(
                    node.slice[0].slice, cst.Index) and isinstance(node.slice[0].slice.value,
                                                                   cst.Integer) \
                    and node.slice[0].slice.value.value == "0":
                return Value(Kind.INSTANCE, base.origin + "[0]", model=base.model)
            if base.kind in (Kind.QUERYSET, Kind.MANAGER, Kind.ROWS) and len(node.slice) == 1:
                if isinstance(node.slice[0].slice, cst.Slice):
                    return Value(Kind.ROWS if base.kind is Kind.ROWS else Kind.QUERYSET,
                                 base.origin, model=base.model)
                if base.kind is not Kind.ROWS:
                    return Value(Kind.INSTANCE, f"an item of {base.origin}", model=base.model)
            return UNKNOWN
        if isinstance(node, (cst.Set, cst.SetComp)):
            return Value(Kind.SET, "a set")
        if isinstance(node, cst.Lambda):
            return Value(Kind.LAMBDA, "a lambda")
        if isinstance(node, cst.GeneratorExp):
            return Value(Kind.GENERATOR, "a generator")
        if isinstance(node, cst.Await):
            return self._infer(node.expression)
        return UNKNOWN

    def _attribute(self, node: cst.Attribute) -> Value:
        base = self._infer(node.value)
        attr = node.attr.value
        if base.kind is Kind.MODEL_CLASS and base.model and attr in self.index.managers_of(base.model):
            return Value(Kind.MANAGER, f"{base.origin}.{attr}", model=base.model)
        if base.kind is Kind.REQUEST and attr == "user":
            return Value(Kind.INSTANCE, f"{source_of(node)}", model=USER_MODEL)
        if base.kind is Kind.VIEW_SELF and attr == "request":
            return Value(Kind.REQUEST, "self.request")
        if base.kind in (Kind.MODULE, Kind.SYMBOL) and base.qualname:
            return self._symbol(f"{base.qualname}.{attr}")
        return UNKNOWN

    def _call(self, node: cst.Call) -> Value:
        func = node.func
        if isinstance(func, cst.Attribute):
            base = self._infer(func.value)
            method = func.attr.value
            origin = f"{base.origin}.{method}()" if base.origin else f"{method}()"
            if base.kind in (Kind.MANAGER, Kind.QUERYSET):
                if method in INSTANCE_METHODS:
                    return Value(Kind.INSTANCE, origin, model=base.model)
                if method in PAIR_METHODS:
                    return Value(Kind.PAIR, origin, model=base.model)
                if method in QUERYSET_METHODS:
                    return Value(Kind.QUERYSET, origin, model=base.model)
                if method in ROW_METHODS:
                    return Value(Kind.ROWS, origin, model=base.model)
                return UNKNOWN
            if base.kind is Kind.ROWS and method in QUERYSET_METHODS | ROW_METHODS:
                return Value(Kind.ROWS, origin, model=base.model)
            if base.kind in (Kind.FORM, Kind.SERIALIZER) and method == "save":
                return Value(Kind.INSTANCE, origin)
            if base.kind is Kind.VIEW_SELF:
                if method == "get_object":
                    return Value(Kind.INSTANCE, "self.get_object()")
                if method == "get_queryset":
                    return Value(Kind.QUERYSET, "self.get_queryset()")
                if method == "get_serializer":
                    return Value(Kind.SERIALIZER, "self.get_serializer()")
                if method == "get_form":
                    return Value(Kind.FORM, "self.get_form()")
            if method in RESULT_METHODS:
                task = base.qualname if base.kind is Kind.TASK else None
                return Value(Kind.ASYNC_RESULT, origin, qualname=task, sent_by=node)
            if base.kind not in (Kind.MODULE, Kind.SYMBOL):
                return UNKNOWN
        callee = self._infer(func)
        qualname = callee.qualname or ""
        if callee.kind is Kind.MODEL_CLASS:
            return Value(Kind.INSTANCE, f"{callee.origin}(...)", model=callee.model)
        if qualname in GET_OBJECT_OR_404 and node.args:
            first = self._infer(node.args[0].value)
            if first.kind in (Kind.MODEL_CLASS, Kind.MANAGER, Kind.QUERYSET):
                return Value(Kind.INSTANCE, "get_object_or_404()", model=first.model)
        if qualname in GET_USER_MODEL:
            return Value(Kind.MODEL_CLASS, "User", model=USER_MODEL, qualname=USER_MODEL)
        if isinstance(func, cst.Name) and callee.kind is Kind.UNKNOWN:
            if func.value == "open":
                return Value(Kind.FILE, "open()")
            if func.value in SET_TYPES:
                return Value(Kind.SET, f"{func.value}()")
        if qualname in OPEN:
            return Value(Kind.FILE, f"{qualname}()")
        short = qualname.rsplit(".", 1)[-1] if qualname else ""
        if callee.kind in (Kind.SYMBOL, Kind.CLASS) and short.endswith(("Form", "FormSet")):
            return Value(Kind.FORM, short)
        if callee.kind in (Kind.SYMBOL, Kind.CLASS) and short.endswith("Serializer"):
            return Value(Kind.SERIALIZER, short)
        return UNKNOWN


class _Recorder:
    """Records bindings of names read inside one expression, and the function around calls."""

    def __init__(self, binder: Binder, scope: _Scope) -> None:
        self.binder = binder
        self.scope = scope

    def read(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.Name):
            found = self.scope.lookup(node.value)
            if found is not None:
                self.binder.names[node] = found
            self.binder.scope_of[node] = self.scope.function
        elif isinstance(node, cst.Attribute):
            self.binder.scope_of[node] = self.scope.function
            self.read(node.value)
        elif isinstance(node, cst.Arg):
            self.read(node.value)
        elif isinstance(node, cst.Lambda):
            inner = _Scope(parent=self.scope, function=self.scope.function)
            for param in [*node.params.posonly_params, *node.params.params,
                          *node.params.kwonly_params]:
                inner.names[param.name.value] = UNKNOWN
            _Recorder(self.binder, inner).read(node.body)
        elif isinstance(node, cst.NamedExpr):
            self.read(node.value)
            self.binder._bind_target(node.target, self.binder.infer(node.value), self.scope)
        elif isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
            self._comprehension(node.for_in, [node.elt])
        elif isinstance(node, cst.DictComp):
            self._comprehension(node.for_in, [node.key, node.value])
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            return
        else:
            if isinstance(node, cst.Call):
                self.binder.scope_of[node] = self.scope.function
            for child in children(node):
                self.read(child)

    def _comprehension(self, for_in: cst.CompFor, parts: list[cst.BaseExpression]) -> None:
        inner = _Scope(parent=self.scope, function=self.scope.function)
        recorder = _Recorder(self.binder, inner)
        current: cst.CompFor | None = for_in
        while current is not None:
            recorder.read(current.iter)
            element = self.binder._element_of(self.binder.infer(current.iter))
            self.binder._bind_target(current.target, element, inner)
            for condition in current.ifs:
                recorder.read(condition.test)
            current = current.inner_for_in
        for part in parts:
            recorder.read(part)
