"""Dockerfiles: the process an image runs (its CMD given to its ENTRYPOINT), and the files it
COPYs, through which other definitions find the scripts they run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from celery_lint.facts.deploy.command import process_of
from celery_lint.facts.types import DeployFacts, ProcessDef
from celery_lint.source import split_lines


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


def read_dockerfile(path: str, text: str) -> DeployFacts:
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
        process = process_of("ENTRYPOINT + CMD", entrypoint[0] + command[0], command[1],
                           command[2])
        if process is not None:
            processes.append(process)
        return
    for name, found in (("ENTRYPOINT", entrypoint), ("CMD", command)):
        if found is not None:
            process = process_of(name, *found)
            if process is not None:
                processes.append(process)
