"""systemd units: `ExecStart=` of `[Service]` and `Restart=`; `name@.service` is a template.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from celery_lint.facts.deploy.command import process_of
from celery_lint.facts.types import DeployFacts
from celery_lint.source import split_lines


def read_systemd(path: str, text: str) -> DeployFacts:
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
        process = process_of(name, command, line, max(column, 1), template=template,
                           restarts=restart != "no", restart_text=f"Restart={restart}"
                           if restart_line else "no Restart= (systemd's default is no)")
        if process is not None:
            processes.append(process)
    return DeployFacts(path, "systemd", tuple(processes))
