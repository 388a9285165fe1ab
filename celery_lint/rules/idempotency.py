"""CEL203: a task with a side effect that can run twice and has nothing that makes the second run
harmless.

It reads phase-1 facts (`facts.effects`): the task's side effects and guards, and one call deep
the side effects of the project functions it calls. How the task can run twice comes from its
options and the production settings: acks late (task or global), `autoretry_for`, `self.retry()`.
"""

from __future__ import annotations

from celery_lint.codes import rule_for
from celery_lint.diagnostics import Diagnostic, Location
from celery_lint.facts.effects import Effect
from celery_lint.facts.types import FromEnv, FunctionFact, TaskDefinition, Unknown
from celery_lint.index import ProjectIndex

NON_IDEMPOTENT = rule_for("CEL203")

# what each kind of side effect does, most costly first
KINDS = {"payment": "charges money", "external": "writes to an external service",
         "mail": "sends mail or a notification", "configured": "calls a side-effect call",
         "rows": "creates rows", "counter": "increments a counter"}


def _runs_twice(task: TaskDefinition, function: FunctionFact,
                index: ProjectIndex) -> str | None:
    """How the task can run twice, or None when it cannot (as far as the facts say)."""
    options = task.options
    acks = options.get("acks_late")
    if acks is True:
        return "it acknowledges late (`acks_late=True`): a worker lost mid-task makes it run again"
    retry_on = options.get("autoretry_for")
    if retry_on not in (None, (), [], False) and not isinstance(retry_on, FromEnv):
        items = retry_on if isinstance(retry_on, tuple) else (retry_on,)
        names = [i.text if isinstance(i, Unknown) else repr(i) for i in items]
        shown = f"({', '.join(names)}{',' if len(names) == 1 else ''})" \
            if isinstance(retry_on, tuple) else names[0]
        return f"it retries on errors (`autoretry_for={shown}`) and runs again from the start"
    if function.behaviour is not None and function.behaviour.retries:
        return "it calls `self.retry()`, which runs it again from the start"
    if acks is None:
        config = index.celery_config
        global_acks = config.get("task_acks_late") if config is not None else None
        if global_acks is not None and global_acks.value is True:
            return (f"the project acknowledges late (`{global_acks.key} = True`): a worker lost "
                    "mid-task makes it run again")
    return None


def _effects(function: FunctionFact, index: ProjectIndex) -> list[tuple[Effect, str | None]]:
    """The task's side effects, and those of the project functions it calls (one call deep)
    that do not guard themselves; each with the function it happens in."""
    behaviour = function.behaviour
    if behaviour is None:
        return []
    functions = index.functions
    found: list[tuple[Effect, str | None]] = []
    for effect in behaviour.effects:
        # a project function named like a payment or a mail: what it does decides, not its name
        callee = functions.get(effect.target or "") or functions.get(
            index.resolve(effect.target)) if effect.target else None
        if callee is None and _real(effect, index):
            found.append((effect, None))
    configured = index.config.side_effect_calls
    for call in behaviour.calls:
        if configured and any(call == c or call.endswith("." + c) for c in configured):
            found.append((Effect("configured", call, function.line), None))
            continue
        callee = functions.get(call) or functions.get(index.resolve(call))
        if callee is None or callee.behaviour is None or callee.behaviour.guards:
            continue
        found += [(e, callee.qualname.rsplit(".", 1)[-1]) for e in callee.behaviour.effects
                  if _real(e, index)]
    return found


def _real(effect: Effect, index: ProjectIndex) -> bool:
    """A row created through `Model(...).save()` counts only when the class is a model."""
    if effect.kind == "rows" and effect.what.endswith(".save") and effect.model:
        return index.is_model(effect.model)
    return True


def non_idempotent(index: ProjectIndex) -> list[Diagnostic]:
    found = []
    functions = index.functions
    for task in index.tasks.values():
        function = functions.get(task.qualname)
        if function is None or function.behaviour is None or function.behaviour.guards:
            continue
        effects = _effects(function, index)
        if not effects:
            continue
        reason = _runs_twice(task, function, index)
        if reason is None:
            continue
        order = list(KINDS)
        effect, where = min(effects, key=lambda item: (order.index(item[0].kind), item[0].line))
        through = f" through `{where}()`" if where else ""
        found.append(Diagnostic(
            NON_IDEMPOTENT.code,
            f"Task `{task.function}` {KINDS[effect.kind]} (`{effect.what}`{through}) and can run "
            f"twice: {reason}. Nothing makes a second run harmless: check the state first "
            "(`select_for_update()` and return when already done, or a status-filtered "
            "`.update()` whose count you check), use `get_or_create`, or pass an idempotency key",
            task.path, Location(function.line, function.column),
            Location(function.line, function.name_end), noqa_row=function.line,
            severity=NON_IDEMPOTENT.severity))
    return found


def idempotency_diagnostics(index: ProjectIndex, codes: frozenset[str]) -> list[Diagnostic]:
    return non_idempotent(index) if NON_IDEMPOTENT.code in codes else []
