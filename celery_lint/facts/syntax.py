"""Parse Python files of any supported version, whatever interpreter celery-lint runs on.

Phase 1 reads files with the standard library's `ast`, which knows only the running interpreter's
grammar: on Python 3.11 a valid file with `type Cents = int` would be a syntax error, and every
task, model and setting in it would vanish. So when, and only when, `ast.parse` fails, libcst reads
the file, and `facts/backport.py` rewrites the constructs this interpreter does not know into older
syntax with the same lines, which `ast` then reads. Files the interpreter reads never meet libcst.

A file that libcst cannot read either has a real syntax error, reported as Python reports it: the
interpreter's own error, unless that error sits on a newer construct before the real one; then the
file up to the statement after that construct is rewritten and the interpreter reads it with the
rest unchanged, which puts the error where a newer Python puts it.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import warnings
from pathlib import Path
from typing import Any

from celery_lint.source import split_lines

# Errors that no rewriting cures: the limits of CPython's parser (any version) and of the input.
_LIMITS = ("too many nested parentheses", "too many statically nested blocks",
           "too many levels of indentation", "source code cannot contain null bytes",
           "too complex")
# libcst's native parser recurses on nesting and on long operator chains and crashes the process
# (a segmentation fault, not an exception) far enough in; below CPython's own bracket limit and a
# long chain, it is safe and quick. A file beyond these is not rewritten: its error stands.
MAX_BRACKETS = 200  # CPython's tokenizer refuses more
MAX_CHAIN = 1000  # tokens of one statement in a row without a comma or semicolon
# Looking for a real error behind newer constructs: the statements after the interpreter's
# error tried, and the newer constructs passed, before its error is taken as it is.
MAX_TRIES = 3
MAX_CONSTRUCTS = 10
_BLOCK_CONTINUATION = re.compile(r"(?:else|elif|except|finally|case)\b")
_CONTINUATIONS = frozenset({"else", "elif", "except", "finally"})  # a statement goes on
# A cookiecutter or Jinja tag on one line: `{{ cookiecutter.name }}`, `{% if ... %}`, `{# ... #}`.
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}")


def parse_python(text: str, filename: str = "<unknown>") -> ast.Module:
    """`ast.parse(text)`, also for valid code newer than this interpreter (see the module's
    docstring); raises SyntaxError as `ast.parse` does, at the line Python reports."""
    with warnings.catch_warnings():
        # the file's own warnings (an invalid escape sequence, on 3.12 and later) are not for
        # celery-lint to print, nor those of a parse that misreads newer syntax before it fails
        warnings.simplefilter("ignore")
        try:
            return ast.parse(text, filename=filename)
        except SyntaxError as error:
            return _parse_newer(text, filename, error)


def reads(text: str, mode: str = "exec") -> bool:
    """Whether this interpreter reads `text`, quietly (a warning about its escape sequences is
    given, if at all, when the whole file is read)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ast.parse(text, mode=mode)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
    return True


def _parse_newer(text: str, filename: str, error: SyntaxError) -> ast.Module:
    if any(limit in (error.msg or "") for limit in _LIMITS):
        raise error
    starts = _statement_rows(text)
    if starts is None:
        raise error  # too deep for libcst
    pieces, stuck = _by_statement(text, starts)
    older = "".join(pieces)
    if stuck is None:
        try:
            return ast.parse(older, filename=filename)
        except SyntaxError:
            pass
    # a real syntax error, or statements the tokenizer told apart wrongly: the whole file at once
    module, failure = _libcst(text)
    if module is not None:
        from celery_lint.facts.backport import backport  # lazy: libcst, only when needed

        try:
            older = backport(module)
        except Exception:  # noqa: BLE001 - a construct the rewrite mishandles: the error stands
            raise error from None
        return ast.parse(older, filename=filename)
    if stuck is None:
        raise error
    # the statements before the one neither parser reads, rewritten, and the rest as it is
    rest = "".join(split_lines(text, keepends=True)[stuck - 1:])
    try:
        ast.parse(older + rest, filename=filename)
    except SyntaxError as found:
        raise _first_error(older + rest, filename, found, failure) from None
    raise error


def _by_statement(text: str, starts: list[int]) -> tuple[list[str], int | None]:
    """The top-level statements of `text`, each this interpreter does not read rewritten on its
    own (libcst is ten times slower than `ast`, and most statements of a file are older Python),
    up to the first that libcst cannot read either: (the statements, the row where that one
    starts, or None)."""
    from celery_lint.facts.backport import backport  # lazy: libcst, only when needed

    lines = split_lines(text, keepends=True)
    pieces = []
    for first, end in zip(starts, [*starts[1:], len(lines) + 1]):
        piece = "".join(lines[first - 1: end - 1])
        if not reads(piece):
            module, _ = _libcst(piece)
            if module is None:
                return pieces, first
            try:
                piece = backport(module)
            except Exception:  # noqa: BLE001 - see _parse_newer
                return pieces, first
        pieces.append(piece)
    return pieces, None


def _libcst(text: str) -> tuple[Any, Any]:
    """(libcst's module, None), or (None, its ParserSyntaxError) when it cannot read `text`."""
    import libcst as cst  # lazy: start-up time

    try:
        return cst.parse_module(text), None
    except cst.ParserSyntaxError as exc:
        return None, exc
    except (RecursionError, MemoryError, ValueError):
        return None, None


def _statement_rows(text: str) -> list[int] | None:
    """The rows where the top-level statements start, by the interpreter's tokenizer (which
    newer syntax does not stop; where it goes wrong, the caller reads the whole file); None when
    brackets nest deeper than CPython allows or a chain of operators is longer than libcst can
    safely read."""
    starts = [1]
    depth = indent = chain = 0
    line_start, decorated = True, False
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind, string = token.type, token.string
            if kind == tokenize.INDENT:
                indent += 1
            elif kind == tokenize.DEDENT:
                indent -= 1
            elif kind == tokenize.NEWLINE:
                line_start, chain = True, 0
            elif kind not in (tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER):
                if line_start:  # the first token of a statement
                    if indent == depth == 0 and not decorated and string not in _CONTINUATIONS:
                        starts.append(token.start[0])
                    decorated = indent == 0 and string == "@"
                    line_start = False
                if kind == tokenize.OP and string in "([{":
                    depth += 1
                    if depth > MAX_BRACKETS:
                        return None
                elif kind == tokenize.OP and string in ")]}":
                    depth = max(depth - 1, 0)
                chain = 0 if string in (",", ";") else chain + 1
                if chain > MAX_CHAIN:
                    return None
    except (tokenize.TokenError, SyntaxError):
        pass  # what was read so far is all there is to measure
    return sorted(set(starts))


def _first_error(text: str, filename: str, error: SyntaxError, failure: Any) -> SyntaxError:
    """The syntax error Python reports first in `text`, where the interpreter stops at `error`.
    That may sit on a newer construct before the real error in the same statement: when libcst
    reads the statement up to the next one, the file up to there is rewritten and the interpreter
    reads it with the rest, as often as there are such constructs."""
    if max(getattr(failure, "raw_line", 1), 1) <= (error.lineno or 1):
        return error  # libcst stops there too: no newer construct before it made it go on
    lines = split_lines(text, keepends=True)
    for _ in range(MAX_CONSTRUCTS):
        past = _statement_after(lines, error.lineno or 1)
        if past is None:
            return error  # libcst does not read that statement either: the error is real
        row, closing = past
        prefix = "".join(lines[: row - 1]) + closing
        starts = _statement_rows(prefix)
        pieces, stuck = _by_statement(prefix, starts) if starts is not None else ([], 1)
        if stuck is not None:
            return error
        older = "".join(pieces)
        try:
            ast.parse(older[: len(older) - len(closing)] + "".join(lines[row - 1:]),
                      filename=filename)
        except SyntaxError as found:
            if (found.lineno or 1) <= (error.lineno or 1):
                return error
            error = found
            continue
        return error
    return error


def _statement_after(lines: list[str], row: int) -> tuple[int, str] | None:
    """The first statement after `row` (among the next few) up to which libcst reads the
    statement around `row` (with a `pass` that closes a block left open): its row, and the `pass`
    ("" when none is needed). Only that statement is parsed, out of its block: a cheap question."""
    indent = _indent(lines[row - 1])
    top = next((r for r in range(row, 0, -1) if _starts_statement(lines[r - 1])
                and len(_indent(lines[r - 1])) <= len(indent)), 1)
    margin = _indent(lines[top - 1])
    tries = 0
    for after in range(row + 1, len(lines) + 1):
        line = lines[after - 1]
        if not _starts_statement(line):
            continue
        tries += 1
        if tries > MAX_TRIES:
            return None
        chunk = "".join(text.removeprefix(margin)
                        for text in lines[top - 1: after - 1])
        deeper = _indent(line)
        for closing in ("", deeper + "pass\n") if len(deeper) > len(margin) else ("",):
            if _libcst(chunk + closing[len(margin):])[0] is not None:
                return after, closing
    return None


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _starts_statement(line: str) -> bool:
    """Whether `line` can start a statement (not the `else:` of one), going by its text."""
    code = line.lstrip()
    return bool(code.strip()) and code[0] not in "#)]}" and _BLOCK_CONTINUATION.match(code) is None


def is_template(path: Path, text: str) -> bool:
    """Whether a file that does not parse is a cookiecutter or Jinja template rather than broken
    Python: a tag in the name of its folder (or its own), or tags without which it parses (a
    real syntax error stays one, also in a file with a Django template string)."""
    if any(_TAG.search(part) for part in path.parts):
        return True
    if _TAG.search(text) is None:
        return False
    try:
        parse_python(_TAG.sub(_untagged, text))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _untagged(match: re.Match[str]) -> str:
    """A tag's place kept: `{{ x }}` becomes a name (it stands for one, or for text in a string),
    a statement or comment tag spaces; line breaks stay."""
    fill = "_" if match.group().startswith("{{") else " "
    return re.sub(r"[^\r\n]", fill, match.group())


def template_folder(path: Path) -> Path:
    """The folder a template file belongs to: the outermost one with a tag in its name, else
    the file's own folder."""
    for folder in reversed(path.parents):
        if _TAG.search(folder.name):
            return folder
    return path.parent

