"""What every phase 2 rule gets: the file's tree and facts, the project index and one report call."""

from __future__ import annotations

from functools import cached_property
from typing import ClassVar

import libcst as cst
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, PositionProvider

from celery_lint.analysis.calls import TaskCall, task_call
from celery_lint.analysis.values import Binder
from celery_lint.analysis.walk import children
from celery_lint.codes import RuleInfo
from celery_lint.config import Config
from celery_lint.diagnostics import Diagnostic, Edit, Fix, Location, SkippedFile
from celery_lint.facts.types import FileFacts
from celery_lint.index import ProjectIndex
from celery_lint.source import SourceFile, split_lines


class FileContext:
    """One file under check. Rules report through it; nothing here reads the disk."""

    def __init__(self, source: SourceFile, module: cst.Module, facts: FileFacts,
                 index: ProjectIndex, config: Config) -> None:
        self.source = source
        self.module = module
        self.facts = facts
        self.index = index
        self.config = config
        self.wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self.diagnostics: list[Diagnostic] = []
        self._task_calls: dict[cst.Call, TaskCall | None] = {}
        self.current: cst.BaseStatement | None = None  # the top-level statement being walked
        self._statement_lines = facts.statement_lines or None
        self._statement_positions: dict[cst.CSTNode, CodeRange] = {}
        self._done: set[cst.CSTNode] = set()

    @cached_property
    def binder(self) -> Binder:
        return Binder(self.module, self.facts, self.index)

    def task_call(self, node: cst.Call) -> TaskCall | None:
        """The task call `node` makes (asked by several rules, worked out once)."""
        if node not in self._task_calls:
            self._task_calls[node] = task_call(node, self.binder)
        return self._task_calls[node]

    @cached_property
    def positions(self):  # type: ignore[no-untyped-def]
        return self.wrapper.resolve(PositionProvider)

    def range_of(self, node: cst.CSTNode) -> CodeRange:
        """Where `node` is in the file."""
        where = self._range_of(node)
        shifts = self._indent_shifts
        if not shifts:
            return where
        return CodeRange(_shifted(where.start, shifts), _shifted(where.end, shifts))

    @cached_property
    def _indent_shifts(self) -> dict[int, tuple[int, int]]:
        """For each line where libcst's code and the file's differ in their indentation only,
        (libcst's indentation width, the file's). libcst does not keep a form feed at the start
        of a line as it is (it drops one before a module-level statement and repeats one in a
        block's indentation on every line of the block), so its columns there are off."""
        text = self.source.text
        if "\x0c" not in text:
            return {}
        code = self.module.code
        if code == text:
            return {}
        shifts = {}
        for row, (ours, theirs) in enumerate(zip(split_lines(text), split_lines(code)), start=1):
            ours_body, theirs_body = ours.lstrip(" \t\x0c"), theirs.lstrip(" \t\x0c")
            if ours_body == theirs_body and len(ours) != len(theirs):
                shifts[row] = (len(theirs) - len(theirs_body), len(ours) - len(ours_body))
        return shifts

    def _range_of(self, node: cst.CSTNode) -> CodeRange:
        """Where `node` is, by libcst's code. libcst finds positions by generating the code of
        the whole module, the costliest step of a run on a large file; here only the code of the
        top-level statement around `node` is generated, and `ast`'s line numbers of the top-level
        statements (from phase 1) place it in the file."""
        if self._statement_lines is None:
            return self.positions[node]
        found = self._statement_positions.get(node)
        if found is not None:
            return found
        order = self.module.body
        current = [self.current] if self.current is not None else []
        for statement in current + [s for s in order if s is not self.current]:
            if statement not in self._done and self._locate(statement) and \
                    node in self._statement_positions:
                return self._statement_positions[node]
        return self.positions[node]

    def walk(self, batch: RuleBatch) -> None:
        """Run `batch` over the module, one top-level statement after another."""
        module = self.module
        for method in batch.visits.get("Module", ()):
            method(module)
        for statement in module.body:
            self.current = statement
            batch.run(statement)
        self.current = None
        for method in batch.leaves.get("Module", ()):
            method(module)

    @cached_property
    def _anchors(self) -> dict[cst.CSTNode, int] | None:
        """The file line of each top-level statement's first token (`def`/`class` for a
        decorated one), from `ast`; None when the two trees do not line up."""
        lines = self.facts.statement_lines
        anchors: dict[cst.CSTNode, int] = {}
        index = 0
        for statement in self.module.body:
            if index >= len(lines):
                return None
            anchors[statement] = lines[index]
            index += len(statement.body) if isinstance(statement, cst.SimpleStatementLine) else 1
        return anchors if index == len(lines) else None

    def _locate(self, statement: cst.BaseStatement) -> bool:
        """Positions of the nodes of one top-level statement, moved to their place in the file."""
        self._done.add(statement)
        anchors = self._anchors
        if anchors is None:
            self._statement_lines = None
            return False
        module = self.module
        alone = cst.Module(body=[statement], header=(), footer=(), encoding=module.encoding,
                           default_indent=module.default_indent,
                           default_newline=module.default_newline,
                           has_trailing_newline=module.has_trailing_newline)
        positions = MetadataWrapper(alone, unsafe_skip_copy=True).resolve(PositionProvider)
        first = statement.name if isinstance(statement, (cst.FunctionDef, cst.ClassDef)) \
            else statement
        shift = anchors[statement] - positions[first].start.line
        for node, where in positions.items():
            if node is not alone:
                self._statement_positions[node] = CodeRange(
                    (where.start.line + shift, where.start.column),
                    (where.end.line + shift, where.end.column))
        return True

    def report(self, info: RuleInfo, node: cst.CSTNode, message: str, *,
               end: cst.CSTNode | None = None, fix: Fix | None = None) -> None:
        start = self.range_of(node)
        stop = self.range_of(end) if end is not None else start
        self.report_at(info, Location(start.start.line, start.start.column + 1),
                       Location(stop.end.line, stop.end.column + 1), message, fix=fix)

    # -- edits for fixes: computed from node positions, so the rest of the file is untouched --
    def replace(self, node: cst.CSTNode, content: str) -> Edit:
        where = self.range_of(node)
        return Edit(content, Location(where.start.line, where.start.column + 1),
                    Location(where.end.line, where.end.column + 1))

    def insert_before(self, node: cst.CSTNode, content: str) -> Edit:
        start = self.range_of(node).start
        location = Location(start.line, start.column + 1)
        return Edit(content, location, location)

    def insert_after(self, node: cst.CSTNode, content: str) -> Edit:
        end = self.range_of(node).end
        location = Location(end.line, end.column + 1)
        return Edit(content, location, location)

    def report_at(self, info: RuleInfo, location: Location, end: Location, message: str, *,
                  fix: Fix | None = None) -> None:
        self.diagnostics.append(Diagnostic(
            code=info.code, message=message, path=self.source.path, location=location,
            end_location=end, fix=fix, noqa_row=location.row, severity=info.severity,
        ))


def _shifted(position: CodePosition, shifts: dict[int, tuple[int, int]]) -> CodePosition:
    """`position` by libcst's code, in the file (see FileContext._indent_shifts)."""
    shift = shifts.get(position.line)
    if shift is None:
        return position
    theirs, ours = shift
    column = position.column
    column = ours + column - theirs if column >= theirs else min(column, ours)
    return CodePosition(position.line, column)


class Rule(cst.BatchableCSTVisitor):
    """A phase 2 rule: a libcst visitor over one file with the project index at hand."""

    info: ClassVar[RuleInfo]

    def __init__(self, context: FileContext) -> None:
        super().__init__()
        self.context = context

    @property
    def binder(self) -> Binder:
        return self.context.binder

    def report(self, node: cst.CSTNode, message: str, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.context.report(self.info, node, message, **kwargs)


class RuleBatch:
    """Runs several rules in one walk of the tree.

    libcst's own `visit_batched` looks the rules' methods up with `inspect` on every file; the
    methods a rule class defines do not change, so they are found once per class here.
    """

    _methods: ClassVar[dict[type[Rule], tuple[str, ...]]] = {}

    def __init__(self, rules: list[Rule]) -> None:
        self.visits: dict[str, list] = {}  # type: ignore[type-arg]
        self.leaves: dict[str, list] = {}  # type: ignore[type-arg]
        for rule in rules:
            for name in self._names(type(rule)):
                table = self.visits if name.startswith("visit_") else self.leaves
                table.setdefault(name.split("_", 1)[1], []).append(getattr(rule, name))

    @classmethod
    def _names(cls, rule: type[Rule]) -> tuple[str, ...]:
        if rule not in cls._methods:
            cls._methods[rule] = tuple(
                name for name in dir(rule)
                if name.startswith(("visit_", "leave_"))
                and getattr(rule, name) is not getattr(cst.BatchableCSTVisitor, name, None))
        return cls._methods[rule]

    def run(self, root: cst.CSTNode) -> None:
        try:
            self._walk(root, 0)
        except RecursionError:
            # libcst's code generation (positions, source text) recurses on deeply nested code
            # that `ast` accepted: skip the file with a warning, not an internal error
            raise SkippedFile("skipped: too deeply nested to check") from None

    def _walk(self, node: cst.CSTNode, depth: int) -> None:
        kind = type(node).__name__
        for method in self.visits.get(kind, ()):
            method(node)
        if depth < 100:
            for child in children(node):
                self._walk(child, depth + 1)
        else:  # valid code nests 1000 deep (`- - - 1`, `a + b + ...`): no recursion from here
            for child in children(node):
                self._walk_deep(child)
        for method in self.leaves.get(kind, ()):
            method(node)

    def _walk_deep(self, root: cst.CSTNode) -> None:
        """The same walk as `_walk` with an explicit stack (slower, but of any depth)."""
        visits, leaves = self.visits, self.leaves
        for method in visits.get(type(root).__name__, ()):
            method(root)
        stack = [(root, children(root))]
        while stack:
            parent, pending = stack[-1]
            for node in pending:
                for method in visits.get(type(node).__name__, ()):
                    method(node)
                stack.append((node, children(node)))
                break
            else:
                stack.pop()
                for method in leaves.get(type(parent).__name__, ()):
                    method(parent)
