"""Module names from paths and relative imports, the same for the `ast` and libcst phases."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path


def module_name(path: Path) -> tuple[str, bool]:
    """The dotted module name of `path` and whether it is a package's `__init__`.

    Packages are the folders that hold an `__init__.py`; the name starts below the first
    folder that does not, as Python would import it with that folder on sys.path.
    """
    stem = path.stem
    parts = list(package_of(os.path.dirname(os.path.abspath(path))))
    if stem != "__init__":
        parts.append(stem)
    return ".".join(parts) or stem, stem == "__init__"


@cache
def package_of(directory: str) -> tuple[str, ...]:
    """The package names down to `directory` (empty when it holds no `__init__.py`); one look
    per folder (`package_of.cache_clear()` when files may have come or gone)."""
    parent = os.path.dirname(directory)
    if parent == directory or not os.path.isfile(os.path.join(directory, "__init__.py")):
        return ()
    return (*package_of(parent), os.path.basename(directory))


def resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute module that `from <level dots><target> import ...` names inside `module`."""
    if level == 0:
        return target or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        package = package[: len(package) - (level - 1)]
    base = ".".join(package)
    if target:
        return f"{base}.{target}" if base else target
    return base


def is_test_module(module: str) -> bool:
    """`shop.tests.test_views`, `test_tasks`, `shop.views_test`: code that runs under test
    settings (which usually run tasks eagerly), not in production."""
    return any(part in ("test", "tests") or part.startswith("test_")
               or part.endswith(("_test", "_tests")) for part in module.split("."))
