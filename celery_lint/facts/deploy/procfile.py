"""Procfiles (Heroku, Dokku, honcho): one process per `name: command` line.
"""

from __future__ import annotations

import re

from celery_lint.facts.deploy.command import process_of
from celery_lint.facts.types import DeployFacts
from celery_lint.source import split_lines


def read_procfile(path: str, text: str) -> DeployFacts:
    processes = []
    for number, raw in enumerate(split_lines(text), start=1):
        match = re.match(r"^([A-Za-z0-9_.\-]+):\s*(.*)$", raw)
        if not match or raw.lstrip().startswith("#"):
            continue
        process = process_of(match.group(1), match.group(2), number, match.start(2) + 1,
                           restarts=True, restart_text="the platform restarts crashed dynos")
        if process is not None:
            processes.append(process)
    return DeployFacts(path, "procfile", tuple(processes))
