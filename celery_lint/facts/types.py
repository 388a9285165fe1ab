"""The facts phase 1 reads from one file; plain frozen dataclasses so they pickle and cache."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Unknown:
    """A value that static evaluation could not pin down; `text` is its source."""

    text: str


Value = None | bool | int | float | str | tuple | dict | Unknown  # type: ignore[type-arg]


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "positional", "positional_only", "keyword_only", "var_positional", "var_keyword"
    has_default: bool
    annotation: str | None  # the qualified name the annotation resolves to, if a plain name


@dataclass(frozen=True)
class TaskDefinition:
    module: str
    function: str
    path: str
    line: int
    decorator: str  # "shared_task" or the qualified name of the app the task is bound to
    explicit_name: str | None
    options: dict[str, Value]
    params: tuple[Param, ...]

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.function}"

    @property
    def registered_name(self) -> str:
        return self.explicit_name or self.qualname

    @property
    def bound(self) -> bool:
        return self.options.get("bind") is True

    @property
    def call_params(self) -> tuple[Param, ...]:
        """The parameters a caller fills: without the task instance of a bound task."""
        return self.params[1:] if self.bound and self.params else self.params


@dataclass(frozen=True)
class ClassFact:
    qualname: str
    bases: tuple[str, ...]  # qualified where they resolve, else as written
    managers: tuple[str, ...]  # class attributes assigned a manager
    methods: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class FunctionFact:
    qualname: str
    first_param: str | None
    decorators: tuple[str, ...]


@dataclass(frozen=True)
class SettingAssignment:
    name: str
    value: Value
    line: int
    column: int


@dataclass(frozen=True)
class StarImport:
    module: str


@dataclass(frozen=True)
class CeleryApp:
    qualname: str  # module.variable
    line: int
    config_objects: tuple[tuple[str, str | None], ...] = ()  # (object string, namespace)
    conf: tuple[SettingAssignment, ...] = ()  # app.conf.x = ..., app.conf.update(...)


@dataclass(frozen=True)
class FileFacts:
    path: str
    module: str
    is_package: bool
    imports: dict[str, str] = field(default_factory=dict)  # module-level local name -> qualified
    tasks: tuple[TaskDefinition, ...] = ()
    candidate_tasks: tuple[TaskDefinition, ...] = ()  # `@x.task` whose x may be a Celery app
    apps: tuple[CeleryApp, ...] = ()
    classes: tuple[ClassFact, ...] = ()
    functions: tuple[FunctionFact, ...] = ()
    routed: tuple[str, ...] = ()  # qualified names of views routed in urls modules
    settings_ops: tuple[SettingAssignment | StarImport, ...] = ()
    django_settings_module: str | None = None
    syntax_error: tuple[str, int, int] | None = None  # message, row, column
