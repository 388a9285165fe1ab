"""The ecosystem check and the precision ledger: matching, diffing and tables (no corpus runs)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import ecosystem
import precision
from ecosystem import Finding


def finding(path: str = "app/tasks.py", code: str = "CEL201", row: int = 3,
            message: str = "no time limit", snippet: str = "def send():",
            project: str = "proj-1.0") -> Finding:
    return Finding(project, path, code, row, message, snippet)


def label(path: str = "app/tasks.py", code: str = "CEL201", snippet: str = "def send():",
          verdict: str = "true", line: int = 3, project: str = "proj-1.0") -> str:
    return "\t".join((project, path, code, str(line), snippet, verdict, "a reason"))


# -- ecosystem.py ----------------------------------------------------------------------------


def test_snippet_is_stripped_with_tabs_as_spaces_and_cut() -> None:
    assert ecosystem.snippet_of("\t  x =\t1  \n") == "x = 1"
    assert len(ecosystem.snippet_of("y" * 300)) == 160


def test_findings_are_read_relative_to_the_project_with_their_row_text(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "tasks.py").write_bytes(b"import x\x0c\r\n\n    send.delay(order)\n")
    output = json.dumps([
        {"code": "CEL101", "message": "m", "filename": str(tmp_path / "app" / "tasks.py"),
         "location": {"row": 3, "column": 5}},
        {"code": "CEL303", "message": "n", "filename": str(tmp_path / "gone.py"),
         "location": {"row": 1, "column": 1}},
    ])
    assert ecosystem.parse_findings(output, tmp_path, "p") == [
        Finding("p", "app/tasks.py", "CEL101", 3, "m", "send.delay(order)"),
        Finding("p", "gone.py", "CEL303", 1, "n", ""),
    ]


def test_a_finding_that_only_moved_is_no_change() -> None:
    diff = ecosystem.diff_findings([finding(row=3)], [finding(row=9)])
    assert (diff.added, diff.removed, diff.changed) == ([], [], [])


def test_findings_count_with_multiplicity_and_same_rows_pair_first() -> None:
    base = [finding(row=3), finding(row=7)]
    head = [finding(row=3), finding(row=5), finding(row=7)]
    diff = ecosystem.diff_findings(base, head)
    assert [f.row for f in diff.added] == [5]
    assert diff.removed == []
    assert [f.row for f in ecosystem.diff_findings(head, base).removed] == [5]


def test_another_message_or_text_is_a_change() -> None:
    diff = ecosystem.diff_findings([finding(snippet="a()")], [finding(snippet="b()", row=4)])
    assert [f.snippet for f in diff.added] == ["b()"]
    assert [f.snippet for f in diff.removed] == ["a()"]


def test_a_reworded_message_on_the_same_row_shows_as_changed() -> None:
    diff = ecosystem.diff_findings([finding(message="old words")], [finding(message="new words")])
    assert (diff.added, diff.removed) == ([], [])
    assert [(old.message, new.message) for old, new in diff.changed] == [("old words",
                                                                           "new words")]
    assert ecosystem.counts_by_rule(diff) == {"CEL201": {"changed": 1}}


def _results(base: list[Finding], head: list[Finding], error: str | None = None) -> dict:
    def side(findings: list[Finding], err: str | None = None) -> dict:
        return {"findings": [{k: v for k, v in vars(f).items() if k != "project"}
                             for f in findings], "seconds": 1.5, "error": err}

    return {"base": {"label": "`main` (abc)"}, "head": {"label": "working tree (abc)"},
            "options": [],
            "projects": {"proj-1.0": {"base": side(base), "head": side(head)},
                         "other-2.0": {"base": side([]), "head": side([], error)}}}


def test_the_report_lists_each_change_and_sums_per_project_and_rule() -> None:
    base = [finding(code="CEL103", row=10, message="race", snippet="x.delay()")]
    head = [finding(row=2), finding(row=3)]
    report = ecosystem.render_report(_results(base, head))
    assert "**2 projects checked, 1 changed: +2 -1.**" in report
    assert "| proj-1.0 | 1 | 2 | +2 | -1 | ~0 | 1.5 s | 1.5 s |" in report
    assert "| CEL103 | +0 | -1 | ~0 |" in report
    assert "| CEL201 | +2 | -0 | ~0 |" in report
    assert "+ app/tasks.py:2: no time limit\n+ app/tasks.py:3: no time limit" in report
    assert "- app/tasks.py:10: race" in report


def test_a_failed_run_is_reported_and_left_out_of_the_counts() -> None:
    report = ecosystem.render_report(_results([], [finding()], error="exit 2: boom"))
    assert "| other-2.0 | 0 | failed |" in report
    assert "### other-2.0: failed" in report and "boom" in report
    assert "1 failed" in report


def test_preview_and_select_are_passed_only_where_asked() -> None:
    revision = ecosystem.Revision("r", ("celery-lint",))
    assert ecosystem.lint_command(revision, Path("/p"), None, False) == [
        "celery-lint", "check", "--no-cache", "--exit-zero", "--output-format", "json", "/p"]
    assert ecosystem.lint_command(revision, Path("/p"), "CEL2", True)[-4:] == [
        "--select", "CEL2", "--preview", "/p"]


# -- precision.py ----------------------------------------------------------------------------


def test_the_ledger_skips_its_header_comments_and_blank_lines() -> None:
    text = "\t".join(precision.HEADER) + "\n# a note\n\n" + label(verdict="false") + "\n"
    [only] = precision.read_labels(text)
    assert (only.project, only.path, only.code, only.snippet, only.verdict, only.source_line) == (
        "proj-1.0", "app/tasks.py", "CEL201", "def send():", False, 4)


@pytest.mark.parametrize(("row", "problem"), [
    (label(verdict="maybe"), "verdict 'maybe'"),
    ("proj\tpath\tCEL201\t3\tsnippet\ttrue", "6 columns"),
    (label().replace("\t3\t", "\tx\t"), "line 'x'"),
])
def test_a_malformed_ledger_row_is_named(row: str, problem: str) -> None:
    with pytest.raises(precision.LedgerError, match=f"labels.tsv:1: {problem}"):
        precision.read_labels(row)


def test_quotes_in_a_snippet_are_kept_as_written() -> None:
    [only] = precision.read_labels(label(snippet='send.delay(x, "a")'))
    assert only.snippet == 'send.delay(x, "a")'


def test_a_label_survives_a_line_move_and_ties_take_labels_in_order() -> None:
    labels = precision.read_labels("\n".join([
        label(line=3, verdict="true"), label(line=8, verdict="false")]))
    matched = precision.match([finding(row=20), finding(row=12)], labels)
    assert [(f.row, lab.verdict) for f, lab in matched.judged] == [(12, True), (20, False)]
    assert matched.unjudged == [] and matched.gone == []


def test_unmatched_findings_are_unjudged_and_unmatched_labels_gone() -> None:
    labels = precision.read_labels("\n".join([
        label(code="CEL203", snippet="old()"), label(project="other-1.0")]))
    matched = precision.match([finding(), finding(path="app/views.py")], labels)
    assert matched.judged == []
    assert [f.path for f in matched.unjudged] == ["app/tasks.py", "app/views.py"]
    assert [(lab.code, lab.project) for lab in matched.gone] == [("CEL203", "proj-1.0"),
                                                                  ("CEL201", "other-1.0")]


def test_the_table_counts_each_rule_and_its_precision() -> None:
    labels = precision.read_labels("\n".join([
        label(snippet="a()"), label(snippet="b()"), label(snippet="c()", verdict="false"),
        label(code="CEL103", snippet="gone()")]))
    findings = [finding(snippet=s) for s in ("a()", "b()", "c()", "d()")]
    rows = precision.rule_rows(precision.match(findings, labels), {"CEL201": "stable"})
    assert rows == [precision.RuleRow("CEL103", "-", 0, 0, 0, 0, 1),
                    precision.RuleRow("CEL201", "stable", 3, 2, 1, 1, 0)]
    table = precision.render_table(rows)
    assert "| CEL201 | stable | 3 | 2 | 1 | 1 | 0 | 0.67 |" in table
    assert "| CEL103 | - | 0 | 0 | 0 | 0 | 1 | - |" in table
    assert table.endswith("| **all** | | 3 | 2 | 1 | 1 | 1 | 0.67 |")


def test_what_only_preview_reports_of_a_stable_rule_is_its_preview_part() -> None:
    """The stable row counts what a default run reports; a preview rule's findings stay on its
    one row whatever run they come from."""
    labels = precision.read_labels("\n".join([
        label(snippet="wait()"), label(snippet="call()", verdict="false"),
        label(code="CEL103", snippet="send()", verdict="false")]))
    part = finding(snippet="call()")
    findings = [finding(snippet="wait()"), part, finding(code="CEL103", snippet="send()")]
    late = finding(code="CEL103", snippet="send()")
    rows = precision.rule_rows(precision.match(findings, labels),
                               {"CEL201": "stable", "CEL103": "preview"}, {part, late})
    assert rows == [precision.RuleRow("CEL103", "preview", 1, 0, 1, 0, 0),
                    precision.RuleRow("CEL201", "preview part", 1, 0, 1, 0, 0),
                    precision.RuleRow("CEL201", "stable", 1, 1, 0, 0, 0)]


def test_write_replaces_only_the_marked_section() -> None:
    document = f"# Results\n\nbefore\n\n{precision.START}\nold table\n{precision.END}\n\nafter\n"
    replaced = precision.replace_section(document, "new table\n")
    assert replaced == (f"# Results\n\nbefore\n\n{precision.START}\nnew table\n"
                        f"{precision.END}\n\nafter\n")
    appended = precision.replace_section("# Results\n", "table")
    assert appended.endswith(f"{precision.START}\ntable\n{precision.END}\n")
    assert precision.replace_section(appended, "table") == appended


def test_unjudged_rows_once_filled_in_are_labels_of_those_findings() -> None:
    findings = [finding(snippet='send.delay(x, "y")'), finding(path="b.py", row=1)]
    rows = precision.unjudged_rows(findings).splitlines()
    assert rows[0].startswith("# CEL201 proj-1.0/app/tasks.py:3: no time limit")
    assert all(row.endswith("\t\t") for row in rows[1::2])
    filled = "\n".join(row.removesuffix("\t\t") + "\ttrue\tread it" for row in rows[1::2])
    matched = precision.match(findings, precision.read_labels(filled))
    assert len(matched.judged) == 2 and matched.unjudged == []


def test_the_ledger_in_the_repository_is_well_formed() -> None:
    text = precision.LABELS.read_text(encoding="utf-8")
    assert text.splitlines()[0].split("\t") == list(precision.HEADER)
    labels = precision.read_labels(text)
    assert all(lab.reason.strip() and lab.code.startswith("CEL") for lab in labels)
    assert all(len(lab.snippet) <= ecosystem.SNIPPET_LENGTH for lab in labels)


# -- precision.py --fixes: the fix ledger ----------------------------------------------------


def test_a_finding_keeps_the_applicability_of_its_fix(tmp_path: Path) -> None:
    (tmp_path / "tasks.py").write_text("send.delay(order)\nsend.delay(1)\n")
    output = json.dumps([
        {"code": "CEL101", "message": "m", "filename": str(tmp_path / "tasks.py"),
         "location": {"row": 1, "column": 12}, "fix": {"applicability": "unsafe", "edits": []}},
        {"code": "CEL103", "message": "n", "filename": str(tmp_path / "tasks.py"),
         "location": {"row": 2, "column": 1}, "fix": None},
    ])
    assert [f.fix for f in ecosystem.parse_findings(output, tmp_path, "p")] == ["unsafe", ""]


def test_the_fix_ledger_reads_merge_and_no_and_refuses_true() -> None:
    labels = precision.read_labels("\n".join([label(verdict="merge"), label(verdict="no")]),
                                   "fixes.tsv", precision.FIX_VERDICTS)
    assert [lab.verdict for lab in labels] == [True, False]
    with pytest.raises(precision.LedgerError, match="fixes.tsv:1: verdict 'true', expected "
                                                    "merge or no"):
        precision.read_labels(label(verdict="true"), "fixes.tsv", precision.FIX_VERDICTS)


def test_the_fix_table_counts_offered_merged_not_unjudged_and_gone() -> None:
    labels = precision.read_labels("\n".join([
        label(snippet="a()", verdict="merge"), label(snippet="b()", verdict="no"),
        label(code="CEL303", snippet="gone()", verdict="merge")]), "fixes.tsv",
        precision.FIX_VERDICTS)
    findings = [finding(snippet=s) for s in ("a()", "b()", "c()")]
    table = precision.render_fix_table(precision.rule_rows(precision.match(findings, labels), {}))
    assert table.splitlines()[2:] == ["| CEL201 | 3 | 1 | 1 | 1 | 0 |",
                                      "| CEL303 | 0 | 0 | 0 | 0 | 1 |",
                                      "| **all** | 3 | 1 | 1 | 1 | 1 |"]


def test_the_fix_table_has_its_own_section_beside_the_precision_one() -> None:
    document = precision.replace_section("# Results\n", "precision table")
    both = precision.replace_section(document, "fix table", (precision.FIX_START,
                                                             precision.FIX_END), "Fixes")
    assert both.endswith(f"## Fixes\n\n{precision.FIX_START}\nfix table\n{precision.FIX_END}\n")
    again = precision.replace_section(both, "precision table 2")
    assert "precision table 2" in again and "fix table" in again


def test_only_findings_with_a_fix_are_judged_as_fixes(tmp_path: Path, monkeypatch,
                                                      capsys) -> None:
    ledger = tmp_path / "fixes.tsv"
    ledger.write_text("\t".join(precision.HEADER) + "\n" + label(verdict="no") + "\n")
    data = {"head": {"label": "HEAD"}, "projects": {"proj-1.0": {"head": {"error": None, "findings": [
        {k: v for k, v in vars(f).items() if k != "project"}
        for f in (finding(), Finding("proj-1.0", "b.py", "CEL103", 1, "m", "x()", "unsafe"))]}}}}
    (tmp_path / "run.json").write_text(json.dumps(data))
    monkeypatch.setattr(precision, "rule_groups", dict)
    assert precision.main(["--fixes", "--from-json", str(tmp_path / "run.json"),
                           "--labels", str(ledger)]) == 0
    out = capsys.readouterr().out
    assert "| CEL103 | 1 | 0 | 0 | 1 | 0 |" in out  # offered, not judged yet
    assert "| CEL201 | 0 | 0 | 0 | 0 | 1 |" in out  # no fix offered: its label is gone


def test_the_fix_ledger_in_the_repository_is_well_formed() -> None:
    text = precision.FIXES.read_text(encoding="utf-8")
    assert text.splitlines()[0].split("\t") == list(precision.HEADER)
    labels = precision.read_labels(text, "fixes.tsv", precision.FIX_VERDICTS)
    assert all(lab.reason.strip() and lab.code.startswith("CEL") for lab in labels)
    assert all(len(lab.snippet) <= ecosystem.SNIPPET_LENGTH for lab in labels)


def test_a_fix_the_fixer_defers_to_another_one_of_the_project_is_not_counted() -> None:
    def fixable(code: str, project: str) -> Finding:
        return Finding(project, "a.py", code, 1, "m", "x", "unsafe")
    findings = [fixable("CEL201", "both-1.0"), fixable("CEL303", "both-1.0"),
                fixable("CEL201", "alone-1.0"), finding(code="CEL303", project="alone-1.0")]
    kept = precision.applied_fixes(findings, {"CEL201": "CEL303"})
    assert [(f.project, f.code) for f in kept] == [("both-1.0", "CEL303"), ("alone-1.0", "CEL201")]
