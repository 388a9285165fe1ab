"""The ProjectIndex: every file's facts merged, with the cross-file questions rules ask of it."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property

from celery_lint.config import Config
from celery_lint.facts.celery_names import ProjectCelery, project_celery
from celery_lint.facts.deploy import Deployment, build_deployments, production_environment
from celery_lint.facts.python import CELERY_CLASS, SHARED_TASK
from celery_lint.facts.requirements import Version
from celery_lint.facts.settings import (
    CeleryConfig,
    ConfiguredValue,
    SettingsModel,
    build_settings,
)
from celery_lint.facts.summaries import ATOMIC, SEND_METHODS, TaskUse
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
# ModelAdmin methods Django calls while it answers a request, with the admin view that calls each
# inside `transaction.atomic` (django/contrib/admin/options.py: `changeform_view` runs the add
# and change forms in a transaction, `changelist_view` its list-editable saves, `delete_view` the
# delete); None: called outside one (an action's `delete_queryset`)
ADMIN_METHODS = {
    "save_model": "changeform_view", "save_related": "changeform_view",
    "save_formset": "changeform_view", "response_add": "changeform_view",
    "response_change": "changeform_view", "delete_model": "delete_view",
    "response_delete": "delete_view", "delete_queryset": None,
}
ADMIN_ACTION_DECORATORS = frozenset({"django.contrib.admin.action",
                                     "django.contrib.admin.decorators.action"})
_MAX_ALIAS_STEPS = 8
# how many functions deep summaries are followed from a call: the function called, what it
# calls, and what that calls (a longer chain is rarely read by anyone as "this call sends")
SUMMARY_DEPTH = 3
# what Django's `View.dispatch` (and DRF's) calls for a request: `super().dispatch(...)` runs them
HTTP_HANDLERS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")
BLOCKING = frozenset({"direct", "apply", "wait"})
WAITS = frozenset({"wait"})


@dataclass(frozen=True)
class Reached:
    """A task use found through calls: `chain` holds the functions from the one called to the one
    whose own body has the use, each with the line of the call that leads on (the use's line
    for the last)."""

    use: TaskUse
    task: TaskDefinition | None  # None for a wait on a result
    chain: tuple[tuple[FunctionFact, int], ...]
    written: bool  # a function of the chain writes to the database before it leads on
    conditional: bool = False  # the use, or a call that leads to it, is in a branch
    atomic: bool = False  # ... in a function's own `atomic` block (reported there)

    @property
    def function(self) -> FunctionFact:
        return self.chain[-1][0]


@dataclass(frozen=True)
class Handed:
    """A parameter handed on, whole, to a task's `.delay()` or `.apply_async()`: `chain` holds the
    functions from the one called to the one that sends, each with the line where it hands the
    value on (the send's line for the last) and the parameter that holds it there."""

    use: TaskUse
    task: TaskDefinition
    chain: tuple[tuple[FunctionFact, int, str], ...]


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

    @cached_property
    def _defined(self) -> dict[str, frozenset[str]]:
        return {module: frozenset(facts.defined) for module, facts in self.files.items()}

    def resolve(self, qualname: str) -> str:
        """Follow re-exports as Python does: `proj.celery_app` → `proj.celery.app` when proj
        imports it. `a.b.c` is what module `a.b` binds to `c` (by import, or by its own
        definition), and the submodule `a.b.c` only when `a.b` binds no `c`."""
        for _ in range(_MAX_ALIAS_STEPS):
            module, _, attr = qualname.rpartition(".")
            facts = self.files.get(module)
            if facts is not None and attr in facts.imports:
                target = facts.imports[attr]
                if target == qualname:
                    return qualname
                qualname = target
                continue
            if facts is not None and attr in self._defined[module]:
                return qualname  # the module's own `attr`
            # `a.b.c.d` where module `a.b.c` does not bind `d`: `a.b.c` may be a name package
            # `a.b` imports (which wins over a submodule `c`)
            head, _, name = module.rpartition(".")
            outer = self.files.get(head)
            if outer is not None and attr and name in outer.imports:
                target = outer.imports[name]
                if target != module:
                    qualname = f"{target}.{attr}"
                    continue
            return qualname
        return qualname

    # -- tasks -----------------------------------------------------------------------------
    @cached_property
    def apps(self) -> tuple[CeleryApp, ...]:
        """Every Celery app of the project: those a file makes for sure (an app a module uses as
        one is upgraded to its factory or subclass when the project has it), and the candidates
        (`app = make()`) whose maker turns out to be a Celery subclass or a factory."""
        found = []
        for facts in self.files.values():
            for app in facts.apps:
                found.append(self._made_by_maker(app) or app if app.how == "used" and app.maker
                             else app)
            for candidate in facts.app_candidates:
                app = self._made_by_maker(candidate)
                if app is not None:
                    found.append(app)
        return tuple(found)

    @cached_property
    def factories(self) -> dict[str, CeleryApp]:
        """The project's functions that build and return a Celery app, by qualified name."""
        return {f.qualname: f for facts in self.files.values() for f in facts.factories}

    def _made_by_maker(self, app: CeleryApp) -> CeleryApp | None:
        """`app` as its maker makes it, when that is a factory function or a Celery subclass of
        the project; None otherwise."""
        maker = self.resolve(app.maker or "")
        factory = self.factories.get(maker)
        if factory is not None and (factory.how or self.is_celery_class(factory.maker or "")):
            return replace(app, how="factory", maker=maker, factory=factory)
        if self.is_celery_class(maker):
            return replace(app, how="subclass", maker=maker)
        return None

    def is_celery_class(self, qualname: str) -> bool:
        """Whether `qualname` is Celery or a project class that derives from it."""
        resolved = self.resolve(qualname)
        if resolved in CELERY_CLASS:
            return True
        return any(self.resolve(base) in CELERY_CLASS
                   for cls in self.ancestors(resolved) for base in cls.bases)

    @cached_property
    def tasks(self) -> dict[str, TaskDefinition]:
        """Task definitions by the qualified name of their function."""
        app_names = {app.qualname for app in self.apps}
        found: dict[str, TaskDefinition] = {}
        for facts in self.files.values():
            for task in facts.tasks:
                found[task.qualname] = task
            for task in facts.candidate_tasks:
                decorator = self.resolve(task.decorator)
                if decorator in app_names:
                    found[task.qualname] = task
                elif decorator in SHARED_TASK:  # `@project_task`, bound to `shared_task`
                    found[task.qualname] = replace(task, decorator="shared_task")
                elif decorator.endswith(".task") and self.resolve(decorator[:-5]) in app_names:
                    found[task.qualname] = replace(task, decorator=self.resolve(decorator[:-5]))
        return found

    @cached_property
    def task_modules(self) -> frozenset[str]:
        """The modules that define tasks (`from . import tasks`, then `tasks.send(...)`)."""
        return frozenset(task.module for task in self.tasks.values())

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

    def mro(self, qualname: str) -> tuple[ClassFact, ...]:
        """The project's class `qualname` and the project classes it derives from, in the order
        Python looks a name up in them (C3, bases of other packages left out); in `ancestors`'
        order when the bases cannot be linearized."""
        resolved = self.resolve(qualname)
        if resolved not in self._mro:
            self._mro[resolved] = ()  # a class deriving from itself: no order
            order = self._linearize(resolved)
            self._mro[resolved] = tuple(self.classes[q] for q in order) if order is not None \
                else tuple(self.ancestors(resolved))
        return self._mro[resolved]

    @cached_property
    def _mro(self) -> dict[str, tuple[ClassFact, ...]]:
        return {}

    def _linearize(self, qualname: str) -> list[str] | None:
        cls = self.classes.get(qualname)
        if cls is None:
            return None
        bases = [b for b in (self.resolve(b) for b in cls.bases) if b in self.classes]
        sequences = [[c.qualname for c in self.mro(b)] for b in bases] + [bases]
        order = [qualname]
        while any(sequences):
            sequences = [seq for seq in sequences if seq]
            head = next((seq[0] for seq in sequences
                         if not any(seq[0] in other[1:] for other in sequences)), None)
            if head is None:
                return None
            order.append(head)
            sequences = [seq[1:] if seq[0] == head else seq for seq in sequences]
        return order

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
    def admin_classes(self) -> frozenset[str]:
        """The project's ModelAdmin classes (Django's, or a third-party admin base's)."""
        return frozenset(self._subclasses(_is_admin_base))

    @cached_property
    def admin_views(self) -> dict[str, str | None]:
        """The functions and methods the Django admin runs in a request, by qualified name: a
        ModelAdmin's save, delete and response methods and its actions (functions decorated
        `@admin.action` or listed in `actions = [...]`, and methods named there). The value is
        the admin view that runs it inside `transaction.atomic`, None when none does."""
        found: dict[str, str | None] = {}
        for qualname in self.admin_classes:
            lineage = list(self.ancestors(qualname))  # its mixins and project bases too
            overridden = {m for c in lineage for m in c.methods}
            for cls in lineage:
                for method in set(cls.methods) & set(ADMIN_METHODS):
                    view = ADMIN_METHODS[method]
                    # a project that replaces the admin view may not keep its transaction
                    view = view if view not in overridden else None
                    key = f"{cls.qualname}.{method}"
                    found[key] = view if found.get(key, view) == view else None
                for action in cls.actions:
                    found.setdefault(self._action(action, lineage), None)
        for function in self.functions.values():
            if any(self.resolve(d) in ADMIN_ACTION_DECORATORS for d in function.decorators):
                found.setdefault(function.qualname, None)
        return found

    def _action(self, action: str, lineage: list[ClassFact]) -> str:
        """The function an `actions` entry names: a method the admin class may inherit."""
        resolved = self.resolve(action)
        if resolved in self.functions:
            return resolved
        name = action.rpartition(".")[2]
        for cls in lineage:
            if name in cls.methods:
                return f"{cls.qualname}.{name}"
        return resolved

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

    # -- function summaries ----------------------------------------------------------------
    @cached_property
    def _function_paths(self) -> dict[str, str]:
        return {f.qualname: facts.path for facts in self.files.values() for f in facts.functions}

    def function_path(self, qualname: str) -> str:
        """The file that defines the project function `qualname`."""
        return self._function_paths.get(qualname, "")

    @cached_property
    def parameter_senders(self) -> frozenset[str]:
        """The last part of the name of every project function that sends one of its parameters
        to a task (itself, or through the functions it hands it to): a call by any other name
        reaches none (a rule's gate before it infers what a
        call runs, which costs more)."""
        handing = {q: f.summary for q, f in self.functions.items()
                   if f.summary is not None and f.summary.positional}
        # by name alone first (no name resolved): a function that sends a parameter, or that
        # hands one to a function of such a name, SUMMARY_DEPTH deep; then `handed` decides
        names = {q.rpartition(".")[2] for q, summary in handing.items()
                 if any(any(use.params) for use in summary.uses)}
        for _ in range(SUMMARY_DEPTH - 1):
            names |= {q.rpartition(".")[2] for q, summary in handing.items() if any(
                call.args and call.target.rpartition(".")[2] in names for call in summary.calls)}
        return frozenset(qualname.rpartition(".")[2] for qualname, summary in handing.items()
                         if qualname.rpartition(".")[2] in names and any(
                             self.handed(qualname, param) for param in summary.positional))

    def function(self, qualname: str | None) -> FunctionFact | None:
        """The project's function or method `qualname` names (following re-exports)."""
        if not qualname:
            return None
        found = self.functions.get(qualname) or self.functions.get(self.resolve(qualname))
        if found is not None:
            return found
        owner, _, name = qualname.rpartition(".")
        if owner not in self.classes:
            return None
        for cls in self.mro(owner):  # `self.name()`: the class's method, or a base's
            if name in cls.methods:
                return self.functions.get(f"{cls.qualname}.{name}")
        return None

    def reach(self, qualname: str | None, methods: frozenset[str]) -> tuple[Reached, ...]:
        """The task uses (`methods` of facts.summaries.TaskUse, and "direct" for a task called as a
        function) of the project function `qualname` and of the project functions it calls, up
        to SUMMARY_DEPTH functions deep; each function is visited once (a recursive pair ends).
        A send or run counts only when its receiver is a known task."""
        start = self.function(qualname)
        if start is None:
            return ()
        key = (start.qualname, methods)
        if key not in self._reached:
            self._reached[key] = tuple(self._reach(start, methods))
        return self._reached[key]

    @cached_property
    def _reached(self) -> dict[tuple[str, frozenset[str]], tuple[Reached, ...]]:
        return {}

    def _reach(self, start: FunctionFact, methods: frozenset[str]) -> Iterator[Reached]:
        seen = {start.qualname}
        # each path: the chain so far (its last function's line not known yet), and whether a
        # call on it is in a branch, or in a function's own atomic block
        pending: list[tuple[tuple[tuple[FunctionFact, int], ...], bool, bool]] = [
            (((start, 0),), False, False)]
        while pending:
            path, branched, atomic = pending.pop(0)  # breadth first: shortest chains first
            function = path[-1][0]
            summary = function.summary
            if summary is None:
                continue
            prefix = path[:-1]
            for use in summary.uses:
                task = self.task(use.task) if use.task else None
                if use.method in methods and (task is not None or use.method == "wait"):
                    chain = (*prefix, (function, use.line))
                    yield Reached(use, task, chain, _written(chain),
                                  branched or use.conditional, atomic or use.atomic)
            for call in summary.calls:
                task = self.task(call.target)
                if task is not None:
                    if "direct" in methods:
                        chain = (*prefix, (function, call.line))
                        yield Reached(TaskUse(call.target, "direct", call.line), task, chain,
                                      _written(chain), branched or call.conditional,
                                      atomic or call.atomic)
                    continue
                callee = self.function(call.target)
                if callee is None or callee.qualname in seen or len(path) >= SUMMARY_DEPTH:
                    continue
                seen.add(callee.qualname)
                pending.append(((*prefix, (function, call.line), (callee, 0)),
                                branched or call.conditional, atomic or call.atomic))

    def handed(self, qualname: str, param: str) -> tuple[Handed, ...]:
        """The sends to which the project function `qualname` hands its parameter `param`, whole:
        in its own body, or through the functions it calls with it (as a positional argument or
        by keyword), up to SUMMARY_DEPTH functions deep, each function visited once."""
        start = self.function(qualname)
        if start is None:
            return ()
        key = (start.qualname, param)
        if key not in self._handed:
            self._handed[key] = tuple(self._hand(start, param))
        return self._handed[key]

    @cached_property
    def _handed(self) -> dict[tuple[str, str], tuple[Handed, ...]]:
        return {}

    def _hand(self, start: FunctionFact, param: str) -> Iterator[Handed]:
        seen = {start.qualname}
        pending: list[tuple[tuple[tuple[FunctionFact, int, str], ...], FunctionFact, str]] = [
            ((), start, param)]
        while pending:
            prefix, function, held = pending.pop(0)  # breadth first: shortest chains first
            summary = function.summary
            if summary is None:
                continue
            for use in summary.uses:
                task = self.task(use.task) if use.method in SEND_METHODS else None
                if task is not None and any(given == held or given.endswith(f"={held}")
                                            for given in use.params):
                    yield Handed(use, task, (*prefix, (function, use.line, held)))
            if len(prefix) + 1 >= SUMMARY_DEPTH:
                continue
            for call in summary.calls:
                callee = self.function(call.target) if held in _held(call.args) else None
                if callee is None or callee.qualname in seen or callee.summary is None \
                        or self.task(call.target) is not None:
                    continue
                for name in _received(call.args, held, callee.summary.positional):
                    seen.add(callee.qualname)
                    pending.append(((*prefix, (function, call.line, held)), callee, name))

    @cached_property
    def dispatch_transactions(self) -> dict[str, tuple[str, FunctionFact]]:
        """The methods a view's `dispatch` runs inside its `transaction.atomic()` block (or that
        `dispatch` decorated with `atomic`), by qualified name, with the view class and that
        `dispatch`: the methods it calls there as `self.name(...)` (looked up in the view's
        class, as Python does), what they call so, SUMMARY_DEPTH deep, and the HTTP handlers
        when it calls `super().dispatch(...)` there. A `dispatch` whose block is the body of
        `if self.X:` counts only for a view whose class attribute `X` is `True`, read plainly in
        the class or a project base; any other condition around the block leaves it out."""
        found: dict[str, tuple[str, FunctionFact]] = {}
        for view in sorted(self.view_classes):
            dispatch = self.function(f"{view}.dispatch")
            summary = dispatch.summary if dispatch is not None else None
            if dispatch is None or summary is None or summary.guard in ("", "?"):
                continue
            if summary.guard != "always" and self.class_attribute(view, summary.guard) is not True:
                continue
            names = _self_calls(dispatch, atomic=True) + list(
                HTTP_HANDLERS if summary.handlers else ())
            seen = {dispatch.qualname}
            pending = [(name, 1) for name in names]
            while pending:
                name, depth = pending.pop(0)
                method = self.function(f"{view}.{name}")
                if method is None or method.qualname in seen:
                    continue
                seen.add(method.qualname)
                found.setdefault(method.qualname, (view, dispatch))
                if depth < SUMMARY_DEPTH:
                    pending += [(called, depth + 1) for called in _self_calls(method)]
        return found

    def class_attribute(self, qualname: str, name: str) -> object:
        """The value the project class `qualname` (or the first project base that sets it, as
        Python looks it up) gives the class attribute `name` in its body; None when none sets
        it or it is not a plain literal (facts.types.Unknown)."""
        for cls in self.mro(qualname):
            for attribute, value in cls.attributes:
                if attribute == name:
                    return None if isinstance(value, Unknown) else value
        return None

    def calls_summarized(self, facts: FileFacts, text: str, asked: frozenset[str]) -> bool:
        """Whether a rule can find something in `facts` (of a file whose source is `text`) one
        call away, for the questions `asked` (runner.summary_questions: only the selected rules'):
        "sends", a call, in a file that can open a transaction (or has views), of a project
        function that sends a task a primary key outside a transaction of its own; "waits", in a
        file with views, of one that waits on a result, not in a branch; "blocks", the same or
        runs a task in place; "parameters", a call of a function that sends one of its
        parameters (itself, or through the functions it hands it to). (A send in the file's own
        code makes phase 2 run anyway: runner.PHASE2_WORDS.) The rules ask the same of what
        `reach` and `handed` find, and more."""
        if not asked:
            return False
        key = (facts.path, asked)
        if key not in self._summarized:
            self._summarized[key] = self._calls_summarized(facts, text, asked)
        return self._summarized[key]

    @cached_property
    def _summarized(self) -> dict[tuple[str, frozenset[str]], bool]:
        return {}

    @cached_property
    def _interesting(self) -> dict[tuple[str, bool, frozenset[str], bool], bool]:
        return {}

    def _matters(self, target: str, transactions: bool, blocking: frozenset[str],
                 parameters: bool) -> bool:
        """Whether a call of `target` can matter to a rule: in a file that opens transactions,
        when `transactions`; in a file with views, when it reaches `blocking` uses; and, when
        `parameters`, when the function sends one of its parameters."""
        if self.task(target) is not None:
            return False
        if transactions and any(r.use.keys and not r.atomic for r in self.reach(target, SEND_METHODS)):
            return True
        if blocking and any(not r.conditional for r in self.reach(target, blocking)):
            return True
        callee = self.function(target)
        return parameters and callee is not None and callee.summary is not None \
            and callee.qualname.rpartition(".")[2] in self.parameter_senders and any(
                self.handed(callee.qualname, param) for param in callee.summary.positional)

    def _calls_summarized(self, facts: FileFacts, text: str, asked: frozenset[str]) -> bool:
        functions = [f for f in facts.functions if f.summary is not None and f.summary.calls]
        if not functions:
            return False
        has_views = any(self.is_view(f.qualname) for f in facts.functions)
        blocking = (BLOCKING if "blocks" in asked else WAITS if "waits" in asked
                    else frozenset()) if has_views else frozenset()
        transactions = "sends" in asked and (has_views or "atomic" in text or any(
            self.transaction_wrapper(d) for f in facts.functions for d in f.decorators) or any(
            self.transaction_wrapper(c.target) for f in functions for c in f.summary.calls))
        parameters = "parameters" in asked
        if not (blocking or transactions or parameters):
            return False
        for function in functions:
            for call in function.summary.calls:
                key = (call.target, transactions, blocking, parameters)
                if key not in self._interesting:
                    self._interesting[key] = self._matters(call.target, transactions, blocking,
                                                           parameters)
                if self._interesting[key]:
                    return True
        return False

    @cached_property
    def atomic_aliases(self) -> frozenset[str]:
        return frozenset(a for facts in self.files.values() for a in facts.atomic_aliases)

    def transaction_wrapper(self, qualname: str | None, depth: int = 0) -> str:
        """How `qualname` opens a transaction: "atomic" for `transaction.atomic` (or a module's
        other name for it), "with" for a project context manager whose `yield` runs inside one,
        "decorator" for a project decorator that runs the function inside one; "" otherwise."""
        if not qualname or depth > SUMMARY_DEPTH:
            return ""
        resolved = self.resolve(qualname)
        if resolved == ATOMIC or resolved in self.atomic_aliases:
            return "atomic"
        function = self.function(resolved)
        summary = function.summary if function is not None else None
        if summary is None or not summary.wraps:
            return ""
        if any(self.transaction_wrapper(entered, depth + 1) for entered in summary.through):
            return summary.wraps
        return ""

    def is_view(self, qualname: str) -> bool:
        """Whether the project function `qualname` answers requests: a routed or views-module
        function, a method of a view class, a ModelAdmin method the admin runs."""
        return qualname in self.function_views or qualname in self.admin_views \
            or qualname.rpartition(".")[0] in self.view_classes

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


def _written(chain: tuple[tuple[FunctionFact, int], ...]) -> bool:
    """Whether a function of `chain` writes before the line where it leads on."""
    return any(f.summary is not None and 0 < f.summary.write < line for f, line in chain)


def _self_calls(function: FunctionFact, atomic: bool = False) -> list[str]:
    """The names of the methods `function` calls as `self.name(...)` (or through its class);
    only in its own `atomic` block when `atomic`."""
    summary = function.summary
    owner = function.qualname.rpartition(".")[0]
    return [] if summary is None else list(dict.fromkeys(
        c.target.rpartition(".")[2] for c in summary.calls
        if c.target.rpartition(".")[0] == owner and (c.atomic or not atomic)))


def _held(args: tuple[str, ...]) -> set[str]:
    return {given.rpartition("=")[2] for given in args}


def _received(args: tuple[str, ...], held: str, positional: tuple[str, ...]) -> Iterator[str]:
    """The callee's parameters that receive the caller's `held` from a call given `args`
    (facts.summaries.CallOf.args), matched with the callee's `positional` parameters."""
    starred = False
    for position, given in enumerate(args):
        starred = starred or given == "*"
        name, equals, value = given.rpartition("=")
        if equals and value == held:
            yield name
        elif given == held and not starred and position < len(positional):
            yield positional[position]


def _is_model_base(qualname: str) -> bool:
    if qualname in MODEL_BASES:
        return True
    module, _, name = qualname.rpartition(".")
    return module.endswith("models") and name.endswith("Model") and "." in module


def _is_admin_base(qualname: str) -> bool:
    """Django's ModelAdmin, or an admin base class of another package (`VersionAdmin`,
    `ImportExportModelAdmin`, `UserAdmin`); not an inline."""
    module, _, name = qualname.rpartition(".")
    if "Inline" in name:
        return False
    return name.endswith("ModelAdmin") or (name.endswith("Admin") and "admin" in module.split("."))


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
