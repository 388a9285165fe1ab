"""What CEL101's whole fix needs to know of the code: how a task's body uses each parameter
(phase 1, per task), and every place a file calls a task or refers to it otherwise.

The whole fix changes a task's parameter from a model instance to its primary key, so it must see
every caller, in the files a run checks and the others. Callers are looked for only when a fix is
to be joined, and only in the files whose text names the task (a byte search first): phase 1 of
every file need not walk every name.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from celery_lint.facts.evaluate import dotted
from celery_lint.facts.syntax import parse_python
from celery_lint.facts.types import Param, ParamUse
from celery_lint.modules import resolve_relative

# methods that call a task, or build a signature of it, with arguments
CALL_METHODS = frozenset({"delay", "apply_async", "s", "si", "signature", "subtask", "apply",
                          "delay_on_commit", "apply_async_on_commit", "map", "starmap", "chunks"})
NAME_CALLS = frozenset({"send_task", "signature", "Signature"})  # the task named by a string
ID_SUFFIXES = ("_id", "_pk", "_ids", "_pks", "__id", "__pk")


def reads_as_id(name: str) -> bool:
    return name in ("id", "pk") or name.endswith(ID_SUFFIXES)


def param_uses(node: ast.FunctionDef | ast.AsyncFunctionDef, params: tuple[Param, ...],
               lines: list[str], column: Callable[[ast.AST], int]) -> tuple[ParamUse, ...]:
    """How the body of the task `node` uses each of `params` (those a caller fills)."""
    arguments = {a.arg: a for a in (*node.args.posonlyargs, *node.args.args,
                                    *node.args.kwonlyargs)}
    return tuple(_use(node, param, arguments.get(param.name), lines, column) for param in params)


def _use(node: ast.FunctionDef | ast.AsyncFunctionDef, param: Param, argument: ast.arg | None,
         lines: list[str], column: Callable[[ast.AST], int]) -> ParamUse:
    name = param.name
    if reads_as_id(name):
        return ParamUse(name, "id")
    why = _cannot_change(node, param, argument)
    if why:
        return ParamUse(name, why)
    assert argument is not None
    loads: list[ast.Name] = []
    parents: dict[int, ast.AST] = {}
    for parent in ast.walk(node):
        for child in ast.iter_child_nodes(parent):
            parents[id(child)] = parent
    new = f"{name}_id"
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and child.id == new or \
                isinstance(child, ast.arg) and child.arg == new:
            return ParamUse(name, f"the task already has a `{new}`")
        if isinstance(child, (ast.Global, ast.Nonlocal)) and name in child.names:
            return ParamUse(name, "it is declared global")
        if isinstance(child, ast.arg) and child.arg == name and child is not argument or \
                isinstance(child, ast.Name) and child.id == name and \
                not isinstance(child.ctx, ast.Load):
            return ParamUse(name, "the task assigns it")
        if isinstance(child, ast.Name) and child.id == name:
            loads.append(child)
    if all(_id_position(load, parents) for load in loads):
        return ParamUse(name, "id")  # only ever `pk=order` (or not used at all)
    body = node.body[1:] if _docstring(node) else node.body
    read = {id(load) for load in loads}
    first = next((s for s in body if any(id(n) in read for n in ast.walk(s))), None)
    if first is None:
        return ParamUse(name, "only the `def` line reads it")
    row = min([first.lineno] + [d.lineno for d in getattr(first, "decorator_list", ())])
    line = lines[row - 1] if 0 < row <= len(lines) else ""
    indent = line[:len(line) - len(line.lstrip(" \t"))]
    if row == node.lineno or not indent or line[len(indent):].startswith("#"):
        return ParamUse(name, "the body starts on the line of its `def`")
    if column(first) != len(indent) + 1 and not getattr(first, "decorator_list", None):
        return ParamUse(name, "the statement that first reads it shares its line")
    return ParamUse(name, "object", argument.lineno, column(argument), row, indent)


def _cannot_change(node: ast.FunctionDef | ast.AsyncFunctionDef, param: Param,
                   argument: ast.arg | None) -> str:
    """Why the parameter cannot become an id with the row loaded in the body ("" when it can)."""
    if argument is None or param.kind.startswith("var_"):
        return "it is not a named parameter"
    if isinstance(node, ast.AsyncFunctionDef):
        return "the task is a coroutine (the ORM call would need its async form)"
    if param.has_default:
        return "it has a default value"
    if argument.annotation is not None:
        return "it is annotated"
    return ""


def _docstring(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    first = node.body[0]
    return isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and \
        isinstance(first.value.value, str) and len(node.body) > 1


def _id_position(load: ast.Name, parents: dict[int, ast.AST]) -> bool:
    """`pk=order`, `id=order`, `order_id=order`, `customer__pk=order` in a call."""
    parent = parents.get(id(load))
    return isinstance(parent, ast.keyword) and parent.arg is not None and reads_as_id(parent.arg)


@dataclass(frozen=True)
class TaskCallSite:
    """`<name>.<method>(...)`: `target` qualified as far as the file's imports go."""

    target: str
    method: str
    line: int
    end_line: int


def task_references(text: str, module: str, is_package: bool, imports: Mapping[str, str],
                    defined: Collection[str]) -> References | None:
    """The calls and references of module-level names in the file `text` (`imports` and
    `defined` are its facts; names imported inside functions count too); None when it does
    not parse."""
    try:
        tree = parse_python(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    anywhere: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                anywhere[alias.asname or alias.name.split(".")[0]] = \
                    alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            base = resolve_relative(module, is_package, node.level, node.module)
            for alias in node.names:
                anywhere[alias.asname or alias.name] = \
                    f"{base}.{alias.name}" if base else alias.name
    anywhere.update(imports)  # the module's own imports win over those in functions
    local = set(defined)

    def qualify(node: ast.AST) -> str | None:
        name = dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        base = anywhere.get(head) or (f"{module}.{head}" if head in local else head)
        return f"{base}.{rest}" if rest else base

    found = References(qualify, lambda head: head in anywhere or head in local)
    found.visit(tree)
    return found


class References(ast.NodeVisitor):
    """Calls of module-level names as tasks, other references to them, task names as strings."""

    def __init__(self, qualify: Callable[[ast.AST], str | None], bound: Callable[[str], bool]
                 ) -> None:
        self.qualify = qualify
        self.bound = bound  # whether a name is a module-level import or definition
        self.calls: list[TaskCallSite] = []
        self.references: set[str] = set()
        self.names: set[str] = set()

    def _chain(self, node: ast.AST) -> str | None:
        """`node` qualified, when it is a dotted name whose head the module binds."""
        name = dotted(node)
        if name is None or not self.bound(name.partition(".")[0]):
            return None
        return self.qualify(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in CALL_METHODS:
            target = self._chain(func.value)
            if target is not None:
                self.calls.append(TaskCallSite(target, func.attr, node.lineno,
                                               node.end_lineno or node.lineno))
                self._arguments(node)
                return
        callee = func.attr if isinstance(func, ast.Attribute) else \
            func.id if isinstance(func, ast.Name) else ""
        if callee in NAME_CALLS and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            self.names.add(node.args[0].value)
        self.generic_visit(node)

    def _arguments(self, node: ast.Call) -> None:
        for argument in node.args:
            self.visit(argument)
        for keyword in node.keywords:
            self.visit(keyword.value)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        target = self._chain(node)
        if target is None:
            self.generic_visit(node)
        else:
            self.references.add(target)

    def visit_Name(self, node: ast.Name) -> None:
        target = self._chain(node)
        if target is not None and isinstance(node.ctx, ast.Load):
            self.references.add(target)

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values):
            if isinstance(key, ast.Constant) and key.value == "task" and \
                    isinstance(value, ast.Constant) and isinstance(value.value, str):
                self.names.add(value.value)  # a beat schedule entry names its task
        self.generic_visit(node)
