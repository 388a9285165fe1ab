"""Module names from paths and relative imports, the same for the `ast` and libcst phases."""

from __future__ import annotations

from pathlib import Path


def module_name(path: Path) -> tuple[str, bool]:
    """The dotted module name of `path` and whether it is a package's `__init__`.

    Packages are the folders that hold an `__init__.py`; the name starts below the first
    folder that does not, as Python would import it with that folder on sys.path.
    """
    parts = [] if path.stem == "__init__" else [path.stem]
    directory = path.parent
    while (directory / "__init__.py").is_file() and directory.parent != directory:
        parts.append(directory.name)
        directory = directory.parent
    parts.reverse()
    return ".".join(parts) or path.stem, path.stem == "__init__"


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
