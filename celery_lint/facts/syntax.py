"""Parse Python files of any supported version, whatever interpreter celery-lint runs on.

Phase 1 reads files with the standard library's `ast`, which knows only the running interpreter's
grammar: on Python 3.11 a valid file with `type Cents = int` would be a syntax error, and every
task, model and setting in it would vanish. So when, and only when, `ast.parse` fails, libcst reads
the file, and `facts/backport.py` rewrites the constructs this interpreter does not know into older
syntax with the same lines, which `ast` then reads. Files the interpreter reads never meet libcst.

A file that libcst cannot read either has a real syntax error, reported as Python reports it: the
interpreter's own error, unless that error sits on a newer construct before the real one; then the
longest start of the file that libcst reads is rewritten and the interpreter reads it with the rest
unchanged, which puts the error where a newer Python puts it.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
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
MAX_PREFIX_TRIES = 20  # parses spent looking for the real error behind a newer construct
_BLOCK_CONTINUATION = re.compile(r"(?:else|elif|except|finally|case)\b")
# A cookiecutter or Jinja tag on one line: `{{ cookiecutter.name }}`, `{% if ... %}`, `{# ... #}`.
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}")


def parse_python(text: str, filename: str = "<unknown>") -> ast.Module:
    """`ast.parse(text)`, also for valid code newer than this interpreter (see the module's
    docstring); raises SyntaxError as `ast.parse` does, at the line Python reports."""
    try:
        return ast.parse(text, filename=filename)
    except SyntaxError as error:
        return _parse_newer(text, filename, error)


def _parse_newer(text: str, filename: str, error: SyntaxError) -> ast.Module:
    if any(limit in (error.msg or "") for limit in _LIMITS) or _too_deep(text):
        raise error
    module, failure = _libcst(text)
    if module is None:
        raise _first_error(text, filename, error, failure)
    from celery_lint.facts.backport import backport  # libcst: only for files that need it

    try:
        older = backport(text, module)
    except Exception:  # noqa: BLE001 - a construct the rewrite mishandles: the file's error stands
        raise error from None
    return ast.parse(older, filename=filename)


def _libcst(text: str) -> tuple[Any, Any]:
    """(libcst's module, None), or (None, its ParserSyntaxError) when it cannot read `text`."""
    import libcst as cst

    try:
        return cst.parse_module(text), None
    except cst.ParserSyntaxError as exc:
        return None, exc
    except (RecursionError, MemoryError, ValueError):
        return None, None


def _too_deep(text: str) -> bool:
    """Brackets nested deeper than CPython allows, or a chain of operators longer than libcst
    can safely read (counted with the interpreter's tokenizer, which newer syntax does not stop)."""
    depth = chain = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind, string = token.type, token.string
            if kind == tokenize.OP and string in "([{":
                depth += 1
                if depth > MAX_BRACKETS:
                    return True
            elif kind == tokenize.OP and string in ")]}":
                depth -= 1
            if kind == tokenize.NEWLINE or string in (",", ";"):
                chain = 0
            else:
                chain += 1
                if chain > MAX_CHAIN:
                    return True
    except (tokenize.TokenError, SyntaxError):
        pass  # what was read so far is all there is to measure
    return False


def _first_error(text: str, filename: str, error: SyntaxError, failure: Any) -> SyntaxError:
    """The syntax error Python reports first. The interpreter's own error may sit on a newer
    construct before the real error: then the longest start of the file that libcst reads (up to
    a statement, with a `pass` to close a block left open) is rewritten, and the interpreter reads
    it with the rest."""
    last = max(getattr(failure, "raw_line", 1), 1)  # libcst stops at or after the first error
    if last <= (error.lineno or 1):
        return error  # no newer construct before the interpreter's error made libcst go on
    lines = split_lines(text, keepends=True)
    last = min(last, len(lines))
    tries = 0
    for row in range(last, 0, -1):  # the rest starts at `row`
        line = lines[row - 1]
        code = line.lstrip()
        if not code.strip() or code[0] in "#)]}" or _BLOCK_CONTINUATION.match(code):
            continue  # not the start of a statement
        tries += 1
        if tries > MAX_PREFIX_TRIES:
            break
        prefix = "".join(lines[: row - 1])
        closing = ""
        module, _ = _libcst(prefix)
        if module is None and code != line:
            closing = line[: len(line) - len(code)] + "pass\n"
            module, _ = _libcst(prefix + closing)
        if module is None:
            continue
        if (error.lineno or 1) >= row:
            return error  # the interpreter's error is past what libcst reads: it is the first
        from celery_lint.facts.backport import backport

        older = backport(prefix + closing, module)
        try:
            ast.parse(older[: len(older) - len(closing)] + "".join(lines[row - 1:]),
                      filename=filename)
        except SyntaxError as found:
            return found
        break
    return error


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

