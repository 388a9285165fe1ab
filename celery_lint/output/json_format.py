"""A JSON array in ruff's shape: code, message, severity, filename, locations, noqa_row, fix, url."""

from __future__ import annotations

import json
from typing import Any

from celery_lint.codes import get_rule
from celery_lint.diagnostics import Diagnostic, Location


def _location(location: Location) -> dict[str, int]:
    return {"row": location.row, "column": location.column}


def as_dict(diagnostic: Diagnostic) -> dict[str, Any]:
    rule = get_rule(diagnostic.code)
    fix = None
    if diagnostic.fix is not None:
        fix = {
            "applicability": diagnostic.fix.applicability.value,
            "message": diagnostic.fix.message,
            # ruff's shape, with the file of each edit: a fix may span files (CEL101)
            "edits": [{"content": e.content, "location": _location(e.location),
                       "end_location": _location(e.end_location),
                       "filename": e.file(diagnostic)} for e in diagnostic.fix.edits],
        }
    return {
        "code": diagnostic.code,
        "message": diagnostic.message,
        "severity": diagnostic.severity.value,
        "filename": diagnostic.path,
        "location": _location(diagnostic.location),
        "end_location": _location(diagnostic.end_location),
        "noqa_row": diagnostic.noqa_row,
        "fix": fix,
        "url": rule.url if rule is not None else None,
    }


def render(diagnostics: list[Diagnostic]) -> str:
    return json.dumps([as_dict(d) for d in diagnostics], indent=2) + "\n"
