"""Module names from paths and relative imports, the same for the `ast` and libcst phases."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

# Where a Python project's import root is (`.git` is not one: a repository may hold scripts run
# from their own folder)
IMPORT_ROOT_MARKERS = ("manage.py", "pyproject.toml", "setup.py", "setup.cfg")


def module_name(path: Path) -> tuple[str, bool]:
    """The dotted module name of `path` and whether it is a package's `__init__`.

    Packages are the folders that hold an `__init__.py`; the name starts below the first
    folder that does not, as Python would import it with that folder on sys.path. A folder
    without `__init__.py` is a namespace package when Python can reach it by name: inside a
    package, or at the top of a project (see `namespace_of`).
    """
    stem = path.stem
    directory = os.path.dirname(os.path.abspath(path))
    parts = list(package_of(directory) or namespace_of(directory))
    if stem != "__init__":
        parts.append(stem)
    return ".".join(parts) or stem, stem == "__init__"


@cache
def package_of(directory: str) -> tuple[str, ...]:
    """The package names down to `directory` (empty when it is no package); one look per
    folder (`package_of.cache_clear()` when files may have come or gone).

    A folder without `__init__.py` inside a package is a namespace package Python finds on the
    package's `__path__` (`pkg/api/views.py` is `pkg.api.views`), so it continues the name.
    """
    parent = os.path.dirname(directory)
    if parent == directory:
        return ()
    name = os.path.basename(directory)
    if os.path.isfile(os.path.join(directory, "__init__.py")):
        return (*package_of(parent), name)
    outer = package_of(parent)
    return (*outer, name) if outer and name.isidentifier() else ()


@cache
def namespace_of(directory: str) -> tuple[str, ...]:
    """The names of the namespace folders down to `directory` from the project folder above
    them (the nearest holding manage.py, pyproject.toml…), which Python has on sys.path when
    the project runs: `shop/tasks.py` without `shop/__init__.py` is `shop.tasks`. Only for the
    modules in them: a package below keeps its own name, since a project may put such a folder
    itself on sys.path (`apps/shop/__init__.py` imported as `shop`). Empty when a folder on the
    way is a project folder itself, is named `src`, or has no identifier for a name.
    """
    parent = os.path.dirname(directory)
    name = os.path.basename(directory)
    if parent == directory or not name.isidentifier() or name == "src" \
            or _is_project_folder(directory):
        return ()
    if _is_project_folder(parent):
        return (name,)
    outer = namespace_of(parent)
    return (*outer, name) if outer else ()


def _is_project_folder(directory: str) -> bool:
    return any(os.path.exists(os.path.join(directory, marker)) for marker in IMPORT_ROOT_MARKERS)


def clear_caches() -> None:
    """Forget what folders held (files may have come or gone since the last run)."""
    package_of.cache_clear()
    namespace_of.cache_clear()


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
