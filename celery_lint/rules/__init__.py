"""Phase 2 rules, one module per family; each rule's metadata is its row of `celery_lint.codes`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from celery_lint.rules.base import Rule


def visitor_rules() -> tuple[type[Rule], ...]:
    """The libcst rules, in the order they run."""
    # lazy: start-up time (the rules need libcst; a run whose results all come from the cache
    # needs none of it)
    from celery_lint.rules.calls import (
        BlockingCallInView,
        OrmObjectArgument,
        TaskSignatureMismatch,
        UnknownTaskName,
        UnserializableArgument,
        WaitOnIgnoredResult,
    )
    from celery_lint.rules.canvas import ChordWithoutResults
    from celery_lint.rules.definitions import (
        BindMismatch,
        MissingTimeLimit,
        OrmObjectParameter,
        ResultGetInTask,
        RetryNotRaised,
        SoftLimitNotBelowHard,
        UnknownTaskOption,
    )
    from celery_lint.rules.retries import (
        AppTaskInDjangoApp,
        SwallowedCeleryException,
        UnboundedRetry,
    )
    from celery_lint.rules.schedules import (
        CrontabEveryMinute,
        InvalidCrontab,
        PeriodicArgsNotJson,
        PeriodicTaskWithoutExpires,
    )
    from celery_lint.rules.timing import (
        CountdownExceedsVisibilityTimeout,
        VisibilityTimeoutBelowTimeLimit,
    )
    from celery_lint.rules.transactions import EnqueueInTransaction

    return (
        OrmObjectArgument,
        BlockingCallInView,
        EnqueueInTransaction,
        TaskSignatureMismatch,
        UnknownTaskName,
        CountdownExceedsVisibilityTimeout,
        UnserializableArgument,
        WaitOnIgnoredResult,
        MissingTimeLimit,
        SoftLimitNotBelowHard,
        RetryNotRaised,
        BindMismatch,
        SwallowedCeleryException,
        ResultGetInTask,
        UnboundedRetry,
        AppTaskInDjangoApp,
        OrmObjectParameter,
        UnknownTaskOption,
        InvalidCrontab,
        PeriodicTaskWithoutExpires,
        PeriodicArgsNotJson,
        CrontabEveryMinute,
        VisibilityTimeoutBelowTimeLimit,
        ChordWithoutResults,
    )


__all__ = ["visitor_rules"]
