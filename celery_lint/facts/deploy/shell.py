"""Shell scripts: the Celery commands on their lines (continuations joined), for the definitions
that run a script.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from celery_lint.facts.deploy.command import invocations
from celery_lint.facts.types import DeployFacts, ProcessDef
from celery_lint.source import split_lines


def read_shell(path: str, text: str) -> DeployFacts:
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
