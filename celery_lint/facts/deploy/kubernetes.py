"""Kubernetes manifests: a process per container of a workload, with its replicas and restart
policy (a DaemonSet runs on every node); Helm templates are skipped.
"""

from __future__ import annotations

from typing import Any

import yaml

from celery_lint.facts.deploy.command import MONITOR_IMAGES, invocations
from celery_lint.facts.deploy.compose import read_compose
from celery_lint.facts.deploy.yaml_nodes import (
    command_of,
    get,
    get_path,
    read_documents,
    scalar,
    where,
)
from celery_lint.facts.types import DeployFacts, Invocation, ProcessDef

KUBERNETES_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "CronJob", "ReplicaSet", "Job",
                    "Pod"}


def read_kubernetes(path: str, text: str) -> DeployFacts:
    if "{{" in text and ("/templates/" in path.replace("\\", "/") or "{{ ." in text
                         or "{{-" in text):
        return DeployFacts(path, "kubernetes", warnings=("a Helm template: skipped",))
    documents, problem = read_documents(text)
    if problem:
        if "celery" not in text.lower():
            return DeployFacts(path, "kubernetes")  # not ours to complain about
        return DeployFacts(path, "kubernetes", warnings=(problem,))
    if any(get(d, "services") is not None and get(d, "kind") is None for d in documents):
        # compose services in a file of another name (`extends: {file: common.yml}`): they
        # are there to be extended, not a deployment of their own
        facts = read_compose(path, text)
        return DeployFacts(path, "compose-fragment", facts.processes, warnings=facts.warnings)
    processes = []
    for document in documents:
        kind = scalar(get(document, "kind"))
        if kind not in KUBERNETES_KINDS:
            continue
        spec = get(document, "spec")
        template = get_path(spec, "jobTemplate", "spec", "template") if kind == "CronJob" else \
            get(spec, "template")
        pod = get(template, "spec") if kind != "Pod" else spec
        replicas, replicas_text = (1, None)
        if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
            node = get(spec, "replicas")
            value = scalar(node) if node is not None else 1
            if isinstance(value, int) and not isinstance(value, bool):
                replicas = value
            else:
                replicas, replicas_text = None, str(value)
        name = scalar(get_path(document, "metadata", "name")) or kind
        policy = str(scalar(get(pod, "restartPolicy")) or
                     ("OnFailure" if kind in ("Job", "CronJob") else "Always"))
        containers = get(pod, "containers")
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
        node = get(container, field)
        command = command_of(node) if node is not None else None
        if command is None:
            continue
        if not line:
            line, column = where(node)
        words += [command] if isinstance(command, str) else command
    image = str(scalar(get(container, "image")) or "")
    found, scripts = invocations(words, line, column) if words else ([], [])
    if not words:
        line, column = where(container)
    if not found and any(m in image for m in MONITOR_IMAGES):
        found = [Invocation("flower" if "flower" in image else "exporter", None, None,
                            text=f"image: {image}", line=line, column=column)]
    if not found and not scripts:
        return None
    container_name = scalar(get(container, "name")) or ""
    return ProcessDef(f"{name}/{container_name}" if container_name else name, tuple(found), line,
                      replicas=replicas, replicas_text=replicas_text, per_node=per_node,
                      restarts=restarts, restart_text=restart_text,
                      scripts=tuple((s, line, column) for s in scripts), image=image)
