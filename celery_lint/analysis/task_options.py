"""What a task decorator takes: Celery's own task options, by version, and the attributes a task's
base class (its `base=`, or its app's task class) adds to them.

`@shared_task(...)` and `@app.task(...)` store any keyword as an attribute of the task class
(`_task_from_fun` passes `**options` to `type(...)`), so a keyword that neither Celery nor the base
class reads is silently ignored. What Celery reads is taken from the installed Celery's source: the
attributes and methods of `celery.app.task.Task`, the options `extract_exec_options` copies into
each message, the parameters of `task()` and `_task_from_fun()`, and the options
`add_autoretry_behaviour` reads.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from celery_lint.facts.requirements import Version
from celery_lint.facts.types import CeleryApp, TaskDefinition
from celery_lint.index import ProjectIndex

# Options newer than Celery 5.0, and the release that added them; options a release dropped, and
# that release. Read from the source of each release (celery 5.0.6, 5.1.0, 5.2.0, 5.3.0, 5.4.0,
# 5.5.0, 5.6.0, 5.7.0) the same way `_read_options` reads the installed one.
ADDED = {
    "before_start": (5, 2),
    "dont_autoretry_for": (5, 3),
    "on_replace": (5, 3),
    "pydantic": (5, 5),
    "pydantic_context": (5, 5),
    "pydantic_dump_kwargs": (5, 5),
    "pydantic_strict": (5, 5),
    "acks_on_failure": (5, 7),
    "acks_on_timeout": (5, 7),
    "retry_on_worker_lost": (5, 7),
}
DROPPED = {"autoregister": (5, 1)}

# Celery's own task classes, under the names projects import them by
CELERY_TASK_CLASSES = frozenset({
    "celery.Task", "celery.app.task.Task", "celery.app.Task", "celery.task.Task",
    "celery.contrib.django.task.DjangoTask",
})
# Task base classes of common extensions, and the options they read from their tasks
EXTENSION_OPTIONS = {
    "celery_once.QueueOnce": frozenset({"once"}),
    "celery_once.tasks.QueueOnce": frozenset({"once"}),
    "celery_singleton.Singleton": frozenset({
        "unique_on", "raise_on_duplicate", "lock_expiry", "challenge_lock_on_startup"}),
    "celery_singleton.singleton.Singleton": frozenset({
        "unique_on", "raise_on_duplicate", "lock_expiry", "challenge_lock_on_startup"}),
}
# options that take exception classes: a name written for them with a scalar is not a rename
EXCEPTION_OPTIONS = frozenset({"autoretry_for", "dont_autoretry_for", "throws"})


@dataclass(frozen=True)
class CeleryTaskOptions:
    """The names a task decorator may set in the installed Celery."""

    members: frozenset[str]  # every attribute, method, message option and decorator parameter
    values: frozenset[str]  # those that are values (not methods): what a misspelling meant
    settings: dict[str, str]  # `task_track_started` -> `track_started` (Task.from_config)


def _celery_source(module: str) -> ast.Module | None:
    try:
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            return None
        return ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    except (ImportError, OSError, SyntaxError, ValueError):
        return None


@cache
def installed_task_options() -> CeleryTaskOptions:
    members: set[str] = set()
    values: set[str] = set()
    settings: dict[str, str] = {}
    task = _celery_source("celery.app.task")
    for node in task.body if task is not None else ():
        if isinstance(node, ast.ClassDef) and node.name == "Task":
            for statement in node.body:
                if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    members.add(statement.name)
                elif isinstance(statement, (ast.Assign, ast.AnnAssign)):
                    targets = statement.targets if isinstance(statement, ast.Assign) \
                        else [statement.target]
                    names = {t.id for t in targets if isinstance(t, ast.Name)}
                    members |= names
                    if not isinstance(statement.value, (ast.Name, ast.Attribute, ast.Call)):
                        values |= names  # not `request = property(...)`, `subtask = signature`
                    if "from_config" in names and statement.value is not None:
                        settings.update(_from_config(statement.value))
        elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "extract_exec_options" for t in node.targets) \
                and isinstance(node.value, ast.Call):
            values |= {a.value for a in node.value.args
                       if isinstance(a, ast.Constant) and isinstance(a.value, str)}
    base = _celery_source("celery.app.base")
    for node in ast.walk(base) if base is not None else ():
        if isinstance(node, ast.FunctionDef) and node.name in ("_task_from_fun",
                                                               "inner_create_task_cls"):
            values |= {a.arg for a in node.args.args + node.args.kwonlyargs
                       if a.arg not in ("self", "fun")}
    autoretry = _celery_source("celery.app.autoretry")
    for node in ast.walk(autoretry) if autoretry is not None else ():
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "get" and node.args \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            values.add(node.args[0].value)
    values |= set(settings.values())  # Task.bind() sets these from the settings, reads them after
    values = {name for name in values if not name.startswith("__")}
    members = {name for name in members if not name.startswith("__")} | values
    public = {name for name in values if not name.startswith("_") and name.islower()
              and name not in ("from_config", "request_stack", "abstract")}
    return CeleryTaskOptions(frozenset(members), frozenset(public), settings)


def _from_config(node: ast.expr) -> dict[str, str]:
    """`(('serializer', 'task_serializer'), ...)` as {setting: option}."""
    found = {}
    if isinstance(node, (ast.Tuple, ast.List)):
        for pair in node.elts:
            if isinstance(pair, (ast.Tuple, ast.List)) and len(pair.elts) == 2 and all(
                    isinstance(e, ast.Constant) and isinstance(e.value, str) for e in pair.elts):
                option, setting = (e.value for e in pair.elts)  # type: ignore[union-attr]
                found[setting] = option
    return found


def celery_task_options(version: Version | None) -> frozenset[str]:
    """The names a task decorator may set in Celery `version` (the installed one when None)."""
    installed = installed_task_options().members
    if version is None:
        return installed
    return frozenset(name for name in installed if version >= ADDED.get(name, ())) | frozenset(
        name for name, dropped in DROPPED.items() if version < dropped)


def added_in(option: str) -> Version | None:
    """The Celery release that added `option`, when it is newer than Celery 5.0."""
    return ADDED.get(option)


def dropped_in(option: str) -> Version | None:
    return DROPPED.get(option)


# -- base classes -------------------------------------------------------------------------------
@dataclass(frozen=True)
class TaskClass:
    """The class a task is made from, and the names it adds to Celery's own."""

    name: str  # for messages: `ErrorBaseTask`, or "" for Celery's own Task
    names: frozenset[str]


def task_class(index: ProjectIndex, task: TaskDefinition) -> TaskClass | None:
    """The class `task` is built from (its `base=`, else its app's task class) with the names it
    declares beyond Celery's Task; None when that class, or one it derives from, cannot be read."""
    if "base" in task.options:
        qualname = index.base_of(task)
        if qualname is None:
            return None
        names = class_names(index, qualname)
        return TaskClass(f"`{qualname.rsplit('.', 1)[-1]}`", names) if names is not None else None
    if task.decorator == "shared_task":
        # a reusable app's shared tasks (a project without a Celery app of its own) cannot count
        # on its users' task class: they get Celery's
        apps = index.apps
    else:
        apps = tuple(app for app in index.apps if app.qualname == index.resolve(task.decorator))
        if not apps:
            return None  # the app of `@x.task` is not known
    found: set[str] = set()
    shown = ""
    for app in apps:
        default = app_task_class(index, app)
        if default is None:
            return None
        if default:
            names = class_names(index, default)
            if names is None:
                return None
            found |= names
            shown = f"`{default.rsplit('.', 1)[-1]}`"
    return TaskClass(shown if len(apps) == 1 else "", frozenset(found))


def app_task_class(index: ProjectIndex, app: CeleryApp) -> str | None:
    """The qualified name of the class `app` makes tasks from: "" for Celery's own, None when it
    cannot be read (an app whose maker is not in the project, a `task_cls` that is not a plain
    name)."""
    if app.task_cls is not None:
        return index.resolve(app.task_cls) or None
    if app.factory is not None:  # the app as the factory function builds it
        return app_task_class(index, app.factory)
    if app.maker is None:
        return ""
    if not app.maker:
        return None
    maker = index.resolve(app.maker)
    if maker not in index.classes:
        return "" if maker in ("celery.Celery", "celery.app.Celery", "celery.app.base.Celery") \
            else None
    roots = set()
    for cls in index.ancestors(maker):  # a subclass of Celery may set `task_cls`
        for name, value in cls.attributes:
            if name == "task_cls":
                return value.replace(":", ".") if isinstance(value, str) else None
        roots |= {index.resolve(b) for b in cls.bases} - set(index.classes)
    celery = {"celery.Celery", "celery.app.Celery", "celery.app.base.Celery"}
    return "" if roots and roots <= celery else None


def class_names(index: ProjectIndex, qualname: str) -> frozenset[str] | None:
    """The attributes and methods the task class `qualname` and the classes it derives from
    declare beyond Celery's Task; None when one of them is outside the project and unknown."""
    found: set[str] = set()
    pending, seen = [index.resolve(qualname)], set()
    apps = {f"{app.qualname}.Task": app for app in index.apps}
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        if current in index.classes:
            cls = index.classes[current]
            found |= set(cls.methods) | {name for name, _ in cls.attributes}
            pending += [index.resolve(base) for base in cls.bases]
        elif current in EXTENSION_OPTIONS:
            found |= EXTENSION_OPTIONS[current]
        elif current in apps:  # `class Base(app.Task)`: the app's own task class
            default = app_task_class(index, apps[current])
            if default is None:
                return None
            if default:
                pending.append(default)
        elif current not in CELERY_TASK_CLASSES:
            names = _celery_class_names(current)
            if names is None:
                return None
            found |= names
    return frozenset(found)


@cache
def _celery_class_names(qualname: str) -> frozenset[str] | None:
    """The names a task class that Celery itself ships declares (`AbortableTask`); None for a
    class outside Celery, or one that cannot be found."""
    module, _, name = qualname.rpartition(".")
    if not module.startswith("celery."):
        return None
    try:
        cls = getattr(importlib.import_module(module), name)
    except Exception:  # noqa: BLE001 - whatever importing fails with, the class is unknown
        return None
    return frozenset(n for n in dir(cls) if not n.startswith("__")) if isinstance(cls, type) \
        else None
