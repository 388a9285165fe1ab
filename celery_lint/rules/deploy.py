"""Deployment rules (CEL401–CEL405): how the project runs its workers, beat and monitors.

They read the deployments of the ProjectIndex (see `facts.deploy`): each deployment file is one
way of running the project, so beats are counted per deployment, never across alternatives. Files
named as development, local or test are not production and raise nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from celery_lint.codes import RuleInfo, rule_for
from celery_lint.diagnostics import Diagnostic, Location
from celery_lint.facts.deploy import Deployment, Process
from celery_lint.facts.settings import CeleryConfig, describe
from celery_lint.facts.types import FromEnv, Unknown
from celery_lint.index import ProjectIndex

EMBEDDED_BEAT = rule_for("CEL401")
REPLICATED_BEAT = rule_for("CEL402")
UNCONSUMED_QUEUE = rule_for("CEL403")
NO_RESTART = rule_for("CEL404")
NO_MONITORING = rule_for("CEL405")

DEFAULT_QUEUE = "celery"


def _at(info: RuleInfo, process: Process, message: str) -> Diagnostic:
    text = process.invocation.text
    end = process.column + (len(text) if "\n" not in text else 1)
    return Diagnostic(info.code, message, process.path, Location(process.line, process.column),
                      Location(process.line, end), noqa_row=process.line,
                      severity=info.severity)


def _where(process: Process) -> str:
    try:
        shown = os.path.relpath(process.path)
    except ValueError:
        shown = process.path
    return f"{shown}:{process.line}"


def production(index: ProjectIndex) -> list[Deployment]:
    return [d for d in index.deployments if d.production]


def embedded_beat(index: ProjectIndex) -> list[Diagnostic]:
    found = []
    for deployment in production(index):
        for process in deployment.processes:
            if process.kind == "worker" and process.invocation.embedded_beat:
                found.append(_at(EMBEDDED_BEAT, process, (
                    f"`{process.definition.name}` runs beat inside a worker (`-B`): scale the "
                    "worker or add a second one and every periodic task is sent twice, and a busy "
                    "worker delays the schedule; run `celery beat` as its own single process")))
    return found


def replicated_beat(index: ProjectIndex) -> list[Diagnostic]:
    found = []
    for deployment in production(index):
        if deployment.image_default:
            continue  # a Dockerfile's CMD is the image's default, not a deployment of it
        beats = [p for p in deployment.processes if p.runs_beat]
        for process in beats:
            why = process.scaled
            if why is not None:
                what = "a worker with embedded beat (-B)" if process.kind == "worker" else "beat"
                found.append(_at(REPLICATED_BEAT, process, (
                    f"`{process.definition.name}` runs {what} with {why}: each copy sends every "
                    "periodic task, so they all run more than once; run exactly one beat")))
        first = beats[0] if beats else None
        for process in beats[1:]:
            if process.scaled is None:
                found.append(_at(REPLICATED_BEAT, process, (
                    f"`{process.definition.name}` runs beat, and so does "
                    f"`{first.definition.name}` ({_where(first)}) in the same deployment: "  # type: ignore[union-attr]
                    "two schedulers send every periodic task twice; keep one")))
    return found


def worker_without_restart(index: ProjectIndex) -> list[Diagnostic]:
    found = []
    for deployment in production(index):
        for process in deployment.processes:
            if process.kind == "worker" and process.restarts is False:
                found.append(_at(NO_RESTART, process, (
                    f"Worker `{process.definition.name}` has {process.restart_text}: when it "
                    "crashes or is killed by the OOM killer, nothing starts it again and its "
                    "queues stop being consumed")))
    return found


@dataclass(frozen=True)
class QueueRef:
    """A place that routes tasks to a queue."""

    queue: str
    path: str
    line: int
    column: int
    how: str


def routed_queues(index: ProjectIndex) -> list[QueueRef]:
    """Queues tasks are sent to: `queue=` of task decorators and calls, `task_routes`,
    `task_default_queue`."""
    found = [QueueRef(queue, facts.path, line, column, how)
             for facts in index.files.values() for queue, line, column, how in facts.queues]
    config = index.celery_config
    if config is None:
        return found
    routes = config.get("task_routes")
    if routes is not None:
        tables = routes.value if isinstance(routes.value, tuple) else (routes.value,)
        for table in tables:
            if not isinstance(table, dict):
                continue
            for route in table.values():
                queue = route if isinstance(route, str) else route.get("queue") \
                    if isinstance(route, dict) else None
                if isinstance(queue, str):
                    found.append(QueueRef(queue, routes.path, routes.line, routes.column,
                                          f"`{routes.key}`"))
    default = config.get("task_default_queue")
    if default is not None and isinstance(default.value, str):
        found.append(QueueRef(default.value, default.path, default.line, default.column,
                              f"`{default.key}`"))
    return list(dict.fromkeys(found))


def consumed_queues(deployment: Deployment, config: CeleryConfig | None) -> set[str] | None:
    """The queues the deployment's workers consume, or None when that cannot be known."""
    workers = [p for p in deployment.processes if p.kind == "worker"]
    if not workers:
        return None
    consumed: set[str] = set()
    for worker in workers:
        invocation = worker.invocation
        if invocation.dynamic and invocation.queues is None or any(
                "$" in q or "{" in q for q in invocation.queues or ()):
            return None
        if invocation.queues is not None:
            consumed |= set(invocation.queues)
            continue
        default = _default_queues(config)
        if default is None:
            return None
        consumed |= default - set(invocation.exclude_queues)
    return consumed


def _default_queues(config: CeleryConfig | None) -> set[str] | None:
    """What a worker without -Q consumes: `task_queues` when set, else the default queue."""
    if config is None:
        return None
    queues = config.get("task_queues")
    if queues is not None and queues.value not in (None, (), {}):
        return None  # Queue(...) objects: their names are not evaluated
    default = config.get("task_default_queue")
    if default is None:
        return {DEFAULT_QUEUE}
    return {default.value} if isinstance(default.value, str) else None


def unconsumed_queue(index: ProjectIndex) -> list[Diagnostic]:
    config = index.celery_config
    deployments = [d for d in production(index) if not d.image_default]
    known = [(d, consumed_queues(d, config)) for d in deployments]
    known = [(d, q) for d, q in known if q is not None]
    if not known:
        return []  # no worker definition found, or what they consume is not known
    found = []
    for ref in routed_queues(index):
        missing = [d.name for d, queues in known if ref.queue not in queues]
        if not missing:
            continue
        where = ", ".join(missing)
        found.append(Diagnostic(
            UNCONSUMED_QUEUE.code,
            f"Queue `{ref.queue}` ({ref.how}) is consumed by no worker in {where}: tasks sent "
            "there wait forever; add it to a worker's `-Q`",
            ref.path, Location(ref.line, ref.column),
            Location(ref.line, ref.column + len(ref.queue) + 2), noqa_row=ref.line,
            severity=UNCONSUMED_QUEUE.severity))
    return found


def monitoring(index: ProjectIndex) -> tuple[str | None, Process | None]:
    """How the project is watched: a monitor process, an events-enabled worker or the setting."""
    for deployment in production(index):
        for process in deployment.processes:
            if process.kind == "monitor":
                return f"{process.invocation.command or 'monitor'} `{process.definition.name}`", \
                    process
            if process.kind == "worker" and process.invocation.events:
                return f"worker `{process.definition.name}` with task events (-E)", process
    config = index.celery_config
    events = config.get("worker_send_task_events") if config is not None else None
    if events is not None and events.value and not isinstance(events.value, (Unknown, FromEnv)):
        return f"`{events.key}` = {describe(events.value)}", None
    return None, None


def no_monitoring(index: ProjectIndex) -> list[Diagnostic]:
    if not any(d.processes for d in production(index)):
        return []  # no process definitions: nothing to say
    found, _ = monitoring(index)
    configs = index.settings.configs
    if found is not None or not configs or configs[0].path is None:
        return []
    return [Diagnostic(
        NO_MONITORING.code,
        "No Flower, exporter or events-enabled worker (`-E`) in any process definition: queue "
        "depths, stuck and failing tasks are invisible until users complain",
        configs[0].path, Location(1, 1), Location(1, 1), noqa_row=1,
        severity=NO_MONITORING.severity)]


CHECKS = (embedded_beat, replicated_beat, unconsumed_queue, worker_without_restart, no_monitoring)
CODES = {EMBEDDED_BEAT.code, REPLICATED_BEAT.code, UNCONSUMED_QUEUE.code, NO_RESTART.code,
         NO_MONITORING.code}


def deploy_diagnostics(index: ProjectIndex, codes: frozenset[str]) -> list[Diagnostic]:
    if not codes & CODES or not index.deployments and "CEL403" not in codes:
        return []
    found: list[Diagnostic] = []
    for check in CHECKS:
        found += [d for d in check(index) if d.code in codes]
    return found
