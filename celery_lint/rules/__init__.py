"""Phase 2 rules, one module per family; importing this package registers every rule."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from celery_lint.rules.base import Rule


def load_all() -> None:
    """Import every rule module (which registers its rules). Not done on import of this package:
    the rules need libcst, and a run whose results all come from the cache needs none of it."""
    visitor_rules()


def visitor_rules() -> tuple[type[Rule], ...]:
    """The libcst rules, in the order they run."""
    from celery_lint.rules import deploy, engine, idempotency, settings  # noqa: F401
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

    return (
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


__all__ = ["load_all", "visitor_rules"]
