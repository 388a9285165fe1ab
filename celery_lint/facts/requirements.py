"""The lowest version of a package a project's own dependency files allow (`celery>=5.4` → 5.4).

Read from requirements*.txt and requirements/*.txt, pyproject.toml (`[project] dependencies`,
`[tool.poetry.dependencies]`), setup.cfg and setup.py `install_requires`, and the METADATA of a
wheel's `*.dist-info` folder: in the project's root, or the nearest folder above it that has any,
up to the first folder that marks a project (manage.py, pyproject.toml, .git…). Every requirement
of the package found must have a lower bound; one without (`celery`, `celery<6`) makes the
version unknown, since that may be the one installed.
"""

from __future__ import annotations

import configparser
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from celery_lint.discovery import PROJECT_MARKERS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

Version = tuple[int, ...]

_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)", re.DOTALL)
_CLAUSE = re.compile(r"\s*(===|==|~=|>=|<=|!=|>|<|\^|~|=)?\s*v?([0-9][0-9A-Za-z.*+!-]*)\s*")
_LOWER_BOUNDS = frozenset({"===", "==", "~=", ">=", ">", "^", "~", "=", None})
# `"celery>=5.4"` anywhere in a setup.py (install_requires is usually a literal list)
_SETUP_PY = re.compile(r"""["']([A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]'"]*\])?\s*[^'"]*)["']""")


def minimum_version(root: Path, package: str) -> Version | None:
    """The lowest version of `package` the dependency files of the project at `root` allow."""
    for folder in (root, *root.parents):
        found = list(_requirements(folder, _normal(package)))
        bounds = [bound for bound in found if bound is not None]
        if found:
            return min(bounds) if len(bounds) == len(found) else None
        if any((folder / marker).exists() for marker in PROJECT_MARKERS):
            break
    return None


def version_text(version: Version | None, package: str = "celery") -> str:
    """`5.4` for a version the project's files give; the installed version's own text for None
    (what celery-lint assumes when the project does not say)."""
    if version is not None:
        return ".".join(str(part) for part in version)
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed(package)
    except PackageNotFoundError:
        return "(unknown version)"


def _requirements(folder: Path, package: str) -> Iterator[Version | None]:
    """The lower bound of each requirement of `package` in the dependency files of `folder`."""
    for path in sorted([*folder.glob("requirements*.txt"), *folder.glob("requirements/*.txt")]):
        for line in _read(path).splitlines():
            line = line.split(" #", 1)[0].split("--hash", 1)[0].rstrip(" \\")
            yield from _pep508(line, package)
    pyproject = _read(folder / "pyproject.toml")
    if pyproject:
        yield from _pyproject(pyproject, package)
    setup_cfg = _read(folder / "setup.cfg")
    if setup_cfg:
        yield from _setup_cfg(setup_cfg, package)
    for match in _SETUP_PY.finditer(_read(folder / "setup.py")):
        yield from _pep508(match.group(1), package)
    for metadata in sorted(folder.glob("*.dist-info/METADATA")):
        for line in _read(metadata).splitlines():
            if line.startswith("Requires-Dist:"):
                yield from _pep508(line.partition(":")[2], package)


def _pyproject(text: str, package: str) -> Iterator[Version | None]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    project = data.get("project")
    dependencies = project.get("dependencies") if isinstance(project, dict) else None
    for line in dependencies if isinstance(dependencies, list) else ():
        if isinstance(line, str):
            yield from _pep508(line, package)
    poetry = data.get("tool", {}).get("poetry", {})
    table = poetry.get("dependencies") if isinstance(poetry, dict) else None
    for name, spec in (table.items() if isinstance(table, dict) else ()):
        if _normal(name) != package:
            continue
        if isinstance(spec, dict):
            spec = spec.get("version")
        yield _lower_bound(spec) if isinstance(spec, str) else None


def _setup_cfg(text: str, package: str) -> Iterator[Version | None]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return
    for line in parser.get("options", "install_requires", fallback="").splitlines():
        yield from _pep508(line, package)


def _pep508(line: str, package: str) -> Iterator[Version | None]:
    """The lower bound of `line` when it requires `package` (`celery[redis]>=5.4; python...`)."""
    requirement, _, marker = line.partition(";")
    match = _NAME.fullmatch(requirement.strip())
    if match is None or _normal(match.group(1)) != package or "extra" in marker:
        return
    specifier = match.group(3).strip()
    if specifier.startswith("@"):
        yield None  # a URL: the version is whatever it points at
        return
    yield _lower_bound(specifier.strip("()"))


def _lower_bound(specifier: str) -> Version | None:
    """The highest lower bound of `>=5.4,<6`, `==5.4.*`, `~=5.5`, `^5.4` (poetry), `5.4`."""
    bounds = []
    for clause in specifier.split(","):
        match = _CLAUSE.fullmatch(clause)
        if match is not None and match.group(1) in _LOWER_BOUNDS:
            version = _version(match.group(2))
            if version:
                bounds.append(version)
    return max(bounds) if bounds else None


def _version(text: str) -> Version:
    parts = []
    for part in text.split("."):
        digits = re.match(r"\d+", part)
        if digits is None:
            break
        parts.append(int(digits.group()))
        if digits.end() < len(part):
            break  # a pre-release or local suffix: `5.4.0rc1`
    return tuple(parts)


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    except OSError:
        return ""
