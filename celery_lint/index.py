"""The ProjectIndex: every file's facts merged, with the cross-file questions rules ask of it."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property

from celery_lint.config import Config
from celery_lint.facts.celery_names import ProjectCelery, project_celery
from celery_lint.facts.deploy import Deployment, build_deployments, production_environment
from celery_lint.facts.requirements import Version
from celery_lint.facts.settings import (
    CeleryConfig,
    ConfiguredValue,
    SettingsModel,
    build_settings,
)
from celery_lint.facts.types import (
    CeleryApp,
    ClassFact,
    DeployFacts,
    FileFacts,
    FunctionFact,
    TaskDefinition,
    Unknown,
)

MODEL_BASES = frozenset({
    "django.db.models.Model",
    "django.db.models.base.Model",
    "django.contrib.auth.models.AbstractUser",
    "django.contrib.auth.models.AbstractBaseUser",
    "django.contrib.auth.base_user.AbstractBaseUser",
    "django.contrib.auth.models.User",
    "django.contrib.auth.models.Group",
    "django.contrib.auth.models.Permission",
    "django.contrib.contenttypes.models.ContentType",
    "django.contrib.sites.models.Site",
    "django.contrib.sessions.models.Session",
})
USER_MODEL = "django.contrib.auth.models.User"
VIEW_SUFFIXES = ("View", "ViewSet", "APIView")
_MAX_ALIAS_STEPS = 8


@dataclass
class ProjectIndex:
    files: dict[str, FileFacts]  # by module name
    config: Config = field(default_factory=Config)
    deploy_files: list[DeployFacts] = field(default_factory=list)

    @cached_property
    def deployments(self) -> list[Deployment]:
        """The project's deployments (a Procfile, a compose file, ...), with their processes."""
        return build_deployments(self.deploy_files, str(self.config.root),
                                 self.config.dev_deployments)

    # -- modules and names -----------------------------------------------------------------
    @cached_property
    def top_packages(self) -> frozenset[str]:
        return frozenset(m.split(".")[0] for m, f in self.files.items() if "." in m or f.is_package)

    def is_module(self, name: str) -> bool:
        return name in self.files

    def resolve(self, qualname: str) -> str:
        """Follow re-exports: `proj.celery_app` → `proj.celery.app` when proj imports it."""
        for _ in range(_MAX_ALIAS_STEPS):
            module, _, attr = qualname.rpartition(".")
            facts = self.files.get(module)
            if facts is None or attr not in facts.imports:
                # maybe a submodule attribute: a.b.c.d with a.b a module
                head = module.rpartition(".")[0]
                outer = self.files.get(head)
                if outer is not None and attr and module.rsplit(".", 1)[-1] in outer.imports:
                    target = outer.imports[module.rsplit(".", 1)[-1]]
                    if target != module:
                        qualname = f"{target}.{attr}"
                        continue
                return qualname
            target = facts.imports[attr]
            if target == qualname:
                return qualname
            qualname = target
        return qualname

    # -- tasks -----------------------------------------------------------------------------
    @cached_property
    def apps(self) -> tuple[CeleryApp, ...]:
        return tuple(app for facts in self.files.values() for app in facts.apps)

    @cached_property
    def tasks(self) -> dict[str, TaskDefinition]:
        """Task definitions by the qualified name of their function."""
        app_names = {app.qualname for app in self.apps}
        found: dict[str, TaskDefinition] = {}
        for facts in self.files.values():
            for task in facts.tasks:
                found[task.qualname] = task
            for task in facts.candidate_tasks:
                if self.resolve(task.decorator) in app_names:
                    found[task.qualname] = task
        return found

    def rewrites_arguments(self, task: TaskDefinition) -> bool:
        """Whether the task's `base=` class defines `__call__`, and so may change its arguments."""
        return self.base_defines(task, "__call__")

    def base_of(self, task: TaskDefinition) -> str | None:
        """The task's `base=` class as a qualified name, read with its module's names."""
        base = task.options.get("base")
        if not isinstance(base, Unknown):
            return None
        facts = self.files.get(task.module)
        qualname = base.text
        if facts is not None:
            head, _, rest = qualname.partition(".")
            if head in facts.imports:
                qualname = facts.imports[head] + (f".{rest}" if rest else "")
            elif f"{task.module}.{head}" in self.classes:
                qualname = f"{task.module}.{qualname}"
        return self.resolve(qualname)

    def base_defines(self, task: TaskDefinition, *methods: str) -> bool:
        """Whether the task's `base=` class, or a project class it derives from, defines one of
        `methods` (a base overriding `apply_async` may send on commit, for instance)."""
        qualname = self.base_of(task)
        if qualname is None:
            return False
        return any(method in cls.methods for cls in self.ancestors(qualname) for method in methods)

    def ancestors(self, qualname: str) -> Iterator[ClassFact]:
        """The project's class `qualname` and the project classes it derives from."""
        pending, seen = [self.resolve(qualname)], set()
        while pending:
            current = pending.pop()
            if current in seen or current not in self.classes:
                continue
            seen.add(current)
            cls = self.classes[current]
            yield cls
            pending += [self.resolve(b) for b in cls.bases]

    def task(self, qualname: str | None) -> TaskDefinition | None:
        if qualname is None:
            return None
        return self.tasks.get(qualname) or self.tasks.get(self.resolve(qualname))

    @cached_property
    def task_names(self) -> frozenset[str]:
        return frozenset(t.registered_name for t in self.tasks.values()) | frozenset(
            self.config.extra_task_names)

    @cached_property
    def has_dynamic_task_names(self) -> bool:
        return any(isinstance(t.options.get("name"), Unknown) for t in self.tasks.values())

    # -- models and views ------------------------------------------------------------------
    @cached_property
    def classes(self) -> dict[str, ClassFact]:
        return {c.qualname: c for facts in self.files.values() for c in facts.classes}

    @cached_property
    def models(self) -> frozenset[str]:
        return frozenset(self._subclasses(_is_model_base))

    @cached_property
    def view_classes(self) -> frozenset[str]:
        return frozenset(self._subclasses(lambda b: b.rsplit(".", 1)[-1].endswith(VIEW_SUFFIXES)))

    def _subclasses(self, is_root) -> set[str]:  # type: ignore[no-untyped-def]
        found: set[str] = set()
        changed = True
        classes = self.classes
        while changed:
            changed = False
            for qualname, cls in classes.items():
                if qualname in found:
                    continue
                for base in cls.bases:
                    resolved = self.resolve(base)
                    if resolved in found or (resolved not in classes and is_root(resolved)):
                        found.add(qualname)
                        changed = True
                        break
        return found

    def is_model(self, qualname: str | None) -> bool:
        if qualname is None:
            return False
        resolved = self.resolve(qualname)
        return resolved in self.models or (resolved not in self.classes and _is_model_base(resolved))

    def managers_of(self, model: str) -> frozenset[str]:
        names = {"objects", "_default_manager", "_base_manager"}
        for cls in self.ancestors(model):
            names.update(cls.managers)
        return frozenset(names)

    @cached_property
    def functions(self) -> dict[str, FunctionFact]:
        """Every function and method of the project by qualified name (`module.Class.method`)."""
        return {f.qualname: f for facts in self.files.values() for f in facts.functions}

    @cached_property
    def delete_receivers(self) -> dict[str, str]:
        """The functions connected to `pre_delete` or `post_delete`, by qualified name, with the
        signal ("post_delete" when both)."""
        found: dict[str, str] = {}
        for facts in self.files.values():
            for qualname, signal in facts.delete_receivers:
                name = self.resolve(qualname)
                found[name] = "post_delete" if found.get(name) == "post_delete" else signal
        return found

    @cached_property
    def function_views(self) -> frozenset[str]:
        routed = {self.resolve(r) for facts in self.files.values() for r in facts.routed}
        views = set()
        for facts in self.files.values():
            in_views_module = _is_views_module(facts.module, self.config.view_modules)
            for function in facts.functions:
                if function.first_param != "request":
                    continue
                decorated = any(d.endswith("api_view") for d in function.decorators)
                if in_views_module or decorated or function.qualname in routed:
                    views.add(function.qualname)
        return frozenset(views)

    # -- configuration ---------------------------------------------------------------------
    @cached_property
    def celery(self) -> ProjectCelery:
        """The Celery the project runs: from its dependency files, else the installed one."""
        return project_celery(self.config.root)

    @property
    def celery_version(self) -> Version | None:
        """The lowest Celery release the project's dependency files allow (`5.6.3`, `5.4`),
        None when they state none or no lower bound."""
        return self.celery.lowest

    @cached_property
    def settings(self) -> SettingsModel:
        """How the project configures Celery, with one evaluated config per production module."""
        copies = tuple((source, destination, d.path) for d in self.deploy_files
                       for source, destination in d.copies)
        environment = production_environment(self.deploy_files, self.config.dev_deployments)
        return build_settings(self.files, self.apps, self.config.settings_module,
                              self.config.dev_settings, copies, str(self.config.root),
                              environment, self.celery)

    @cached_property
    def celery_config(self) -> CeleryConfig | None:
        """The settings the project's Celery app reads in production, or None when unknown.

        With several production modules, a setting they disagree on is Unknown, so a rule reading
        this view never fails on a value one deployment does not have.
        """
        configs = self.settings.configs
        if not configs or any(not c.complete for c in configs):
            return None
        if len(configs) == 1:
            return configs[0]
        merged: dict[str, ConfiguredValue] = {}
        for name in {n for c in configs for n in c.values}:
            seen = [c.values.get(name) for c in configs]
            first = next(v for v in seen if v is not None)
            if any(v is None or v.value != first.value for v in seen):
                first = replace(first, value=Unknown(
                    "a value that differs between production modules"))
            merged[name] = first
        unread = tuple(dict.fromkeys(item for c in configs for item in c.unread))
        return CeleryConfig(merged, namespace=configs[0].namespace, unread=unread,
                            celery=configs[0].celery)


def _is_model_base(qualname: str) -> bool:
    if qualname in MODEL_BASES:
        return True
    module, _, name = qualname.rpartition(".")
    return module.endswith("models") and name.endswith("Model") and "." in module


def _is_views_module(module: str, patterns: tuple[str, ...]) -> bool:
    parts = module.split(".")
    if "views" in parts or parts[-1].endswith("views"):
        return True
    return any(fnmatch.fnmatch(module, p) for p in patterns)


def build_index(facts: list[FileFacts], config: Config,
                deploy_files: list[DeployFacts] | None = None) -> ProjectIndex:
    files: dict[str, FileFacts] = {}
    for item in facts:
        # two files with one module name (scripts in different folders): keep the first
        files.setdefault(item.module, item)
    return ProjectIndex(files, config, deploy_files or [])
