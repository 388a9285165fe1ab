"""Run `check --fix --unsafe-fixes` on copies of real projects and check what it did.

For each project folder given, a copy is fixed through the command line, then:
every .py file that parsed before must still parse, and a second identical run must apply nothing.
Prints the fixes per code per project, the parse check, the second run's count and the time.

    python benchmarks/fix_corpus.py ~/.cache/celery-lint-corpus/* [--work /tmp/fixrun]

Nothing is downloaded; the originals are never written to. With --work, the fixed copies stay
there (`diff -r ORIGINAL WORK/NAME` shows the edits); without it, a temporary folder is removed.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

FIX_LINE = re.compile(r"^    (\d+) x ([A-Z]+\d+)$", re.MULTILINE)


@dataclass
class FixRun:
    project: str
    fixes: Counter[str] = field(default_factory=Counter)
    files_fixed: int = 0
    seconds: float = 0.0
    second_run: int = 0
    broken: list[str] = field(default_factory=list)  # parsed before the fix, not after
    refused: int = 0  # files the fixer left alone because a fix would break them
    exit_code: int = 0


def command() -> list[str]:
    """celery-lint beside this Python (the venv's), else `python -m celery_lint`."""
    script = Path(sys.executable).with_name("celery-lint")
    return [str(script)] if script.exists() else [sys.executable, "-m", "celery_lint"]


def fix_once(folder: Path) -> tuple[Counter[str], int, int, float, int]:
    """Fixes per code, files fixed, files refused, seconds, exit code of one `--fix` run."""
    started = time.perf_counter()
    done = subprocess.run([*command(), "check", str(folder), "--fix", "--unsafe-fixes",
                           "--show-fixes", "--exit-zero"], capture_output=True, text=True,
                           check=False)
    seconds = time.perf_counter() - started
    counts: Counter[str] = Counter()
    for count, code in FIX_LINE.findall(done.stdout):
        counts[code] += int(count)
    files = len(re.findall(r"^- .*:$", done.stdout, re.MULTILINE))
    refused = done.stderr.count("a fix would make it unparsable")
    return counts, files, refused, seconds, done.returncode


def parses(path: Path) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences in old code
            ast.parse(path.read_bytes())
    except (SyntaxError, ValueError, RecursionError):
        return False
    return True


def run_project(original: Path, work: Path) -> FixRun:
    copy = work / original.name
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(original, copy, symlinks=True)
    outcome = FixRun(original.name)
    outcome.fixes, outcome.files_fixed, outcome.refused, outcome.seconds, outcome.exit_code = \
        fix_once(copy)
    outcome.second_run = sum(fix_once(copy)[0].values())
    for path in sorted(copy.rglob("*.py")):
        if not parses(path) and parses(original / path.relative_to(copy)):
            outcome.broken.append(str(path.relative_to(copy)))
    return outcome


def table(runs: list[FixRun]) -> str:
    codes = sorted({code for run in runs for code in run.fixes})
    header = ["project", *codes, "total", "files", "parse", "2nd run", "time"]
    rows = [header]
    for run in runs:
        parse = "ok" if not run.broken else f"{len(run.broken)} broken"
        if run.refused:
            parse += f" ({run.refused} refused)"
        rows.append([run.project, *(str(run.fixes.get(code, 0)) for code in codes),
                     str(sum(run.fixes.values())), str(run.files_fixed), parse,
                     str(run.second_run), f"{run.seconds:.1f} s"])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in rows]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("projects", nargs="+", type=Path, help="project folders (not modified)")
    parser.add_argument("--work", type=Path, help="where the fixed copies go (kept)")
    options = parser.parse_args(argv)
    work = options.work or Path(tempfile.mkdtemp(prefix="fix-corpus-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        runs = [run_project(project.resolve(), work) for project in options.projects]
    finally:
        if options.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(table(runs))
    for run in runs:
        for path in run.broken:
            print(f"{run.project}: {path} no longer parses")
        if run.exit_code:
            print(f"{run.project}: celery-lint exited with {run.exit_code}")
    failed = any(run.broken or run.second_run or run.exit_code for run in runs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
