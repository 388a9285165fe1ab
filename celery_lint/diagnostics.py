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
    path: str | None = None  # the file it edits; None: the file of the diagnostic it fixes

    def file(self, diagnostic: Diagnostic) -> str:
        return self.path or diagnostic.path


@dataclass(frozen=True)
class Fix:
    """Edits that go together; they may span files (each `Edit.path`), and are applied whole or
    not at all.

    A fix with `part_of` set is one file's share of a fix that spans the project (its key names
    the whole): phase 2 sees one file at a time, so the runner joins the parts once every file is
    checked (`rules.calls.join_whole_fixes`), and a part left alone is never applied.
    """

    applicability: Applicability
    message: str
    edits: tuple[Edit, ...]
    part_of: str | None = None

    def files(self, diagnostic: Diagnostic) -> list[str]:
        return sorted({e.file(diagnostic) for e in self.edits})


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
