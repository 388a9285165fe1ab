"""Rules about canvas workflows: a chord whose callback can never run (CEL601)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

import libcst as cst

from celery_lint.analysis.calls import CHAIN_FUNCTIONS, CHORD_FUNCTIONS, GROUP_FUNCTIONS, TaskCall
from celery_lint.analysis.results import has_no_result_backend, ignores_result
from celery_lint.codes import rule_for
from celery_lint.rules.base import Rule

SIGNATURE_METHODS = frozenset({"s", "si", "signature", "subtask"})


class ChordWithoutResults(Rule):
    info = rule_for("CEL601")

    def visit_Call(self, node: cst.Call) -> None:
        qualname = self.binder.infer(node.func).qualname
        if qualname in CHORD_FUNCTIONS:
            header = _header(node)
            if header is not None:
                self._check(node, header)
        elif qualname in CHAIN_FUNCTIONS:
            members = [a.value for a in node.args if a.keyword is None and not a.star]
            for member, following in pairwise(members):
                if self._is_group(member) and self._is_signature(following):
                    self._check(member, member)  # Celery turns a group followed by a task into a chord

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if not isinstance(node.operator, cst.BitOr) or not self._is_signature(node.right):
            return
        left = node.left
        while isinstance(left, cst.BinaryOperation) and isinstance(left.operator, cst.BitOr):
            left = left.right  # `a.s() | group(...) | b.s()` reads as `(a.s() | group(...)) | b.s()`
        if self._is_group(left):
            self._check(left, left)

    def _check(self, node: cst.CSTNode, header: cst.BaseExpression) -> None:
        if has_no_result_backend(self.context.index.celery_config):
            self.report(node, "Chord in a project with no result backend: the header's results "
                              "are never collected, so the callback never runs (set "
                              "`result_backend`)")
            return
        for call in self._header_tasks(header):
            why = self._ignores_result(call)
            if why is not None:
                assert call.task is not None
                self.report(node, f"Chord header task `{call.task.function}` ignores its result "
                                  f"({why}): the chord never completes, so the callback never runs")
                return

    def _ignores_result(self, call: TaskCall) -> str | None:
        """Why the task of a header signature does not store its result, or None."""
        assert call.task is not None
        if call.method in ("signature", "subtask"):
            for arg in call.node.args:
                if arg.keyword is not None and arg.keyword.value == "ignore_result" \
                        and isinstance(arg.value, cst.Name):
                    return "`ignore_result=True` in its signature" \
                        if arg.value.value == "True" else None
        return ignores_result(self.context.index, call.task)

    def _header_tasks(self, header: cst.BaseExpression) -> Iterator[TaskCall]:
        """The task signatures of a chord header: a list, a comprehension or a group of them."""
        if isinstance(header, (cst.List, cst.Tuple)):
            items = [e.value for e in header.elements if isinstance(e, cst.Element)]
        elif isinstance(header, (cst.ListComp, cst.GeneratorExp)):
            items = [header.elt]
        elif isinstance(header, cst.Call) and self._is_group(header):
            members = [a.value for a in header.args if a.keyword is None]
            if len(members) == 1 and isinstance(members[0], (cst.List, cst.Tuple, cst.ListComp,
                                                             cst.GeneratorExp)):
                yield from self._header_tasks(members[0])
                return
            items = members
        else:
            items = [header]
        for item in items:
            if isinstance(item, cst.Call) and self._is_group(item):
                yield from self._header_tasks(item)
                continue
            call = self.context.task_call(item) if isinstance(item, cst.Call) else None
            if call is not None and call.method in SIGNATURE_METHODS and call.task is not None:
                yield call

    def _is_group(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Call) and self.binder.infer(node.func).qualname in GROUP_FUNCTIONS

    def _is_signature(self, node: cst.BaseExpression) -> bool:
        if not isinstance(node, cst.Call):
            return False
        call = self.context.task_call(node)
        return call is not None and call.method in SIGNATURE_METHODS


def _header(call: cst.Call) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "header":
            return arg.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return positional[0].value if positional else None
