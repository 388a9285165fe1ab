"""The layers of DESIGN.md are the layers of the code: each module imports only from its own layer
or the layers below it, and no modules import each other in a loop.

The imports are read with `ast`, those inside functions too. Two kinds do not count towards a
loop (they still keep to the layers): imports under `if TYPE_CHECKING:` (never run) and imports
inside a function whose line, or the comment just above it, says why they are lazy
(`# lazy: start-up time`).
"""

from __future__ import annotations

import ast
import fnmatch
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "celery_lint"

# Lowest first. A pattern names a module, or with `.*` the modules of a package.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("core", ("celery_lint", "celery_lint.diagnostics", "celery_lint.source",
              "celery_lint.codes", "celery_lint.config", "celery_lint.pages",
              "celery_lint.celery_tables")),
    ("discovery", ("celery_lint.discovery", "celery_lint.modules")),
    ("facts", ("celery_lint.facts", "celery_lint.facts.*")),
    ("index", ("celery_lint.index",)),
    ("analysis", ("celery_lint.analysis", "celery_lint.analysis.*")),
    ("rules", ("celery_lint.rules", "celery_lint.rules.*")),
    ("runner", ("celery_lint.runner", "celery_lint.cache")),
    ("front ends", ("celery_lint.__main__", "celery_lint.cli", "celery_lint.audit",
                    "celery_lint.fixes", "celery_lint.output", "celery_lint.output.*",
                    "celery_lint.lsp", "celery_lint.flake8_plugin")),
)


@dataclass(frozen=True)
class Import:
    target: str  # the project module imported
    line: int
    counts_for_cycles: bool  # run when the module is imported (or without a reason to be lazy)


def module_names() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports_of(name: str, source: str, is_package: bool, known: set[str]) -> list[Import]:
    """The project modules `source` (module `name`) imports."""
    tree = ast.parse(source)
    lines = source.splitlines()
    type_only = {id(node) for branch in ast.walk(tree) if isinstance(branch, ast.If)
                 and _is_type_checking(branch.test) for stmt in branch.body
                 for node in ast.walk(stmt)}
    in_function = {id(node) for function in ast.walk(tree)
                   if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
                   for node in ast.walk(function) if node is not function}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(name, is_package, node.level, node.module)
            # `from package import module` imports the module; `from module import name` the module
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                       for alias in node.names]
        else:
            continue
        lazy = id(node) in in_function and _says_lazy(lines, node)
        counts = id(node) not in type_only and not lazy
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.append(Import(target, node.lineno, counts))
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _absolute(name: str, is_package: bool, level: int, module: str | None) -> str:
    if level == 0:
        return module or ""
    parts = name.split(".") if is_package else name.split(".")[:-1]
    parts = parts[: len(parts) - (level - 1)]
    return ".".join(parts + ([module] if module else []))


def _says_lazy(lines: list[str], node: ast.stmt) -> bool:
    """`# lazy: <why>` on one of the import's lines or in the comment lines just above it."""
    end = node.end_lineno or node.lineno
    if any("# lazy:" in lines[row - 1] for row in range(node.lineno, end + 1)):
        return True
    row = node.lineno - 1
    while row >= 1 and lines[row - 1].strip().startswith("#"):
        if "# lazy:" in lines[row - 1]:
            return True
        row -= 1
    return False


def layer_of(module: str) -> int | None:
    for number, (_, patterns) in enumerate(LAYERS):
        if any(fnmatch.fnmatchcase(module, pattern) for pattern in patterns):
            return number
    return None


def graph() -> dict[str, list[Import]]:
    modules = module_names()
    known = set(modules)
    return {name: imports_of(name, path.read_text(encoding="utf-8"), path.name == "__init__.py",
                             known)
            for name, path in modules.items()}


def layer_listing() -> str:
    modules = sorted(module_names())
    rows = []
    for number, (title, _) in reversed(list(enumerate(LAYERS))):
        members = [m.removeprefix("celery_lint.") for m in modules if layer_of(m) == number]
        rows.append(f"  {number} {title:<10} {' '.join(members)}")
    return "layers, each importing only from its own and those below it:\n" + "\n".join(rows)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


# -- the package --------------------------------------------------------------------------------

def test_every_module_is_in_one_layer() -> None:
    unplaced = [m for m in module_names() if layer_of(m) is None]
    assert unplaced == [], f"add these to LAYERS in {__file__}\n{layer_listing()}"


def test_each_module_imports_only_from_its_layer_or_below() -> None:
    upward: list[str] = []
    for module, found in graph().items():
        own = layer_of(module)
        for item in found:
            target = layer_of(item.target)
            if own is not None and target is not None and target > own:
                upward.append(f"{module}:{item.line} imports {item.target} "
                              f"({LAYERS[target][0]} is above {LAYERS[own][0]})")
    upward = list(dict.fromkeys(upward))
    assert upward == [], "\n".join(upward) + "\n" + layer_listing()


def test_no_import_cycle() -> None:
    edges = {module: {i.target for i in found if i.counts_for_cycles}
             for module, found in graph().items()}
    found = cycles(edges)
    assert found == [], "modules that import each other in a loop:\n" + "\n".join(
        "  " + " ".join(loop) for loop in found) + "\n" + layer_listing()


# -- the reader itself --------------------------------------------------------------------------

KNOWN = {"pkg", "pkg.a", "pkg.b", "pkg.sub", "pkg.sub.c"}


def test_reads_relative_and_function_imports() -> None:
    source = ("from . import a\nfrom .b import thing\nimport pkg.sub.c as c\n\n"
              "def f():\n    from ..a import other\n")
    found = imports_of("pkg.sub.d", source, False, KNOWN | {"pkg.sub.d"})
    assert [(i.target, i.line, i.counts_for_cycles) for i in found] == [
        ("pkg.sub", 1, True), ("pkg.sub", 2, True), ("pkg.sub.c", 3, True), ("pkg.a", 6, True)]
    found = imports_of("pkg.sub", "from . import c\nfrom .. import a\n", True, KNOWN)
    assert [i.target for i in found] == ["pkg.sub.c", "pkg.a"]


def test_type_checking_and_lazy_imports_do_not_make_a_cycle() -> None:
    source = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import A\n\n"
              "def f():\n    # lazy: start-up time (the reason)\n    from pkg.b import B\n"
              "    from pkg.sub import c  # lazy: start-up time\n    from pkg.sub.c import D\n")
    found = imports_of("pkg.x", source, False, KNOWN)
    assert [(i.target, i.counts_for_cycles) for i in found] == [
        ("pkg.a", False), ("pkg.b", False), ("pkg.sub.c", False), ("pkg.sub.c", True)]


def test_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
