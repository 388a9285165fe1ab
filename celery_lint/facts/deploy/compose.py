"""Docker compose files: a process per service, with its restart policy, replicas, `extends`,
and the signs of a development setup.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from celery_lint.facts.deploy.command import MONITOR_IMAGES, invocations, words_of
from celery_lint.facts.deploy.yaml_nodes import (
    command_of,
    get,
    get_path,
    mapping_items,
    read_documents,
    scalar,
    where,
)
from celery_lint.facts.types import DeployFacts, Invocation, ProcessDef


def read_compose(path: str, text: str) -> DeployFacts:
    documents, problem = read_documents(text)
    if problem:
        return DeployFacts(path, "compose", warnings=(problem,))
    processes = []
    hints: list[str] = []
    for document in documents:
        services = get(document, "services")
        if services is None and isinstance(document, yaml.MappingNode) and \
                get(document, "version") is None:
            services = document  # the version 1 format: services at the top
        for name, key_node, service in mapping_items(services):
            processes.append(_compose_service(name, key_node, service))
            hints += _dev_hints(name, service)
    return DeployFacts(path, "compose", tuple(p for p in processes if p is not None),
                       dev_hints=tuple(dict.fromkeys(hints)))


def _dev_hints(name: str, service: Any) -> list[str]:
    """Signs that a compose file runs a development setup, not production."""
    hints = []
    for field in ("command", "entrypoint"):
        command = command_of(get(service, field))
        text = command if isinstance(command, str) else " ".join(command or [])
        if "runserver" in text:
            hints.append(f"service `{name}` runs Django's development server")
    volumes = get(service, "volumes")
    for volume in volumes.value if isinstance(volumes, yaml.SequenceNode) else []:
        value = scalar(volume) if isinstance(volume, yaml.ScalarNode) else \
            scalar(get(volume, "source"))
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
    parts = {f: get(service, f) for f in ("entrypoint", "command")}
    commands = {f: command_of(n) for f, n in parts.items() if n is not None}
    commands = {f: c for f, c in commands.items() if c is not None}
    has_command = bool(commands)
    if commands:
        # the command is given to the entrypoint as arguments, as Docker runs them
        node = parts["command"] if "command" in commands else parts["entrypoint"]
        line, column = where(node)
        if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
            # the text starts on the next line, at its indentation (_on_first_lines finds it)
            line, column = line + 1, 0
        if len(commands) == 2:
            words = [w for c in (commands["entrypoint"], commands["command"])
                     for w in (words_of(c) or [])]
            found, run = invocations(words, line, column)
        else:
            found, run = invocations(next(iter(commands.values())), line, column)
        scripts += [(s, line, column) for s in run]
    image = scalar(get(service, "image")) or ""
    if isinstance(image, str) and any(m in image for m in MONITOR_IMAGES) and not found:
        line, column = where(key_node)
        found.append(Invocation("flower" if "flower" in image else "exporter", None, None,
                                text=f"image: {image}", line=line, column=column))
    restart_node = get(service, "restart")
    policy = get_path(service, "deploy", "restart_policy")
    restart = scalar(restart_node) if restart_node is not None else None
    if restart is False:
        restart = "no"
    if restart is not None:
        restarts = str(restart) not in ("no", "false")
        restart_text = f"restart: {restart}"
    elif policy is not None:
        condition = scalar(get(policy, "condition")) or "any"
        restarts = condition != "none"
        restart_text = f"deploy.restart_policy.condition: {condition}"
    else:
        restarts, restart_text = False, "no `restart:` policy"
    per_node = scalar(get_path(service, "deploy", "mode")) == "global"
    replicas_node = get_path(service, "deploy", "replicas")
    if replicas_node is None:
        replicas_node = get(service, "scale")
    replicas, replicas_text = None, None
    if replicas_node is not None:
        value = scalar(replicas_node)
        if isinstance(value, int) and not isinstance(value, bool):
            replicas = value
        else:
            replicas_text = str(value)
    extends_node = get(service, "extends")
    extends = None
    if isinstance(extends_node, yaml.ScalarNode):
        extends = (None, str(extends_node.value))
    elif isinstance(extends_node, yaml.MappingNode):
        base = scalar(get(extends_node, "service"))
        if isinstance(base, str):
            file = scalar(get(extends_node, "file"))
            extends = (str(file) if file else None, base)
    line, _ = where(key_node)
    return ProcessDef(name, tuple(found), line, replicas=replicas, replicas_text=replicas_text,
                      per_node=per_node, restarts=restarts, restart_text=restart_text,
                      scripts=tuple(scripts), image=str(image), extends=extends,
                      has_command=has_command)
