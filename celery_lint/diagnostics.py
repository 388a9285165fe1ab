"""Diagnostics, fixes and edits: the values every phase and front end passes around."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Applicability(str, enum.Enum):
    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True, order=True)
class Location:
    """A 1-based row and column (columns count characters, as ruff does)."""

    row: int
    column: int


END_OF_FILE = 10**9  # the row (and column) of an edit that appends to a file, whatever its length


@dataclass(frozen=True)
class Edit:
    content: str
    location: Location
    end_location: Location


@dataclass(frozen=True)
class Fix:
    applicability: Applicability
    message: str
    edits: tuple[Edit, ...]


class SkippedFile(Exception):
    """A file phase 2 cannot read although Python can: reported as a warning."""


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    path: str
    location: Location
    end_location: Location
    fix: Fix | None = None
    noqa_row: int = 0
    severity: Severity = field(default=Severity.WARNING, compare=False)

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.location.row, self.location.column, self.code)
