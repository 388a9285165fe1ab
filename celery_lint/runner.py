"""The two phases behind every front end: facts per file, the index, then rules per file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
import pathspec

from celery_lint.config import Config
from celery_lint.diagnostics import Applicability, Diagnostic, Edit, Fix, Location
from celery_lint.discovery import discover, display_path, project_root_of
from celery_lint.facts.deploy import (
    deploy_kind,
    read_deploy_facts,
    script_candidates,
    worth_reading,
)
from celery_lint.facts.index import ProjectIndex, build_index
from celery_lint.facts.python import read_python_facts
from celery_lint.facts.types import DeployFacts, FileFacts
from celery_lint.registry import expand_codes, get_rule, selected_rules
from celery_lint.rules import VISITOR_RULES
from celery_lint.rules.base import FileContext, RuleBatch
from celery_lint.rules.deploy import deploy_diagnostics
from celery_lint.rules.engine import SYNTAX_ERROR, UNUSED_NOQA
from celery_lint.rules.idempotency import idempotency_diagnostics
from celery_lint.rules.settings import project_diagnostics
from celery_lint.source import NoqaDirective, SourceError, SourceFile

# Besides files that define or import tasks, a file can only raise a phase 2 diagnostic if it
# mentions one of these.
PHASE2_WORDS = (".delay(", "apply_async", "send_task", "signature(", ".s(", ".si(",
                "beat_schedule", "BEAT_SCHEDULE", "task_routes", "TASK_ROUTES", "ROUTES",
                "TIME_LIMIT", "noqa", "crontab", "add_periodic_task", "PeriodicTask",
                "chord")


class SkippedFile(Exception):
    """A file phase 2 cannot read although Python can: reported as a warning."""


@dataclass
class RunResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files_checked: int = 0
    internal_errors: int = 0
    sources: dict[str, SourceFile] = field(default_factory=dict)  # the checked files, by path


@dataclass
class _Loaded:
    source: SourceFile | None
    facts: FileFacts | None
    checked: bool
    deploy: DeployFacts | None = None


def load_source(path: Path, text: str | None = None, python: bool = True
                ) -> tuple[SourceFile | None, Diagnostic | str | None]:
    """Read one file: a SourceFile, or a CEL001 diagnostic (undecodable) or a warning (unreadable)."""
    shown = display_path(path)
    try:
        raw = text.encode("utf-8") if text is not None else path.read_bytes()
    except OSError as exc:
        return None, f"{shown}: cannot read: {exc.strerror or exc}"
    try:
        source = SourceFile.from_bytes(str(path), shown, raw)
        source.python = python
        return source, None
    except SourceError as exc:
        return None, _syntax_diagnostic(str(path), str(exc), 1, 1)


def _syntax_diagnostic(path: str, message: str, row: int, column: int) -> Diagnostic:
    return Diagnostic(SYNTAX_ERROR.code, f"Cannot parse: {message}", path, Location(row, column),
                      Location(row, column), noqa_row=row, severity=SYNTAX_ERROR.severity)


@dataclass
class Project:
    """Every file of the project read and reduced to facts, and the index built from them."""

    loaded: dict[Path, _Loaded]
    index: ProjectIndex
    result: RunResult  # warnings, and the CEL001 of files that cannot be decoded


def load_project(paths: list[Path], config: Config, stdin: tuple[Path, str] | None = None,
                 overrides: dict[Path, SourceFile] | None = None) -> Project:
    """Phase 1: discover `paths` and the projects around them, read facts, build the index.

    `overrides` replaces files' contents with sources in memory (the fix loop's edited files).
    """
    result = RunResult()
    found, warnings = discover(paths, config)
    result.warnings += [f"{display_path(Path(w.path))}: {w.message}" for w in warnings]
    checked = {d.path for d in found}
    context_roots = {project_root_of(d.path) for d in found if d.explicit}
    if stdin is not None:
        stdin_path = stdin[0].absolute()
        checked = {stdin_path}
        context_roots.add(project_root_of(stdin_path))
    known = {d.path for d in found}
    for root in sorted(context_roots):
        extra, _ = discover([root], config)
        found += [d for d in extra if d.path not in known]
        known.update(d.path for d in extra)
    loaded: dict[Path, _Loaded] = {}
    if stdin is not None:
        loaded[stdin[0].absolute()] = _load(stdin[0].absolute(), stdin[1], True, result)
    for item in found:
        if item.path not in loaded:
            loaded[item.path] = _load(item.path, None, item.path in checked, result,
                                      source=(overrides or {}).get(item.path))
    _load_scripts(loaded, config, result)
    index = build_index([entry.facts for entry in loaded.values() if entry.facts is not None],
                        config, [entry.deploy for entry in loaded.values()
                                 if entry.deploy is not None])
    return Project(loaded, index, result)


def run(paths: list[Path], config: Config, stdin: tuple[Path, str] | None = None,
        overrides: dict[Path, SourceFile] | None = None) -> RunResult:
    """Lint `paths` (or the stdin buffer reported as its path) with the whole project as context."""
    project = load_project(paths, config, stdin, overrides)
    result, index = project.result, project.index
    codes = selected_rules(config.select, config.ignore, config.extend_select)
    by_file = project_diagnostics_by_file(index, codes, result)
    for entry in project.loaded.values():
        if entry.checked:
            _check_entry(entry, index, config, codes, by_file, result)
    result.diagnostics.sort(key=lambda d: d.sort_key)
    return result


def reload_file(project: Project, path: Path, config: Config, text: str | None = None
                ) -> Project:
    """`project` with one file read again (from `text`, else from disk) and the index rebuilt.

    A file that is gone drops out of the index; a new one joins it.
    """
    result = RunResult()
    path = path.absolute()
    loaded = {**project.loaded, path: _load(path, text, True, result)}
    index = build_index([e.facts for e in loaded.values() if e.facts is not None], config,
                        [e.deploy for e in loaded.values() if e.deploy is not None])
    return Project(loaded, index, result)


def recheck(project: Project, path: Path, text: str, config: Config) -> RunResult:
    """Lint one buffer against a project loaded before: only the buffer is read again.

    The same diagnostics as `run([path], config, stdin=(path, text))` when the other files have
    not changed since `project` was loaded (an editor re-checking the file being typed in).
    """
    updated = reload_file(project, path, config, text)
    result = updated.result
    codes = selected_rules(config.select, config.ignore, config.extend_select)
    by_file = project_diagnostics_by_file(updated.index, codes, result)
    _check_entry(updated.loaded[path.absolute()], updated.index, config, codes, by_file, result)
    result.diagnostics.sort(key=lambda d: d.sort_key)
    return result


def _check_entry(entry: _Loaded, index: ProjectIndex, config: Config, codes: frozenset[str],
                 by_file: dict[str, list[Diagnostic]], result: RunResult) -> None:
    """Phase 2 for one loaded file, into `result`."""
    if entry.source is None:
        return
    result.files_checked += 1
    if entry.facts is None:
        # a deployment file: its diagnostics come from the project rules
        result.diagnostics += _finish(entry.source, by_file.get(entry.source.path, []),
                                      config, codes)
        return
    try:
        result.diagnostics += check_file(entry.source, entry.facts, index, config, codes,
                                         by_file.get(entry.source.path, []))
    except SkippedFile as exc:
        result.warnings.append(f"{entry.source.display_path}: {exc}")
    except Exception as exc:  # noqa: BLE001 - a bug in a rule must not end the run
        result.internal_errors += 1
        result.warnings.append(f"{entry.source.display_path}: internal error: {exc!r}")


def _load(path: Path, text: str | None, checked: bool, result: RunResult,
          kind: str | None = None, source: SourceFile | None = None) -> _Loaded:
    kind = kind or (None if path.suffix == ".py" else deploy_kind(path))
    problem: Diagnostic | str | None = None
    if source is None:
        source, problem = load_source(path, text, python=kind is None)
    if source is not None and checked:
        result.sources[source.path] = source
    if isinstance(problem, str):
        result.warnings.append(problem)
    elif isinstance(problem, Diagnostic) and checked and kind is None:
        result.files_checked += 1
        result.diagnostics.append(problem)
    if source is None:
        return _Loaded(None, None, checked)
    if kind is not None:
        if not worth_reading(kind, source.text):
            return _Loaded(source, None, checked)
        facts = read_deploy_facts(source.path, kind, source.text)
        if checked:
            result.warnings += [f"{source.display_path}: {w}" for w in facts.warnings]
        return _Loaded(source, None, checked, facts)
    return _Loaded(source, read_python_facts(Path(source.path), source.text), checked)


def _load_scripts(loaded: dict[Path, _Loaded], config: Config, result: RunResult) -> None:
    """Read the scripts that process definitions run (`command: /start-worker`, through a
    Dockerfile's COPY), also those without a `.sh` name discovery did not pick up."""
    deploys = [entry.deploy for entry in loaded.values() if entry.deploy is not None]
    copies = [(source, destination, d.path) for d in deploys for source, destination in d.copies]
    root = str(config.root)
    checked = {entry.deploy.path for entry in loaded.values()
               if entry.deploy is not None and entry.checked}
    for facts in deploys:
        for definition in facts.processes:
            for script, _, _ in definition.scripts:
                for candidate in script_candidates(script, facts.path, copies, root):
                    path = Path(candidate)
                    if path in loaded or not path.is_file():
                        continue
                    # checked with the definition that runs it
                    entry = _load(path, None, facts.path in checked, result, kind="shell")
                    loaded[path] = entry
                    break


def project_diagnostics_by_file(index: ProjectIndex, codes: frozenset[str],
                                result: RunResult) -> dict[str, list[Diagnostic]]:
    """The project-wide rules (settings, deployments), by the file each diagnostic sits in."""
    try:
        found = project_diagnostics(index, codes) + deploy_diagnostics(index, codes) + \
            idempotency_diagnostics(index, codes)
    except Exception as exc:  # noqa: BLE001 - a bug in a rule must not end the run
        result.internal_errors += 1
        result.warnings.append(f"project rules: internal error: {exc!r}")
        return {}
    by_file: dict[str, list[Diagnostic]] = {}
    for diagnostic in found:
        by_file.setdefault(diagnostic.path, []).append(diagnostic)
    return by_file


def check_file(source: SourceFile, facts: FileFacts, index: ProjectIndex, config: Config,
               codes: frozenset[str], project: list[Diagnostic] | None = None,
               line_noqa: bool = True) -> list[Diagnostic]:
    """Phase 2 for one file: its diagnostics (and the project's that sit in it), after noqa.

    `line_noqa` off leaves `# noqa` comments to a host that handles them itself (flake8).
    """
    diagnostics: list[Diagnostic] = list(project or ())
    if facts.syntax_error is not None:
        message, row, column = facts.syntax_error
        diagnostics.append(_syntax_diagnostic(source.path, message, row, column))
    elif needs_rules(source, facts, index):
        diagnostics += _visit(source, facts, index, config, codes)
    return _finish(source, diagnostics, config, codes, line_noqa)


def _finish(source: SourceFile, diagnostics: list[Diagnostic], config: Config,
            codes: frozenset[str], line_noqa: bool = True) -> list[Diagnostic]:
    """A file's diagnostics after the selection, per-file ignores and noqa comments."""
    ignored = _per_file_ignored(source.path, config)
    diagnostics = [d for d in diagnostics if d.code in codes | {SYNTAX_ERROR.code}
                   and d.code not in ignored]
    return _apply_noqa(source, diagnostics, codes - ignored, line_noqa)


def needs_rules(source: SourceFile, facts: FileFacts, index: ProjectIndex) -> bool:
    """Whether phase 2 can find anything in this file (parsing with libcst is the costly part)."""
    if facts.tasks or facts.candidate_tasks:
        return True
    if any(word in source.text for word in PHASE2_WORDS):
        return True
    tasks = index.tasks
    return any(target in tasks or index.resolve(target) in tasks
               for target in facts.imports.values())


def _visit(source: SourceFile, facts: FileFacts, index: ProjectIndex, config: Config,
           codes: frozenset[str]) -> list[Diagnostic]:
    rules = [rule for rule in VISITOR_RULES if rule.info.code in codes]
    if not rules:
        return []
    try:
        module = cst.parse_module(source.text)
    except (cst.ParserSyntaxError, RecursionError) as exc:
        # `ast` accepted the file, so this is a limit of the libcst parser, not the user's error
        raise SkippedFile(f"skipped: libcst cannot parse it ({str(exc).splitlines()[0]})") from None
    context = FileContext(source, module, facts, index, config)
    RuleBatch([rule(context) for rule in rules]).run(module)
    return context.diagnostics


def _unused_noqa_fix(source: SourceFile, directive: NoqaDirective, unused: list[str]) -> Fix:
    """Drop the unused codes; drop the whole comment when none is left (keeping any text that
    follows it as a comment)."""
    row = directive.row
    line = source.line(row)
    start, end = directive.column - 1, directive.end_column - 1
    left = [c for c in directive.codes or () if c not in unused]
    if left:
        content, message = f"# noqa: {', '.join(left)}", f"Remove {', '.join(unused)}"
    elif line[end:].strip():
        content, message = "#", "Remove the `noqa` directive"
    else:
        content, message = "", "Remove the `noqa` directive"
        if not line[:start].strip():  # a comment on a line of its own: the line goes
            if row < len(source.lines) or source.text.endswith(("\n", "\r")):
                edit = Edit("", Location(row, 1), Location(row + 1, 1))
            else:  # the last line, with no newline after it: its text goes
                edit = Edit("", Location(row, 1), Location(row, len(line) + 1))
            return Fix(Applicability.SAFE, message, (edit,))
        while start > 0 and line[start - 1] in " \t":
            start -= 1  # and the spaces before it
    edit = Edit(content, Location(row, start + 1), Location(row, end + 1))
    return Fix(Applicability.SAFE, message, (edit,))


def _per_file_ignored(path: str, config: Config) -> frozenset[str]:
    if not config.per_file_ignores:
        return frozenset()
    try:
        relative = Path(path).relative_to(config.root).as_posix()
    except ValueError:
        relative = Path(path).as_posix()
    ignored: set[str] = set()
    for pattern, codes in config.per_file_ignores:
        spec = pathspec.GitIgnoreSpec.from_lines([pattern])
        if spec.match_file(relative):
            ignored |= expand_codes(codes)
    return frozenset(ignored)


def _apply_noqa(source: SourceFile, diagnostics: list[Diagnostic],
                codes: frozenset[str], line_noqa: bool = True) -> list[Diagnostic]:
    file_noqa = source.file_noqa
    if file_noqa is not None:
        if not file_noqa:
            return []
        diagnostics = [d for d in diagnostics if d.code not in file_noqa]
    directives = source.noqa if line_noqa else None
    if not directives:
        return diagnostics
    kept: list[Diagnostic] = []
    used: dict[int, set[str]] = {}
    for diagnostic in diagnostics:
        directive = directives.get(diagnostic.noqa_row)
        if directive is not None and (directive.codes is None or diagnostic.code in directive.codes):
            used.setdefault(directive.row, set()).add(diagnostic.code)
            continue
        kept.append(diagnostic)
    if UNUSED_NOQA.code not in codes:
        return kept
    for row, directive in sorted(directives.items()):
        if directive.codes is None or UNUSED_NOQA.code in directive.codes:
            continue  # `# noqa: CEL002, ...` keeps a directive on purpose
        unused = [c for c in directive.codes if c.startswith("CEL") and c not in used.get(row, ())
                  and (c in codes or get_rule(c) is None)]
        if unused:
            names = ", ".join(f"`{c}`" for c in unused)
            kept.append(Diagnostic(
                UNUSED_NOQA.code, f"Unused `noqa` directive ({names} not reported here)",
                source.path, Location(row, directive.column), Location(row, directive.end_column),
                fix=_unused_noqa_fix(source, directive, unused),
                noqa_row=row, severity=UNUSED_NOQA.severity))
    kept.sort(key=lambda d: d.sort_key)
    return kept

