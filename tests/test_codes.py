"""The table of codes (celery_lint/codes.py) and the rule groups: preview rules run only with
--preview or `preview = true`, however they are selected, and every front end shows the group."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from helpers import MODELS, write_project

from celery_lint import codes
from celery_lint.cli import main
from celery_lint.codes import Group, expand_codes, get_rule, rule_for, selected_rules
from celery_lint.rules import visitor_rules

# CEL205 (bind-mismatch, on by default) at tasks.py:6
TASKS = """
    from celery import shared_task


    @shared_task
    def send_invoice(self, order_id):
        return self.request.id
"""


def invoke(args: list[str]) -> Result:
    result = CliRunner().invoke(main, args)
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture
def preview_cel205(monkeypatch: pytest.MonkeyPatch) -> None:
    """The table as it will be when a rule moves to preview: one field of its row changed."""
    row = dataclasses.replace(rule_for("CEL205"), group=Group.PREVIEW)
    monkeypatch.setattr(codes, "RULES", tuple(row if r.code == "CEL205" else r
                                              for r in codes.RULES))
    monkeypatch.setitem(codes._BY_CODE, "CEL205", row)


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_project(tmp_path, {"manage.py": "", "shop/models.py": MODELS, "shop/tasks.py": TASKS})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def reported(result: Result) -> list[str]:
    return sorted({d["code"] for d in json.loads(result.stdout)})


CHECK = ["check", "--no-cache", "--exit-zero", "--output-format", "json"]


# -- the table ----------------------------------------------------------------------------------

def test_the_table_is_in_code_order_without_repeats() -> None:
    table = [rule.code for rule in codes.all_rules()]
    assert table == sorted(set(table))


def test_every_libcst_rule_is_a_row_of_the_table() -> None:
    for rule in visitor_rules():
        assert get_rule(rule.info.code) is rule.info


def test_a_rule_naming_no_row_fails_on_import() -> None:
    with pytest.raises(KeyError):
        rule_for("CEL999")


def test_codes_imports_no_rule() -> None:
    """Configuration validates codes against the table: importing it loads no rule (or libcst)."""
    import subprocess
    import sys

    script = ("import sys, celery_lint.config; "
              "print(sorted(m for m in sys.modules if m.startswith(('celery_lint.rules', "
              "'libcst'))))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.strip() == "[]"


def test_prefixes_expand_against_the_table() -> None:
    assert expand_codes(["cel20"]) == {r.code for r in codes.all_rules()
                                       if r.code.startswith("CEL20")}
    with pytest.raises(ValueError, match="CEL9"):
        expand_codes(["CEL9"])


# -- preview ------------------------------------------------------------------------------------

def test_every_preview_rule_says_on_its_page_why_it_is_preview() -> None:
    """A rule is preview until its judged precision on the real-project corpus is 9 in 10; its
    page tells the user that, and why (too few findings, or too many false ones)."""
    from celery_lint.pages import page

    for rule in codes.all_rules():
        if rule.group is Group.PREVIEW:
            text = page(rule.code) or ""
            assert "## Group" in text and "preview" in text.split("## Group", 1)[1], rule.code


@pytest.mark.usefixtures("preview_cel205")
def test_a_preview_rule_is_left_out_of_every_selection_without_preview() -> None:
    assert "CEL205" not in selected_rules(None, (), ())
    assert "CEL205" not in selected_rules(["CEL20"], (), ())
    assert "CEL205" not in selected_rules(["ALL"], (), ())
    assert "CEL205" not in selected_rules(["CEL205"], (), ())
    assert "CEL205" in selected_rules(None, (), (), preview=True)
    assert "CEL205" in selected_rules(["CEL205"], (), (), preview=True)
    assert "CEL205" not in selected_rules(["CEL20"], ["CEL205"], (), preview=True)


@pytest.mark.usefixtures("preview_cel205")
def test_check_runs_a_preview_rule_only_with_preview(shop: Path) -> None:
    assert "CEL205" not in reported(invoke(CHECK))
    assert "CEL205" not in reported(invoke([*CHECK, "--select", "CEL20"]))
    assert "CEL205" in reported(invoke([*CHECK, "--preview"]))
    assert "CEL205" in reported(invoke([*CHECK, "--preview", "--select", "CEL20"]))


@pytest.mark.usefixtures("preview_cel205")
def test_selecting_a_preview_rule_by_its_code_warns_without_preview(shop: Path) -> None:
    result = invoke([*CHECK, "--select", "CEL205"])
    assert reported(result) == []
    assert "selection `CEL205` has no effect because preview is not enabled" in result.stderr
    quiet = invoke([*CHECK, "--select", "CEL20"])
    assert "preview" not in quiet.stderr  # a prefix selects what it can, silently
    on = invoke([*CHECK, "--select", "CEL205", "--preview"])
    assert reported(on) == ["CEL205"] and "preview" not in on.stderr


@pytest.mark.usefixtures("preview_cel205")
def test_preview_from_the_configuration(shop: Path) -> None:
    (shop / "pyproject.toml").write_text("[tool.celery-lint]\npreview = true\n")
    assert "CEL205" in reported(invoke(CHECK))
    (shop / "pyproject.toml").write_text("[tool.celery-lint]\npreview = false\n")
    assert "CEL205" not in reported(invoke(CHECK))


def test_preview_of_the_wrong_type_exits_2_naming_the_key(shop: Path) -> None:
    (shop / "pyproject.toml").write_text('[tool.celery-lint]\npreview = "yes"\n')
    result = invoke(["check", "--no-cache"])
    assert result.exit_code == 2
    assert "`preview` must be true or false" in result.stderr


def test_rule_shows_the_group(preview_cel205: None) -> None:
    assert "\n\nGroup: stable.\n" in invoke(["rule", "CEL101"]).stdout
    text = invoke(["rule", "CEL205"]).stdout
    assert text.startswith("# CEL205: bind-mismatch\n\nGroup: preview.\n")
    assert "runs only with `--preview`" in text
    assert "Group: preview." in invoke(["rule", "--all"]).stdout


def test_rule_all_as_json_is_the_table(preview_cel205: None) -> None:
    rows = json.loads(invoke(["rule", "--all", "--output-format", "json"]).stdout)
    assert [row["code"] for row in rows] == [r.code for r in codes.all_rules()]
    by_code = {row["code"]: row for row in rows}
    assert {k: v for k, v in by_code["CEL205"].items() if k != "explanation"} == {
        "code": "CEL205", "name": "bind-mismatch", "severity": "error",
        "group": "preview", "fix": None, "summary": rule_for("CEL205").summary}
    assert by_code["CEL001"]["fix"] is None and by_code["CEL001"]["group"] == "stable"
    assert by_code["CEL101"]["explanation"].startswith("# CEL101: ")
    one = json.loads(invoke(["rule", "cel205", "--output-format", "json"]).stdout)
    assert one == by_code["CEL205"]


@pytest.mark.usefixtures("preview_cel205")
def test_sarif_rule_metadata_carries_the_group(shop: Path) -> None:
    log = json.loads(invoke(["check", "--no-cache", "--preview", "--select", "CEL205,CEL101",
                             "--output-format", "sarif"]).stdout)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [(r["id"], r["properties"]) for r in rules] == [("CEL205", {"group": "preview"})]
