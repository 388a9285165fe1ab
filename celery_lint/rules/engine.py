"""Rules the runner itself reports: files it cannot parse and noqa comments that do nothing."""

from __future__ import annotations

from celery_lint.diagnostics import Applicability, Severity
from celery_lint.registry import RuleInfo, register

SYNTAX_ERROR = register(RuleInfo(
    "CEL001", "syntax-error", Severity.ERROR, "a file that cannot be parsed"))
UNUSED_NOQA = register(RuleInfo(
    "CEL002", "unused-noqa", Severity.WARNING, "a `# noqa: CELxxx` that suppresses nothing",
    Applicability.SAFE))
