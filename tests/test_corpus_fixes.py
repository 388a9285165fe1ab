"""Fixes on real code: `check --fix` and `check --fix --unsafe-fixes` on copies of four real
Django+Celery projects, through the command line (slow: two to three minutes on two cores;
runs in CI, deselect with -m "not slow").

The projects: the folders listed in CELERY_LINT_CORPUS_DIRS (separated by the path separator or
new lines); else the folders the team tool `../shared/tools/corpus` (beside the repository) prints;
else the same pinned wheels, downloaded with pip into $CELERY_LINT_CORPUS or
~/.cache/celery-lint-corpus and unpacked there, as the tool does. The originals are never written.

For each project, one copy is fixed with the safe fixes and a fresh one with the unsafe fixes too;
for each fixed copy, against the original:
- nothing but fixes happened: no file added (a stray temporary file) or removed, no warning that a
  fix was refused or did not settle, no file that did not parse was touched;
- every changed module still parses, and its syntax tree differs from the original's only where
  the text changed: the smallest differing nodes of the two trees lie on edited lines, and every
  top-level statement away from the edits is unchanged (`edits_are_local`);
- no name is newly undefined (pyflakes), so a fix does not write a name it did not import;
- every edited line is one where the linter reported a fix before (`check --output-format json`
  on the copy first), unless the file got fixes from a later pass;
- a second identical run (`--diff`) finds nothing left to fix (run when the first fixed some).
The counts (files fixed, fixes by code, the second run, time) are printed at the end of the run.
"""

from __future__ import annotations

import ast
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import warnings
import zipfile
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

try:
    from pyflakes.checker import Checker
    from pyflakes.messages import UndefinedName
except ImportError:  # pragma: no cover - pyflakes comes with flake8, in the test extra
    Checker = None

PINNED = ("pretix==2026.8.0", "weblate==5.14.3", "mayan-edms==4.12.2", "misago==0.39.6")
REPO = Path(__file__).resolve().parent.parent
TOOL = REPO.parent / "shared" / "tools" / "corpus"
CACHE_DIR = ".celery_lint_cache"  # the linter's own cache in the project root: not an edit
RUN_TIMEOUT = 900  # seconds for one run of the command line: far more than it takes
FIX_LINE = re.compile(r"^    (\d+) x ([A-Z]+\d+)$", re.MULTILINE)
FILE_LINE = re.compile(r"^- (.*):$", re.MULTILINE)
LINE_BREAK = re.compile(r"\r\n|\r|\n")  # how Python counts lines (not str.splitlines: \f, \x1c…)
END_OF_FILE = 10**9  # the row of an edit that appends (celery_lint.diagnostics)


# -- the corpus --------------------------------------------------------------------------------

def _listed() -> list[Path] | None:
    listed = os.environ.get("CELERY_LINT_CORPUS_DIRS")
    if not listed:
        return None
    return [Path(p.strip()) for p in re.split(f"[\n{re.escape(os.pathsep)}]", listed) if p.strip()]


def _project_ids() -> list[str]:
    listed = _listed()
    if listed is not None:
        return [str(path) for path in listed]
    return [spec.replace("==", "-") for spec in PINNED]


def _download(cache: Path) -> list[Path]:
    """The pinned projects unpacked under `cache`, as ../shared/tools/corpus lays them out."""
    wheels = cache / ".wheels"
    missing = [spec for spec in PINNED if not (cache / spec.replace("==", "-")).is_dir()]
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--only-binary=:all:", *missing, "-d", str(wheels)],
                       check=True, timeout=1800)
    for spec in missing:
        name, version = spec.split("==")
        prefix = f"{name.replace('-', '_')}-{version}-".lower()
        wheel = next(w for w in wheels.glob("*.whl") if w.name.lower().startswith(prefix))
        part = cache / f"{name}-{version}.part"
        shutil.rmtree(part, ignore_errors=True)
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(part)
        part.rename(cache / f"{name}-{version}")
    return [cache / spec.replace("==", "-") for spec in PINNED]


@pytest.fixture(scope="session")
def corpus() -> dict[str, Path]:
    """Project id → its folder (fetched once a session when it is not there yet)."""
    listed = _listed()
    if listed is not None:
        folders = listed
    elif TOOL.exists():
        done = subprocess.run([str(TOOL)], capture_output=True, text=True, timeout=1800,
                              check=False)
        if done.returncode != 0:
            pytest.fail(f"{TOOL} failed ({done.returncode}): {done.stderr.strip()[-2000:]}\n"
                        "Set CELERY_LINT_CORPUS_DIRS to unpacked projects, or deselect these "
                        "tests with -m 'not slow'.")
        folders = [Path(line) for line in done.stdout.splitlines() if line.strip()]
    else:
        cache = Path(os.environ.get("CELERY_LINT_CORPUS")
                     or Path.home() / ".cache" / "celery-lint-corpus")
        try:
            folders = _download(cache)
        except (subprocess.SubprocessError, OSError, StopIteration) as exc:
            pytest.fail(f"cannot download the corpus into {cache}: {exc!r}\nSet "
                        "CELERY_LINT_CORPUS_DIRS to unpacked projects, or deselect these tests "
                        "with -m 'not slow'.")
    found = {str(path) if listed is not None else path.name: path for path in folders}
    for path in found.values():
        assert path.is_dir(), f"corpus folder {path} does not exist"
    return found


@pytest.fixture(scope="module")
def summary(request: pytest.FixtureRequest) -> list[str]:
    """Lines printed in a section at the end of the run (whatever -s or -q say)."""
    lines: list[str] = []

    class Summary:
        def pytest_terminal_summary(self, terminalreporter) -> None:  # type: ignore[no-untyped-def]
            if lines:
                terminalreporter.section("celery-lint fixes on the corpus")
                for line in lines:
                    terminalreporter.write_line(line)

    name = f"celery-lint-corpus-summary-{id(lines)}"
    request.config.pluginmanager.register(Summary(), name)
    return lines


# -- running the command line ------------------------------------------------------------------

def command() -> list[str]:
    script = Path(sys.executable).with_name("celery-lint")
    return [str(script)] if script.exists() else [sys.executable, "-m", "celery_lint"]


def celery_lint(*args: str, env: dict[str, str] | None = None
                ) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*command(), "check", *args], capture_output=True, text=True,
                          timeout=RUN_TIMEOUT, check=False, env=env)
    assert "Traceback" not in done.stderr, done.stderr[-5000:]
    assert done.returncode in (0, 1), (done.returncode, done.stderr[-5000:])
    return done


@dataclass
class FixRun:
    """One copy fixed: what the command line said and did."""

    mode: str  # "safe" or "unsafe"
    copy: Path
    applied: dict[str, Counter[str]] = field(default_factory=dict)  # relative path → codes
    reported: dict[str, list[dict]] = field(default_factory=dict)  # JSON diagnostics by path
    stderr: str = ""
    second: subprocess.CompletedProcess[str] | None = None  # None: the first run fixed nothing
    seconds: float = 0.0

    @property
    def fixes(self) -> Counter[str]:
        return sum(self.applied.values(), Counter())


def relative_to(path: str, root: Path) -> str:
    """`path` as printed (absolute, or relative to the current folder) relative to `root`."""
    return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(root))).as_posix()


def fix_copy(original: Path, copy: Path, mode: str) -> FixRun:
    started = time.perf_counter()
    shutil.copytree(original, copy, symlinks=True)
    run = FixRun(mode, copy)
    unsafe = ["--unsafe-fixes"] if mode == "unsafe" else []
    if mode == "safe":  # where the linter says it will edit, to compare with where it did
        reported = celery_lint(str(copy), "--output-format", "json", "--exit-zero", "--quiet")
        for diagnostic in json.loads(reported.stdout):
            run.reported.setdefault(relative_to(diagnostic["filename"], copy), []).append(
                diagnostic)
    done = celery_lint(str(copy), "--fix", *unsafe, "--show-fixes", "--exit-zero")
    run.stderr = done.stderr
    # `- path:` then `    N x CODE` lines, per file (paths as shown: relative or absolute)
    blocks = FILE_LINE.split(done.stdout)
    for shown, counts in zip(blocks[1::2], blocks[2::2]):
        run.applied[relative_to(shown, copy)] = Counter(
            {code: int(n) for n, code in FIX_LINE.findall(counts)})
    if run.applied:  # else the second run would read the same files again: skipped
        run.second = celery_lint(str(copy), "--diff", *unsafe, "--quiet")
    run.seconds = time.perf_counter() - started
    return run


# -- comparing a fixed copy with its original --------------------------------------------------

def files_under(root: Path) -> Iterator[str]:
    """Every file (and symlink) under `root`, relative, with / separators; not the cache."""
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != CACHE_DIR]
        links = [d for d in dirnames if os.path.islink(os.path.join(directory, d))]
        for name in [*filenames, *links]:
            yield Path(os.path.relpath(os.path.join(directory, name), root)).as_posix()


def parse(data: bytes) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences in old code
            return ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def decode(data: bytes) -> str:
    return data.decode("utf-8", errors="surrogateescape")  # enough to compare lines


def lines_of(text: str) -> list[str]:
    return LINE_BREAK.split(text)


def edited_lines(before: str, after: str) -> tuple[set[int], set[int]]:
    """The 1-based lines replaced or removed in `before`, and replaced or added in `after`."""
    old, new = set(), set()
    matcher = difflib.SequenceMatcher(None, lines_of(before), lines_of(after), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            old.update(range(i1 + 1, i2 + 1))
            new.update(range(j1 + 1, j2 + 1))
    return old, new


def dump(node: ast.AST) -> str:
    return ast.dump(node)  # without positions: a node moved down by an inserted line is equal


def span(node: ast.AST) -> tuple[int, int] | None:
    """The lines of `node` (a decorated definition from its first decorator)."""
    if not hasattr(node, "lineno"):
        return None  # contexts and operators: they belong to their parent
    start = node.lineno
    for decorator in getattr(node, "decorator_list", ()):
        start = min(start, decorator.lineno)
    return start, getattr(node, "end_lineno", None) or node.lineno


def described(node: ast.AST) -> str:
    lines = span(node)
    where = f"lines {lines[0]}-{lines[1]}" if lines else "?"
    return f"{type(node).__name__} at {where}: {dump(node)[:160]}"


class Locality:
    """Whether two trees differ only on the edited lines.

    The trees are walked together; where they stop being equal, the smallest differing parts are
    checked: a node only in the new tree must lie on added lines, a node only in the old one on
    removed lines, a node whose kind changed (`x` → `x.pk`, an expression → `raise`) must start
    or end on an edited line on both sides, and what it holds is either taken over unchanged from
    the other side or itself on edited lines; a changed name or value must sit in a node that has
    an edited line. Lists (statements, arguments) are aligned by their dumps first, so a statement
    inserted or removed does not make its neighbours differ, and a part that moved (an argument
    into a new wrapping call) counts as kept. A fix that damages code it did not edit (an
    unclosed quote or bracket or a line continuation that swallows the next lines, a statement
    moved out of its block) leaves differing nodes on lines the diff did not touch.
    """

    def __init__(self, old: set[int], new: set[int]) -> None:
        self.lines = {"old": old, "new": new}
        self.problems: list[str] = []
        self._parts: dict[int, set[str]] = {}

    def parts(self, node: ast.AST) -> set[str]:
        """The dumps of `node` and everything in it."""
        if id(node) not in self._parts:
            self._parts[id(node)] = {dump(n) for n in ast.walk(node)}
        return self._parts[id(node)]

    def within(self, node: ast.AST, side: str) -> bool:
        lines = span(node)
        return lines is None or all(n in self.lines[side] for n in range(lines[0], lines[1] + 1))

    def touches(self, node: ast.AST, side: str) -> bool:
        """`node` starts or ends on an edited line of `side`."""
        lines = span(node)
        return lines is None or lines[0] in self.lines[side] or lines[1] in self.lines[side]

    def overlaps(self, node: ast.AST | None, side: str) -> bool:
        lines = span(node) if node is not None else None
        return lines is None or any(n in self.lines[side]
                                    for n in range(lines[0], lines[1] + 1))

    def compare(self, old: ast.AST, new: ast.AST, old_owner: ast.AST | None = None,
                new_owner: ast.AST | None = None) -> None:
        """Two nodes at the same place of the two trees."""
        if dump(old) == dump(new):
            return
        if type(old) is not type(new):
            self.replaced(old, new)
            return
        old_owner = old if span(old) else old_owner  # the nearest node with lines
        new_owner = new if span(new) else new_owner
        for name in old._fields:
            a, b = getattr(old, name, None), getattr(new, name, None)
            if isinstance(a, ast.AST) and isinstance(b, ast.AST):
                self.compare(a, b, old_owner, new_owner)
            elif isinstance(a, list) and isinstance(b, list) and all(
                    isinstance(x, ast.AST) for x in [*a, *b]):
                self.compare_lists(a, b, old, new)
            elif isinstance(a, ast.AST) or isinstance(b, ast.AST):  # an optional part came/went
                if isinstance(a, ast.AST):
                    self.fresh(a, "old", self.parts(new))
                if isinstance(b, ast.AST):
                    self.fresh(b, "new", self.parts(old))
            elif a != b and not (self.overlaps(old_owner, "old")
                                 and self.overlaps(new_owner, "new")):
                # a name, an attribute, a constant's value
                self.problems.append(f"{name} {a!r} became {b!r} away from the edited lines, "
                                     f"in {described(new_owner) if new_owner else '?'}")

    def compare_lists(self, old: list[ast.AST], new: list[ast.AST], old_parent: ast.AST,
                      new_parent: ast.AST) -> None:
        matcher = difflib.SequenceMatcher(None, [dump(x) for x in old], [dump(x) for x in new],
                                          autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            removed, added = old[i1:i2], new[j1:j2]
            # pair what is left by kind: a statement edited in place is compared, not replaced
            kinds = difflib.SequenceMatcher(None, [type(x).__name__ for x in removed],
                                            [type(x).__name__ for x in added], autojunk=False)
            paired_old: set[int] = set()
            paired_new: set[int] = set()
            for block in kinds.get_matching_blocks():
                for k in range(block.size):
                    paired_old.add(block.a + k)
                    paired_new.add(block.b + k)
                    self.compare(removed[block.a + k], added[block.b + k])
            for k, node in enumerate(removed):
                if k not in paired_old:
                    self.fresh(node, "old", self.parts(new_parent))
            for k, node in enumerate(added):
                if k not in paired_new:
                    self.fresh(node, "new", self.parts(old_parent))

    def replaced(self, old: ast.AST, new: ast.AST) -> None:
        if not (self.touches(old, "old") and self.touches(new, "new")):
            self.problems.append(f"{described(old)} became {described(new)}, not on an edited "
                                 "line")
            return
        self.contents(old, "old", self.parts(new))
        self.contents(new, "new", self.parts(old))

    def fresh(self, node: ast.AST, side: str, kept: set[str]) -> None:
        """`node` is only on `side`, unless the other side has it unchanged (`kept`: moved)."""
        if dump(node) in kept:
            return
        if not self.touches(node, side):
            what = "added" if side == "new" else "removed"
            self.problems.append(f"{described(node)} {what}, not on an edited line")
            return
        self.contents(node, side, kept)

    def contents(self, node: ast.AST, side: str, kept: set[str]) -> None:
        """What `node` (new on `side`) holds: each part kept from the other side, or new and on
        edited lines (a part with parts of its own only needs to start or end on one)."""
        for child in ast.iter_child_nodes(node):
            if span(child) is None or dump(child) in kept:
                continue
            if any(span(c) for c in ast.iter_child_nodes(child)):
                self.fresh(child, side, kept)
            elif not self.within(child, side):
                self.problems.append(f"{described(child)} ({side}) not on an edited line")


def edits_are_local(before: ast.Module, after: ast.Module, old: set[int],
                    new: set[int]) -> list[str]:
    """What differs between the trees away from the edited lines (see `Locality`)."""
    locality = Locality(old, new)
    locality.compare(before, after)

    def untouched(tree: ast.Module, edited: set[int]) -> list[str]:
        kept = []
        for statement in tree.body:
            first, last = span(statement) or (0, 0)
            if not any(n in edited for n in range(first, last + 1)):
                kept.append(dump(statement))
        return kept

    if untouched(before, old) != untouched(after, new):
        locality.problems.append("a top-level statement away from the edits changed")
    return locality.problems


def undefined_names(tree: ast.Module, path: str) -> Counter[str]:
    if Checker is None:
        return Counter()
    checker = Checker(tree, filename=path)
    return Counter(m.message_args[0] for m in checker.messages if isinstance(m, UndefinedName))


def first_pass(run: FixRun, relative: str) -> list[dict]:
    """The fixes the run applies that the linter reported before fixing, in file `relative`."""
    wanted = ("safe",) if run.mode == "safe" else ("safe", "unsafe")
    return [d for d in run.reported.get(relative, ())
            if d.get("fix") and d["fix"]["applicability"] in wanted]


def unexplained_edits(before: str, after: str, rows: list[tuple[int, int]]) -> list[int]:
    """The lines of `before` edited (or after which lines were added) that no reported edit
    covers; `rows` are the row ranges of the reported edits (an append: END_OF_FILE)."""
    old = lines_of(before)
    rows = [(min(start, len(old)), min(end, len(old))) for start, end in rows]
    lines = []
    matcher = difflib.SequenceMatcher(None, old, lines_of(after), autojunk=False)
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        if tag == "insert":  # added after line i1: an edit at its end or the next line's start
            if not any(start - 1 <= i1 <= end for start, end in rows):
                lines.append(i1)
        elif tag != "equal":
            lines += [n for n in range(i1 + 1, i2 + 1)
                      if not any(start <= n <= end for start, end in rows)]
    return lines


def check_copy(original: Path, run: FixRun) -> tuple[list[str], list[str]]:
    """What is wrong with the fixed copy, and the relative paths of the files it changed."""
    problems = []
    for warning in ("a fix would make it unparsable", "fixes did not settle"):
        for line in run.stderr.splitlines():
            if warning in line:
                problems.append(f"--fix warned: {line}")
    before_files, after_files = set(files_under(original)), set(files_under(run.copy))
    for name in sorted(after_files - before_files):
        problems.append(f"{name}: a file the fix added")
    for name in sorted(before_files - after_files):
        problems.append(f"{name}: a file the fix removed")
    changed = []
    for name in sorted(before_files & after_files):
        old_path, new_path = original / name, run.copy / name
        if old_path.is_symlink() or not old_path.is_file():
            continue
        old_bytes, new_bytes = old_path.read_bytes(), new_path.read_bytes()
        if old_bytes == new_bytes:
            continue
        changed.append(name)
        if name not in run.applied:
            problems.append(f"{name}: changed, but --show-fixes does not list it")
        old_text, new_text = decode(old_bytes), decode(new_bytes)
        old_lines, new_lines = edited_lines(old_text, new_text)
        reported = first_pass(run, name)
        if not run.applied.get(name, Counter()) - Counter(d["code"] for d in reported):
            # every fix applied to the file was reported before (none came from a later pass)
            rows = [(e["location"]["row"], e["end_location"]["row"])
                    for d in reported for e in d["fix"]["edits"]]
            for line in unexplained_edits(old_text, new_text, rows):
                problems.append(f"{name}:{line}: edited where no fix was reported")
        if not name.endswith(".py"):
            continue
        before = parse(old_bytes)
        if before is None:
            problems.append(f"{name}: did not parse, and the fix changed it")
            continue
        after = parse(new_bytes)
        if after is None:
            problems.append(f"{name}: parsed before the fix, not after")
            continue
        for problem in edits_are_local(before, after, old_lines, new_lines):
            problems.append(f"{name}: {problem}")
        introduced = undefined_names(after, name) - undefined_names(before, name)
        if introduced:
            problems.append(f"{name}: the fix uses undefined names {sorted(introduced)}")
    return problems, changed


# -- the test ----------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("project", _project_ids(), ids=lambda p: Path(p).name)
def test_fixes_on_a_real_project_are_safe(project: str, corpus: dict[str, Path],
                                          tmp_path: Path, summary: list[str],
                                          record_property) -> None:  # type: ignore[no-untyped-def]
    original = corpus.get(project)
    assert original is not None, f"{project} is not in the corpus: {sorted(corpus)}"
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:  # two copies, two runs at a time
        safe_future = pool.submit(fix_copy, original, tmp_path / "safe", "safe")
        unsafe_future = pool.submit(fix_copy, original, tmp_path / "unsafe", "unsafe")
        runs = [safe_future.result(), unsafe_future.result()]
    runs[1].reported = runs[0].reported  # the same original: the same reported fixes
    problems, changed = [], {}
    for run in runs:
        found, changed[run.mode] = check_copy(original, run)
        problems += [f"[{run.mode}] {problem}" for problem in found]
        if run.second is not None and (run.second.returncode != 0 or run.second.stdout.strip()):
            problems.append(f"[{run.mode}] a second run would still fix:\n"
                            f"{run.second.stdout[:3000]}")
    seconds = time.perf_counter() - started
    name = Path(project).name
    for run in runs:
        codes = ", ".join(f"{code} {n}" for code, n in sorted(run.fixes.items())) or "none"
        second = ("not needed" if run.second is None else
                  "nothing left" if run.second.returncode == 0 else "CHANGES LEFT")
        line = (f"{name} [{run.mode}]: {len(changed[run.mode])} files fixed, "
                f"{sum(run.fixes.values())} fixes ({codes}); second run: {second}; "
                f"{run.seconds:.0f} s")
        summary.append(line)
        record_property(f"{run.mode}_fixes", dict(run.fixes))
        record_property(f"{run.mode}_files_fixed", len(changed[run.mode]))
    summary.append(f"{name}: {seconds:.0f} s in all, {len(problems)} problems")
    assert not problems, "\n".join(problems[:60])


# -- the checks themselves, on edits made up here (fast) ---------------------------------------

def local(before: str, after: str) -> list[str]:
    old, new = edited_lines(before, after)
    return edits_are_local(ast.parse(before), ast.parse(after), old, new)


TASK = '''\
import functools

from django.db import transaction


@shared_task(bind=True)
def sync(self, order):
    try:
        return order
    except ConnectionError as exc:
        self.retry(
            exc=exc, countdown=60)
    with transaction.atomic():
        order.save()
        notify.apply_async(
            args=[order],
        )
    total = 1
    count = 2
    log(total)
    log(count)
    return total
'''


@pytest.mark.parametrize("before, after", [
    ("        self.retry(", "        raise self.retry("),  # a multi-line call becomes a raise
    ("            args=[order],", "            args=[order.pk],"),  # a name becomes an attribute
    ("        notify.apply_async(", "        notify.apply_async_on_commit("),  # an attribute
    ("import functools\n", "import functools\nimport json\n"),  # an import added
    ("        notify.apply_async(\n            args=[order],\n        )",  # a call wrapped
     ("        transaction.on_commit(functools.partial(\n            notify.apply_async,\n"
      "            args=[order],\n        ))")),
    ("    return total\n", "    return total\n\n\nCELERY_TASK_ACKS_LATE = True\n"),  # appended
], ids=["raise", "pk", "attribute", "import", "wrap", "append"])
def test_edits_that_keep_to_their_lines_are_local(before: str, after: str) -> None:
    assert TASK.count(before) == 1
    assert local(TASK, TASK.replace(before, after)) == []


@pytest.mark.parametrize("before, after", [
    # a line continuation swallows the next statement, which the diff does not show as edited
    ("    log(total)\n", "    log(total) or \\\n"),
    # an opened bracket does the same, closed by a later edit
    ("    log(total)\n    log(count)\n", "    log(total) or log(\n    log(count)\n    )\n"),
    # an opened string turns the lines below into its text
    ("    total = 1\n    count = 2\n    log(total)\n",
     "    total = \'\'\'1\n    count = 2\n    log(total)\'\'\'\n"),
], ids=["continuation", "bracket", "string"])
def test_edits_that_change_other_lines_are_caught(before: str, after: str) -> None:
    assert TASK.count(before) == 1
    damaged = TASK.replace(before, after)
    ast.parse(damaged)  # the damage still parses: only the tree comparison can catch it
    assert local(TASK, damaged)


def test_an_edit_where_no_fix_was_reported_is_caught() -> None:
    after = TASK.replace("self.retry(", "raise self.retry(").replace("count = 2", "count = 3")
    assert unexplained_edits(TASK, after, [(11, 11)]) == [19]
    assert unexplained_edits(TASK, TASK + "X = 1\n", [(END_OF_FILE, END_OF_FILE)]) == []
    assert unexplained_edits(TASK, TASK + "X = 1\n", [(3, 3)]) == [22]


def test_a_damaged_copy_is_reported(tmp_path: Path) -> None:
    original, copy = tmp_path / "original", tmp_path / "copy"
    (original / "shop").mkdir(parents=True)
    (original / "shop/tasks.py").write_text(TASK, encoding="utf-8")
    (original / "shop/broken.py").write_text("def (:\n", encoding="utf-8")
    shutil.copytree(original, copy)
    run = FixRun("safe", copy, applied={"shop/tasks.py": Counter({"CEL204": 1})})
    edit = {"content": "raise ", "location": {"row": 11, "column": 9},
            "end_location": {"row": 11, "column": 9}}
    run.reported = {"shop/tasks.py": [{"code": "CEL204", "fix": {
        "applicability": "safe", "edits": [edit]}}]}
    fixed = TASK.replace("        self.retry(", "        raise self.retry(")
    (copy / "shop/tasks.py").write_text(fixed, encoding="utf-8")
    assert check_copy(original, run) == ([], ["shop/tasks.py"])
    # the same fix, plus damage: a statement swallowed, an edit nobody reported, a stray file,
    # a file that did not parse touched, and `transaction` used in a module that lacks it
    damaged = fixed.replace("    log(total)\n", "    log(total) or \\\n").replace(
        "from django.db import transaction\n", "").replace("count = 2", "count = 3")
    (copy / "shop/tasks.py").write_text(damaged, encoding="utf-8")
    (copy / "shop/.tasks.py.x1.celery-lint").write_text("", encoding="utf-8")
    (copy / "shop/broken.py").write_text("def (:\n\n", encoding="utf-8")
    problems, changed = check_copy(original, run)
    assert changed == ["shop/broken.py", "shop/tasks.py"]
    text = "\n".join(problems)
    for expected in ("a file the fix added", "broken.py: changed, but --show-fixes",
                     "broken.py: did not parse", "tasks.py:3: edited where no fix",
                     "tasks.py:19: edited where no fix", "not on an edited line",
                     "undefined names ['transaction']"):
        assert expected in text, text
