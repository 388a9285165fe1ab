"""GitHub Actions workflow commands: one `::error file=..,line=..::` annotation per diagnostic."""

from __future__ import annotations

from celery_lint.diagnostics import Diagnostic, Severity
from celery_lint.output.source_lines import report_path

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    """A command's message, escaped as the Actions toolkit's `escapeData` does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value, escaped as the Actions toolkit's `escapeProperty` does."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(diagnostic: Diagnostic) -> str:
    properties = {
        "file": report_path(diagnostic.path),
        "line": diagnostic.location.row,
        "endLine": diagnostic.end_location.row,
        "col": diagnostic.location.column,
        "endColumn": diagnostic.end_location.column,
        "title": f"celery-lint ({diagnostic.code})",
    }
    shown = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    message = escape_data(f"{diagnostic.code} {diagnostic.message}")
    return f"::{COMMANDS[diagnostic.severity]} {shown}::{message}\n"


def render(diagnostics: list[Diagnostic]) -> str:
    return "".join(annotation(d) for d in diagnostics)
