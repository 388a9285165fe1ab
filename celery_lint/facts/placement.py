"""Where a fix writes new lines: settings beside the module's others, imports in their section.

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
import sys
import tokenize
from functools import cache

from celery_lint.facts.evaluate import dotted
from celery_lint.source import split_lines

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


@cache
def _celery_keys() -> frozenset[str]:
    from celery.app.defaults import SETTING_KEYS  # imported once, when first needed

    return frozenset(SETTING_KEYS)


def assignments(tree: ast.Module, text: str) -> tuple[tuple[str, int, int, int], ...]:
    """Each module-level `NAME = ...` (or `NAME: T = ...`) of a setting (an UPPER_CASE name or one
    of Celery's lowercase setting names): the name, its first row, its last row
    and that row's length in characters (a line written after it starts with a line break at
    the end of that row, after any comment there)."""
    rows: list[str] | None = None
    found = []
    for statement in tree.body:
        targets = statement.targets if isinstance(statement, ast.Assign) else \
            [statement.target] if isinstance(statement, ast.AnnAssign) and statement.value else []
        for target in targets:
            if isinstance(target, ast.Name) and (target.id.isupper() or
                                                 target.id in _celery_keys()):
                end = statement.end_lineno or statement.lineno
                rows = split_lines(text) if rows is None else rows
                length = len(rows[end - 1]) if end <= len(rows) else 0
                found.append((target.id, statement.lineno, end, length))
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
    limit = None
    last_assignment = max((s.lineno for s in tree.body
                           if isinstance(s, (ast.Assign, ast.AnnAssign))), default=0)
    for statement in tree.body:
        closing = _exits(statement) or isinstance(statement, ast.If) and (
            _ends_in_exit(statement.body) or _ends_in_exit(statement.orelse)
            or _main_guard(statement)) and statement.lineno > last_assignment
        if closing:
            limit = _leading_comments(split_lines(text), statement.lineno)
            break
    for row in _forbidding_comments(text)[:1]:
        row = _leading_comments(split_lines(text), row)
        if limit is None or row < limit:
            limit = row
    return limit


def _forbidding_comments(text: str) -> list[int]:
    """The rows of module-level comments (alone on their line, not indented) that forbid adding
    anything below them."""
    if not FORBIDDING.search(text):
        return []  # most modules: no need to tokenize them
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT and token.start[1] == 0 \
                    and FORBIDDING.search(token.string):
                found.append(token.start[0])
    except (tokenize.TokenError, SyntaxError):
        return []
    return found


# -- imports: where isort and ruff's `I` rules would put a new one ----------------------------
FUTURE, STANDARD_LIBRARY, THIRD_PARTY, FIRST_PARTY, LOCAL = range(5)


def section(module: str, level: int, first_party: frozenset[str]) -> int:
    """The isort section of an import of `module` (`level` dots before it)."""
    top = module.split(".")[0]
    if level:
        return LOCAL
    if top == "__future__":
        return FUTURE
    if top in first_party:
        return FIRST_PARTY
    return STANDARD_LIBRARY if top in sys.stdlib_module_names else THIRD_PARTY


def _key(statement: ast.Import | ast.ImportFrom) -> tuple[bool, str, str]:
    """isort's and ruff's default order in a section: `import x` lines, then `from x import`
    lines, each by module name, case-insensitively."""
    module = statement.names[0].name if isinstance(statement, ast.Import) else \
        "." * statement.level + (statement.module or "")
    return isinstance(statement, ast.ImportFrom), module.lower(), module


def import_rows(text: str, lines: list[str], first_party: frozenset[str]
                ) -> list[tuple[int, str]] | None:
    """Where each of `lines` (`import x` or `from x import y`) goes, as (row, text to write at
    the start of that row), or None when the module has no leading block of imports to join (or
    it ends the text without a line break).

    The leading block is the run of module-level imports after the docstring, up to the first
    other statement. A line joins its section, at its sorted place when the section is sorted
    (else after its last import); a section the module lacks is written after the section before
    it, or above the block's first import, as a group of its own.
    """
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    body = list(tree.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]  # the docstring
    block: list[ast.Import | ast.ImportFrom] = []
    for statement in body:
        if not isinstance(statement, (ast.Import, ast.ImportFrom)):
            break
        block.append(statement)
    if not block:
        return None
    rows = split_lines(text)
    last_row = block[-1].end_lineno or block[-1].lineno
    if last_row >= len(rows) and not text.endswith(("\n", "\r")):
        return None  # the imports end the text: no line after them to write on
    sections: dict[int, list[ast.Import | ast.ImportFrom]] = {}
    for statement in block:
        module = statement.names[0].name if isinstance(statement, ast.Import) else \
            statement.module or ""
        level = statement.level if isinstance(statement, ast.ImportFrom) else 0
        sections.setdefault(section(module, level, first_party), []).append(statement)
    found = []
    for line in lines:
        new = ast.parse(line).body[0]
        assert isinstance(new, (ast.Import, ast.ImportFrom))
        module = new.names[0].name if isinstance(new, ast.Import) else new.module or ""
        found.append(_import_row(sections, section(module, 0, first_party), _key(new), line,
                                 rows))
    return found


def _after(statement: ast.stmt) -> int:
    return (statement.end_lineno or statement.lineno) + 1


def _import_row(sections: dict[int, list[ast.Import | ast.ImportFrom]], place: int,
                key: tuple[bool, str, str], line: str, rows: list[str]) -> tuple[int, str]:
    own = sections.get(place)
    if own:
        keys = [_key(s) for s in own]
        if keys == sorted(keys):
            later = next((s for s, k in zip(own, keys) if k > key), None)
            if later is not None:  # right above it, below a comment that heads the section
                return later.lineno, line + "\n"
        return _after(own[-1]), line + "\n"
    before = [s for p, statements in sections.items() if p < place for s in statements]
    if before:
        return _after(max(before, key=_after)), "\n" + line + "\n"
    first = min(s.lineno for statements in sections.values() for s in statements)
    above = _leading_comments(rows, first)  # above the comment that heads the first section,
    return (above if above > 1 else first), line + "\n\n"  # not above the file's header
