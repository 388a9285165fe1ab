"""`celery-lint audit` as a user runs it: one row per checklist item, statuses, JSON, exit codes,
and the promise that the linted project is never imported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from helpers import CELERY_APP, write_project

from celery_lint.cli import main

APP_ONLY = {k: v for k, v in CELERY_APP.items() if k != "proj/settings.py"}

# The checklist, in the order of the report.
CODES = ["CEL404", "CEL301", "CEL302", "CEL311", "CEL303", "CEL312", "CEL405", "CEL402", "CEL304",
         "CEL305", "CEL306", "CEL307", "CEL308", "CEL309", "CEL310", "CEL313", "CEL314"]
DEPLOYMENT_CODES = {"CEL404", "CEL405", "CEL402"}
NO_DEPLOYMENT = ("no process definitions found (Procfile, docker-compose, Kubernetes, supervisord, "
                 "systemd, Dockerfile)")
JSON_KEYS = {"item", "code", "status", "value", "where", "detail", "settings_module",
             "may_change"}

# Settings that pass every settings item of the checklist.
PRODUCTION_READY = """
    import os
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration

    INSTALLED_APPS = ['django.contrib.admin', 'django_celery_results']
    TIME_ZONE = 'UTC'
    CELERY_BROKER_URL = os.environ['BROKER_URL']
    CELERY_RESULT_BACKEND = 'django-db'
    CELERY_TASK_ACKS_LATE = True
    CELERY_TASK_REJECT_ON_WORKER_LOST = True
    CELERY_WORKER_PREFETCH_MULTIPLIER = 1
    CELERY_TASK_SOFT_TIME_LIMIT = 240
    CELERY_TASK_TIME_LIMIT = 300
    CELERY_TASK_ROUTES = {'shop.tasks.*': {'queue': 'shop'}}
    CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

    sentry_sdk.init(dsn=os.environ.get('SENTRY_DSN'), integrations=[CeleryIntegration()])
"""

# A production compose file that passes the deployment items: workers restart, one beat, Flower.
COMPOSE = """
    services:
      worker:
        image: shop
        command: celery -A proj worker -l info -Q celery,shop
        restart: unless-stopped
        deploy:
          replicas: 2
      beat:
        image: shop
        command: celery -A proj beat -l info
        restart: unless-stopped
      flower:
        image: mher/flower
        restart: unless-stopped
"""

# A worker without restart policy and a second beat; the worker's -E events count as monitoring.
COMPOSE_WITHOUT_RESTART = """
    services:
      worker:
        image: shop
        command: celery -A proj worker -E -l info -Q celery,shop
      beat:
        image: shop
        command: celery -A proj beat -l info
        restart: unless-stopped
      beat-again:
        image: shop
        command: celery -A proj beat -l info
        restart: unless-stopped
"""


def invoke(args: list[str]) -> Result:
    """Run the CLI in-process; no run of it may print a traceback."""
    result = CliRunner().invoke(main, args)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def audit_json(root: Path, files: dict[str, str]) -> tuple[int, list[dict[str, object]]]:
    write_project(root, files)
    result = invoke(["audit", "--output-format", "json"])
    return result.exit_code, json.loads(result.stdout)


def by_code(items: list[dict[str, object]]) -> dict[object, dict[str, object]]:
    return {item["code"]: item for item in items}


def table_rows(stdout: str) -> list[list[str]]:
    """The cells (status, item, value, where, rule) of every table in the output."""
    lines = stdout.splitlines()
    rows: list[list[str]] = []
    for number, header in enumerate(lines):
        if not header.startswith("status "):
            continue
        starts = [0, *(header.index(name) for name in ("item", "value", "where", "rule"))]
        for line in lines[number + 1:]:
            if not line.strip():
                break
            ends = [*starts[1:], None]
            rows.append([line[start:end].strip() for start, end in zip(starts, ends)])
    return rows


# -- the table ------------------------------------------------------------------------------------

def test_table_has_one_row_per_item(in_tmp: Path) -> None:
    write_project(in_tmp, CELERY_APP)
    rows = table_rows(invoke(["audit"]).stdout)
    assert [row[4] for row in rows] == CODES


def test_table_statuses_values_and_places(in_tmp: Path) -> None:
    write_project(in_tmp, CELERY_APP)
    rows = {row[4]: row for row in table_rows(invoke(["audit"]).stdout)}
    assert rows["CEL301"] == ["FAIL", "acks late", "not set (Celery's default: False)",
                              "proj/settings.py:1", "CEL301"]
    # a long value is clipped to the column
    assert rows["CEL303"] == ["pass", "soft time limit",
                              "CELERY_TASK_SOFT_TIME_LIMIT = 240, CELERY_T…",
                              "proj/settings.py:3", "CEL303"]
    assert rows["CEL404"] == ["unknown", "worker restarts on crash", "", "-", "CEL404"]
    assert rows["CEL307"][0] == "n/a"


def test_table_names_the_app_and_the_production_module(in_tmp: Path) -> None:
    files = {**APP_ONLY, "proj/settings/__init__.py": "",
             "proj/settings/base.py": "INSTALLED_APPS = []\n",
             "proj/settings/production.py": "from .base import *\nCELERY_TASK_ACKS_LATE = True\n"}
    write_project(in_tmp, files)
    lines = invoke(["audit"]).stdout.splitlines()
    assert lines[0] == ("Celery app proj.celery.app (proj/celery.py:5) reads Django's settings, "
                        "namespace 'CELERY'")
    assert "Production settings: proj.settings.production (via proj.settings.base)" in lines


def test_table_details_of_a_failing_row(in_tmp: Path) -> None:
    write_project(in_tmp, {**APP_ONLY, "proj/settings.py": "CELERY_TASK_ACKS_LATE = False\n"})
    stdout = invoke(["audit"]).stdout
    assert "  CEL301 FAIL: `CELERY_TASK_ACKS_LATE` is not enabled" in stdout


def test_table_summary_line(in_tmp: Path) -> None:
    write_project(in_tmp, {**APP_ONLY, "proj/settings.py": PRODUCTION_READY})
    stdout = invoke(["audit"]).stdout
    assert stdout.splitlines()[-1] == "14 passed, 3 unknown."


def test_table_summary_line_with_deployment_files(in_tmp: Path) -> None:
    write_project(in_tmp, {**APP_ONLY, "proj/settings.py": PRODUCTION_READY,
                           "docker-compose.yml": COMPOSE})
    stdout = invoke(["audit"]).stdout
    assert stdout.splitlines()[-1] == "17 passed."


def test_table_deployment_rows_with_their_places(in_tmp: Path) -> None:
    write_project(in_tmp, {**APP_ONLY, "proj/settings.py": PRODUCTION_READY,
                           "docker-compose.yml": COMPOSE_WITHOUT_RESTART})
    rows = {row[4]: row for row in table_rows(invoke(["audit"]).stdout)}
    assert rows["CEL404"] == ["FAIL", "worker restarts on crash", "1 process definition(s)",
                              "docker-compose.yml:4", "CEL404"]
    assert rows["CEL405"] == ["pass", "Flower or other monitor", "worker `worker` with task events (-E)",
                              "docker-compose.yml:4", "CEL405"]
    assert rows["CEL402"] == ["FAIL", "beat runs on a single node", "1 process definition(s)",
                              "docker-compose.yml:11", "CEL402"]


def test_table_of_two_production_modules(in_tmp: Path) -> None:
    files = {**APP_ONLY, "proj/settings/__init__.py": "",
             "proj/settings/base.py": "INSTALLED_APPS = []\n",
             "proj/settings/production.py": "from .base import *\nX = 1\n",
             "proj/settings/staging.py": "from .base import *\nX = 2\n"}
    write_project(in_tmp, files)
    stdout = invoke(["audit"]).stdout
    assert len(table_rows(stdout)) == 2 * len(CODES)
    assert "Production settings: proj.settings.production (via proj.settings.base)" in stdout
    assert "Production settings: proj.settings.staging (via proj.settings.base)" in stdout


# -- JSON -----------------------------------------------------------------------------------------

def test_json_has_one_object_per_item(in_tmp: Path) -> None:
    _, items = audit_json(in_tmp, CELERY_APP)
    assert [item["code"] for item in items] == CODES
    assert all(set(item) == JSON_KEYS for item in items)
    assert {item["settings_module"] for item in items} == {"proj.settings"}


def test_json_failing_missing_setting(in_tmp: Path) -> None:
    _, items = audit_json(in_tmp, CELERY_APP)
    assert by_code(items)["CEL301"] == {
        "item": "acks late", "code": "CEL301", "status": "fail",
        "value": "not set (Celery's default: False)",
        "where": {"filename": str((in_tmp / "proj/settings.py").resolve()), "row": 1},
        "detail": by_code(items)["CEL301"]["detail"], "settings_module": "proj.settings",
        "may_change": []}
    assert str(by_code(items)["CEL301"]["detail"]).startswith(
        "`CELERY_TASK_ACKS_LATE` is not enabled")


def test_json_passing_row_with_its_place(in_tmp: Path) -> None:
    _, items = audit_json(in_tmp, CELERY_APP)
    row = by_code(items)["CEL303"]
    assert (row["status"], row["value"], row["where"]) == (
        "pass", "CELERY_TASK_SOFT_TIME_LIMIT = 240, CELERY_TASK_TIME_LIMIT = 300",
        {"filename": str((in_tmp / "proj/settings.py").resolve()), "row": 3})


def test_json_statuses(in_tmp: Path) -> None:
    _, items = audit_json(in_tmp, {**APP_ONLY, "proj/settings.py": PRODUCTION_READY})
    assert {item["code"]: item["status"] for item in items} == {
        "CEL404": "unknown", "CEL301": "pass", "CEL302": "pass", "CEL311": "pass",
        "CEL303": "pass", "CEL312": "pass", "CEL405": "unknown", "CEL402": "unknown",
        "CEL304": "pass", "CEL305": "pass", "CEL306": "pass", "CEL307": "pass",
        "CEL308": "pass", "CEL309": "pass", "CEL310": "pass", "CEL313": "pass",
        "CEL314": "pass"}


def test_deployment_rows_are_unknown_without_process_definitions(in_tmp: Path) -> None:
    _, items = audit_json(in_tmp, CELERY_APP)
    assert {item["code"]: (item["status"], item["value"], item["where"], item["detail"])
            for item in items if item["code"] in DEPLOYMENT_CODES} == dict.fromkeys(
        DEPLOYMENT_CODES, ("unknown", None, None, NO_DEPLOYMENT))


def test_deployment_rows_are_unknown_with_only_a_dev_compose_file(in_tmp: Path) -> None:
    compose = COMPOSE.replace("worker -l info", "worker -B -l info").replace(
        "restart: unless-stopped", "restart: 'no'")
    code, items = audit_json(in_tmp, {**APP_ONLY, "proj/settings.py": PRODUCTION_READY,
                                      "docker-compose.dev.yml": compose})
    assert {item["code"]: item["status"] for item in items
            if item["code"] in DEPLOYMENT_CODES} == dict.fromkeys(DEPLOYMENT_CODES, "unknown")
    assert code == 0


def test_deployment_rows_pass_with_a_production_compose_file(in_tmp: Path) -> None:
    code, items = audit_json(in_tmp, {**APP_ONLY, "proj/settings.py": PRODUCTION_READY,
                                      "docker-compose.yml": COMPOSE})
    rows = by_code(items)
    assert {c: (rows[c]["status"], rows[c]["value"]) for c in DEPLOYMENT_CODES} == {
        "CEL404": ("pass", "1 worker definition(s) restart"),
        "CEL405": ("pass", "flower `flower`"),
        "CEL402": ("pass", "one beat per deployment")}
    assert rows["CEL405"]["where"] == {
        "filename": str((in_tmp / "docker-compose.yml").resolve()), "row": 12}
    assert code == 0


def test_deployment_rows_fail_at_the_process_definition(in_tmp: Path) -> None:
    code, items = audit_json(in_tmp, {**APP_ONLY, "proj/settings.py": PRODUCTION_READY,
                                      "docker-compose.yml": COMPOSE_WITHOUT_RESTART})
    rows = by_code(items)
    compose_file = str((in_tmp / "docker-compose.yml").resolve())
    assert (rows["CEL404"]["status"], rows["CEL404"]["where"]) == (
        "fail", {"filename": compose_file, "row": 4})
    assert str(rows["CEL404"]["detail"]).startswith("Worker `worker` has no `restart:` policy")
    assert (rows["CEL402"]["status"], rows["CEL402"]["where"]) == (
        "fail", {"filename": compose_file, "row": 11})
    assert str(rows["CEL402"]["detail"]).startswith("`beat-again` runs beat, and so does `beat`")
    assert code == 1


def test_deployment_rows_not_applicable_without_worker_or_beat(in_tmp: Path) -> None:
    flower_only = "services:\n  flower:\n    image: mher/flower\n"
    _, items = audit_json(in_tmp, {**APP_ONLY, "proj/settings.py": PRODUCTION_READY,
                                   "docker-compose.yml": flower_only})
    rows = by_code(items)
    assert {c: (rows[c]["status"], rows[c]["value"]) for c in DEPLOYMENT_CODES} == {
        "CEL404": ("not-applicable", "no worker process"),
        "CEL405": ("pass", "flower `flower`"),
        "CEL402": ("not-applicable", "no beat process")}


def test_value_from_the_environment_is_unknown_with_its_default(in_tmp: Path) -> None:
    settings = "import os\nCELERY_TASK_ACKS_LATE = os.environ.get('ACKS_LATE', False)\n"
    _, items = audit_json(in_tmp, {**APP_ONLY, "proj/settings.py": settings})
    row = by_code(items)["CEL301"]
    assert (row["status"], row["value"]) == (
        "unknown", "from the environment ($ACKS_LATE, default False)")
    assert row["where"] == {"filename": str((in_tmp / "proj/settings.py").resolve()), "row": 2}


def test_value_from_the_environment_without_default(in_tmp: Path) -> None:
    settings = "import os\nCELERY_BROKER_URL = os.environ['BROKER_URL']\n"
    _, items = audit_json(in_tmp, {**APP_ONLY, "proj/settings.py": settings})
    row = by_code(items)["CEL309"]
    assert row["status"] == "pass"
    assert "from the environment ($BROKER_URL, no default)" in str(row["value"])


def test_value_from_the_environment_in_the_table(in_tmp: Path) -> None:
    settings = ("import environ\nenv = environ.Env()\n"
                "CELERY_WORKER_PREFETCH_MULTIPLIER = env.int('PREFETCH', default=4)\n")
    write_project(in_tmp, {**APP_ONLY, "proj/settings.py": settings})
    rows = {row[4]: row for row in table_rows(invoke(["audit"]).stdout)}
    assert rows["CEL302"][0] == "unknown"
    assert rows["CEL302"][2] == "from the environment ($PREFETCH, default 4)"


def test_unknown_setting_row_names_the_keys(in_tmp: Path) -> None:
    settings = "CELERY_TASK_ACK_LATE = True\nTASK_ACKS_LATE = True\n"
    _, items = audit_json(in_tmp, {**APP_ONLY, "proj/settings.py": settings})
    row = by_code(items)["CEL306"]
    assert (row["status"], row["value"]) == ("fail", "CELERY_TASK_ACK_LATE, TASK_ACKS_LATE")


def test_credentials_value_is_redacted(in_tmp: Path) -> None:
    settings = "CELERY_BROKER_URL = 'amqp://shop:s3cret@rabbit//'\n"
    _, items = audit_json(in_tmp, {**APP_ONLY, "proj/settings.py": settings})
    row = by_code(items)["CEL309"]
    assert row["status"] == "fail"
    assert "s3cret" not in json.dumps(items)


def test_missing_settings_are_unknown_when_a_module_does_not_parse(in_tmp: Path) -> None:
    files = {**APP_ONLY, "proj/settings/__init__.py": "",
             "proj/settings/base.py": "CELERY_TASK_ACKS_LATE = (\n",
             "proj/settings/production.py": "from .base import *\nX = 1\n"}
    _, items = audit_json(in_tmp, files)
    statuses = {item["code"]: item["status"] for item in items}
    assert {statuses[c] for c in ("CEL301", "CEL302", "CEL303", "CEL311", "CEL314")} == {"unknown"}
    assert "cannot be parsed" in str(by_code(items)["CEL301"]["detail"])


def test_table_warns_about_a_module_that_does_not_parse(in_tmp: Path) -> None:
    write_project(in_tmp, {**APP_ONLY, "proj/settings.py": "CELERY_TASK_ACKS_LATE = (\n"})
    stdout = invoke(["audit"]).stdout
    assert "warning: proj/settings.py:1: cannot parse" in stdout


def test_project_without_a_celery_app(in_tmp: Path) -> None:
    write_project(in_tmp, {"manage.py": "", "shop/models.py": "X = 1\n"})
    result = invoke(["audit"])
    assert "note: no Celery app found" in result.stdout
    rows = table_rows(result.stdout)
    assert [row[4] for row in rows] == CODES
    assert {row[4]: row[0] for row in rows} == dict.fromkeys(CODES, "unknown")
    assert result.exit_code == 0


def test_project_with_no_production_settings_module(in_tmp: Path) -> None:
    files = {**APP_ONLY, "proj/settings/__init__.py": "",
             "proj/settings/base.py": "INSTALLED_APPS = []\n",
             "proj/settings/production.py": "from .base import *\nX = 1\n"}
    write_project(in_tmp, files)
    (in_tmp / "pyproject.toml").write_text(
        '[tool.celery-lint]\nsettings-module = "proj.settings.nowhere"\n', encoding="utf-8")
    result = invoke(["audit", "--output-format", "json"])
    items = json.loads(result.stdout)
    assert {item["status"] for item in items} == {"unknown"}
    assert result.exit_code == 0


def test_development_settings_module_is_named_and_not_audited(in_tmp: Path) -> None:
    write_project(in_tmp, {**APP_ONLY, "proj/settings.py": "DEBUG = True\nINSTALLED_APPS = []\n"})
    result = invoke(["audit"])
    assert ("note: proj.settings sets `DEBUG = True` (line 1 of proj.settings): a development "
            "settings module, not judged as production") in result.stdout
    assert "note: no production settings module found" in result.stdout
    assert "Production settings:" not in result.stdout
    assert result.exit_code == 0


def test_django_configurations_class_is_the_production_settings(in_tmp: Path) -> None:
    settings = ("from configurations import Configuration\n\n"
                "class Production(Configuration):\n    INSTALLED_APPS = []\n"
                "    CELERY_TASK_ACKS_LATE = True\n")
    write_project(in_tmp, {**APP_ONLY, "proj/settings.py": settings})
    result = invoke(["audit"])
    assert "Production settings: proj.settings.Production (via proj.settings)" in result.stdout
    assert {row[4]: row[0] for row in table_rows(result.stdout)}["CEL301"] == "pass"


# -- what may change when the project runs ----------------------------------------------------------

def test_optional_override_may_change_the_rows(in_tmp: Path) -> None:
    settings = ("INSTALLED_APPS = []\nCELERY_TASK_ACKS_LATE = True\n"
                "try:\n    from .local_overrides import *\nexcept ImportError:\n    pass\n")
    write_project(in_tmp, {**APP_ONLY, "proj/settings.py": settings})
    stdout = invoke(["audit"]).stdout
    [line] = [line for line in stdout.splitlines() if "may change" in line]
    assert line.startswith("  may change when the project runs: CEL301, CEL302, CEL311, CEL303,")
    assert line.endswith("by the optional `from proj.local_overrides import *`: "
                         "proj.local_overrides is not in the project, a deployment may add it "
                         "(proj/settings.py:4)")
    rows = {row[4]: row[0] for row in table_rows(stdout)}
    assert (rows["CEL301"], rows["CEL303"]) == ("pass", "FAIL")


def test_json_says_which_rows_a_write_may_change(in_tmp: Path) -> None:
    settings = ("import os\nINSTALLED_APPS = []\n"
                "for key, value in os.environ.items():\n"
                "    if key.startswith('CELERY_TASK_'):\n        globals()[key] = value\n")
    _, items = audit_json(in_tmp, {**APP_ONLY, "proj/settings.py": settings})
    changed = {str(item["code"]) for item in items if item["may_change"]}
    # task_* settings only: not the prefetch multiplier (worker_*) nor the broker URL
    assert {"CEL301", "CEL303", "CEL305"} <= changed
    assert not changed & {"CEL302", "CEL309", "CEL314", "CEL404"}


def test_setting_a_hook_may_set_is_unknown_not_passed(in_tmp: Path) -> None:
    settings = "from proj.plugins import load\nINSTALLED_APPS = []\nload(globals())\n"
    _, items = audit_json(in_tmp, {**APP_ONLY, "proj/settings.py": settings,
                                   "proj/plugins.py": "def load(names):\n    pass\n"})
    rows = by_code(items)
    # not shipped, so neither passed nor failed: the hook decides when the project runs
    for code in ("CEL301", "CEL303", "CEL305", "CEL311", "CEL314"):
        assert rows[code]["status"] == "unknown", rows[code]
        assert "may be set when the project runs by `load(...)`, handed `globals()` (line 3 of " \
            "proj.settings) (shipped: not set)" in str(rows[code]["value"]), rows[code]


def test_write_that_reaches_no_celery_setting_changes_no_row(in_tmp: Path) -> None:
    settings = ("import os\nINSTALLED_APPS = []\n"
                "for key, value in os.environ.items():\n"
                "    if key.startswith('RATELIMIT_'):\n        globals()[key] = value\n")
    write_project(in_tmp, {**APP_ONLY, "proj/settings.py": settings})
    assert "may change" not in invoke(["audit"]).stdout


# -- exit codes -----------------------------------------------------------------------------------

def test_exit_1_when_a_row_fails(in_tmp: Path) -> None:
    write_project(in_tmp, CELERY_APP)
    assert invoke(["audit"]).exit_code == 1


def test_exit_1_with_json_output(in_tmp: Path) -> None:
    code, _ = audit_json(in_tmp, CELERY_APP)
    assert code == 1


def test_exit_0_when_no_row_fails(in_tmp: Path) -> None:
    write_project(in_tmp, {**APP_ONLY, "proj/settings.py": PRODUCTION_READY})
    assert invoke(["audit"]).exit_code == 0


def test_exit_0_when_the_only_doubt_is_the_environment(in_tmp: Path) -> None:
    settings = PRODUCTION_READY.replace(
        "CELERY_TASK_ACKS_LATE = True", "CELERY_TASK_ACKS_LATE = os.getenv('ACKS', 'no') == 'yes'")
    code, items = audit_json(in_tmp, {**APP_ONLY, "proj/settings.py": settings})
    assert by_code(items)["CEL301"]["status"] == "unknown"
    assert code == 0


def test_exit_zero_option(in_tmp: Path) -> None:
    write_project(in_tmp, CELERY_APP)
    assert invoke(["audit", "--exit-zero"]).exit_code == 0


def test_exit_2_for_a_bad_pyproject_key(in_tmp: Path) -> None:
    write_project(in_tmp, CELERY_APP)
    (in_tmp / "pyproject.toml").write_text("[tool.celery-lint]\nsettings-modul = 'x'\n",
                                           encoding="utf-8")
    result = invoke(["audit"])
    assert result.exit_code == 2
    assert "unknown key `settings-modul`" in result.stderr


def test_exit_2_for_a_path_that_does_not_exist(in_tmp: Path) -> None:
    result = invoke(["audit", "nowhere"])
    assert result.exit_code == 2
    assert "no such file or folder: nowhere" in result.stderr


def test_settings_module_from_pyproject(in_tmp: Path) -> None:
    files = {**APP_ONLY, "proj/settings/__init__.py": "",
             "proj/settings/base.py": "INSTALLED_APPS = []\n",
             "proj/settings/production.py": "from .base import *\nX = 1\n",
             "proj/settings/local.py": "from .base import *\nCELERY_TASK_ALWAYS_EAGER = True\n"}
    write_project(in_tmp, files)
    (in_tmp / "pyproject.toml").write_text(
        '[tool.celery-lint]\nsettings-module = "proj.settings.local"\n', encoding="utf-8")
    _, items = audit_json(in_tmp, {})
    assert {item["settings_module"] for item in items} == {"proj.settings.local"}
    assert by_code(items)["CEL305"]["status"] == "fail"


# -- never imports the project --------------------------------------------------------------------

def hostile_project(root: Path) -> list[Path]:
    """A project whose modules, if imported, write a marker file and raise or exit."""
    markers = [root / "settings-imported", root / "celery-imported", root / "tasks-imported"]
    settings, celery, tasks = (repr(str(marker)) for marker in markers)
    write_project(root, {
        "manage.py": "",
        "proj/settings.py": f"""
            open({settings}, "w").close()
            raise RuntimeError("imported!")
            CELERY_TASK_ACKS_LATE = False
            CELERY_TASK_TIME_LIMIT = 300
        """,
        "proj/celery.py": f"""
            import os
            import sys
            open({celery}, "w").close()
            sys.exit(3)
            from celery import Celery

            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
            app = Celery("proj")
            app.config_from_object("django.conf:settings", namespace="CELERY")
        """,
        "shop/tasks.py": f"""
            from celery import shared_task
            open({tasks}, "w").close()
            raise SystemExit(4)


            @shared_task
            def send_invoice(order_id):
                return order_id
        """,
    })
    return markers


def test_check_never_imports_the_project(in_tmp: Path) -> None:
    markers = hostile_project(in_tmp)
    result = invoke(["check", "--select", "CEL301", "--preview", "--output-format", "concise"])
    assert result.exit_code == 1
    assert "proj/settings.py:3:1: CEL301" in result.stdout
    assert [marker for marker in markers if marker.exists()] == []


def test_audit_never_imports_the_project(in_tmp: Path) -> None:
    markers = hostile_project(in_tmp)
    result = invoke(["audit", "--output-format", "json"])
    assert result.exit_code == 1
    row = by_code(json.loads(result.stdout))["CEL301"]
    assert (row["status"], row["value"]) == ("fail", "False")
    assert [marker for marker in markers if marker.exists()] == []
