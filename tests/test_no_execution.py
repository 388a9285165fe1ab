"""celery-lint never imports or runs the project it reads, through any front end of the CLI.

Every module of the project below, on import, writes a marker file (an absolute path into the
test's tmp_path) and stops the interpreter (`sys.exit(3)` or `os._exit(3)`). The real command line
runs on it as a subprocess: `check` (also twice with its cache, which the second run reads),
`check --fix --unsafe-fixes`, `audit` and `check --add-noqa`, and `python -m celery_lint`;
no marker may appear and the exit codes are SPEC's (1: diagnostics remain or an item fails, 0:
everything fixed or suppressed), never the project's 3. The project is a realistic one (a Celery app
reading Django settings, a model, a task, a view, a URLconf, a compose file), and the test checks
the diagnostics it expects, so it cannot pass by reading nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# The console script installed next to the interpreter running the tests (the venv's).
SCRIPT = Path(sys.executable).with_name("celery-lint")
# Each module of the project starts with this: a marker, then the end of the interpreter.
TRAP = """\
import os as _os
import sys as _sys

with open({marker!r}, "w") as _marker:
    _marker.write("imported")
{stop}
"""
STOPS = {"exit": "_sys.exit(3)", "_exit": "_os._exit(3)"}

PROJECT = {
    "manage.py": ("_exit", """
        def main():
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
            from django.core.management import execute_from_command_line

            execute_from_command_line(sys.argv)


        if __name__ == "__main__":
            main()
    """),
    "setup.py": ("exit", """
        from setuptools import find_packages, setup

        setup(name="proj", packages=find_packages())
    """),
    "conftest.py": ("_exit", """
        import pytest


        @pytest.fixture
        def order():
            return None
    """),
    "proj/__init__.py": ("exit", """
        from .celery import app as celery_app

        __all__ = ("celery_app",)
    """),
    "proj/celery.py": ("_exit", """
        from celery import Celery

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
        app = Celery("proj")
        app.config_from_object("django.conf:settings", namespace="CELERY")
        app.autodiscover_tasks()
    """),
    "proj/settings.py": ("exit", """
        SECRET_KEY = "not-a-secret"
        INSTALLED_APPS = ["django.contrib.contenttypes", "shop"]
        ROOT_URLCONF = "proj.urls"
        CELERY_BROKER_URL = "redis://localhost:6379/0"
        CELERY_WORKER_PREFETCH_MULTIPLIER = 4
        CELERY_TASK_SERIALIZER = "json"
    """),
    "proj/urls.py": ("_exit", """
        from django.urls import path

        from shop import views

        urlpatterns = [path("orders/<int:pk>/ship/", views.ship)]
    """),
    "shop/__init__.py": ("exit", ""),
    "shop/models.py": ("_exit", """
        from django.db import models


        class Order(models.Model):
            status = models.CharField(max_length=20)
    """),
    "shop/tasks.py": ("exit", """
        from celery import shared_task

        from shop.models import Order


        @shared_task
        def ship_order(order_id):
            Order.objects.filter(pk=order_id).update(status="shipped")
    """),
    "shop/views.py": ("_exit", """
        from django.http import HttpResponse
        from django.shortcuts import get_object_or_404

        from shop.models import Order
        from shop.tasks import ship_order


        def ship(request, pk):
            order = get_object_or_404(Order, pk=pk)
            ship_order.delay(order)
            return HttpResponse("ok")
    """),
}
COMPOSE = """\
services:
  worker:
    image: proj
    command: celery -A proj worker -B -l info
    restart: always
"""
# What `check` must find (path, code): every module above is read.
EXPECTED = {
    ("proj/settings.py", "CEL301"),  # acks late not enabled
    ("proj/settings.py", "CEL302"),  # prefetch multiplier 4
    ("proj/settings.py", "CEL303"),  # no global time limit
    ("shop/tasks.py", "CEL201"),  # a task without a time limit
    ("shop/views.py", "CEL101"),  # an Order instance sent to .delay()
    ("docker-compose.yml", "CEL401"),  # beat embedded in the worker
}


def write(root: Path, markers: Path) -> None:
    for name, (stop, body) in PROJECT.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        trap = TRAP.format(marker=str(markers / name.replace("/", "__")), stop=STOPS[stop])
        path.write_text(trap + textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    (root / "docker-compose.yml").write_text(COMPOSE, encoding="utf-8")
    # the project chooses its time limits, so that the CEL201/CEL303 fixes are offered too
    (root / "pyproject.toml").write_text(
        "[tool.celery-lint]\nfix-time-limits = { soft = 300, hard = 360 }\n", encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    root, markers = tmp_path / "project", tmp_path / "markers"
    markers.mkdir()
    write(root, markers)
    return root, markers


def cli(root: Path, *args: str, module: bool = False, cache: bool = False
        ) -> subprocess.CompletedProcess[str]:
    """The real command line, run from the project's folder as a user runs it (without its
    cache, as conftest.py asks, unless `cache`)."""
    command = [sys.executable, "-m", "celery_lint"] if module else [str(SCRIPT)]
    unset = {"PYTHONPATH", "DJANGO_SETTINGS_MODULE"} | ({"CELERY_LINT_NO_CACHE"} if cache else set())
    env = {k: v for k, v in os.environ.items() if k not in unset}
    done = subprocess.run([*command, *args], check=False, cwd=root, capture_output=True,
                          text=True, env=env, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def no_markers(markers: Path) -> None:
    assert sorted(p.name for p in markers.iterdir()) == [], "the project's code ran"


def found(root: Path, output: str) -> set[tuple[str, str]]:
    return {(Path(d["filename"]).relative_to(root.resolve()).as_posix(), d["code"])
            for d in json.loads(output)}


def test_the_traps_work(project: tuple[Path, Path]) -> None:
    """Importing any module of the project does leave a marker and stop the interpreter."""
    root, markers = project
    for module in ("proj.settings", "shop.models", "manage"):
        done = subprocess.run([sys.executable, "-c", f"import {module}"], check=False,
                              cwd=root, capture_output=True, timeout=60)
        assert done.returncode == 3
    # a package's __init__ runs first, and stops the import
    assert {p.name for p in markers.iterdir()} == {"proj____init__.py", "shop____init__.py",
                                                   "manage.py"}


@pytest.mark.skipif(not SCRIPT.exists(), reason="the celery-lint script is not installed")
def test_check_reads_without_running(project: tuple[Path, Path]) -> None:
    root, markers = project
    done = cli(root, "check", "--preview", "--output-format", "json")  # every rule runs
    assert done.returncode == 1, done.stderr
    assert EXPECTED <= found(root, done.stdout)
    no_markers(markers)
    # with the cache: written by the first run, read by the second; and a pool of two
    for _ in range(2):
        cached = cli(root, "check", "--preview", "--output-format", "json", "--jobs", "2",
                     cache=True)
        assert cached.returncode == 1, cached.stderr
        assert found(root, cached.stdout) == found(root, done.stdout)
    assert (root / ".celery_lint_cache").is_dir()
    no_markers(markers)


@pytest.mark.skipif(not SCRIPT.exists(), reason="the celery-lint script is not installed")
def test_fix_reads_without_running(project: tuple[Path, Path]) -> None:
    root, markers = project
    done = cli(root, "check", "--preview", "--fix", "--unsafe-fixes", "--output-format", "json")
    # CEL101 and the missing settings are fixed; CEL401 (a compose file) has no fix and remains
    assert done.returncode == 1, done.stderr
    left = found(root, done.stdout)
    assert ("docker-compose.yml", "CEL401") in left
    assert not left & {("shop/views.py", "CEL101"), ("proj/settings.py", "CEL301"),
                       ("proj/settings.py", "CEL303"), ("shop/tasks.py", "CEL201")}
    assert "ship_order.delay(order.pk)" in (root / "shop/views.py").read_text(encoding="utf-8")
    no_markers(markers)
    # and a second run of the fixed project still runs nothing
    again = cli(root, "check", "--preview", "--fix", "--unsafe-fixes", "--output-format",
                "json")
    assert again.returncode == 1 and found(root, again.stdout) == left
    no_markers(markers)


@pytest.mark.skipif(not SCRIPT.exists(), reason="the celery-lint script is not installed")
def test_audit_reads_without_running(project: tuple[Path, Path]) -> None:
    root, markers = project
    done = cli(root, "audit", "--output-format", "json")
    assert done.returncode == 1, done.stderr  # acks late and prefetch fail
    rows = {row["code"]: row["status"] for row in json.loads(done.stdout)}
    assert rows["CEL301"] == rows["CEL302"] == "fail"
    no_markers(markers)
    table = cli(root, "audit")
    assert table.returncode == 1, table.stderr
    assert "proj.settings" in table.stdout
    no_markers(markers)


@pytest.mark.skipif(not SCRIPT.exists(), reason="the celery-lint script is not installed")
def test_add_noqa_reads_without_running(project: tuple[Path, Path], tmp_path: Path) -> None:
    root, markers = project
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    done = cli(copy, "check", "--add-noqa")
    assert done.returncode == 0, done.stderr
    assert "# noqa: CEL101" in (copy / "shop/views.py").read_text(encoding="utf-8")
    assert "# noqa: CEL401" in (copy / "docker-compose.yml").read_text(encoding="utf-8")
    no_markers(markers)
    after = cli(copy, "check")
    assert after.returncode == 0, after.stdout + after.stderr  # everything is suppressed now
    no_markers(markers)


def test_python_m_reads_without_running(project: tuple[Path, Path]) -> None:
    """`python -m celery_lint`, from the project's folder, on each command."""
    root, markers = project
    assert cli(root, "check", "--output-format", "json", module=True).returncode == 1
    assert cli(root, "audit", module=True).returncode == 1
    no_markers(markers)


def test_python_m_does_not_import_the_projects_top_level_modules(
        project: tuple[Path, Path]) -> None:
    root, markers = project
    for name in ("yaml", "libcst", "pathspec", "click_repl"):
        (root / f"{name}.py").write_text(
            TRAP.format(marker=str(markers / f"{name}.py"), stop=STOPS["_exit"]),
            encoding="utf-8")
    done = cli(root, "check", "--output-format", "json", module=True)
    no_markers(markers)
    assert done.returncode == 1
