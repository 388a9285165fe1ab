"""What a project's own dependency files say of a package's version (`celery==5.6.3`, `celery>=5.4`).

Read, in the project's root or the nearest folder above it that has any, up to the first folder
that marks a project (manage.py, pyproject.toml, .git…):
- lock files, which name the version installed: uv.lock, poetry.lock, pdm.lock, Pipfile.lock;
- requirement specifiers: requirements*.txt and requirements/*.txt with the files they include
  (`-r`, `-c`), pyproject.toml (PEP 621 dependencies, optional dependencies and dependency
  groups; Poetry's dependencies and groups), Pipfile, setup.cfg and setup.py `install_requires`
  and extras, and the METADATA of a wheel's `*.dist-info` folder.
A lock file wins over specifiers. A requirement that bounds nothing (`celery`) says nothing.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from celery_lint.discovery import PROJECT_MARKERS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

Version = tuple[int, ...]

_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)", re.DOTALL)
_CLAUSE = re.compile(r"\s*(===|==|~=|>=|<=|!=|>|<|\^|~|=)?\s*v?([0-9][0-9A-Za-z.*+!-]*)\s*")
# `"celery>=5.4"` anywhere in a setup.py (install_requires is usually a literal list)
_SETUP_PY = re.compile(r"""["']([A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]'"]*\])?\s*[^'"]*)["']""")
_INCLUDE = re.compile(r"^(?:-r|--requirement|-c|--constraint)(?:\s+|=)(\S+)")
LOCK_FILES = ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock")
_MAX_INCLUDES = 50  # requirement files one file may pull in, following `-r` chains


@dataclass(frozen=True)
class Clause:
    """One comparison of a specifier: `>=5.4`, `==5.6.*` (a `prefix`), `^5.4` (Poetry)."""

    op: str
    version: Version
    prefix: bool = False  # `==5.6.*`: any release that starts with `version`

    def allows(self, version: Version) -> bool:
        if self.op in ("==", "===", "=", "!="):
            same = version[:len(self.version)] == self.version if self.prefix else \
                _padded(version) == _padded(self.version)
            return same if self.op != "!=" else not same
        if self.op == ">=":
            return _padded(version) >= _padded(self.version)
        if self.op == ">":
            return _padded(version) > _padded(self.version)
        if self.op == "<=":
            return _padded(version) <= _padded(self.version)
        if self.op == "<":
            return _padded(version) < _padded(self.version)
        # ~=5.5 (PEP 440), ^5.4 and ~5.4 (Poetry): at least the version, below a higher one
        return _padded(self.version) <= _padded(version) < _padded(self._ceiling())

    def _ceiling(self) -> Version:
        parts = self.version
        if self.op == "~=":
            keep = max(len(parts) - 1, 1)
        elif self.op == "^":
            keep = next((i + 1 for i, part in enumerate(parts) if part), len(parts))
        else:  # Poetry's ~: 5.4 and 5.4.1 allow 5.4.*, 5 allows 5.*
            keep = min(len(parts), 2)
        head = list(parts[:keep])
        head[-1] += 1
        return tuple(head)

    @property
    def bounds(self) -> bool:
        """Whether the clause limits the versions at all (`!=5.4.1` barely does)."""
        return self.op != "!="


@dataclass(frozen=True)
class Requirement:
    """A package's version as one dependency file states it."""

    text: str  # as written: `celery[redis]>=5.4,<6`, `celery 5.6.3` (a lock file)
    path: str  # the file, relative to the project's root
    clauses: tuple[Clause, ...]  # every one must hold

    def allows(self, version: Version) -> bool:
        return all(clause.allows(version) for clause in self.clauses)

    @property
    def bounds(self) -> bool:
        return any(clause.bounds for clause in self.clauses)

    @property
    def shown(self) -> str:
        return f"{self.text} in {self.path}"


def requirements(root: Path, package: str) -> tuple[Requirement, ...]:
    """What the dependency files of the project at `root` say of `package`: its lock-file
    entries when a lock file names it, else every specifier that bounds its version."""
    name = _normal(package)
    for folder in (root, *root.parents):
        locked = tuple(_locked(folder, root, name))
        if locked:
            return locked
        found = list(_specified(folder, root, name))
        if found:
            return tuple(r for r in found if r.bounds)
        if any((folder / marker).exists() for marker in PROJECT_MARKERS):
            break
    return ()


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


# -- lock files -----------------------------------------------------------------------------
def _locked(folder: Path, root: Path, package: str) -> Iterator[Requirement]:
    for name in LOCK_FILES:
        path = folder / name
        text = _read(path)
        if not text:
            continue
        versions = _pipfile_lock(text, package) if name == "Pipfile.lock" else \
            _toml_lock(text, package)
        for version in versions:
            parsed = _version(version)
            if parsed:
                yield Requirement(f"{package} {version}", _relative(path, root),
                                  (Clause("==", parsed),))


def _toml_lock(text: str, package: str) -> Iterator[str]:
    """`[[package]] name = "celery" version = "5.6.3"` (uv, Poetry and PDM lock the same way)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    for entry in _list(data.get("package")):
        if isinstance(entry, dict) and _normal(str(entry.get("name", ""))) == package \
                and isinstance(entry.get("version"), str):
            yield entry["version"]


def _pipfile_lock(text: str, package: str) -> Iterator[str]:
    """`{"default": {"celery": {"version": "==5.6.3"}}, "develop": {...}}`."""
    try:
        data = json.loads(text)
    except ValueError:
        return
    for section in ("default", "develop"):
        entries = data.get(section) if isinstance(data, dict) else None
        for name, entry in (entries.items() if isinstance(entries, dict) else ()):
            version = entry.get("version") if isinstance(entry, dict) else None
            if _normal(name) == package and isinstance(version, str):
                yield version.lstrip("=")


# -- specifiers -----------------------------------------------------------------------------
def _specified(folder: Path, root: Path, package: str) -> Iterator[Requirement]:
    seen: set[Path] = set()
    for path in sorted([*folder.glob("requirements*.txt"), *folder.glob("requirements/*.txt")]):
        yield from _requirements_file(path, root, package, seen)
    pyproject = folder / "pyproject.toml"
    yield from _pyproject(_read(pyproject), _relative(pyproject, root), package)
    pipfile = folder / "Pipfile"
    yield from _pipfile(_read(pipfile), _relative(pipfile, root), package)
    setup_cfg = folder / "setup.cfg"
    yield from _setup_cfg(_read(setup_cfg), _relative(setup_cfg, root), package)
    setup_py = folder / "setup.py"
    for match in _SETUP_PY.finditer(_read(setup_py)):
        yield from _pep508(match.group(1), _relative(setup_py, root), package)
    for metadata in sorted(folder.glob("*.dist-info/METADATA")):
        where = _relative(metadata, root)
        for line in _read(metadata).splitlines():
            if line.startswith("Requires-Dist:"):
                yield from _pep508(line.partition(":")[2], where, package)


def _requirements_file(path: Path, root: Path, package: str,
                       seen: set[Path]) -> Iterator[Requirement]:
    """A requirements file and the files it includes with `-r` and `-c`, each once."""
    pending = [path]
    while pending and len(seen) < _MAX_INCLUDES:
        current = pending.pop(0).resolve()
        if current in seen or not current.is_file():
            continue
        seen.add(current)
        where = _relative(current, root)
        for line in _read(current).replace("\\\n", " ").splitlines():
            line = line.split(" #", 1)[0].split("--hash", 1)[0].strip()
            include = _INCLUDE.match(line)
            if include is not None:
                pending.append(current.parent / include.group(1))
            elif line and not line.startswith(("-", "#")):
                yield from _pep508(line, where, package)


def _pyproject(text: str, where: str, package: str) -> Iterator[Requirement]:
    data = _toml(text)
    project = _dict(data.get("project"))
    lines = [*_list(project.get("dependencies"))]
    for group in _dict(project.get("optional-dependencies")).values():
        lines += _list(group)
    for group in _dict(data.get("dependency-groups")).values():  # PEP 735
        lines += _list(group)
    for line in lines:
        if isinstance(line, str):
            yield from _pep508(line, where, package)
    poetry = _dict(_dict(data.get("tool")).get("poetry"))
    tables = [poetry.get("dependencies"), poetry.get("dev-dependencies"),
              *(_dict(group).get("dependencies") for group in _dict(poetry.get("group")).values())]
    for table in tables:
        for name, spec in _dict(table).items():
            if _normal(name) == package:
                yield from _poetry(spec, where, package)


def _poetry(spec: object, where: str, package: str) -> Iterator[Requirement]:
    """`celery = "^5.4"`, `{version = "^5.4", extras = [...]}`, or a list of such tables."""
    for item in spec if isinstance(spec, list) else [spec]:
        version = item.get("version") if isinstance(item, dict) else item
        if isinstance(version, str):
            yield Requirement(f'{package} = "{version}"', where, _clauses(version))


def _pipfile(text: str, where: str, package: str) -> Iterator[Requirement]:
    data = _toml(text)
    for section in ("packages", "dev-packages"):
        for name, spec in _dict(data.get(section)).items():
            version = spec.get("version") if isinstance(spec, dict) else spec
            if _normal(name) == package and isinstance(version, str):
                yield Requirement(f'{package} = "{version}"', where, _clauses(version))


def _setup_cfg(text: str, where: str, package: str) -> Iterator[Requirement]:
    if not text:
        return
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return
    lines = parser.get("options", "install_requires", fallback="").splitlines()
    if parser.has_section("options.extras_require"):
        for _, value in parser.items("options.extras_require"):
            lines += value.splitlines()
    for line in lines:
        yield from _pep508(line, where, package)


def _pep508(line: str, where: str, package: str) -> Iterator[Requirement]:
    """`line` when it requires `package` (`celery[redis]>=5.4; python_version >= "3.9"`)."""
    requirement = line.partition(";")[0].strip()
    match = _NAME.fullmatch(requirement)
    if match is None or _normal(match.group(1)) != package:
        return
    specifier = match.group(3).strip()
    if specifier.startswith("@"):
        return  # a URL: the version is whatever it points at
    yield Requirement(" ".join(requirement.split()), where, _clauses(specifier.strip("()")))


def _clauses(specifier: str) -> tuple[Clause, ...]:
    """`>=5.4,<6`, `==5.4.*`, `~=5.5`, `^5.4` (Poetry), `5.4` (Poetry: exactly), `*` (any)."""
    found = []
    for text in specifier.split(","):
        match = _CLAUSE.fullmatch(text)
        if match is None:
            continue
        op, version = match.group(1) or "==", match.group(2)
        prefix = version.endswith(".*")
        parsed = _version(version[:-2] if prefix else version)
        if parsed:
            found.append(Clause(op, parsed, prefix))
    return tuple(found)


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


def _padded(version: Version) -> Version:
    return (*version, *(0,) * (4 - len(version)))


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _relative(path: Path, root: Path) -> str:
    try:
        return Path(os.path.relpath(path, root)).as_posix()
    except ValueError:  # another drive
        return path.as_posix()


def _toml(text: str) -> dict:  # type: ignore[type-arg]
    if not text:
        return {}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}


def _dict(value: object) -> dict:  # type: ignore[type-arg]
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list:  # type: ignore[type-arg]
    return value if isinstance(value, list) else []


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    except OSError:
        return ""
