"""supervisord configs: a process per `[program:...]` with a `command=`, its `numprocs` and
`autorestart`.
"""

from __future__ import annotations

import configparser
import re

from celery_lint.facts.deploy.command import process_of
from celery_lint.facts.types import DeployFacts
from celery_lint.source import split_lines


def read_supervisord(path: str, text: str) -> DeployFacts:
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
        process = process_of(section.split(":", 1)[1], " ".join(command.split()), line, column,
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
