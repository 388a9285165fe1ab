"""`[tool.celery-lint]` from pyproject.toml into a frozen Config; every error names its key."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from celery_lint.codes import expand_codes

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10
    import tomli as tomllib

# what `fix-time-limits` leaves out takes these: a soft limit the task can catch, a hard one above
DEFAULT_FIX_TIME_LIMITS = (("soft", 300), ("hard", 360))
DEFAULT_DEV_SETTINGS = (
    "*test*",
    "*.tests",
    "*.local",
    "*.local_settings",
    "*.dev",
    "*.development",
    "*.ci",
    "*_test",
    "*_local",
    "*_dev",
)


class ConfigError(Exception):
    """A bad configuration: the run stops with exit code 2."""


@dataclass(frozen=True)
class Config:
    root: Path = field(default_factory=Path.cwd)
    source: Path | None = None  # the file the configuration came from
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] | None = None  # replaces the default excludes; None: keep them
    extend_exclude: tuple[str, ...] = ()
    settings_module: str | None = None
    dev_settings: tuple[str, ...] = DEFAULT_DEV_SETTINGS
    dev_deployments: tuple[str, ...] = ()  # deployment files that are not production (globs)
    view_modules: tuple[str, ...] = ()
    side_effect_calls: tuple[str, ...] = ()
    # the limits the CEL201/CEL303 fixes write; None (the default): no such fix, since only the
    # project knows how long its longest task may run (a guessed 360 s kills a database backup)
    fix_time_limits: tuple[tuple[str, int], ...] | None = None
    extra_task_names: tuple[str, ...] = ()
    extra_task_options: tuple[str, ...] = ()  # task decorator keywords read outside Celery
    cache_dir: str | None = None  # relative to `root`; default: .celery_lint_cache there
    preview: bool = False  # run the preview rules, and the preview parts of rules, too


def _string_list(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"`{key}` must be a list of strings")
    return tuple(value)


def _identifiers(key: str, value: Any) -> tuple[str, ...]:
    """A list of names that can be keywords (`lock_timeout`)."""
    names = _string_list(key, value)
    for name in names:
        if not name.isidentifier():
            raise ConfigError(f"`{key}`: {name!r} is not a keyword name")
    return names


def _string(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"`{key}` must be a string")
    return value


def _boolean(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"`{key}` must be true or false")
    return value


def _patterns(key: str, value: Any) -> tuple[str, ...]:
    """A list of gitignore-style patterns, each one that pathspec can compile."""
    patterns = _string_list(key, value)
    for pattern in patterns:
        _check_pattern(key, pattern)
    return patterns


def _check_pattern(key: str, pattern: str) -> None:
    import re

    import pathspec

    try:
        pathspec.GitIgnoreSpec.from_lines([pattern])
    except (ValueError, re.error) as exc:
        raise ConfigError(f"`{key}`: invalid pattern {pattern!r} ({exc})") from None


def _per_file_ignores(key: str, value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise ConfigError(f"`{key}` must be a table of glob = [codes]")
    for pattern in value:
        _check_pattern(f"{key}.{pattern}", pattern)
    return tuple((pattern, _string_list(f"{key}.{pattern}", codes)) for pattern, codes in value.items())


def _fix_time_limits(key: str, value: Any) -> tuple[tuple[str, int], ...]:
    if not isinstance(value, dict):
        raise ConfigError(f"`{key}` must be a table with `soft` and `hard`")
    limits = dict(DEFAULT_FIX_TIME_LIMITS)
    for name, seconds in value.items():
        if name not in limits:
            raise ConfigError(f"unknown key `{key}.{name}` (expected `soft` or `hard`)")
        if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds <= 0:
            raise ConfigError(f"`{key}.{name}` must be a positive integer of seconds")
        limits[name] = seconds
    if limits["soft"] >= limits["hard"]:
        raise ConfigError(f"`{key}.soft` must be below `{key}.hard`")
    return tuple(limits.items())


_KEYS = {
    "select": ("select", _string_list),
    "ignore": ("ignore", _string_list),
    "extend-select": ("extend_select", _string_list),
    "per-file-ignores": ("per_file_ignores", _per_file_ignores),
    "exclude": ("exclude", _patterns),
    "extend-exclude": ("extend_exclude", _patterns),
    "settings-module": ("settings_module", _string),
    "dev-settings": ("dev_settings", _string_list),
    "dev-deployments": ("dev_deployments", _string_list),
    "view-modules": ("view_modules", _string_list),
    "side-effect-calls": ("side_effect_calls", _string_list),
    "fix-time-limits": ("fix_time_limits", _fix_time_limits),
    "extra-task-names": ("extra_task_names", _string_list),
    "extra-task-options": ("extra_task_options", _identifiers),
    "cache-dir": ("cache_dir", _string),
    "preview": ("preview", _boolean),
}


def parse_table(table: dict[str, Any], root: Path, source: Path | None) -> Config:
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _KEYS:
            known = ", ".join(sorted(_KEYS))
            raise ConfigError(f"unknown key `{key}` in [tool.celery-lint] (known keys: {known})")
        attribute, convert = _KEYS[key]
        values[attribute] = convert(key, value)
    config = Config(root=root, source=source, **values)
    _check_codes(config)
    return config


def _check_codes(config: Config) -> None:
    fields = [("select", config.select or ()), ("ignore", config.ignore),
              ("extend-select", config.extend_select)]
    fields += [(f"per-file-ignores.{p}", codes) for p, codes in config.per_file_ignores]
    for key, codes in fields:
        try:
            expand_codes(codes)
        except ValueError as exc:
            raise ConfigError(f"`{key}`: {exc}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text: {exc}") from None


def _table_of(data: dict[str, Any], path: Path) -> dict[str, Any] | None:
    if path.name != "pyproject.toml":
        return data
    table = data.get("tool", {}).get("celery-lint")
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"`tool.celery-lint` in {path} must be a table")
    return table


def find_config_file(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.celery-lint] table, from `start` upwards."""
    start = start.resolve()
    directory = start if start.is_dir() else start.parent
    for candidate in (directory, *directory.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and _table_of(_read_toml(pyproject), pyproject) is not None:
            return pyproject
    return None


def load_config(start: Path, explicit: Path | None = None) -> Config:
    """Configuration for a run over `start`; `explicit` is `--config FILE`."""
    path = explicit if explicit is not None else find_config_file(start)
    if path is None:
        directory = start.resolve()
        return Config(root=directory if directory.is_dir() else directory.parent)
    table = _table_of(_read_toml(path), path) or {}
    return parse_table(table, path.resolve().parent, path.resolve())
