"""Lint small projects written from strings: the shape every rule test uses."""

from __future__ import annotations

import textwrap
from pathlib import Path

from celery_lint.codes import get_rule
from celery_lint.config import Config
from celery_lint.runner import RunResult, run

# A Celery app wired to Django settings, for the rules that need the project's configuration.
CELERY_APP = {
    "manage.py": "",
    "proj/celery.py": """
        import os
        from celery import Celery

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
        app = Celery("proj")
        app.config_from_object("django.conf:settings", namespace="CELERY")
        app.autodiscover_tasks()
    """,
    "proj/settings.py": """
        CELERY_BROKER_URL = "redis://localhost:6379/0"
        CELERY_TASK_TIME_LIMIT = 300
        CELERY_TASK_SOFT_TIME_LIMIT = 240
    """,
}

MODELS = """
    from django.db import models


    class Order(models.Model):
        status = models.CharField(max_length=20)


    class Invoice(models.Model):
        order = models.ForeignKey(Order, on_delete=models.CASCADE)
"""

# A task with one parameter, for the engine and CLI tests.
TASKS = """
    from celery import shared_task


    @shared_task
    def send_invoice(order_id):
        return order_id
"""


def write_project(root: Path, files: dict[str, str], packages: bool = True) -> None:
    """Write `files` under `root`; every folder gets an `__init__.py` unless `packages` is off."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    if packages:
        for path in list(root.rglob("*")):
            if path.is_dir() and not (path / "__init__.py").exists():
                (path / "__init__.py").write_text("", encoding="utf-8")


def config_of(root: Path, select: tuple[str, ...] | None = None, **config: object) -> Config:
    """The configuration of a test run: preview on when `select` names a preview rule (a rule's
    own tests run it whatever its group; test_codes tests the groups themselves)."""
    if select and "preview" not in config and any(
            (rule := get_rule(code)) is not None and rule.preview for code in select):
        config["preview"] = True
    return Config(root=root, select=select, **config)  # type: ignore[arg-type]


def run_project(root: Path, files: dict[str, str], select: tuple[str, ...] | None = None,
                **config: object) -> RunResult:
    write_project(root, files)
    return run([root], config_of(root, select, **config))


def lint(root: Path, files: dict[str, str], select: tuple[str, ...] | None = None,
         **config: object) -> list[tuple[str, str, int]]:
    """(code, path relative to root, row) of every diagnostic of the project `files`."""
    result = run_project(root, files, select, **config)
    assert not result.internal_errors, result.warnings
    return [(d.code, Path(d.path).relative_to(root).as_posix(), d.location.row)
            for d in result.diagnostics]


def codes_at(root: Path, files: dict[str, str], path: str, select: tuple[str, ...] | None = None,
             **config: object) -> list[tuple[str, int]]:
    """(code, row) of the diagnostics in one file of the project."""
    return [(code, row) for code, where, row in lint(root, files, select, **config) if where == path]

