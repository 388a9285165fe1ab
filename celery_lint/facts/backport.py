"""Rewrite Python newer than the running interpreter into older Python with the same lines.

libcst's native parser reads the grammar of every version from 3.0 to 3.14 whatever
`PartialParserConfig.python_version` says. From its tree, each construct the running interpreter
does not know is rewritten in place into older syntax that the facts readers see as they would see
the new one on a newer interpreter:

- PEP 695 (3.12): `type X[T] = v` becomes `X     , v`, an expression statement (a type alias
  binds nothing the readers use, the names in `v` stay visible, and any alias value is a valid
  tuple element); type parameters `[T]` become spaces; PEP 696 (3.13) defaults go with them;
- PEP 701 (3.12) f-strings: the strings inside a replacement field take the other quote than the
  string around them, comments go, and a single-quoted f-string whose fields span lines becomes
  triple-quoted; when no older spelling exists (a backslash inside a field) each field becomes a
  name no project defines, so the value is unknown, as any value the readers cannot compute;
- PEP 750 (3.14) t-strings become f-strings (same fields, same positions);
- PEP 758 (3.14) `except A, B:` becomes `except(A, B):`;
- PEP 646 and PEP 654 (3.11) `*Ts` in an annotation or a subscript, and `except*`: the star
  becomes a space.

Every other byte stays, and so does every line: a span that goes keeps its line breaks as
backslash continuations (valid between any two tokens of a statement). Facts therefore keep the
file's rows, and their columns wherever the rewrite keeps lengths (everywhere but after the closing
parenthesis of `except(A, B)` and inside an f-string made triple-quoted).
"""

from __future__ import annotations

import re
import sys
from typing import Any

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from celery_lint.facts.syntax import reads
from celery_lint.source import split_lines

HOST = sys.version_info[:2]
# A name no project defines: a field that has no older spelling becomes it (an unknown value).
PLACEHOLDER = "__celery_lint_unknown__"
_NEWLINE = re.compile(r"\r\n|\r|\n")

Edit = tuple[int, int, str]  # start and end offsets in the text, replacement


def backport(module: cst.Module) -> str:
    """The code of `module` with the constructs this interpreter does not know rewritten into
    older ones, keeping every line.

    libcst's positions are those of its own code, which is the file's but for what it does not
    keep: a form feed that starts a line (which Python ignores too), so that line's columns after
    it are one less."""
    code = module.code
    starts = [0]
    for line in split_lines(code, keepends=True):
        starts.append(starts[-1] + len(line))
    finder = _Finder(code, starts)
    MetadataWrapper(module, unsafe_skip_copy=True).visit(finder)
    return _apply(code, finder.edits)


def _apply(text: str, edits: list[Edit]) -> str:
    """`text` with the edits made; an edit inside an earlier one's span (a string inside an
    f-string that is rewritten whole) is left out."""
    parts, done = [], 0
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1] != e[0], -e[1])):
        if start < done:
            continue
        parts += [text[done:start], replacement]
        done = end
    parts.append(text[done:])
    return "".join(parts)


def _blank(span: str) -> str:
    """Spaces in place of `span`, its line breaks kept as backslash continuations."""
    return _NEWLINE.sub(lambda m: "\\" + m.group(), re.sub(r"[^\r\n]", " ", span))


class _Finder(cst.CSTVisitor):
    """Collects the edits that turn what this interpreter does not know into older syntax."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, text: str, starts: list[int]) -> None:
        super().__init__()
        self.text = text
        self.starts = starts
        self.edits: list[Edit] = []

    def span(self, node: cst.CSTNode) -> tuple[int, int]:
        where = self.get_metadata(PositionProvider, node)
        return (self.starts[where.start.line - 1] + where.start.column,
                self.starts[where.end.line - 1] + where.end.column)

    # -- PEP 695 and 696: type parameters and `type` aliases --------------------------------
    def _blank_parameters(self, node: cst.FunctionDef | cst.ClassDef | cst.TypeAlias) -> None:
        parameters = node.type_parameters
        if parameters is None or HOST >= (3, 13) or (
                HOST >= (3, 12) and all(p.default is None for p in parameters.params)):
            return
        start, end = self.span(parameters)
        self.edits.append((start, end, _blank(self.text[start:end])))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._blank_parameters(node)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._blank_parameters(node)

    def visit_TypeAlias(self, node: cst.TypeAlias) -> None:
        if HOST >= (3, 12):
            self._blank_parameters(node)
            return
        start, _ = self.span(node)
        name_start, name_end = self.span(node.name)
        after = self.span(node.type_parameters)[1] if node.type_parameters else name_end
        equal = self.text.index("=", after)
        # X first, the rest blank, the `=` a comma: the value keeps its columns
        head, middle = self.text[start:name_start], self.text[name_end:equal]
        self.edits.append((start, equal + 1, self.text[name_start:name_end] + _blank(head)
                           + _blank(middle) + ","))

    # -- PEP 758, and PEP 654 on 3.10 --------------------------------------------------------
    def _parenthesize(self, node: cst.ExceptHandler | cst.ExceptStarHandler) -> None:
        kind = node.type
        if HOST < (3, 14) and isinstance(kind, cst.Tuple) and not kind.lpar:
            start, end = self.span(kind)
            # `except A, B` -> `except(A, B)`: the space gives way, A keeps its column
            opening = start - 1 if self.text[start - 1] == " " else start
            self.edits += [(opening, start, "("), (end, end, ")")]

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._parenthesize(node)

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        self._parenthesize(node)
        if HOST < (3, 11):
            start, _ = self.span(node)
            star = start + len("except") + len(node.whitespace_after_except.value)
            self.edits.append((star, star + 1, " "))

    # -- PEP 646 on 3.10: `*Ts` in a subscript or an annotation --------------------------------
    def visit_Index(self, node: cst.Index) -> None:
        if HOST < (3, 11) and node.star:
            start, _ = self.span(node)
            self.edits.append((start, start + 1, " "))

    def visit_Annotation(self, node: cst.Annotation) -> None:
        if HOST < (3, 11) and isinstance(node.annotation, cst.StarredElement):
            star = self.text.index("*", self.span(node.annotation)[0])
            self.edits.append((star, star + 1, " "))

    # -- PEP 701 f-strings and PEP 750 t-strings --------------------------------------------
    def visit_FormattedString(self, node: cst.FormattedString) -> bool:
        if HOST >= (3, 12):
            return True  # native; a t-string inside one is found on the way down
        self._string(node)
        return False  # the string and what is inside it: one edit

    def visit_TemplatedString(self, node: cst.TemplatedString) -> bool:
        if HOST >= (3, 14):
            return True
        if HOST >= (3, 12):
            self.edits.append(_t_to_f(node, self.span(node)[0]))
            return True
        self._string(node)
        return False

    def _string(self, node: cst.FormattedString | cst.TemplatedString) -> None:
        """An f-string or t-string outside any other, before PEP 701: the first of its older
        spellings that this interpreter reads replaces it (none: it stays, an error)."""
        start, end = self.span(node)
        inside = _Inside()
        node.visit(inside)
        t_strings = [_t_to_f(n, self.span(n)[0]) for n in inside.t_strings]
        comments = [(*self.span(c), "") for c in inside.comments]
        candidates = [t_strings]
        for triple in (False, True):  # triple quotes around leave one more quote for inside
            requoted = self._requoted(node, inside, triple)
            if requoted is not None:
                candidates.append(t_strings + comments + requoted)
        if len(node.quote) == 1:  # triple quotes around, the strings inside as they are
            candidates.append(t_strings + comments + self._quoted(node, node.quote * 3))
        candidates.append(self._placeholders(node))
        original = self.text[start:end]
        for edits in candidates:
            older = _apply(original, [(s - start, e - start, r) for s, e, r in edits])
            if not reads(f"({older})", "eval"):
                continue
            if older != original:
                self.edits.append((start, end, older))
            return

    def _quoted(self, string: Any, quote: str) -> list[Edit]:
        """The edits that put `quote` around `string` in place of its own."""
        if quote == string.quote:
            return []
        start, end = self.span(string)
        opening = start + len(string.prefix)
        return [(opening, opening + len(string.quote), quote),
                (end - len(string.quote), end, quote)]

    def _requoted(self, node: Any, inside: _Inside, triple: bool) -> list[Edit] | None:
        """Each string inside the fields quoted with the other quote than the string around it,
        triple when the string was or spans lines (and the outermost one when `triple`); None
        when a string holds a backslash or the quote it would get (it has no such spelling)."""
        quotes = {id(node): self._quote_for(node, node.quote[0], triple)}
        edits = self._quoted(node, quotes[id(node)])
        for string, around in inside.strings:
            body = string.raw_value if isinstance(string, cst.SimpleString) else "".join(
                getattr(part, "value", "") for part in string.parts)
            wanted = "'" if quotes[id(around)][0] == '"' else '"'
            if "\\" in body or wanted in body:
                return None
            quotes[id(string)] = self._quote_for(string, wanted)
            edits += self._quoted(string, quotes[id(string)])
        return edits

    def _quote_for(self, string: Any, char: str, triple: bool = False) -> str:
        """`char`, or three of it when `triple` or `string` is triple-quoted or spans lines."""
        start, end = self.span(string)
        triple = triple or len(string.quote) == 3 or bool(_NEWLINE.search(self.text, start, end))
        return char * 3 if triple else char

    def _placeholders(self, node: Any) -> list[Edit]:
        """Each field made the undefined name, its line breaks kept (triple quotes around then)."""
        start, _ = self.span(node)
        edits = [_t_to_f(node, start)] if _is_t_string(node) else []
        multiline = False
        for part in node.parts:
            if isinstance(part, (cst.FormattedStringExpression, cst.TemplatedStringExpression)):
                part_start, part_end = self.span(part)
                breaks = "".join(_NEWLINE.findall(self.text, part_start, part_end))
                multiline = multiline or bool(breaks)
                edits.append((part_start, part_end, "{" + PLACEHOLDER + breaks + "}"))
        if multiline:
            edits += self._quoted(node, node.quote[0] * 3)
        return edits


def _is_t_string(node: Any) -> bool:
    return isinstance(node, cst.TemplatedString)


def _t_to_f(node: cst.TemplatedString, start: int) -> Edit:
    """The edit that makes a t-string an f-string: `t` -> `f`, `T` -> `F` in its prefix."""
    index = node.prefix.lower().index("t")
    return (start + index, start + index + 1, "F" if node.prefix[index] == "T" else "f")


class _Inside(cst.CSTVisitor):
    """What is inside one f-string or t-string: its strings (each with the f-string or t-string
    around it), its t-strings and its comments."""

    def __init__(self) -> None:
        super().__init__()
        self.around: list[Any] = []
        self.strings: list[tuple[Any, Any]] = []
        self.t_strings: list[cst.TemplatedString] = []
        self.comments: list[cst.Comment] = []

    def _enter(self, node: cst.FormattedString | cst.TemplatedString) -> None:
        if self.around:
            self.strings.append((node, self.around[-1]))
        if _is_t_string(node):
            self.t_strings.append(node)  # type: ignore[arg-type]
        self.around.append(node)

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        self._enter(node)

    def leave_FormattedString(self, original_node: cst.FormattedString) -> None:
        self.around.pop()

    def visit_TemplatedString(self, node: cst.TemplatedString) -> None:
        self._enter(node)

    def leave_TemplatedString(self, original_node: cst.TemplatedString) -> None:
        self.around.pop()

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        self.strings.append((node, self.around[-1]))

    def visit_Comment(self, node: cst.Comment) -> None:
        self.comments.append(node)
