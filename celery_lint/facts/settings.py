"""The project's Celery configuration as Celery would see it in production, found statically.

Settings modules are evaluated from the operations phase 1 recorded (assignments, `+=`,
`.append(...)`, star imports, `if`/`try` blocks) with the names a star-import chain provides.
Which modules are production, which app reads them and under which namespace, and how each key
maps to a Celery setting (through Celery's own tables) is decided here. Nothing is imported or run.
"""

from __future__ import annotations

import ast
import fnmatch
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

from celery_lint.facts.celery_names import (
    ProjectCelery,
    installed_celery,
    prefixed_key,
    shown_minors,
)
from celery_lint.facts.evaluate import Qualify, apply_op, describe, dotted, evaluate_source
from celery_lint.facts.types import (
    CeleryApp,
    ClassSettingsLoad,
    FileFacts,
    FromEnv,
    NameImport,
    RuntimeWrite,
    SettingAssignment,
    SettingsBranch,
    SettingsClass,
    SettingsOp,
    StarImport,
    Unknown,
    Value,
)

DJANGO_SETTINGS = ("django.conf:settings", "django.conf.settings")
ENTRY_POINTS = ("manage", "wsgi", "asgi")
# Django settings a module that sets none of (and no Celery setting) is not a settings module: a
# database client or a logging helper that lives in the settings package
DJANGO_SETTING_NAMES = frozenset({
    "ALLOWED_HOSTS", "AUTHENTICATION_BACKENDS", "AUTH_PASSWORD_VALIDATORS", "AUTH_USER_MODEL",
    "CACHES", "CSRF_TRUSTED_ORIGINS", "DATABASES", "DATABASE_ROUTERS", "DEBUG",
    "DEFAULT_AUTO_FIELD", "DEFAULT_FROM_EMAIL", "EMAIL_BACKEND", "EMAIL_HOST", "INSTALLED_APPS",
    "LANGUAGE_CODE", "LOGGING", "MEDIA_ROOT", "MEDIA_URL", "MIDDLEWARE", "ROOT_URLCONF",
    "SECRET_KEY", "SESSION_ENGINE", "STATICFILES_DIRS", "STATIC_ROOT", "STATIC_URL", "STORAGES",
    "TEMPLATES", "TIME_ZONE", "USE_I18N", "USE_TZ", "WSGI_APPLICATION", "ASGI_APPLICATION",
})


@dataclass(frozen=True)
class SettingEntry:
    """A name a settings module defines, its value, and where it was (last) set."""

    name: str
    value: Value
    path: str
    module: str
    line: int
    column: int


@dataclass(frozen=True)
class Override:
    """A write that may change settings when the project runs: an optional module a deployment
    may add, an `exec()` of a file, a loop over the environment, a hook handed `globals()`.

    It reaches the names that start with one of `prefixes` ("" for any name), except those
    assigned after it (`shadowed`). An `optional` one (a `try` import of a module the project
    does not have, a write inside an `if` or `try`) may not happen: the shipped settings are
    judged, and the audit says which rows it may change. One that always runs (a loop over the
    environment, a hook handed `globals()`) sets the names it reaches: they are unknown.
    """

    how: str
    path: str
    module: str
    line: int
    prefixes: tuple[str, ...] = ("",)
    shadowed: frozenset[str] = frozenset()
    optional: bool = False

    def reaches(self, name: str) -> bool:
        return name not in self.shadowed and name.startswith(self.prefixes)

    def sets(self, shipped: Value) -> FromEnv:
        """The value of a name it reaches: decided when the project runs, the shipped one
        (None: not set) unless the write changes it."""
        return FromEnv("run time", None, shipped, True,
                       f"{self.how} (line {self.line} of {self.module})")

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.path, self.line, self.how)


@dataclass(frozen=True)
class _Property:
    """A settings class's simple property, evaluated once its class is complete."""

    assignment: SettingAssignment
    path: str
    module: str
    imports: tuple[tuple[str, str], ...]


@dataclass
class SettingsClassValue:
    """A settings class evaluated: its attributes and properties with its bases' (MRO order)."""

    qualname: str
    path: str
    line: int
    members: dict[str, SettingEntry | _Property] = field(default_factory=dict)
    configuration: bool = False  # a django-configurations Configuration, chosen by its name
    gaps: list[str] = field(default_factory=list)
    bases: tuple[str, ...] = ()  # the qualified names of its bases in the project


@dataclass
class Namespace:
    """A settings module evaluated: its names with star-import chains followed (later wins)."""

    module: str
    path: str
    entries: dict[str, SettingEntry] = field(default_factory=dict)
    names: dict[str, Value] = field(default_factory=dict)  # imported names, for evaluation only
    gaps: list[str] = field(default_factory=list)  # why some names may be missing
    chain: list[str] = field(default_factory=list)  # modules it includes, in order
    overrides: list[Override] = field(default_factory=list)  # run-time writes that may change it
    classes: dict[str, SettingsClassValue] = field(default_factory=dict)  # settings classes

    @property
    def complete(self) -> bool:
        return not self.gaps

    def assign(self, entry: SettingEntry, replaces: bool = True) -> None:
        """Set a name; a whole new value (`replaces`) is out of reach of earlier overrides."""
        self.entries[entry.name] = entry
        if replaces:
            self.shadow((entry.name,))

    def shadow(self, names: Iterable[str]) -> None:
        names = set(names)
        self.overrides = [replace(o, shadowed=o.shadowed | {n for n in names if o.reaches(n)})
                          if any(o.reaches(n) for n in names) else o for o in self.overrides]

    def add_overrides(self, overrides: Iterable[Override]) -> None:
        known = {o.key for o in self.overrides}
        self.overrides += [o for o in overrides if o.key not in known]

    def overridden(self, name: str) -> list[Override]:
        """The run-time writes that may change `name`."""
        return [o for o in self.overrides if o.reaches(name)]


class _Names(Mapping[str, Value]):
    """The values an expression in a settings module can read."""

    def __init__(self, namespace: Namespace, own: Mapping[str, Value] | None = None) -> None:
        self.namespace = namespace
        self.own = own or {}  # a class body's names come first

    def __getitem__(self, name: str) -> Value:
        if name in self.own:
            return self.own[name]
        entry = self.namespace.entries.get(name)
        if entry is not None:
            return entry.value
        return self.namespace.names[name]

    def __contains__(self, name: object) -> bool:
        return name in self.own or name in self.namespace.entries or name in self.namespace.names

    def __iter__(self) -> Iterator[str]:
        return iter({**self.namespace.names, **self.namespace.entries, **self.own})

    def __len__(self) -> int:
        return len(set(self.namespace.names) | set(self.namespace.entries) | set(self.own))


class SettingsEvaluator:
    """Evaluates settings modules of a project; each module once.

    `copied` maps a module name to the project module a Dockerfile copies into its place.
    """

    def __init__(self, files: Mapping[str, FileFacts], dev_patterns: tuple[str, ...] = (),
                 copied: Mapping[str, str] | None = None) -> None:
        self.files = files
        self.dev_patterns = dev_patterns
        self.copied = copied or {}
        self._done: dict[str, Namespace] = {}
        self._project_packages = {m.split(".")[0] for m in files}
        self._maybe = 0  # depth of blocks that may not run (an undecided `if`, a `try`)

    def resolve(self, module: str) -> str:
        """The project module Python imports as `module` where the project runs."""
        return self.copied.get(module, module)

    def namespace(self, module: str, _active: frozenset[str] = frozenset()) -> Namespace | None:
        """The evaluated settings of `module`, or of a settings class `module.Class`."""
        module = self.resolve(module)
        if module in self._done:
            return self._done[module]
        facts = self.files.get(module)
        if module in _active:
            return None
        if facts is None:
            return self._class_namespace(module, _active)
        namespace = Namespace(module, facts.path, chain=[module])
        if facts.syntax_error is not None:
            namespace.gaps.append(_unparsable(module, facts))
        maybe, self._maybe = self._maybe, 0  # a module runs whole, wherever it is imported
        try:
            self._run(facts, facts.settings_ops, namespace, _active | {module})
        finally:
            self._maybe = maybe
        self._done[module] = namespace
        return namespace

    def _class_namespace(self, name: str, active: frozenset[str]) -> Namespace | None:
        """`module.Class`: the module's names with the class's upper-case settings over them,
        as django-configurations installs a Configuration class into its module."""
        module, _, class_name = name.rpartition(".")
        if module not in self.files:
            return None
        outer = self.namespace(module, active)
        cls = outer.classes.get(class_name) if outer is not None else None
        if outer is None or cls is None:
            return None
        namespace = Namespace(name, outer.path, dict(outer.entries), dict(outer.names),
                              [*outer.gaps, *(g for g in cls.gaps if g not in outer.gaps)],
                              [name, *outer.chain], list(outer.overrides), dict(outer.classes))
        for entry in self.class_settings(cls, namespace).values():
            namespace.assign(entry)
        self._done[name] = namespace
        return namespace

    def _run(self, facts: FileFacts, ops: tuple[SettingsOp, ...], namespace: Namespace,
             active: frozenset[str]) -> None:
        for op in ops:
            if isinstance(op, SettingAssignment):
                self._assign(facts, op, namespace)
            elif isinstance(op, StarImport):
                self._star(facts, op, namespace, active)
            elif isinstance(op, NameImport):
                self._name_import(op, namespace, active)
            elif isinstance(op, RuntimeWrite):
                self._runtime_write(facts, op, namespace)
            elif isinstance(op, SettingsClass):
                self._settings_class(facts, op, namespace, active)
            elif isinstance(op, ClassSettingsLoad):
                self._class_load(facts, op, namespace, active)
            else:
                self._branch(facts, op, namespace, active)

    def _assign(self, facts: FileFacts, op: SettingAssignment, namespace: Namespace) -> None:
        names = _Names(namespace)
        value = op.value if op.source is None else evaluate_source(
            op.source, names, qualifier(facts.imports))
        current = names.get(op.name)
        if op.op != "=" and op.name not in names:
            current = Unknown(f"{op.name} (not defined before line {op.line})")
        namespace.assign(SettingEntry(
            op.name, apply_op(current, op.op, value, op.key), facts.path, facts.module, op.line,
            op.column), replaces=op.op == "=")

    def _star(self, facts: FileFacts, op: StarImport, namespace: Namespace,
              active: frozenset[str]) -> None:
        module = op.module
        other = self.namespace(module, active)
        if other is None:
            if op.optional and module not in active:
                # `try: from .local_settings import *`: the shipped settings are judged, and the
                # audit says what a deployment's own module may change
                namespace.add_overrides([Override(
                    f"the optional `from {module} import *`: {module} is not in the project, "
                    "a deployment may add it", facts.path, facts.module, op.line,
                    optional=True)])
            # a missing local/dev override (`try: from .local import *`) is not production's
            elif module.split(".")[0] in self._project_packages and module not in active \
                    and not is_dev_module(module, self.dev_patterns):
                namespace.gaps.append(f"`from {module} import *`: {module} is not in the project")
            return
        namespace.entries.update(other.entries)
        namespace.shadow(other.entries)
        namespace.add_overrides(other.overrides if not self._maybe else
                                [replace(o, optional=True) for o in other.overrides])
        namespace.names.update(other.names)
        namespace.classes.update(other.classes)
        namespace.gaps += [g for g in other.gaps if g not in namespace.gaps]
        namespace.chain += [m for m in other.chain if m not in namespace.chain]

    def _name_import(self, op: NameImport, namespace: Namespace, active: frozenset[str]) -> None:
        module = self.resolve(op.module)
        other = self.namespace(module, active) if module in self.files else None
        entry = other.entries.get(op.name) if other is not None else None
        if other is not None and op.name in other.classes:
            namespace.classes[op.alias] = other.classes[op.name]
        if entry is not None:
            namespace.assign(replace(entry, name=op.alias))
        else:
            namespace.entries.pop(op.alias, None)
            namespace.shadow((op.alias,))
            namespace.names[op.alias] = Unknown(f"{op.module}.{op.name}")

    def _runtime_write(self, facts: FileFacts, op: RuntimeWrite, namespace: Namespace) -> None:
        """`globals().update(EXTRA)` of a dict the chain knows: assignments; anything else may
        change the names it reaches when the project runs."""
        if op.items is not None:
            items = evaluate_source(op.items, _Names(namespace), qualifier(facts.imports))
            if isinstance(items, dict) and all(isinstance(k, str) and k.isidentifier()
                                               for k in items):
                for name, value in items.items():
                    namespace.assign(SettingEntry(name, value, facts.path, facts.module,
                                                  op.line, 1))
                return
        namespace.add_overrides([Override(op.how, facts.path, facts.module, op.line, op.prefixes,
                                          optional=self._maybe > 0)])

    # -- settings classes ---------------------------------------------------------------------
    def _settings_class(self, facts: FileFacts, op: SettingsClass, namespace: Namespace,
                        active: frozenset[str]) -> None:
        qualify = qualifier(facts.imports)
        cls = SettingsClassValue(f"{facts.module}.{op.name}", facts.path, op.line)
        for written in reversed(op.bases):  # the first base wins, as in a simple MRO
            base = self._find_class(facts, written, namespace, active)
            if base is not None:
                cls.members.update(base.members)
                cls.configuration |= base.configuration
                cls.gaps += [g for g in base.gaps if g not in cls.gaps]
                cls.bases += (base.qualname, *base.bases)
                continue
            qualified = _qualified(written, qualify)
            if qualified.startswith("configurations."):
                cls.configuration = True
            elif qualified.split(".")[0] in self._project_packages:
                cls.gaps.append(f"{op.name}'s base `{written}` is not a settings class "
                                "celery-lint can read")
        own: dict[str, Value] = {n: m.value for n, m in cls.members.items()
                                 if isinstance(m, SettingEntry)}
        for assignment in op.body:
            if assignment.op == "property":
                cls.members[assignment.name] = _Property(
                    assignment, facts.path, facts.module, tuple(facts.imports.items()))
                own.pop(assignment.name, None)
                continue
            value = assignment.value if assignment.source is None else evaluate_source(
                assignment.source, _Names(namespace, own), qualify)
            own[assignment.name] = value
            cls.members[assignment.name] = SettingEntry(
                assignment.name, value, facts.path, facts.module, assignment.line,
                assignment.column)
        namespace.classes[op.name] = cls

    def _find_class(self, facts: FileFacts, written: str, namespace: Namespace,
                    active: frozenset[str]) -> SettingsClassValue | None:
        if written in namespace.classes:
            return namespace.classes[written]
        module, _, name = _qualified(written, qualifier(facts.imports)).rpartition(".")
        module = self.resolve(module)
        if module in self.files and module not in active:
            other = self.namespace(module, active)
            if other is not None:
                return other.classes.get(name)
        return None

    def class_settings(self, cls: SettingsClassValue, namespace: Namespace
                       ) -> dict[str, SettingEntry]:
        """The upper-case settings a class provides, its properties evaluated with its names."""
        values: dict[str, Value] = {n: m.value for n, m in cls.members.items()
                                    if isinstance(m, SettingEntry)}
        found: dict[str, SettingEntry] = {}
        for name, member in cls.members.items():
            if isinstance(member, _Property):
                op = member.assignment
                value = evaluate_source(op.source or "", _Names(namespace, values),
                                        qualifier(dict(member.imports)))
                values[name] = value
                member = SettingEntry(name, value, member.path, member.module, op.line,
                                      op.column)
            if name.isupper():
                found[name] = member
        return found

    def _class_load(self, facts: FileFacts, op: ClassSettingsLoad, namespace: Namespace,
                    active: frozenset[str]) -> None:
        cls = self._find_class(facts, op.name, namespace, active)
        if cls is None:
            namespace.add_overrides([Override(
                f"`{op.call}`, a class celery-lint cannot read", facts.path, facts.module,
                op.line, optional=self._maybe > 0)])
            return
        for entry in self.class_settings(cls, namespace).values():
            namespace.assign(entry)
        namespace.gaps += [g for g in cls.gaps if g not in namespace.gaps]

    def _branch(self, facts: FileFacts, op: SettingsBranch, namespace: Namespace,
                active: frozenset[str]) -> None:
        if op.test is not None:
            test = evaluate_source(op.test, _Names(namespace), qualifier(facts.imports))
            if isinstance(test, (bool, int, float, str, type(None))):
                self._run(facts, op.body if test else op.orelse, namespace, active)
                return
        before, overrides_before = dict(namespace.entries), list(namespace.overrides)
        self._maybe += 1
        try:
            self._run(facts, op.body, namespace, active)
            after_body, overrides_body = namespace.entries, namespace.overrides
            namespace.entries, namespace.overrides = dict(before), list(overrides_before)
            self._run(facts, op.orelse, namespace, active)
        finally:
            self._maybe -= 1
        after_else = namespace.entries
        # a write in one branch may happen; a name assigned in only one branch may still be
        # reached by an earlier one
        namespace.overrides = _either_overrides(overrides_body, namespace.overrides)
        merged = dict(before)
        for name in set(after_body) | set(after_else):
            body, other = after_body.get(name), after_else.get(name)
            if body is other:
                merged[name] = body  # type: ignore[assignment]
                continue
            if body is not None and other is not None and body.value == other.value \
                    and not uncertain(body.value):
                merged[name] = body
                continue
            in_body = body is not before.get(name)
            changed = body if in_body else other
            assert changed is not None
            if op.test is None:
                condition = f"inside the try block at line {op.line}"
            else:
                condition = f"only if {'' if in_body else 'not '}`{op.test}`"
            merged[name] = replace(changed, value=_either(
                body.value if body is not None else None,
                other.value if other is not None else None, condition, changed.value))
        namespace.entries = merged


def settled(namespace: Namespace) -> Namespace:
    """`namespace` as the project runs it: a name that a write which always runs can reach (a
    loop over the environment, a hook handed `globals()`) is unknown."""
    sources = [o for o in namespace.overrides if not o.optional]
    if not sources:
        return namespace
    entries = {}
    for name, entry in namespace.entries.items():
        reaching = next((o for o in sources if o.reaches(name)), None)
        entries[name] = entry if reaching is None else replace(
            entry, value=reaching.sets(entry.value))
    return replace(namespace, entries=entries)


def _either_overrides(one: list[Override], other: list[Override]) -> list[Override]:
    """The overrides after an `if`: each of either branch, reaching what it reaches in one."""
    found: dict[tuple[str, int, str], Override] = {}
    for override in [*one, *other]:
        known = found.get(override.key)
        found[override.key] = override if known is None else replace(
            known, shadowed=known.shadowed & override.shadowed)
    return list(found.values())


def _qualified(written: str, qualify: Qualify) -> str:
    try:
        node = ast.parse(written, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return written
    return qualify(node) or written


def _unparsable(module: str, facts: FileFacts) -> str:
    message, row, _ = facts.syntax_error or ("", 0, 0)
    return f"{module} cannot be parsed (line {row}: {message})"


def _either(one: Value, other: Value, condition: str, shown: Value) -> Value:
    """The value of a name that one branch set and the other may not have.

    Two lists with a common start (`INSTALLED_APPS.append(...)` in an `if`) keep what they share,
    followed by one unknown item; anything else is unknown.
    """
    if isinstance(one, tuple) and isinstance(other, tuple):
        common = 0
        for left, right in zip(one, other):
            if left != right or uncertain(left):
                break
            common += 1
        if common:
            longer = one if len(one) > len(other) else other
            rest = longer[common:]
            return one[:common] + (Unknown(f"{describe(rest)} ({condition})"),) if rest or \
                len(one) != len(other) else one[:common]
    return Unknown(f"{describe(shown)} ({condition})")


def set_at_run_time_only(value: Value) -> bool:
    """A setting the shipped settings leave out, which a write when the project runs may set."""
    return isinstance(value, FromEnv) and value.origin == "run time" and value.default is None


def uncertain(value: Value) -> bool:
    """A value no rule may fail on: unknown, or read from the environment."""
    return isinstance(value, (Unknown, FromEnv))


def qualifier(imports: Mapping[str, str]) -> Qualify:
    """Qualified names for a file that imports `imports` (local name → qualified name)."""

    def qualify(node: ast.AST) -> str | None:
        name = dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        if head in imports:
            return imports[head] + (f".{rest}" if rest else "")
        return name

    return qualify


def unread_note(entries: list[SettingEntry], celery: ProjectCelery) -> str:
    """What a message says of names written for a setting that Celery does not read:
    "`CELERYD_SOFT_TIME_LIMIT` (proj.settings line 12) is not a name Celery 5.6 (...) reads, so
    it sets nothing"; empty without any."""
    names = ", ".join(f"`{e.name}` ({e.module} line {e.line})" for e in entries)
    if len(entries) == 1:
        return f"{names} is not a name {celery.label} reads, so it sets nothing"
    return f"{names} are not names {celery.label} reads, so they set nothing" if entries else ""


# -- Celery's names -----------------------------------------------------------------------------
# In Django's settings only these names are taken for Celery's; a project's REDIS_HOST or S3_BUCKET
# is its own even though Celery has settings of those names.
CELERY_LOOKING = ("CELERY", "BROKER_", "TASK_", "WORKER_", "BEAT_", "RESULT_")
# Extensions that read settings of their own beside Celery's: RedBeat and celery-singleton from
# `app.conf` (`redbeat_redis_url`, so `CELERY_REDBEAT_REDIS_URL` under the namespace), celery-once
# (`ONCE`), django-celery-email and django-celery-monitor from Django (`CELERY_EMAIL_BACKEND`).
EXTENSION_NAMES = ("redbeat_", "singleton_", "once", "email_", "monitors_")
OLD_NAME_READ, OLD_NAME_PARTLY_READ, OLD_NAME_IGNORED = "old-read", "old-partly", "old-ignored"
MIXED, NO_PREFIX, NOT_HERE, NEEDS_NAMESPACE = "mixed", "no-prefix", "not-here", "needs-namespace"
OTHER_RELEASE, NO_SETTING = "other-release", "no-setting"


def preferred_key(setting: str, namespace: str | None) -> str:
    """The name to write for `setting` under `namespace`: `CELERY_TASK_ACKS_LATE`, `task_acks_late`."""
    return prefixed_key(setting, namespace) if namespace else setting


@dataclass(frozen=True)
class Unread:
    """Why Celery does not read a key of a config source as written, or reads it only by an old
    name: `kind` is one of the names above; `setting` is the setting the key stands for when that
    is known (from Celery's tables, or by its meaning for a name Celery does not have)."""

    kind: str
    setting: str | None = None
    instead: str | None = None  # the name to write, when Celery's own tables give it
    readers: tuple[str, ...] = ()  # OLD_NAME_PARTLY_READ: the minor releases that read it


def unread_key(key: str, celery: ProjectCelery, namespace: str | None, is_django: bool,
               mixed: Mapping[str, str] | None = None, conf: bool = False) -> Unread | None:
    """Why `celery` does not read `key` under `namespace` (from Django's settings when
    `is_django`, from `app.conf` when `conf`), or None when it reads it by its own name.

    A name Celery does not have at all is taken for Celery's when it says so: in Django's settings
    an upper-case name that starts with `CELERY` (or, with a setting it means, `BROKER_`,
    `TASK_`…); in a config module any lower-case name, or an upper-case one that starts with
    `CELERY`; in `app.conf` only a name that means a setting.
    """
    if key.startswith("_") or (is_django and not key.isupper()):
        return None
    if is_django and not key.startswith(CELERY_LOOKING):
        return None  # REDIS_HOST, DATABASE_URL, S3_BUCKET: the project's own
    if mixed and key in mixed:
        return Unread(MIXED, instead=mixed[key])
    setting = celery.readable_keys(namespace).get(key)
    if setting is not None:
        preferred = preferred_key(setting, namespace)
        if celery.is_old_key(key) and key != preferred and not (is_django and not namespace):
            return Unread(OLD_NAME_READ, setting, preferred)
        return None
    partly = celery.partly_read(namespace).get(key)
    if partly is not None:
        setting, readers = partly
        if not celery.is_old_key(key):
            return None  # a setting some of the project's releases have: it may well be read
        return Unread(OLD_NAME_PARTLY_READ, setting, preferred_key(setting, namespace), readers)
    setting = celery.ignored_old_name(key, namespace)
    if setting is not None:
        return Unread(OLD_NAME_IGNORED, setting, preferred_key(setting, namespace))
    prefix = f"{namespace.rstrip('_')}_" if namespace else ""
    bare = key[len(prefix):] if prefix and key.startswith(prefix) else key
    named = bare.lower() if "_" in bare else None
    if named is not None and named in celery.settings():
        if namespace and not key.startswith(prefix):
            return Unread(NO_PREFIX, named)
        if not namespace and not is_django and key != named:
            return Unread(NOT_HERE, named)
    if not namespace and is_django and key.startswith("CELERY_"):
        named = key[len("CELERY_"):].lower()
        if named in celery.settings():
            return Unread(NEEDS_NAMESPACE, named, celery.old_name(named))
    if named is not None and named not in celery.settings() and celery.introduced(named) \
            and (not namespace or key.startswith(prefix)):
        return Unread(OTHER_RELEASE, named)
    if bare.lower().startswith(EXTENSION_NAMES) or \
            key.lower().removeprefix("celery_").startswith(EXTENSION_NAMES):
        return None
    meant = celery.meant(key, namespace)
    says_celery = key.startswith("CELERY") if is_django or key.isupper() else not conf
    if meant is None and not says_celery:
        return None
    return Unread(NO_SETTING, meant)


# -- the configuration ------------------------------------------------------------------------
@dataclass(frozen=True)
class ConfiguredValue:
    """A Celery setting as the app would see it, and where it was set."""

    name: str  # Celery's lowercase name
    value: Value
    path: str
    line: int
    column: int
    key: str = ""  # as written in the source
    module: str = ""


@dataclass
class CeleryConfig:
    """What one Celery app reads when it runs with one production settings module."""

    values: dict[str, ConfiguredValue]
    module: str | None = None  # the production settings or config module
    path: str | None = None  # where a missing setting is reported
    namespace: str | None = None
    django: Namespace | None = None  # Django's settings, when the app reads them
    source: Namespace | None = None  # the evaluated config module
    gaps: tuple[str, ...] = ()
    # the settings asked for since the audit last cleared it: which run-time writes may change
    # an audit row depends on what its check read
    consulted: set[str] = field(default_factory=set)
    # names the config sets that Celery does not read, each with the setting it stands for
    unread: tuple[tuple[SettingEntry, Unread], ...] = ()
    celery: ProjectCelery = field(default_factory=installed_celery)  # the Celery that reads it

    @property
    def complete(self) -> bool:
        return not self.gaps

    def get(self, name: str) -> ConfiguredValue | None:
        self.consulted.add(name)
        return self.values.get(name)

    def overrides_of(self, settings: Iterable[str]) -> list[Override]:
        """The run-time writes that may change one of `settings` (Celery's names), through any
        key Celery reads it by."""
        if self.source is None or not self.source.overrides:
            return []
        keys = {key for setting in settings for key in self.celery.keys_of(setting, self.namespace)
                if self.django is None or key.isupper()}
        return [o for o in self.source.overrides if any(o.reaches(key) for key in keys)]

    def unread_as(self, *settings: str) -> list[SettingEntry]:
        """The names set for one of `settings` that Celery does not read (a misspelt limit)."""
        return [entry for entry, why in self.unread if why.setting in settings
                and why.kind not in (OLD_NAME_READ, OLD_NAME_PARTLY_READ, MIXED)]

    @property
    def has_time_limit(self) -> bool:
        return "task_time_limit" in self.values or "task_soft_time_limit" in self.values

    @property
    def may_use_pickle(self) -> bool:
        for name in ("task_serializer", "accept_content"):
            entry = self.values.get(name)
            if entry is None:
                continue
            value = entry.value
            if uncertain(value) or "pickle" in str(value) or "yaml" in str(value):
                return True
        return False


SHARED_TASKS_ONLY = ("no Celery app found: the project's `@shared_task` tasks run on an app "
                     "configured elsewhere, whose settings are not known")


@dataclass
class SettingsModel:
    """How the project configures Celery: the app, its settings source, the production modules."""

    app: CeleryApp | None = None
    source: str = "none"  # "django", "module", "app" (only app.conf) or "none"
    namespace: str | None = None
    family: tuple[str, ...] = ()  # settings modules the app may read, production and not
    production: tuple[str, ...] = ()
    configs: tuple[CeleryConfig, ...] = ()
    notes: tuple[str, ...] = ()  # why the configuration is not (fully) known


def build_settings(files: Mapping[str, FileFacts], apps: tuple[CeleryApp, ...],
                   settings_module: str | None, dev_patterns: tuple[str, ...],
                   copies: tuple[tuple[str, str, str], ...] = (), root: str = ".",
                   environment: tuple[tuple[str, str], ...] = (),
                   celery: ProjectCelery | None = None) -> SettingsModel:
    """The settings model; `copies` are the Dockerfiles' COPY/ADD (source, destination,
    Dockerfile): a module copied into place at build time is the one Python imports;
    `environment` the DJANGO_SETTINGS_MODULE and DJANGO_CONFIGURATION production deployments
    set; `celery` the project's Celery release (the installed one when not given)."""
    celery = celery or installed_celery()
    evaluator = SettingsEvaluator(files, dev_patterns, _copied_modules(files, copies, root))
    app = _main_app(apps)
    if app is None:
        if any(task.decorator == "shared_task" for facts in files.values()
               for task in facts.tasks):
            return SettingsModel(notes=(SHARED_TASKS_ONLY,))
        return SettingsModel(notes=("no Celery app found",))
    notes: list[str] = []
    source, namespace, module = "app", None, None
    objects = [o for o in app.configured_by if o[0]]
    if objects:
        obj, namespace = objects[-1]
        if obj in DJANGO_SETTINGS:
            source = "django"
        else:
            source, module = "module", evaluator.resolve(obj.replace(":", "."))
            if module not in files:
                notes.append(f"the app reads its configuration from `{obj}`, which is not a "
                             "module of the project")
                return SettingsModel(app, "module", namespace, notes=tuple(notes))
    if source == "django":
        family, production, more = _django_modules(files, app, settings_module, namespace,
                                                   evaluator, celery, environment)
        notes += more
    elif source == "module":
        assert module is not None
        family, production = (module,), (module,)
    else:
        family, production = (), ()
    # A settings module that cannot be parsed may star-import any other: nothing is missing for sure
    broken = tuple(_unparsable(m, files[m]) for m in family
                   if files[m].syntax_error is not None and not is_dev_module(m, dev_patterns))
    configs = []
    for name in production:
        namespace_ = evaluator.namespace(name)
        assert namespace_ is not None
        config = _config(files, app, namespace_, namespace, source == "django", celery)
        config.gaps += tuple(g for g in broken if g not in config.gaps)
        configs.append(config)
    if source == "app":
        path = files[app.qualname.rpartition(".")[0]].path
        configs.append(_config(files, app, None, None, False, celery, path))
    if source == "django" and not production:
        notes.append("no production settings module found")
    return SettingsModel(app, source, namespace, family, production, tuple(configs), tuple(notes))


def _copied_modules(files: Mapping[str, FileFacts], copies: tuple[tuple[str, str, str], ...],
                    root: str) -> dict[str, str]:
    """Module name → the project module a Dockerfile copies to where Python finds that name
    (`COPY docker/config.py app/settings/config.py` makes `app.settings.config` docker/config.py).

    A destination is matched by the last two or more parts of its path: where the image puts
    its code on the Python path is not known.
    """
    if not copies:
        return {}
    by_path = {os.path.normpath(os.path.abspath(f.path)): m for m, f in files.items()
               if f.path.endswith(".py")}
    found: dict[str, str] = {}
    for source, destination, dockerfile in copies:
        for base in (root, os.path.dirname(dockerfile)):
            origin = os.path.normpath(os.path.abspath(os.path.join(base, source)))
            for path, module in by_path.items():
                if path == origin:
                    target = destination + os.path.basename(path) \
                        if destination.endswith("/") else destination
                elif path.startswith(origin + os.sep):
                    target = destination.rstrip("/") + "/" + os.path.relpath(path, origin)
                else:
                    continue
                parts = os.path.normpath(target).strip("/").removesuffix(".py").split("/")
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                for start in range(len(parts) - 1):
                    name = ".".join(parts[start:])
                    if name != module:
                        found.setdefault(name, module)
    return found


def _main_app(apps: tuple[CeleryApp, ...]) -> CeleryApp | None:
    if not apps:
        return None
    ranked = sorted(apps, key=lambda a: (not a.configured_by, not a.conf and not (
        a.factory and a.factory.conf), a.qualname))
    return ranked[0]


def _config(files: Mapping[str, FileFacts], app: CeleryApp, source: Namespace | None,
            namespace: str | None, is_django: bool, celery: ProjectCelery,
            path: str | None = None) -> CeleryConfig:
    values: dict[str, ConfiguredValue] = {}
    unread: list[tuple[SettingEntry, Unread]] = []
    mixed: dict[str, str] = {}
    if source is not None:
        source = settled(source)
    if source is not None and not is_django and not namespace:
        mixed = celery.mixed_keys(frozenset(source.entries))
    if source is not None:
        keys = celery.readable_keys(namespace)
        partly = celery.partly_read(namespace)
        # Celery tries a setting's keys in order; the first one present wins
        found: dict[str, tuple[int, SettingEntry]] = {}
        order = celery.key_order(namespace)
        for key, entry in source.entries.items():
            if is_django and not key.isupper():
                continue  # Django's settings object only has upper-case names
            setting = keys.get(key) or partly.get(key, (None,))[0]
            why = unread_key(key, celery, namespace, is_django, mixed)
            if why is not None and why.setting is not None:
                unread.append((entry, why))
            if setting is None or key in mixed:
                continue
            rank = order[key]
            if setting not in found or rank < found[setting][0]:
                found[setting] = (rank, entry)
        for setting, (_, entry) in found.items():
            value = entry.value
            if entry.name in partly:  # an old name under a namespace, read from Celery 5.7 on
                readers = shown_minors(partly[entry.name][1])
                value = Unknown(f"{describe(value)}, read as `{entry.name}` by Celery {readers} "
                                f"only, not by every release of {celery.label}")
            values[setting] = ConfiguredValue(setting, value, entry.path, entry.line,
                                              entry.column, entry.name, entry.module)
        # a setting the shipped settings leave out, which a write that always runs may set
        sources = [o for o in source.overrides if not o.optional]
        for setting, setting_keys in celery.lookup(namespace).items() if sources else ():
            for key in setting_keys:
                reaching = next((o for o in sources if o.reaches(key)), None)
                if setting not in values and reaching is not None and (
                        key.isupper() or not is_django):
                    values[setting] = ConfiguredValue(
                        setting, reaching.sets(None), reaching.path, reaching.line, 1, key,
                        reaching.module)
    # app.conf and Celery(broker=...) win over the config object; the factory's first
    for owner in (app.factory, app):
        if owner is None:
            continue
        owner_path = files[owner.module].path
        for assignment in owner.conf:
            setting = celery.readable_keys(None).get(assignment.name)
            if setting is not None:
                values[setting] = ConfiguredValue(setting, assignment.value, owner_path,
                                                  assignment.line, assignment.column,
                                                  assignment.name, owner.module)
    return CeleryConfig(
        values, module=source.module if source else None,
        path=source.path if source else path, namespace=namespace,
        django=source if is_django else None, source=source,
        gaps=tuple(source.gaps) if source else (), unread=tuple(unread), celery=celery)


def is_dev_module(module: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(module, p) for p in patterns)


def _django_modules(files: Mapping[str, FileFacts], app: CeleryApp, configured: str | None,
                    namespace: str | None, evaluator: SettingsEvaluator,
                    celery: ProjectCelery, environment: tuple[tuple[str, str], ...] = ()
                    ) -> tuple[tuple[str, ...], tuple[str, ...], list[str]]:
    """The settings modules Django may load for the app, and the production ones among them.

    A module is a settings module because Django loads it as one: named by DJANGO_SETTINGS_MODULE
    (in the Celery module, manage.py, wsgi.py, asgi.py or a production deployment's environment,
    or copied into that name's place), star-imported by one, or setting Django or Celery settings
    itself. A helper module in the settings package is none of these.
    """
    notes: list[str] = []
    dev_patterns = evaluator.dev_patterns
    entry_points = [f for m, f in sorted(files.items()) if m.rsplit(".", 1)[-1] in ENTRY_POINTS]
    # the app's module, its factory's, and the entry points
    starters = [f for f in (files.get(app.module),
                            files.get(app.factory.module) if app.factory else None,
                            *entry_points) if f is not None]
    deployed = {name: [value for variable, value in environment if variable == name]
                for name in ("DJANGO_SETTINGS_MODULE", "DJANGO_CONFIGURATION")}
    configurations = list(dict.fromkeys([*(f.django_configuration for f in starters
                                           if f.django_configuration),
                                         *deployed["DJANGO_CONFIGURATION"]]))
    if configured:
        module = evaluator.resolve(configured)
        if evaluator.namespace(module) is None:
            return (), (), [f"`settings-module` {configured} is not a module of the project"]
        outer = module if module in files else module.rpartition(".")[0]
        production = _with_classes([module], configurations, evaluator, notes, check=False)
        return _family(files, [outer], evaluator), tuple(production), notes
    named = [*(f.django_settings_module for f in starters if f.django_settings_module),
             *deployed["DJANGO_SETTINGS_MODULE"]]
    candidates = list(dict.fromkeys(evaluator.resolve(c) for c in named))
    missing = sorted({c for c in candidates if c not in files})
    candidates = [c for c in candidates if c in files]
    if not candidates:
        for module in missing:
            notes.append(f"DJANGO_SETTINGS_MODULE names {module}, which is not in the project")
        candidates = [m for m, f in sorted(files.items())
                      if any(op.name == "INSTALLED_APPS" for op in _own_settings(f))
                      and "tests" not in m.split(".")]
    family = _settings_modules(files, candidates, namespace, evaluator, celery)
    with_settings = [m for m in family if _defines_settings(files[m])]
    # A module that another production settings module builds on (star import or name import)
    # is not itself production; a module with no settings of its own (an `__init__` that only
    # star-imports) selects, it does not build on.
    production_parents: set[str] = set()
    for module in with_settings:
        if not is_dev_module(module, dev_patterns):
            production_parents |= _built_on(files, module, evaluator)
    production = [m for m in with_settings if m not in production_parents
                  and not is_dev_module(m, dev_patterns)]
    if not production and len(with_settings) == 1:
        production = list(with_settings)
    return family, tuple(_with_classes(production, configurations, evaluator, notes)), notes


def _with_classes(modules: list[str], configurations: list[str], evaluator: SettingsEvaluator,
                  notes: list[str], check: bool = True) -> list[str]:
    """The production configurations of `modules`: a module of django-configurations classes
    stands for the class DJANGO_CONFIGURATION names (else each class no other one extends),
    `module.Class`. With `check`, a configuration that sets `DEBUG = True` is development."""
    found: list[str] = []
    for module in modules:
        namespace = evaluator.namespace(module)
        assert namespace is not None
        classes = {name: cls for name, cls in namespace.classes.items() if cls.configuration}
        chosen = [module]
        if classes:
            if configurations:
                names = [c for c in configurations if c in classes]
                notes += [f"DJANGO_CONFIGURATION names {c}, which {module} does not define"
                          for c in configurations if c not in classes]
            else:
                extended = {base for cls in classes.values() for base in cls.bases}
                names = [name for name, cls in classes.items() if cls.qualname not in extended]
            # class names say development as module names do (`Dev`, `Local`, `Test`)
            chosen = [f"{module}.{name}" for name in names if not check or not is_dev_module(
                f"{module}.{name.lower()}", evaluator.dev_patterns)]
        for name in chosen:
            debug = _literal_debug(evaluator.namespace(name)) if check else None
            if debug is None:
                found.append(name)
            else:
                notes.append(f"{name} sets `DEBUG = True` (line {debug.line} of {debug.module}): "
                             "a development settings module, not judged as production")
    return found


def _literal_debug(namespace: Namespace | None) -> SettingEntry | None:
    """Where a configuration sets `DEBUG = True` itself, not from the environment: development."""
    entry = settled(namespace).entries.get("DEBUG") if namespace is not None else None
    return entry if entry is not None and entry.value is True else None


def _settings_modules(files: Mapping[str, FileFacts], candidates: list[str],
                      namespace: str | None, evaluator: SettingsEvaluator,
                      celery: ProjectCelery) -> tuple[str, ...]:
    """The candidates and the modules around them that are settings modules: what a settings
    module star-imports, what star-imports one, and the modules of a settings package that set
    Django or Celery settings."""
    around = _family(files, candidates, evaluator)
    found = set(candidates) | {m for m in around if files[m].syntax_error is not None
                               or _sets_settings(files[m], namespace, celery)}
    changed = True
    while changed:
        changed = False
        for module in around:
            imported = {evaluator.resolve(op.module) for op in _all_ops(files[module].settings_ops)
                        if isinstance(op, StarImport)}
            if module in found:
                new = (imported & set(around)) - found
            else:
                new = {module} if imported & found else set()
            if new:
                found |= new
                changed = True
    return tuple(sorted(found))


def _sets_settings(facts: FileFacts, namespace: str | None, celery: ProjectCelery) -> bool:
    """Whether a module sets a Django setting, or a name Celery reads from Django's settings
    (or one that looks meant for it: a `CELERY` name)."""
    readable = celery.readable_keys(namespace)
    return any(isinstance(op, ClassSettingsLoad) for op in _all_ops(facts.settings_ops)) or any(
        op.name in DJANGO_SETTING_NAMES or op.name.isupper() and (
            op.name in readable or op.name.startswith("CELERY"))
        for op in _own_settings(facts))


def _defines_settings(facts: FileFacts) -> bool:
    """Whether a module sets names of its own (not only star-imports others)."""
    return facts.syntax_error is not None or any(
        isinstance(op, (SettingAssignment, SettingsClass, ClassSettingsLoad, RuntimeWrite))
        for op in _all_ops(facts.settings_ops))


def _own_settings(facts: FileFacts) -> Iterator[SettingAssignment]:
    """The assignments a module makes itself, in `if`/`try` blocks and settings classes too."""
    for op in _all_ops(facts.settings_ops):
        if isinstance(op, SettingAssignment):
            yield op
        elif isinstance(op, SettingsClass):
            yield from op.body


def _family(files: Mapping[str, FileFacts], candidates: list[str],
            evaluator: SettingsEvaluator) -> tuple[str, ...]:
    """The candidates, their siblings in a settings package, and what they star-import."""
    found: list[str] = []
    pending = list(candidates)
    for candidate in candidates:
        package = candidate if files[candidate].is_package else candidate.rpartition(".")[0]
        if "settings" in package.rsplit(".", 1)[-1]:
            pending += sorted(m for m in files if m.startswith(package + "."))
    while pending:
        module = pending.pop(0)
        if module in found or module not in files:
            continue
        found.append(module)
        pending += [evaluator.resolve(op.module) for op in _all_ops(files[module].settings_ops)
                    if isinstance(op, StarImport)]
    return tuple(sorted(found))


def _built_on(files: Mapping[str, FileFacts], module: str,
              evaluator: SettingsEvaluator) -> set[str]:
    """The modules `module` imports settings from, directly or through others."""
    found: set[str] = set()
    pending = [module]
    while pending:
        current = pending.pop()
        facts = files.get(current)
        if facts is None:
            continue
        for op in _all_ops(facts.settings_ops):
            if not isinstance(op, (StarImport, NameImport)):
                continue
            imported = evaluator.resolve(op.module)
            if imported in files and imported not in found and imported != module:
                found.add(imported)
                pending.append(imported)
    return found


def _all_ops(ops: tuple[SettingsOp, ...]) -> Iterator[SettingsOp]:
    for op in ops:
        yield op
        if isinstance(op, SettingsBranch):
            yield from _all_ops(op.body)
            yield from _all_ops(op.orelse)


def _assignments(ops: tuple[SettingsOp, ...]) -> Iterator[SettingAssignment]:
    return (op for op in _all_ops(ops) if isinstance(op, SettingAssignment))


def assignments_of(facts: FileFacts) -> Iterator[SettingAssignment]:
    """Every module-level assignment a file makes, in `if`/`try` blocks too."""
    return _assignments(facts.settings_ops)
