"""Per-rule precision on real projects, from the judged ledger `benchmarks/labels.tsv`.

    python benchmarks/precision.py [DIR ...] [--from-json FILE [--side head|base]]
        [--select CODES] [--preview] [--labels FILE] [--write] [--unjudged] [--fixes]

Runs the working tree this script sits in over each project folder (default: the wide corpus, as
benchmarks/ecosystem.py finds it), or reads the findings of an earlier `ecosystem.py --json` run
(`--from-json`, its head side unless `--side base`), matches them to the ledger and prints a table
per rule: its group (stable or preview, where the rule metadata has one), the findings judged, true
and false, those not judged yet, and the precision (true / judged). With `--preview` the tree runs
twice, with and without preview: what only the preview run reports of a stable rule is its preview
part (CEL102's task run in a view, CEL208's `max_retries=None`), counted on a row of its own, so
that the stable row is what a default run reports.

The ledger is a TSV file with the header `project path code line snippet verdict reason`: project is
the corpus folder's name (`pretix-2026.8.0`), path is relative to it, snippet is the stripped source
text of the reported row (tabs as spaces, at most 160 characters), line is for the reader only,
verdict is `true` or `false`. A finding matches a label with the same project, path, code and
snippet, so an unrelated line move does not lose a verdict; findings with the same key take the
labels in file order, by line. Blank lines and lines starting with `#` are skipped. A label that no
finding matches any more is counted as gone: reported, not an error.

`--write` replaces the section between `<!-- precision:start -->` and `<!-- precision:end -->` in
benchmarks/RESULTS.md (added at the end when missing). `--unjudged` prints instead a TSV row, verdict
and reason empty, for every finding without a label (each after a `#` line with its message),
ready to be filled in and appended to the ledger.

`--fixes` judges the fixes instead of the findings: only the findings that offer a fix (safe or
unsafe) that `check --fix --unsafe-fixes` applies are matched (a fix another one in the same
project makes unnecessary, `celery_lint.fixes.DEFERRED_BY`, is left out: CEL201's per-task limits
when CEL303 adds the global ones), against the fix ledger
`benchmarks/fixes.tsv` (same columns; verdict `merge` when a maintainer would merge the fix as it
is, `no` when not, the reason says why), and the table per rule shows the fixes offered, merged
as is, not, unjudged and gone. With `--write` it goes between `<!-- fixes:start -->` and
`<!-- fixes:end -->` in RESULTS.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import shlex
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ecosystem  # the script's own folder, when run as a script
from ecosystem import Finding

LABELS = Path(__file__).resolve().parent / "labels.tsv"
FIXES = Path(__file__).resolve().parent / "fixes.tsv"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = ("project", "path", "code", "line", "snippet", "verdict", "reason")
START, END = "<!-- precision:start -->", "<!-- precision:end -->"
FIX_START, FIX_END = "<!-- fixes:start -->", "<!-- fixes:end -->"
FINDING_VERDICTS = ("true", "false")
FIX_VERDICTS = ("merge", "no")  # a maintainer would merge the fix as it is, or not


@dataclass(frozen=True)
class Label:
    project: str
    path: str
    code: str
    line: int
    snippet: str
    verdict: bool
    reason: str
    source_line: int  # the row of the ledger file, for messages

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.project, self.path, self.code, self.snippet)


@dataclass(frozen=True)
class Matched:
    judged: list[tuple[Finding, Label]]
    unjudged: list[Finding]
    gone: list[Label]


@dataclass(frozen=True)
class RuleRow:
    code: str
    group: str
    judged: int
    true: int
    false: int
    unjudged: int
    gone: int

    @property
    def precision(self) -> float | None:
        return self.true / self.judged if self.judged else None


class LedgerError(ValueError):
    pass


def read_labels(text: str, name: str = "labels.tsv",
                verdicts: tuple[str, str] = FINDING_VERDICTS) -> list[Label]:
    """The labels of a ledger file's text; a malformed row raises LedgerError naming it.
    `verdicts` is the (yes, no) pair the ledger writes: ("true", "false"), or FIX_VERDICTS."""
    labels = []
    rows = csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    for number, row in enumerate(rows, start=1):
        if not row or not "".join(row).strip() or row[0].startswith("#"):
            continue
        if tuple(row) == HEADER:
            continue
        if len(row) != len(HEADER):
            raise LedgerError(f"{name}:{number}: {len(row)} columns, expected {len(HEADER)}")
        project, path, code, line, snippet, verdict, reason = row
        if verdict not in verdicts:
            raise LedgerError(f"{name}:{number}: verdict {verdict!r}, expected "
                              f"{verdicts[0]} or {verdicts[1]}")
        if not line.isdigit():
            raise LedgerError(f"{name}:{number}: line {line!r} is not a number")
        labels.append(Label(project, path, code.upper(), int(line), snippet.strip(),
                            verdict == verdicts[0], reason, number))
    return labels


def match(findings: Iterable[Finding], labels: Sequence[Label]) -> Matched:
    """Pair each finding with a label of the same key; same keys pair in order (file, line)."""
    waiting: dict[tuple, list[Label]] = defaultdict(list)
    for label in labels:
        waiting[label.key].append(label)
    judged, unjudged = [], []
    for finding in sorted(findings, key=lambda f: (f.project, f.path, f.row, f.code)):
        queue = waiting.get((finding.project, finding.path, finding.code, finding.snippet))
        if queue:
            judged.append((finding, queue.pop(0)))
        else:
            unjudged.append(finding)
    gone = sorted((label for queue in waiting.values() for label in queue),
                  key=lambda label: label.source_line)
    return Matched(judged, unjudged, gone)


PART = "preview part"


def rule_rows(matched: Matched, groups: dict[str, str],
              preview_part: Collection[Finding] = ()) -> list[RuleRow]:
    """A row per rule; the findings in `preview_part` (of stable rules, reported only with
    preview on) on a row of their rule's own, whose group is `preview part`."""
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)

    def row(finding: Finding) -> tuple[str, str]:
        group = groups.get(finding.code, "-")
        return finding.code, PART if finding in preview_part and group != "preview" else group

    for finding, label in matched.judged:
        counts[row(finding)]["true" if label.verdict else "false"] += 1
    for finding in matched.unjudged:
        counts[row(finding)]["unjudged"] += 1
    for label in matched.gone:
        counts[label.code, groups.get(label.code, "-")]["gone"] += 1
    return [RuleRow(code, group, c["true"] + c["false"], c["true"], c["false"], c["unjudged"],
                    c["gone"]) for (code, group), c in sorted(counts.items())]


def _precision(true: int, judged: int) -> str:
    return f"{true / judged:.2f}" if judged else "-"


def render_table(rows: Sequence[RuleRow]) -> str:
    lines = ["| rule | group | judged | true | false | unjudged | gone | precision |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row.code} | {row.group} | {row.judged} | {row.true} | {row.false} "
                     f"| {row.unjudged} | {row.gone} | {_precision(row.true, row.judged)} |")
    total = RuleRow("total", "", *(sum(getattr(r, f) for r in rows)
                                   for f in ("judged", "true", "false", "unjudged", "gone")))
    lines.append(f"| **all** | | {total.judged} | {total.true} | {total.false} | {total.unjudged} "
                 f"| {total.gone} | {_precision(total.true, total.judged)} |")
    return "\n".join(lines)


def render_fix_table(rows: Sequence[RuleRow]) -> str:
    """The fixes per rule: offered (judged or not), merged as is, not, unjudged, gone."""
    lines = ["| rule | fixes offered | merged as is | not | unjudged | gone |",
             "|---|---:|---:|---:|---:|---:|"]
    for row in [*rows, RuleRow("**all**", "", *(sum(getattr(r, f) for r in rows) for f in (
            "judged", "true", "false", "unjudged", "gone")))]:
        lines.append(f"| {row.code} | {row.judged + row.unjudged} | {row.true} | {row.false} "
                     f"| {row.unjudged} | {row.gone} |")
    return "\n".join(lines)


def replace_section(document: str, body: str, markers: tuple[str, str] = (START, END),
                    heading: str = "Precision on real projects") -> str:
    """`document` with the text between `markers` replaced by `body` (or appended under
    `heading`)."""
    begin, finish = markers
    section = f"{begin}\n{body.rstrip()}\n{finish}"
    start, end = document.find(begin), document.find(finish)
    if start == -1 or end < start:
        return document.rstrip() + f"\n\n## {heading}\n\n" + section + "\n"
    return document[:start] + section + document[end + len(finish):]


def unjudged_rows(findings: Iterable[Finding]) -> str:
    out = []
    for f in findings:
        out.append(f"# {f.code} {f.project}/{f.path}:{f.row}: {f.message}")
        out.append("\t".join((f.project, f.path, f.code, str(f.row), f.snippet, "", "")))
    return "\n".join(out) + ("\n" if out else "")


def applied_fixes(findings: Iterable[Finding], deferred_by: dict[str, str]) -> list[Finding]:
    """The findings whose fix `--fix` applies: those with a fix, less those deferred by another
    code with a fix in the same project (the fixer does not apply them once that one is in)."""
    fixable = [f for f in findings if f.fix]
    present = {(f.project, f.code) for f in fixable}
    return [f for f in fixable if (f.project, deferred_by.get(f.code)) not in present]


def deferred_fixes() -> dict[str, str]:
    """celery_lint.fixes.DEFERRED_BY of this tree, {} in a tree without it."""
    sys.path.insert(0, str(ecosystem.REPO))
    try:
        from celery_lint.fixes import DEFERRED_BY
    except ImportError:
        return {}
    return dict(DEFERRED_BY)


def rule_groups() -> dict[str, str]:
    """{code: "stable" | "preview"} from the rule metadata of this tree, {} when it has no groups."""
    sys.path.insert(0, str(ecosystem.REPO))
    try:
        from celery_lint.codes import all_rules
        rules = all_rules()
    except (ImportError, AttributeError):  # another layout: the table goes without groups
        return {}
    groups = {}
    for rule in rules:
        group = getattr(rule, "group", None)
        if group is not None:
            groups[rule.code] = str(getattr(group, "value", group))
    return groups


def findings_of_json(data: dict, side: str) -> tuple[list[Finding], list[str]]:
    findings, failed = [], []
    for project, runs in data["projects"].items():
        run = runs[side]
        if run["error"]:
            failed.append(project)
        findings += [Finding(**{**f, "project": project}) for f in run["findings"]]
    return findings, failed


def run_tree(directories: Sequence[Path], select: str | None, preview: bool,
             jobs: int) -> tuple[list[Finding], set[Finding], list[str]]:
    """The findings of the working tree, those of them that only preview adds (with `preview`:
    a second run without it tells them), and the projects whose run failed."""
    revision = ecosystem.working_tree_revision()
    sides = {"head": (revision, preview)}
    if preview:
        sides["default"] = (revision, False)
    with tempfile.TemporaryDirectory(prefix="celery-lint-precision-") as tmp:
        runs = ecosystem.run_projects(directories, sides, select, jobs, Path(tmp))
    findings, added, failed = [], set(), []
    for name, runs_of in runs.items():
        for side, run in runs_of.items():
            if run.error:
                failed.append(name)
                print(f"precision: {name} {side} failed:\n{run.error}", file=sys.stderr)
        findings += runs_of["head"].findings
        if preview:
            added |= set(Counter(runs_of["head"].findings) - Counter(runs_of["default"].findings))
    return findings, added, sorted(set(failed))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dirs", nargs="*", type=Path, help="project folders (default: the corpus)")
    parser.add_argument("--from-json", type=Path, help="the findings of an ecosystem.py --json run")
    parser.add_argument("--side", choices=("head", "base"), default="head",
                        help="with --from-json: which revision's findings (default head)")
    parser.add_argument("--labels", type=Path, help="the ledger (default: benchmarks/labels.tsv, "
                        "with --fixes benchmarks/fixes.tsv)")
    parser.add_argument("--select", help="passed to the run")
    parser.add_argument("--preview", action="store_true",
                        help="passed to the run; a second run without it tells the preview parts")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="runs at a time (default 2)")
    parser.add_argument("--corpus-tool", type=Path, help="the corpus script (default: found)")
    parser.add_argument("--write", action="store_true",
                        help="replace the precision section of benchmarks/RESULTS.md")
    parser.add_argument("--unjudged", action="store_true",
                        help="print a TSV row to fill in for each finding without a label")
    parser.add_argument("--fixes", action="store_true",
                        help="judge the fixes the findings offer, by benchmarks/fixes.tsv")
    args = parser.parse_args(argv)
    args.labels = args.labels or (FIXES if args.fixes else LABELS)

    try:
        labels = read_labels(args.labels.read_text(encoding="utf-8"), str(args.labels),
                             FIX_VERDICTS if args.fixes else FINDING_VERDICTS)
    except (OSError, LedgerError) as error:
        print(f"precision: {error}", file=sys.stderr)
        return 2
    if args.from_json:
        data = json.loads(args.from_json.read_text(encoding="utf-8"))
        findings, failed = findings_of_json(data, args.side)
        preview_part: set[Finding] = set()  # one run: what only preview adds is not known
        projects = sorted(data["projects"])
        source = f"{data[args.side]['label']} from {args.from_json.name}"
    else:
        directories = ([d.resolve() for d in args.dirs]
                       or ecosystem.corpus_folders(args.corpus_tool))
        findings, preview_part, failed = run_tree(directories, args.select, args.preview,
                                                  max(1, args.jobs))
        projects = [d.name for d in directories]
        source = ecosystem.working_tree_revision().label
    # Labels of projects not in this run are neither matched nor gone.
    labels = [label for label in labels if label.project in projects]
    if args.fixes:
        findings = applied_fixes(findings, deferred_fixes())
    matched = match(findings, labels)
    if args.unjudged:
        sys.stdout.write(unjudged_rows(matched.unjudged))
        return 2 if failed else 0
    rows = rule_rows(matched, rule_groups(), preview_part)
    table = render_fix_table(rows) if args.fixes else render_table(rows)
    options = " ".join(([f"--select {args.select}"] if args.select else [])
                       + (["--preview"] if args.preview else []))
    what = "fixes offered by the findings" if args.fixes else "findings"
    note = (f"{len(findings)} {what} of {source}{f' ({options})' if options else ''} on "
            f"{len(projects)} project{'s' if len(projects) != 1 else ''} ({', '.join(projects)}), judged by "
            f"{args.labels.name}; {datetime.date.today().isoformat()}."
            + (f" Failed runs: {', '.join(failed)}." if failed else ""))
    print(table)
    print()
    print(note)
    verdicts = FIX_VERDICTS if args.fixes else FINDING_VERDICTS
    if matched.gone:
        print(f"\n{len(matched.gone)} labels match no finding any more:")
        for label in matched.gone:
            print(f"  {args.labels.name}:{label.source_line}: {label.project} {label.path}:"
                  f"{label.line} {label.code} ({verdicts[0] if label.verdict else verdicts[1]})")
    if args.write:
        given = sys.argv[1:] if argv is None else list(argv)
        command = shlex.join(["python", "benchmarks/precision.py",
                              *(a for a in given if a != "--write")])
        body = f"`{command}` (`--unjudged` lists what is left to judge):\n\n{table}\n\n{note}"
        document = RESULTS.read_text(encoding="utf-8")
        document = replace_section(document, body, (FIX_START, FIX_END),
                                   "Fixes judged on real projects") if args.fixes else \
            replace_section(document, body)
        RESULTS.write_text(document, encoding="utf-8")
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
