"""Rules about periodic tasks: crontabs Celery rejects (CEL501), runs that pile up (CEL502),
django-celery-beat arguments that are not JSON (CEL503) and crontabs that run every minute of the
hour or day they name (CEL504)."""

from __future__ import annotations

import difflib
import inspect
from calendar import monthrange
from collections.abc import Iterator
from datetime import datetime, timezone
from functools import cache
from typing import TYPE_CHECKING

import libcst as cst

from celery_lint.analysis.values import source_of, string_value
from celery_lint.codes import rule_for
from celery_lint.diagnostics import Applicability, Fix
from celery_lint.rules.base import Rule
from celery_lint.rules.calls import PeriodicTaskFields, periodic_task_fields, setting_kind

CRONTAB = "celery.schedules.crontab"
CRONTAB_FIELDS = ("minute", "hour", "day_of_week", "day_of_month", "month_of_year")
EXPIRY_FIELDS = frozenset({"expires", "expire_seconds"})  # django-celery-beat's two
Cronspec = str | int | float | list[int]

if TYPE_CHECKING:
    from celery import Celery


@cache
def crontab_keywords() -> frozenset[str]:
    """The keywords `crontab()` takes, read from Celery's own signatures."""
    from celery.schedules import BaseSchedule, crontab

    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return frozenset(
        parameter.name for function in (crontab.__init__, BaseSchedule.__init__)
        for parameter in inspect.signature(function).parameters.values()
        if parameter.kind in named and parameter.name != "self")


def crontab_problem(fields: dict[str, Cronspec]) -> str | None:
    """Why Celery's `crontab(**fields)` raises, in Celery's words; None when it accepts them."""
    from celery.schedules import crontab

    try:
        crontab(**fields)
    except Exception as exc:  # noqa: BLE001 - whatever Celery raises is its reason
        return _reason(exc)
    return None


def crontab_beat_problem(fields: dict[str, Cronspec]) -> str | None:
    """Why Celery's beat fails on `crontab(**fields)` when it works out the next run, in Celery's
    words; None when it works one out, or when `crontab()` itself raises.

    Celery before 5.7 takes fields that name no real day together (`day_of_month=30,
    month_of_year=2`) and raises RuntimeError in beat, every time it asks when the entry is due;
    Celery 5.7 rejects them in `crontab()` (see `crontab_problem`).
    """
    from celery.schedules import crontab

    start = datetime(2000, 1, 1, tzinfo=timezone.utc)
    try:
        schedule = crontab(**fields, nowfun=lambda: start, app=_schedule_app())
    except Exception:  # noqa: BLE001 - crontab_problem reports it
        return None
    try:
        schedule.remaining_estimate(start)
    except Exception as exc:  # noqa: BLE001 - whatever Celery raises is its reason
        reason = f"{type(exc).__name__}: {_reason(exc)}"
    else:
        return None
    days, months = fields.get("day_of_month"), fields.get("month_of_year")
    if days is not None and months is not None and not any(
            day <= monthrange(2000, month)[1]  # a leap year: February has its 29th
            for month in schedule.month_of_year for day in schedule.day_of_month):
        reason += f"; day_of_month {days!r} never occurs in month_of_year {months!r}"
    return reason


@cache
def _schedule_app() -> Celery:
    """A Celery app of its own for working out a crontab's next run in UTC: no Django fixup, no
    configuration module from the environment, not the current app."""
    from celery import Celery

    return Celery("celery-lint", set_as_current=False, fixups=[],
                  loader="celery.loaders.base:BaseLoader",
                  config_source={"timezone": "UTC", "enable_utc": True})


def cron_expression_problem(expression: str) -> str | None:
    """Why Celery's `crontab.from_string(expression)` raises; None when it accepts it (or when
    the installed Celery is too old to have `from_string`)."""
    from celery.schedules import crontab

    if not hasattr(crontab, "from_string"):
        return None
    try:
        crontab.from_string(expression)
    except Exception as exc:  # noqa: BLE001 - whatever Celery raises is its reason
        return _reason(exc)
    return None


def _reason(exc: Exception) -> str:
    return " ".join(str(exc).split()).rstrip(".") or type(exc).__name__


def _integer(node: cst.BaseExpression) -> int | None:
    if isinstance(node, cst.Integer):
        return int(node.evaluated_value)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus) \
            and isinstance(node.expression, cst.Integer):
        return -int(node.expression.evaluated_value)
    return None


def cronspec_literal(node: cst.BaseExpression) -> Cronspec | None:
    """The value of a crontab field written as a literal (a string, a number, a list of
    integers); None for anything celery-lint would have to guess."""
    text = string_value(node)
    if text is not None:
        return text
    number = _integer(node)
    if number is not None:
        return number
    if isinstance(node, cst.Float):
        return float(node.evaluated_value)
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)) and node.elements:
        items = [_integer(e.value) if isinstance(e, cst.Element) else None for e in node.elements]
        if all(item is not None for item in items):
            return [item for item in items if item is not None]
    return None


def crontab_fields(node: cst.Call) -> dict[str, cst.BaseExpression]:
    """The fields a `crontab(...)` call gives, by name: positional arguments in Celery's order
    (minute, hour, day_of_week, day_of_month, month_of_year), then keywords."""
    given: dict[str, cst.BaseExpression] = {}
    positional = not any(arg.star == "*" for arg in node.args)
    for position, arg in enumerate(node.args):
        if arg.keyword is None and not arg.star and positional and position < len(
                CRONTAB_FIELDS):
            given[CRONTAB_FIELDS[position]] = arg.value
        elif arg.keyword is not None and arg.keyword.value in CRONTAB_FIELDS:
            given[arg.keyword.value] = arg.value
    return given


class InvalidCrontab(Rule):
    info = rule_for("CEL501")

    def visit_Call(self, node: cst.Call) -> None:
        qualname = self.binder.infer(node.func).qualname
        if qualname == CRONTAB:
            self._crontab(node)
        elif qualname == f"{CRONTAB}.from_string" and node.args and node.args[0].keyword is None:
            expression = string_value(node.args[0].value)
            problem = cron_expression_problem(expression) if expression is not None else None
            if problem is not None:
                self.report(node.args[0].value, f"`{source_of(node)}`: Celery rejects the cron "
                                                f"expression {expression!r} ({problem})")

    def _crontab(self, node: cst.Call) -> None:
        callee = source_of(node.func)
        given = crontab_fields(node)
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value not in crontab_keywords():
                self._unknown_keyword(callee, arg.keyword)
        literals: dict[str, Cronspec] = {}
        rejected = False
        for field, value in given.items():
            literal = cronspec_literal(value)
            if literal is None:
                continue
            literals[field] = literal
            problem = crontab_problem({field: literal})
            if problem is not None:
                rejected = True
                text = source_of(value)
                self.report(value, f"`{callee}({field}={text})`: Celery rejects {field} {text} "
                                   f"({problem})")
        if rejected or len(literals) < 2:
            return
        # fields Celery accepts one by one can still name no real day (the 30th of February):
        # Celery 5.7 rejects them in crontab(), older ones in beat, when the entry is due
        problem = crontab_problem(literals)
        if problem is None:
            problem = crontab_beat_problem(literals)
            if problem is not None:
                problem = f"crontab() takes them, but beat raises {problem}"
        if problem is not None:
            where = "day_of_month" if "day_of_month" in literals else next(iter(literals))
            shown = ", ".join(f"{field}={source_of(given[field])}" for field in literals)
            self.report(given[where], f"`{callee}({shown})`: Celery rejects these fields "
                                      f"together ({problem})")

    def _unknown_keyword(self, callee: str, keyword: cst.Name) -> None:
        name = keyword.value
        close = difflib.get_close_matches(name, CRONTAB_FIELDS, n=1, cutoff=0.6)
        hint = f"; did you mean `{close[0]}`?" if close else \
            f" (its fields are {', '.join(CRONTAB_FIELDS)})"
        self.report(keyword, f"`{callee}()` takes no keyword `{name}`: Celery raises TypeError"
                             f"{hint}")


# -- CEL502 ------------------------------------------------------------------------------------

PILE_UP = "runs sent while workers are down pile up and all run when they return"


def _string_keys(node: cst.Dict) -> dict[str, cst.BaseExpression] | None:
    """A dict literal's values by string key; None when a `**` or another key may hide one."""
    found: dict[str, cst.BaseExpression] = {}
    for element in node.elements:
        key = string_value(element.key) if isinstance(element, cst.DictElement) else None
        if key is None:
            return None
        found[key] = element.value
    return found


def _schedule_entries(schedule: cst.BaseExpression) -> Iterator[
        tuple[cst.BaseExpression, cst.BaseExpression]]:
    if isinstance(schedule, cst.Dict):
        for element in schedule.elements:
            if isinstance(element, cst.DictElement):
                yield element.key, element.value


def module_beat_entries(module: cst.Module) -> Iterator[
        tuple[cst.BaseExpression, cst.BaseExpression]]:
    """(name, entry) of the beat schedule entries a module sets at its top level, where CEL105
    looks too: `CELERY_BEAT_SCHEDULE = {...}`, `app.conf.beat_schedule = {...}`,
    `CELERY_BEAT_SCHEDULE["name"] = {...}` and `CELERY_BEAT_SCHEDULE.update({...})`."""
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign):
                for target in small.targets:
                    if setting_kind(target.target) == "beat_schedule":
                        yield from _schedule_entries(small.value)
                    elif isinstance(target.target, cst.Subscript) and \
                            setting_kind(target.target.value) == "beat_schedule" and \
                            len(target.target.slice) == 1 and \
                            isinstance(target.target.slice[0].slice, cst.Index):
                        yield target.target.slice[0].slice.value, small.value
            elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                func = small.value.func
                if isinstance(func, cst.Attribute) and func.attr.value == "update" and \
                        setting_kind(func.value) == "beat_schedule":
                    for arg in small.value.args:
                        if arg.keyword is None and not arg.star:
                            yield from _schedule_entries(arg.value)


def _without_expires(signature: cst.BaseExpression) -> bool:
    """Whether a signature passed to `add_periodic_task` surely carries no `expires` option:
    `task.s(...)` or `task.si(...)`, maybe through `.set(...)` calls that do not set it."""
    while isinstance(signature, cst.Call) and isinstance(signature.func, cst.Attribute):
        method = signature.func.attr.value
        if method in ("s", "si"):
            return True
        if method != "set" or any(a.star or a.keyword is None or a.keyword.value == "expires"
                                  for a in signature.args):
            return False
        signature = signature.func.value
    return False


def _period_hint(schedule: cst.BaseExpression | None) -> str:
    if isinstance(schedule, (cst.Integer, cst.Float)):
        return f"e.g. `{source_of(schedule)}`, its period in seconds"
    return "e.g. its period in seconds"


class PeriodicTaskWithoutExpires(Rule):
    info = rule_for("CEL502")

    def __init__(self, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(context)
        self.periodic_tasks: list[tuple[cst.Call, PeriodicTaskFields]] = []
        self.bound: dict[cst.Call, tuple[cst.FunctionDef | None, str]] = {}  # to a variable
        self.expiring: set[tuple[cst.FunctionDef | None, str]] = set()  # `variable.expires = `

    def visit_Module(self, node: cst.Module) -> None:
        for name, entry in module_beat_entries(node):
            self._entry(name, entry)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "update" and isinstance(
                func.value, cst.Attribute) and func.value.attr.value == "conf":
            for arg in node.args:
                if arg.keyword is not None and arg.keyword.value == "beat_schedule":
                    for name, entry in _schedule_entries(arg.value):
                        self._entry(name, entry)
        elif isinstance(func, cst.Attribute) and func.attr.value == "add_periodic_task":
            self._add_periodic_task(node)
        else:
            periodic = periodic_task_fields(node, self.binder)
            if periodic is not None and periodic.complete and not (
                    EXPIRY_FIELDS & periodic.values.keys()) and not _runs_once(periodic):
                self.periodic_tasks.append((node, periodic))

    def visit_Assign(self, node: cst.Assign) -> None:
        # `task = PeriodicTask(...)` then `task.expire_seconds = 60`: the expiry comes later
        for target in node.targets:
            variable = target.target
            if isinstance(variable, (cst.Tuple, cst.List)) and variable.elements:
                variable = variable.elements[0].value  # `task, created = ...get_or_create()`
            if isinstance(node.value, cst.Call) and isinstance(variable, cst.Name):
                self.bound[node.value] = (self._function(node.value), variable.value)
            elif isinstance(variable, cst.Attribute) and variable.attr.value in EXPIRY_FIELDS \
                    and isinstance(variable.value, cst.Name):
                self.expiring.add((self._function(variable), variable.value.value))

    def _function(self, node: cst.CSTNode) -> cst.FunctionDef | None:
        context = self.binder.function_at(node)
        return context.node if context is not None else None

    def leave_Module(self, original_node: cst.Module) -> None:
        for call, periodic in self.periodic_tasks:
            if self.bound.get(call) in self.expiring:
                continue
            name = string_value(periodic.values.get("name"))
            what = f"Periodic task `{name}`" if name else "This `PeriodicTask`"
            self.report(call, f"{what} has no `expire_seconds`: {PILE_UP}; set "
                              "`expire_seconds=` (e.g. its period in seconds)")

    def _entry(self, name: cst.BaseExpression, entry: cst.BaseExpression) -> None:
        fields = _string_keys(entry) if isinstance(entry, cst.Dict) else None
        if fields is None:
            return
        label = string_value(name) or source_of(name)
        options = fields.get("options")
        if options is None and "expires" in fields:
            self.report(name, f"Beat entry `{label}` sets `expires` beside `options`, where "
                              "Celery's schedulers do not take it (beat stops with a TypeError); "
                              "move it into `\"options\": {\"expires\": ...}`")
        elif options is None or (isinstance(options, cst.Dict) and (
                keys := _string_keys(options)) is not None and "expires" not in keys):
            self.report(name, f"Beat entry `{label}` has no `expires`: {PILE_UP}; add "
                              f"`\"options\": {{\"expires\": ...}}` "
                              f"({_period_hint(fields.get('schedule'))})")

    def _add_periodic_task(self, node: cst.Call) -> None:
        if any(arg.star for arg in node.args) or any(
                arg.keyword is not None and arg.keyword.value == "expires" for arg in node.args):
            return
        positional = [arg.value for arg in node.args if arg.keyword is None]
        keywords = {arg.keyword.value: arg.value for arg in node.args if arg.keyword is not None}
        schedule = positional[0] if positional else keywords.get("schedule")
        signature = positional[1] if len(positional) > 1 else keywords.get("sig")
        if signature is not None and _without_expires(signature):
            self.report(node, f"`{source_of(node.func)}()` has no `expires=`: {PILE_UP}; pass "
                              f"`expires=` ({_period_hint(schedule)})")


def _runs_once(periodic: PeriodicTaskFields) -> bool:
    """A one-off or clocked task sends one message: nothing can pile up."""
    one_off = periodic.values.get("one_off")
    return "clocked" in periodic.values or (
        isinstance(one_off, cst.Name) and one_off.value == "True")


# -- CEL503 ------------------------------------------------------------------------------------

_PYTHON_OBJECTS: dict[type[cst.CSTNode], str] = {
    cst.List: "a list", cst.ListComp: "a list", cst.Tuple: "a tuple", cst.Dict: "a dict",
    cst.DictComp: "a dict", cst.Set: "a set", cst.SetComp: "a set", cst.Integer: "a number",
    cst.Float: "a number",
}


def python_object(node: cst.BaseExpression) -> str | None:
    """"a list", "a dict", "a number"...: what a literal builds, when it is not a string.

    `[]` and `{}` are left out: their str() is the JSON django-celery-beat expects.
    """
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
        node = node.expression
    if isinstance(node, (cst.List, cst.Dict)) and not node.elements:
        return None
    return _PYTHON_OBJECTS.get(type(node))


def _not_json_message(field: str, value: cst.BaseExpression, kind: str) -> str:
    text = source_of(value)
    if len(text) > 40 or "\n" in text:
        text = "..."
    if kind == "a number":
        why = "not a JSON list" if field == "args" else "not a JSON object"
        dumped = f"[{text}]" if field == "args" else "{...}"
    elif kind == "a list":
        why, dumped = "JSON only by accident (a string, None or True inside breaks it)", text
    else:
        why = "not JSON, and beat disables the entry"
        dumped = "[...]" if kind == "a set" else text
    return (f"`{field}={text}` is {kind}, but django-celery-beat stores `{field}` as a JSON "
            f"string: its str() is {why}; pass `json.dumps({dumped})`")


class PeriodicArgsNotJson(Rule):
    info = rule_for("CEL503")

    def visit_Call(self, node: cst.Call) -> None:
        periodic = periodic_task_fields(node, self.binder)
        if periodic is None:
            return
        for field in ("args", "kwargs"):
            value = periodic.values.get(field)
            kind = python_object(value) if value is not None else None
            if value is not None and kind is not None:
                self.report(value, _not_json_message(field, value, kind))


# -- CEL504 ------------------------------------------------------------------------------------

class CrontabEveryMinute(Rule):
    info = rule_for("CEL504")

    def visit_Call(self, node: cst.Call) -> None:
        if any(arg.star for arg in node.args) or \
                self.binder.infer(node.func).qualname != CRONTAB:
            return  # `crontab(**fields)` may well give a minute
        given = crontab_fields(node)
        coarse = {field: value for field, value in given.items() if field != "minute"}
        # `crontab()` and `crontab(hour="*")` run every minute, and say so
        if "minute" in given or all(string_value(v) == "*" for v in coarse.values()):
            return
        shown = source_of(node)
        if len(shown) > 60 or "\n" in shown:
            shown = f"{source_of(node.func)}(...)"
        runs = _runs_a_day(coarse.get("hour"))
        if "hour" in coarse:
            what = f"every minute of each hour it names ({runs})"
        else:
            what = "every minute of each day it names (1,440 runs a day instead of one)"
        # every field is a keyword here (the first positional one is `minute`)
        fix = Fix(Applicability.UNSAFE, "Add `minute=0`",
                  (self.context.insert_before(node.args[0], "minute=0, "),))
        self.report(node, f"`{shown}` leaves `minute` at its default `*`, so it runs {what}; "
                          "add `minute=0` (or write `minute=\"*\"` when every minute is meant)",
                    fix=fix)


def _runs_a_day(hour: cst.BaseExpression | None) -> str:
    """"60 runs a day instead of one", from the hours Celery reads in `hour` when it is a
    literal."""
    from celery.schedules import crontab

    literal = cronspec_literal(hour) if hour is not None else None
    if literal is None or crontab_problem({"hour": literal}) is not None:
        return "60 runs an hour instead of one"
    hours = len(crontab(hour=literal).hour)
    once = "one" if hours == 1 else str(hours)
    return f"{60 * hours:,} runs a day instead of {once}"
