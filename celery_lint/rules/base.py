"""What every phase 2 rule gets: the file's tree and facts, the project index and one report call."""

from __future__ import annotations

from functools import cached_property
from typing import ClassVar

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from celery_lint.analysis.calls import TaskCall, task_call
from celery_lint.analysis.values import Binder
from celery_lint.analysis.walk import children
from celery_lint.config import Config
from celery_lint.diagnostics import Diagnostic, Edit, Fix, Location
from celery_lint.facts.index import ProjectIndex
from celery_lint.facts.types import FileFacts
from celery_lint.registry import RuleInfo
from celery_lint.source import SourceFile


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
        return self.positions[node]

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

    def run(self, node: cst.CSTNode) -> None:
        kind = type(node).__name__
        for method in self.visits.get(kind, ()):
            method(node)
        for child in children(node):
            self.run(child)
        for method in self.leaves.get(kind, ()):
            method(node)
