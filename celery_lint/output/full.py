"""The default output: location, code and message, the source line with a caret under the span."""

from __future__ import annotations

from pathlib import Path

from celery_lint.diagnostics import Diagnostic
from celery_lint.output.source_lines import source_line
from celery_lint.runner import display_path


def render(diagnostics: list[Diagnostic], sources: dict[str, list[str]] | None = None) -> str:
    cache: dict[str, list[str]] = dict(sources or {})
    out: list[str] = []
    for d in diagnostics:
        out.append(f"{display_path(Path(d.path))}:{d.location.row}:{d.location.column}: "
                   f"{d.code} {d.message}\n")
        line = source_line(d.path, d.location.row, cache)
        if line is not None:
            gutter = " " * len(str(d.location.row))
            start = max(d.location.column - 1, 0)
            if d.end_location.row == d.location.row:
                width = max(d.end_location.column - d.location.column, 1)
            else:
                width = max(len(line) - start, 1)
            out.append(f"{gutter} |\n{d.location.row} | {line}\n"
                       f"{gutter} | {' ' * start}{'^' * width} {d.code}\n{gutter} |\n")
            if d.fix is not None:
                out.append(f"{gutter} = help: {d.fix.message}\n")
        out.append("\n")
    return "".join(out)
