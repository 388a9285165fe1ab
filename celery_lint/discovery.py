"""Which files a run reads: walk the paths, skip the usual noise, honour .gitignore and excludes."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

import pathspec

from celery_lint.config import Config

# `exclude` replaces these and `extend-exclude` adds to them, as in ruff. Besides the usual
# noise, documentation, examples and tool folders: code there is shown or checked, not run, so
# its compose files are no deployment and its tasks are not the project's.
DEFAULT_EXCLUDES = (
    ".git", ".hg", ".svn", ".bzr", ".venv", "venv", ".env", "env", "virtualenv", ".tox", ".nox",
    "node_modules", "build", "dist", "__pycache__", ".mypy_cache", ".pytest_cache",
    ".ruff_cache", ".eggs", "*.egg-info", "site-packages", "__pypackages__", ".direnv",
    "_build", "buck-out", ".cache", "htmlcov", ".celery_lint_cache",
    "docs", "examples", ".semgrep",
)


PROJECT_MARKERS = ("manage.py", "pyproject.toml", "setup.py", "setup.cfg", ".git")
COMPOSE_NAME = re.compile(r"^(docker-)?compose([.\-_][\w.\-]+)?\.ya?ml$", re.IGNORECASE)


def project_root_of(file: Path) -> Path:
    """The folder of the project around `file`: the nearest one with manage.py, pyproject.toml…"""
    for directory in file.absolute().parents:
        if any((directory / marker).exists() for marker in PROJECT_MARKERS):
            return directory
    return file.absolute().parent


def display_path(path: Path) -> str:
    """`path` as shown to the user: relative to the current folder when under it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative


@dataclass(frozen=True)
class Discovered:
    path: Path
    explicit: bool  # named on the command line: always checked


@dataclass(frozen=True)
class DiscoveryWarning:
    path: str
    message: str


def deploy_kind(path: PurePath | str) -> str | None:
    """The kind of deployment file `path` (or a file name) names, or None (Python and others)."""
    name = path if isinstance(path, str) else path.name
    lower = name.lower()
    if name == "Procfile" or name.startswith("Procfile."):
        return "procfile"
    if COMPOSE_NAME.match(name):
        return "compose"
    if name == "Dockerfile" or name.startswith("Dockerfile.") or lower.endswith(".dockerfile"):
        return "dockerfile"
    if lower.endswith((".yaml", ".yml")):
        return "kubernetes"
    if lower.endswith(".service"):
        return "systemd"
    if lower.endswith((".conf", ".ini")):
        return "supervisord"
    if lower.endswith(".sh"):
        return "shell"
    return None


def is_lintable(path: Path) -> bool:
    """A Python file or a deployment file (Procfile, compose, Kubernetes, supervisord, ...)."""
    return path.suffix == ".py" or deploy_kind(path) is not None


class _Spec:
    """Gitignore-style patterns (pathspec) matched with one combined regular expression when none
    is negated (the common case: a walk asks thousands of times)."""

    def __init__(self, lines: list[str]) -> None:
        self.spec = pathspec.GitIgnoreSpec.from_lines(lines)
        patterns = [p for p in self.spec.patterns if p.include is not None]
        self.regex: re.Pattern[str] | None = None
        if all(p.include for p in patterns) and all(p.regex is not None for p in patterns):
            joined = "|".join(f"(?:{_GROUP.sub('(?:', p.regex.pattern)})" for p in patterns)
            self.regex = re.compile(joined) if joined else _NOTHING

    def match(self, path: str) -> bool:
        if self.regex is not None:
            return self.regex.search(path) is not None
        return self.spec.match_file(path)


_PLAIN = re.compile(r"[^\\/*?\[\]!#\s]+")  # a name with no pattern characters
_NOTHING = re.compile("(?!)")
_GROUP = re.compile(r"\(\?P<\w+>")


def _valid_pattern(line: str, file: str, warnings: list[DiscoveryWarning]) -> bool:
    try:
        pathspec.GitIgnoreSpec.from_lines([line])
    except (ValueError, re.error):
        warnings.append(DiscoveryWarning(file, f"invalid pattern {line!r} ignored"))
        return False
    return True


class _Ignorer:
    def __init__(self, config: Config) -> None:
        self.root = str(config.root.absolute())
        excludes = DEFAULT_EXCLUDES if config.exclude is None else config.exclude
        patterns = [*excludes, *config.extend_exclude]
        # plain names (`node_modules`, `build/`) are matched as a name, the rest as patterns; a
        # walk never enters an excluded folder, so the name of the file or folder is enough
        self.names = {p.rstrip("/") for p in patterns if _PLAIN.fullmatch(p)}
        self.folder_names = {p.rstrip("/") for p in patterns if _PLAIN.fullmatch(p.rstrip("/"))
                             and p.endswith("/")}
        self.names -= self.folder_names
        self.excludes = _Spec([p for p in patterns if not _PLAIN.fullmatch(p.rstrip("/"))])
        self.gitignores: dict[str, _Spec] = {}  # by folder, with a trailing separator
        self.warnings: list[DiscoveryWarning] = []  # about .gitignore files

    def load_gitignore(self, directory: Path | str) -> None:
        file = os.path.join(directory, ".gitignore")
        if os.path.isfile(file):
            try:
                with open(file, encoding="utf-8", errors="replace") as handle:
                    lines = handle.read().splitlines()
            except OSError:
                return
            try:
                spec = _Spec(lines)
            except (ValueError, re.error):  # git skips the patterns it cannot read; so do we
                spec = _Spec([line for line in lines if _valid_pattern(line, file, self.warnings)])
            self.gitignores[os.path.join(str(directory), "")] = spec

    def ignored(self, path: Path | str, is_dir: bool, venv: bool = True) -> bool:
        """Whether `path` is excluded; `venv` also asks whether a folder is a virtualenv."""
        path = str(path)
        suffix = "/" if is_dir else ""
        name = os.path.basename(path)
        if name in self.names or (is_dir and name in self.folder_names):
            return True
        relative = _relative(path, self.root)
        if self.excludes.regex != _NOTHING and self.excludes.match(
                (name if relative is None else relative) + suffix):
            return True
        if venv and is_dir and os.path.exists(os.path.join(path, "pyvenv.cfg")):
            return True
        for base, spec in self.gitignores.items():
            if path.startswith(base) and spec.match(
                    path[len(base):].replace(os.sep, "/") + suffix):
                return True
        return False


def _walk(top: str, ignorer: _Ignorer, onerror: Any) -> Iterator[tuple[str, list[str]]]:
    """(folder, names of its files) for `top` and the folders under it, as `os.walk` without
    following symbolic links, leaving out ignored folders and virtualenvs: one `scandir` per
    folder and no other system call (the walk of a large project is a large part of a run)."""
    stack = [top]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as listing:
                entries = list(listing)
        except OSError as exc:
            onerror(exc)
            continue
        if directory != top and any(e.name == "pyvenv.cfg" for e in entries):
            continue  # a virtualenv
        if any(e.name == ".gitignore" for e in entries):
            ignorer.load_gitignore(directory)
        files, folders = [], []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:  # a symbolic link loop, a folder we may not look at
                is_dir = False
            if not is_dir:
                files.append(entry.name)
            elif not entry.is_symlink() and not ignorer.ignored(entry.path, True, venv=False):
                folders.append(entry.path)
        yield directory, files
        stack += sorted(folders, reverse=True)


def _relative(path: str, root: str) -> str | None:
    """`path` relative to `root` with `/` separators, None when outside it."""
    if path == root:
        return "."
    prefix = os.path.join(root, "")
    if not path.startswith(prefix):
        return None
    return path[len(prefix):].replace(os.sep, "/")


def discover(paths: list[Path], config: Config) -> tuple[list[Discovered], list[DiscoveryWarning]]:
    """Files to lint under `paths`, sorted, each once; problems come back as warnings."""
    ignorer = _Ignorer(config)
    for parent in (config.root, *config.root.parents):
        ignorer.load_gitignore(parent)
        if (parent / ".git").exists():
            break
    found: dict[str, bool] = {}  # path: named on the command line
    warnings: list[DiscoveryWarning] = []
    for path in paths:
        if not path.exists():
            warnings.append(DiscoveryWarning(str(path), "no such file or directory"))
            continue
        if path.is_file():
            found[str(path.absolute())] = True
            continue
        if not path.is_dir():
            warnings.append(DiscoveryWarning(str(path.absolute()), "not a regular file; skipped"))
            continue
        for directory, filenames in _walk(str(path.absolute()), ignorer, _collect(warnings)):
            for name in filenames:
                if not (name.endswith(".py") and name != ".py" or deploy_kind(name)):
                    continue
                file = os.path.join(directory, name)
                if file not in found and not ignorer.ignored(file, False):
                    if _special(file):
                        warnings.append(DiscoveryWarning(file, "not a regular file; skipped"))
                        continue
                    found[file] = False
    return sorted((Discovered(Path(p), explicit) for p, explicit in found.items()),
                  key=lambda d: d.path), list(dict.fromkeys(warnings + ignorer.warnings))


def _special(file: str) -> bool:
    """A FIFO, socket or device (or a link to one): reading it may block or never end."""
    try:
        mode = os.stat(file).st_mode
    except OSError:
        return False  # a broken link or a loop: reading it says what is wrong
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _collect(warnings: list[DiscoveryWarning]):  # type: ignore[no-untyped-def]
    def onerror(error: OSError) -> None:
        warnings.append(DiscoveryWarning(str(error.filename), error.strerror or str(error)))

    return onerror


def would_discover(path: Path, root: Path, config: Config) -> bool:
    """Whether walking `root` finds the file `path` (excludes, .gitignore files, virtualenvs):
    a file created while the language server runs joins the project only then."""
    ignorer = _Ignorer(config)
    for parent in (config.root, *config.root.parents):
        ignorer.load_gitignore(parent)
        if (parent / ".git").exists():
            break
    path, root = path.absolute(), root.absolute()
    if root not in path.parents:
        return False
    for directory in reversed(path.parents):
        if root in directory.parents:
            if ignorer.ignored(directory, is_dir=True):
                return False
            ignorer.load_gitignore(directory)
        elif directory == root:
            ignorer.load_gitignore(directory)
    return is_lintable(path) and not ignorer.ignored(path, is_dir=False)
