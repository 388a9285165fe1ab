"""A SARIF 2.1.0 log (one run) for GitHub code scanning and other SARIF viewers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from celery_lint import __version__
from celery_lint.codes import RuleInfo, get_rule
from celery_lint.diagnostics import END_OF_FILE, Diagnostic, Edit, Location, Severity
from celery_lint.output.source_lines import read_lines, report_path
from celery_lint.pages import page

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://celery-lint.readthedocs.io/en/latest/"
SRCROOT = "%SRCROOT%"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def section(markdown: str, title: str) -> str | None:
    """The body of the `## title` section of a rule page, or None."""
    pattern = rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)"
    match = re.search(pattern, markdown, re.MULTILINE | re.DOTALL)
    return match.group(1).strip() if match else None


def plain(markdown: str) -> str:
    """Markdown prose as plain text: paragraphs kept, code spans and links unwrapped."""
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", markdown)
    text = text.replace("`", "")
    paragraphs = re.split(r"\n\s*\n", text)
    return "\n\n".join(re.sub(r"\n(?!\s*[-*] )\s*", " ", p.strip()) for p in paragraphs)


def rule_descriptor(code: str, rule: RuleInfo | None) -> dict[str, Any]:
    if rule is None:
        return {"id": code}
    descriptor: dict[str, Any] = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
    }
    markdown = page(rule.code)
    what = section(markdown, "What it does") if markdown else None
    if what:
        descriptor["fullDescription"] = {"text": plain(what)}
    if markdown:
        descriptor["help"] = {"text": markdown, "markdown": markdown}
    descriptor["helpUri"] = rule.url
    descriptor["defaultConfiguration"] = {"level": LEVELS[rule.severity]}
    descriptor["properties"] = {"group": rule.group.value}
    return descriptor


def artifact_location(path: str) -> dict[str, str]:
    """Relative to the source root when under the current folder, else an absolute file URI
    (a uriBaseId may only go with a relative reference)."""
    shown = report_path(path)
    if Path(shown).is_absolute():
        return {"uri": Path(shown).as_uri()}
    return {"uri": quote(shown), "uriBaseId": SRCROOT}


def region(start: Location, end: Location) -> dict[str, int]:
    spans = end > start
    return {"startLine": start.row, "startColumn": start.column,
            **({"endLine": end.row, "endColumn": end.column} if spans else {})}


def _end_of_file(lines: list[str], location: Location) -> Location:
    # the edits that append to a file say so with END_OF_FILE; SARIF wants the real position
    if location.row < END_OF_FILE:
        return location
    return Location(len(lines) + 1, 1)


def replacement(edit: Edit, lines: list[str]) -> dict[str, Any]:
    start, end = _end_of_file(lines, edit.location), _end_of_file(lines, edit.end_location)
    deleted = {"startLine": start.row, "startColumn": start.column,
               "endLine": end.row, "endColumn": end.column}
    return {"deletedRegion": deleted, "insertedContent": {"text": edit.content}}


def result(diagnostic: Diagnostic, rule_index: int, cache: dict[str, list[str]]) -> dict[str, Any]:
    location = artifact_location(diagnostic.path)
    item: dict[str, Any] = {
        "ruleId": diagnostic.code,
        "ruleIndex": rule_index,
        "level": LEVELS[diagnostic.severity],
        "message": {"text": diagnostic.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": location,
            "region": region(diagnostic.location, diagnostic.end_location),
        }}],
    }
    if diagnostic.fix is not None:
        fix = diagnostic.fix
        item["fixes"] = [{
            "description": {"text": fix.message},
            "artifactChanges": [{  # one per file: a fix may span files (CEL101)
                "artifactLocation": artifact_location(path),
                "replacements": [replacement(e, read_lines(path, cache)) for e in fix.edits
                                 if e.file(diagnostic) == path],
            } for path in fix.files(diagnostic)],
        }]
    return item


def as_log(diagnostics: list[Diagnostic]) -> dict[str, Any]:
    codes = sorted({d.code for d in diagnostics})
    index = {code: i for i, code in enumerate(codes)}
    cache: dict[str, list[str]] = {}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "celery-lint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [rule_descriptor(code, get_rule(code)) for code in codes],
            }},
            "originalUriBaseIds": {SRCROOT: {"uri": Path.cwd().as_uri().rstrip("/") + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": [result(d, index[d.code], cache) for d in diagnostics],
        }],
    }


def render(diagnostics: list[Diagnostic]) -> str:
    return json.dumps(as_log(diagnostics), indent=2) + "\n"
