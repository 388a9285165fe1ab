"""`path:row:col: CODE message`, one a line, as flake8 and ruff's concise format print."""

from __future__ import annotations

from celery_lint.diagnostics import Diagnostic
from celery_lint.discovery import display_path


def render(diagnostics: list[Diagnostic]) -> str:
    from pathlib import Path

    return "".join(
        f"{display_path(Path(d.path))}:{d.location.row}:{d.location.column}: {d.code} {d.message}\n"
        for d in diagnostics
    )
