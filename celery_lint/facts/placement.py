"""Where a fix may write new settings into a module: the facts the settings fixes place them by.

A person adds a setting beside the module's other settings, above code that ends the module
(`sys.exit()`, `raise SystemExit`, an `if` block that ends in one, `if __name__ == "__main__":`)
and above a comment that says nothing may be added after it. Those comments are recognised by a
small set of phrases (`FORBIDDING`), case-insensitive:
  "do not add ... below/after/beneath/under", "don't add ... below/after/...",
  "never add ... below/after/...", "no settings below/after", "nothing below/after this/here",
  "must be/stay/come/remain last".
"Don't add a trailing slash" alone is not one: the phrase must say where nothing may go.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize

from celery_lint.diagnostics import END_OF_FILE
from celery_lint.facts.evaluate import dotted

FORBIDDING = re.compile(
    r"\b(?:do\s+not|don'?t|never)\s+add\b.*\b(?:below|after|beneath|under)\b"
    r"|\bno\s+(?:more\s+)?settings\s+(?:below|after)\b"
    r"|\bnothing\s+(?:below|after)\s+(?:this|here)\b"
    r"|\bmust\s+(?:be|stay|come|remain)\s+(?:the\s+)?last\b",
    re.IGNORECASE)
EXITS = frozenset({"sys.exit", "exit", "quit", "os._exit"})


def _exits(statement: ast.stmt) -> bool:
    """Whether `statement`, run at module level, ends the module: an exit call or a raise."""
    if isinstance(statement, ast.Raise):
        return True
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call) \
        and dotted(statement.value.func) in EXITS


def _ends_in_exit(body: list[ast.stmt]) -> bool:
    return bool(body) and (_exits(body[-1]) or isinstance(body[-1], ast.If) and (
        _ends_in_exit(body[-1].body) or _ends_in_exit(body[-1].orelse)))


def _main_guard(statement: ast.stmt) -> bool:
    test = statement.test if isinstance(statement, ast.If) else None
    return isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) \
        and test.left.id == "__name__"


def assignments(tree: ast.Module, text: str) -> tuple[tuple[str, int, int], ...]:
    """Each module-level `NAME = ...` (or `NAME: T = ...`): the name, its first row, and the row
    after its last, where a line written after it begins (END_OF_FILE when it ends the text
    without a line break)."""
    rows = len(text.splitlines())
    open_end = not text.endswith(("\n", "\r"))
    found = []
    for statement in tree.body:
        targets = statement.targets if isinstance(statement, ast.Assign) else \
            [statement.target] if isinstance(statement, ast.AnnAssign) and statement.value else []
        for target in targets:
            if isinstance(target, ast.Name):
                end = statement.end_lineno or statement.lineno
                after = END_OF_FILE if open_end and end >= rows else end + 1
                found.append((target.id, statement.lineno, after))
    return tuple(found)


def _leading_comments(rows: list[str], row: int) -> int:
    """`row`, moved up over the comment lines directly above it (they belong to its statement)."""
    while row > 1 and rows[row - 2].lstrip().startswith("#"):
        row -= 1
    return row


def settings_limit(tree: ast.Module, text: str) -> int | None:
    """The first row new settings must stay above, or None when they may go anywhere.

    An unconditional exit or raise at module level ends it: nothing after it runs. An `if` block
    that ends in one (or the `__main__` guard) counts when it is trailing: no module-level
    assignment follows it, so it is the module's closing code; one in the middle of the settings
    (`if not SECRET_KEY: raise ...`) is passed on the way to the settings below it.
    """
    rows = text.splitlines()
    limit = None
    last_assignment = max((s.lineno for s in tree.body
                           if isinstance(s, (ast.Assign, ast.AnnAssign))), default=0)
    for statement in tree.body:
        closing = _exits(statement) or isinstance(statement, ast.If) and (
            _ends_in_exit(statement.body) or _ends_in_exit(statement.orelse)
            or _main_guard(statement)) and statement.lineno > last_assignment
        if closing:
            limit = _leading_comments(rows, statement.lineno)
            break
    for row in _forbidding_comments(text)[:1]:
        row = _leading_comments(rows, row)
        if limit is None or row < limit:
            limit = row
    return limit


def _forbidding_comments(text: str) -> list[int]:
    """The rows of module-level comments (alone on their line, not indented) that forbid adding
    anything below them."""
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT and token.start[1] == 0 \
                    and FORBIDDING.search(token.string):
                found.append(token.start[0])
    except (tokenize.TokenError, SyntaxError):
        return []
    return found
