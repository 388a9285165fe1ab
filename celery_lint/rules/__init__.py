"""Phase 2 rules, one module per family; importing this package registers every rule."""

from __future__ import annotations

from celery_lint.rules import deploy, engine, settings
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
from celery_lint.rules.schedules import (
    InvalidCrontab,
    PeriodicArgsNotJson,
    PeriodicTaskWithoutExpires,
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
    InvalidCrontab,
    PeriodicTaskWithoutExpires,
    PeriodicArgsNotJson,
)

__all__ = ["VISITOR_RULES", "Rule", "deploy", "engine", "settings"]
