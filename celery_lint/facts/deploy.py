"""Phase 1 for deployment files: the processes a Procfile, compose file, Kubernetes manifest,
supervisord or systemd config, Dockerfile or shell script runs, with the line of each command.

Celery command lines are read with Celery's own option definitions (its click commands' parsers),
so `-Q`, `--queues=`, `-B`, `--beat` and `-E` mean what they mean to Celery.
"""

from __future__ import annotations

import configparser
import fnmatch
import json
import os
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from celery_lint.discovery import project_root_of
from celery_lint.facts.types import DeployFacts, Invocation, ProcessDef
from celery_lint.source import split_lines

KUBERNETES_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "CronJob", "ReplicaSet", "Job",
                    "Pod"}
SHELLS = {"sh", "bash", "dash", "zsh", "ash"}
SHELL_OPERATORS = {"&&", "||", ";", "&", "|", ";;", "(", ")", "\n"}
MONITOR_COMMANDS = {"flower", "events"}
MONITOR_IMAGES = ("flower", "celery-exporter", "celery_exporter")
MAX_YAML_DEPTH = 64
MAX_YAML_DOCUMENTS = 1000
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_COMMAND_WORDS = 1000


def worth_reading(kind: str, text: str) -> bool:
    """Whether a file of `kind` can define a Celery process (a byte-level prefilter)."""
    lower = text.lower()
    if kind in ("compose", "dockerfile"):
        return True  # read for `extends` and COPY, which other files build on
    if kind == "kubernetes" and "services:" in text:
        return True  # maybe compose services that a compose file extends
    if kind == "supervisord":
        return "[program:" in lower and ("celery" in lower or "flower" in lower)
    return "celery" in lower or "flower" in lower


def read_deploy_facts(path: str, kind: str, text: str) -> DeployFacts:
    reader = {
        "procfile": _procfile, "compose": _compose, "kubernetes": _kubernetes,
        "supervisord": _supervisord, "systemd": _systemd, "dockerfile": _dockerfile,
        "shell": _shell,
    }[kind]
    try:
        facts = reader(path, text)
    except RecursionError:
        return DeployFacts(path, kind, warnings=("too deeply nested to read; skipped",))
    return _on_first_lines(facts, text)


def _on_first_lines(facts: DeployFacts, text: str) -> DeployFacts:
    """`facts` with each command line's position and text kept to the line the command starts
    on, which is where its diagnostics span: a command that goes on over other lines (Kubernetes
    `args:` after `command:`, a block sequence, a `\\` continuation) is cut to what that line holds,
    and a column past the end of its line (a block scalar's, on the line after `command: >`)
    moves to the line's text."""
    lines = split_lines(text)

    def fit(invocation: Invocation) -> Invocation:
        if not 0 < invocation.line <= len(lines):
            return invocation
        line = lines[invocation.line - 1]
        column = invocation.column
        if not 0 < column <= len(line) + 1:
            column = len(line) - len(line.lstrip()) + 1
        shown = invocation.text
        if "\n" in shown or len(shown) > len(line) - column + 1:
            shown = line[column - 1:].rstrip()
        if (column, shown) == (invocation.column, invocation.text):
            return invocation
        return replace(invocation, column=column, text=shown)

    processes = tuple(replace(p, invocations=tuple(fit(i) for i in p.invocations))
                      for p in facts.processes)
    return replace(facts, processes=processes) if processes != facts.processes else facts


# -- command lines ------------------------------------------------------------------------------
def invocations(command: str | list[str], line: int, column: int,
                line_of: Any = None) -> tuple[list[Invocation], list[str]]:
    """The `celery ...` invocations in a command (a shell string or an argv list), and the files
    the command runs (scripts), each with its position.

    `line_of(token_index)` may give a better line for multi-line commands.
    """
    if isinstance(command, str):
        segments = []
        for physical in command.replace("\\\n", " ").splitlines():
            words = _shell_words(physical)
            if words is None:
                return [], []
            segments += _segments(words)
    else:
        segments = [list(command)]
    found: list[Invocation] = []
    scripts: list[str] = []
    text = command if isinstance(command, str) else " ".join(command)
    for segment in segments:
        _segment(segment, text, line, column, found, scripts)
    return found, scripts


def _words(command: str | list[str]) -> list[str] | None:
    return command if isinstance(command, list) else _shell_words(command)


def _shell_words(command: str) -> list[str] | None:
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|()")
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        return [word for word in lexer]
    except ValueError:  # an unclosed quote
        return None


def _segments(words: list[str]) -> list[list[str]]:
    segments: list[list[str]] = [[]]
    for word in words:
        if word in SHELL_OPERATORS or word == "\n":
            segments.append([])
        else:
            segments[-1].append(word)
    return [s for s in segments if s]


def _segment(words: list[str], text: str, line: int, column: int, found: list[Invocation],
             scripts: list[str]) -> None:
    if words and _looks_like_script(words[0]):
        scripts.append(words[0])  # an entrypoint script, maybe given the celery command
    elif len(words) > 1 and words[0].rsplit("/", 1)[-1] in SHELLS | {"exec"} \
            and _looks_like_script(words[1]):
        scripts.append(words[1])
    for index, word in enumerate(words):
        base = word.rsplit("/", 1)[-1]
        if base in SHELLS and index + 2 < len(words) and words[index + 1] in ("-c", "-ec", "-xc",
                                                                               "-lc"):
            inner, _ = invocations(words[index + 2], line, column)
            found += inner
            return
        if base == "celery":
            found.append(_celery(words[index + 1:], text, line, column))
            return
        if base.startswith("python") and words[index + 1: index + 3] == ["-m", "celery"]:
            found.append(_celery(words[index + 3:], text, line, column))
            return
        if base in MONITOR_IMAGES or base == "celery-exporter":
            found.append(Invocation("flower" if "flower" in base else "exporter", None, None,
                                    text=text, line=line, column=column))
            return


def _looks_like_script(word: str) -> bool:
    return word.endswith(".sh") or word.startswith(("/", "./")) and not word.startswith(
        ("/usr/", "/bin/", "/sbin/", "/opt/venv/bin/celery"))


@cache
def _celery_commands() -> tuple[Any, dict[str, Any]]:
    from celery.bin.celery import celery as group

    return group, dict(group.commands)


def _celery(argv: list[str], text: str, line: int, column: int) -> Invocation:
    """Read `celery <argv>` with Celery's own click parsers (no callbacks, nothing run)."""
    import click

    group, commands = _celery_commands()
    argv = argv[:MAX_COMMAND_WORDS]  # click's parser slows down badly on a giant command line
    dynamic = any("$" in word for word in argv)
    at = _subcommand_at(group, argv, commands)
    try:
        context = click.Context(group, info_name="celery", resilient_parsing=True)
        options, _, _ = group.make_parser(context).parse_args(_known(group, argv[:at]))
    except click.ClickException:
        return Invocation("", None, None, text=text, line=line, column=column, dynamic=True)
    app = options.get("app")
    rest = argv[at:]
    name = rest[0] if rest else ""
    command = commands.get(name)
    if name in MONITOR_COMMANDS or command is None:
        return Invocation(name, app, None, text=text, line=line, column=column, dynamic=dynamic)
    try:
        sub_context = click.Context(command, info_name=name, parent=context,
                                    resilient_parsing=True)
        sub, _, _ = command.make_parser(sub_context).parse_args(_known(command, rest[1:]))
    except click.ClickException:
        return Invocation(name, app, None, text=text, line=line, column=column, dynamic=True)
    if name == "multi":  # `celery multi start w1 w2 -A proj -Q x`: options go to the workers
        words = rest[1:]
        return Invocation("worker", app or _value_after(words, ("-A", "--app")),
                          _split(_value_after(words, ("-Q", "--queues"))),
                          embedded_beat="-B" in words or "--beat" in words,
                          events="-E" in words or "--task-events" in words, text=text, line=line,
                          column=column, dynamic=True)
    return Invocation(
        name, app, _split(sub.get("queues")), _split(sub.get("exclude_queues")) or (),
        embedded_beat=bool(sub.get("beat")), events=bool(sub.get("task_events")), text=text,
        line=line, column=column, dynamic=dynamic)


def _subcommand_at(group: Any, argv: list[str], commands: dict[str, Any]) -> int:
    """Where the subcommand is: the first word that is not a global option or its value."""
    takes_value = {name for param in group.params if not getattr(param, "is_flag", True)
                   and not getattr(param, "count", False)
                   for name in getattr(param, "opts", ())}
    skip = False
    for index, word in enumerate(argv):
        if skip:
            skip = False
            continue
        if word.startswith("-"):
            skip = word in takes_value
            continue
        if word in commands or word in MONITOR_COMMANDS:
            return index
        return index  # an unknown word: take it as the subcommand
    return len(argv)


def _known(command: Any, argv: list[str]) -> list[str]:
    """`argv` without the options `command` does not define (click would swallow the rest)."""
    names: set[str] = set()
    for param in command.params:
        names.update(getattr(param, "opts", ()))
        names.update(getattr(param, "secondary_opts", ()))
    kept = []
    for word in argv:
        if not word.startswith("-") or word == "-" or word.split("=", 1)[0] in names or word[:2] in names:
            kept.append(word)
    return kept


def _value_after(words: list[str], flags: tuple[str, ...]) -> str | None:
    for index, word in enumerate(words):
        if word in flags and index + 1 < len(words):
            return words[index + 1]
        for flag in flags:
            if flag.startswith("--") and word.startswith(flag + "="):
                return word.split("=", 1)[1]
    return None


def _split(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = value if isinstance(value, (list, tuple)) else [value]
    return tuple(q.strip() for item in items for q in str(item).split(",") if q.strip())


def _process(name: str, command: str | list[str], line: int, column: int,
             **fields: Any) -> ProcessDef | None:
    found, scripts = invocations(command, line, column)
    if not found and not scripts:
        return None
    return ProcessDef(name, tuple(found), line,
                      scripts=tuple((s, line, column) for s in scripts), **fields)


# -- Procfile -----------------------------------------------------------------------------------
def _procfile(path: str, text: str) -> DeployFacts:
    processes = []
    for number, raw in enumerate(split_lines(text), start=1):
        match = re.match(r"^([A-Za-z0-9_.\-]+):\s*(.*)$", raw)
        if not match or raw.lstrip().startswith("#"):
            continue
        process = _process(match.group(1), match.group(2), number, match.start(2) + 1,
                           restarts=True, restart_text="the platform restarts crashed dynos")
        if process is not None:
            processes.append(process)
    return DeployFacts(path, "procfile", tuple(processes))


# -- YAML ---------------------------------------------------------------------------------------
def _documents(text: str) -> tuple[list[yaml.Node], str | None]:
    try:  # libyaml when PyYAML has it: a 10 MB compose file in a second, not ten
        return _compose_all(text, FAST_LOADER), None
    except yaml.YAMLError:
        pass
    try:  # the pure-Python loader's messages say more about what is wrong
        return _compose_all(text, yaml.SafeLoader), None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return [], f"malformed YAML{where}: {problem}; skipped"


def _compose_all(text: str, loader: Any) -> list[yaml.Node]:
    documents = []
    for document in yaml.compose_all(text, Loader=loader):
        if document is not None:
            documents.append(document)
        if len(documents) > MAX_YAML_DOCUMENTS:
            break
    return documents


def _get(node: Any, key: str, depth: int = 0, seen: set[int] | None = None) -> Any:
    """`node[key]` for a YAML mapping node, following `<<` merge keys; None when absent.

    Each node is looked into once per lookup, so aliases merged into aliases cannot make the
    work grow with the number of paths to a node (a "billion laughs" file stays cheap).
    """
    if not isinstance(node, yaml.MappingNode) or depth > MAX_YAML_DEPTH:
        return None
    seen = set() if seen is None else seen
    if id(node) in seen:
        return None
    seen.add(id(node))
    found = None
    for key_node, value in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key \
                and key_node.tag != "tag:yaml.org,2002:merge":
            found = value
    if found is not None:
        return found
    for key_node, value in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            for base in value.value if isinstance(value, yaml.SequenceNode) else [value]:
                merged = _get(base, key, depth + 1, seen)
                if merged is not None:
                    return merged
    return None


def _path(node: Any, *keys: str) -> Any:
    for key in keys:
        node = _get(node, key)
    return node


def _items(node: Any) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                yield key_node.value, key_node, value


def _scalar(node: Any) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        return None
    if node.tag.endswith(":int"):
        try:
            number = int(node.value.replace("_", ""), 0)
        except ValueError:
            return node.value
        # a number Python will not print (more than 4300 digits) stays text, as a bad one does
        return number if number.bit_length() <= 10_000 else node.value
    if node.tag.endswith(":bool"):
        return node.value.lower() in ("true", "yes", "on", "y")
    if node.tag.endswith(":null"):
        return None
    return node.value


def _command(node: Any) -> str | list[str] | None:
    if isinstance(node, yaml.ScalarNode):
        value = _scalar(node)
        return value if isinstance(value, str) else None
    if isinstance(node, yaml.SequenceNode):
        words = [_scalar(item) for item in node.value]
        return [str(w) for w in words if w is not None]
    return None


def _where(node: Any) -> tuple[int, int]:
    mark = node.start_mark
    return mark.line + 1, mark.column + 1


def _compose(path: str, text: str) -> DeployFacts:
    documents, problem = _documents(text)
    if problem:
        return DeployFacts(path, "compose", warnings=(problem,))
    processes = []
    hints: list[str] = []
    for document in documents:
        services = _get(document, "services")
        if services is None and isinstance(document, yaml.MappingNode) and \
                _get(document, "version") is None:
            services = document  # the version 1 format: services at the top
        for name, key_node, service in _items(services):
            processes.append(_compose_service(name, key_node, service))
            hints += _dev_hints(name, service)
    return DeployFacts(path, "compose", tuple(p for p in processes if p is not None),
                       dev_hints=tuple(dict.fromkeys(hints)))


def _dev_hints(name: str, service: Any) -> list[str]:
    """Signs that a compose file runs a development setup, not production."""
    hints = []
    for field in ("command", "entrypoint"):
        command = _command(_get(service, field))
        text = command if isinstance(command, str) else " ".join(command or [])
        if "runserver" in text:
            hints.append(f"service `{name}` runs Django's development server")
    volumes = _get(service, "volumes")
    for volume in volumes.value if isinstance(volumes, yaml.SequenceNode) else []:
        value = _scalar(volume) if isinstance(volume, yaml.ScalarNode) else \
            _scalar(_get(volume, "source"))
        if isinstance(value, str) and re.match(r"^\.{1,2}(/[^:]*)?:", value + ":" if ":" not in
                                               value else value):
            hints.append(f"service `{name}` mounts the source folder ({value})")
            break
    return hints


def _compose_service(name: str, key_node: Any, service: Any) -> ProcessDef | None:
    if not isinstance(service, yaml.MappingNode):
        return None
    found: list[Invocation] = []
    scripts: list[tuple[str, int, int]] = []
    parts = {f: _get(service, f) for f in ("entrypoint", "command")}
    commands = {f: _command(n) for f, n in parts.items() if n is not None}
    commands = {f: c for f, c in commands.items() if c is not None}
    has_command = bool(commands)
    if commands:
        # the command is given to the entrypoint as arguments, as Docker runs them
        node = parts["command"] if "command" in commands else parts["entrypoint"]
        line, column = _where(node)
        if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
            # the text starts on the next line, at its indentation (_on_first_lines finds it)
            line, column = line + 1, 0
        if len(commands) == 2:
            words = [w for c in (commands["entrypoint"], commands["command"])
                     for w in (_words(c) or [])]
            found, run = invocations(words, line, column)
        else:
            found, run = invocations(next(iter(commands.values())), line, column)
        scripts += [(s, line, column) for s in run]
    image = _scalar(_get(service, "image")) or ""
    if isinstance(image, str) and any(m in image for m in MONITOR_IMAGES) and not found:
        line, column = _where(key_node)
        found.append(Invocation("flower" if "flower" in image else "exporter", None, None,
                                text=f"image: {image}", line=line, column=column))
    restart_node = _get(service, "restart")
    policy = _path(service, "deploy", "restart_policy")
    restart = _scalar(restart_node) if restart_node is not None else None
    if restart is False:
        restart = "no"
    if restart is not None:
        restarts = str(restart) not in ("no", "false")
        restart_text = f"restart: {restart}"
    elif policy is not None:
        condition = _scalar(_get(policy, "condition")) or "any"
        restarts = condition != "none"
        restart_text = f"deploy.restart_policy.condition: {condition}"
    else:
        restarts, restart_text = False, "no `restart:` policy"
    per_node = _scalar(_path(service, "deploy", "mode")) == "global"
    replicas_node = _path(service, "deploy", "replicas")
    if replicas_node is None:
        replicas_node = _get(service, "scale")
    replicas, replicas_text = None, None
    if replicas_node is not None:
        value = _scalar(replicas_node)
        if isinstance(value, int) and not isinstance(value, bool):
            replicas = value
        else:
            replicas_text = str(value)
    extends_node = _get(service, "extends")
    extends = None
    if isinstance(extends_node, yaml.ScalarNode):
        extends = (None, str(extends_node.value))
    elif isinstance(extends_node, yaml.MappingNode):
        base = _scalar(_get(extends_node, "service"))
        if isinstance(base, str):
            file = _scalar(_get(extends_node, "file"))
            extends = (str(file) if file else None, base)
    line, _ = _where(key_node)
    return ProcessDef(name, tuple(found), line, replicas=replicas, replicas_text=replicas_text,
                      per_node=per_node, restarts=restarts, restart_text=restart_text,
                      scripts=tuple(scripts), image=str(image), extends=extends,
                      has_command=has_command)


def _kubernetes(path: str, text: str) -> DeployFacts:
    if "{{" in text and ("/templates/" in path.replace("\\", "/") or "{{ ." in text
                         or "{{-" in text):
        return DeployFacts(path, "kubernetes", warnings=("a Helm template: skipped",))
    documents, problem = _documents(text)
    if problem:
        if "celery" not in text.lower():
            return DeployFacts(path, "kubernetes")  # not ours to complain about
        return DeployFacts(path, "kubernetes", warnings=(problem,))
    if any(_get(d, "services") is not None and _get(d, "kind") is None for d in documents):
        # compose services in a file of another name (`extends: {file: common.yml}`): they
        # are there to be extended, not a deployment of their own
        facts = _compose(path, text)
        return DeployFacts(path, "compose-fragment", facts.processes, warnings=facts.warnings)
    processes = []
    for document in documents:
        kind = _scalar(_get(document, "kind"))
        if kind not in KUBERNETES_KINDS:
            continue
        spec = _get(document, "spec")
        template = _path(spec, "jobTemplate", "spec", "template") if kind == "CronJob" else \
            _get(spec, "template")
        pod = _get(template, "spec") if kind != "Pod" else spec
        replicas, replicas_text = (1, None)
        if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
            node = _get(spec, "replicas")
            value = _scalar(node) if node is not None else 1
            if isinstance(value, int) and not isinstance(value, bool):
                replicas = value
            else:
                replicas, replicas_text = None, str(value)
        name = _scalar(_path(document, "metadata", "name")) or kind
        policy = str(_scalar(_get(pod, "restartPolicy")) or
                     ("OnFailure" if kind in ("Job", "CronJob") else "Always"))
        containers = _get(pod, "containers")
        for container in containers.value if isinstance(containers, yaml.SequenceNode) else []:
            process = _container(f"{kind}/{name}", container, replicas, replicas_text,
                                 per_node=kind == "DaemonSet", restarts=policy != "Never",
                                 restart_text=f"restartPolicy: {policy}")
            if process is not None:
                processes.append(process)
    return DeployFacts(path, "kubernetes", tuple(processes))


def _container(name: str, container: Any, replicas: int | None, replicas_text: str | None,
               per_node: bool, restarts: bool, restart_text: str) -> ProcessDef | None:
    words: list[str] = []
    line = column = 0
    for field in ("command", "args"):
        node = _get(container, field)
        command = _command(node) if node is not None else None
        if command is None:
            continue
        if not line:
            line, column = _where(node)
        words += [command] if isinstance(command, str) else command
    image = str(_scalar(_get(container, "image")) or "")
    found, scripts = invocations(words, line, column) if words else ([], [])
    if not words:
        line, column = _where(container)
    if not found and any(m in image for m in MONITOR_IMAGES):
        found = [Invocation("flower" if "flower" in image else "exporter", None, None,
                            text=f"image: {image}", line=line, column=column)]
    if not found and not scripts:
        return None
    container_name = _scalar(_get(container, "name")) or ""
    return ProcessDef(f"{name}/{container_name}" if container_name else name, tuple(found), line,
                      replicas=replicas, replicas_text=replicas_text, per_node=per_node,
                      restarts=restarts, restart_text=restart_text,
                      scripts=tuple((s, line, column) for s in scripts), image=image)


# -- INI-like files -----------------------------------------------------------------------------
def _supervisord(path: str, text: str) -> DeployFacts:
    parser = configparser.RawConfigParser(strict=False, interpolation=None,
                                          inline_comment_prefixes=(";", "#"))
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        return DeployFacts(path, "supervisord",
                           warnings=(f"malformed INI: {str(exc).splitlines()[0]}; skipped",))
    lines = _ini_lines(text)
    processes = []
    for section in parser.sections():
        if not section.startswith("program:"):
            continue
        command = parser.get(section, "command", fallback=None)
        if not command:
            continue
        line, column = lines.get((section, "command"), (1, 1))
        numprocs_text = parser.get(section, "numprocs", fallback="1")
        replicas: int | None
        replicas_text = None
        try:
            replicas = int(numprocs_text)
        except ValueError:
            replicas, replicas_text = None, numprocs_text
        autorestart = parser.get(section, "autorestart", fallback="unexpected").strip().lower()
        process = _process(section.split(":", 1)[1], " ".join(command.split()), line, column,
                           replicas=replicas, replicas_text=replicas_text,
                           restarts=autorestart != "false",
                           restart_text=f"autorestart={autorestart}")
        if process is not None:
            processes.append(process)
    return DeployFacts(path, "supervisord", tuple(processes))


def _ini_lines(text: str) -> dict[tuple[str, str], tuple[int, int]]:
    """(section, key) → (line, column of the value) for an INI-like file."""
    found: dict[tuple[str, str], tuple[int, int]] = {}
    section = ""
    for number, raw in enumerate(split_lines(text), start=1):
        stripped = raw.strip()
        if stripped.startswith("[") and "]" in stripped:
            section = stripped[1:stripped.index("]")].strip()
            continue
        match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*[=:]\s*", raw)
        if match and section:
            found[(section, match.group(1).lower())] = (number, match.end() + 1)
    return found


def _systemd(path: str, text: str) -> DeployFacts:
    """A systemd unit: `ExecStart=` of `[Service]`, `Restart=`; `name@.service` is a template."""
    section, restart, restart_line = "", "no", 0
    starts: list[tuple[str, int, int]] = []
    logical = ""
    first_line, first_raw = 0, ""
    for number, raw in enumerate(split_lines(text), start=1):
        if not logical:
            first_line, first_raw = number, raw
            if raw.lstrip().startswith(("#", ";")):
                continue
        if raw.rstrip().endswith("\\"):
            logical += raw.rstrip()[:-1] + " "
            continue
        logical += raw
        line, logical = logical, ""
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1]
            continue
        key, equals, value = stripped.partition("=")
        if not equals or section != "Service":
            continue
        key = key.strip()
        if key == "ExecStart":
            value = value.strip().lstrip("-@+!:")
            if value:
                starts.append((value, first_line, first_raw.find(value.split()[0]) + 1))
        elif key == "Restart":
            restart, restart_line = value.strip(), first_line
    name = PurePosixPath(path.replace("\\", "/")).name
    template = "@." in name
    processes = []
    for command, line, column in starts:
        process = _process(name, command, line, max(column, 1), template=template,
                           restarts=restart != "no", restart_text=f"Restart={restart}"
                           if restart_line else "no Restart= (systemd's default is no)")
        if process is not None:
            processes.append(process)
    return DeployFacts(path, "systemd", tuple(processes))


# -- Dockerfile and shell scripts ---------------------------------------------------------------
def _instructions(text: str) -> Iterator[tuple[str, str, int, int]]:
    """(INSTRUCTION, arguments, line, column of the arguments) with continuations joined."""
    logical, first, column = "", 0, 0
    for number, raw in enumerate(split_lines(text), start=1):
        if not logical:
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
            first = number
            match = re.match(r"^\s*(\w+)\s+", raw)
            column = match.end() + 1 if match else 1
        if raw.rstrip().endswith("\\"):
            logical += raw.rstrip()[:-1] + " "
            continue
        logical += raw
        instruction, _, arguments = logical.strip().partition(" ")
        yield instruction.upper(), arguments.strip(), first, column
        logical = ""


def _dockerfile(path: str, text: str) -> DeployFacts:
    processes: list[ProcessDef] = []
    copies: list[tuple[str, str]] = []
    stage: dict[str, tuple[Any, int, int]] = {}
    for instruction, arguments, line, column in _instructions(text):
        if instruction in ("COPY", "ADD"):
            words = [w for w in arguments.split() if not w.startswith("--")]
            if arguments.startswith("["):
                try:
                    words = [str(w) for w in json.loads(arguments)]
                except ValueError:
                    continue
            if len(words) >= 2:
                copies += [(source, words[-1]) for source in words[:-1]]
        elif instruction == "FROM":
            _image_command(stage, processes)
            stage = {}
        elif instruction in ("CMD", "ENTRYPOINT"):
            command: str | list[str] = arguments
            if arguments.startswith("["):
                try:
                    command = [str(w) for w in json.loads(arguments)]
                except ValueError:
                    pass
            stage[instruction] = (command, line, column)
    _image_command(stage, processes)
    return DeployFacts(path, "dockerfile", tuple(processes), tuple(copies))


def _image_command(stage: dict[str, tuple[Any, int, int]], processes: list[ProcessDef]) -> None:
    """The process an image stage runs: its CMD given to its ENTRYPOINT (exec forms)."""
    entrypoint, command = stage.get("ENTRYPOINT"), stage.get("CMD")
    if entrypoint and command and isinstance(entrypoint[0], list) and \
            isinstance(command[0], list):
        process = _process("ENTRYPOINT + CMD", entrypoint[0] + command[0], command[1],
                           command[2])
        if process is not None:
            processes.append(process)
        return
    for name, found in (("ENTRYPOINT", entrypoint), ("CMD", command)):
        if found is not None:
            process = _process(name, *found)
            if process is not None:
                processes.append(process)


def _shell(path: str, text: str) -> DeployFacts:
    processes = []
    logical, first = "", 0
    for number, raw in enumerate(split_lines(text), start=1):
        if not logical:
            first = number
        if raw.rstrip().endswith("\\"):
            logical += raw.rstrip()[:-1] + " "
            continue
        logical += raw
        line, logical = logical, ""
        if "celery" not in line and "flower" not in line or line.lstrip().startswith("#"):
            continue
        column = len(line) - len(line.lstrip()) + 1
        found, _ = invocations(line, first, column)
        if found:
            processes.append(ProcessDef(PurePosixPath(path).name, tuple(found), first))
    return DeployFacts(path, "shell", tuple(processes))


# -- deployments: definitions joined across files -----------------------------------------------
DEV_WORDS = frozenset({"dev", "develop", "development", "local", "test", "tests", "testing", "ci",
                       "debug"})
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
        if destination.rstrip("/") == script.rstrip("/") or (
                destination.endswith("/") and script.startswith(destination)):
            relative = source if not destination.endswith("/") else os.path.join(
                source, script[len(destination):])
            for base in (root, os.path.dirname(dockerfile)):
                candidates.append(os.path.normpath(os.path.join(base, relative)))
    if not script.startswith("/"):
        for base in (os.path.dirname(path), root):
            candidates.append(os.path.normpath(os.path.join(base, script)))
    return candidates
