"""The two phases behind every front end: facts per file, the index, then rules per file."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from multiprocessing import get_context
from pathlib import Path

import pathspec

from celery_lint.cache import CACHE_DIR_NAME, Cache, configuration_key, digest
from celery_lint.codes import expand_codes, get_rule, selected_rules
from celery_lint.config import Config
from celery_lint.diagnostics import Applicability, Diagnostic, Edit, Fix, Location, SkippedFile
from celery_lint.discovery import deploy_kind, discover, display_path, project_root_of
from celery_lint.facts.celery_names import project_celery
from celery_lint.facts.deploy import read_deploy_facts, script_candidates, worth_reading
from celery_lint.facts.python import read_python_facts
from celery_lint.facts.syntax import template_folder
from celery_lint.facts.types import DeployFacts, FileFacts
from celery_lint.index import ProjectIndex, build_index
from celery_lint.modules import clear_caches, module_name
from celery_lint.rules.engine import SYNTAX_ERROR, UNUSED_NOQA
from celery_lint.source import NoqaDirective, SourceError, SourceFile

# Besides files that define or import tasks, a file can only raise a phase 2 diagnostic if it
# mentions one of these (noqa comments are handled without a tree).
PHASE2_WORDS = (".delay(", "apply_async", "send_task", "signature(", ".s(", ".si(",
                "beat_schedule", "BEAT_SCHEDULE", "task_routes", "TASK_ROUTES", "ROUTES",
                "TIME_LIMIT", "crontab", "add_periodic_task", "PeriodicTask", "chord")
# CELERY_LINT_NO_PREFILTER=1 runs the libcst rules on every file: the tests compare the two.
PREFILTER = os.environ.get("CELERY_LINT_NO_PREFILTER", "") in ("", "0")


# The process pool forks (on Linux, where that is safe and the default), so that its processes
# start at once and inherit the project; elsewhere runs stay in one process.
_FORK = get_context("fork") if sys.platform.startswith("linux") else None
# Below these counts a process pool costs more than it saves (a pre-commit run of a few files).
POOL_MIN_READS = 200  # files to read facts from
POOL_MIN_CHECKS = 8  # files to run the libcst rules on


@dataclass
class RunResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files_checked: int = 0
    internal_errors: int = 0
    sources: dict[str, SourceFile] = field(default_factory=dict)  # the checked files, by path
    # files of cookiecutter or Jinja templates that are not Python: one warning per folder
    templates: tuple[str, ...] = ()

    def extend(self, other: RunResult) -> None:
        """Add what `other` found (a file's outcome, say) to this result."""
        self.diagnostics += other.diagnostics
        self.warnings += other.warnings
        self.files_checked += other.files_checked
        self.internal_errors += other.internal_errors
        self.sources.update(other.sources)
        self.templates += other.templates

    def warn_templates(self) -> None:
        """One warning per template folder (the outermost, when they nest), in place of a
        CEL001 for each of its files."""
        folders = [template_folder(Path(path)) for path in self.templates]
        known = set(folders)
        counts: dict[Path, int] = {}
        for folder in folders:
            outer = next((f for f in reversed(folder.parents) if f in known), folder)
            counts[outer] = counts.get(outer, 0) + 1
        for folder, count in sorted(counts.items()):
            files = "file" if count == 1 else "files"
            self.warnings.append(f"{display_path(folder)}: a cookiecutter or Jinja template, not "
                                 f"Python: {count} {files} that do not parse skipped")


@dataclass
class _Loaded:
    """One file of the project: its bytes, and what phase 1 read from them."""

    path: Path
    raw: bytes
    checked: bool
    kind: str | None = None  # a deployment file's kind; None for Python
    digest: bytes = b""
    facts: FileFacts | None = None
    deploy: DeployFacts | None = None
    problem: Diagnostic | None = None  # CEL001: the bytes are not text
    given: SourceFile | None = None  # the source in memory (the fix loop)
    in_memory: bool = False  # not the file on disk: never cached
    read: bool = False  # phase 1 done

    @cached_property
    def source(self) -> SourceFile | None:
        if self.given is not None:
            return self.given
        if self.problem is not None:
            return None
        try:
            source = SourceFile.from_bytes(str(self.path), display_path(self.path), self.raw)
        except SourceError:
            return None
        source.python = self.kind is None
        return source


# What phase 1 keeps of a file (and the cache stores by its content): facts, a deployment
# file's facts, or the CEL001 of bytes that are not text.
Phase1 = tuple[FileFacts | None, DeployFacts | None, Diagnostic | None]


def read_facts(path: str, data: bytes | str, kind: str | None) -> Phase1:
    """Phase 1 for one file's bytes, or its text when it is in memory (a pure function: the
    cache and the process pool rely on it)."""
    if isinstance(data, str):
        text = data
    else:
        try:
            text = SourceFile.from_bytes(path, path, data).text
        except SourceError as exc:
            return None, None, _syntax_diagnostic(path, str(exc), 1, 1)
    if kind is not None:
        if not worth_reading(kind, text):
            return None, None, None
        return None, read_deploy_facts(path, kind, text), None
    return read_python_facts(Path(path), text), None, None


def _read_facts_job(item: tuple[str, bytes | str, str | None]) -> Phase1:
    return read_facts(*item)


def _syntax_diagnostic(path: str, message: str, row: int, column: int) -> Diagnostic:
    return Diagnostic(SYNTAX_ERROR.code, f"Cannot parse: {message}", path, Location(row, column),
                      Location(row, column), noqa_row=row, severity=SYNTAX_ERROR.severity)


@dataclass
class Project:
    """Every file of the project read and reduced to facts; the index is built when asked for."""

    loaded: dict[Path, _Loaded]
    config: Config
    result: RunResult  # warnings, and the CEL001 of files that cannot be decoded
    cache: Cache | None = None
    jobs: int = 1

    @cached_property
    def index(self) -> ProjectIndex:
        return build_index([e.facts for e in self.loaded.values() if e.facts is not None],
                           self.config, [e.deploy for e in self.loaded.values()
                                         if e.deploy is not None])

    @cached_property
    def fingerprint(self) -> bytes:
        """A digest of everything a file's diagnostics can depend on besides its own bytes: every
        file of the project (paths and contents), the configuration and the Celery version its
        dependency files state."""
        parts = [repr(self.config).encode(), repr(project_celery(self.config.root)).encode()]
        for path in sorted(self.loaded):
            parts += [str(path).encode(), self.loaded[path].digest]
        return digest(b"\0".join(parts))


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def open_cache(config: Config, paths: list[Path]) -> Cache:
    """The cache folder of a run: `cache-dir`, else `.celery_lint_cache` in the folder of the
    configuration file, else in the project folder around the first path."""
    if config.cache_dir is not None:
        folder = config.root / config.cache_dir
    elif config.source is not None or not paths:
        folder = config.root / CACHE_DIR_NAME
    else:
        first = paths[0].absolute()
        folder = (first if first.is_dir() else project_root_of(first)) / CACHE_DIR_NAME
    return Cache.open(folder, configuration_key(config))


def load_project(paths: list[Path], config: Config, stdin: tuple[Path, str] | None = None,
                 overrides: dict[Path, SourceFile] | None = None, cache: Cache | None = None,
                 jobs: int = 1, read: bool = True) -> Project:
    """Phase 1: discover `paths` and the projects around them and read every file's facts
    (from `cache` when a file's content has been read before; in `jobs` processes). With
    `read` off, only the files' bytes are read (`read_project` does the rest).

    `overrides` replaces files' contents with sources in memory (the fix loop's edited files).
    """
    clear_caches()  # folders may have gained or lost an __init__.py
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
    given = dict(overrides or {})
    loaded: dict[Path, _Loaded] = {}
    if stdin is not None:
        entry = _open(stdin[0].absolute(), True, result, text=stdin[1])
        if entry is not None:
            loaded[entry.path] = entry
    for item in found:
        if item.path not in loaded:
            entry = _open(item.path, item.path in checked, result, given.get(item.path))
            if entry is not None:
                loaded[item.path] = entry
    project = Project(loaded, config, result, cache, jobs)
    # deployment files first: the scripts their processes run join the project
    _read_all(project, [e for e in loaded.values() if e.kind is not None])
    _load_scripts(project)
    if read:
        read_project(project)
    return project


def read_project(project: Project, report: bool = True) -> None:
    """Phase 1 for every file `load_project(read=False)` opened; with `report`, the checked
    files' CEL001 and deployment file warnings go into the project's result."""
    _read_all(project, list(project.loaded.values()))
    if report:
        for entry in project.loaded.values():
            if entry.checked:
                _add(project.result, entry, _phase1_outcome(entry))


def _open(path: Path, checked: bool, result: RunResult, given: SourceFile | None = None,
          kind: str | None = None, text: str | None = None) -> _Loaded | None:
    """A file's bytes, or None with a warning when it cannot be read. `given` is its source in
    memory (the fix loop); `text` its text in memory (stdin, an editor's buffer)."""
    kind = kind or (None if path.suffix == ".py" else deploy_kind(path))
    if given is not None:
        raw = given.text.encode("utf-8", "surrogatepass")
    elif text is not None:
        raw = text.encode("utf-8", "surrogateescape")
    else:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            result.warnings.append(f"{display_path(path)}: cannot read: {exc.strerror or exc}")
            return None
    return _Loaded(path, raw, checked, kind, digest(raw), given=given,
                   in_memory=given is not None or text is not None)


def _read_all(project: Project, entries: list[_Loaded]) -> None:
    """Phase 1 for `entries`: from the cache, else read (in a process pool when there are many)."""
    cache = project.cache
    todo = []
    for entry in entries:
        if entry.read:
            continue
        entry.read = True
        stored = cache.fact(str(entry.path), entry.digest, entry.kind is not None) \
            if cache is not None and not entry.in_memory else None
        if stored is not None and stored[0] is not None and \
                (stored[0].module, stored[0].is_package) != module_name(entry.path):
            stored = None  # the folders around it gained or lost an __init__.py
        if stored is not None:
            entry.facts, entry.deploy, entry.problem = stored
        else:
            todo.append(entry)
    if not todo:
        return
    items = [(str(e.path), e.given.text if e.given else e.raw, e.kind) for e in todo]
    if project.jobs > 1 and len(todo) >= POOL_MIN_READS and _FORK is not None:
        with ProcessPoolExecutor(project.jobs, mp_context=_FORK) as pool:
            found = list(pool.map(_read_facts_job, items, chunksize=32))
    else:
        found = [read_facts(*item) for item in items]
    for entry, phase1 in zip(todo, found):
        entry.facts, entry.deploy, entry.problem = phase1
        if cache is not None and not entry.in_memory:
            cache.put_fact(str(entry.path), entry.digest, phase1, entry.kind is not None)


def _phase1_outcome(entry: _Loaded) -> RunResult:
    """A checked file's CEL001 (bytes that are not text) and its deployment file warnings."""
    outcome = RunResult()
    if entry.problem is not None and entry.kind is None:
        outcome.files_checked = 1
        outcome.diagnostics.append(entry.problem)
    if entry.deploy is not None:
        shown = display_path(entry.path)
        outcome.warnings += [f"{shown}: {w}" for w in entry.deploy.warnings]
    return outcome


def _add(result: RunResult, entry: _Loaded, outcome: RunResult) -> None:
    """A file's outcome (cached without its source) into the run's result."""
    if entry.source is not None:
        result.sources[str(entry.path)] = entry.source
    result.extend(outcome)


def run(paths: list[Path], config: Config, stdin: tuple[Path, str] | None = None,
        overrides: dict[Path, SourceFile] | None = None, cache: Cache | None = None,
        jobs: int = 1) -> RunResult:
    """Lint `paths` (or the stdin buffer reported as its path) with the whole project as context.

    With a `cache`, facts and diagnostics of files whose content (and project) did not change
    since it was written are reused; `jobs` above 1 lets large runs use a process pool.
    """
    project = load_project(paths, config, stdin, overrides, cache, jobs, read=False)
    result = project.result
    fingerprint = project.fingerprint if cache is not None else b""
    todo = []
    for entry in project.loaded.values():
        if not entry.checked:
            continue
        stored = cache.result(str(entry.path), entry.digest, fingerprint) \
            if cache is not None and not entry.in_memory else None
        if stored is None:
            todo.append(entry)
        else:
            _add(result, entry, stored)
    if todo:
        # something changed: facts of every file (mostly from the cache), the index, phase 2
        read_project(project, report=False)
        _check_all(project, todo, fingerprint)
    _join_fixes(project, result)
    if cache is not None:
        cache.save()
    result.warn_templates()
    result.diagnostics.sort(key=lambda d: d.sort_key)
    return result


def _join_fixes(project: Project, result: RunResult) -> None:
    """Join the shares of fixes that span files (CEL101's whole fix), now that every file of the
    run is checked: a share whose other shares this run did not see gets no fix."""
    if not any(d.fix is not None and d.fix.part_of is not None for d in result.diagnostics):
        return
    from celery_lint.rules.calls import join_whole_fixes

    read_project(project, report=False)  # the facts (from the cache) when phase 2 did not run

    def texts(word: str) -> dict[str, str]:
        """The Python files that say `word`, by path (bytes searched first: most do not)."""
        found = {}
        for entry in project.loaded.values():
            given = result.sources.get(str(entry.path)) or entry.given
            if entry.facts is None or (word not in given.text if given is not None
                                       else word.encode() not in entry.raw):
                continue
            source = given or entry.source
            if source is not None:
                found[str(entry.path)] = source.text
        return found

    result.diagnostics = join_whole_fixes(result.diagnostics, project.index, result.sources,
                                          texts)


def _check_all(project: Project, entries: list[_Loaded], fingerprint: bytes) -> None:
    """Phase 2 for `entries`, into the project's result (and its cache)."""
    result, config, cache = project.result, project.config, project.cache
    codes = selected_rules(config.select, config.ignore, config.extend_select, config.preview)
    index = project.index
    by_file = project_diagnostics_by_file(index, codes, result)
    heavy = [e for e in entries if _needs_tree(e, index, config, codes)]
    outcomes: dict[Path, RunResult] = {}
    if project.jobs > 1 and len(heavy) >= POOL_MIN_CHECKS and _FORK is not None:
        global _PHASE2
        _PHASE2 = (project, codes, by_file)
        try:
            heavy.sort(key=lambda e: -len(e.raw))  # the longest first: the pool ends together
            with ProcessPoolExecutor(project.jobs, mp_context=_FORK) as pool:
                paths = [e.path for e in heavy]
                outcomes.update(zip(paths, pool.map(_check_job, paths)))
        finally:
            _PHASE2 = None
    for entry in entries:
        outcome = _phase1_outcome(entry)  # a file with a CEL001 has no phase 2: counted once
        outcome.extend(outcomes.get(entry.path)
                       or _check_entry(entry, index, config, codes, by_file))
        _add(result, entry, outcome)
        if cache is not None and not entry.in_memory and not result.internal_errors:
            cache.put_result(str(entry.path), entry.digest, fingerprint, outcome)


_PHASE2: tuple[Project, frozenset[str], dict[str, list[Diagnostic]]] | None = None


def _check_job(path: Path) -> RunResult:
    """Phase 2 of one file in a pool process, which inherited the project when it was forked."""
    assert _PHASE2 is not None
    project, codes, by_file = _PHASE2
    return _check_entry(project.loaded[path], project.index, project.config, codes, by_file)


def _needs_tree(entry: _Loaded, index: ProjectIndex, config: Config,
                codes: frozenset[str]) -> bool:
    source, facts = entry.source, entry.facts
    return source is not None and facts is not None and facts.syntax_error is None and \
        needs_rules(source, facts, index, config, codes)


def reload_file(project: Project, path: Path, config: Config, text: str | None = None
                ) -> Project:
    """`project` with one file read again (from `text`, else from disk) and the index rebuilt.

    A file that is gone drops out of the index; a new one joins it.
    """
    result = RunResult()
    path = path.absolute()
    loaded = dict(project.loaded)
    entry = _open(path, True, result, text=text)
    if entry is None:
        loaded.pop(path, None)
    else:
        loaded[path] = entry
    updated = Project(loaded, config, result)
    if entry is not None:
        _read_all(updated, [entry])
    return updated


def recheck(project: Project, path: Path, text: str, config: Config) -> RunResult:
    """Lint one buffer against a project loaded before: only the buffer is read again.

    The same diagnostics as `run([path], config, stdin=(path, text))` when the other files have
    not changed since `project` was loaded (an editor re-checking the file being typed in).
    """
    updated = reload_file(project, path, config, text)
    result = updated.result
    entry = updated.loaded.get(path.absolute())
    if entry is not None:
        _check_all(updated, [entry], b"")
    _join_fixes(updated, result)
    result.warn_templates()
    result.diagnostics.sort(key=lambda d: d.sort_key)
    return result


def _check_entry(entry: _Loaded, index: ProjectIndex, config: Config, codes: frozenset[str],
                 by_file: dict[str, list[Diagnostic]]) -> RunResult:
    """Phase 2 for one loaded file."""
    outcome = RunResult()
    source = entry.source
    if source is None:
        return outcome
    outcome.files_checked = 1
    if entry.facts is not None and entry.facts.template:
        outcome.templates = (source.path,)
    if entry.facts is None:
        # a deployment file: its diagnostics come from the project rules
        outcome.diagnostics = _finish(source, by_file.get(source.path, []), config, codes)
        return outcome
    try:
        outcome.diagnostics = check_file(source, entry.facts, index, config, codes,
                                         by_file.get(source.path, []))
    except SkippedFile as exc:
        outcome.warnings.append(f"{source.display_path}: {exc}")
    except Exception as exc:  # noqa: BLE001 - a bug in a rule must not end the run
        outcome.internal_errors += 1
        outcome.warnings.append(f"{source.display_path}: internal error: {exc!r}")
    return outcome


def _load_scripts(project: Project) -> None:
    """Read the scripts that process definitions run (`command: /start-worker`, through a
    Dockerfile's COPY), also those without a `.sh` name discovery did not pick up."""
    loaded, result = project.loaded, project.result
    deploys = [entry.deploy for entry in loaded.values() if entry.deploy is not None]
    copies = [(source, destination, d.path) for d in deploys for source, destination in d.copies]
    root = str(project.config.root)
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
                    entry = _open(path, facts.path in checked, result, kind="shell")
                    if entry is not None:
                        loaded[path] = entry
                        _read_all(project, [entry])
                    break


def project_diagnostics_by_file(index: ProjectIndex, codes: frozenset[str],
                                result: RunResult) -> dict[str, list[Diagnostic]]:
    """The project-wide rules (settings, deployments), by the file each diagnostic sits in."""
    from celery_lint.rules.delivery import delivery_diagnostics
    from celery_lint.rules.deploy import deploy_diagnostics
    from celery_lint.rules.idempotency import idempotency_diagnostics
    from celery_lint.rules.settings import project_diagnostics

    try:
        found = project_diagnostics(index, codes) + deploy_diagnostics(index, codes) + \
            idempotency_diagnostics(index, codes) + delivery_diagnostics(index, codes)
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
        if not facts.template:  # a template is not Python: the run warns once about its folder
            message, row, column = facts.syntax_error
            diagnostics.append(_syntax_diagnostic(source.path, message, row, column))
    elif needs_rules(source, facts, index, config, codes):
        diagnostics += _visit(source, facts, index, config, codes)
    return _finish(source, diagnostics, config, codes, line_noqa)


def _finish(source: SourceFile, diagnostics: list[Diagnostic], config: Config,
            codes: frozenset[str], line_noqa: bool = True) -> list[Diagnostic]:
    """A file's diagnostics after the selection, per-file ignores and noqa comments."""
    ignored = _per_file_ignored(source.path, config)
    diagnostics = [d for d in diagnostics if d.code in codes | {SYNTAX_ERROR.code}
                   and d.code not in ignored]
    return _apply_noqa(source, diagnostics, codes - ignored, line_noqa)


def needs_rules(source: SourceFile, facts: FileFacts, index: ProjectIndex, config: Config,
                codes: frozenset[str]) -> bool:
    """Whether phase 2 can find anything in this file with the rules `codes` (parsing with
    libcst is the costly part)."""
    if not PREFILTER:
        return True
    if facts.tasks or facts.candidate_tasks:
        return True
    if any(word in source.text for word in PHASE2_WORDS):
        return True
    if index.calls_summarized(facts, source.text, summary_questions(codes, config)):
        return True
    # a task, or a module that defines tasks (`from . import tasks`, then `tasks.send(...)`)
    tasks, modules = index.tasks, index.task_modules
    return any(target in tasks or target in modules or index.resolve(target) in tasks
               or index.resolve(target) in modules for target in facts.imports.values())


def summary_questions(codes: frozenset[str], config: Config) -> frozenset[str]:
    """What index.calls_summarized asks of a call for the rules `codes`: a file is read with
    libcst for what its calls reach only when a rule that looks there is selected (CEL102 looks
    for a task run in place only with preview, as rules.calls.BlockingCallInView does)."""
    asked = {"CEL101": "parameters", "CEL103": "sends",
             "CEL102": "blocks" if config.preview else "waits"}
    return frozenset(question for code, question in asked.items() if code in codes)


def _visit(source: SourceFile, facts: FileFacts, index: ProjectIndex, config: Config,
           codes: frozenset[str]) -> list[Diagnostic]:
    import libcst as cst  # here: a run whose files all come from the cache never imports it

    from celery_lint.rules import visitor_rules
    from celery_lint.rules.base import FileContext, RuleBatch

    rules = [rule for rule in visitor_rules() if rule.info.code in codes]
    if not rules:
        return []
    try:
        module = cst.parse_module(source.text)
    except (cst.ParserSyntaxError, RecursionError) as exc:
        # `ast` accepted the file, so this is a limit of the libcst parser, not the user's error
        raise SkippedFile(f"skipped: libcst cannot parse it ({str(exc).splitlines()[0]})") from None
    context = FileContext(source, module, facts, index, config)
    context.walk(RuleBatch([rule(context) for rule in rules]))
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

