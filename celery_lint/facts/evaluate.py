"""Static evaluation of the expressions settings are made of, with the standard library's `ast`.

Literals, names defined earlier, simple arithmetic and concatenation, containers, and reads of the
environment (`os.environ.get`, `os.getenv`, django-environ's `env(...)`/`env.bool(...)`,
python-decouple's `config(...)`, a ConfigParser's `get(section, option, fallback=...)`), which become
`FromEnv` values carrying the default the code falls back to. Anything else is `Unknown`, with its
source for messages. Nothing is imported or run.
"""

from __future__ import annotations

import ast
import json
import operator
from collections.abc import Callable, Mapping
from typing import Any

from celery_lint.facts.types import FromEnv, Unknown, Value

Qualify = Callable[[ast.AST], "str | None"]

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}
_STRING_METHODS = {"lower", "upper", "strip", "lstrip", "rstrip", "split", "title"}
_CASTS = {"int", "float", "bool", "str"}
# django-environ and python-decouple read these strings as True
_TRUE_STRINGS = {"true", "on", "ok", "y", "yes", "1", "t"}
_ENV_GETTERS = {"os.environ.get", "os.getenv", "os.environ.setdefault", "environ.get",
                "getenv"}
_PARSER_METHODS = {"get": None, "getint": "int", "getfloat": "float", "getboolean": "bool"}
# how django-configurations' values read their environment variable
_CONFIGURATIONS_CASTS = {"BooleanValue": "bool", "IntegerValue": "int",
                         "PositiveIntegerValue": "int", "FloatValue": "float",
                         "ListValue": "list", "TupleValue": "list"}
_MAX_LENGTH = 100_000  # a computed string or sequence longer than this is not worth holding
# an int longer than this is not worth holding either, and Python will not print one of more than
# 4300 digits (about 14,000 bits): str() and repr() raise ValueError, in messages and the audit
_MAX_INT_BITS = 10_000


def _too_big(value: Value) -> bool:
    return isinstance(value, int) and value.bit_length() > _MAX_INT_BITS


def dotted(node: ast.AST) -> str | None:
    """`a.b.c` for a chain of attributes on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def source_text(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # noqa: BLE001 - unparse of exotic nodes; the text is only for messages
        return "<expression>"


def is_literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def evaluate(node: ast.AST, names: Mapping[str, Value] | None = None,
             qualify: Qualify | None = None, attribute: str | None = None) -> Value:
    """The value of `node` given the values of earlier names; `Unknown` where it cannot tell.

    `attribute` is the settings class attribute `node` is assigned to: an environment read that
    does not name its variable takes the attribute's (django-configurations' `values.Value()`,
    django-class-settings' `env()`).
    """
    try:
        return _Evaluator(names or {}, qualify or dotted, attribute).value(node)
    except RecursionError:
        return Unknown("<deeply nested expression>")


def describe(value: Value) -> str:
    """A value as the audit shows it."""
    if isinstance(value, Unknown):
        return value.text
    if isinstance(value, FromEnv) and value.origin == "run time":
        shipped = "not set" if value.default is None else describe(value.default)
        return f"may be set when the project runs by {value.text} (shipped: {shipped})"
    if isinstance(value, FromEnv):
        where = f"${value.variable}" if value.origin == "environment" and value.variable else \
            value.variable or value.text
        source = "environment" if value.origin == "environment" else "config file"
        if not value.has_default:
            return f"from the {source} ({where}, no default)"
        return f"from the {source} ({where}, default {describe(value.default)})"
    if isinstance(value, tuple):
        return "[" + ", ".join(describe(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {describe(v)}" for k, v in value.items()) + "}"
    return repr(value)


def evaluate_source(text: str, names: Mapping[str, Value], qualify: Qualify | None = None) -> Value:
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return Unknown(text)
    return evaluate(node, names, qualify)


def cast_value(value: Value, cast: str | None) -> Value:
    """`value` converted the way `int(...)`, `env.bool(...)`, `config(cast=bool)` would."""
    if cast is None or isinstance(value, Unknown) or value is None:
        return value
    try:
        if cast == "bool":
            if isinstance(value, str):
                return value.strip().lower() in _TRUE_STRINGS
            return bool(value)
        if cast == "int" and not isinstance(value, (tuple, dict)):
            return int(value)  # type: ignore[arg-type]
        if cast == "float" and not isinstance(value, (tuple, dict)):
            return float(value)  # type: ignore[arg-type]
        if cast == "str":
            return value if isinstance(value, str) else str(value)
        if cast in ("list", "tuple"):
            if isinstance(value, str):
                return tuple(part.strip() for part in value.split(",") if part.strip())
            return value if isinstance(value, tuple) else Unknown(f"{cast}({describe(value)})")
        if cast == "json" and isinstance(value, str):
            return _from_json(json.loads(value))
    except (ValueError, TypeError, OverflowError):
        return Unknown(f"{cast}({describe(value)})")
    return value


def _from_json(value: Any) -> Value:
    if isinstance(value, list):
        return tuple(_from_json(v) for v in value)
    if isinstance(value, dict):
        return {k: _from_json(v) for k, v in value.items()}
    return value  # type: ignore[no-any-return]


class _Evaluator:
    def __init__(self, names: Mapping[str, Value], qualify: Qualify,
                 attribute: str | None = None) -> None:
        self.names = names
        self.qualify = qualify
        self.attribute = attribute

    def value(self, node: ast.AST) -> Value:
        if isinstance(node, ast.Constant):
            value = node.value
            if value is Ellipsis or isinstance(value, (bytes, complex)) or _too_big(value):
                return Unknown(source_text(node))
            return value  # type: ignore[no-any-return]
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is not None:
            result: Value = method(node)
            if isinstance(result, (str, tuple)) and len(result) > _MAX_LENGTH or _too_big(result):
                return Unknown(source_text(node))
            return result
        return Unknown(source_text(node))

    # -- names and containers ------------------------------------------------------------
    def _Name(self, node: ast.Name) -> Value:
        if node.id in self.names:
            return self.names[node.id]
        constants = {"True": True, "False": False, "None": None}
        return constants.get(node.id, Unknown(node.id))

    def _List(self, node: ast.List | ast.Tuple | ast.Set) -> Value:
        items: list[Value] = []
        for element in node.elts:
            if isinstance(element, ast.Starred):
                inner = self.value(element.value)
                if not isinstance(inner, tuple):
                    return Unknown(source_text(node))
                items += inner
            else:
                items.append(self.value(element))
        return tuple(items)

    _Tuple = _List
    _Set = _List

    def _Dict(self, node: ast.Dict) -> Value:
        result: dict[Any, Value] = {}
        for key, value in zip(node.keys, node.values):
            if key is None:  # {**other}
                inner = self.value(value)
                if not isinstance(inner, dict):
                    return Unknown(source_text(node))
                result.update(inner)
                continue
            evaluated_key = self.value(key)
            if isinstance(evaluated_key, (Unknown, FromEnv, tuple, dict)):
                return Unknown(source_text(node))
            result[evaluated_key] = self.value(value)
        return result

    def _Subscript(self, node: ast.Subscript) -> Value:
        if dotted(node.value) in ("os.environ", "environ") or \
                self.qualify(node.value) == "os.environ":
            variable = self.value(node.slice)
            return FromEnv("environment", variable if isinstance(variable, str) else None, None,
                           False, source_text(node))
        container, key = self.value(node.value), self.value(node.slice)
        try:
            if isinstance(container, dict) and not isinstance(key, (Unknown, FromEnv, dict)):
                if key in container:
                    return container[key]  # type: ignore[index]
            elif isinstance(container, (tuple, str)) and isinstance(key, int) \
                    and not isinstance(key, bool):
                return container[key]
        except (IndexError, TypeError):
            pass
        return Unknown(source_text(node))

    # -- operators -----------------------------------------------------------------------
    def _BinOp(self, node: ast.BinOp) -> Value:
        operation = _BINARY.get(type(node.op))
        left, right = self.value(node.left), self.value(node.right)
        if operation is None:
            return Unknown(source_text(node))
        if isinstance(left, FromEnv) or isinstance(right, FromEnv):
            return _env_combine([left, right], lambda a, b: _apply(operation, node.op, a, b),
                                source_text(node))
        result = _apply(operation, node.op, left, right)
        return Unknown(source_text(node)) if result is _FAILED else result

    def _UnaryOp(self, node: ast.UnaryOp) -> Value:
        operand = self.value(node.operand)
        operations: dict[type, Callable[[Any], Any]] = {
            ast.Not: operator.not_, ast.USub: operator.neg, ast.UAdd: operator.pos}
        operation = operations.get(type(node.op))
        if operation is None:
            return Unknown(source_text(node))
        if isinstance(operand, FromEnv):
            return _env_map(operand, operation, source_text(node))
        if isinstance(operand, Unknown) or (not isinstance(node.op, ast.Not)
                                            and not _is_number(operand)):
            return Unknown(source_text(node))
        return operation(operand)  # type: ignore[no-any-return]

    def _BoolOp(self, node: ast.BoolOp) -> Value:
        values = [self.value(v) for v in node.values]
        first = values[0]
        if isinstance(first, FromEnv) and isinstance(node.op, ast.Or) and len(values) == 2:
            # os.environ.get("X") or "default"
            return _env_combine(values, lambda a, b: a or b, source_text(node))
        if any(isinstance(v, (Unknown, FromEnv)) for v in values):
            return Unknown(source_text(node))
        result = values[0]
        for value in values[1:]:
            if isinstance(node.op, ast.And):
                result = result and value
            else:
                result = result or value
        return result

    def _Compare(self, node: ast.Compare) -> Value:
        if len(node.ops) != 1 or type(node.ops[0]) not in _COMPARE:
            return Unknown(source_text(node))
        operation = _COMPARE[type(node.ops[0])]
        left, right = self.value(node.left), self.value(node.comparators[0])
        if isinstance(left, FromEnv) or isinstance(right, FromEnv):
            return _env_combine([left, right], lambda a, b: _apply(operation, None, a, b),
                                source_text(node))
        result = _apply(operation, None, left, right)
        return Unknown(source_text(node)) if result is _FAILED else result

    def _IfExp(self, node: ast.IfExp) -> Value:
        test = self.value(node.test)
        if isinstance(test, (Unknown, FromEnv, tuple, dict)):
            return Unknown(source_text(node))
        return self.value(node.body if test else node.orelse)

    def _JoinedStr(self, node: ast.JoinedStr) -> Value:
        parts: list[Value] = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                if value.format_spec is not None:
                    return Unknown(source_text(node))
                parts.append(self.value(value.value))
            else:
                parts.append(self.value(value))
        return _env_combine(parts, _join_strings, source_text(node)) \
            if any(isinstance(p, FromEnv) for p in parts) else _join_or_unknown(parts, node)

    # -- calls ---------------------------------------------------------------------------
    def _Call(self, node: ast.Call) -> Value:
        configured = self._configurations_value(node)
        if configured is not _FAILED:
            return configured  # type: ignore[no-any-return]
        found = self._environment(node)
        if found is not None:
            return found
        func = node.func
        if isinstance(func, ast.Name) and func.id in _CASTS | {"list", "tuple", "dict"} \
                and func.id not in self.names:
            return self._builtin(func.id, node)
        if isinstance(func, ast.Attribute) and func.attr in _STRING_METHODS:
            receiver = self.value(func.value)
            arguments = [self.value(a) for a in node.args]
            if node.keywords or any(isinstance(a, (Unknown, FromEnv)) for a in arguments):
                return Unknown(source_text(node))

            def method(value: Any) -> Any:
                if not isinstance(value, str):
                    return _FAILED
                result = getattr(value, func.attr)(*arguments)
                return tuple(result) if isinstance(result, list) else result

            if isinstance(receiver, FromEnv):
                return _env_map(receiver, method, source_text(node))
            if isinstance(receiver, str):
                result = method(receiver)
                return Unknown(source_text(node)) if result is _FAILED else result
        return Unknown(source_text(node))

    def _builtin(self, name: str, node: ast.Call) -> Value:
        if name == "dict" and not node.args:
            return {k.arg: self.value(k.value) for k in node.keywords if k.arg}
        if len(node.args) != 1 or node.keywords:
            return Unknown(source_text(node))
        argument = self.value(node.args[0])

        def convert(value: Any) -> Any:  # Python's own semantics: bool("False") is True
            return bool(value) if name == "bool" else cast_value(value, name)

        if isinstance(argument, FromEnv):
            return _env_map(argument, convert, source_text(node))
        if name in ("list", "tuple"):
            return argument if isinstance(argument, tuple) else Unknown(source_text(node))
        if name == "dict":
            return argument if isinstance(argument, dict) else Unknown(source_text(node))
        if isinstance(argument, Unknown):
            return Unknown(source_text(node))
        return convert(argument)  # type: ignore[no-any-return]

    def _environment(self, node: ast.Call) -> FromEnv | None:
        """A read of the environment or of a deployment config file, else None."""
        func = node.func
        qualified = self.qualify(func) or ""
        text = source_text(node)
        args = node.args
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        variable = self.value(args[0]) if args else self.value(keywords["var"]) \
            if "var" in keywords else self.attribute
        name = variable if isinstance(variable, str) else None
        if qualified in _ENV_GETTERS or dotted(func) in _ENV_GETTERS:
            if len(args) >= 2:
                return FromEnv("environment", name, self.value(args[1]), True, text)
            if "default" in keywords:
                return FromEnv("environment", name, self.value(keywords["default"]), True, text)
            return FromEnv("environment", name, None, True, text)
        if not isinstance(func, (ast.Name, ast.Attribute)) or name is None:
            return None
        head = dotted(func) or ""
        root = head.split(".")[0]
        if isinstance(func, ast.Name) and self._is_decouple(qualified, root):
            default, has_default = self._default(keywords, None)
            cast = keywords.get("cast")
            cast_name = cast.id if isinstance(cast, ast.Name) and cast.id in _CASTS else None
            return FromEnv("environment", name, cast_value(default, cast_name), has_default, text)
        if self._is_environ(qualified, root):
            cast_name = None
            if isinstance(func, ast.Attribute):  # env.bool("X", False): 2nd positional = default
                cast_name = func.attr if func.attr in _CASTS | {"list", "tuple", "json"} else None
                default, has_default = self._default(keywords, args[1] if len(args) > 1 else None)
            else:  # env("X", cast, default=...)
                default, has_default = self._default(keywords, None)
                cast = keywords.get("cast") or (args[1] if len(args) > 1 else None)
                cast_name = cast.id if isinstance(cast, ast.Name) and cast.id in _CASTS else None
            return FromEnv("environment", name, cast_value(default, cast_name), has_default, text)
        if isinstance(func, ast.Attribute) and func.attr in _PARSER_METHODS and len(args) >= 2 \
                and self._is_config_parser(func.value):
            option = self.value(args[1])
            if not isinstance(option, str):
                return None
            default, has_default = self._default({"default": keywords["fallback"]}
                                                 if "fallback" in keywords else {}, None)
            return FromEnv("config file", f"[{name}] {option}",
                           cast_value(default, _PARSER_METHODS[func.attr]), has_default, text)
        return None

    def _configurations_value(self, node: ast.Call) -> Any:
        """django-configurations' `values.IntegerValue(60)` assigned to a class attribute: the
        environment variable `DJANGO_<ATTRIBUTE>` (or as `environ_prefix`, `environ_name` say)
        with the default, unless `environ=False`, when it is the default itself. `_FAILED` when
        `node` is not one."""
        qualified = self.qualify(node.func) or ""
        if self.attribute is None or not qualified.startswith("configurations.") \
                or not qualified.endswith("Value"):
            return _FAILED
        kind = qualified.rsplit(".", 1)[-1]
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        default, _ = self._default(keywords, node.args[0] if node.args else None)
        default = cast_value(default, _CONFIGURATIONS_CASTS.get(kind))
        options = {k: self.value(v) for k, v in keywords.items()
                   if k in ("environ", "environ_name", "environ_prefix", "environ_required")}
        if options.get("environ", True) is False:
            return default
        prefix = options.get("environ_prefix", "DJANGO")
        variable = options.get("environ_name") or self.attribute.upper()
        if not isinstance(prefix, (str, type(None))) or not isinstance(variable, str):
            return Unknown(source_text(node))
        if prefix:
            variable = f"{prefix}_{variable}"
        required = kind == "SecretValue" or options.get("environ_required") is True
        return FromEnv("environment", variable, default, not required, source_text(node))

    def _default(self, keywords: dict[str | None, ast.expr], positional: ast.expr | None
                 ) -> tuple[Value, bool]:
        if "default" in keywords:
            return self.value(keywords["default"]), True
        if positional is not None:
            return self.value(positional), True
        return None, False

    def _made_by(self, name: str, *markers: str) -> bool:
        value = self.names.get(name)
        return isinstance(value, Unknown) and any(m in value.text for m in markers)

    def _is_decouple(self, qualified: str, root: str) -> bool:
        return qualified.startswith("decouple.") or (
            root == "config" and self._made_by(root, "AutoConfig", "Config(", "decouple"))

    def _is_environ(self, qualified: str, root: str) -> bool:
        if qualified.startswith("environ.Env"):
            return True
        return root in ("env", "ENV") or self._made_by(root, "Env(")

    def _is_config_parser(self, receiver: ast.expr) -> bool:
        name = dotted(receiver)
        if name is None or name in ("os.environ", "environ"):
            return False
        return self._made_by(name, "Config", "Parser")


def apply_op(current: Value, op: str, value: Value, key: Value = None) -> Value:
    """The value of a name after `op` (see SettingAssignment) changes it from `current`."""
    if op == "=":
        return value
    if isinstance(current, FromEnv) or isinstance(value, FromEnv):
        return Unknown(f"a value from the environment changed by `{op}`")
    if isinstance(current, Unknown):
        return current
    if isinstance(value, Unknown) and op not in ("append", "insert", "item"):
        return Unknown(value.text)
    if op in ("+", "extend") and isinstance(current, tuple) and isinstance(value, tuple):
        return current + value
    if op == "+" and isinstance(current, str) and isinstance(value, str):
        return current + value
    if op in ("+", "-", "*") and _is_number(current) and _is_number(value):
        operation = {"+": operator.add, "-": operator.sub, "*": operator.mul}[op]
        result = operation(current, value)
        return Unknown(f"{op}= of a number too large") if _too_big(result) else result
    if op == "append" and isinstance(current, tuple):
        return (*current, value)
    if op == "insert" and isinstance(current, tuple) and isinstance(key, int):
        items = list(current)
        items.insert(key, value)
        return tuple(items)
    if op in ("update", "|") and isinstance(current, dict) and isinstance(value, dict):
        return {**current, **value}
    if op == "item" and isinstance(current, dict) and not isinstance(key, (Unknown, FromEnv,
                                                                           tuple, dict)):
        return {**current, key: value}  # type: ignore[dict-item]
    return Unknown(f"`{op}` of {describe(value)}")


class _Failed:
    pass


_FAILED: Any = _Failed()


def _is_number(value: Value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _apply(operation: Callable[[Any, Any], Any], op: ast.operator | None, left: Value,
           right: Value) -> Any:
    if isinstance(left, (Unknown, FromEnv)) or isinstance(right, (Unknown, FromEnv)):
        return _FAILED
    if op is not None:
        numbers = _is_number(left) and _is_number(right)
        strings = isinstance(left, str) and isinstance(right, str) and isinstance(op, ast.Add)
        sequences = isinstance(left, tuple) and isinstance(right, tuple) and isinstance(op, ast.Add)
        if not (numbers or strings or sequences):
            return _FAILED
        if isinstance(op, ast.Pow) and abs(right) > 64:  # type: ignore[arg-type]
            return _FAILED
    try:
        return operation(left, right)
    except (ArithmeticError, ValueError, TypeError):
        return _FAILED


def _join_strings(*parts: Value) -> Any:
    if any(not isinstance(p, (str, int, float)) or isinstance(p, bool) for p in parts):
        return _FAILED
    return "".join(str(p) for p in parts)


def _join_or_unknown(parts: list[Value], node: ast.AST) -> Value:
    result = _join_strings(*parts)
    return Unknown(source_text(node)) if result is _FAILED else result  # type: ignore[no-any-return]


def _env_map(value: FromEnv, function: Callable[[Any], Any], text: str) -> FromEnv:
    return _env_combine([value], function, text)


def _env_combine(values: list[Value], function: Callable[..., Any], text: str) -> Value:
    """An expression over environment reads: still from the environment, default computed."""
    reads = [v for v in values if isinstance(v, FromEnv)]
    if any(isinstance(v, Unknown) for v in values):
        return Unknown(text)
    defaults = [v.default if isinstance(v, FromEnv) else v for v in values]
    has_default = all(r.has_default for r in reads)
    default: Value = None
    if has_default and not any(isinstance(d, (Unknown, FromEnv)) for d in defaults):
        try:
            result = function(*defaults)
        except (ValueError, TypeError, AttributeError, ArithmeticError):
            result = _FAILED
        default = Unknown(text) if result is _FAILED or _too_big(result) else result
    elif has_default:
        default = Unknown(text)
    names = [r.variable for r in reads if r.variable]
    return FromEnv(reads[0].origin, ", ".join(names) or None, default, has_default, text)
