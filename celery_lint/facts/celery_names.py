"""Which Celery a project runs, and what that Celery reads: its settings, their defaults and old
names, and the keys of a config source it reads each setting from.

The version comes from the project's dependency files (`facts.requirements`), else from the Celery
installed beside the linter. What each release reads comes from Celery's own tables, generated per
minor release into `celery_lint.celery_tables` (only one Celery can be installed). A project whose
files allow several minor releases is judged by all of them: a key is read when every one of them
reads it, and ignored when none does.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

from celery_lint.celery_tables import LOOKUP, RELEASES, SETTINGS
from celery_lint.facts.requirements import Requirement, Version, requirements
from celery_lint.facts.types import Unknown, Value

MINORS = tuple(RELEASES)  # oldest first
_OLDER = ((3, 1), *((4, minor) for minor in range(5)))  # judged by the oldest row
_NEWER = (*((5, minor) for minor in range(len(MINORS), 20)), (6, 0), (7, 0))  # by the newest
_SAMPLE_PATCHES = (0, 999)
# Words of a name that say which part of Celery a setting is for, not what it does: the old names
# put them in front (`CELERYD_`, `CELERYBEAT_`), the new ones differently (`task_`, `worker_`).
_GROUP_WORDS = frozenset({"celery", "celeryd", "celerybeat", "celerymon", "celeryev", "task",
                          "tasks", "worker", "beat"})
_WORD_TYPO = 0.8  # how alike two words of four letters or more must be to be one misspelt


def _version(minor: str) -> Version:
    return tuple(int(part) for part in minor.split("."))


@dataclass(frozen=True)
class ProjectCelery:
    """The Celery releases a project may run (rows of the tables), and where that was read."""

    minors: tuple[str, ...]  # oldest first
    stated: tuple[str, ...] = ()  # how its files state it: `celery==5.6.3 in requirements.txt`
    installed: str | None = None  # the installed release, when no file states a version
    lowest: Version | None = None  # the lowest minor release the files allow
    older: bool = False  # the files allow releases older than the tables (judged by the oldest)
    newer: bool = False  # and newer ones (judged by the newest)

    @property
    def label(self) -> str:
        """`Celery 5.6 (celery==5.6.3 in requirements.txt)`: what a message assumes."""
        if self.installed is not None:
            return (f"Celery {self.installed} (the one installed: no dependency file of the "
                    "project states a version)")
        shown = "; ".join(self.stated[:2]) + (f"; {len(self.stated) - 2} more"
                                              if len(self.stated) > 2 else "")
        return f"Celery {self.versions} ({shown})"

    @property
    def versions(self) -> str:
        """`5.6`, `5.3-5.6`, `5.3 or later`, `5.2 or earlier`."""
        first, last = self.minors[0], self.minors[-1]
        if self.older and self.newer:
            return "of any version"
        if self.newer:
            return f"{first} or later"
        if self.older:
            return f"{last} or earlier"
        return first if first == last else f"{first}-{last}"

    # -- what it reads ---------------------------------------------------------------------------
    @property
    def _tables(self) -> _Tables:
        return _tables(self.minors)

    def settings(self) -> frozenset[str]:
        """Every setting some release of the project's Celery has."""
        return self._tables.settings

    def has_setting(self, setting: str) -> bool:
        """Whether every release of the project's Celery has `setting`."""
        return setting in self._tables.everywhere

    def default_of(self, setting: str) -> Value:
        """Celery's default for `setting`: Unknown when the project's releases disagree."""
        return self._tables.defaults.get(setting, None)

    def old_name(self, setting: str) -> str:
        """The upper-case name Celery reads for `setting` in a config of old names (its own
        name, upper-cased, for a setting its tables do not list)."""
        return self._tables.old_names.get(setting, setting.upper())

    def is_old_key(self, key: str) -> bool:
        """Whether `key` is the old name of a setting (`CELERY_ACKS_LATE`, `BROKER_URL`)."""
        return key in self._tables.from_old

    def setting_of_old(self, key: str) -> str | None:
        return self._tables.from_old.get(key)

    def readable_keys(self, namespace: str | None) -> dict[str, str]:
        """Every key each release of the project's Celery reads under `namespace`, mapped to its
        setting. The first key of each setting is Celery's preferred one."""
        return _readable(self.minors, namespace)[0]

    def partly_read(self, namespace: str | None) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Keys some releases of the project's Celery read and others do not: key → (setting,
        the minors that read it)."""
        return _readable(self.minors, namespace)[1]

    def lookup(self, namespace: str | None) -> dict[str, tuple[str, ...]]:
        """For each setting, the keys some release of the project's Celery reads it from under
        `namespace`, in the order Celery tries them."""
        return _lookup(self.minors, namespace)

    def keys_of(self, setting: str, namespace: str | None) -> tuple[str, ...]:
        return self.lookup(namespace).get(setting, ())

    def key_order(self, namespace: str | None) -> dict[str, int]:
        """Each key's rank among its setting's keys: Celery reads the lowest rank present."""
        return _readable(self.minors, namespace)[2]

    def ignored_old_name(self, key: str, namespace: str | None) -> str | None:
        """The setting `key` is the old name of, when no release of the project's Celery reads
        it under `namespace` (before 5.7, an old name under a namespace)."""
        setting = self.setting_of_old(key)
        if setting is None or key in self.readable_keys(namespace) \
                or key in self.partly_read(namespace):
            return None
        return setting

    def mixed_keys(self, keys: frozenset[str]) -> dict[str, str]:
        """Keys of a config without a namespace that Celery refuses to start with (a new name
        among old ones, or the other way round), and the name it asks for instead; those every
        release of the project's Celery refuses."""
        found = [_mixed(minor, keys) for minor in self.minors]
        return {key: found[-1][key] for key in set.intersection(*(set(f) for f in found))}

    def meant(self, key: str, namespace: str | None) -> str | None:
        """The setting `key` means when it is no name Celery reads: the one whose words, apart
        from the words that only say which part of Celery it is for, are the key's (a soft limit
        is the soft limit: `CELERYD_SOFT_TIME_LIMIT` is `task_soft_time_limit`, not
        `task_time_limit`), allowing a misspelt word. None when no setting, or several, fit."""
        return _meant(self.minors, key, namespace)

    def introduced(self, setting: str) -> str | None:
        """The first minor release in the tables that has `setting`."""
        spans = SETTINGS.get(setting)
        return spans[0][0] if spans else None

    def dropped(self, setting: str) -> str | None:
        """The last minor release that has `setting`, when a later one does not."""
        spans = SETTINGS.get(setting)
        return spans[-1][1] if spans and spans[-1][1] != MINORS[-1] else None


def shown_minors(minors: tuple[str, ...]) -> str:
    """`5.7`, `5.3-5.6`, `5.3, 5.5`: minors as a message names them."""
    if len(minors) > 1 and MINORS.index(minors[-1]) - MINORS.index(minors[0]) == len(minors) - 1:
        return f"{minors[0]}-{minors[-1]}"
    return ", ".join(minors)


def project_celery(root: Path) -> ProjectCelery:
    """The Celery of the project at `root`: from its dependency files, else the installed one."""
    found = requirements(root, "celery")
    if found:
        return _from_requirements(found)
    return installed_celery()


@cache
def installed_celery() -> ProjectCelery:
    try:
        release = metadata.version("celery")
    except metadata.PackageNotFoundError:  # pragma: no cover - celery is a dependency
        return ProjectCelery((MINORS[-1],), installed="(none)")
    minor = _version(release)[:2]
    row = next((m for m in MINORS if _version(m) == minor), None)
    if row is None:
        row = MINORS[0] if minor < _version(MINORS[0]) else MINORS[-1]
    return ProjectCelery((row,), installed=release)


def _from_requirements(found: tuple[Requirement, ...]) -> ProjectCelery:
    """Every minor release that all requirements allow; when they contradict each other (files
    for different environments), every minor one of them allows."""
    candidates = [*_OLDER, *(_version(m) for m in MINORS), *_NEWER]
    samples = {c: _samples(c, found) for c in candidates}
    allowed = {c: [v for v in samples[c] if all(r.allows(v) for r in found)] for c in candidates}
    if not any(allowed.values()):
        allowed = {c: [v for v in samples[c] if any(r.allows(v) for r in found)]
                   for c in candidates}
    allowed = {c: versions for c, versions in allowed.items() if versions}
    stated = tuple(dict.fromkeys(r.shown for r in found))
    if not allowed:  # nothing a Celery release could be: say so, judge by the newest
        return ProjectCelery((MINORS[-1],), stated)
    rows = [m for m in MINORS if _version(m) in allowed]
    older = any(c in allowed for c in _OLDER)
    newer = any(c in allowed for c in _NEWER)
    if older and MINORS[0] not in rows:
        rows.insert(0, MINORS[0])
    if newer and MINORS[-1] not in rows:
        rows.append(MINORS[-1])
    # with the oldest release allowed (`celery<6`), there is no lower bound to speak of
    lowest = None if candidates[0] in allowed else min(allowed[min(allowed)])
    return ProjectCelery(tuple(rows), stated, lowest=lowest, older=older, newer=newer)


def _samples(minor: Version, found: tuple[Requirement, ...]) -> list[Version]:
    """Releases of `minor` to try the requirements on: `5.6` itself, its first and a late patch,
    and the patches next to each one a requirement names (`==5.6.3`: 5.6.2, 5.6.3, 5.6.4)."""
    samples = {minor, *((*minor, patch) for patch in _SAMPLE_PATCHES)}
    for clause in (c for r in found for c in r.clauses):
        if clause.version[:2] == minor and len(clause.version) > 2:
            patch = clause.version[2]
            samples |= {(*minor, p) for p in (patch - 1, patch, patch + 1) if p >= 0}
    return sorted(samples)


# -- the tables for a set of minors -----------------------------------------------------------
@dataclass(frozen=True)
class _Tables:
    settings: frozenset[str]
    everywhere: frozenset[str]
    defaults: dict[str, Value]
    old_names: dict[str, str]  # setting → old name
    from_old: dict[str, str]  # old name → setting, for names that are no setting's own


@cache
def _row(minor: str) -> dict[str, tuple[str | None, object]]:
    """The settings of one minor release: setting → (old name, default); no old name for a
    setting Celery's code reads that its defaults table does not list."""
    index = MINORS.index(minor)
    found = {}
    for setting, spans in SETTINGS.items():
        for first, last, old, default in spans:
            if MINORS.index(first) <= index <= MINORS.index(last):
                found[setting] = (old, default)
    return found


@cache
def _tables(minors: tuple[str, ...]) -> _Tables:
    rows = [_row(minor) for minor in minors]
    settings = frozenset().union(*rows)
    everywhere = frozenset.intersection(*(frozenset(row) for row in rows))
    defaults: dict[str, Value] = {}
    old_names: dict[str, str] = {}
    for setting in sorted(settings):
        values = [row[setting][1] for row in rows if setting in row]
        first = values[0]
        defaults[setting] = first if all(v == first for v in values) else Unknown(  # type: ignore[assignment]
            f"Celery's default, which differs between Celery {shown_minors(minors)}")
        old = next(row[setting][0] for row in reversed(rows) if setting in row)
        if old is not None:
            old_names[setting] = old
    from_old = {old: setting for setting, old in old_names.items() if old not in settings}
    return _Tables(settings, everywhere, defaults, old_names, from_old)


def prefixed_key(setting: str, namespace: str) -> str:
    """The name of `setting` under `namespace`: `CELERY_TASK_ACKS_LATE` (Celery matches the case
    of the namespace)."""
    key = f"{namespace.rstrip('_')}_{setting}"
    return key.upper() if namespace.isupper() else key.lower()


def _keys_of(minor: str, setting: str, namespace: str | None) -> list[str]:
    """The keys `minor` reads `setting` from under `namespace`, in the order it tries them."""
    kinds = {"prefixed": prefixed_key(setting, namespace) if namespace else None,
             "new": setting, "old": _row(minor)[setting][0]}
    layouts = ("namespace",) if namespace else ("new", "old")
    keys: list[str] = []
    for layout in layouts:
        for kind in LOOKUP[minor][layout]:
            key = kinds[kind]
            if key is not None and key not in keys:
                keys.append(key)
    return keys


@cache
def _readable(minors: tuple[str, ...], namespace: str | None
              ) -> tuple[dict[str, str], dict[str, tuple[str, tuple[str, ...]]], dict[str, int]]:
    readers: dict[str, list[str]] = {}
    setting_of: dict[str, str] = {}
    order: dict[str, int] = {}
    for minor in minors:
        for setting in sorted(_row(minor)):
            for rank, key in enumerate(_keys_of(minor, setting, namespace)):
                setting_of.setdefault(key, setting)
                order[key] = min(order.get(key, rank), rank)
                readers.setdefault(key, []).append(minor)
    everywhere = {key: setting_of[key] for key, found in readers.items()
                  if len(found) == len(minors)}
    # a setting's first key is its preferred one: order by setting, then rank
    everywhere = dict(sorted(everywhere.items(), key=lambda item: (item[1], order[item[0]])))
    partly = {key: (setting_of[key], tuple(found)) for key, found in readers.items()
              if len(found) < len(minors)}
    return everywhere, partly, order


@cache
def _lookup(minors: tuple[str, ...], namespace: str | None) -> dict[str, tuple[str, ...]]:
    everywhere, partly, order = _readable(minors, namespace)
    found: dict[str, list[str]] = {}
    for key, setting in [*everywhere.items(), *((k, s) for k, (s, _) in partly.items())]:
        found.setdefault(setting, []).append(key)
    return {setting: tuple(sorted(keys, key=order.__getitem__)) for setting, keys in found.items()}


@cache
def _mixed(minor: str, keys: frozenset[str]) -> dict[str, str]:
    """Celery's `detect_settings` for a config source of `keys` without a namespace: a config of
    mostly new names must not hold old ones (and the other way round), unless both names of the
    setting are there. The keys it refuses, with the name it asks for."""
    row = {setting: old for setting, (old, _) in _row(minor).items() if old is not None}
    to_new = {old: setting for setting, old in row.items()}
    new, old = keys & set(row), keys & set(to_new)
    if old and len(old) > len(new):
        left, convert = new, row  # a config of old names
    else:
        left, convert = old, to_new
    return {key: convert[key] for key in sorted(left) if convert[key] not in keys}


def _words(name: str) -> tuple[str, ...]:
    """The words of a name that say what the setting does, without a plural `s`."""
    words = [w for w in name.lower().split("_") if w and w not in _GROUP_WORDS]
    return tuple(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
                 for w in words)


def _same_words(key: tuple[str, ...], setting: tuple[str, ...]) -> bool:
    if "".join(key) == "".join(setting):  # `timelimit` for `time_limit`
        return True
    if len(key) != len(setting):
        return False
    left = list(setting)
    for word in key:
        match = next((w for w in left if w == word or (
            max(len(w), len(word)) >= 4
            and difflib.SequenceMatcher(None, w, word).ratio() >= _WORD_TYPO)), None)
        if match is None:
            return False
        left.remove(match)
    return True


@cache
def _meant(minors: tuple[str, ...], key: str, namespace: str | None) -> str | None:
    prefix = f"{namespace.rstrip('_')}_".lower() if namespace else ""
    bare = key[len(prefix):] if prefix and key.lower().startswith(prefix) else key
    words = _words(bare)
    if not words:
        return None
    fits = [s for s in sorted(_tables(minors).settings) if _same_words(words, _words(s))]
    if len(fits) > 1:  # the closest spelling, when one is closer than the others
        ratios = sorted(((difflib.SequenceMatcher(None, bare.lower(), s).ratio(), s)
                         for s in fits), reverse=True)
        fits = [ratios[0][1]] if ratios[0][0] > ratios[1][0] else []
    return fits[0] if fits else None
