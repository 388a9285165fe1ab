"""Celery command lines in any deployment file: the `celery ...` invocations a shell string or an
argv list runs, read with Celery's own option definitions (its click commands' parsers), so
`-Q`, `--queues=`, `-B`, `--beat` and `-E` mean what they mean to Celery; and the scripts a
command runs.
"""

from __future__ import annotations

import shlex
from functools import cache
from typing import Any

from celery_lint.facts.types import Invocation, ProcessDef

SHELLS = {"sh", "bash", "dash", "zsh", "ash"}
SHELL_OPERATORS = {"&&", "||", ";", "&", "|", ";;", "(", ")", "\n"}
MONITOR_COMMANDS = {"flower", "events"}
MONITOR_IMAGES = ("flower", "celery-exporter", "celery_exporter")
MAX_COMMAND_WORDS = 1000
# programs that run the command after their own arguments: a user switch, an init, a wait
SWITCH_USER = {"gosu", "su-exec", "chpst"}  # then the user, then the command
UNTIL_DASHES = {"tini", "dumb-init", "wait-for-it", "wait-for-it.sh", "wait-for", "wait-for.sh"}
DOCKERIZE_FLAGS = {"-poll", "-no-overwrite", "-stdout", "-stderr", "-version"}  # take no value


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


def words_of(command: str | list[str]) -> list[str] | None:
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


def _unwrapped(words: list[str]) -> list[str]:
    """`words` without the wrappers that run the rest: `exec`, `gosu app`, `su-exec app`,
    `tini --`, `dumb-init`, `dockerize -wait tcp://db:5432`, `/wait-for-it.sh db:5432 --`.
    A wait without `--` runs nothing after it (empty)."""
    for _ in range(8):  # wrappers nest (`tini -- gosu app celery ...`); a few at most
        if not words:
            return words
        base = words[0].rsplit("/", 1)[-1]
        if base == "exec":
            words = words[1:]
        elif base in SWITCH_USER:
            words = words[2:]
        elif base in UNTIL_DASHES:
            if "--" in words:
                words = words[words.index("--") + 1:]
            elif base.startswith("wait"):
                return []
            else:  # `tini -s celery ...`: its own flags, then the command
                rest = words[1:]
                while rest and rest[0].startswith("-"):
                    rest = rest[1:]
                words = rest
        elif base == "dockerize":
            index = 1
            while index < len(words) and words[index].startswith("-"):
                flag = words[index]
                index += 1 if "=" in flag or flag in DOCKERIZE_FLAGS else 2
            words = words[index:]
        else:
            return words
    return words


def _segment(words: list[str], text: str, line: int, column: int, found: list[Invocation],
             scripts: list[str]) -> None:
    words = _unwrapped(words)
    if words and _looks_like_script(words[0]):
        scripts.append(words[0])  # an entrypoint script, maybe given the celery command
        if len(words) > 1 and _looks_like_script(words[1]):
            scripts.append(words[1])  # the command it runs (`exec "$@"`), a script too
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
                          column=column, dynamic=True,
                          pool=_value_after(words, ("-P", "--pool")),
                          soft_time_limit=_value_after(words, ("--soft-time-limit",)),
                          time_limit=_value_after(words, ("--time-limit",)))
    return Invocation(
        name, app, _split(sub.get("queues")), _split(sub.get("exclude_queues")) or (),
        embedded_beat=bool(sub.get("beat")), events=bool(sub.get("task_events")), text=text,
        line=line, column=column, dynamic=dynamic, pool=_text(sub.get("pool")),
        soft_time_limit=_text(sub.get("soft_time_limit")), time_limit=_text(sub.get("time_limit")))


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


def _text(value: Any) -> str | None:
    """An option's value as written (the last one, when it is repeated)."""
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None
    return None if value is None else str(value)


def _split(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = value if isinstance(value, (list, tuple)) else [value]
    return tuple(q.strip() for item in items for q in str(item).split(",") if q.strip())


def process_of(name: str, command: str | list[str], line: int, column: int,
             **fields: Any) -> ProcessDef | None:
    found, scripts = invocations(command, line, column)
    if not found and not scripts:
        return None
    return ProcessDef(name, tuple(found), line,
                      scripts=tuple((s, line, column) for s in scripts), **fields)
