"""Every rule has a page, and every page's examples run: the bad one raises exactly its rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import lint

from celery_lint.codes import all_rules, get_rule
from celery_lint.pages import page, pages_dir

_BLOCK = re.compile(r'```(?:\w+)? title="(?P<path>[^"]+)"\n(?P<code>.*?)```', re.DOTALL)
_SECTION = re.compile(r"^## (?P<title>.+)$", re.MULTILINE)


def sections(text: str) -> dict[str, str]:
    marks = list(_SECTION.finditer(text))
    return {m.group("title").strip(): text[m.end(): marks[i + 1].start() if i + 1 < len(marks)
                                             else len(text)] for i, m in enumerate(marks)}


def example_files(text: str) -> dict[str, str]:
    return {m.group("path"): m.group("code") for m in _BLOCK.finditer(text)}


CODES = [rule.code for rule in all_rules()]
AUDIT = [code for code in CODES if code.startswith("CEL3")]


def lint_page(root: Path, files: dict[str, str], code: str) -> list[tuple[str, str, int]]:
    """Every rule on (preview ones too), except the other checklist rules: a page's settings
    show one item."""
    return lint(root, files, select=("ALL",), ignore=tuple(c for c in AUDIT if c != code),
                preview=True)


def test_every_registered_rule_has_a_page() -> None:
    missing = [code for code in CODES if page(code) is None]
    assert missing == []


def test_every_page_belongs_to_a_registered_rule() -> None:
    pages = {p.stem for p in pages_dir().glob("CEL*.md")}
    assert pages == set(CODES)


@pytest.mark.parametrize("code", CODES)
def test_page_has_the_sections(code: str) -> None:
    text = page(code) or ""
    assert text.startswith(f"# {code}: ")
    for title in ("What it does", "Why is this bad?", "Example", "Use instead"):
        assert title in sections(text), title


@pytest.mark.parametrize("code", CODES)
def test_bad_example_raises_exactly_its_rule(code: str, tmp_path: Path) -> None:
    files = example_files(sections(page(code) or "")["Example"])
    assert files, "the Example section has no titled code block"
    found = lint_page(tmp_path, files, code)
    assert found and {c for c, _, _ in found} == {code}, found


@pytest.mark.parametrize("code", CODES)
def test_good_example_raises_nothing(code: str, tmp_path: Path) -> None:
    files = example_files(sections(page(code) or "")["Use instead"])
    assert files, "the Use instead section has no titled code block"
    assert lint_page(tmp_path, files, code) == []


def test_pages_dir_is_the_repository_folder_in_a_checkout() -> None:
    assert (pages_dir() / "CEL101.md").is_file()


@pytest.mark.parametrize("code", CODES)
def test_page_table_is_the_row_of_the_table_of_codes(code: str) -> None:
    """The severity and fix a page shows under its title are the table's (celery_lint.codes)."""
    rule = get_rule(code)
    assert rule is not None
    fix = rule.fix.value if rule.fix else "none"
    assert f"| Severity | Fix |\n|---|---|\n| {rule.severity.value} | {fix} |\n" in (page(code) or "")
