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
    """One cache folder. `facts` maps a path to (content digest, phase 1 entry); `results`
    maps a path to (content digest, project fingerprint, what checking the file gave)."""

    folder: Path
    facts: dict[str, tuple[bytes, Any]] = field(default_factory=dict)
    deploy_facts: dict[str, tuple[bytes, Any]] = field(default_factory=dict)
    results: dict[str, tuple[bytes, bytes, Any]] = field(default_factory=dict)
    configuration: str = ""  # a digest of the configuration: results are kept per configuration
    _loaded_facts: bool = False
    _loaded_deploy: bool = False
    _loaded_results: bool = False
    changed: bool = False

    @classmethod
    def open(cls, folder: Path, configuration: str) -> Cache:
        """The cache in `folder`; its files are read when first needed."""
        return cls(folder, configuration=configuration)

    @property
    def _version(self) -> str:
        # facts come from `ast`, whose trees change with Python's version
        return f"{__version__}-py{sys.version_info[0]}.{sys.version_info[1]}".replace("/", "_")

    @property
    def _facts_path(self) -> Path:
        return self.folder / self._version / "facts.pickle"

    @property
    def _deploy_path(self) -> Path:
        return self.folder / self._version / "deploy-facts.pickle"

    @property
    def _results_path(self) -> Path:
        return self.folder / self._version / f"results-{self.configuration}.pickle"

    def load_facts(self, deploy: bool = False) -> dict[str, tuple[bytes, Any]]:
        """The phase 1 entries of Python files, or of deployment files (a small file of its own:
        a run where nothing changed reads only that one)."""
        if deploy:
            if not self._loaded_deploy:
                found = _load(self._deploy_path)
                if isinstance(found, dict):
                    self.deploy_facts = found
                self._loaded_deploy = True
            return self.deploy_facts
        if not self._loaded_facts:
            found = _load(self._facts_path)
            if isinstance(found, dict):
                self.facts = found
            self._loaded_facts = True
        return self.facts

    def load_results(self) -> dict[str, tuple[bytes, bytes, Any]]:
        if not self._loaded_results:
            found = _load(self._results_path)
            if isinstance(found, dict):
                self.results = found
            self._loaded_results = True
        return self.results

    def fact(self, path: str, content: bytes, deploy: bool = False) -> Any:
        """The phase 1 entry stored for `path` with this content digest, else None."""
        stored = self.load_facts(deploy).get(path)
        if stored is not None and stored[0] == content:
            return stored[1]
        return None

    def put_fact(self, path: str, content: bytes, entry: Any, deploy: bool = False) -> None:
        self.load_facts(deploy)[path] = (content, entry)
        self.changed = True

    def result(self, path: str, content: bytes, fingerprint: bytes) -> Any:
        """What checking `path` gave with this content in this project state, else None."""
        stored = self.load_results().get(path)
        if stored is not None and stored[0] == content and stored[1] == fingerprint:
            return stored[2]
        return None

    def put_result(self, path: str, content: bytes, fingerprint: bytes, outcome: Any) -> None:
        self.load_results()[path] = (content, fingerprint, outcome)
        self.changed = True

    def save(self) -> None:
        if not self.changed:
            return
        _mark(self.folder)
        if self._loaded_facts:
            _store(self._facts_path, self.facts)
        if self._loaded_deploy:
            _store(self._deploy_path, self.deploy_facts)
        if self._loaded_results:
            _store(self._results_path, self.results)
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
