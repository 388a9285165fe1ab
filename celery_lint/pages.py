"""The rule pages (`rules/CELxxx.md`), shipped in the wheel as celery_lint/_pages."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def pages_dir() -> Path:
    shipped = _PACKAGE / "_pages"
    return shipped if shipped.is_dir() else _PACKAGE.parent / "rules"


def page(code: str) -> str | None:
    path = pages_dir() / f"{code.upper()}.md"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None
