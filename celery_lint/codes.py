"""The one table of rule metadata, as ruff's `codes.rs`: code, name, severity, group, fix, summary.

Pure data (and the selection of codes by prefix): configuration validates codes against it, and
`celery-lint rule`, the README table and the output formats read it, without importing a rule.
A rule refers to its row with `rule_for("CELxxx")`. A rule is in the preview group until its
judged precision on the real-project corpus is at least 9 in 10; preview rules run only with
`--preview` (or `preview = true`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from celery_lint.diagnostics import Applicability, Severity


class Group(str, enum.Enum):
    STABLE = "stable"
    PREVIEW = "preview"


@dataclass(frozen=True)
class RuleInfo:
    code: str
    name: str
    severity: Severity
    group: Group
    fix: Applicability | None
    summary: str

    @property
    def enabled_by_default(self) -> bool:
        return self.severity is not Severity.INFO

    @property
    def preview(self) -> bool:
        return self.group is Group.PREVIEW

    @property
    def url(self) -> str:
        return f"https://celery-lint.readthedocs.io/en/latest/rules/{self.code}/"


E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # the columns of the table
STABLE, PREVIEW = Group.STABLE, Group.PREVIEW
SAFE, UNSAFE = Applicability.SAFE, Applicability.UNSAFE

# One row per rule, in code order: code, name, severity, group, fix, summary.
RULES: tuple[RuleInfo, ...] = (
    RuleInfo("CEL001", "syntax-error", E, STABLE, None,
             "a file that cannot be parsed"),
    RuleInfo("CEL002", "unused-noqa", W, STABLE, SAFE,
             "a `# noqa: CELxxx` that suppresses nothing"),
    RuleInfo("CEL101", "orm-object-argument", W, STABLE, UNSAFE,
             "a model instance, QuerySet or HttpRequest passed to a task"),
    RuleInfo("CEL102", "blocking-call-in-view", W, STABLE, None,
             "a task's result waited for inside a Django view; a task run synchronously there "
             "(preview part)"),
    RuleInfo("CEL103", "enqueue-in-transaction", W, PREVIEW, UNSAFE,
             "a task enqueued inside a database transaction after a write, instead of on commit"),
    RuleInfo("CEL104", "task-signature-mismatch", E, STABLE, None,
             "call arguments that do not fit the task's parameters"),
    RuleInfo("CEL105", "unknown-task-name", E, STABLE, None,
             "a task name that no task in the project registers, or a glob or regex route that "
             "matches none"),
    RuleInfo("CEL106", "countdown-exceeds-visibility-timeout", W, STABLE, None,
             "a countdown or eta beyond the Redis/SQS visibility timeout: the task runs twice"),
    RuleInfo("CEL107", "unserializable-argument", E, STABLE, None,
             "an argument JSON cannot carry: set, lambda, function, generator, open file, module"),
    RuleInfo("CEL108", "wait-on-ignored-result", E, PREVIEW, None,
             "`.get()`/`.wait()`/`.join()` on the result of a task whose results are not stored: "
             "the caller never gets the value"),
    RuleInfo("CEL201", "missing-time-limit", W, STABLE, UNSAFE,
             "a task with neither `soft_time_limit` nor `time_limit`, in a project with no global "
             "limit"),
    RuleInfo("CEL202", "soft-limit-not-below-hard", E, STABLE, None,
             "`soft_time_limit` not below `time_limit`: the soft limit never fires"),
    RuleInfo("CEL203", "non-idempotent-task", W, STABLE, None,
             "a task whose side effect (payment, mail, external write, new rows, counters) can "
             "happen twice, a retry or a redelivery starting after it, and that does not check "
             "first whether it already happened"),
    RuleInfo("CEL204", "retry-not-raised", W, STABLE, SAFE,
             "statements after a bare `self.retry(...)`, which raises by itself: they never run"),
    RuleInfo("CEL205", "bind-mismatch", E, STABLE, None,
             "`self.request`/`self.retry` without `bind=True`, or `bind=True` with no parameter"),
    RuleInfo("CEL206", "swallowed-celery-exception", W, STABLE, None,
             "`except Exception`/bare `except` that catches `Retry` or an enforced "
             "`SoftTimeLimitExceeded`, after which the task goes on working; one in a function "
             "the task calls (preview part)"),
    RuleInfo("CEL207", "result-get-in-task", E, STABLE, None,
             "`.get()`/`.wait()`/`.join()` on a task result inside a task: the pool can deadlock"),
    RuleInfo("CEL208", "unbounded-retry", W, STABLE, None,
             "`max_retries=None`, or `autoretry_for` catching `Exception`/`BaseException`"),
    RuleInfo("CEL209", "app-task-in-django-app", I, STABLE, None,
             "`@app.task` in a Django app module instead of `@shared_task`"),
    RuleInfo("CEL210", "orm-object-parameter", W, STABLE, None,
             "a task parameter annotated with a model type"),
    RuleInfo("CEL211", "unknown-task-option", W, STABLE, UNSAFE,
             "a keyword of `@shared_task`/`@app.task` that is no option of the project's Celery "
             "and no attribute of the task's base class: Celery stores it silently"),
    RuleInfo("CEL301", "acks-late-disabled", W, PREVIEW, UNSAFE,
             "`task_acks_late` not enabled"),
    RuleInfo("CEL302", "prefetch-multiplier", W, PREVIEW, UNSAFE,
             "`worker_prefetch_multiplier` not 1"),
    RuleInfo("CEL303", "no-global-time-limit", W, STABLE, UNSAFE,
             "`task_time_limit` or `task_soft_time_limit` not set"),
    RuleInfo("CEL304", "insecure-serializer", E, STABLE, None,
             "pickle (or yaml) in `accept_content`, `task_serializer`, `result_serializer`, "
             "`result_accept_content`"),
    RuleInfo("CEL305", "eager-in-production", E, STABLE, None,
             "`task_always_eager = True` outside test/dev settings"),
    RuleInfo("CEL306", "unknown-setting", E, STABLE, SAFE,
             "a setting Celery does not read under the app's namespace (typo, wrong prefix, old "
             "name)"),
    RuleInfo("CEL307", "missing-installed-app", E, STABLE, None,
             "`django-db`/`django-cache` results or `DatabaseScheduler` without their app in "
             "INSTALLED_APPS"),
    RuleInfo("CEL308", "results-never-expire", W, STABLE, None,
             "`result_expires` disabled with a database result backend"),
    RuleInfo("CEL309", "hardcoded-broker-credentials", E, STABLE, None,
             "a password literal in the broker or result backend URL"),
    RuleInfo("CEL310", "timezone-mismatch", W, STABLE, None,
             "Celery's timezone differs from Django's `TIME_ZONE`, or `enable_utc` contradicts "
             "`USE_TZ`"),
    RuleInfo("CEL311", "single-queue", I, STABLE, None,
             "no `task_routes`/`task_queues`: every task shares one queue"),
    RuleInfo("CEL312", "no-failure-monitoring", I, STABLE, None,
             "no `task_failure` handler and no Sentry Celery integration anywhere in the project"),
    RuleInfo("CEL313", "reject-on-worker-lost-unset", W, STABLE, None,
             "`task_acks_late` on but `task_reject_on_worker_lost` off: a killed worker still "
             "loses the task"),
    RuleInfo("CEL314", "connection-retry-on-startup-unset", I, STABLE, None,
             "`broker_connection_retry_on_startup` not set"),
    RuleInfo("CEL315", "visibility-timeout-below-time-limit", W, PREVIEW, None,
             "Redis/SQS broker, a late-acked task whose time limit exceeds the broker's "
             "`visibility_timeout`: it is delivered again while it runs"),
    RuleInfo("CEL316", "route-to-undeclared-queue", E, PREVIEW, None,
             "`task_create_missing_queues = False` and a task routed to a queue `task_queues` does "
             "not declare: `QueueNotFound` when sent"),
    RuleInfo("CEL401", "embedded-beat", W, STABLE, None,
             "`celery worker -B/--beat` in a production process definition"),
    RuleInfo("CEL402", "replicated-beat", E, STABLE, None,
             "beat can run more than once: replicas/scale/numprocs > 1, several process "
             "definitions run beat, or embedded beat in a scaled worker"),
    RuleInfo("CEL403", "unconsumed-queue", E, STABLE, None,
             "a queue that tasks are routed to that no worker consumes (`-Q`)"),
    RuleInfo("CEL404", "worker-without-restart", W, STABLE, None,
             "a worker process definition with no restart policy"),
    RuleInfo("CEL405", "no-monitoring", I, STABLE, None,
             "no Flower, exporter or events-enabled worker in any process definition"),
    RuleInfo("CEL501", "invalid-crontab", E, STABLE, None,
             "`crontab(...)` arguments that Celery's own parser rejects"),
    RuleInfo("CEL502", "periodic-task-without-expires", I, STABLE, None,
             "a beat entry without `expires`: missed runs pile up while workers are down"),
    RuleInfo("CEL503", "periodic-args-not-json", E, STABLE, None,
             "`PeriodicTask(args=/kwargs=)` given a Python object instead of a JSON string"),
    RuleInfo("CEL504", "crontab-every-minute", W, PREVIEW, UNSAFE,
             "`crontab(...)` with an hour, day or month field and `minute` left at its default "
             "`*`: it runs every minute of that hour or day"),
    RuleInfo("CEL601", "chord-without-results", E, STABLE, None,
             "a chord whose header tasks ignore results, or a project with no result backend: the "
             "callback never runs"),
)
_BY_CODE = {rule.code: rule for rule in RULES}


def all_rules() -> tuple[RuleInfo, ...]:
    return RULES


def get_rule(code: str) -> RuleInfo | None:
    return _BY_CODE.get(code.upper())


def rule_for(code: str) -> RuleInfo:
    """The row of `code`: how a rule module names its own metadata (a typo fails on import)."""
    return _BY_CODE[code]


def expand_codes(selectors: Iterable[str]) -> set[str]:
    """Expand codes and prefixes (`CEL1`, `CEL10`, `ALL`) into the known rule codes.

    Raises ValueError naming a selector that matches no rule.
    """
    selectors = [s for s in selectors if s.strip()]
    if not selectors:
        return set()
    selected: set[str] = set()
    for selector in selectors:
        selector = selector.strip().upper()
        if not selector:
            continue
        if selector == "ALL":
            selected |= _BY_CODE.keys()
            continue
        matched = {code for code in _BY_CODE if code.startswith(selector)}
        if not matched:
            raise ValueError(f"unknown rule selector {selector!r}")
        selected |= matched
    return selected


def selected_rules(
    select: Iterable[str] | None, ignore: Iterable[str], extend_select: Iterable[str],
    preview: bool = False,
) -> frozenset[str]:
    """The codes that a run reports, as ruff resolves select/extend-select/ignore: preview rules
    only with `preview` on, however they are selected (by prefix or by their exact code)."""
    if select is None:
        base = {rule.code for rule in RULES if rule.enabled_by_default}
    else:
        base = expand_codes(select)
    base |= expand_codes(extend_select)
    base -= expand_codes(ignore)
    if not preview:
        base = {code for code in base if not _BY_CODE[code].preview}
    return frozenset(base)


def preview_selections(selectors: Iterable[str]) -> list[str]:
    """The exact codes among `selectors` that name preview rules: without preview they select
    nothing, which ruff warns about and so does the command line."""
    found = []
    for selector in selectors:
        rule = get_rule(selector.strip())
        if rule is not None and rule.preview and rule.code not in found:
            found.append(rule.code)
    return found
