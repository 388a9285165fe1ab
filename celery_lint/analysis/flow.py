"""Where calls sit in a body of code: the order they run in, and the branches that exclude each other.

Rules ask this when a report depends on what else the code does: a write before an enqueue in a
transaction (CEL103), an enqueue of the same task in the other branch of a synchronous fallback
(CEL102).
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from celery_lint.analysis.walk import children

Path = tuple[cst.CSTNode, ...]  # a node and its ancestors, from the body walked down
TERMINATORS = (cst.Return, cst.Raise, cst.Continue, cst.Break)


@dataclass(frozen=True)
class Calls:
    """The calls of a body, outside nested functions and lambdas (which run later), each with its
    rank in source order and its path."""

    order: dict[cst.Call, tuple[int, Path]]

    def before(self, first: cst.Call, second: cst.Call) -> bool:
        """Whether `first` runs before `second` when both run: earlier in the source, or in
        `second`'s arguments."""
        at, path = self.order[first]
        return at < self.order[second][0] or second in path


def calls_in(body: cst.CSTNode) -> Calls:
    order: dict[cst.Call, tuple[int, Path]] = {}
    pending: list[tuple[cst.CSTNode, Path]] = [(body, ())]
    while pending:  # a stack, not recursion: expressions nest a thousand deep
        node, above = pending.pop()
        path = (*above, node)
        if isinstance(node, cst.Call):
            order[node] = (len(order), path)
        pending += [(child, path) for child in reversed(list(children(node)))
                    if not isinstance(child, (cst.FunctionDef, cst.Lambda))]
    return Calls(order)


def exclusive(first: Path, second: Path) -> bool:
    """Whether the code at the two paths cannot both run: the two branches of an `if` (or of a
    conditional expression), two `case`s, two `except` handlers, a handler and the `else` of the
    same `try`, or a branch that ends in `return`, `raise`, `continue` or `break` and the code after
    its `if`."""
    for depth, (one, other) in enumerate(zip(first, second)):
        if one is other:
            continue
        parent = first[depth - 1]
        if isinstance(parent, (cst.If, cst.IfExp)):
            return {id(one), id(other)} == {id(parent.body), id(parent.orelse)}
        if isinstance(parent, cst.Match):
            return isinstance(one, cst.MatchCase) and isinstance(other, cst.MatchCase)
        if isinstance(parent, (cst.Try, cst.TryStar)):
            alternatives = {id(handler) for handler in parent.handlers} | {id(parent.orelse)}
            return {id(one), id(other)} <= alternatives
        if isinstance(parent, (cst.IndentedBlock, cst.Module)):
            body = list(parent.body)
            earlier, path = (first, one) if body.index(one) < body.index(other) else (second, other)
            return _leaves(earlier[depth:], path)
        return False
    return False


def handler_of(handler: Path, body: Path) -> bool:
    """Whether the code at `handler` is in an `except` handler of a `try` whose body holds the code
    at `body`: what runs when that code failed."""
    for depth, (one, other) in enumerate(zip(handler, body)):
        if one is not other:
            parent = handler[depth - 1]
            return isinstance(parent, (cst.Try, cst.TryStar)) and isinstance(one, (
                cst.ExceptHandler, cst.ExceptStarHandler)) and other is parent.body
    return False


def _leaves(path: Path, statement: cst.CSTNode) -> bool:
    """Whether `path`, which starts at `statement`, goes into a branch of that `if` that ends in
    `return`, `raise`, `continue` or `break`: the code after the `if` does not run after it."""
    if not isinstance(statement, cst.If) or len(path) < 2:
        return False
    branch = path[1]
    if branch is statement.orelse and isinstance(branch, cst.Else):
        branch = branch.body
    elif branch is not statement.body:
        return False  # the test, or an `elif`
    if isinstance(branch, cst.SimpleStatementSuite):  # `if done: return`
        return isinstance(branch.body[-1], TERMINATORS)
    last = branch.body[-1] if isinstance(branch, cst.IndentedBlock) and branch.body else None
    return isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[-1], TERMINATORS)
