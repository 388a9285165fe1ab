"""A GitLab Code Quality report: a JSON array of issues for the merge request widget."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

from celery_lint.diagnostics import Diagnostic, Severity
from celery_lint.output.source_lines import report_path, source_line

SEVERITIES = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}


def fingerprint(code: str, path: str, message: str, line: str, occurrence: int) -> str:
    """Stable across runs: built from what was found and the line's text, never its row, so a
    finding keeps its fingerprint when lines above it move; `occurrence` tells identical findings
    of one file apart."""
    key = "\0".join((code, path, message, line.strip(), str(occurrence)))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def render(diagnostics: list[Diagnostic]) -> str:
    cache: dict[str, list[str]] = {}
    seen: Counter[tuple[str, str, str, str]] = Counter()
    issues: list[dict[str, Any]] = []
    for d in diagnostics:
        path = report_path(d.path)
        line = (source_line(d.path, d.location.row, cache) or "").strip()
        key = (d.code, path, d.message, line)
        issues.append({
            "description": f"{d.code} {d.message}",
            "check_name": d.code,
            "fingerprint": fingerprint(*key, seen[key]),
            "severity": SEVERITIES[d.severity],
            "location": {"path": path, "lines": {"begin": d.location.row}},
        })
        seen[key] += 1
    return json.dumps(issues, indent=2) + "\n"
