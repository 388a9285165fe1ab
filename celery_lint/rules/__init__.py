"""Phase 2 rules, one module per family; importing this package registers every rule."""

from __future__ import annotations

from celery_lint.rules import deploy, engine, idempotency, settings
from celery_lint.rules.base import Rule
from celery_lint.rules.calls import (
    BlockingCallInView,
    OrmObjectArgument,
    TaskSignatureMismatch,
    UnknownTaskName,
    UnserializableArgument,
)
from celery_lint.rules.canvas import ChordWithoutResults
from celery_lint.rules.definitions import (
    BindMismatch,
    MissingTimeLimit,
    OrmObjectParameter,
    ResultGetInTask,
    RetryNotRaised,
    SoftLimitNotBelowHard,
)
from celery_lint.rules.retries import (
    AppTaskInDjangoApp,
    SwallowedCeleryException,
    UnboundedRetry,
)
from celery_lint.rules.schedules import (
    InvalidCrontab,
    PeriodicArgsNotJson,
    PeriodicTaskWithoutExpires,
)
from celery_lint.rules.timing import CountdownExceedsVisibilityTimeout
from celery_lint.rules.transactions import EnqueueInTransaction

VISITOR_RULES: tuple[type[Rule], ...] = (
    OrmObjectArgument,
    BlockingCallInView,
    EnqueueInTransaction,
    TaskSignatureMismatch,
    UnknownTaskName,
    CountdownExceedsVisibilityTimeout,
    UnserializableArgument,
    MissingTimeLimit,
    SoftLimitNotBelowHard,
    RetryNotRaised,
    BindMismatch,
    SwallowedCeleryException,
    ResultGetInTask,
    UnboundedRetry,
    AppTaskInDjangoApp,
    OrmObjectParameter,
    InvalidCrontab,
    PeriodicTaskWithoutExpires,
    PeriodicArgsNotJson,
    ChordWithoutResults,
)

__all__ = ["VISITOR_RULES", "Rule", "deploy", "engine", "idempotency", "settings"]
