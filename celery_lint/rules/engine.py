"""Rules the runner itself reports: files it cannot parse and noqa comments that do nothing."""

from __future__ import annotations

from celery_lint.codes import rule_for

SYNTAX_ERROR = rule_for("CEL001")
UNUSED_NOQA = rule_for("CEL002")
