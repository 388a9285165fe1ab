"""The cache under `.celery_lint_cache/`: phase 1 facts by file content, final diagnostics by
file content and project state.

Two files per cache folder, each read once and written once per run, atomically (a temporary
file renamed over the old one), so concurrent runs never see half a file: the last one to finish
wins, and both wrote a whole cache. A cache file that cannot be read (corrupt, truncated, from
another version) is ignored and rebuilt. It is a pickle, read with an unpickler that builds
nothing but celery-lint's own data classes and plain containers: a cache folder planted in a
repository cannot run code.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import pickle
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from celery_lint import __version__

CACHE_DIR_NAME = ".celery_lint_cache"
_TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
        "# This file is a cache directory tag created by celery-lint.\n"
        "# For information about cache directory tags, see https://bford.info/cachedir/\n")
_SAFE_BUILTINS = frozenset({"set", "frozenset", "tuple", "list", "dict", "bytes", "str", "int",
                            "float", "complex", "bool", "slice", "range", "getattr"})


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """The size and modification time of each of celery-lint's own modules, hashed: a new fact
    field or rule under the same version number is a new cache, not stale facts read back."""
    package = Path(__file__).resolve().parent
    stamps = []
    for path in sorted(package.rglob("*.py")):
        try:
            status = path.stat()
        except OSError:
            continue
        stamps.append(f"{path.relative_to(package)} {status.st_size} {status.st_mtime_ns}")
    return digest("\n".join(stamps).encode()).hex()[:12]


def digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


class _Unpickler(pickle.Unpickler):
    """Only celery-lint's classes and builtin containers: nothing that can run code."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "builtins" and name in _SAFE_BUILTINS:
            return super().find_class(module, name)
        if module == "datetime" and name == "timedelta":
            return super().find_class(module, name)
        if module.startswith("celery_lint.") and "." not in name:
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        raise pickle.UnpicklingError(f"not allowed in a celery-lint cache: {module}.{name}")


def _load(path: Path) -> Any:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        return _Unpickler(io.BytesIO(data)).load()
    except Exception:  # noqa: BLE001 - any damage to a cache file means: no cache
        return None


def _store(path: Path, value: Any) -> None:
    """Write `value` to `path` atomically; a cache that cannot be written is skipped."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except (OSError, pickle.PicklingError, RecursionError, TypeError, AttributeError):
        pass


def _mark(folder: Path) -> None:
    """A cache folder ignores itself in git and tells backup tools it is a cache."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# Automatically created by celery-lint.\n*\n", encoding="utf-8")
        tag = folder / "CACHEDIR.TAG"
        if not tag.exists():
            tag.write_text(_TAG, encoding="utf-8")
    except OSError:
        pass  # a folder that cannot be written: no cache


@dataclass
class Cache:
    """One cache folder, of three tables, each read when first needed: the phase 1 entries of
    Python files and of deployment files by path (content digest, entry), and, per configuration,
    what checking a file gave by path (content digest, project fingerprint, outcome). Deployment
    facts have a small file of their own: a run where nothing changed reads only that and the
    results."""

    folder: Path
    configuration: str = ""  # a digest of the configuration: results are kept per configuration
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)  # by file name, once read
    changed: bool = False

    @classmethod
    def open(cls, folder: Path, configuration: str) -> Cache:
        """The cache in `folder`; its files are read when first needed."""
        return cls(folder, configuration=configuration)

    @property
    def _version(self) -> str:
        # facts come from `ast`, whose trees change with Python's version; the code fingerprint
        # keeps a development install from reading facts or results an older checkout wrote
        python = f"py{sys.version_info[0]}.{sys.version_info[1]}"
        return f"{__version__}-{python}-{code_fingerprint()}".replace("/", "_")

    def _table(self, name: str) -> dict[str, Any]:
        if name not in self.tables:
            found = _load(self.folder / self._version / name)
            self.tables[name] = found if isinstance(found, dict) else {}
        return self.tables[name]

    def _facts(self, deploy: bool) -> dict[str, Any]:
        return self._table("deploy-facts.pickle" if deploy else "facts.pickle")

    def _results(self) -> dict[str, Any]:
        return self._table(f"results-{self.configuration}.pickle")

    def fact(self, path: str, content: bytes, deploy: bool = False) -> Any:
        """The phase 1 entry stored for `path` with this content digest, else None."""
        stored = self._facts(deploy).get(path)
        if stored is not None and stored[0] == content:
            return stored[1]
        return None

    def put_fact(self, path: str, content: bytes, entry: Any, deploy: bool = False) -> None:
        self._facts(deploy)[path] = (content, entry)
        self.changed = True

    def result(self, path: str, content: bytes, fingerprint: bytes) -> Any:
        """What checking `path` gave with this content in this project state, else None."""
        stored = self._results().get(path)
        if stored is not None and stored[0] == content and stored[1] == fingerprint:
            return stored[2]
        return None

    def put_result(self, path: str, content: bytes, fingerprint: bytes, outcome: Any) -> None:
        self._results()[path] = (content, fingerprint, outcome)
        self.changed = True

    def save(self) -> None:
        if not self.changed:
            return
        _mark(self.folder)
        for name, table in self.tables.items():
            _store(self.folder / self._version / name, table)
        self.changed = False


def configuration_key(config: Any) -> str:
    """A short digest of everything besides the files that can change a file's diagnostics: the
    configuration, and the installed Celery, whose tables (setting names, renames, the crontab
    parser) the rules use."""
    return digest(f"{config!r} {celery_version()}".encode("utf-8", "replace")).hex()[:16]


def celery_version() -> str:
    """The installed Celery's version, from its metadata (importing celery takes a while)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("celery")
    except PackageNotFoundError:
        return ""
