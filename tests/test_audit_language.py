"""`celery-lint audit` speaks the user's language: no internal representation (`Unknown(...)`,
`FromEnv(...)`, an object's repr) in any row or message, and every unknown row says what is
unknown and why. On the fixtures and on small projects (fast), and on every corpus project (slow;
see tests/test_corpus_fixes.py for where the projects come from)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import write_project
from test_corpus_fixes import _project_ids, corpus  # noqa: F401 - the session fixture

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# the names of the linter's own classes, a dataclass repr's fields, an object's default repr
INTERNAL = re.compile(
    r"\b(Unknown|FromEnv|SettingEntry|ConfiguredValue|SettingAssignment|CeleryConfig|Namespace|"
    r"ProjectCelery|Unread|Row|Requirement|Clause)\(|\b(text|origin|has_default)=|"
    r"<[\w.]+ object at 0x")
RUN_TIMEOUT = 900


def audit(project: Path, output: str) -> str:
    done = subprocess.run([sys.executable, "-m", "celery_lint", "audit", "--no-cache",
                           "--exit-zero", "--output-format", output, str(project)],
                          capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    return done.stdout


def check_language(project: Path) -> None:
    table, rows = audit(project, "table"), audit(project, "json")
    assert not INTERNAL.search(table), INTERNAL.search(table)
    assert not INTERNAL.search(rows), INTERNAL.search(rows)
    for row in json.loads(rows):
        if row["status"] == "unknown":
            assert row["detail"], f"{row['code']} is unknown without saying why"


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.iterdir()
                                           if p.is_dir() and p.suffix != ".expected"))
def test_the_audit_of_each_fixture(fixture: str) -> None:
    check_language(FIXTURES / fixture)


# values celery-lint cannot pin down, in every shape the evaluator knows: each must read as
# the source or as words, never as the evaluator's own objects
UNKNOWN_SETTINGS = """
    import os
    import environ

    env = environ.Env()
    CELERY_TASK_ROUTES = None
    CELERY_TASK_ROUTES.update({"a": {"queue": os.environ["QUEUE"]}})
    CELERY_ACCEPT_CONTENT = "json"
    CELERY_ACCEPT_CONTENT.append(os.environ["CONTENT"])
    CELERY_RESULT_SERIALIZER = env("SERIALIZER", default="json")
    CELERY_WORKER_PREFETCH_MULTIPLIER = int(os.environ.get("PREFETCH", "1"))
    CELERY_TASK_SOFT_TIME_LIMIT = int("ten minutes")
    CELERY_TASK_ACKS_LATE = compute_it()
    CELERY_TASK_REJECT_ON_WORKER_LOST = True
    CELERY_TIMEZONE = os.environ.get("TZ")
    CELERY_ENABLE_UTC = os.environ.get("UTC") == "1"
    TIME_ZONE = "UTC"
    USE_TZ = True
    CELERY_RESULT_BACKEND = "django-db" if os.environ.get("DB") else "redis://"
    INSTALLED_APPS = ["django.contrib.admin"] + os.environ["APPS"].split(",")
    CELERY_TASK_ALWAYS_EAGER = os.environ.get("EAGER", "0") == "1"
    CELERY_RESULT_EXPIRES = env.int("EXPIRES")
"""


def test_the_audit_of_values_it_cannot_know(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "manage.py": "",
        "proj/celery.py": """
            import os
            from celery import Celery

            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
            app = Celery("proj")
            app.config_from_object("django.conf:settings", namespace="CELERY")
        """,
        "proj/settings.py": UNKNOWN_SETTINGS,
    })
    check_language(tmp_path)
    rows = {row["code"]: row for row in json.loads(audit(tmp_path, "json"))}
    assert rows["CEL302"]["detail"] == (
        "`CELERY_WORKER_PREFETCH_MULTIPLIER` is read from the environment ($PREFETCH, default 1) "
        "when the process starts: only the deployment knows its value")
    assert rows["CEL303"]["detail"] == (
        "`CELERY_TASK_SOFT_TIME_LIMIT` is int('ten minutes'): celery-lint cannot tell its value "
        "without running the code")


@pytest.mark.slow
@pytest.mark.parametrize("project", _project_ids(), ids=lambda p: Path(p).name)
def test_the_audit_of_each_corpus_project(project: str,
                                          corpus: dict[str, Path]) -> None:  # noqa: F811
    check_language(corpus[project])
