"""The flake8 plugin, run through flake8 itself on small projects: selection, noqa, columns."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import CELERY_APP, MODELS, run_project, write_project

from celery_lint.flake8_plugin import Plugin

pytest.importorskip("flake8")

TASKS = """
    from celery import shared_task


    @shared_task
    def process_order(order_id):
        return order_id
"""

VIEW = """
    from django.shortcuts import get_object_or_404

    from shop.models import Order
    from shop.tasks import process_order


    def pay(request, pk):
        order = get_object_or_404(Order, pk=pk)
        process_order.delay(order)
"""

CLEAN = """
    from shop.tasks import process_order


    def pay(request, pk):
        process_order.delay(pk)
"""

# The global limits absent: CEL201 on the task, CEL30x on the settings module.
SETTINGS_WITHOUT_LIMITS = """
    CELERY_BROKER_URL = "redis://localhost:6379/0"
"""

SHOP = {**CELERY_APP, "shop/models.py": MODELS, "shop/tasks.py": TASKS, "shop/views.py": VIEW}


def flake8(root: Path, *args: str, stdin: str | None = None) -> list[tuple[str, int, int, str]]:
    """(path, row, 1-based column, code) of each line flake8 prints, run in `root`."""
    command = [sys.executable, "-m", "flake8", "--isolated",
               "--format=%(path)s:%(row)d:%(col)d:%(code)s", *args]
    done = subprocess.run(command, cwd=root, input=stdin, capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    found = []
    for line in done.stdout.splitlines():
        path, row, column, code = line.rsplit(":", 3)
        found.append((Path(path).as_posix().removeprefix("./"), int(row), int(column), code))
    return found


def test_view_passing_a_model_from_another_file(tmp_path):
    write_project(tmp_path, SHOP)
    assert flake8(tmp_path, "--select", "CEL1", "shop/views.py") == [
        ("shop/views.py", 9, 25, "CEL101"),
    ]


def test_task_without_a_global_limit(tmp_path):
    write_project(tmp_path, {**SHOP, "proj/settings.py": SETTINGS_WITHOUT_LIMITS})
    found = flake8(tmp_path, "--select", "CEL", ".")
    assert ("shop/tasks.py", 5, 1, "CEL201") in found
    assert ("proj/settings.py", 1, 1, "CEL303") in found


def test_task_with_a_global_limit_not_flagged(tmp_path):
    write_project(tmp_path, SHOP)
    assert flake8(tmp_path, "--select", "CEL2", ".") == []


def test_columns_match_celery_lint(tmp_path):
    project = {**SHOP, "proj/settings.py": SETTINGS_WITHOUT_LIMITS}
    expected = sorted(
        (Path(d.path).relative_to(tmp_path).as_posix(), d.location.row, d.location.column, d.code)
        for d in run_project(tmp_path, project).diagnostics
    )
    assert expected
    assert sorted(flake8(tmp_path, "--select", "CEL", ".")) == expected


def test_flake8_noqa_comment(tmp_path):
    view = VIEW.replace("delay(order)", "delay(order)  # noqa: CEL101")
    write_project(tmp_path, {**SHOP, "shop/views.py": view})
    assert flake8(tmp_path, "--select", "CEL", "shop/views.py") == []


def test_noqa_for_another_code_does_not_suppress(tmp_path):
    view = VIEW.replace("delay(order)", "delay(order)  # noqa: CEL105")
    write_project(tmp_path, {**SHOP, "shop/views.py": view})
    # and no CEL002 for the unused directive: flake8 owns noqa comments
    assert flake8(tmp_path, "--select", "CEL", "shop/views.py") == [
        ("shop/views.py", 9, 25, "CEL101"),
    ]


def test_celery_lint_file_noqa(tmp_path):
    view = "# celery-lint: noqa\n" + textwrap.dedent(VIEW).lstrip("\n")
    write_project(tmp_path, {**SHOP, "shop/views.py": view})
    assert flake8(tmp_path, "--select", "CEL,E999", "shop/views.py") == []


def test_extend_ignore_prefix(tmp_path):
    write_project(tmp_path, {**SHOP, "proj/settings.py": SETTINGS_WITHOUT_LIMITS})
    found = flake8(tmp_path, "--select", "CEL", "--extend-ignore", "CEL2", ".")
    assert {code for *_, code in found} == {"CEL101", "CEL303"}  # CEL301, CEL302: preview


def test_celery_lint_config_ignore_applies(tmp_path):
    pyproject = """
        [tool.celery-lint]
        ignore = ["CEL101"]
    """
    write_project(tmp_path, {**SHOP, "pyproject.toml": pyproject})
    assert flake8(tmp_path, "--select", "CEL", "shop/views.py") == []


def test_syntax_error_is_flake8_e999(tmp_path):
    write_project(tmp_path, {**SHOP, "shop/broken.py": "def pay(:\n"})
    found = flake8(tmp_path, "--select", "CEL,E999", "shop")
    assert [(path, code) for path, _, _, code in found] == [
        ("shop/broken.py", "E999"), ("shop/views.py", "CEL101"),
    ]


def test_clean_file(tmp_path):
    write_project(tmp_path, {**SHOP, "shop/views.py": CLEAN})
    assert flake8(tmp_path, "--select", "CEL", "shop/views.py") == []


def test_stdin_checks_the_unsaved_content(tmp_path):
    write_project(tmp_path, SHOP)
    edited = (tmp_path / "shop/views.py").read_text().replace("delay(order)", "delay(order.pk)")
    assert flake8(tmp_path, "--select", "CEL", "--stdin-display-name", "shop/views.py", "-",
                  stdin=edited) == []
    saved = (tmp_path / "shop/views.py").read_text()
    assert flake8(tmp_path, "--select", "CEL", "--stdin-display-name", "shop/views.py", "-",
                  stdin=saved) == [("shop/views.py", 9, 25, "CEL101")]


def test_internal_error_yields_nothing(tmp_path, monkeypatch):
    def broken(filename: str, text: str) -> list[object]:
        raise RuntimeError("a bug")

    monkeypatch.setattr("celery_lint.flake8_plugin.file_diagnostics", broken)
    assert list(Plugin(None, str(tmp_path / "views.py"), ["x = 1\n"]).run()) == []  # type: ignore[arg-type]


def test_plugin_column_is_zero_based(tmp_path):
    write_project(tmp_path, SHOP)
    path = tmp_path / "shop/views.py"
    lines = path.read_text().splitlines(keepends=True)
    found = [(row, column, text.split()[0])
             for row, column, text, _ in Plugin(None, str(path), lines).run()]  # type: ignore[arg-type]
    assert found == [(9, 24, "CEL101")]
