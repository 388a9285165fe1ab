"""The project's Celery configuration as Celery would see it in production, found statically.

Settings modules are evaluated from the operations phase 1 recorded (assignments, `+=`,
`.append(...)`, star imports, `if`/`try` blocks) with the names a star-import chain provides.
Which modules are production, which app reads them and under which namespace, and how each key
maps to a Celery setting (through Celery's own tables) is decided here. Nothing is imported or run.
"""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cache

from celery_lint.facts.evaluate import Qualify, apply_op, dotted, evaluate_source
from celery_lint.facts.types import (
    CeleryApp,
    DynamicNames,
    FileFacts,
    FromEnv,
    NameImport,
    SettingAssignment,
    SettingsBranch,
    SettingsOp,
    StarImport,
    Unknown,
    Value,
)

DJANGO_SETTINGS = ("django.conf:settings", "django.conf.settings")
ENTRY_POINTS = ("manage", "wsgi", "asgi")


@dataclass(frozen=True)
class SettingEntry:
    """A name a settings module defines, its value, and where it was (last) set."""

    name: str
    value: Value
    path: str
    module: str
    line: int
    column: int


@dataclass
class Namespace:
    """A settings module evaluated: its names with star-import chains followed (later wins)."""

    module: str
    path: str
    entries: dict[str, SettingEntry] = field(default_factory=dict)
    names: dict[str, Value] = field(default_factory=dict)  # imported names, for evaluation only
    gaps: list[str] = field(default_factory=list)  # why some names may be missing
    chain: list[str] = field(default_factory=list)  # modules it includes, in order

    @property
    def complete(self) -> bool:
        return not self.gaps


class _Names(Mapping[str, Value]):
    """The values an expression in a settings module can read."""

    def __init__(self, namespace: Namespace) -> None:
        self.namespace = namespace

    def __getitem__(self, name: str) -> Value:
        entry = self.namespace.entries.get(name)
        if entry is not None:
            return entry.value
        return self.namespace.names[name]

    def __contains__(self, name: object) -> bool:
        return name in self.namespace.entries or name in self.namespace.names

    def __iter__(self) -> Iterator[str]:
        return iter({**self.namespace.names, **self.namespace.entries})

    def __len__(self) -> int:
        return len(set(self.namespace.names) | set(self.namespace.entries))


class SettingsEvaluator:
    """Evaluates settings modules of a project; each module once."""

    def __init__(self, files: Mapping[str, FileFacts], dev_patterns: tuple[str, ...] = ()) -> None:
        self.files = files
        self.dev_patterns = dev_patterns
        self._done: dict[str, Namespace] = {}
        self._project_packages = {m.split(".")[0] for m in files}

    def namespace(self, module: str, _active: frozenset[str] = frozenset()) -> Namespace | None:
        if module in self._done:
            return self._done[module]
        facts = self.files.get(module)
        if facts is None or module in _active:
            return None
        namespace = Namespace(module, facts.path, chain=[module])
        if facts.syntax_error is not None:
            namespace.gaps.append(_unparsable(module, facts))
        self._run(facts, facts.settings_ops, namespace, _active | {module})
        self._done[module] = namespace
        return namespace

    def _run(self, facts: FileFacts, ops: tuple[SettingsOp, ...], namespace: Namespace,
             active: frozenset[str]) -> None:
        for op in ops:
            if isinstance(op, SettingAssignment):
                self._assign(facts, op, namespace)
            elif isinstance(op, StarImport):
                self._star(op.module, namespace, active)
            elif isinstance(op, NameImport):
                self._name_import(op, namespace, active)
            elif isinstance(op, DynamicNames):
                gap = (f"{facts.module} sets names at run time (`{op.call}()` at line {op.line})")
                if gap not in namespace.gaps:
                    namespace.gaps.append(gap)
            else:
                self._branch(facts, op, namespace, active)

    def _assign(self, facts: FileFacts, op: SettingAssignment, namespace: Namespace) -> None:
        names = _Names(namespace)
        value = op.value if op.source is None else evaluate_source(
            op.source, names, qualifier(facts.imports))
        current = names.get(op.name)
        if op.op != "=" and op.name not in names:
            current = Unknown(f"{op.name} (not defined before line {op.line})")
        namespace.entries[op.name] = SettingEntry(
            op.name, apply_op(current, op.op, value, op.key), facts.path, facts.module, op.line,
            op.column)

    def _star(self, module: str, namespace: Namespace, active: frozenset[str]) -> None:
        other = self.namespace(module, active)
        if other is None:
            # a missing local/dev override (`try: from .local import *`) is not production's
            if module.split(".")[0] in self._project_packages and module not in active \
                    and not is_dev_module(module, self.dev_patterns):
                namespace.gaps.append(f"`from {module} import *`: {module} is not in the project")
            return
        namespace.entries.update(other.entries)
        namespace.names.update(other.names)
        namespace.gaps += [g for g in other.gaps if g not in namespace.gaps]
        namespace.chain += [m for m in other.chain if m not in namespace.chain]

    def _name_import(self, op: NameImport, namespace: Namespace, active: frozenset[str]) -> None:
        other = self.namespace(op.module, active) if op.module in self.files else None
        entry = other.entries.get(op.name) if other is not None else None
        if entry is not None:
            namespace.entries[op.alias] = replace(entry, name=op.alias)
        else:
            namespace.entries.pop(op.alias, None)
            namespace.names[op.alias] = Unknown(f"{op.module}.{op.name}")

    def _branch(self, facts: FileFacts, op: SettingsBranch, namespace: Namespace,
                active: frozenset[str]) -> None:
        if op.test is not None:
            test = evaluate_source(op.test, _Names(namespace), qualifier(facts.imports))
            if isinstance(test, (bool, int, float, str, type(None))):
                self._run(facts, op.body if test else op.orelse, namespace, active)
                return
        before = dict(namespace.entries)
        self._run(facts, op.body, namespace, active)
        after_body = namespace.entries
        namespace.entries = dict(before)
        self._run(facts, op.orelse, namespace, active)
        after_else = namespace.entries
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


def describe(value: Value) -> str:
    """A value as the audit shows it."""
    if isinstance(value, Unknown):
        return value.text
    if isinstance(value, FromEnv):
        where = f"${value.variable}" if value.origin == "environment" and value.variable else \
            value.variable or value.text
        source = "environment" if value.origin == "environment" else "config file"
        if not value.has_default:
            return f"from the {source} ({where}, no default)"
        return f"from the {source} ({where}, default {describe(value.default)})"
    if isinstance(value, tuple):
        return "[" + ", ".join(describe(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {describe(v)}" for k, v in value.items()) + "}"
    return repr(value)


# -- Celery's names -----------------------------------------------------------------------------
@cache
def _lookup(namespace: str | None) -> dict[str, tuple[str, ...]]:
    """For each setting, the keys of a config source Celery reads it from under `namespace`,
    the one that wins first.

    Asked of Celery's own lookup (`Settings.__getitem__`, with the rename table of
    `celery.app.utils`) over a probe config holding every key it may try for the setting, with
    Celery's defaults behind it as `detect_settings` lays them out: a key tried after the one the
    defaults hold is never read. Which keys Celery tries, and in which order, changes between
    versions: under a namespace Celery 5.3-5.6 try the prefixed name, then the plain new name,
    which the defaults always hold, so an old name (`CELERY_ALWAYS_EAGER`) is never read; Celery
    5.7 tries each map in turn, so the config's old name wins over the default. Without a
    namespace a config of old names has the old names' defaults behind it, so old names are read.
    """
    from celery.app.defaults import _OLD_DEFAULTS, DEFAULTS, SETTING_KEYS
    from celery.app.utils import Settings, _new_key_to_old, _old_key_to_new

    renames = (_old_key_to_new, _new_key_to_old)
    # a namespace makes Celery take the new layout; without one, the config's majority decides
    layouts = (DEFAULTS,) if namespace else (DEFAULTS, _OLD_DEFAULTS)
    found: dict[str, list[str]] = {setting: [] for setting in SETTING_KEYS}
    for defaults in layouts:
        probe: dict[str, object] = {}
        lookup = Settings({}, [probe, defaults], keys=renames, prefix=namespace)
        for setting, keys in found.items():
            candidates = (*lookup._to_keys(setting), *(rename(setting) for rename in renames))
            markers = {key: object() for key in candidates}
            probe.clear()
            probe.update(markers)
            while probe:
                try:
                    value = lookup[setting]
                except KeyError:
                    break
                key = next((k for k, marker in markers.items() if marker is value), None)
                if key is None:
                    break  # a default came first: the keys left are never read
                if key not in keys:
                    keys.append(key)
                del probe[key]
    return {setting: tuple(keys) for setting, keys in found.items()}


@cache
def readable_keys(namespace: str | None) -> dict[str, str]:
    """Every key Celery reads from a config source under `namespace`, mapped to its setting.

    From Celery's own lookup (`_lookup`): the prefixed new name, the new name and, where the
    installed Celery reads it, the old name from Celery's rename table. The first key of each
    setting is Celery's preferred one.
    """
    keys: dict[str, str] = {}
    for setting, found in sorted(_lookup(namespace).items()):
        for key in found:
            keys.setdefault(key, setting)
    return keys


def ignored_old_name(key: str, namespace: str | None) -> str | None:
    """The setting `key` is Celery's old name for, when the installed Celery does not read it
    under `namespace` (Celery before 5.7 under a namespace); None otherwise."""
    from celery.app.defaults import _TO_NEW_KEY

    if not is_old_key(key) or key in readable_keys(namespace):
        return None
    return _TO_NEW_KEY[key]


@cache
def preferred_key(setting: str, namespace: str | None) -> str:
    """The name to write for `setting` under `namespace`: `CELERY_TASK_ACKS_LATE`, `task_acks_late`."""
    return f"{namespace}_{setting.upper()}" if namespace else setting


def is_old_key(key: str) -> bool:
    from celery.app.defaults import _TO_NEW_KEY, SETTING_KEYS

    return key in _TO_NEW_KEY and key not in SETTING_KEYS


@cache
def mixed_keys(keys: frozenset[str]) -> dict[str, str]:
    """Keys Celery refuses to start with, as it detects them, and the names it asks for instead.

    Without a namespace, Celery reads a config in the new format or the old one by majority
    (`celery.app.utils.detect_settings`); a name of the other format stops it with
    ImproperlyConfigured.
    """
    from celery.app.utils import detect_settings
    from celery.exceptions import ImproperlyConfigured

    try:
        detect_settings(dict.fromkeys(keys))
    except ImproperlyConfigured as exc:
        renames = {}
        for line in str(exc).splitlines():
            old, arrow, new = line.partition(" -> ")
            if arrow and old.strip() in keys:
                renames[old.strip()] = new.strip()
        return renames
    return {}


def setting_of(key: str, namespace: str | None) -> str | None:
    return readable_keys(namespace).get(key)


def default_of(setting: str) -> Value:
    from celery.app.defaults import DEFAULTS

    value = DEFAULTS.get(setting)
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, (bool, int, float, str, type(None), tuple, dict)):
        return value
    return Unknown(repr(value))


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

    @property
    def complete(self) -> bool:
        return not self.gaps

    def get(self, name: str) -> ConfiguredValue | None:
        return self.values.get(name)

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
                   settings_module: str | None, dev_patterns: tuple[str, ...]) -> SettingsModel:
    evaluator = SettingsEvaluator(files, dev_patterns)
    app = _main_app(apps)
    if app is None:
        return SettingsModel(notes=("no Celery app found",))
    notes: list[str] = []
    source, namespace, module = "app", None, None
    objects = [o for o in app.config_objects if o[0]]
    if objects:
        obj, namespace = objects[-1]
        if obj in DJANGO_SETTINGS:
            source = "django"
        else:
            source, module = "module", obj.replace(":", ".")
            if module not in files:
                notes.append(f"the app reads its configuration from `{obj}`, which is not a "
                             "module of the project")
                return SettingsModel(app, "module", namespace, notes=tuple(notes))
    if source == "django":
        family, production, more = _django_modules(files, app, settings_module, dev_patterns,
                                                   evaluator)
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
        config = _config(files, app, namespace_, namespace, source == "django")
        config.gaps += tuple(g for g in broken if g not in config.gaps)
        configs.append(config)
    if source == "app":
        path = files[app.qualname.rpartition(".")[0]].path
        configs.append(_config(files, app, None, None, False, path))
    if source == "django" and not production:
        notes.append("no production settings module found")
    return SettingsModel(app, source, namespace, family, production, tuple(configs), tuple(notes))


def _main_app(apps: tuple[CeleryApp, ...]) -> CeleryApp | None:
    if not apps:
        return None
    ranked = sorted(apps, key=lambda a: (not a.config_objects, not a.conf, a.qualname))
    return ranked[0]


def _config(files: Mapping[str, FileFacts], app: CeleryApp, source: Namespace | None,
            namespace: str | None, is_django: bool, path: str | None = None) -> CeleryConfig:
    values: dict[str, ConfiguredValue] = {}
    mixed: dict[str, str] = {}
    if source is not None and not is_django and not namespace:
        mixed = mixed_keys(frozenset(source.entries))
    if source is not None:
        keys = readable_keys(namespace)
        # Celery tries a setting's keys in order; the first one present wins
        found: dict[str, tuple[int, SettingEntry]] = {}
        order = _key_order(namespace)
        for key, entry in source.entries.items():
            if is_django and not key.isupper():
                continue  # Django's settings object only has upper-case names
            setting = keys.get(key)
            if setting is None or key in mixed:
                continue
            rank = order[key]
            if setting not in found or rank < found[setting][0]:
                found[setting] = (rank, entry)
        for setting, (_, entry) in found.items():
            values[setting] = ConfiguredValue(setting, entry.value, entry.path, entry.line,
                                              entry.column, entry.name, entry.module)
    app_module = app.qualname.rpartition(".")[0]
    app_path = files[app_module].path
    for assignment in app.conf:  # app.conf and Celery(broker=...) win over the config object
        setting = setting_of(assignment.name, None)
        if setting is not None:
            values[setting] = ConfiguredValue(setting, assignment.value, app_path, assignment.line,
                                              assignment.column, assignment.name, app_module)
    return CeleryConfig(
        values, module=source.module if source else None,
        path=source.path if source else path, namespace=namespace,
        django=source if is_django else None, source=source,
        gaps=tuple(source.gaps) if source else ())


@cache
def _key_order(namespace: str | None) -> dict[str, int]:
    """Each key's rank among its setting's keys: Celery reads the lowest rank a config holds."""
    order: dict[str, int] = {}
    for found in _lookup(namespace).values():
        for rank, key in enumerate(found):
            order.setdefault(key, rank)
    return order


def is_dev_module(module: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(module, p) for p in patterns)


def _django_modules(files: Mapping[str, FileFacts], app: CeleryApp, configured: str | None,
                    dev_patterns: tuple[str, ...], evaluator: SettingsEvaluator
                    ) -> tuple[tuple[str, ...], tuple[str, ...], list[str]]:
    notes: list[str] = []
    if configured:
        if configured not in files:
            return (), (), [f"`settings-module` {configured} is not a module of the project"]
        family = _family(files, [configured])
        return family, (configured,), notes
    app_module = app.qualname.rpartition(".")[0]
    candidates: list[str] = []
    own = files.get(app_module)
    if own is not None and own.django_settings_module:
        candidates.append(own.django_settings_module)
    for module, facts in sorted(files.items()):
        if facts.django_settings_module and module.rsplit(".", 1)[-1] in ENTRY_POINTS:
            candidates.append(facts.django_settings_module)
    missing = sorted({c for c in candidates if c not in files})
    candidates = [c for c in dict.fromkeys(candidates) if c in files]
    if not candidates:
        for module in missing:
            notes.append(f"DJANGO_SETTINGS_MODULE names {module}, which is not in the project")
        candidates = [m for m, f in sorted(files.items()) if _assigns(f, "INSTALLED_APPS")
                      and "tests" not in m.split(".")]
    family = _family(files, candidates)
    with_settings = [m for m in family if files[m].syntax_error is not None
                     or any(True for _ in _assignments(files[m].settings_ops))]
    # A module that another production settings module builds on (star import or name import)
    # is not itself production; a module with no settings of its own (an `__init__` that only
    # star-imports) selects, it does not build on.
    production_parents: set[str] = set()
    for module in with_settings:
        if not is_dev_module(module, dev_patterns):
            production_parents |= _built_on(files, module)
    production = tuple(m for m in with_settings if m not in production_parents
                       and not is_dev_module(m, dev_patterns))
    if not production and len(with_settings) == 1:
        production = tuple(with_settings)
    for module in production:
        evaluator.namespace(module)
    return family, production, notes


def _family(files: Mapping[str, FileFacts], candidates: list[str]) -> tuple[str, ...]:
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
        pending += [op.module for op in _all_ops(files[module].settings_ops)
                    if isinstance(op, StarImport)]
    return tuple(sorted(found))


def _built_on(files: Mapping[str, FileFacts], module: str) -> set[str]:
    """The modules `module` imports settings from, directly or through others."""
    found: set[str] = set()
    pending = [module]
    while pending:
        current = pending.pop()
        facts = files.get(current)
        if facts is None:
            continue
        for op in _all_ops(facts.settings_ops):
            if isinstance(op, (StarImport, NameImport)) and op.module in files \
                    and op.module not in found and op.module != module:
                found.add(op.module)
                pending.append(op.module)
    return found


def _all_ops(ops: tuple[SettingsOp, ...]) -> Iterator[SettingsOp]:
    for op in ops:
        yield op
        if isinstance(op, SettingsBranch):
            yield from _all_ops(op.body)
            yield from _all_ops(op.orelse)


def _assignments(ops: tuple[SettingsOp, ...]) -> Iterator[SettingAssignment]:
    return (op for op in _all_ops(ops) if isinstance(op, SettingAssignment))


def _assigns(facts: FileFacts, name: str) -> bool:
    return any(op.name == name for op in _assignments(facts.settings_ops))


def assignments_of(facts: FileFacts) -> Iterator[SettingAssignment]:
    """Every module-level assignment a file makes, in `if`/`try` blocks too."""
    return _assignments(facts.settings_ops)
