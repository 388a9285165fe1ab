"""CEL203: a task whose side effect can happen twice, and nothing makes the second time harmless.

It reads phase-1 facts (`facts.effects`): the task's side effects, what the attempt can still do
after each of them, its guards and early returns, and one call deep the same of the project
functions it calls. An effect happens twice only when a second run can start after it happened:
a retry raised by later work (`autoretry_for`, `self.retry()`), or, with late acknowledgement, a
worker lost while the task still works after it. An effect that ends the attempt, or whose own
failure is what retries, happened at most once when the next run starts.
"""

from __future__ import annotations

from dataclasses import dataclass

from celery_lint.codes import rule_for
from celery_lint.diagnostics import Diagnostic, Location
from celery_lint.facts.effects import Behaviour, CallSite, Effect, guarded, per_attempt
from celery_lint.facts.types import FromEnv, FunctionFact, TaskDefinition, Unknown
from celery_lint.index import ProjectIndex

NON_IDEMPOTENT = rule_for("CEL203")

# what each kind of side effect does, most costly first
KINDS = {"payment": "charges money", "external": "writes to an external service",
         "mail": "sends mail or a notification", "configured": "calls a side-effect call",
         "rows": "creates rows", "counter": "increments a counter"}
BROAD = frozenset({"Exception", "BaseException"})


@dataclass(frozen=True)
class Way:
    """One way the task runs again from the start."""

    kind: str  # "autoretry", "retry", "acks"
    reason: str  # for the message
    catches: str = "any"  # autoretry: "any" error, or "io" (network errors only)


def _ways(task: TaskDefinition, function: FunctionFact, index: ProjectIndex) -> list[Way]:
    """How the task can run again, in the order the message prefers them."""
    options = task.options
    found = []
    retry_on = options.get("autoretry_for")
    if retry_on not in (None, (), [], False) and not isinstance(retry_on, FromEnv):
        items = retry_on if isinstance(retry_on, tuple) else (retry_on,)
        names = [i.text if isinstance(i, Unknown) else repr(i) for i in items]
        shown = f"({', '.join(names)}{',' if len(names) == 1 else ''})" \
            if isinstance(retry_on, tuple) else names[0]
        # a tuple we can read naming network errors only does not retry a failed database write
        broad = not isinstance(retry_on, tuple) or any(
            n.rsplit(".", 1)[-1] in BROAD or not n.replace(".", "").replace("_", "").isalnum()
            or "Database" in n or "Operational" in n or "Integrity" in n for n in names)
        found.append(Way("autoretry", f"an error raised after it retries the task from the "
                                      f"start (`autoretry_for={shown}`)", "any" if broad else "io"))
    if function.behaviour is not None and function.behaviour.retries:
        found.append(Way("retry", "a `self.retry()` that can run after it starts the task again "
                                  "from the start"))
    acks = options.get("acks_late")
    if acks is True:
        found.append(Way("acks", "it acknowledges late (`acks_late=True`) and works on after it: "
                                 "a worker lost before it returns leaves the message to another "
                                 "worker, which runs it again from the start"))
    elif acks is None:
        config = index.celery_config
        global_acks = config.get("task_acks_late") if config is not None else None
        if global_acks is not None and global_acks.value is True:
            found.append(Way("acks", f"the project acknowledges late (`{global_acks.key} = "
                                     "True`) and the task works on after it: a worker lost before "
                                     "it returns leaves the message to another worker, which "
                                     "runs it again from the start"))
    return found


def _repeat(ways: list[Way], fails_after: str, busy_after: bool, retried: bool) -> Way | None:
    """The first way that can start a second run after an effect happened."""
    for way in ways:
        if way.kind == "autoretry" and (fails_after == "io" or (
                fails_after == "db" and way.catches == "any")):
            return way
        if way.kind == "retry" and retried:
            return way
        if way.kind == "acks" and busy_after:
            return way
    return None


def _records(behaviour: Behaviour, callees: list[Behaviour]) -> tuple[set[str], set[str],
                                                                        set[str]]:
    """The fields written, the models created and the setters called, by the task and the
    functions it calls: what a check at its start can look at."""
    writes, creates, setters = set(behaviour.writes), set(behaviour.creates), \
        set(behaviour.setters)
    for callee in callees:
        writes.update(callee.writes)
        creates.update(callee.creates)
        setters.update(callee.setters)
    return writes, creates, setters


def _real(effect: Effect, index: ProjectIndex) -> bool:
    """A row created through `Model(...).save()` counts only when the class is a model, and no
    row counts that records the attempt itself (a log line, a delivery attempt)."""
    if effect.kind == "rows" and per_attempt(effect.model):
        return False
    if effect.kind == "rows" and effect.what.endswith(".save") and effect.model:
        return index.is_model(effect.model)
    return True


def _callee(call: CallSite, index: ProjectIndex) -> Behaviour | None:
    functions = index.functions
    callee = functions.get(call.target) or functions.get(index.resolve(call.target))
    return callee.behaviour if callee is not None else None


def _repeating(task: TaskDefinition, function: FunctionFact, index: ProjectIndex,
               ways: list[Way]) -> list[tuple[Effect, str | None, Way]]:
    """The task's effects that can happen twice and that nothing checks first; each with the
    function it happens in (None: the task) and the way it repeats."""
    behaviour = function.behaviour
    assert behaviour is not None
    functions = index.functions
    configured = index.config.side_effect_calls
    callees = {call.target: _callee(call, index) for call in behaviour.calls}
    writes, creates, setters = _records(behaviour, [c for c in callees.values() if c])
    found: list[tuple[Effect, str | None, Way]] = []

    def checked(line: int) -> bool:
        return guarded(behaviour.checks, line, writes, creates, setters, behaviour.object_calls)

    for effect in behaviour.effects:
        # a project function named like a payment or a mail: what it does decides, not its name
        if effect.target and (functions.get(effect.target) or functions.get(
                index.resolve(effect.target))):
            continue
        way = _repeat(ways, effect.fails_after, effect.busy_after, effect.retried)
        if way is not None and _real(effect, index) and not checked(effect.line):
            found.append((effect, None, way))
    for call in behaviour.calls:
        if configured and any(call.target == c or call.target.endswith("." + c)
                              for c in configured):
            way = _repeat(ways, call.fails_after, call.busy_after, call.retried)
            if way is not None and not checked(call.line):
                found.append((Effect("configured", call.target, call.line), None, way))
            continue
        callee = callees[call.target]
        if callee is None or callee.guards or checked(call.line):
            continue
        own = set(callee.writes), set(callee.creates), set(callee.setters)
        for effect in callee.effects:
            if not _real(effect, index) or guarded(callee.checks, effect.line, *own,
                                                   callee.object_calls):
                continue
            order = ("", "db", "io")
            fails = max(effect.fails_after, call.fails_after, key=order.index)
            # what fails in the callee after the effect leaves it by the call
            retried = call.retried or (call.retry_handler == "any" and bool(
                effect.fails_after)) or (call.retry_handler == "io" and effect.fails_after == "io")
            way = _repeat(ways, fails, effect.busy_after or call.busy_after, retried)
            if way is not None:
                found.append((effect, call.target.rsplit(".", 1)[-1], way))
    return found


def non_idempotent(index: ProjectIndex) -> list[Diagnostic]:
    found = []
    functions = index.functions
    for task in index.tasks.values():
        function = functions.get(task.qualname)
        if function is None or function.behaviour is None or function.behaviour.guards:
            continue
        ways = _ways(task, function, index)
        if not ways:
            continue
        repeating = _repeating(task, function, index, ways)
        if not repeating:
            continue
        order = list(KINDS)
        effect, where, way = min(repeating, key=lambda item: (order.index(item[0].kind),
                                                               item[0].line))
        through = f" through `{where}()`" if where else ""
        found.append(Diagnostic(
            NON_IDEMPOTENT.code,
            f"Task `{task.function}` {KINDS[effect.kind]} (`{effect.what}`{through}) and can do "
            f"it twice: {way.reason}. Nothing checks first that it already happened: record it "
            "and return early when it is (a status the task sets, `select_for_update()` on the "
            "row, or a status-filtered `.update()` whose count you check), use `get_or_create`, "
            "or pass an idempotency key",
            task.path, Location(function.line, function.column),
            Location(function.line, function.name_end), noqa_row=function.line,
            severity=NON_IDEMPOTENT.severity))
    return found


def idempotency_diagnostics(index: ProjectIndex, codes: frozenset[str]) -> list[Diagnostic]:
    return non_idempotent(index) if NON_IDEMPOTENT.code in codes else []
