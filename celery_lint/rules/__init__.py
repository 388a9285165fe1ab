"""Phase 2 rules, one module per family; importing this package registers every rule."""

from __future__ import annotations

from celery_lint.rules import engine, settings
from celery_lint.rules.base import Rule
from celery_lint.rules.calls import (
    BlockingCallInView,
    OrmObjectArgument,
    TaskSignatureMismatch,
    UnknownTaskName,
    UnserializableArgument,
)
from celery_lint.rules.definitions import (
    BindMismatch,
    MissingTimeLimit,
    OrmObjectParameter,
    ResultGetInTask,
    RetryNotRaised,
    SoftLimitNotBelowHard,
)

VISITOR_RULES: tuple[type[Rule], ...] = (
    OrmObjectArgument,
    BlockingCallInView,
    TaskSignatureMismatch,
    UnknownTaskName,
    UnserializableArgument,
    MissingTimeLimit,
    SoftLimitNotBelowHard,
    RetryNotRaised,
    BindMismatch,
    ResultGetInTask,
    OrmObjectParameter,
)

__all__ = ["VISITOR_RULES", "Rule", "engine", "settings"]
