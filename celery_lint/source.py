"""One source file as the linter sees it: decoded text, encoding, BOM, newlines and noqa comments."""

from __future__ import annotations

import codecs
import io
import re
import tokenize
from dataclasses import dataclass, field
from functools import cached_property

_NOQA = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)
_FILE_NOQA = re.compile(
    r"^\s*#\s*celery-lint:\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)
# Python, libcst, the fixes and the editors break lines at these only; str.splitlines also breaks
# at form feeds, \x0b, \x1c-\x1e, \x85, \u2028 and \u2029, which a line of code may hold.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_LF = re.compile(r"\r\n?")


def split_lines(text: str, keepends: bool = False) -> list[str]:
    """The lines of `text` as Python numbers its rows: like `str.splitlines`, but only CR LF,
    CR and LF end a line."""
    lines = _LINE.findall(text)
    return lines if keepends else [line.rstrip("\r\n") for line in lines]


class SourceError(Exception):
    """A file that cannot be turned into text; the message says why."""


@dataclass(frozen=True)
class NoqaDirective:
    """A `# noqa` comment: `codes` is None for a bare `# noqa`."""

    row: int
    column: int  # 1-based column of the `#`
    end_column: int
    codes: tuple[str, ...] | None


@dataclass
class SourceFile:
    path: str  # absolute path
    display_path: str  # as shown to the user
    text: str  # decoded, without the BOM, newlines as in the file
    encoding: str = "utf-8"
    bom: bool = False
    newline: str = "\n"
    python: bool = True  # else a deployment file: comments are found by a line scan
    _noqa: dict[int, NoqaDirective] | None = field(default=None, repr=False)

    @classmethod
    def from_bytes(cls, path: str, display_path: str, raw: bytes) -> SourceFile:
        bom = raw.startswith(codecs.BOM_UTF8)
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        except SyntaxError as exc:
            raise SourceError(str(exc)) from None
        if encoding == "utf-8-sig":
            encoding = "utf-8"
        body = raw[len(codecs.BOM_UTF8) :] if bom else raw
        try:
            text = body.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise SourceError(f"cannot decode as {encoding}: {exc}") from None
        return cls(path, display_path, text, encoding, bom, _detect_newline(text))

    @cached_property
    def lines(self) -> list[str]:
        return split_lines(self.text)

    def line(self, row: int) -> str:
        lines = self.lines
        return lines[row - 1] if 0 < row <= len(lines) else ""

    @property
    def noqa(self) -> dict[int, NoqaDirective]:
        if self._noqa is None:
            self._noqa = _find_noqa(self.text, self.python) if "noqa" in self.text.lower() else {}
        return self._noqa

    @cached_property
    def file_noqa(self) -> tuple[str, ...] | None:
        """Codes disabled for the whole file (`# celery-lint: noqa[: CODES]`); () means all."""
        match = _FILE_NOQA.search(self.text)
        if match is None:
            return None
        codes = match.group("codes")
        return tuple(c.upper() for c in _CODE.findall(codes)) if codes else ()


def _detect_newline(text: str) -> str:
    index = text.find("\n")
    if index > 0 and text[index - 1] == "\r":
        return "\r\n"
    if index < 0 and "\r" in text:
        return "\r"
    return "\n"


def _comments(text: str, python: bool = True) -> list[tuple[int, int, str]]:
    """(row, 0-based column, text) of each comment; a line scan for other files or bad syntax."""
    if not python:
        return _scanned_comments(text)
    try:
        # rows end at \r too, as in Python (old Mac line endings), which tokenize's lines do not
        tokens = tokenize.generate_tokens(io.StringIO(_LF.sub("\n", text)).readline)
        return [(t.start[0], t.start[1], t.string) for t in tokens if t.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return _scanned_comments(text)


def _scanned_comments(text: str) -> list[tuple[int, int, str]]:
    """`#` comments found line by line: at the start of a line or after a space."""
    found = []
    for row, line in enumerate(split_lines(text), start=1):
        index = line.find("#")
        while index > 0 and not line[index - 1].isspace():
            index = line.find("#", index + 1)
        if index >= 0:
            found.append((row, index, line[index:]))
    return found


def _find_noqa(text: str, python: bool = True) -> dict[int, NoqaDirective]:
    directives: dict[int, NoqaDirective] = {}
    for row, col, comment in _comments(text, python):
        match = _NOQA.search(comment)
        if match is None:
            continue
        codes = match.group("codes")
        directives[row] = NoqaDirective(
            row=row,
            column=col + match.start() + 1,
            end_column=col + match.end() + 1,
            codes=tuple(c.upper() for c in _CODE.findall(codes)) if codes else None,
        )
    return directives
