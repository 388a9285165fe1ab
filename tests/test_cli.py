"""The command line as a user runs it: exit codes, formats, stdin, configuration, rule pages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from helpers import MODELS, TASKS, write_project

from celery_lint.cli import main

BAD_SERVICES = """
    from shop.models import Order
    from shop.tasks import send_invoice


    def checkout(order_id):
        order = Order.objects.get(pk=order_id)
        send_invoice.delay(order)
"""
GOOD_SERVICES = BAD_SERVICES.replace("delay(order)", "delay(order.pk)")
CEL101_MESSAGE = ("`order` is an `Order` instance from `Order.objects.get()`, sent to "
                  "`send_invoice.delay()`: pass `order.pk` and load it in the task")


def project(root: Path, services: str = BAD_SERVICES, **extra: str) -> Path:
    """A Django project under `root`: CEL101 at shop/services.py:7:24 with BAD_SERVICES."""
    files = {"manage.py": "", "shop/models.py": MODELS, "shop/tasks.py": TASKS,
             "shop/services.py": services, **extra}
    write_project(root, files)
    return root


def invoke(args: list[str], stdin: str | None = None) -> Result:
    """Run the CLI in-process; no run of it may print a traceback."""
    result = CliRunner().invoke(main, args, input=stdin)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- exit codes ---------------------------------------------------------------------------------

def test_clean_project_exits_0(in_tmp: Path) -> None:
    project(in_tmp, GOOD_SERVICES)
    result = invoke(["check"])
    assert result.exit_code == 0
    assert "All checks passed!" in result.stdout


def test_diagnostics_exit_1(in_tmp: Path) -> None:
    project(in_tmp)
    result = invoke(["check"])
    assert result.exit_code == 1
    assert "CEL101" in result.stdout
    assert "Found 1 error." in result.stdout


def test_exit_zero_with_diagnostics(in_tmp: Path) -> None:
    project(in_tmp)
    result = invoke(["check", "--exit-zero"])
    assert result.exit_code == 0
    assert "CEL101" in result.stdout


def test_unknown_option_exits_2(in_tmp: Path) -> None:
    assert invoke(["check", "--no-such-option"]).exit_code == 2


def test_unknown_output_format_exits_2(in_tmp: Path) -> None:
    assert invoke(["check", "--output-format", "xml"]).exit_code == 2


def test_unknown_code_in_select_option_exits_2(in_tmp: Path) -> None:
    project(in_tmp)
    result = invoke(["check", "--select", "CEL999"])
    assert result.exit_code == 2
    assert "CEL999" in result.stderr


def test_missing_path_is_a_warning_not_a_crash(in_tmp: Path) -> None:
    project(in_tmp, GOOD_SERVICES)
    result = invoke(["check", "shop", "nowhere"])
    assert result.exit_code == 0
    assert "nowhere" in result.stderr


def test_python_dash_m_runs_the_cli(tmp_path: Path) -> None:
    project(tmp_path)
    completed = subprocess.run(
        [sys.executable, "-m", "celery_lint", "check", "--output-format", "concise", "."],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 1, completed.stderr
    assert completed.stdout.splitlines()[0] == f"shop/services.py:7:24: CEL101 {CEL101_MESSAGE}"
    assert "Traceback" not in completed.stderr


# -- output formats -----------------------------------------------------------------------------

def test_concise_lines(in_tmp: Path) -> None:
    project(in_tmp)
    result = invoke(["check", "--output-format", "concise"])
    assert result.stdout.splitlines() == [
        f"shop/services.py:7:24: CEL101 {CEL101_MESSAGE}",
        "Found 1 error.",
    ]


def test_full_output_shows_the_source_line_and_a_caret(in_tmp: Path) -> None:
    project(in_tmp)
    lines = invoke(["check"]).stdout.splitlines()
    assert lines[0] == f"shop/services.py:7:24: CEL101 {CEL101_MESSAGE}"
    assert "7 |     send_invoice.delay(order)" in lines
    assert any(line.endswith("^^^^^ CEL101") for line in lines)


def test_json_shape(in_tmp: Path) -> None:
    project(in_tmp)
    result = invoke(["check", "--output-format", "json"])
    assert result.exit_code == 1
    [item] = json.loads(result.stdout)
    assert set(item) == {"code", "message", "severity", "filename", "location", "end_location",
                         "noqa_row", "fix", "url"}
    assert item["code"] == "CEL101"
    assert item["message"] == CEL101_MESSAGE
    assert item["severity"] == "warning"
    assert item["filename"] == str(in_tmp / "shop" / "services.py")
    assert Path(item["filename"]).is_absolute()
    assert item["location"] == {"row": 7, "column": 24}
    assert item["end_location"] == {"row": 7, "column": 29}
    assert item["noqa_row"] == 7
    assert isinstance(item["url"], str) and "CEL101" in item["url"]


def test_json_fix_is_null_or_has_its_shape(in_tmp: Path) -> None:
    project(in_tmp)
    [item] = json.loads(invoke(["check", "--output-format", "json"]).stdout)
    fix = item["fix"]
    if fix is not None:
        assert set(fix) == {"applicability", "message", "edits"}
        assert fix["applicability"] in ("safe", "unsafe")
        for edit in fix["edits"]:  # ruff's shape, with the file each edit is in
            assert set(edit) == {"content", "location", "end_location", "filename"}
            assert edit["filename"] == item["filename"]


def test_json_of_a_clean_project_is_an_empty_array(in_tmp: Path) -> None:
    project(in_tmp, GOOD_SERVICES)
    result = invoke(["check", "--output-format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_json_severity_of_an_error_rule(in_tmp: Path) -> None:
    bound = "from celery import shared_task\n\n\n@shared_task(bind=True)\ndef ping():\n    pass\n"
    project(in_tmp, GOOD_SERVICES, **{"shop/jobs.py": bound})
    [item] = json.loads(invoke(["check", "--output-format", "json"]).stdout)
    assert (item["code"], item["severity"]) == ("CEL205", "error")


def test_statistics(in_tmp: Path) -> None:
    project(in_tmp)
    result = invoke(["check", "--statistics"])
    assert result.exit_code == 1
    assert [line.split() for line in result.stdout.splitlines()] == [
        ["1", "CEL101", "orm-object-argument"]]


def test_quiet_prints_only_the_diagnostics(in_tmp: Path) -> None:
    project(in_tmp)
    result = invoke(["check", "--quiet", "--output-format", "concise", ".", "nowhere"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [f"shop/services.py:7:24: CEL101 {CEL101_MESSAGE}"]
    assert result.stderr == ""


def test_quiet_on_a_clean_project_prints_nothing(in_tmp: Path) -> None:
    project(in_tmp, GOOD_SERVICES)
    result = invoke(["check", "--quiet"])
    assert (result.exit_code, result.stdout) == (0, "")


def test_select_option_with_a_prefix(in_tmp: Path) -> None:
    project(in_tmp)
    assert invoke(["check", "--select", "CEL2"]).exit_code == 0


def test_ignore_option_with_a_prefix(in_tmp: Path) -> None:
    project(in_tmp)
    assert invoke(["check", "--ignore", "CEL1"]).exit_code == 0


def test_extend_select_option_adds_to_select(in_tmp: Path) -> None:
    project(in_tmp)
    assert invoke(["check", "--select", "CEL2", "--extend-select", "CEL10"]).exit_code == 1


def test_comma_separated_select_option(in_tmp: Path) -> None:
    project(in_tmp)
    assert invoke(["check", "--select", "CEL2,CEL101"]).exit_code == 1


# -- stdin --------------------------------------------------------------------------------------

def test_stdin_filename_reports_the_buffer_as_that_path(in_tmp: Path) -> None:
    project(in_tmp, GOOD_SERVICES)
    source = (in_tmp / "shop" / "services.py").read_text().replace("order.pk", "order")
    result = invoke(["check", "--output-format", "json", "--stdin-filename", "shop/services.py"],
                    stdin=source)
    assert result.exit_code == 1
    [item] = json.loads(result.stdout)
    assert item["code"] == "CEL101"
    assert item["filename"] == str(in_tmp / "shop" / "services.py")
    assert item["location"] == {"row": 7, "column": 24}


def test_stdin_clean_buffer_over_a_bad_file_on_disk(in_tmp: Path) -> None:
    project(in_tmp)
    source = (in_tmp / "shop" / "services.py").read_text().replace("(order)", "(order.pk)")
    result = invoke(["check", "--stdin-filename", "shop/services.py"], stdin=source)
    assert result.exit_code == 0


def test_stdin_reports_only_the_buffer(in_tmp: Path) -> None:
    project(in_tmp)
    result = invoke(["check", "--stdin-filename", "shop/other.py"], stdin="x = 1\n")
    assert result.exit_code == 0


def test_stdin_full_output_shows_the_buffer_line(in_tmp: Path) -> None:
    project(in_tmp, GOOD_SERVICES)
    source = (in_tmp / "shop" / "services.py").read_text().replace(
        "send_invoice.delay(order.pk)", "send_invoice.delay(order)  # from the buffer")
    result = invoke(["check", "--stdin-filename", "shop/services.py"], stdin=source)
    assert "7 |     send_invoice.delay(order)  # from the buffer" in result.stdout.splitlines()


# -- configuration ------------------------------------------------------------------------------

def test_pyproject_configuration_is_read(in_tmp: Path) -> None:
    project(in_tmp, **{"pyproject.toml": '[tool.celery-lint]\nignore = ["CEL101"]\n'})
    assert invoke(["check"]).exit_code == 0


def test_pyproject_per_file_ignores(in_tmp: Path) -> None:
    toml = '[tool.celery-lint.per-file-ignores]\n"shop/services.py" = ["CEL1"]\n'
    project(in_tmp, **{"pyproject.toml": toml})
    assert invoke(["check"]).exit_code == 0


def test_pyproject_exclude(in_tmp: Path) -> None:
    project(in_tmp, **{"pyproject.toml": '[tool.celery-lint]\nexclude = ["shop/services.py"]\n'})
    assert invoke(["check"]).exit_code == 0


def test_unknown_key_exits_2_naming_it(in_tmp: Path) -> None:
    project(in_tmp, **{"pyproject.toml": '[tool.celery-lint]\nselct = ["CEL1"]\n'})
    result = invoke(["check"])
    assert result.exit_code == 2
    assert "selct" in result.stderr


def test_wrong_type_exits_2_naming_the_key(in_tmp: Path) -> None:
    project(in_tmp, **{"pyproject.toml": '[tool.celery-lint]\nselect = "CEL1"\n'})
    result = invoke(["check"])
    assert result.exit_code == 2
    assert "select" in result.stderr


def test_extra_task_options_must_be_keyword_names(in_tmp: Path) -> None:
    project(in_tmp, **{"pyproject.toml": '[tool.celery-lint]\nextra-task-options = ["lock-timeout"]\n'})
    result = invoke(["check"])
    assert result.exit_code == 2
    assert "extra-task-options" in result.stderr and "lock-timeout" in result.stderr


def test_extra_task_options_is_accepted(in_tmp: Path) -> None:
    project(in_tmp, **{"pyproject.toml": '[tool.celery-lint]\nextra-task-options = ["lock_timeout"]\n'
                                         'ignore = ["CEL101"]\n'})
    assert invoke(["check"]).exit_code == 0


def test_unknown_code_in_configured_select_exits_2(in_tmp: Path) -> None:
    project(in_tmp, **{"pyproject.toml": '[tool.celery-lint]\nselect = ["CEL999"]\n'})
    result = invoke(["check"])
    assert result.exit_code == 2
    assert "CEL999" in result.stderr


def test_invalid_toml_exits_2(in_tmp: Path) -> None:
    project(in_tmp, **{"pyproject.toml": "[tool.celery-lint\n"})
    result = invoke(["check"])
    assert result.exit_code == 2
    assert "pyproject.toml" in result.stderr


def test_pyproject_without_the_table_is_ignored(in_tmp: Path) -> None:
    project(in_tmp, **{"pyproject.toml": '[tool.other]\nselect = "x"\n'})
    assert invoke(["check"]).exit_code == 1


def test_config_file_option(in_tmp: Path) -> None:
    project(in_tmp, **{"lint.toml": 'ignore = ["CEL101"]\n'})
    assert invoke(["check", "--config", "lint.toml"]).exit_code == 0


def test_config_file_option_wins_over_pyproject(in_tmp: Path) -> None:
    project(in_tmp, **{"pyproject.toml": '[tool.celery-lint]\nignore = ["CEL101"]\n',
                       "lint.toml": 'select = ["CEL1"]\n'})
    assert invoke(["check", "--config", "lint.toml"]).exit_code == 1


def test_config_file_option_with_unknown_key(in_tmp: Path) -> None:
    project(in_tmp, **{"lint.toml": 'colour = "red"\n'})
    result = invoke(["check", "--config", "lint.toml"])
    assert result.exit_code == 2
    assert "colour" in result.stderr


def test_config_file_option_missing_file_exits_2(in_tmp: Path) -> None:
    project(in_tmp)
    result = invoke(["check", "--config", "missing.toml"])
    assert result.exit_code == 2
    assert "missing.toml" in result.stderr


# -- rule pages ---------------------------------------------------------------------------------

def test_rule_prints_its_page() -> None:
    result = invoke(["rule", "CEL101"])
    assert result.exit_code == 0
    assert result.stdout.startswith("# CEL101: orm-object-argument\n")
    assert "## Why is this bad?" in result.stdout


def test_rule_code_in_lower_case() -> None:
    result = invoke(["rule", "cel101"])
    assert result.exit_code == 0
    assert result.stdout.startswith("# CEL101: ")


def test_rule_all_prints_every_page() -> None:
    result = invoke(["rule", "--all"])
    assert result.exit_code == 0
    for code in ("CEL001", "CEL002", "CEL101", "CEL201", "CEL210"):
        assert f"# {code}: " in result.stdout


def test_unknown_rule_exits_2() -> None:
    result = invoke(["rule", "CEL999"])
    assert result.exit_code == 2
    assert "CEL999" in result.stderr


def test_rule_without_a_code_exits_2() -> None:
    assert invoke(["rule"]).exit_code == 2
