"""Which files a run reads: walk the paths, skip the usual noise, honour .gitignore and excludes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pathspec

from celery_lint.config import Config

DEFAULT_EXCLUDES = (
    ".git", ".hg", ".svn", ".bzr", ".venv", "venv", ".env", "env", "virtualenv", ".tox", ".nox",
    "node_modules", "build", "dist", "__pycache__", ".mypy_cache", ".pytest_cache",
    ".ruff_cache", ".eggs", "*.egg-info", "site-packages", "__pypackages__", ".direnv",
    "_build", "buck-out", ".cache", "htmlcov",
)


PROJECT_MARKERS = ("manage.py", "pyproject.toml", "setup.py", "setup.cfg", ".git")


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


def is_lintable(path: Path) -> bool:
    """A Python file or a deployment file (Procfile, compose, Kubernetes, supervisord, ...)."""
    from celery_lint.facts.deploy import deploy_kind

    return path.suffix == ".py" or deploy_kind(path) is not None


class _Ignorer:
    def __init__(self, config: Config) -> None:
        self.root = config.root
        patterns = list(DEFAULT_EXCLUDES) + list(config.exclude or ()) + list(config.extend_exclude)
        self.excludes = pathspec.GitIgnoreSpec.from_lines(patterns)
        self.gitignores: dict[Path, pathspec.GitIgnoreSpec] = {}

    def load_gitignore(self, directory: Path) -> None:
        file = directory / ".gitignore"
        if file.is_file():
            try:
                lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                return
            self.gitignores[directory] = pathspec.GitIgnoreSpec.from_lines(lines)

    def ignored(self, path: Path, is_dir: bool) -> bool:
        suffix = "/" if is_dir else ""
        if self.excludes.match_file(path.name + suffix):
            return True
        try:
            relative = path.relative_to(self.root).as_posix()
        except ValueError:
            relative = None
        if relative is not None and self.excludes.match_file(relative + suffix):
            return True
        if is_dir and (path / "pyvenv.cfg").exists():
            return True
        for base, spec in self.gitignores.items():
            if base in path.parents and spec.match_file(path.relative_to(base).as_posix() + suffix):
                return True
        return False


def discover(paths: list[Path], config: Config) -> tuple[list[Discovered], list[DiscoveryWarning]]:
    """Files to lint under `paths`, sorted, each once; problems come back as warnings."""
    ignorer = _Ignorer(config)
    for parent in (config.root, *config.root.parents):
        ignorer.load_gitignore(parent)
        if (parent / ".git").exists():
            break
    found: dict[Path, Discovered] = {}
    warnings: list[DiscoveryWarning] = []
    for path in paths:
        if not path.exists():
            warnings.append(DiscoveryWarning(str(path), "no such file or directory"))
            continue
        if path.is_file():
            resolved = path.absolute()
            found[resolved] = Discovered(resolved, explicit=True)
            continue
        for directory, dirnames, filenames in os.walk(path, onerror=_collect(warnings)):
            here = Path(directory).absolute()
            ignorer.load_gitignore(here)
            dirnames[:] = sorted(
                d for d in dirnames
                if not (here / d).is_symlink() and not ignorer.ignored(here / d, is_dir=True)
            )
            for name in filenames:
                file = here / name
                if is_lintable(file) and file not in found and not ignorer.ignored(file, False):
                    found[file] = Discovered(file, explicit=False)
    return sorted(found.values(), key=lambda d: d.path), warnings


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
