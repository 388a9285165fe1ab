"""The ecosystem check, as ruff has one: what a change does to the findings on real projects.

    python benchmarks/ecosystem.py [DIR ...] [--base REF | --base-cmd CMD] [--head REF | --head-cmd CMD]
        [--select CODES] [--preview | --head-preview | --base-preview] [-j N] [--json FILE]
        [--output FILE]
    python benchmarks/ecosystem.py --from-json FILE     (print the report of an earlier --json run)

Runs two revisions of celery-lint over each project folder and prints, as Markdown, the diagnostics
the head revision adds and removes, per project and rule, with their path:row and message, then a
summary table per project and per rule and the timings.

Revisions. `--base REF` (default `main`) and `--head REF` are git refs of the repository this script
sits in: the ref's `celery_lint` package (and `rules/`) is exported with `git archive` into a
temporary folder and run as `PYTHONPATH=<folder> python -m celery_lint`. Without `--head`, the head
is the working tree itself, uncommitted changes included. `--base-cmd`/`--head-cmd` take any
command line instead (`--base-cmd "celery-lint"`, `--head-cmd "/other/venv/bin/python -m
celery_lint"`). Each run is `<command> check --no-cache --exit-zero --output-format json DIR`, with
`--select` when given, and `--preview` on both sides (`--preview`) or only one (`--head-preview`,
`--base-preview`: a base from before rule groups does not know the option).

Corpus. The DIR arguments, else the folders printed by `shared/tools/corpus --wide`, looked for in
the folders above the repository (`../shared/tools/corpus` beside a checkout; `--corpus-tool` names
it elsewhere).

Matching. A diagnostic is keyed by (path relative to the project, code, message, stripped source
text of its row), so a line that moved for an unrelated reason is not a change; keys count with
multiplicity. Within a key, diagnostics on the same row pair first. A removed and an added
diagnostic of the same rule on the same path, row and source text are shown as a changed message
rather than as one removed and one added.

`-j N` projects' runs at a time (default 2), base and head of a project next to each other. Exit
status: 0, or 2 when a run failed (its project is reported as failed and left out of the counts).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# What a revision needs in order to run: the package, and the rule pages it may read.
EXPORTED = ("celery_lint", "rules")
SNIPPET_LENGTH = 160


@dataclass(frozen=True)
class Finding:
    """One diagnostic of one run, keyed by what survives unrelated line moves."""

    project: str
    path: str  # relative to the project folder, with forward slashes
    code: str
    row: int
    message: str
    snippet: str  # the stripped source text of `row`
    fix: str = ""  # the applicability of the fix it offers ("safe", "unsafe"), "" for none

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.path, self.code, self.message, self.snippet)


def _order(finding: Finding) -> tuple:
    return (finding.path, finding.row, finding.code, finding.message)


@dataclass
class Run:
    """One revision's run over one project."""

    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None


@dataclass(frozen=True)
class Revision:
    label: str  # for the report: `main (1a2b3c4)`, `working tree (1a2b3c4, modified)`
    command: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ProjectDiff:
    added: list[Finding]
    removed: list[Finding]
    changed: list[tuple[Finding, Finding]]  # (base, head): same path, code, row and text


# -- reading a run ---------------------------------------------------------------------------


def snippet_of(line: str) -> str:
    """A row's source text as the ledger keys it: stripped, tabs as spaces, at most 160 chars."""
    return line.strip().replace("\t", " ")[:SNIPPET_LENGTH]


class SourceLines:
    """The rows of the project's files, read once each (the corpus does not change during a run)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: dict[str, list[str]] = {}

    def snippet(self, path: str, row: int) -> str:
        if path not in self._files:
            try:
                text = (self.root / path).read_bytes().decode("utf-8", errors="replace")
            except OSError:
                text = ""
            # Rows as Python numbers them: a form feed or another Unicode separator ends no line.
            self._files[path] = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        lines = self._files[path]
        return snippet_of(lines[row - 1]) if 1 <= row <= len(lines) else ""


def relative_path(filename: str, root: Path) -> str:
    path = Path(filename)
    if not path.is_absolute():
        path = root / path
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def parse_findings(output: str, root: Path, project: str) -> list[Finding]:
    """The findings of celery-lint's JSON output on the project folder `root`."""
    lines = SourceLines(root)
    findings = []
    for item in json.loads(output):
        path = relative_path(item["filename"], root)
        row = int((item.get("location") or {}).get("row") or 0)
        fix = (item.get("fix") or {}).get("applicability") or ""
        findings.append(Finding(project, path, item["code"], row, item["message"],
                                lines.snippet(path, row), fix))
    return sorted(findings, key=_order)


# -- comparing two runs ----------------------------------------------------------------------


def diff_findings(base: Sequence[Finding], head: Sequence[Finding]) -> ProjectDiff:
    """What head adds and removes, matching by key with multiplicity (same rows pair first)."""
    by_key: dict[tuple, tuple[list[Finding], list[Finding]]] = defaultdict(lambda: ([], []))
    for finding in base:
        by_key[finding.key][0].append(finding)
    for finding in head:
        by_key[finding.key][1].append(finding)
    added: list[Finding] = []
    removed: list[Finding] = []
    for old, new in by_key.values():
        unmatched_old = list(old)
        unmatched_new = []
        for finding in new:
            same_row = next((f for f in unmatched_old if f.row == finding.row), None)
            if same_row is not None:
                unmatched_old.remove(same_row)
            else:
                unmatched_new.append(finding)
        # What is left pairs in order: the same text under the same message, moved.
        paired = min(len(unmatched_new), len(unmatched_old))
        added += unmatched_new[paired:]
        removed += unmatched_old[paired:]
    return _pair_changed_messages(added, removed)


def _pair_changed_messages(added: list[Finding], removed: list[Finding]) -> ProjectDiff:
    changed = []
    spare = list(added)
    still_removed = []
    for old in removed:
        new = next((f for f in spare if (f.path, f.code, f.row, f.snippet)
                    == (old.path, old.code, old.row, old.snippet)), None)
        if new is None:
            still_removed.append(old)
        else:
            spare.remove(new)
            changed.append((old, new))
    return ProjectDiff(sorted(spare, key=_order), sorted(still_removed, key=_order),
                       sorted(changed, key=lambda pair: _order(pair[1])))


def counts_by_rule(diff: ProjectDiff) -> dict[str, Counter]:
    """{code: Counter(added=, removed=, changed=)}."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for finding in diff.added:
        counts[finding.code]["added"] += 1
    for finding in diff.removed:
        counts[finding.code]["removed"] += 1
    for _, finding in diff.changed:
        counts[finding.code]["changed"] += 1
    return dict(counts)


# -- the report ------------------------------------------------------------------------------


def _signed(counter: Counter) -> str:
    parts = [f"+{counter['added']}", f"-{counter['removed']}"]
    if counter["changed"]:
        parts.append(f"~{counter['changed']}")
    return " ".join(parts)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_report(results: dict, seconds: float | None = None) -> str:
    """The Markdown report of `results` (the structure --json writes)."""
    base_label, head_label = results["base"]["label"], results["head"]["label"]
    projects = results["projects"]
    out = ["## celery-lint ecosystem check", "",
           f"base: {base_label}  ", f"head: {head_label}  ",
           f"options: `{' '.join(results.get('options', [])) or '(none)'}`", ""]
    diffs: dict[str, ProjectDiff] = {}
    failed = []
    for name, runs in projects.items():
        base, head = _run_of(runs["base"], name), _run_of(runs["head"], name)
        if base.error or head.error:
            failed.append((name, base.error, head.error))
        else:
            diffs[name] = diff_findings(base.findings, head.findings)
    total_rules: dict[str, Counter] = defaultdict(Counter)
    changed_projects = 0
    for diff in diffs.values():
        for code, counter in counts_by_rule(diff).items():
            total_rules[code].update(counter)
        changed_projects += bool(diff.added or diff.removed or diff.changed)
    added = sum(c["added"] for c in total_rules.values())
    removed = sum(c["removed"] for c in total_rules.values())
    changed = sum(c["changed"] for c in total_rules.values())
    out.append(f"**{len(diffs)} project{'s' if len(diffs) != 1 else ''} checked, "
               f"{changed_projects} changed: +{added} -{removed}"
               + (f" ~{changed} (message changed)" if changed else "")
               + (f"; {len(failed)} failed" if failed else "") + ".**")
    out.append("")
    out += ["### Summary by project", "",
            "| project | base | head | added | removed | changed | base time | head time |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, runs in projects.items():
        base, head = runs["base"], runs["head"]
        if name in diffs:
            diff = diffs[name]
            cells = [str(len(base["findings"])), str(len(head["findings"])),
                     f"+{len(diff.added)}", f"-{len(diff.removed)}", f"~{len(diff.changed)}"]
        else:
            cells = ["failed" if base["error"] else str(len(base["findings"])),
                     "failed" if head["error"] else str(len(head["findings"])), "", "", ""]
        out.append(f"| {name} | " + " | ".join(cells)
                   + f" | {base['seconds']:.1f} s | {head['seconds']:.1f} s |")
    base_total = sum(r["base"]["seconds"] for r in projects.values())
    head_total = sum(r["head"]["seconds"] for r in projects.values())
    out.append(f"| **total** | | | +{added} | -{removed} | ~{changed} "
               f"| {base_total:.1f} s | {head_total:.1f} s |")
    out.append("")
    if total_rules:
        out += ["### Summary by rule", "", "| rule | added | removed | changed |",
                "|---|---:|---:|---:|"]
        for code in sorted(total_rules):
            counter = total_rules[code]
            out.append(f"| {code} | +{counter['added']} | -{counter['removed']} "
                       f"| ~{counter['changed']} |")
        out.append("")
    for name, base_error, head_error in failed:
        out += [f"### {name}: failed", ""]
        for side, error in (("base", base_error), ("head", head_error)):
            if error:
                out += [f"{side}:", "```", error.strip()[-2000:], "```"]
        out.append("")
    for name, diff in diffs.items():
        counts = counts_by_rule(diff)
        if not counts:
            continue
        out += [f"### {name}", ""]
        for code in sorted(counts):
            out += [f"<details><summary>{code} ({_signed(counts[code])})</summary>", "", "```diff"]
            lines = [(f.path, f.row, f"+ {f.path}:{f.row}: {f.message}")
                     for f in diff.added if f.code == code]
            lines += [(f.path, f.row, f"- {f.path}:{f.row}: {f.message}")
                      for f in diff.removed if f.code == code]
            for old, new in diff.changed:
                if new.code == code:
                    text = (f"- {old.path}:{old.row}: {old.message}\n"
                            f"+ {new.path}:{new.row}: {new.message}")
                    lines.append((new.path, new.row, text))
            out += [text for _, _, text in sorted(lines, key=lambda item: item[:2])]
            out += ["```", "", "</details>", ""]
    if seconds is not None:
        out.append(f"Wall time of the check: {seconds:.1f} s.")
    return "\n".join(out).rstrip() + "\n"


def _run_of(data: dict, project: str) -> Run:
    findings = [Finding(**{**f, "project": project}) for f in data["findings"]]
    return Run(findings, data["seconds"], data["error"])


# -- running the revisions ------------------------------------------------------------------


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def export_ref(ref: str, into: Path) -> None:
    """Write the ref's package (and rule pages) into `into`, leaving the repository untouched."""
    top = set(_git("ls-tree", "--name-only", ref).splitlines())
    paths = [p for p in EXPORTED if p in top]
    if "celery_lint" not in paths:
        raise SystemExit(f"ecosystem: {ref} has no celery_lint package")
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", ref, *paths],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)


def ref_revision(ref: str, workdir: Path) -> Revision:
    sha = _git("rev-parse", "--short", f"{ref}^{{commit}}")
    folder = workdir / f"rev-{sha}"
    if not folder.exists():
        folder.mkdir()
        export_ref(ref, folder)
    return Revision(f"`{ref}` ({sha})", (sys.executable, "-m", "celery_lint"),
                    (("PYTHONPATH", str(folder)),))


def working_tree_revision() -> Revision:
    sha = _git("rev-parse", "--short", "HEAD")
    dirty = ", modified" if _git("status", "--porcelain", "--", *EXPORTED) else ""
    return Revision(f"working tree ({sha}{dirty})", (sys.executable, "-m", "celery_lint"),
                    (("PYTHONPATH", str(REPO)),))


def command_revision(command: str) -> Revision:
    return Revision(f"`{command}`", tuple(shlex.split(command)))


def lint_command(revision: Revision, directory: Path, select: str | None,
                 preview: bool) -> list[str]:
    command = [*revision.command, "check", "--no-cache", "--exit-zero", "--output-format", "json"]
    if select:
        command += ["--select", select]
    if preview:
        command.append("--preview")
    return [*command, str(directory)]


def run_one(revision: Revision, directory: Path, select: str | None, preview: bool,
            cwd: Path) -> Run:
    env = {**os.environ, **dict(revision.env), "CELERY_LINT_NO_CACHE": "1"}
    command = lint_command(revision, directory, select, preview)
    start = time.perf_counter()
    try:
        done = subprocess.run(command, check=False, capture_output=True, text=True, env=env,
                              cwd=cwd)
    except OSError as error:
        return Run(error=f"{shlex.join(command)}: {error}")
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        return Run(seconds=seconds, error=f"exit {done.returncode}: {shlex.join(command)}\n"
                   f"{done.stderr}")
    try:
        return Run(parse_findings(done.stdout, directory, directory.name), seconds)
    except (ValueError, KeyError, TypeError) as error:
        return Run(seconds=seconds, error=f"unreadable output ({error}): {done.stdout[:500]}")


def run_projects(directories: Sequence[Path], sides: dict[str, tuple[Revision, bool]],
                 select: str | None, jobs: int, cwd: Path) -> dict[str, dict[str, Run]]:
    """Run each side over each project, `jobs` at a time; the sides of a project run together.

    `cwd` is an empty folder: `python -m` puts the current folder first on sys.path, and a linted
    project must never be importable by the linter.
    """
    tasks = [(directory, side) for directory in directories for side in sides]
    results: dict[str, dict[str, Run]] = {d.name: {} for d in directories}

    def work(task: tuple[Path, str]) -> None:
        directory, side = task
        revision, preview = sides[side]
        run = run_one(revision, directory, select, preview, cwd)
        results[directory.name][side] = run
        state = "failed" if run.error else f"{len(run.findings)} findings"
        print(f"  {directory.name} {side}: {state} in {run.seconds:.1f} s", file=sys.stderr)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(work, tasks))
    return results


def corpus_folders(tool: Path | None) -> list[Path]:
    if tool is None:
        tool = next((p / "shared" / "tools" / "corpus" for p in REPO.parents
                     if (p / "shared" / "tools" / "corpus").is_file()), None)
        if tool is None:
            raise SystemExit("ecosystem: no project folders given and no shared/tools/corpus "
                             "found above the repository (use --corpus-tool)")
    done = subprocess.run([str(tool), "--wide"], check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"ecosystem: {tool} --wide failed:\n{done.stderr}")
    return [Path(line) for line in done.stdout.splitlines() if line.strip()]


def results_json(base: Revision, head: Revision, options: list[str],
                 runs: dict[str, dict[str, Run]], directories: Iterable[Path]) -> dict:
    def side(run: Run) -> dict:
        return {"findings": [{k: v for k, v in asdict(f).items() if k != "project"}
                             for f in run.findings],
                "seconds": round(run.seconds, 3), "error": run.error}

    return {"base": {"label": base.label, "command": list(base.command)},
            "head": {"label": head.label, "command": list(head.command)},
            "options": options,
            "projects": {d.name: {"dir": str(d), "base": side(runs[d.name]["base"]),
                                  "head": side(runs[d.name]["head"])} for d in directories}}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dirs", nargs="*", type=Path, help="project folders (default: the corpus)")
    parser.add_argument("--base", default="main", help="git ref of the base (default: main)")
    parser.add_argument("--head", help="git ref of the head (default: the working tree)")
    parser.add_argument("--base-cmd", help="command line of the base instead of a ref")
    parser.add_argument("--head-cmd", help="command line of the head instead of the working tree")
    parser.add_argument("--select", help="passed to both runs")
    parser.add_argument("--preview", action="store_true", help="pass --preview to both runs")
    parser.add_argument("--head-preview", action="store_true",
                        help="pass --preview to the head only (a base without rule groups)")
    parser.add_argument("--base-preview", action="store_true",
                        help="pass --preview to the base only")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="runs at a time (default 2)")
    parser.add_argument("--json", type=Path, help="also write the raw results to this file")
    parser.add_argument("--from-json", type=Path, help="report an earlier --json file; run nothing")
    parser.add_argument("--output", type=Path, help="write the report here instead of stdout")
    parser.add_argument("--corpus-tool", type=Path, help="the corpus script (default: found)")
    args = parser.parse_args(argv)

    if args.from_json:
        results = json.loads(args.from_json.read_text(encoding="utf-8"))
        elapsed = None
    else:
        start = time.perf_counter()
        directories = [d.resolve() for d in args.dirs] or corpus_folders(args.corpus_tool)
        if missing := [d for d in directories if not d.is_dir()]:
            parser.error(f"not a folder: {missing[0]}")
        with tempfile.TemporaryDirectory(prefix="celery-lint-ecosystem-") as tmp:
            base = (command_revision(args.base_cmd) if args.base_cmd
                    else ref_revision(args.base, Path(tmp)))
            head = (command_revision(args.head_cmd) if args.head_cmd
                    else ref_revision(args.head, Path(tmp)) if args.head
                    else working_tree_revision())
            sides = {"base": (base, args.preview or args.base_preview),
                     "head": (head, args.preview or args.head_preview)}
            print(f"ecosystem: {len(directories)} projects, base {base.label}, head {head.label}",
                  file=sys.stderr)
            empty = Path(tmp) / "cwd"
            empty.mkdir()
            runs = run_projects(directories, sides, args.select, max(1, args.jobs), empty)
        options = [f"--select {args.select}"] if args.select else []
        if previewed := [side for side, (_, preview) in sides.items() if preview]:
            options.append("--preview" if len(previewed) == 2 else f"--preview ({previewed[0]})")
        results = results_json(base, head, options, runs, directories)
        elapsed = time.perf_counter() - start
        if args.json:
            args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    report = render_report(results, elapsed)
    if args.output:
        args.output.write_text(report, encoding="utf-8")
    else:
        sys.stdout.write(report)
    failed = any(side["error"] for runs in results["projects"].values()
                 for side in (runs["base"], runs["head"]))
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
