"""The runner: unparsable files, discovery, noqa, per-file ignores, encodings and rule selection."""

from __future__ import annotations

import codecs
import textwrap
from pathlib import Path

import pytest
from helpers import MODELS, TASKS, lint, write_project

from celery_lint.config import Config
from celery_lint.runner import RunResult, run

# CEL101 at row 7, column 24 (the `order` argument).
SERVICES = """
    from shop.models import Order
    from shop.tasks import send_invoice


    def checkout(order_id):
        order = Order.objects.get(pk=order_id)
        send_invoice.delay(order){comment}
"""

# CEL205 at row 4, column 14 (`bind=True` on a task with no parameter).
BOUND = """
    from celery import shared_task


    @shared_task(bind=True)
    def ping():
        return None
"""


def shop(comment: str = "", **extra: str) -> dict[str, str]:
    """A project whose shop/services.py line 7 passes a model instance (CEL101).

    `comment` ends that line; `extra` adds modules (`shop__jobs` is shop/jobs.py).
    """
    files = {
        "manage.py": "",
        "shop/models.py": MODELS,
        "shop/tasks.py": TASKS,
        "shop/services.py": SERVICES.format(comment=comment),
    }
    files.update({name.replace("__", "/") + ".py": text for name, text in extra.items()})
    return files


def dedented(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def run_on(tmp_path: Path, *paths: Path, **config: object) -> RunResult:
    return run(list(paths) or [tmp_path], Config(root=tmp_path, **config))  # type: ignore[arg-type]


def triples(tmp_path: Path, result: RunResult) -> list[tuple[str, str, int]]:
    return [(d.code, Path(d.path).relative_to(tmp_path).as_posix(), d.location.row)
            for d in result.diagnostics]


def test_baseline_project_reports_cel101(tmp_path: Path) -> None:
    assert lint(tmp_path, shop()) == [("CEL101", "shop/services.py", 7)]


# -- CEL001: files that cannot be read as Python ------------------------------------------------

def test_cel001_syntax_error_at_its_row(tmp_path: Path) -> None:
    broken = "import os\n\n\ndef broken(:\n    pass\n"
    assert lint(tmp_path, shop(shop__broken=broken)) == [
        ("CEL001", "shop/broken.py", 4),
        ("CEL101", "shop/services.py", 7),
    ]


def test_cel001_undecodable_bytes(tmp_path: Path) -> None:
    write_project(tmp_path, shop())
    (tmp_path / "shop" / "latin.py").write_bytes(b"NAME = '\xff\xfe caf\xe9'\n")
    assert triples(tmp_path, run_on(tmp_path)) == [
        ("CEL001", "shop/latin.py", 1),
        ("CEL101", "shop/services.py", 7),
    ]


def test_cel001_null_bytes(tmp_path: Path) -> None:
    write_project(tmp_path, shop())
    (tmp_path / "shop" / "nul.py").write_bytes(b"x = 1\n\x00y = 2\n")
    result = run_on(tmp_path)
    assert [(c, p) for c, p, _ in triples(tmp_path, result)] == [
        ("CEL001", "shop/nul.py"),
        ("CEL101", "shop/services.py"),
    ]
    assert result.internal_errors == 0


def test_cel001_is_not_reported_for_a_file_that_parses(tmp_path: Path) -> None:
    assert lint(tmp_path, shop(shop__fine="def fine():\n    return 1\n")) == [
        ("CEL101", "shop/services.py", 7)]


# -- discovery ----------------------------------------------------------------------------------

@pytest.mark.parametrize("folder", [".venv", "node_modules", "build"])
def test_default_excluded_folder_is_skipped(tmp_path: Path, folder: str) -> None:
    write_project(tmp_path, {"manage.py": "", f"{folder}/pkg/tasks.py": BOUND}, packages=False)
    assert triples(tmp_path, run_on(tmp_path)) == []


@pytest.mark.parametrize("folder", ["docs", "examples", ".semgrep", "jobs/examples"])
def test_documentation_examples_and_tool_folders_are_skipped(tmp_path: Path, folder: str) -> None:
    # code shown or checked there is not the project's running code
    write_project(tmp_path, {"manage.py": "", f"{folder}/pkg/tasks.py": BOUND}, packages=False)
    assert triples(tmp_path, run_on(tmp_path)) == []


def test_explicit_file_under_docs_is_checked(tmp_path: Path) -> None:
    write_project(tmp_path, {"manage.py": "", "docs/pkg/tasks.py": BOUND}, packages=False)
    result = run_on(tmp_path, tmp_path / "docs" / "pkg" / "tasks.py")
    assert triples(tmp_path, result) == [("CEL205", "docs/pkg/tasks.py", 4)]


def test_explicit_folder_under_docs_is_checked(tmp_path: Path) -> None:
    write_project(tmp_path, {"manage.py": "", "docs/pkg/tasks.py": BOUND}, packages=False)
    result = run_on(tmp_path, tmp_path / "docs")
    assert triples(tmp_path, result) == [("CEL205", "docs/pkg/tasks.py", 4)]


def test_configured_exclude_replaces_the_default_excludes(tmp_path: Path) -> None:
    files = {"manage.py": "", "legacy/tasks.py": BOUND, "docs/pkg/tasks.py": BOUND}
    write_project(tmp_path, files, packages=False)
    assert triples(tmp_path, run_on(tmp_path, exclude=("legacy",))) == [
        ("CEL205", "docs/pkg/tasks.py", 4)]


def test_extend_exclude_keeps_the_default_excludes(tmp_path: Path) -> None:
    files = {"manage.py": "", "legacy/tasks.py": BOUND, "docs/pkg/tasks.py": BOUND,
             "jobs/tasks.py": BOUND}
    write_project(tmp_path, files, packages=False)
    assert triples(tmp_path, run_on(tmp_path, extend_exclude=("legacy",))) == [
        ("CEL205", "jobs/tasks.py", 4)]


def test_not_excluded_folder_is_checked(tmp_path: Path) -> None:
    write_project(tmp_path, {"manage.py": "", "jobs/pkg/tasks.py": BOUND}, packages=False)
    assert triples(tmp_path, run_on(tmp_path)) == [("CEL205", "jobs/pkg/tasks.py", 4)]


def test_folder_with_pyvenv_cfg_is_skipped(tmp_path: Path) -> None:
    files = {"manage.py": "", "myenv/pyvenv.cfg": "home = /usr/bin\n", "myenv/lib/tasks.py": BOUND}
    write_project(tmp_path, files, packages=False)
    assert triples(tmp_path, run_on(tmp_path)) == []


def test_gitignored_folder_is_skipped(tmp_path: Path) -> None:
    files = {"manage.py": "", ".gitignore": "generated/\n", "generated/tasks.py": BOUND}
    write_project(tmp_path, files, packages=False)
    assert triples(tmp_path, run_on(tmp_path)) == []


def test_gitignored_file_is_skipped(tmp_path: Path) -> None:
    files = {"manage.py": "", ".gitignore": "*_old.py\n", "jobs/tasks_old.py": BOUND,
             "jobs/tasks.py": BOUND}
    write_project(tmp_path, files, packages=False)
    assert triples(tmp_path, run_on(tmp_path)) == [("CEL205", "jobs/tasks.py", 4)]


def test_explicit_file_in_excluded_folder_is_checked(tmp_path: Path) -> None:
    write_project(tmp_path, {"manage.py": "", "build/tasks.py": BOUND}, packages=False)
    result = run_on(tmp_path, tmp_path / "build" / "tasks.py")
    assert triples(tmp_path, result) == [("CEL205", "build/tasks.py", 4)]


def test_explicit_file_that_is_gitignored_is_checked(tmp_path: Path) -> None:
    files = {"manage.py": "", ".gitignore": "generated/\n", "generated/tasks.py": BOUND}
    write_project(tmp_path, files, packages=False)
    result = run_on(tmp_path, tmp_path / "generated" / "tasks.py")
    assert triples(tmp_path, result) == [("CEL205", "generated/tasks.py", 4)]


def test_explicit_file_is_checked_alone_with_the_project_as_context(tmp_path: Path) -> None:
    write_project(tmp_path, shop(shop__jobs=BOUND))
    result = run_on(tmp_path, tmp_path / "shop" / "services.py")
    assert triples(tmp_path, result) == [("CEL101", "shop/services.py", 7)]


def test_configured_exclude_is_skipped(tmp_path: Path) -> None:
    write_project(tmp_path, {"manage.py": "", "legacy/tasks.py": BOUND}, packages=False)
    assert triples(tmp_path, run_on(tmp_path, exclude=("legacy",))) == []


# -- noqa ---------------------------------------------------------------------------------------

def test_noqa_with_the_code_suppresses_and_is_not_cel002(tmp_path: Path) -> None:
    assert lint(tmp_path, shop("  # noqa: CEL101")) == []


def test_noqa_with_the_code_in_lower_case_suppresses(tmp_path: Path) -> None:
    assert lint(tmp_path, shop("  # noqa: cel101")) == []


def test_bare_noqa_suppresses(tmp_path: Path) -> None:
    assert lint(tmp_path, shop("  # noqa")) == []


def test_noqa_with_another_code_does_not_suppress(tmp_path: Path) -> None:
    assert lint(tmp_path, shop("  # noqa: CEL107")) == [
        ("CEL101", "shop/services.py", 7),
        ("CEL002", "shop/services.py", 7),
    ]


def test_noqa_of_another_linter_does_not_suppress_and_is_not_cel002(tmp_path: Path) -> None:
    assert lint(tmp_path, shop("  # noqa: E501")) == [("CEL101", "shop/services.py", 7)]


def test_noqa_listing_the_code_among_others_suppresses(tmp_path: Path) -> None:
    assert lint(tmp_path, shop("  # noqa: E501, CEL101")) == []


def test_noqa_inside_a_string_is_not_a_directive(tmp_path: Path) -> None:
    files = shop()
    files["shop/services.py"] = files["shop/services.py"].replace(
        "send_invoice.delay(order)", 'send_invoice.delay(order, "# noqa: CEL101")')
    files["shop/tasks.py"] = TASKS.replace("(order_id)", "(order_id, note)")
    assert lint(tmp_path, files) == [("CEL101", "shop/services.py", 7)]


def test_unused_noqa_is_cel002(tmp_path: Path) -> None:
    files = shop()
    files["shop/services.py"] = files["shop/services.py"].replace(
        "send_invoice.delay(order)", "send_invoice.delay(order.pk)  # noqa: CEL101")
    assert lint(tmp_path, files) == [("CEL002", "shop/services.py", 7)]


def test_cel002_sits_at_the_noqa_comment(tmp_path: Path) -> None:
    files = shop()
    files["shop/services.py"] = files["shop/services.py"].replace(
        "send_invoice.delay(order)", "send_invoice.delay(order.pk)  # noqa: CEL101")
    write_project(tmp_path, files)
    [diagnostic] = run_on(tmp_path).diagnostics
    assert (diagnostic.location.row, diagnostic.location.column) == (7, 35)


def test_cel002_not_reported_for_a_code_that_is_not_selected(tmp_path: Path) -> None:
    files = shop()
    files["shop/services.py"] = files["shop/services.py"].replace(
        "send_invoice.delay(order)", "send_invoice.delay(order.pk)  # noqa: CEL205")
    assert lint(tmp_path, files, select=("CEL002", "CEL101")) == []


def test_cel002_reported_for_a_selected_code(tmp_path: Path) -> None:
    files = shop()
    files["shop/services.py"] = files["shop/services.py"].replace(
        "send_invoice.delay(order)", "send_invoice.delay(order.pk)  # noqa: CEL205")
    assert lint(tmp_path, files, select=("CEL002", "CEL205")) == [
        ("CEL002", "shop/services.py", 7)]


def test_cel002_not_reported_when_cel002_is_not_selected(tmp_path: Path) -> None:
    files = shop()
    files["shop/services.py"] = files["shop/services.py"].replace(
        "send_invoice.delay(order)", "send_invoice.delay(order.pk)  # noqa: CEL101")
    assert lint(tmp_path, files, select=("CEL101",)) == []


def test_file_level_noqa_suppresses_the_whole_file(tmp_path: Path) -> None:
    files = shop()
    files["shop/services.py"] = "# celery-lint: noqa\n" + dedented(SERVICES.format(comment=""))
    assert lint(tmp_path, files) == []


def test_file_level_noqa_with_codes_suppresses_only_those(tmp_path: Path) -> None:
    files = shop()
    files["shop/services.py"] = "# celery-lint: noqa: CEL107\n" + dedented(
        SERVICES.format(comment=""))
    assert lint(tmp_path, files) == [("CEL101", "shop/services.py", 8)]


def test_per_file_ignores_matching_the_file(tmp_path: Path) -> None:
    ignores = (("shop/services.py", ("CEL101",)),)
    assert lint(tmp_path, shop(), per_file_ignores=ignores) == []


def test_per_file_ignores_with_a_glob_and_a_prefix(tmp_path: Path) -> None:
    ignores = (("shop/*.py", ("CEL1",)),)
    assert lint(tmp_path, shop(), per_file_ignores=ignores) == []


def test_per_file_ignores_of_another_file(tmp_path: Path) -> None:
    ignores = (("shop/tasks.py", ("CEL101",)),)
    assert lint(tmp_path, shop(), per_file_ignores=ignores) == [("CEL101", "shop/services.py", 7)]


# -- encodings and newlines ---------------------------------------------------------------------

SERVICES_WITH_TEXT = (
    "{cookie}from shop.models import Order{nl}"
    "from shop.tasks import send_note{nl}"
    "{nl}"
    "{nl}"
    "def checkout(order_id):{nl}"
    "    order = Order.objects.get(pk=order_id){nl}"
    '    send_note.delay("caf\u00e9 \u00e9t\u00e9", order){nl}'
)
NOTE_TASK = """
    from celery import shared_task


    @shared_task
    def send_note(text, order_id):
        return text, order_id
"""


def encoded_project(tmp_path: Path, raw: bytes) -> list[tuple[str, int, int]]:
    write_project(tmp_path, {"manage.py": "", "shop/models.py": MODELS, "shop/tasks.py": NOTE_TASK})
    (tmp_path / "shop" / "services.py").write_bytes(raw)
    return [(d.code, d.location.row, d.location.column) for d in run_on(tmp_path).diagnostics]


def test_utf8_file_column_counts_characters(tmp_path: Path) -> None:
    raw = SERVICES_WITH_TEXT.format(cookie="", nl="\n").encode("utf-8")
    assert encoded_project(tmp_path, raw) == [("CEL101", 7, 33)]


def test_latin1_coding_cookie(tmp_path: Path) -> None:
    cookie = "# -*- coding: latin-1 -*-\n"
    raw = SERVICES_WITH_TEXT.format(cookie=cookie, nl="\n").encode("latin-1")
    assert encoded_project(tmp_path, raw) == [("CEL101", 8, 33)]


def test_bom_and_crlf(tmp_path: Path) -> None:
    raw = codecs.BOM_UTF8 + SERVICES_WITH_TEXT.format(cookie="", nl="\r\n").encode("utf-8")
    assert encoded_project(tmp_path, raw) == [("CEL101", 7, 33)]


def test_bom_and_crlf_noqa_suppresses(tmp_path: Path) -> None:
    source = SERVICES_WITH_TEXT.format(cookie="", nl="\r\n").replace(
        "order)\r\n", "order)  # noqa: CEL101\r\n")
    assert encoded_project(tmp_path, codecs.BOM_UTF8 + source.encode("utf-8")) == []


def test_bom_and_crlf_diagnostic_right_after_the_bom(tmp_path: Path) -> None:
    lines = ["from celery import shared_task", "@shared_task(bind=True)", "def ping():", "    pass"]
    write_project(tmp_path, {"manage.py": ""})
    (tmp_path / "jobs.py").write_bytes(codecs.BOM_UTF8 + "\r\n".join(lines).encode() + b"\r\n")
    diagnostics = run_on(tmp_path).diagnostics
    assert [(d.code, d.location.row, d.location.column) for d in diagnostics] == [
        ("CEL205", 2, 14)]


# -- select, ignore, extend-select --------------------------------------------------------------

def mixed() -> dict[str, str]:
    """CEL101 in shop/services.py and CEL205 in shop/jobs.py."""
    return shop(shop__jobs=BOUND)


def codes(tmp_path: Path, **config: object) -> list[str]:
    return [code for code, _, _ in lint(tmp_path, mixed(), **config)]


def test_default_selection(tmp_path: Path) -> None:
    assert codes(tmp_path) == ["CEL205", "CEL101"]


def test_select_a_family_prefix(tmp_path: Path) -> None:
    assert codes(tmp_path, select=("CEL1",)) == ["CEL101"]


def test_select_a_two_digit_prefix(tmp_path: Path) -> None:
    assert codes(tmp_path, select=("CEL20",)) == ["CEL205"]


def test_select_an_exact_code(tmp_path: Path) -> None:
    assert codes(tmp_path, select=("CEL205",)) == ["CEL205"]


def test_ignore_a_prefix(tmp_path: Path) -> None:
    assert codes(tmp_path, ignore=("CEL1",)) == ["CEL205"]


def test_ignore_wins_over_select(tmp_path: Path) -> None:
    assert codes(tmp_path, select=("CEL1", "CEL20"), ignore=("CEL20",)) == ["CEL101"]


def test_extend_select_adds_to_select(tmp_path: Path) -> None:
    assert codes(tmp_path, select=("CEL1",), extend_select=("CEL20",)) == ["CEL205", "CEL101"]


def test_select_all(tmp_path: Path) -> None:
    assert codes(tmp_path, select=("ALL",)) == ["CEL205", "CEL101"]
