"""Generate `celery_lint/celery_tables.py`: Celery's setting tables for each minor release.

Only one Celery can be installed beside the linter, but a project is judged by its own. So for
each minor release in RELEASES (its latest patch release), this script downloads the wheel with
`pip download --no-deps`, unpacks it, and reads the release's own `celery/app/defaults.py` and
`celery/app/utils.py` in a subprocess of their own (Celery's code, never a linted project's): the
settings with their defaults and old names, and which keys of a config source Celery's `Settings`
reads a setting from, in which order, asked of its lookup itself over a probe config.

    python scripts/celery_tables.py          # rewrite celery_lint/celery_tables.py
    python scripts/celery_tables.py --check  # exit 1 when the file is not what the releases say

A new Celery release: add its minor and release to RELEASES and run the script.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import types
import zipfile
from pathlib import Path

RELEASES = {
    "5.0": "5.0.5", "5.1": "5.1.2", "5.2": "5.2.7", "5.3": "5.3.6",
    "5.4": "5.4.0", "5.5": "5.5.3", "5.6": "5.6.3", "5.7": "5.7.0",
}
TARGET = Path(__file__).resolve().parent.parent / "celery_lint" / "celery_tables.py"
PLACEHOLDER = "NAMESPACE"  # the namespace the probe reads under; no setting or old name uses it
LAYOUTS = ("namespace", "new", "old")
_CONF_GET = re.compile(r"""conf\.get\(\s*['"]([a-z][a-z0-9_]*)['"]""")


# -- in the release's own subprocess -------------------------------------------------------------
def probe(root: str) -> dict[str, object]:
    """The tables of the Celery unpacked at `root`, as JSON.

    Only `celery.app.defaults`, `celery.app.utils` and the modules they import are loaded: the
    `celery` and `celery.app` packages are stand-ins, so that their `__init__` (which imports the
    whole of Celery and its dependencies) does not run.
    """
    for name in ("celery", "celery.app"):
        package = types.ModuleType(name)
        package.__path__ = [f"{root}/{name.replace('.', '/')}"]
        sys.modules[name] = package
    from celery.app import defaults, utils

    old_of = defaults._TO_OLD_KEY
    renames = (utils._old_key_to_new, utils._new_key_to_old)
    lookups = {}
    for layout in LAYOUTS:
        prefix = PLACEHOLDER if layout == "namespace" else None
        layer = defaults._OLD_DEFAULTS if layout == "old" else defaults.DEFAULTS
        lookups[layout] = {setting: _keys_read(utils.Settings, prefix, layer, renames, setting)
                           for setting in sorted(defaults.SETTING_KEYS)}
    kinds = {layout: {setting: [_kind(key, setting, old_of[setting]) for key in keys]
                      for setting, keys in found.items()}
             for layout, found in lookups.items()}
    return {
        "settings": {setting: [old_of[setting], _plain(defaults.DEFAULTS[setting])]
                     for setting in sorted(defaults.SETTING_KEYS)},
        "lookup": kinds,
    }


def _keys_read(settings_class: type, prefix: str | None, layer: dict[str, object],
               renames: tuple[object, ...], setting: str) -> list[str]:
    """The keys of a config source Celery reads `setting` from, the one that wins first.

    A probe config holds every key Celery may try, each with a marker value, and Celery's
    defaults lie behind it as `detect_settings` lays them out; each key Celery returns is taken
    out and the lookup asked again, until the defaults answer: the keys left are never read.
    """
    probe_config: dict[str, object] = {}
    lookup = settings_class({}, [probe_config, layer], keys=renames, prefix=prefix)
    candidates = (*lookup._to_keys(setting), *(rename(setting) for rename in renames))
    markers = {key: object() for key in candidates}
    probe_config.update(markers)
    found: list[str] = []
    while probe_config:
        try:
            value = lookup[setting]
        except KeyError:
            break
        key = next((k for k, marker in markers.items() if marker is value), None)
        if key is None:
            break  # a default came first
        found.append(key)
        del probe_config[key]
    return found


def _kind(key: str, setting: str, old: str) -> str:
    if key == f"{PLACEHOLDER}_{setting.upper()}":
        return "prefixed"
    if key == setting:
        return "new"
    if key == old:
        return "old"
    raise ValueError(f"{setting}: Celery reads it as {key!r}, which is no known kind of key")


def _plain(value: object) -> object:
    """A default as JSON: a timedelta in seconds, lists as lists."""
    from datetime import timedelta

    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        return int(seconds) if seconds.is_integer() else seconds
    if isinstance(value, (list, tuple)):
        return {"tuple": [_plain(v) for v in value]}
    if isinstance(value, dict):
        return {"dict": [[k, _plain(v)] for k, v in value.items()]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValueError(f"a default of type {type(value).__name__}: {value!r}")


# -- in the script's process -----------------------------------------------------------------
def read_release(minor: str, release: str, folder: Path) -> dict[str, object]:
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "--only-binary=:all:", f"celery=={release}", "-d", str(folder)],
                   check=True)
    wheel = next(folder.glob(f"celery-{release}-*.whl"))
    root = folder / release
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(root, [n for n in archive.namelist() if n.startswith("celery/")])
    # -I: no user site, no PYTHONPATH, no current folder; the dependencies the two modules
    # import (kombu, billiard, vine) come from the interpreter running this script
    done = subprocess.run([sys.executable, "-I", __file__, "--probe", str(root)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"reading Celery {release} failed:\n{done.stderr}")
    tables = json.loads(done.stdout)
    tables["uniform"] = _uniform(minor, tables["lookup"])
    for name in sorted(_unlisted_reads(root) - set(tables["settings"])):
        tables["settings"][name] = [None, None]
    return tables


def _unlisted_reads(root: Path) -> set[str]:
    """Settings Celery's own code reads with `conf.get("name")` that its defaults table lacks
    (`result_backend_thread_safe`): no old name, no default Celery lists."""
    found = set()
    for path in (root / "celery").rglob("*.py"):
        found |= set(_CONF_GET.findall(path.read_text(encoding="utf-8")))
    return found


def _uniform(minor: str, lookup: dict[str, dict[str, list[str]]]) -> dict[str, tuple[str, ...]]:
    """Each layout's order of key kinds, which must be the same for every setting: the table
    stores one order per layout and release."""
    found = {}
    for layout, settings in lookup.items():
        orders = {tuple(kinds) for kinds in settings.values()}
        if len(orders) != 1:
            raise SystemExit(f"Celery {minor} reads settings in several orders under the "
                             f"{layout!r} layout: {sorted(orders)}; extend the table's format")
        found[layout] = orders.pop()
    return found


def _python(value: object) -> str:
    if isinstance(value, dict) and set(value) == {"tuple"}:
        items = [_python(v) for v in value["tuple"]]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, dict) and set(value) == {"dict"}:
        return "{" + ", ".join(f"{_python(k)}: {_python(v)}" for k, v in value["dict"]) + "}"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return f'float("{value}")'
    return json.dumps(value) if isinstance(value, str) else repr(value)


def render(tables: dict[str, dict[str, object]]) -> str:
    minors = list(tables)
    spans: dict[str, list[list[object]]] = {}
    for minor in minors:
        for setting, (old, default) in tables[minor]["settings"].items():  # type: ignore[union-attr]
            rows = spans.setdefault(setting, [])
            previous = minors[minors.index(minor) - 1] if minor != minors[0] else None
            if rows and rows[-1][1] == previous and rows[-1][2:] == [old, default]:
                rows[-1][1] = minor
            else:
                rows.append([minor, minor, old, default])
    lines = [
        '"""Celery\'s setting tables for each minor release from 5.0: every setting with its default',
        "and old name, and which keys of a config source Celery reads a setting from.",
        "",
        "Generated by scripts/celery_tables.py from each release's own celery/app/defaults.py and",
        "celery/app/utils.py. Do not edit: change the script's RELEASES and run it.",
        '"""',
        "",
        "# The release each minor's row was read from, oldest first.",
        "RELEASES: dict[str, str] = {",
        *(f'    "{minor}": "{RELEASES[minor]}",' for minor in minors),
        "}",
        "",
        "# The keys of a config source Celery reads a setting from, in the order it tries them:",
        '# "prefixed" is the namespace\'s name (`CELERY_TASK_ACKS_LATE` under namespace="CELERY"),',
        '# "new" the setting\'s own name (`task_acks_late`), "old" its old name (`CELERY_ACKS_LATE`).',
        '# By layout: "namespace" when the app reads its config under a namespace; without one, "new"',
        '# for a config of new names and "old" for a config of mostly old names. Before 5.7 Celery',
        "# looks each key up in the config and the defaults together, so under a namespace the new",
        "# name's default answers before an old name is tried; 5.7 reads the whole config first.",
        "LOOKUP: dict[str, dict[str, tuple[str, ...]]] = {",
    ]
    for minor in minors:
        uniform = tables[minor]["uniform"]
        lines.append(f'    "{minor}": {{')
        for layout in LAYOUTS:
            kinds = _python({"tuple": list(uniform[layout])})  # type: ignore[index]
            lines.append(f'        "{layout}": {kinds},')
        lines.append("    },")
    lines += [
        "}",
        "",
        "# Every setting: spans of minors with the same old name and default, as",
        "# (first minor, last minor, old name, default); a timedelta default is in seconds. A setting",
        "# with no old name is one Celery's code reads (`conf.get(\"name\")`) but its defaults table",
        "# does not list: Celery reads it by its own name only, and its default is not known here.",
        "SETTINGS: dict[str, tuple[tuple[str, str, str | None, object], ...]] = {",
    ]
    for setting in sorted(spans):
        rows = [f'("{first}", "{last}", {_python(old)}, {_python(default)})'
                for first, last, old, default in spans[setting]]
        single = f'    "{setting}": ({rows[0]},),' if len(rows) == 1 else None
        if single is not None and len(single) <= 99:
            lines.append(single)
            continue
        lines.append(f'    "{setting}": (')
        lines += [f"        {row}," for row in rows]
        lines.append("    ),")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when the file differs from what the releases say")
    parser.add_argument("--probe", metavar="DIR", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.probe:
        print(json.dumps(probe(options.probe)))
        return 0
    with tempfile.TemporaryDirectory(prefix="celery-tables-") as folder:
        tables = {minor: read_release(minor, release, Path(folder))
                  for minor, release in RELEASES.items()}
    text = render(tables)
    if options.check:
        same = TARGET.exists() and TARGET.read_text(encoding="utf-8") == text
        print(f"{TARGET} is {'up to date' if same else 'out of date'}")
        return 0 if same else 1
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
