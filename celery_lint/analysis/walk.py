"""A read-only walk over libcst trees.

libcst's `visit` rebuilds every node it passes (to support transformers), which made it the
largest cost of a run; rules only read, so this walk follows the dataclass fields instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import libcst as cst

_SKIP = (cst.BaseParenthesizableWhitespace, cst.EmptyLine, cst.TrailingWhitespace, cst.Newline,
         cst.Comment, cst.LeftParen, cst.RightParen, cst.Comma, cst.Semicolon, cst.Dot,
         cst.AssignEqual, cst.Colon)
_FIELDS: dict[type, tuple[str, ...]] = {}
_WANTED: dict[type, bool] = {}


def _fields(kind: type) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(
            f.name for f in dataclasses.fields(kind)
            if not f.name.startswith(("whitespace", "lpar", "rpar", "leading_lines", "lines_after"))
        )
    return names


def _wanted(kind: type) -> bool:
    """Whether values of `kind` are nodes to walk into (a dict lookup after the first time:
    `isinstance` against libcst's abstract classes is slow)."""
    wanted = _WANTED.get(kind)
    if wanted is None:
        wanted = _WANTED[kind] = issubclass(kind, cst.CSTNode) and not issubclass(kind, _SKIP)
    return wanted


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The child nodes of `node` in source order, without whitespace and punctuation."""
    for name in _fields(type(node)):
        value = getattr(node, name)
        kind = type(value)
        if kind is list or kind is tuple:
            for item in value:
                if _wanted(type(item)):
                    yield item
        elif _wanted(kind):
            yield value
