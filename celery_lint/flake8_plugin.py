"""The flake8 plugin `CEL`: celery-lint's diagnostics of one file, with its whole project as context.

flake8 hands the plugin one Python file at a time; celery-lint's rules need facts from the project
around it (models, tasks, settings). The project is read once per process and per project root,
and each file flake8 checks is looked up in it. flake8 does its own selection (`--select CEL`,
`--extend-ignore CEL2`) and its own `# noqa`, so the plugin leaves both to it: it reports the rules
`[tool.celery-lint]` selects (the default-enabled ones when it says nothing), never CEL002 (flake8
would have to know which comments celery-lint uses) and never CEL001 (flake8 reports E999 itself).
"""

from __future__ import annotations

import ast
import functools
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from celery_lint import __version__
from celery_lint.codes import selected_rules
from celery_lint.config import Config, ConfigError, load_config
from celery_lint.diagnostics import Diagnostic, SkippedFile
from celery_lint.discovery import project_root_of
from celery_lint.facts.python import read_python_facts
from celery_lint.facts.types import FileFacts
from celery_lint.index import ProjectIndex
from celery_lint.rules.engine import SYNTAX_ERROR, UNUSED_NOQA
from celery_lint.runner import check_file, load_project, project_diagnostics_by_file
from celery_lint.source import SourceFile

LOG = logging.getLogger(__name__)

# flake8 reports what these would: E999 for a file it cannot parse, its own unused-noqa plugins.
_LEFT_TO_FLAKE8 = frozenset({SYNTAX_ERROR.code, UNUSED_NOQA.code})


class Plugin:
    """flake8's tree plugin interface: `run()` yields `(row, 0-based column, text, type)`."""

    name = "celery-lint"
    version = __version__

    def __init__(self, tree: ast.AST, filename: str, lines: list[str]) -> None:
        # `tree` makes flake8 run the plugin once per file; the rules read the source with libcst.
        self.filename = filename
        self.lines = lines

    def run(self) -> Iterator[tuple[int, int, str, type[Plugin]]]:
        try:
            diagnostics = file_diagnostics(self.filename, "".join(self.lines))
        except Exception:  # a bug in celery-lint must not stop flake8's run
            LOG.warning("celery-lint: internal error on %s", self.filename, exc_info=True)
            return
        for diagnostic in diagnostics:
            location = diagnostic.location
            yield (location.row, location.column - 1, f"{diagnostic.code} {diagnostic.message}",
                   type(self))


@dataclass(frozen=True)
class _Context:
    """What a file of a project is checked against: the project's index and its own findings."""

    index: ProjectIndex
    by_file: dict[str, list[Diagnostic]]
    files: dict[Path, tuple[SourceFile, FileFacts]]  # the project's Python files as read


_PROJECTS: dict[tuple[Path, Config], _Context] = {}


def file_diagnostics(filename: str, text: str) -> list[Diagnostic]:
    """celery-lint's diagnostics of `filename` whose current content is `text`, before noqa."""
    path = Path(filename).absolute()
    config = _config_for(path.parent)
    if config is None:
        return []
    codes = flake8_codes(config)
    root = project_root_of(path)
    key = (root, config)
    if key not in _PROJECTS:
        _PROJECTS[key] = _read_project(root, config, codes)
    context = _PROJECTS[key]
    known = context.files.get(path)
    if known is not None and _same_text(known[0].text, text):
        source, facts = known
    elif known is not None:
        # edited and unsaved (flake8 on stdin with --stdin-display-name): the project as it
        # would be with this content, read for this file only
        context = _read_project(root, config, codes, (path, text))
        source, facts = context.files[path]
    else:
        # a file the project's discovery skips (excluded, gitignored): checked on its own facts
        source = SourceFile(str(path), filename, text)
        facts = read_python_facts(path, text)
    if facts.syntax_error is not None:
        return []
    try:
        diagnostics = check_file(source, facts, context.index, config, codes,
                                 context.by_file.get(source.path, []), line_noqa=False)
    except SkippedFile:
        return []
    return [d for d in diagnostics if d.code not in _LEFT_TO_FLAKE8]


def flake8_codes(config: Config) -> frozenset[str]:
    """The rules reported under flake8: those `[tool.celery-lint]` selects, less flake8's own."""
    return selected_rules(config.select, config.ignore, config.extend_select,
                          config.preview) - _LEFT_TO_FLAKE8


@functools.cache
def _config_for(directory: Path) -> Config | None:
    """The configuration for the files of `directory`; None (said once) when it is invalid."""
    try:
        return load_config(directory)
    except ConfigError as exc:
        print(f"celery-lint: {exc}; the CEL checks are skipped", file=sys.stderr)
        return None


def _read_project(root: Path, config: Config, codes: frozenset[str],
                  edited: tuple[Path, str] | None = None) -> _Context:
    project = load_project([root], config, edited)
    by_file = project_diagnostics_by_file(project.index, codes, project.result)
    files = {path: (entry.source, entry.facts) for path, entry in project.loaded.items()
             if entry.source is not None and entry.facts is not None}
    return _Context(project.index, by_file, files)


def _same_text(on_disk: str, current: str) -> bool:
    # flake8 reads files with universal newlines
    return on_disk == current or on_disk.replace("\r\n", "\n").replace("\r", "\n") == current
