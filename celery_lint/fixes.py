"""Applying fixes: edits in passes until nothing changes, each pass re-checked, atomic writes.

A fix is a set of edits (row/column ranges and their new text) that a rule computed from the
tree, so everything outside the edited ranges (comments, formatting) is kept. Each pass lints
the files as they are in memory, applies the fixes that do not overlap, and checks that every
edited Python file still parses; a file that would not is left as it was and reported. Files are
written once at the end, atomically, in their own encoding, BOM and line endings.
"""

from __future__ import annotations

import difflib
import io
import os
import re
import tempfile
import tokenize
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from celery_lint.cache import Cache
from celery_lint.config import Config
from celery_lint.diagnostics import END_OF_FILE, Applicability, Diagnostic, Edit, Fix, Location
from celery_lint.facts.syntax import parse_python
from celery_lint.runner import RunResult, run
from celery_lint.source import SourceFile, split_lines

MAX_PASSES = 10
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass
class FixResult:
    result: RunResult  # the diagnostics that remain after fixing
    fixed: dict[str, str] = field(default_factory=dict)  # path → new text
    originals: dict[str, SourceFile] = field(default_factory=dict)
    applied: dict[str, Counter[str]] = field(default_factory=dict)  # path → fixes per code
    unparsable: list[str] = field(default_factory=list)  # files a fix would have broken
    unsettled: list[str] = field(default_factory=list)  # files still changing after MAX_PASSES

    @property
    def count(self) -> int:
        return sum(sum(c.values()) for c in self.applied.values())


def wanted(diagnostic: Diagnostic, unsafe: bool) -> bool:
    fix = diagnostic.fix
    return fix is not None and bool(fix.edits) and fix.part_of is None and (
        fix.applicability is Applicability.SAFE or unsafe)


def line_starts(text: str) -> list[int]:
    """The offset where each row begins (rows split the way Python and libcst split them)."""
    return [0] + [match.end() for match in _LINE_BREAK.finditer(text)]


def text_offset(starts: list[int], text: str, location: Location) -> int:
    """The offset in `text` of `location` (clamped to the text; `starts` from `line_starts`)."""
    row = min(max(location.row, 1), len(starts))
    return min(starts[row - 1] + location.column - 1, len(text))


def apply_edits(text: str, edits: list[Edit], newline: str) -> str:
    """`text` with `edits` (which must not overlap) applied; new lines in edits take `newline`."""
    starts = line_starts(text)
    # from the end, so offsets stay right; insertions at one point keep the order they came in
    spans = sorted(((text_offset(starts, text, e.location),
                     text_offset(starts, text, e.end_location), number, e.content)
                    for number, e in enumerate(edits)), reverse=True)
    for start, end, _, content in spans:
        if newline != "\n":
            content = content.replace("\n", newline)
        text = text[:start] + content + text[end:]
    return text


# Fixes that only insert a line of their own (a setting each, by name), at a point no other fix
# edits: several at one point go together, in the order of their codes.
OWN_LINES = frozenset({"CEL301", "CEL302", "CEL303"})


def choose(diagnostics: list[Diagnostic], texts: Mapping[str, str]) -> list[Diagnostic]:
    """The fixes that can be applied together: no two touch the same range of a file, and each
    edits only files in `texts`. A fix that spans files is taken whole or not at all; one that
    several diagnostics carry (CEL101's whole fix, from each call of the task) is taken once
    for all of them.

    Two insertions at one point conflict (each may add the same import), except appends to the
    end of the file and the settings fixes (`OWN_LINES`), which write independent lines.
    """
    starts = {path: line_starts(text) for path, text in texts.items()}
    taken: dict[str, list[tuple[int, int, bool]]] = {}
    chosen: list[Diagnostic] = []
    done: set[tuple[str, Fix]] = set()
    for diagnostic in sorted(diagnostics, key=lambda d: d.sort_key):
        fix = diagnostic.fix
        assert fix is not None
        if (diagnostic.code, fix) in done:
            chosen.append(diagnostic)  # the same fix, already taken for another diagnostic
            continue
        if any(path not in texts for path in fix.files(diagnostic)):
            continue
        spans = [(e.file(diagnostic), text_offset(starts[e.file(diagnostic)],
                                                  texts[e.file(diagnostic)], e.location),
                  text_offset(starts[e.file(diagnostic)], texts[e.file(diagnostic)],
                              e.end_location))
                 for e in fix.edits if e.location.row < END_OF_FILE]
        own = diagnostic.code in OWN_LINES
        if any(a < y and x < b or (a == b == x == y and not (own and mine))
               for path, a, b in spans for x, y, mine in taken.get(path, ())):
            continue  # overlaps an earlier fix: the next pass sees it again
        for path, a, b in spans:
            taken.setdefault(path, []).append((a, b, own))
        done.add((diagnostic.code, fix))
        chosen.append(diagnostic)
    return chosen


# A fix that another one in the same run can make unnecessary waits for the next pass:
# a global time limit (CEL303) ends every missing per-task limit (CEL201).
DEFERRED_BY = {"CEL201": "CEL303"}


def parses(path: str, text: str) -> bool:
    if not path.endswith(".py"):
        return True
    try:
        parse_python(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def fixes_to_try(diagnostics: list[Diagnostic], unsafe: bool, frozen: set[str] | None = None
                 ) -> list[Diagnostic]:
    """The fixes one pass tries; those that edit a `frozen` file are left out."""
    fixable = [d for d in diagnostics if wanted(d, unsafe)
               and not (frozen or set()).intersection(d.fix.files(d))]  # type: ignore[union-attr]
    codes = {d.code for d in fixable}
    return [d for d in fixable if DEFERRED_BY.get(d.code) not in codes]


def fix_pass(sources: Mapping[str, SourceFile], diagnostics: list[Diagnostic]
             ) -> tuple[dict[str, str], list[Diagnostic]]:
    """One pass: the new text of each file the chosen fixes change, and those fixes."""
    chosen = choose(diagnostics, {path: source.text for path, source in sources.items()})
    edits: dict[str, list[Edit]] = {}
    seen = set()
    for diagnostic in chosen:
        fix = diagnostic.fix
        assert fix is not None
        if fix not in seen:
            seen.add(fix)
            for edit in fix.edits:
                edits.setdefault(edit.file(diagnostic), []).append(edit)
    texts = {path: apply_edits(sources[path].text, found, sources[path].newline)
             for path, found in edits.items()}
    return {path: text for path, text in texts.items() if text != sources[path].text}, chosen


def fix(paths: list[Path], config: Config, unsafe: bool,
        stdin: tuple[Path, str] | None = None, cache: Cache | None = None,
        jobs: int = 1) -> FixResult:
    """Fix what can be fixed under `paths`, in memory; `write` puts it on disk."""
    overrides: dict[Path, SourceFile] = {}
    outcome = FixResult(RunResult())
    frozen: set[str] = set()  # files whose fixes broke them: left as they are
    for number in range(MAX_PASSES + 1):
        if number == MAX_PASSES:
            outcome.unsettled = sorted(outcome.applied)  # still changing: fixes that fight
            break
        current = run(paths, config, stdin, overrides, cache, jobs)
        outcome.result = current
        for path, source in current.sources.items():
            outcome.originals.setdefault(path, source)
        candidates = fixes_to_try(current.diagnostics, unsafe, frozen)
        while True:
            texts, chosen = fix_pass(current.sources, candidates)
            broken = sorted(path for path, text in texts.items() if not parses(path, text))
            if not broken:
                break
            # a fix that spans files is taken whole or not at all: those that touch a file
            # that would not parse are dropped from every file they edit
            frozen.update(broken)
            outcome.unparsable += broken
            candidates = fixes_to_try(candidates, unsafe, frozen)
        for path, text in texts.items():
            source = current.sources[path]
            overrides[Path(path)] = replace(source, text=text, _noqa=None)
            if stdin is not None and Path(path) == stdin[0].absolute():
                stdin = (stdin[0], text)
        for diagnostic in chosen:
            outcome.applied.setdefault(diagnostic.path, Counter())[diagnostic.code] += 1
        if not texts:
            break
    for path, source in overrides.items():
        if source.text != outcome.originals[str(path)].text:
            outcome.fixed[str(path)] = source.text
    return outcome


def write(outcome: FixResult) -> list[str]:
    """Write the fixed files atomically in their own encoding and BOM; problems as warnings."""
    problems = []
    for path, text in outcome.fixed.items():
        original = outcome.originals[path]
        data = text.encode(original.encoding)
        if original.bom:
            data = b"\xef\xbb\xbf" + data
        try:
            write_atomically(Path(path), data)
        except OSError as exc:
            problems.append(f"{original.display_path}: cannot write the fixes: {exc}")
    return problems


def write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".celery-lint")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        try:
            os.chmod(temporary, path.stat().st_mode & 0o7777)
        except OSError:
            pass
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def unified_diff(outcome: FixResult) -> str:
    out = []
    for path, text in sorted(outcome.fixed.items()):
        original = outcome.originals[path]
        shown = original.display_path
        out += difflib.unified_diff(split_lines(original.text, keepends=True),
                                    split_lines(text, keepends=True),
                                    fromfile=f"a/{shown}", tofile=f"b/{shown}")
        if out and not out[-1].endswith(("\n", "\r")):
            out[-1] += "\n"
    return "".join(out)


# -- --add-noqa ------------------------------------------------------------------------------------
NOQA_KINDS = (".py", ".yml", ".yaml")
NOQA = "# " + "noqa:"  # spelled in two parts so linters do not read it as a directive


_YAML_KEY = re.compile(r"^\s*(- )?\s*[\w.\-\"']+\s*:(\s|$)")


def _yaml_line_takes_comment(line: str) -> bool:
    """A `key: value` line whose value is complete on it (no open quote, no block scalar)."""
    if not _YAML_KEY.match(line):
        return False
    value = line.split(":", 1)[1].strip()
    if value.startswith(("|", ">")):
        return False
    return value.count('"') % 2 == 0 and value.count("'") % 2 == 0


def _python_rows_taking_comment(text: str) -> set[int] | None:
    """The rows of Python source a trailing comment can end: those that end a statement or a line
    inside brackets, not one inside a string that goes on (a docstring's first line) or continued
    with a backslash. None when the source does not tokenize."""
    try:
        lines = io.StringIO(re.sub(r"\r\n?", "\n", text)).readline  # rows end at \r too
        return {token.start[0] for token in tokenize.generate_tokens(lines)
                if token.type in (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT)}
    except (tokenize.TokenError, SyntaxError):
        return None


def add_noqa(result: RunResult) -> dict[str, str]:
    """Every file with diagnostics, with `# noqa: CODES` added to the lines they sit on (merged
    with a `# noqa` already there). Python and YAML files only: other formats (systemd, INI,
    JSON-form Dockerfile commands) do not all take trailing comments."""
    by_file: dict[str, dict[int, set[str]]] = {}
    for diagnostic in result.diagnostics:
        if diagnostic.path.endswith(NOQA_KINDS):
            rows = by_file.setdefault(diagnostic.path, {})
            rows.setdefault(diagnostic.noqa_row or diagnostic.location.row, set()).add(
                diagnostic.code)
    changed = {}
    for path, rows in by_file.items():
        source = result.sources.get(path)
        if source is None:
            continue
        lines = split_lines(source.text, keepends=True)
        commentable = _python_rows_taking_comment(source.text) if path.endswith(".py") else None
        directives = source.noqa
        for row, codes in rows.items():
            if not 0 < row <= len(lines):
                continue
            line = lines[row - 1]
            body = line.rstrip("\r\n")
            ending = line[len(body):]
            if commentable is not None and row not in commentable:
                continue  # the comment would join a string, or break a continued line
            if path.endswith((".yml", ".yaml")) and not _yaml_line_takes_comment(body):
                continue  # inside a block or quoted scalar: the comment would join the value
            directive = directives.get(row)
            if directive is not None and directive.codes is None:
                continue  # a bare noqa comment already covers the line
            if directive is not None:
                merged = sorted(set(directive.codes or ()) | codes)
                start, end = directive.column - 1, directive.end_column - 1
                body = body[:start] + f"{NOQA} {', '.join(merged)}" + body[end:]
            else:
                body = f"{body}  {NOQA} {', '.join(sorted(codes))}"
            lines[row - 1] = body + ending
        text = "".join(lines)
        if text != source.text and parses(path, text):
            changed[path] = text
    return changed
