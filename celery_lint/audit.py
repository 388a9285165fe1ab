"""`celery-lint audit`: the production checklist as a table (or JSON), one row per item."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from celery_lint.facts.settings import CeleryConfig, SettingsModel
from celery_lint.index import ProjectIndex
from celery_lint.rules.settings import (
    CHECKS,
    DEPLOYMENT_CHECKS,
    FAIL,
    NOT_APPLICABLE,
    PASS,
    UNKNOWN,
    Audit,
    Row,
)

STATUS_LABELS = {PASS: "pass", FAIL: "FAIL", UNKNOWN: "unknown", NOT_APPLICABLE: "n/a"}
STATUS_COLOURS = {PASS: "green", FAIL: "red", UNKNOWN: "yellow", NOT_APPLICABLE: None}
VALUE_WIDTH = 44


@dataclass
class Section:
    """The checklist for one production configuration."""

    module: str | None
    path: str | None
    chain: list[str]
    rows: list[Row]


@dataclass
class Report:
    settings: SettingsModel
    app_path: str | None
    celery: str = ""  # the Celery the settings are judged by, and where that was read
    sections: list[Section] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(row.status == FAIL for section in self.sections for row in section.rows)


def build_report(index: ProjectIndex) -> Report:
    settings = index.settings
    app = settings.app
    app_path = index.files[app.qualname.rpartition(".")[0]].path if app else None
    report = Report(settings, app_path, index.celery.label)
    for config in settings.configs:
        audit = Audit(index, config)
        chain = config.source.chain if config.source is not None else []
        report.sections.append(Section(config.module, config.path, chain,
                                       [_checked(check, audit) for check in CHECKS]))
    if not settings.configs:
        # Nothing to read: every settings item is unknown; no item passes on missing facts.
        audit = Audit(index, CeleryConfig({}, gaps=settings.notes or ("no configuration",)))
        rows = []
        for check in CHECKS:
            row = check(audit)
            if check not in DEPLOYMENT_CHECKS:
                row = Row(row.item, row.code, UNKNOWN, "", None, "; ".join(settings.notes))
            rows.append(row)
        report.sections.append(Section(None, None, [], rows))
    for facts in index.files.values():
        if facts.syntax_error is not None and any(
                facts.module in section.chain for section in report.sections):
            message, row, _ = facts.syntax_error
            report.warnings.append(f"{_shown(facts.path)}:{row}: cannot parse ({message}); its "
                                   "settings are unknown")
    return report


def _checked(check: Callable[[Audit], Row], audit: Audit) -> Row:
    """The row of `check`, with the run-time writes that may change a setting it read."""
    audit.config.consulted.clear()
    row = check(audit)
    overrides = audit.config.overrides_of(audit.config.consulted)
    if not overrides:
        return row
    return replace(row, overrides=tuple(f"{o.how} ({_shown(o.path)}:{o.line})"
                                        for o in overrides))


def _shown(path: str | None) -> str:
    if path is None:
        return "-"
    try:
        return os.path.relpath(path)
    except ValueError:
        return path


def _where(where: str | None) -> str:
    if where is None:
        return "-"
    path, _, line = where.rpartition(":")
    return f"{_shown(path)}:{line}"


def render_table(report: Report, style=lambda text, **_: text) -> str:  # type: ignore[no-untyped-def]
    settings = report.settings
    lines: list[str] = []
    if settings.app is not None:
        how = {"django": "Django's settings", "module": "a config module",
               "app": "only `app.conf`"}.get(settings.source, settings.source)
        namespace = f", namespace {settings.namespace!r}" if settings.namespace else \
            (", no namespace" if settings.source == "django" else "")
        lines.append(f"Celery app {settings.app.qualname} ({_shown(report.app_path)}:"
                     f"{settings.app.line}) reads {how}{namespace}")
    lines.append(f"judged by {report.celery}")
    for note in settings.notes:
        lines.append(f"note: {note}")
    for warning in report.warnings:
        lines.append(f"warning: {warning}")
    for section in report.sections:
        lines.append("")
        if section.module is not None:
            via = f" (via {' -> '.join(section.chain[1:])})" if len(section.chain) > 1 else ""
            lines.append(f"Production settings: {section.module}{via}")
        lines.append(_table(section.rows, style))
        details = [row for row in section.rows if row.status in (FAIL, UNKNOWN) and row.detail]
        if details:
            lines.append("")
        for row in details:
            label = STATUS_LABELS[row.status]
            lines.append(f"  {row.code} {label}: {row.detail}")
        changes: dict[str, list[str]] = {}
        for row in section.rows:
            for override in row.overrides:
                changes.setdefault(override, []).append(row.code)
        if changes:
            lines.append("")
        for override, codes in changes.items():
            lines.append(f"  may change when the project runs: {', '.join(codes)}, by {override}")
        lines.append("")
        lines.append(_summary(section.rows))
    return "\n".join(lines).lstrip("\n") + "\n"


def _table(rows: list[Row], style) -> str:  # type: ignore[no-untyped-def]
    header = ("status", "item", "value", "where", "rule")
    cells = [(STATUS_LABELS[r.status], r.item, _clip(r.value), _where(r.where), r.code)
             for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    for row, cell in zip(rows, cells):
        status = style(cell[0].ljust(widths[0]), fg=STATUS_COLOURS[row.status],
                       bold=row.status == FAIL)
        rest = "  ".join(c.ljust(w) for c, w in zip(cell[1:], widths[1:])).rstrip()
        out.append(f"{status}  {rest}")
    return "\n".join(out)


def _clip(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= VALUE_WIDTH else value[: VALUE_WIDTH - 1] + "…"


def _summary(rows: list[Row]) -> str:
    counts = {status: sum(1 for r in rows if r.status == status) for status in STATUS_LABELS}
    words = {PASS: "passed", FAIL: "failed", UNKNOWN: "unknown", NOT_APPLICABLE: "not applicable"}
    return ", ".join(f"{counts[s]} {words[s]}" for s in STATUS_LABELS if counts[s]) + "."


def render_json(report: Report) -> str:
    items = []
    for section in report.sections:
        for row in section.rows:
            where = None
            if row.where is not None:
                path, _, line = row.where.rpartition(":")
                where = {"filename": os.path.abspath(path), "row": int(line)}
            items.append({"item": row.item, "code": row.code, "status": row.status,
                          "value": row.value or None, "where": where,
                          "detail": row.detail or None, "settings_module": section.module,
                          "may_change": list(row.overrides)})
    return json.dumps(items, indent=2) + "\n"
