"""The example projects produce exactly the diagnostics and audit rows written next to them."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from celery_lint.audit import Report, build_report
from celery_lint.cli import main
from celery_lint.config import load_config
from celery_lint.rules.settings import Row
from celery_lint.runner import load_project, run

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def expected(name: str) -> list[str]:
    lines = (FIXTURES / f"{name}.expected").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def found_in(name: str, preview: bool = False) -> list[str]:
    root = FIXTURES / name
    result = run([root], dataclasses.replace(load_config(root), preview=preview))
    assert result.warnings == []
    found = [f"{d.code} {Path(d.path).relative_to(root).as_posix()}:{d.location.row}"
             for d in result.diagnostics]
    return sorted(found, key=_line_key)


def _line_key(line: str) -> tuple[str, int, str]:
    return line.split()[1].split(":")[0], int(line.split(":")[-1]), line.split()[0]


@pytest.mark.parametrize("name", ["shop", "clean", "celeryconfig"])
def test_fixture_diagnostics_are_exactly_the_expected_ones(name: str) -> None:
    assert found_in(name) == sorted(expected(name), key=_line_key)


# what `--preview` adds, as each .expected file's header says
PREVIEW_ADDS = {
    "shop": ["CEL301 config/settings/production.py:1", "CEL302 config/settings/production.py:26",
             "CEL102 orders/views.py:72", "CEL102 reports/views.py:18"],
    "clean": [],
    "celeryconfig": ["CEL301 proj/celeryconfig.py:1"],
}


@pytest.mark.parametrize("name", ["shop", "clean", "celeryconfig"])
def test_preview_adds_the_preview_rules_and_parts(name: str) -> None:
    assert found_in(name, preview=True) == sorted(expected(name) + PREVIEW_ADDS[name],
                                                  key=_line_key)


def test_shop_covers_every_rule_of_the_registry_that_fires_on_python() -> None:
    codes = {line.split()[0] for line in expected("shop")}
    assert codes >= {"CEL002", "CEL101", "CEL102", "CEL104", "CEL105", "CEL107", "CEL201",
                     "CEL202", "CEL204", "CEL205", "CEL207", "CEL210"}


def test_shop_covers_the_settings_rules_that_fire_by_default() -> None:
    codes = {line.split()[0] for line in expected("shop")}
    assert codes >= {"CEL303", "CEL306", "CEL307", "CEL309"}
    assert {line.split()[0] for line in PREVIEW_ADDS["shop"]} >= {"CEL301", "CEL302"}


def test_celeryconfig_covers_the_settings_rules_of_a_config_module() -> None:
    codes = {line.split()[0] for line in expected("celeryconfig") + PREVIEW_ADDS["celeryconfig"]}
    assert codes >= {"CEL301", "CEL304", "CEL306"}


# -- the settings audit -------------------------------------------------------------------------

DEPLOYMENT_ROWS = {"CEL402", "CEL404", "CEL405"}
NO_DEPLOYMENT = ("no process definitions found (Procfile, docker-compose, Kubernetes, supervisord, "
                 "systemd, Dockerfile)")


def report_of(name: str) -> Report:
    root = FIXTURES / name
    return build_report(load_project([root], load_config(root)).index)


def rows_of(name: str) -> dict[str, Row]:
    """The rows of the fixture's only production configuration, by rule code."""
    report = report_of(name)
    assert len(report.sections) == 1
    return {row.code: row for row in report.sections[0].rows}


def where(name: str, relative: str) -> str:
    path, _, line = relative.rpartition(":")
    return f"{FIXTURES / name / path}:{line}"


def test_clean_audit_has_no_failing_or_unknown_row() -> None:
    report = report_of("clean")
    assert report.settings.production == ("config.settings.production",)
    assert not report.failed
    statuses = {code: row.status for code, row in rows_of("clean").items()}
    assert statuses == dict.fromkeys(statuses, "pass")
    assert DEPLOYMENT_ROWS <= set(statuses)


def test_clean_audit_passes_the_deployment_rows_from_its_compose_file() -> None:
    rows = rows_of("clean")
    assert (rows["CEL404"].value, rows["CEL404"].where) == ("2 worker definition(s) restart", None)
    assert (rows["CEL405"].value, rows["CEL405"].where) == (
        "flower `flower`", where("clean", "docker-compose.yml:31"))
    assert (rows["CEL402"].value, rows["CEL402"].where) == ("one beat per deployment", None)
    assert all(rows[code].diagnostics == [] for code in DEPLOYMENT_ROWS)


def test_clean_audit_reads_the_production_chain() -> None:
    rows = rows_of("clean")
    assert rows["CEL301"].where == where("clean", "config/settings/base.py:98")
    assert rows["CEL312"].where == where("clean", "config/settings/production.py:22")


def test_shop_production_settings_are_the_module_django_settings_module_names() -> None:
    report = report_of("shop")
    assert report.settings.production == ("config.settings.production",)
    assert report.sections[0].chain == ["config.settings.production", "config.settings.base"]
    assert {"config.settings.local", "config.settings.test"} <= set(report.settings.family)


@pytest.mark.parametrize(("code", "location"), [
    ("CEL301", "config/settings/production.py:1"),
    ("CEL302", "config/settings/production.py:26"),
    ("CEL303", "config/settings/production.py:1"),
    ("CEL306", "config/settings/production.py:29"),
    ("CEL307", "config/settings/production.py:24"),
    ("CEL309", "config/settings/production.py:22"),
])
def test_shop_audit_fails_the_rows_its_production_settings_get_wrong(code: str,
                                                                     location: str) -> None:
    row = rows_of("shop")[code]
    assert (row.status, row.where) == ("fail", where("shop", location))


def test_shop_audit_suggests_the_setting_a_typo_meant() -> None:
    row = rows_of("shop")["CEL306"]
    assert row.value == "CELERY_TASK_SOFT_TIME_LIMT"
    assert "did you mean `CELERY_TASK_SOFT_TIME_LIMIT`?" in row.detail


def test_shop_audit_shows_a_value_from_the_environment_without_failing_it() -> None:
    row = rows_of("shop")["CEL305"]
    assert row.status in ("unknown", "pass")
    assert row.value == "from the environment ($CELERY_TASK_ALWAYS_EAGER, default False)"
    assert row.where == where("shop", "config/settings/base.py:99")
    assert row.diagnostics == []


def test_shop_audit_passes_what_its_settings_get_right() -> None:
    rows = rows_of("shop")
    assert {code for code, row in rows.items() if row.status == "pass"} == {
        "CEL304", "CEL308", "CEL310", "CEL311", "CEL314"}
    assert rows["CEL311"].value == "task options route to exports, notifications, payments"
    assert rows["CEL313"].status == "not-applicable"  # acks late is off


def diagnostic_places(row: Row, name: str) -> list[str]:
    return [f"{Path(d.path).relative_to(FIXTURES / name).as_posix()}:{d.location.row}"
            for d in row.diagnostics]


def test_shop_audit_fails_the_deployment_rows_at_the_process_definitions() -> None:
    rows = rows_of("shop")
    assert {code: rows[code].status for code in DEPLOYMENT_ROWS} == dict.fromkeys(
        DEPLOYMENT_ROWS, "fail")
    restarts = rows["CEL404"]
    assert (restarts.value, restarts.where) == (
        "2 process definition(s)", where("shop", "deploy/systemd/celery-worker.service:11"))
    assert sorted(diagnostic_places(restarts, "shop")) == [
        "deploy/systemd/celery-worker.service:11", "docker-compose.prod.yml:23"]
    beat = rows["CEL402"]
    assert (beat.value, beat.where) == (
        "3 process definition(s)", where("shop", "deploy/k8s/worker.yaml:22"))
    assert sorted(diagnostic_places(beat, "shop")) == [
        "deploy/k8s/worker.yaml:22", "docker-compose.prod.yml:28", "docker-compose.prod.yml:35"]
    assert "(and 2 more)" in beat.detail


def test_shop_audit_ignores_the_flower_of_its_dev_compose_file() -> None:
    row = rows_of("shop")["CEL405"]
    assert (row.status, row.value, row.where) == (
        "fail", "none found", where("shop", "config/settings/production.py:1"))
    assert diagnostic_places(row, "shop") == ["config/settings/production.py:1"]


def test_celeryconfig_audit_reads_a_config_module_without_namespace() -> None:
    report = report_of("celeryconfig")
    settings = report.settings
    assert (settings.source, settings.namespace) == ("module", None)
    assert settings.production == ("proj.celeryconfig",)
    assert settings.app is not None and settings.app.qualname == "proj.celery.app"


def test_celeryconfig_audit_finds_the_lowercase_typo_and_the_old_name() -> None:
    row = rows_of("celeryconfig")["CEL306"]
    assert row.status == "fail"
    assert row.value == "CELERY_RESULT_BACKEND, task_acks_lat"
    messages = {d.location.row: d.message for d in row.diagnostics}
    assert messages[19] == (
        "`task_acks_lat` is not a setting of Celery 5.3 or later (celery[redis]>=5.3 in "
        "pyproject.toml) without a namespace, so its value is never read; did you mean "
        "`task_acks_late`?")
    assert messages[7] == (
        "`CELERY_RESULT_BACKEND` is an old-style name in a config of new-style names: Celery "
        "refuses to start (ImproperlyConfigured: cannot mix new and old setting keys); write "
        "`result_backend`")


def test_celeryconfig_audit_rows() -> None:
    rows = rows_of("celeryconfig")
    assert {code: row.status for code, row in rows.items() if row.status != "pass"} == {
        "CEL301": "fail", "CEL304": "fail", "CEL306": "fail", "CEL312": "fail",
        "CEL307": "not-applicable", "CEL310": "not-applicable", "CEL313": "not-applicable",
        "CEL404": "unknown", "CEL405": "unknown", "CEL402": "unknown"}
    assert all((rows[code].detail, rows[code].where) == (NO_DEPLOYMENT, None)
               for code in DEPLOYMENT_ROWS)
    assert rows["CEL301"].where == where("celeryconfig", "proj/celeryconfig.py:1")
    assert rows["CEL304"].where == where("celeryconfig", "proj/celeryconfig.py:14")


# -- `celery-lint audit` on the command line -----------------------------------------------------

JSON_KEYS = {"item", "code", "status", "value", "where", "detail", "settings_module", "may_change"}


@pytest.mark.parametrize(("name", "exit_code"), [("clean", 0), ("shop", 1), ("celeryconfig", 1)])
def test_audit_command_exits_1_when_an_item_fails(name: str, exit_code: int) -> None:
    result = CliRunner().invoke(main, ["audit", str(FIXTURES / name)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == exit_code, result.output
    assert "Production settings:" in result.stdout


@pytest.mark.parametrize("name", ["clean", "shop", "celeryconfig"])
def test_audit_command_prints_one_json_object_per_item(name: str) -> None:
    result = CliRunner().invoke(main, ["audit", str(FIXTURES / name), "--output-format", "json"])
    items = json.loads(result.stdout)
    assert [item["code"] for item in items] == list(rows_of(name))
    assert all(set(item) == JSON_KEYS for item in items)
    production = report_of(name).settings.production
    assert {item["settings_module"] for item in items} == set(production)


def test_audit_command_json_locates_a_failing_item() -> None:
    result = CliRunner().invoke(main, ["audit", str(FIXTURES / "shop"), "--output-format", "json"])
    assert result.exit_code == 1
    prefetch = next(item for item in json.loads(result.stdout) if item["code"] == "CEL302")
    assert prefetch["status"] == "fail"
    assert prefetch["value"] == "4"
    assert prefetch["where"] == {
        "filename": str(FIXTURES / "shop" / "config" / "settings" / "production.py"), "row": 26}
