"""The CI formats: GitHub annotations, SARIF, GitLab Code Quality and JUnit, from small inputs."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from helpers import MODELS, write_project
from helpers import TASKS as SHOP_TASKS

from celery_lint import __version__
from celery_lint.cli import main
from celery_lint.diagnostics import (
    END_OF_FILE,
    Applicability,
    Diagnostic,
    Edit,
    Fix,
    Location,
    Severity,
)
from celery_lint.output import FORMATS, github, gitlab, junit, sarif

REPO = Path(__file__).resolve().parent.parent
SARIF_SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"

RETRY_FIX = Fix(Applicability.SAFE, "Raise the retry",
                (Edit("raise ", Location(9, 9), Location(9, 9)),))


def diagnostic(path: Path | str, code: str = "CEL204", message: str = "Retry is not raised",
               row: int = 9, column: int = 9, end: tuple[int, int] = (9, 30),
               severity: Severity = Severity.ERROR, fix: Fix | None = None) -> Diagnostic:
    return Diagnostic(code, message, str(Path(path).absolute()), Location(row, column),
                      Location(*end), fix, row, severity)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- github ---------------------------------------------------------------------------------------

def test_github_annotation_line(in_tmp: Path) -> None:
    text = github.render([diagnostic(in_tmp / "shop" / "tasks.py")])
    assert text == ("::error file=shop/tasks.py,line=9,endLine=9,col=9,endColumn=30,"
                    "title=celery-lint (CEL204)::CEL204 Retry is not raised\n")


@pytest.mark.parametrize(("severity", "command"), [
    (Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.INFO, "notice")])
def test_github_command_follows_the_severity(in_tmp: Path, severity: Severity,
                                             command: str) -> None:
    text = github.render([diagnostic(in_tmp / "a.py", severity=severity)])
    assert text.startswith(f"::{command} file=a.py,")


def test_github_escapes_the_message_as_data(in_tmp: Path) -> None:
    d = diagnostic(in_tmp / "a.py", message="100% sure:\r\nline two, really")
    assert github.render([d]).endswith("::CEL204 100%25 sure:%0D%0Aline two, really\n")


def test_github_escapes_colons_and_commas_in_properties(in_tmp: Path) -> None:
    d = diagnostic(in_tmp / "odd,name:1%.py")
    assert "file=odd%2Cname%3A1%25.py,line=9," in github.render([d])


def test_github_path_outside_the_current_folder_stays_absolute(
        in_tmp: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("elsewhere") / "a.py"
    text = github.render([diagnostic(outside)])
    assert f"file={github.escape_property(outside.as_posix())}," in text


# -- sarif ----------------------------------------------------------------------------------------

def test_sarif_log_of_one_diagnostic_with_a_fix(in_tmp: Path) -> None:
    log = json.loads(sarif.render([diagnostic(in_tmp / "shop" / "tasks.py", fix=RETRY_FIX)]))
    assert log["$schema"] == sarif.SCHEMA
    assert log["version"] == "2.1.0"
    [run] = log["runs"]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": in_tmp.as_uri() + "/"}}
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("celery-lint", __version__)
    assert driver["informationUri"].startswith("https://")
    assert run["results"] == [{
        "ruleId": "CEL204",
        "ruleIndex": 0,
        "level": "error",
        "message": {"text": "Retry is not raised"},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": "shop/tasks.py", "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": 9, "startColumn": 9, "endLine": 9, "endColumn": 30},
        }}],
        "fixes": [{
            "description": {"text": "Raise the retry"},
            "artifactChanges": [{
                "artifactLocation": {"uri": "shop/tasks.py", "uriBaseId": "%SRCROOT%"},
                "replacements": [{
                    "deletedRegion": {"startLine": 9, "startColumn": 9,
                                      "endLine": 9, "endColumn": 9},
                    "insertedContent": {"text": "raise "},
                }],
            }],
        }],
    }]


def test_sarif_rule_carries_its_page(in_tmp: Path) -> None:
    log = json.loads(sarif.render([diagnostic(in_tmp / "a.py")]))
    [rule] = log["runs"][0]["tool"]["driver"]["rules"]
    assert rule["id"] == "CEL204"
    assert rule["name"] == "retry-not-raised"
    assert rule["shortDescription"]["text"].startswith("statements after a bare `self.retry(...)`")
    assert rule["fullDescription"]["text"].startswith(
        "Reports self.retry(...) in a bound task (bind=True) written as a bare statement")
    assert "`" not in rule["fullDescription"]["text"]
    assert rule["help"]["markdown"].startswith("# CEL204: retry-not-raised")
    assert "## Why is this bad?" in rule["help"]["text"]
    assert rule["helpUri"] == "https://celery-lint.readthedocs.io/en/latest/rules/CEL204/"
    assert rule["defaultConfiguration"] == {"level": "warning"}


def test_sarif_lists_each_rule_once_and_indexes_results_into_it(in_tmp: Path) -> None:
    diagnostics = [diagnostic(in_tmp / "a.py", code="CEL201", severity=Severity.WARNING),
                   diagnostic(in_tmp / "a.py", code="CEL101", severity=Severity.WARNING),
                   diagnostic(in_tmp / "b.py", code="CEL201", severity=Severity.WARNING)]
    run = json.loads(sarif.render(diagnostics))["runs"][0]
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert rules == ["CEL101", "CEL201"]
    assert [(r["ruleId"], r["ruleIndex"]) for r in run["results"]] == [
        ("CEL201", 1), ("CEL101", 0), ("CEL201", 1)]


@pytest.mark.parametrize(("severity", "level"), [
    (Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.INFO, "note")])
def test_sarif_level_follows_the_severity(in_tmp: Path, severity: Severity, level: str) -> None:
    result = json.loads(sarif.render([diagnostic(in_tmp / "a.py", severity=severity)]))
    assert result["runs"][0]["results"][0]["level"] == level


def test_a_fix_that_spans_files_has_one_change_per_file(in_tmp: Path) -> None:
    tasks, views = in_tmp / "shop" / "tasks.py", in_tmp / "shop" / "views.py"
    at = Location(2, 5)
    fix = Fix(Applicability.UNSAFE, "Pass the pk", (
        Edit(".pk", at, at, str(views.absolute())), Edit("_id", at, at, str(tasks.absolute())),
        Edit("x", Location(3, 1), Location(3, 1), str(tasks.absolute()))))
    d = diagnostic(views, code="CEL101", row=2, column=1, end=(2, 5), fix=fix)
    [change_tasks, change_views] = json.loads(sarif.render([d]))["runs"][0]["results"][0][
        "fixes"][0]["artifactChanges"]
    assert change_tasks["artifactLocation"]["uri"] == "shop/tasks.py"
    assert [r["insertedContent"]["text"] for r in change_tasks["replacements"]] == ["_id", "x"]
    assert change_views["artifactLocation"]["uri"] == "shop/views.py"
    assert [r["insertedContent"]["text"] for r in change_views["replacements"]] == [".pk"]
    [shown] = json.loads(FORMATS["json"]([d]))
    assert [e["filename"] for e in shown["fix"]["edits"]] == [
        str(views.absolute()), str(tasks.absolute()), str(tasks.absolute())]


def test_sarif_whole_file_diagnostic_has_a_start_only(in_tmp: Path) -> None:
    d = diagnostic(in_tmp / "settings.py", code="CEL301", row=1, column=1, end=(1, 1))
    region = json.loads(sarif.render([d]))["runs"][0]["results"][0]["locations"][0][
        "physicalLocation"]["region"]
    assert region == {"startLine": 1, "startColumn": 1}


def test_sarif_append_to_the_end_of_the_file_points_after_the_last_line(in_tmp: Path) -> None:
    (in_tmp / "settings.py").write_text("A = 1\nB = 2\n", encoding="utf-8")
    end = Location(END_OF_FILE, END_OF_FILE)
    fix = Fix(Applicability.UNSAFE, "Append", (Edit("\nC = 3\n", end, end),))
    d = diagnostic(in_tmp / "settings.py", code="CEL301", row=1, column=1, end=(1, 1), fix=fix)
    result = json.loads(sarif.render([d]))["runs"][0]["results"][0]
    [replacement] = result["fixes"][0]["artifactChanges"][0]["replacements"]
    assert replacement["deletedRegion"] == {"startLine": 3, "startColumn": 1,
                                            "endLine": 3, "endColumn": 1}


def test_sarif_path_is_percent_encoded(in_tmp: Path) -> None:
    d = diagnostic(in_tmp / "my app" / "tasks#1.py")
    location = json.loads(sarif.render([d]))["runs"][0]["results"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"] == {
        "uri": "my%20app/tasks%231.py", "uriBaseId": "%SRCROOT%"}


def test_sarif_path_outside_the_current_folder_is_an_absolute_file_uri(
        in_tmp: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("elsewhere") / "a.py"
    location = json.loads(sarif.render([diagnostic(outside)]))["runs"][0]["results"][0][
        "locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": outside.as_uri()}


def test_sarif_of_no_diagnostics_is_a_run_without_results(in_tmp: Path) -> None:
    run = json.loads(sarif.render([]))["runs"][0]
    assert run["results"] == []
    assert run["tool"]["driver"]["rules"] == []


def test_sarif_of_the_shop_fixture_validates_against_the_schema(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(main, ["check", "fixtures/shop", "--output-format", "sarif"])
    assert result.exit_code == 1, result.output
    log = json.loads(result.stdout)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]
    assert errors == []
    run = log["runs"][0]
    assert any("fixes" in r for r in run["results"])
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
               .startswith("fixtures/shop/") for r in run["results"])


def test_the_schema_rejects_a_broken_log() -> None:
    # the validation above means something only if the schema can fail
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    log = json.loads(sarif.render([]))
    log["runs"][0]["results"] = [{"ruleId": "CEL101", "level": "fatal", "message": {}}]
    assert list(jsonschema.Draft4Validator(schema).iter_errors(log))


# -- gitlab ---------------------------------------------------------------------------------------

TASKS = "from celery import shared_task\n\n\n@shared_task\ndef ping():\n    return 1\n"


def test_gitlab_issue_shape(in_tmp: Path) -> None:
    (in_tmp / "tasks.py").write_text(TASKS, encoding="utf-8")
    d = diagnostic(in_tmp / "tasks.py", code="CEL201", message="Task `ping` has no time limit",
                   row=5, column=1, end=(5, 9), severity=Severity.WARNING)
    [issue] = json.loads(gitlab.render([d]))
    assert issue == {
        "description": "CEL201 Task `ping` has no time limit",
        "check_name": "CEL201",
        "fingerprint": gitlab.fingerprint("CEL201", "tasks.py", "Task `ping` has no time limit",
                                          "def ping():", 0),
        "severity": "minor",
        "location": {"path": "tasks.py", "lines": {"begin": 5}},
    }


@pytest.mark.parametrize(("severity", "expected"), [
    (Severity.ERROR, "major"), (Severity.WARNING, "minor"), (Severity.INFO, "info")])
def test_gitlab_severity(in_tmp: Path, severity: Severity, expected: str) -> None:
    [issue] = json.loads(gitlab.render([diagnostic(in_tmp / "a.py", severity=severity)]))
    assert issue["severity"] == expected


def test_gitlab_fingerprint_survives_lines_moving(in_tmp: Path) -> None:
    path = in_tmp / "tasks.py"
    path.write_text(TASKS, encoding="utf-8")
    before = json.loads(gitlab.render([diagnostic(path, code="CEL201", row=5, column=1)]))
    path.write_text("import os\nimport sys\n" + TASKS, encoding="utf-8")
    after = json.loads(gitlab.render([diagnostic(path, code="CEL201", row=7, column=1)]))
    assert before[0]["fingerprint"] == after[0]["fingerprint"]
    assert after[0]["location"]["lines"]["begin"] == 7


def test_gitlab_fingerprint_changes_with_the_flagged_line(in_tmp: Path) -> None:
    path = in_tmp / "tasks.py"
    path.write_text(TASKS, encoding="utf-8")
    before = json.loads(gitlab.render([diagnostic(path, code="CEL201", row=5, column=1)]))
    path.write_text(TASKS.replace("ping", "pong"), encoding="utf-8")
    after = json.loads(gitlab.render([diagnostic(path, code="CEL201", row=5, column=1)]))
    assert before[0]["fingerprint"] != after[0]["fingerprint"]


def test_gitlab_fingerprints_of_identical_findings_differ(in_tmp: Path) -> None:
    path = in_tmp / "views.py"
    path.write_text("send.delay(order)\nsend.delay(order)\n", encoding="utf-8")
    issues = json.loads(gitlab.render([
        diagnostic(path, code="CEL101", message="pass `order.pk`", row=1, column=12),
        diagnostic(path, code="CEL101", message="pass `order.pk`", row=2, column=12)]))
    assert issues[0]["fingerprint"] != issues[1]["fingerprint"]


def test_gitlab_unreadable_file_still_gets_a_fingerprint(in_tmp: Path) -> None:
    [issue] = json.loads(gitlab.render([diagnostic(in_tmp / "gone.py")]))
    assert issue["fingerprint"] == gitlab.fingerprint(
        "CEL204", "gone.py", "Retry is not raised", "", 0)


# -- junit ----------------------------------------------------------------------------------------

def test_junit_one_failed_testcase_per_diagnostic(in_tmp: Path) -> None:
    text = junit.render([diagnostic(in_tmp / "shop" / "tasks.py", fix=RETRY_FIX),
                         diagnostic(in_tmp / "b.py", code="CEL201", message="No time limit",
                                    row=3, column=1, severity=Severity.WARNING)])
    root = ET.fromstring(text)
    assert root.tag == "testsuites"
    [suite] = root
    assert suite.attrib == {"name": "celery-lint", "tests": "2", "failures": "2", "errors": "0",
                            "skipped": "0"}
    first = suite[0]
    assert first.attrib == {"classname": "shop/tasks.py", "name": "CEL204 retry-not-raised (9:9)",
                            "file": "shop/tasks.py", "line": "9"}
    [failure] = first
    assert failure.attrib == {"type": "CEL204", "message": "CEL204 Retry is not raised"}
    assert failure.text == ("shop/tasks.py:9:9: CEL204 Retry is not raised\n"
                            "help: Raise the retry\n"
                            "https://celery-lint.readthedocs.io/en/latest/rules/CEL204/")


def test_junit_escapes_markup_and_drops_characters_xml_cannot_hold(in_tmp: Path) -> None:
    message = 'a <tag> & "quote"\x00\x1b end'
    text = junit.render([diagnostic(in_tmp / "a.py", message=message)])
    failure = ET.fromstring(text).find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.get("message") == 'CEL204 a <tag> & "quote"\ufffd\ufffd end'
    assert "&lt;tag&gt; &amp;" in text


def test_junit_of_a_clean_run_is_one_passed_testcase(in_tmp: Path) -> None:
    suite = ET.fromstring(junit.render([])).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("1", "0")
    assert [case.get("name") for case in suite] == ["All checks passed"]
    assert suite.find("testcase/failure") is None


# -- the command line -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["github", "sarif", "gitlab", "junit"])
def test_the_new_formats_are_registered(name: str) -> None:
    assert name in FORMATS


SERVICES = """
    from shop.models import Order
    from shop.tasks import send_invoice


    def checkout(order_id):
        order = Order.objects.get(pk=order_id)
        send_invoice.delay(order{suffix})
"""


def shop(root: Path, suffix: str = "") -> None:
    """A Django project; CEL101 at shop/services.py:7:24 unless `suffix` fixes it."""
    write_project(root, {"manage.py": "", "shop/models.py": MODELS, "shop/tasks.py": SHOP_TASKS,
                         "shop/services.py": SERVICES.format(suffix=suffix)})


@pytest.mark.parametrize("name", ["github", "sarif", "gitlab", "junit"])
def test_cli_output_format(in_tmp: Path, name: str) -> None:
    shop(in_tmp)
    result = CliRunner().invoke(main, ["check", "--output-format", name])
    assert result.exit_code == 1, result.output
    assert "Found" not in result.stdout  # the summary would break the machine-readable output
    if name == "github":
        assert result.stdout.startswith(
            "::warning file=shop/services.py,line=7,endLine=7,col=24,endColumn=29,"
            "title=celery-lint (CEL101)::CEL101 `order` is an `Order` instance")
    elif name == "sarif":
        log = json.loads(result.stdout)
        assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["CEL101"]
    elif name == "gitlab":
        assert [i["location"] for i in json.loads(result.stdout)] == [
            {"path": "shop/services.py", "lines": {"begin": 7}}]
    else:
        case = ET.fromstring(result.stdout).find("testsuite/testcase")
        assert case is not None
        assert (case.get("file"), case.get("line")) == ("shop/services.py", "7")


def test_cli_clean_project_in_a_new_format_exits_0(in_tmp: Path) -> None:
    shop(in_tmp, ".pk")
    result = CliRunner().invoke(main, ["check", "--output-format", "gitlab"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []
