"""Whether a task's results are stored, which CEL108 (waiting on a result) and CEL601 (a chord's
header) ask: a task's `ignore_result`, the global `task_ignore_result`, and the result backend."""

from __future__ import annotations

from celery_lint.analysis.task_options import task_class
from celery_lint.facts.settings import CeleryConfig
from celery_lint.facts.types import TaskDefinition
from celery_lint.index import ProjectIndex

_NO_BACKEND = ("", "disabled")


def has_no_result_backend(config: CeleryConfig | None) -> bool:
    """Whether the production configuration surely sets no result backend (None when unknown is
    False: the rule stays silent)."""
    if config is None:
        return False
    setting = config.get("result_backend")
    if setting is None:
        return True
    value = setting.value
    return value is None or (isinstance(value, str) and value.strip().lower() in _NO_BACKEND)


def ignores_result(index: ProjectIndex, task: TaskDefinition) -> str | None:
    """Why `task` does not store its results (`ignore_result=True`, or the global
    `task_ignore_result` that it does not override); None when it stores them, or when that
    depends on something celery-lint cannot read (a task class that may set `ignore_result`)."""
    option = task.options.get("ignore_result")
    if "ignore_result" in task.options:
        return "`ignore_result=True`" if option is True else None
    config = index.celery_config
    setting = config.get("task_ignore_result") if config is not None else None
    if setting is None or setting.value is not True:
        return None
    cls = task_class(index, task)
    if cls is None or "ignore_result" in cls.names:
        return None  # its class may store them
    return f"the global `{setting.key or 'task_ignore_result'}`, which it does not override"
