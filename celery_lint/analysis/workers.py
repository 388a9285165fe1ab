"""The production workers' command lines: what they set for every task they run (a time limit,
a pool), which counts as a global setting does."""

from __future__ import annotations

from celery_lint.facts.deploy import Process
from celery_lint.index import ProjectIndex


def production_workers(index: ProjectIndex) -> list[Process]:
    return [p for d in index.deployments if d.production for p in d.processes
            if p.kind == "worker"]


def is_cli_limit(text: str | None) -> bool:
    """A `--time-limit` or `--soft-time-limit` as written: a positive number, or a variable
    (taken as set)."""
    if text is None:
        return False
    try:
        return float(text) > 0
    except ValueError:
        return "$" in text


def limited_worker(index: ProjectIndex) -> Process | None:
    """A production worker started with `--time-limit` or `--soft-time-limit`: a global limit
    for the tasks it runs, so a project with one is not a project without limits."""
    return next((p for p in production_workers(index)
                 if is_cli_limit(p.invocation.time_limit)
                 or is_cli_limit(p.invocation.soft_time_limit)), None)
