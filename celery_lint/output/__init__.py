"""Output formats: each turns a run's diagnostics into text for one kind of reader."""

from __future__ import annotations

from collections.abc import Callable

from celery_lint.diagnostics import Diagnostic
from celery_lint.output import concise, full, github, gitlab, json_format, junit, sarif

FORMATS: dict[str, Callable[[list[Diagnostic]], str]] = {
    "full": full.render,
    "concise": concise.render,
    "json": json_format.render,
    "github": github.render,
    "sarif": sarif.render,
    "gitlab": gitlab.render,
    "junit": junit.render,
}
