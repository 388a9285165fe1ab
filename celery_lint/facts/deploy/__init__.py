"""Phase 1 for deployment files: the processes a Procfile, compose file, Kubernetes manifest,
supervisord or systemd config, Dockerfile or shell script runs, with the line of each command.

One reader per format; the Celery command line they all read is `command`, and `deployments`
joins the files' definitions into the ways the project runs.
"""

from __future__ import annotations

import re
from dataclasses import replace

from celery_lint.facts.deploy.command import invocations
from celery_lint.facts.deploy.compose import read_compose
from celery_lint.facts.deploy.deployments import (
    Deployment,
    Process,
    build_deployments,
    is_dev_path,
    production_environment,
    resolve_script,
    script_candidates,
)
from celery_lint.facts.deploy.dockerfile import read_dockerfile
from celery_lint.facts.deploy.kubernetes import read_kubernetes
from celery_lint.facts.deploy.procfile import read_procfile
from celery_lint.facts.deploy.shell import read_shell
from celery_lint.facts.deploy.supervisord import read_supervisord
from celery_lint.facts.deploy.systemd import read_systemd
from celery_lint.facts.types import DeployFacts, Invocation
from celery_lint.source import split_lines

__all__ = ["Deployment", "Process", "build_deployments", "invocations", "is_dev_path",
           "production_environment", "read_deploy_facts", "resolve_script", "script_candidates",
           "settings_environment", "worth_reading"]


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
        "procfile": read_procfile, "compose": read_compose, "kubernetes": read_kubernetes,
        "supervisord": read_supervisord, "systemd": read_systemd, "dockerfile": read_dockerfile,
        "shell": read_shell,
    }[kind]
    try:
        facts = reader(path, text)
    except RecursionError:
        return DeployFacts(path, kind, warnings=("too deeply nested to read; skipped",))
    environment = settings_environment(text)
    if environment:
        facts = replace(facts, environment=environment)
    return _on_first_lines(facts, text)


# `DJANGO_SETTINGS_MODULE=x` (shell, Procfile, systemd, supervisord, a compose list, Dockerfile
# ENV), `DJANGO_SETTINGS_MODULE: x` (a compose mapping), `ENV DJANGO_SETTINGS_MODULE x`, and a
# Kubernetes `- name: DJANGO_SETTINGS_MODULE` followed by `value: x`; not in a comment
_NAME = r"(?P<name>DJANGO_SETTINGS_MODULE|DJANGO_CONFIGURATION)"
_VALUE = r"""["']?(?P<value>[A-Za-z_][\w.]*)["']?(?=[\s,;"']|$)"""
_SETTINGS_VARIABLE = re.compile(
    r"^(?![ \t]*[#;])(?:"
    rf"""[^\n]*?(?<![$\w{{]){_NAME}[ \t]*[=:][ \t]*{_VALUE}"""
    rf"|[ \t]*ENV[ \t]+{_NAME.replace('name', 'env_name')}[ \t]+"
    rf"{_VALUE.replace('value', 'env_value')}"
    rf"""|[ \t]*-?[ \t]*name:[ \t]*["']?{_NAME.replace('name', 'k8s_name')}["']?[ \t]*\n"""
    rf"[ \t]*value:[ \t]*{_VALUE.replace('value', 'k8s_value')})",
    re.MULTILINE)


def settings_environment(text: str) -> tuple[tuple[str, str], ...]:
    """The Django settings module and django-configurations class a deployment file names."""
    if "DJANGO_" not in text:
        return ()
    found = []
    for match in _SETTINGS_VARIABLE.finditer(text):
        for prefix in ("", "env_", "k8s_"):
            if match[f"{prefix}name"]:
                found.append((match[f"{prefix}name"], match[f"{prefix}value"]))
    return tuple(dict.fromkeys(found))


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
