"""The facts phase 1 reads from one file; plain frozen dataclasses so they pickle and cache."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from celery_lint.facts.effects import Behaviour
    from celery_lint.facts.summaries import Summary


@dataclass(frozen=True)
class Unknown:
    """A value that static evaluation could not pin down; `text` is its source."""

    text: str


@dataclass(frozen=True)
class FromEnv:
    """A value read from the environment (or a deployment config file) when the process starts.

    `default` is what the code falls back to when the variable is unset (already cast the way the
    code casts it), `has_default` is False when an unset variable is an error.
    """

    origin: str  # "environment", "config file", or "run time" (a write the module makes then)
    variable: str | None
    default: Value
    has_default: bool
    text: str


Value = None | bool | int | float | str | tuple | dict | Unknown | FromEnv  # type: ignore[type-arg]


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "positional", "positional_only", "keyword_only", "var_positional", "var_keyword"
    has_default: bool
    annotation: str | None  # the qualified name the annotation resolves to, if a plain name


@dataclass(frozen=True)
class ParamUse:
    """How a task's body uses one parameter, for CEL101's whole fix (facts.task_uses).

    `use` is "id" (the name reads as an id, or every use passes it as `pk=`/`id=`/`x_id=`), "object"
    (used otherwise: the body can load the row under the same name) or why the fix cannot
    change it ("it is reassigned", ...). `line`/`column` are where the name is in the `def`;
    `load_line` is the first row of the body's first statement that reads it, `indent` that
    statement's indentation.
    """

    name: str
    use: str
    line: int = 0
    column: int = 0
    load_line: int = 0
    indent: str = ""


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
    # the decorators between the task decorator and the `def`, qualified where they resolve: the
    # task runs what they return, whose parameters may not be the function's
    wrappers: tuple[str, ...] = ()
    param_uses: tuple[ParamUse, ...] = ()

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
    # names assigned in the class body, with their values (`ignore_result = True`,
    # `task_cls = "proj.tasks:BaseTask"`): a task base class declares its options this way
    attributes: tuple[tuple[str, Value], ...] = ()
    # an admin class's `actions = [...]`: qualified names of functions, `Class.method` of names
    # given as strings
    actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class FunctionFact:
    qualname: str
    first_param: str | None
    decorators: tuple[str, ...]
    line: int = 0
    column: int = 0  # of the `def` keyword
    name_end: int = 0  # column just after the function's name
    behaviour: Behaviour | None = None  # side effects and guards, when it has any (or is a task)
    summary: Summary | None = None  # what rules ask one call away, when it does any of it


@dataclass(frozen=True)
class SettingAssignment:
    """`NAME = value` at module level, or a change to NAME (`+=`, `.append(...)`, `NAME[k] = v`).

    `value` is evaluated with the file's own names; `source` (the expression's text) is kept when
    the value is not a plain literal, so the settings evaluator can evaluate it again with the
    names a star-import chain provides.
    """

    name: str
    value: Value
    line: int
    column: int
    source: str | None = None
    op: str = "="  # "=", an augmented operator ("+", "-", "|"), or "append", "extend", "insert",
    #                "update", "item" (NAME[key] = value)
    key: Value = None


@dataclass(frozen=True)
class StarImport:
    module: str
    line: int = 0
    # in a `try` whose handler catches ImportError, or `with suppress(ImportError)`: the module
    # may be missing, as a local or deployment override is
    optional: bool = False


@dataclass(frozen=True)
class NameImport:
    """`from module import name as alias` at module level: settings may import each other."""

    module: str
    name: str
    alias: str


@dataclass(frozen=True)
class SettingsBranch:
    """An `if` (test is its source) or a `try` block (test is None): assignments that may not run."""

    test: str | None
    line: int
    body: tuple[SettingsOp, ...]
    orelse: tuple[SettingsOp, ...] = ()


@dataclass(frozen=True)
class RuntimeWrite:
    """A module-level write to the module's names that phase 1 cannot read whole: through
    `globals()`/`vars()` with a key it cannot evaluate (a loop over the environment), `exec(...)`,
    or a call handed `globals()` (a plugin hook).

    `items` is the source of a dict of the names and values written, when the write has that shape
    (`globals().update(EXTRA)`): the settings evaluator evaluates it again with the names a
    star-import chain provides. When it stays unknown, the write may change the names that start
    with one of `prefixes` ("" for any name) that are not assigned after it.
    """

    line: int
    how: str  # for the audit: "a loop over os.environ at line 12 writes `globals()[key]`"
    prefixes: tuple[str, ...] = ("",)
    items: str | None = None


@dataclass(frozen=True)
class SettingsClass:
    """A module-level class with upper-case attributes: settings written as a class
    (django-configurations, django-class-settings and the like).

    `body` holds its attributes in order; a simple property (`@property` or an upper-case method
    whose body is one `return`) is an assignment with op "property" whose source is the returned
    expression with `self.` dropped, evaluated once the class and its bases are complete.
    """

    name: str
    line: int
    bases: tuple[str, ...]  # as written: `Base`, `base.Base`, `configurations.Configuration`
    body: tuple[SettingAssignment, ...] = ()


@dataclass(frozen=True)
class ClassSettingsLoad:
    """`ProductionSettings.load_settings(__name__)`: a call on a class, handed the module (its
    `__name__`, `globals()` or `sys.modules[__name__]`), that loads the class's settings into it."""

    name: str  # the class, as written
    line: int
    call: str  # the call's source, for messages


SettingsOp = (SettingAssignment | StarImport | NameImport | SettingsBranch | RuntimeWrite
              | SettingsClass | ClassSettingsLoad)


@dataclass(frozen=True)
class CeleryApp:
    """A Celery app bound to a module-level name, or (in `FileFacts.factories`) a function that
    builds and returns one, its qualname the function's."""

    qualname: str  # module.variable
    line: int
    config_objects: tuple[tuple[str, str | None], ...] = ()  # (object string, namespace)
    conf: tuple[SettingAssignment, ...] = ()  # app.conf.x = ..., app.conf.update(...)
    # the class of its tasks: `Celery(task_cls=...)` qualified ("" when it cannot be read), None
    # when not given
    task_cls: str | None = None
    # how it is made: "direct" (`Celery(...)`), "subclass" (a project class deriving from
    # Celery), "factory" (a project function that returns one), "used" (its maker is not in the
    # project, but the module configures it as an app: `config_from_object`, `autodiscover_tasks`)
    # "" for a candidate (`FileFacts.app_candidates`): an app if the index finds its maker is a
    # Celery subclass or a factory
    how: str = "direct"
    # what is called to make it when that is not `Celery(...)` itself, qualified: a subclass of
    # Celery or a factory function ("" when it cannot be read)
    maker: str | None = None
    factory: CeleryApp | None = None  # the app as its factory function builds it

    @property
    def configured_by(self) -> tuple[tuple[str, str | None], ...]:
        """`config_from_object` calls, in the factory first, then on the module-level name."""
        return (self.factory.config_objects if self.factory else ()) + self.config_objects

    @property
    def module(self) -> str:
        return self.qualname.rpartition(".")[0]


@dataclass(frozen=True)
class FileFacts:
    path: str
    module: str
    is_package: bool
    imports: dict[str, str] = field(default_factory=dict)  # module-level local name -> qualified
    tasks: tuple[TaskDefinition, ...] = ()
    candidate_tasks: tuple[TaskDefinition, ...] = ()  # `@x.task` whose x may be a Celery app
    apps: tuple[CeleryApp, ...] = ()
    # `name = maker(...)` at module level whose maker may build a Celery app (the index decides)
    app_candidates: tuple[CeleryApp, ...] = ()
    factories: tuple[CeleryApp, ...] = ()  # functions that build and return a Celery app
    # names the module binds itself (def, class, assignment), not by import: `from pkg import x`
    # is the package's `x` when its `__init__` binds it, else the submodule `pkg.x`
    defined: tuple[str, ...] = ()
    classes: tuple[ClassFact, ...] = ()
    functions: tuple[FunctionFact, ...] = ()
    routed: tuple[str, ...] = ()  # qualified names of views routed in urls modules
    settings_ops: tuple[SettingsOp, ...] = ()
    django_settings_module: str | None = None
    django_configuration: str | None = None  # os.environ.setdefault("DJANGO_CONFIGURATION", ...)
    # failure monitoring found, with its line: "task_failure", "sentry", "on_failure", ...
    monitoring: tuple[tuple[str, int], ...] = ()
    # names read as `settings.NAME` or `getattr(settings, "NAME")` (a rename of such a setting
    # would break them; a name Celery ignores is not dead when the project reads it)
    setting_reads: tuple[str, ...] = ()
    # names read from a Celery app's configuration (`app.conf.name`, `app.conf.get("name")`), or
    # changed in place there (`app.conf.task_queues.append(...)`): the project reads them itself,
    # and their value at run time is not the one configured
    conf_reads: tuple[str, ...] = ()
    # `queue="x"` of task decorators and calls: (queue, line, column, how)
    queues: tuple[tuple[str, int, int, str], ...] = ()
    # functions connected to `pre_delete` or `post_delete` (by `@receiver` or `.connect()`):
    # (qualified name of the function as written, "pre_delete" or "post_delete")
    delete_receivers: tuple[tuple[str, str], ...] = ()
    syntax_error: tuple[str, int, int] | None = None  # message, row, column
    template: bool = False  # the syntax error is a cookiecutter or Jinja template's: not Python
    # the first line of each top-level statement, as `ast` numbers them (phase 2 uses them to
    # find positions one statement at a time)
    statement_lines: tuple[int, ...] = ()
    # where a settings fix may write (facts.placement): each module-level setting `NAME = ...` as (name,
    # first row, last row, that row's length), and the first row new settings must stay above
    # (None: no limit)
    assignments: tuple[tuple[str, int, int, int], ...] = ()
    settings_limit: int | None = None
    atomic_aliases: tuple[str, ...] = ()  # module-level names bound to `transaction.atomic`


# -- deployment files ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Invocation:
    """One `celery ...` command line found in a process definition."""

    command: str  # "worker", "beat", "flower", "events", "multi", ... ("" when unknown)
    app: str | None
    queues: tuple[str, ...] | None  # -Q; None when not given
    exclude_queues: tuple[str, ...] = ()
    embedded_beat: bool = False  # worker -B
    events: bool = False  # worker -E
    text: str = ""  # the command line as written
    line: int = 1
    column: int = 1
    dynamic: bool = False  # an argument comes from a variable ($QUEUES): its value is unknown
    pool: str | None = None  # worker -P/--pool, as written; None when not given
    soft_time_limit: str | None = None  # worker --soft-time-limit, as written
    time_limit: str | None = None  # worker --time-limit, as written


@dataclass(frozen=True)
class ProcessDef:
    """A process as one deployment file states it, before `extends` and scripts are followed.

    `replicas` is None when the file does not say (the platform's default or a command-line
    scale); `per_node` marks a DaemonSet; `template` a systemd template unit (name@.service).
    `restarts` is True, False, or None when the file cannot tell.
    """

    name: str
    invocations: tuple[Invocation, ...]
    line: int
    replicas: int | None = None
    replicas_text: str | None = None  # replicas written as something that is not a number
    per_node: bool = False
    template: bool = False
    restarts: bool | None = None
    restart_text: str = ""  # how the restart policy is written, for messages
    scripts: tuple[tuple[str, int, int], ...] = ()  # commands that run a file: (path, line, col)
    image: str = ""
    extends: tuple[str | None, str] | None = None  # compose: (file or None, service)
    has_command: bool = True
    source: str | None = None  # the file its command is in, when inherited from another file


@dataclass(frozen=True)
class DeployFacts:
    """What one deployment file says about the processes it runs."""

    path: str
    kind: str  # "procfile", "compose", "kubernetes", "supervisord", "systemd", "dockerfile", "shell"
    processes: tuple[ProcessDef, ...] = ()
    copies: tuple[tuple[str, str], ...] = ()  # Dockerfile COPY/ADD: (source, destination)
    warnings: tuple[str, ...] = ()
    dev_hints: tuple[str, ...] = ()  # signs of a development setup (runserver, mounted source)
    # DJANGO_SETTINGS_MODULE and DJANGO_CONFIGURATION as the file sets them: (variable, value)
    environment: tuple[tuple[str, str], ...] = ()
