"""Deployments: the process definitions of every deployment file joined into the ways the project
runs (a compose file with its override and `extends`, a folder of manifests or units, scripts
run through a Dockerfile's COPY), each production or not.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from celery_lint.discovery import project_root_of
from celery_lint.facts.types import DeployFacts, Invocation, ProcessDef

DEV_WORDS = frozenset({"dev", "develop", "development", "local", "test", "tests", "testing", "ci",
                       "debug"})
STARTED = frozenset({"worker", "beat", "flower", "events", "exporter"})  # not `inspect ping`
PATH_FOLDERS = frozenset({"/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin"})
OVERRIDE = re.compile(r"^(?P<base>(docker-)?compose)\.override\.ya?ml$", re.IGNORECASE)


@dataclass(frozen=True)
class Process:
    """A Celery process of a deployment, where its command line is, and how it is run."""

    kind: str  # "worker", "beat", "monitor" or the subcommand
    invocation: Invocation
    definition: ProcessDef
    path: str  # the file of the command line (a script's, when a definition runs one)
    defined_in: str  # the deployment file
    replicas: int | None
    restarts: bool | None
    restart_text: str

    @property
    def line(self) -> int:
        return self.invocation.line

    @property
    def column(self) -> int:
        return self.invocation.column

    @property
    def runs_beat(self) -> bool:
        return self.kind == "beat" or self.invocation.embedded_beat

    @property
    def scaled(self) -> str | None:
        """Why more than one copy of this process can run, or None."""
        definition = self.definition
        if definition.per_node:
            return "one copy on every node (a DaemonSet or `deploy.mode: global`)"
        if definition.template:
            return "a template unit (one copy per instance: name@1, name@2, ...)"
        if self.replicas is not None and self.replicas > 1:
            return f"{self.replicas} copies"
        return None


@dataclass
class Deployment:
    """One way the project runs: a Procfile, a compose file with its override, a folder of
    Kubernetes manifests or systemd units, a supervisord config, or a Dockerfile's default."""

    name: str  # the path, as shown
    kind: str
    production: bool
    processes: list[Process]

    @property
    def image_default(self) -> bool:
        return self.kind == "dockerfile"


def _says_production(relative: str) -> bool:
    words = {w.lower() for w in re.split(r"[/._\-]", relative) if w}
    return bool(words & {"prod", "production", "live", "release"})


def is_dev_path(relative: str, patterns: tuple[str, ...] = ()) -> bool:
    """A deployment file named (or configured) as development, local or test."""
    posix = relative.replace("\\", "/")
    if any(fnmatch.fnmatch(posix, p) or fnmatch.fnmatch(posix, p.rstrip("/") + "/*")
           for p in patterns):
        return True
    words = {w.lower() for part in posix.split("/") for w in re.split(r"[._\-]", part) if w}
    return bool(words & DEV_WORDS)


def production_environment(files: list[DeployFacts], dev_patterns: tuple[str, ...] = ()
                           ) -> tuple[tuple[str, str], ...]:
    """DJANGO_SETTINGS_MODULE and DJANGO_CONFIGURATION as the production deployment files set
    them (a file named or configured as development, or that runs a development setup, does
    not count)."""
    found = [pair for facts in files if facts.environment and not facts.dev_hints
             and not is_dev_path(_relative(facts.path, "."), dev_patterns)
             for pair in facts.environment]
    return tuple(dict.fromkeys(found))


def build_deployments(files: list[DeployFacts], root: str, dev_patterns: tuple[str, ...] = ()
                      ) -> list[Deployment]:
    by_path = {f.path: f for f in files}
    shell = {f.path: f for f in files if f.kind == "shell"}
    copies = [(source, destination, f.path) for f in files for source, destination in f.copies]
    deployments: dict[str, Deployment] = {}
    definitions: dict[str, list[tuple[ProcessDef, str]]] = {}
    for facts in files:
        if facts.kind in ("shell", "compose-fragment"):
            continue
        if facts.kind == "compose" and facts.dev_hints and \
                OVERRIDE.match(facts.path.replace("\\", "/").rsplit("/", 1)[-1]):
            continue  # a development override: production runs the base file alone
        group = _group_of(facts, by_path)
        relative = _relative(group, root)
        if group not in deployments:
            name = relative
            if facts.kind in ("kubernetes", "systemd", "supervisord"):
                folder = name.rpartition("/")[0] or "."
                what = {"kubernetes": "Kubernetes manifests", "systemd": "systemd units",
                        "supervisord": "supervisord configs"}[facts.kind]
                name = f"the {what} in {folder}/"
            deployments[group] = Deployment(name, facts.kind,
                                            not is_dev_path(relative, dev_patterns), [])
        if facts.dev_hints and not _says_production(relative):
            deployments[group].production = False  # a neutral name, but a development setup
        definitions.setdefault(group, [])
        for definition in facts.processes:
            definitions[group].append((definition, facts.path))
    for group, items in definitions.items():
        if deployments[group].kind == "compose":
            items.sort(key=lambda item: item[1] != group)  # the base file, then its override
            items = _merge_overrides(items)
        for definition, path in items:
            definition = _extended(definition, path, by_path)
            deployments[group].processes += _processes(definition, path, shell, copies, root)
    run = {p.path for d in deployments.values() for p in d.processes}
    for path, facts in sorted(shell.items()):
        relative = _relative(path, root)
        if path in run or is_dev_path(relative, dev_patterns):
            continue
        # a script that starts a worker or beat is how the project runs it, even when what runs
        # the script (a compose file, a platform's settings) lives in another repository; the
        # scripts of a folder are one deployment, as a folder of systemd units is
        group = os.path.join(os.path.dirname(path), "<shell>")
        folder = relative.rpartition("/")[0] or "."
        deployment = deployments.setdefault(
            group, Deployment(f"the shell scripts in {folder}/", "shell", True, []))
        deployment.processes += [
            _make(invocation, definition, path, path) for definition in facts.processes
            for invocation in definition.invocations if invocation.command in STARTED]
    return [d for d in deployments.values() if d.processes]


def _relative(path: str, root: str) -> str:
    """`path` within its project (the folder with manage.py, pyproject.toml, .git...)."""
    project = str(project_root_of(Path(path.replace("<", "").replace(">", "")
                                       if path.endswith(">") else path)))
    try:
        return os.path.relpath(path, project).replace("\\", "/")
    except ValueError:
        return path


def _group_of(facts: DeployFacts, by_path: dict[str, DeployFacts]) -> str:
    """The deployment a file belongs to: an override joins its compose file; Kubernetes
    manifests and systemd units join the others in their folder."""
    directory, name = os.path.split(facts.path)
    if facts.kind == "compose":
        match = OVERRIDE.match(name)
        if match:
            for suffix in (".yml", ".yaml"):
                base = os.path.join(directory, match.group("base") + suffix)
                if base in by_path:
                    return base
        return facts.path
    if facts.kind in ("kubernetes", "systemd", "supervisord"):
        return os.path.join(directory, f"<{facts.kind}>")
    return facts.path


def _merge_overrides(items: list[tuple[ProcessDef, str]]) -> list[tuple[ProcessDef, str]]:
    """Services of a compose override replace what they restate of the same service."""
    merged: dict[str, tuple[ProcessDef, str]] = {}
    for definition, path in items:
        if definition.name in merged:
            base, base_path = merged[definition.name]
            merged[definition.name] = (_overlay(base, definition),
                                       path if definition.has_command else base_path)
        else:
            merged[definition.name] = (definition, path)
    return list(merged.values())


def _overlay(base: ProcessDef, override: ProcessDef) -> ProcessDef:
    changes: dict[str, Any] = {}
    if override.has_command:
        changes.update(invocations=override.invocations, scripts=override.scripts,
                       line=override.line, has_command=True)
    if override.restart_text != "no `restart:` policy":
        changes.update(restarts=override.restarts, restart_text=override.restart_text)
    if override.replicas is not None or override.replicas_text is not None:
        changes.update(replicas=override.replicas, replicas_text=override.replicas_text)
    return replace(base, **changes)


def _extended(definition: ProcessDef, path: str, by_path: dict[str, DeployFacts],
              depth: int = 0) -> ProcessDef:
    """A compose service with what it inherits through `extends:` filled in."""
    if definition.extends is None or depth > 8:
        return definition
    file, service = definition.extends
    base_path = os.path.normpath(os.path.join(os.path.dirname(path), file)) if file else path
    facts = by_path.get(base_path)
    base = next((d for d in facts.processes if d.name == service), None) if facts else None
    if base is None:
        return definition
    base = _extended(base, base_path, by_path, depth + 1)
    merged = _overlay(base, definition)
    inherited = not definition.has_command and base.has_command
    return replace(merged, name=definition.name, extends=None,
                   line=base.line if inherited else definition.line,
                   source=(base.source or base_path) if inherited else definition.source)


def _processes(definition: ProcessDef, path: str, shell: dict[str, DeployFacts],
               copies: list[tuple[str, str, str]], root: str) -> list[Process]:
    found = [_make(invocation, definition, definition.source or path, path)
             for invocation in definition.invocations]
    for script, _, _ in definition.scripts:
        target = resolve_script(script, path, copies, root, shell)
        if target is None:
            continue
        for process in shell[target].processes:
            found += [_make(invocation, definition, target, path)
                      for invocation in process.invocations]
    return found


def _make(invocation: Invocation, definition: ProcessDef, path: str, defined_in: str) -> Process:
    kind = invocation.command
    if kind in ("flower", "events", "exporter"):
        kind = "monitor"
    return Process(kind, invocation, definition, path, defined_in, definition.replicas,
                   definition.restarts, definition.restart_text)


def resolve_script(script: str, path: str, copies: list[tuple[str, str, str]], root: str,
                   known: dict[str, Any]) -> str | None:
    """The project file a command runs: through a Dockerfile's COPY, or relative to the file
    or the project; None when it is not one of `known`."""

    for candidate in script_candidates(script, path, copies, root):
        if candidate in known:
            return candidate
    return None


def script_candidates(script: str, path: str, copies: list[tuple[str, str, str]],
                      root: str) -> list[str]:
    candidates = []
    for source, destination, dockerfile in copies:
        at = script
        if "/" not in script and destination.rstrip("/") in PATH_FOLDERS:
            at = destination.rstrip("/") + "/" + script  # run by name from the PATH
        for relative in _copied_as(at, source, destination):
            for base in (root, os.path.dirname(dockerfile)):
                candidates.append(os.path.normpath(os.path.join(base, relative)))
    if not script.startswith("/"):
        for base in (os.path.dirname(path), root):
            candidates.append(os.path.normpath(os.path.join(base, script)))
    return candidates


def _copied_as(script: str, source: str, destination: str) -> list[str]:
    """The sources a COPY may have put at `script`: the source itself when copied to that name,
    and into a folder (`COPY a.sh b.sh /usr/local/bin/`), the file of that name or the file
    under a copied folder."""
    if destination.rstrip("/") == script.rstrip("/"):
        return [source]
    if destination.rstrip("/") in PATH_FOLDERS:
        destination = destination.rstrip("/") + "/"  # a folder, with or without its slash
    if not destination.endswith("/") or not script.startswith(destination):
        return []
    rest = script[len(destination):]
    found = [os.path.join(source, rest)]  # the source is a folder
    if rest == source.rstrip("/").rsplit("/", 1)[-1]:
        found.append(source)  # the source is a file, copied into the folder
    return found
