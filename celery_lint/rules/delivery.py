"""Rules about how the broker delivers tasks: a Redis/SQS visibility timeout shorter than a
late-acknowledged task may run (CEL315), and queues tasks are routed to that the broker is never
told about (CEL316).

The project-wide part runs once per project on the production configuration; the part that
depends on a task's own options is the libcst rule `rules.timing.VisibilityTimeoutBelowTimeLimit`,
which shares `redelivered_limit` with it.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from dataclasses import dataclass

from celery_lint.analysis.broker import VisibilityTimeout, duration, is_number, visibility_timeout
from celery_lint.analysis.task_options import task_class
from celery_lint.codes import rule_for
from celery_lint.diagnostics import Diagnostic, Location
from celery_lint.facts.evaluate import dotted
from celery_lint.facts.settings import CeleryConfig, ConfiguredValue, preferred_key, uncertain
from celery_lint.facts.types import TaskDefinition, Unknown, Value
from celery_lint.index import ProjectIndex
from celery_lint.modules import is_test_module

UNDECLARED_QUEUE = rule_for("CEL316")
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


# -- CEL316 ------------------------------------------------------------------------------------
QUEUE_CLASSES = ("Queue", "Broadcast")  # kombu's, under any module path


def declared_queues(config: CeleryConfig) -> frozenset[str] | None:
    """The queue names (and aliases) the app declares: `task_queues`, or the default queue alone
    when it is empty (`celery.app.amqp.AMQP.Queues`); None when they cannot be read."""
    found = config.get("task_queues")
    value: Value = found.value if found is not None else None
    if value in (None, (), {}):
        default = config.get("task_default_queue")
        name = default.value if default is not None else "celery"
        return frozenset({name}) if isinstance(name, str) and name else None
    if isinstance(value, dict):
        return frozenset(value) if all(isinstance(k, str) for k in value) else None
    if isinstance(value, Unknown):
        return _queue_names(value.text)
    if isinstance(value, tuple):
        names: set[str] = set()
        for item in value:
            more = _queue_names(item.text) if isinstance(item, Unknown) else None
            if more is None:
                return None
            names |= more
        return frozenset(names)
    return None


def _queue_names(text: str) -> frozenset[str] | None:
    """The names in `Queue("a", ...)`, or a list or tuple of them, written as source."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    items = node.elts if isinstance(node, (ast.List, ast.Tuple)) else [node]
    names: set[str] = set()
    for item in items:
        if not (isinstance(item, ast.Call) and (dotted(item.func) or "").rsplit(".", 1)[-1]
                in QUEUE_CLASSES):
            return None
        given = [k.value for k in item.keywords if k.arg in ("name", "alias")]
        if item.args:
            given.append(item.args[0])
        if not given or any(not (isinstance(v, ast.Constant) and isinstance(v.value, str))
                            for v in given):
            return None
        names |= {v.value for v in given}  # type: ignore[attr-defined]
    return frozenset(names)


@dataclass(frozen=True)
class Routes:
    """`task_routes` read as Celery's MapRoute reads it: exact names, globs and regexes, each
    with the queue it sends to (None for a route that names no queue by its name)."""

    exact: dict[str, str | None]
    patterns: tuple[tuple[re.Pattern[str], str | None], ...]

    def queue_of(self, task_name: str) -> tuple[bool, str | None]:
        """(routed, queue): whether a route matches `task_name`, and its queue."""
        if task_name in self.exact:
            return True, self.exact[task_name]
        for pattern, queue in self.patterns:
            if pattern.match(task_name):
                return True, queue
        return False, None


def read_routes(value: Value) -> Routes | None:
    """`task_routes` as a dict or a list of `(key, route)` pairs, or a list of those (also from
    their source when a key is `re.compile(...)`); None for a router Celery calls (a function, a
    class, a string path)."""
    if value is None or value in ((), {}):
        return Routes({}, ())
    if isinstance(value, Unknown):
        try:
            node = ast.parse(value.text.strip(), mode="eval").body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        tables = node.elts if isinstance(node, (ast.List, ast.Tuple)) else [node]
        return _routes_from_source(tables)
    tables_ = value if isinstance(value, tuple) else (value,)
    exact: dict[str, str | None] = {}
    patterns: list[tuple[re.Pattern[str], str | None]] = []
    for table in tables_:
        if isinstance(table, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in table):
            pairs = list(table)  # a list of (key, route) pairs
        elif isinstance(table, dict):
            pairs = list(table.items())
        else:
            return None
        for key, route in pairs:
            if not isinstance(key, str):
                return None
            queue = route if isinstance(route, str) else route.get("queue") \
                if isinstance(route, dict) else None
            queue = queue if isinstance(queue, str) else None
            if "*" in key:
                patterns.append((re.compile(fnmatch.translate(key)), queue))
            else:
                exact[key] = queue
    return Routes(exact, tuple(patterns))


def _routes_from_source(tables: list[ast.expr]) -> Routes | None:
    exact: dict[str, str | None] = {}
    patterns: list[tuple[re.Pattern[str], str | None]] = []
    for table in tables:
        if isinstance(table, ast.Dict):
            pairs = list(zip(table.keys, table.values))
        elif isinstance(table, (ast.List, ast.Tuple)) and all(
                isinstance(p, ast.Tuple) and len(p.elts) == 2 for p in table.elts):
            pairs = [(p.elts[0], p.elts[1]) for p in table.elts]  # type: ignore[attr-defined]
        else:
            return None
        for key, route in pairs:
            queue = _route_queue(route)
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                if "*" in key.value:
                    patterns.append((re.compile(fnmatch.translate(key.value)), queue))
                else:
                    exact[key.value] = queue
                continue
            pattern = compiled_pattern(key)
            if pattern is None:
                return None
            patterns.append((pattern, queue))
    return Routes(exact, tuple(patterns))


def compiled_pattern(node: ast.expr | None) -> re.Pattern[str] | None:
    """The regex of `re.compile("...")` written with a literal pattern."""
    if isinstance(node, ast.Call) and dotted(node.func) in ("re.compile", "compile") \
            and len(node.args) == 1 and not node.keywords \
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        try:
            return re.compile(node.args[0].value)
        except re.error:
            return None
    return None


def _route_queue(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values):
            if isinstance(key, ast.Constant) and key.value == "queue" and \
                    isinstance(value, ast.Constant) and isinstance(value.value, str):
                return value.value
    return None


def undeclared_queues(index: ProjectIndex) -> list[Diagnostic]:
    config = index.celery_config
    if config is None:
        return []
    create = config.get("task_create_missing_queues")
    if create is None or create.value is not False:
        return []
    changed = {name for facts in index.files.values() for name in facts.conf_reads}
    if changed & {"task_queues", "task_routes"}:
        return []  # changed in place at run time
    declared = declared_queues(config)
    if declared is None:
        return []
    queues_key = _key(config, "task_queues")
    queues = config.get("task_queues")
    unset = "" if queues is not None and queues.value not in (None, (), {}) else \
        f" (which declares none, so only the default queue `{next(iter(declared))}` exists)"
    why = (f"is not declared in `{queues_key}`{unset}, and `{create.key}` is False: sending a "
           "task there raises QueueNotFound")
    found = []
    for facts in index.files.values():
        if is_test_module(facts.module):
            continue
        for queue, line, column, how in facts.queues:
            if queue not in declared:
                found.append(_at(facts.path, line, column, len(queue) + 2,
                                 f"Queue `{queue}` ({how}) {why}; declare it in "
                                 f"`{queues_key}`"))
    routes_setting = config.get("task_routes")
    routes = read_routes(routes_setting.value if routes_setting is not None else None)
    if routes_setting is not None and routes is not None:
        queues = [q for q in routes.exact.values()] + [q for _, q in routes.patterns]
        for queue in dict.fromkeys(q for q in queues if q is not None and q not in declared):
            found.append(_at(routes_setting.path, routes_setting.line, routes_setting.column,
                             len(routes_setting.key),
                             f"Queue `{queue}`, which `{routes_setting.key}` routes tasks to, "
                             f"{why}; declare it in `{queues_key}`"))
    found += _default_queue(index, config, declared, routes, why)
    return found


def _default_queue(index: ProjectIndex, config: CeleryConfig, declared: frozenset[str],
                   routes: Routes | None, why: str) -> list[Diagnostic]:
    """The default queue, when `task_queues` leaves it out and some task has no route to take
    it elsewhere."""
    default = config.get("task_default_queue")
    name = default.value if default is not None else "celery"
    if not isinstance(name, str) or name in declared or routes is None:
        return []
    unrouted = sorted(task.registered_name for task in index.tasks.values()
                      if "queue" not in task.options and not
                      routes.queue_of(task.registered_name)[0])
    where = default or config.get("task_queues")
    if not unrouted or where is None:
        return []
    what = f"the default queue `{name}`" + ("" if default else " (Celery's default)")
    return [_at(where.path, where.line, where.column, len(where.key), (
        f"Tasks without a route, such as `{unrouted[0]}`, go to {what}, which {why}; declare "
        f"it in `{_key(config, 'task_queues')}`, or route every task"))]


def _key(config: CeleryConfig, setting: str) -> str:
    found = config.get(setting)
    return found.key if found is not None else preferred_key(setting, config.namespace)


def _at(path: str, line: int, column: int, width: int, message: str) -> Diagnostic:
    return Diagnostic(UNDECLARED_QUEUE.code, message, path, Location(line, column),
                      Location(line, column + width), noqa_row=line,
                      severity=UNDECLARED_QUEUE.severity)


def delivery_diagnostics(index: ProjectIndex, codes: frozenset[str]) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    if VISIBILITY_BELOW_LIMIT.code in codes:
        found += global_redelivery(index)
    if UNDECLARED_QUEUE.code in codes:
        found += undeclared_queues(index)
    return found
