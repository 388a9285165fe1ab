"""What the formatters need beyond a diagnostic: a file's lines and its path as shown in reports."""

from __future__ import annotations

from pathlib import Path

from celery_lint.discovery import display_path
from celery_lint.source import SourceError, SourceFile, split_lines


def read_lines(path: str, cache: dict[str, list[str]]) -> list[str]:
    """The lines of `path`, read once per report; an unreadable file has none."""
    if path not in cache:
        try:
            cache[path] = split_lines(_decoded(Path(path).read_bytes()))
        except OSError:
            cache[path] = []
    return cache[path]


def _decoded(raw: bytes) -> str:
    """The text as the linter read it (coding cookie, BOM); bytes that are not text, replaced."""
    try:
        return SourceFile.from_bytes("", "", raw).text
    except SourceError:
        return raw.decode("utf-8", errors="replace")


def source_line(path: str, row: int, cache: dict[str, list[str]]) -> str | None:
    lines = read_lines(path, cache)
    return lines[row - 1] if 0 < row <= len(lines) else None


def report_path(path: str) -> str:
    """`path` relative to the current folder when under it (else absolute), with `/` separators."""
    return Path(display_path(Path(path))).as_posix()
