"""Rules about how the broker delivers tasks: a Redis/SQS visibility timeout shorter than a
late-acknowledged task may run (CEL315).

The project-wide part runs once per project on the production configuration; the part that
depends on a task's own options is the libcst rule `rules.timing.VisibilityTimeoutBelowTimeLimit`,
which shares `redelivered_limit` with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from celery_lint.analysis.broker import VisibilityTimeout, duration, is_number, visibility_timeout
from celery_lint.analysis.task_options import task_class
from celery_lint.codes import rule_for
from celery_lint.diagnostics import Diagnostic, Location
from celery_lint.facts.settings import CeleryConfig, ConfiguredValue, uncertain
from celery_lint.facts.types import TaskDefinition, Value
from celery_lint.index import ProjectIndex

VISIBILITY_BELOW_LIMIT = rule_for("CEL315")


class _Unsure:
    """A value celery-lint cannot read (from the environment, a task class it cannot see)."""


UNSURE = _Unsure()


@dataclass(frozen=True)
class Source:
    """Where a task's effective option comes from: its decorator, or a global setting."""

    option: str  # the task option: `time_limit`
    value: Value | _Unsure
    setting: ConfiguredValue | None = None  # the global setting, when it decides

    @property
    def on_task(self) -> bool:
        return self.setting is None


def effective(index: ProjectIndex, config: CeleryConfig, task: TaskDefinition, option: str,
              setting: str) -> Source:
    """The value `task` runs with for `option`: its decorator's, else the global `setting`'s
    (Celery's `Task.from_config`: an option left at None takes the setting)."""
    given = task.options.get(option)
    if given is not None:
        return Source(option, UNSURE if uncertain(given) else given)
    cls = task_class(index, task)
    if cls is None or option in cls.names:
        return Source(option, UNSURE)  # its class may set it
    found = config.get(setting)
    if found is None:
        return Source(option, None)
    return Source(option, UNSURE if uncertain(found.value) else found.value, found)


@dataclass(frozen=True)
class Redelivery:
    """A late-acked task that may run longer than the broker waits for its acknowledgement."""

    limit: float
    limit_source: Source
    acks_source: Source
    timeout: VisibilityTimeout


def redelivered_limit(index: ProjectIndex, task: TaskDefinition) -> Redelivery | None:
    """Why `task` may be delivered again while it runs, or None."""
    config = index.celery_config
    timeout = visibility_timeout(config, env_default=True)
    if config is None or timeout is None:
        return None
    acks = effective(index, config, task, "acks_late", "task_acks_late")
    if acks.value is not True:
        return None
    limit = _bound(index, config, task)
    if limit is None:
        return None
    seconds = float(limit.value)  # type: ignore[arg-type]
    if seconds <= timeout.seconds:
        return None
    return Redelivery(seconds, limit, acks, timeout)


def _bound(index: ProjectIndex, config: CeleryConfig, task: TaskDefinition) -> Source | None:
    """How long the task may run: its hard limit, else its soft one (which it may catch)."""
    for option in ("time_limit", "soft_time_limit"):
        source = effective(index, config, task, option, f"task_{option}")
        if isinstance(source.value, _Unsure):
            return None
        if is_number(source.value) and source.value > 0:  # type: ignore[operator]
            return source
    return None


def redelivery_message(what: str, limit: float, timeout: VisibilityTimeout) -> str:
    assumed = f", assuming {timeout.assumed}" if timeout.assumed else ""
    return (f"{what} may run {duration(limit)}, longer than the {timeout.broker} visibility "
            f"timeout of {duration(timeout.seconds)} ({timeout.source}{assumed}): the broker "
            "delivers the unacknowledged message to another worker while it still runs, so it "
            "runs twice; raise `visibility_timeout` in `broker_transport_options` above the "
            "limit, or lower the limit")


def global_redelivery(index: ProjectIndex) -> list[Diagnostic]:
    """CEL315 at the global time limit, when every task acknowledged late by the global setting
    may outlive the visibility timeout with it."""
    config = index.celery_config
    timeout = visibility_timeout(config, env_default=True)
    if config is None or timeout is None:
        return []
    acks = config.get("task_acks_late")
    if acks is None or acks.value is not True:
        return []
    for setting in ("task_time_limit", "task_soft_time_limit"):
        found = config.get(setting)
        if found is None or (not uncertain(found.value) and not found.value):
            continue  # unset or 0: the soft limit is the bound
        if uncertain(found.value) or not is_number(found.value) or \
                found.value <= timeout.seconds:  # type: ignore[operator]
            return []
        what = (f"With `{acks.key}` on, a task that keeps the global `{found.key}`")
        message = redelivery_message(what, float(found.value), timeout)  # type: ignore[arg-type]
        return [Diagnostic(
            VISIBILITY_BELOW_LIMIT.code, message, found.path, Location(found.line, found.column),
            Location(found.line, found.column + len(found.key)), noqa_row=found.line,
            severity=VISIBILITY_BELOW_LIMIT.severity)]
    return []


def delivery_diagnostics(index: ProjectIndex, codes: frozenset[str]) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    if VISIBILITY_BELOW_LIMIT.code in codes:
        found += global_redelivery(index)
    return found
