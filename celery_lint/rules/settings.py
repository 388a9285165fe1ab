"""The settings audit: the production checklist, as audit rows and as CEL3xx diagnostics.

Each check reads one production configuration (see `facts.settings`) and returns a row of the
`audit` report; a failing row carries the diagnostics `check` reports. A value that could not be
evaluated, or comes from the environment, makes a row "unknown" and never raises a diagnostic.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from celery_lint.analysis.workers import limited_worker
from celery_lint.codes import RuleInfo, rule_for
from celery_lint.diagnostics import (
    END_OF_FILE,
    Applicability,
    Diagnostic,
    Edit,
    Fix,
    Location,
)
from celery_lint.facts.celery_names import ProjectCelery, shown_minors
from celery_lint.facts.settings import (
    CELERY_LOOKING,
    MIXED,
    NEEDS_NAMESPACE,
    NO_PREFIX,
    NO_SETTING,
    NOT_HERE,
    OLD_NAME_IGNORED,
    OLD_NAME_PARTLY_READ,
    OLD_NAME_READ,
    OTHER_RELEASE,
    CeleryConfig,
    ConfiguredValue,
    SettingEntry,
    Unread,
    assignments_of,
    describe,
    preferred_key,
    set_at_run_time_only,
    uncertain,
    unread_key,
    unread_note,
)
from celery_lint.facts.types import (
    FromEnv,
    SettingAssignment,
    SettingsBranch,
    SettingsOp,
    Unknown,
    Value,
)
from celery_lint.index import ProjectIndex
from celery_lint.rules.deploy import NO_MONITORING as NO_MONITOR
from celery_lint.rules.deploy import (
    monitoring,
    production,
    replicated_beat,
    worker_without_restart,
)

ACKS_LATE = rule_for("CEL301")
PREFETCH = rule_for("CEL302")
NO_TIME_LIMIT = rule_for("CEL303")
INSECURE_SERIALIZER = rule_for("CEL304")
EAGER = rule_for("CEL305")
UNKNOWN_SETTING = rule_for("CEL306")
MISSING_APP = rule_for("CEL307")
RESULTS_NEVER_EXPIRE = rule_for("CEL308")
CREDENTIALS = rule_for("CEL309")
TIMEZONE = rule_for("CEL310")
SINGLE_QUEUE = rule_for("CEL311")
NO_MONITORING = rule_for("CEL312")
REJECT_ON_LOST = rule_for("CEL313")
RETRY_ON_STARTUP = rule_for("CEL314")

PASS, FAIL, UNKNOWN, NOT_APPLICABLE = "pass", "fail", "unknown", "not-applicable"
INSECURE_CONTENT = {"pickle", "yaml", "application/x-python-serialize", "application/x-yaml"}
SERIALIZER_SETTINGS = ("accept_content", "task_serializer", "result_serializer",
                       "result_accept_content")
URL_SETTINGS = ("broker_url", "broker_read_url", "broker_write_url", "result_backend")
DATABASE_BACKENDS = ("django-db", "database")
INSTALLED_FOR_BACKEND = {"django-db": "django_celery_results",
                         "django-cache": "django_celery_results"}


@dataclass
class Row:
    """One checklist item of the audit, for one production configuration."""

    item: str
    code: str
    status: str
    value: str = ""
    where: str | None = None  # "path:line"
    detail: str = ""
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # run-time writes that may change what the row shows ("how (path:line)"): an optional
    # override module, an `exec()`, a loop over the environment
    overrides: tuple[str, ...] = ()


@dataclass
class Audit:
    index: ProjectIndex
    config: CeleryConfig

    def key(self, setting: str) -> str:
        found = self.config.get(setting)
        if found is not None:
            return found.key
        if self.config.django is not None and not self.config.namespace:
            # Django's settings without a namespace: only upper-case (old-style) names are read
            return self.celery.old_name(setting)
        return preferred_key(setting, self.config.namespace)

    @property
    def celery(self) -> ProjectCelery:
        return self.index.celery

    def at(self, info: RuleInfo, found: ConfiguredValue | SettingEntry, message: str
           ) -> Diagnostic:
        name = found.key if isinstance(found, ConfiguredValue) else found.name
        return _diagnostic(info, message, found.path, found.line, found.column,
                           found.column + len(name))

    def missing(self, info: RuleInfo, message: str) -> Diagnostic:
        assert self.config.path is not None
        return _diagnostic(info, message, self.config.path, 1, 1, 1)

    def where(self, found: ConfiguredValue | SettingEntry | None) -> str | None:
        return f"{found.path}:{found.line}" if found is not None else None

    def unset(self, setting: str) -> str:
        return f"not set (Celery's default: {describe(self.celery.default_of(setting))})"

    def gaps(self) -> str:
        return "; ".join(self.config.gaps)


def _diagnostic(info: RuleInfo, message: str, path: str, row: int, column: int,
                end_column: int) -> Diagnostic:
    return Diagnostic(info.code, message, path, Location(row, column), Location(row, end_column),
                      noqa_row=row, severity=info.severity)


def _row(audit: Audit, item: str, info: RuleInfo, found: ConfiguredValue | None,
         status: str, detail: str = "", diagnostics: list[Diagnostic] | None = None) -> Row:
    value = describe(found.value) if found is not None else ""
    if status == UNKNOWN and found is not None:
        detail = f"{detail}: {why_unknown(found)}" if detail else why_unknown(found)
    return Row(item, info.code, status, value, audit.where(found), detail, diagnostics or [])


def why_unknown(*found: ConfiguredValue | SettingEntry) -> str:
    """What an unknown row says: which values are not known, and why."""
    reasons = []
    for entry in found:
        key = entry.key if isinstance(entry, ConfiguredValue) else entry.name
        value = entry.value
        if isinstance(value, FromEnv) and value.origin == "run time":
            reasons.append(f"`{key}` {describe(value)}: celery-lint cannot tell what that sets")
        elif isinstance(value, FromEnv):
            reasons.append(f"`{key}` is read {describe(value)} when the process starts: only "
                           "the deployment knows its value")
        elif isinstance(value, Unknown):
            reasons.append(f"`{key}` is {value.text}: celery-lint cannot tell its value without "
                           "running the code")
        elif uncertain_part(value):
            reasons.append(f"part of `{key}` is not known: {describe(value)}")
    return "; ".join(reasons)


def uncertain_part(value: Value) -> bool:
    """Whether a value, or an item of it, is unknown or from the environment."""
    if isinstance(value, tuple):
        return any(uncertain_part(v) for v in value)
    if isinstance(value, dict):
        return any(uncertain_part(v) for v in value.values())
    return uncertain(value)


def _missing_row(audit: Audit, item: str, info: RuleInfo, setting: str, message: str,
                 fix: dict[str, object] | None = None, also: tuple[str, ...] = ()) -> Row:
    """A setting that is not set: a failure, unless part of the configuration could not be read.

    `fix` (setting → value) is what the unsafe fix appends to the production settings module.
    The message names what the settings write for `setting` (or the settings `also`) under a
    name Celery does not read.
    """
    if not audit.config.complete:
        return Row(item, info.code, UNKNOWN, audit.unset(setting), None,
                   f"may be set where celery-lint cannot see: {audit.gaps()}")
    misnamed = audit.config.unread_as(setting, *also)
    if misnamed:
        message += f"; {unread_note(misnamed, audit.celery)}"
    diagnostic = audit.missing(info, message)
    # an app configured in code only (`Celery(...)`, `app.conf`) has no module to append to:
    # names written at the end of its module are not read by Celery, and are appended again on
    # every pass
    # nor when the settings write it under a name Celery does not read (`CELERYD_SOFT_TIME_LIMIT
    # = 600`): they mean a value of their own, which one added with the fix's value contradicts;
    # renaming that line is the fix
    if fix and audit.config.source is not None and not misnamed:
        lines = "".join(f"{audit.key(name)} = {value!r}\n" for name, value in fix.items())
        diagnostic = replace(diagnostic, fix=Fix(
            Applicability.UNSAFE, f"Add {lines.strip()!r} to the production settings",
            (_settings_edit(audit, lines),)))
    return Row(item, info.code, FAIL, audit.unset(setting), audit.config.path and
               f"{audit.config.path}:1", message, [diagnostic])


def _settings_edit(audit: Audit, lines: str) -> Edit:
    """`lines` where a person would write them in the production module: after its last Celery
    setting (one Celery reads, or in Django's settings a Celery-looking name), else after its last UPPER_CASE setting, above the code that ends the module and any
    comment that forbids adding below it (see facts.placement); else at the end of the file."""
    module = audit.config.module
    facts = audit.index.files.get(module) if module is not None else None
    if facts is not None and facts.path != audit.config.path:
        facts = None  # not the module the diagnostic (and its fix) is in
    limit = facts.settings_limit if facts is not None and facts.settings_limit else END_OF_FILE
    written = [(name, (row, length)) for name, first, row, length in
               (facts.assignments if facts else ()) if first < limit]
    celery = {v.key for v in audit.config.values.values() if v.path == audit.config.path}
    anchor = next((end for name, end in reversed(written) if name in celery or (
        audit.config.django is not None and name.startswith(CELERY_LOOKING))), None) or \
        next((end for name, end in reversed(written) if name.isupper()), None)
    if anchor is not None:  # at the end of its last row, after any comment there
        at = Location(anchor[0], anchor[1] + 1)
        return Edit("\n" + lines.rstrip("\n"), at, at)
    if limit < END_OF_FILE:
        return Edit(lines + "\n", Location(limit, 1), Location(limit, 1))
    end = Location(END_OF_FILE, END_OF_FILE)  # the end of the file, whatever its length
    return Edit("\n" + lines, end, end)


# -- the checks, in the order of the report ---------------------------------------------------
NO_DEPLOYMENT = ("no process definitions found (Procfile, docker-compose, Kubernetes, "
                 "supervisord, systemd, Dockerfile)")


def no_deployment(audit: Audit) -> str:
    dev = [d.name for d in audit.index.deployments if not d.production]
    if dev:
        return (f"no production process definitions ({len(dev)} development deployment(s) "
                f"ignored: {', '.join(dev)})")
    return NO_DEPLOYMENT


def _deployment_row(audit: Audit, item: str, code: str, diagnostics: list[Diagnostic],
                    passed: str) -> Row:
    """A deployment item: failing with its diagnostics, unknown without process definitions."""
    if not any(d.processes for d in production(audit.index)):
        return Row(item, code, UNKNOWN, "", None, no_deployment(audit))
    if diagnostics:
        first = diagnostics[0]
        where = f"{first.path}:{first.location.row}"
        more = f" (and {len(diagnostics) - 1} more)" if len(diagnostics) > 1 else ""
        return Row(item, code, FAIL, f"{len(diagnostics)} process definition(s)", where,
                   first.message + more, diagnostics)
    return Row(item, code, PASS, passed)


def worker_restarts(audit: Audit) -> Row:
    workers = [p for d in production(audit.index) for p in d.processes if p.kind == "worker"]
    if any(d.processes for d in production(audit.index)) and not workers:
        return Row("worker restarts on crash", "CEL404", NOT_APPLICABLE, "no worker process")
    return _deployment_row(audit, "worker restarts on crash", "CEL404",
                           worker_without_restart(audit.index),
                           f"{len(workers)} worker definition(s) restart")


def acks_late(audit: Audit) -> Row:
    item, key = "acks late", audit.key("task_acks_late")
    found = audit.config.get("task_acks_late")
    message = (f"`{key}` is not enabled: a task is acknowledged when a worker takes it, so a "
               "worker that crashes or is killed mid-task loses it")
    if found is None:
        return _missing_row(audit, item, ACKS_LATE, "task_acks_late", message,
                            {"task_acks_late": True})
    if uncertain(found.value):
        return _row(audit, item, ACKS_LATE, found, UNKNOWN)
    if found.value:  # Celery reads any true value as on
        return _row(audit, item, ACKS_LATE, found, PASS)
    return _row(audit, item, ACKS_LATE, found, FAIL, message,
                [audit.at(ACKS_LATE, found, message)])


# what prefetching costs: a worker hands a reserved task to one of its processes only when that
# process is free (Celery 5's default "fair" scheduling: `-O default` is fair in asynpool), so
# nothing waits behind a busy process of its own; what waits is the backlog it reserved, which no
# other worker can take
PREFETCH_HARM = ("the ones it cannot start yet wait until one of its own processes is free, even "
                 "while another worker could run them at once; set it to 1")


def prefetch(audit: Audit) -> Row:
    item, key = "prefetch multiplier 1", audit.key("worker_prefetch_multiplier")
    found = audit.config.get("worker_prefetch_multiplier")
    default = audit.celery.default_of("worker_prefetch_multiplier")
    if found is None:
        message = (f"`{key}` is not set, so each worker reserves up to {describe(default)} tasks "
                   f"per process from the broker: {PREFETCH_HARM}")
        return _missing_row(audit, item, PREFETCH, "worker_prefetch_multiplier", message,
                            {"worker_prefetch_multiplier": 1})
    if uncertain(found.value):
        return _row(audit, item, PREFETCH, found, UNKNOWN)
    if found.value == 1:
        return _row(audit, item, PREFETCH, found, PASS)
    reserved = f"up to {describe(found.value)} tasks per process" if found.value \
        else "as many tasks as it can"  # 0: no limit
    message = (f"`{key}` is {describe(found.value)}, so each worker reserves {reserved} from the "
               f"broker: {PREFETCH_HARM}")
    return _row(audit, item, PREFETCH, found, FAIL, message, [audit.at(PREFETCH, found, message)])


def queues(audit: Audit) -> Row:
    item = "separate queues per priority"
    maybe = None
    for setting in ("task_routes", "task_queues"):
        found = audit.config.get(setting)
        if found is not None and set_at_run_time_only(found.value):
            maybe = found
        elif found is not None and found.value not in (None, (), {}):
            return _row(audit, item, SINGLE_QUEUE, found, PASS)
    routed = sorted({str(t.options["queue"]) for t in audit.index.tasks.values()
                     if "queue" in t.options})
    if routed:
        return Row(item, SINGLE_QUEUE.code, PASS, "task options route to " + ", ".join(routed))
    message = (f"No `{audit.key('task_routes')}` or `{audit.key('task_queues')}`: every task "
               "shares one queue, so a burst of slow tasks delays the urgent ones; route them to "
               "queues per priority")
    if not audit.config.complete:
        return Row(item, SINGLE_QUEUE.code, UNKNOWN, "not set", None,
                   f"may be set where celery-lint cannot see: {audit.gaps()}")
    if maybe is not None:
        return _row(audit, item, SINGLE_QUEUE, maybe, UNKNOWN)
    return Row(item, SINGLE_QUEUE.code, FAIL, "not set", f"{audit.config.path}:1", message,
               [audit.missing(SINGLE_QUEUE, message)])


def time_limit(audit: Audit) -> Row:
    item = "soft time limit"
    soft = audit.config.get("task_soft_time_limit")
    hard = audit.config.get("task_time_limit")
    present = [f for f in (soft, hard) if f is not None]
    shown = ", ".join(f"{f.key} = {describe(f.value)}" for f in present)
    where = audit.where(soft or hard)
    if any(_positive(f.value) for f in present):
        return Row(item, NO_TIME_LIMIT.code, PASS, shown, where)
    if any(uncertain(f.value) for f in present):
        return Row(item, NO_TIME_LIMIT.code, UNKNOWN, shown, where,
                   why_unknown(*(f for f in present if uncertain(f.value))))
    worker = limited_worker(audit.index)
    if worker is not None:
        limits = [f"--{flag}={value}" for flag, value in (
            ("soft-time-limit", worker.invocation.soft_time_limit),
            ("time-limit", worker.invocation.time_limit)) if value is not None]
        return Row(item, NO_TIME_LIMIT.code, PASS, "worker " + " ".join(limits),
                   f"{worker.path}:{worker.line}")
    soft_key = audit.key("task_soft_time_limit")
    message = (f"Neither `{soft_key}` nor `{audit.key('task_time_limit')}` is set: a task that "
               "hangs holds its worker forever; set a soft limit the task can catch and a hard "
               "limit above it")
    if present:
        first = present[0]
        return Row(item, NO_TIME_LIMIT.code, FAIL, shown, where, message,
                   [audit.at(NO_TIME_LIMIT, first, message)])
    chosen = audit.index.config.fix_time_limits
    limits = dict(chosen) if chosen is not None else None  # no fix: the values are the project's
    return _missing_row(audit, item, NO_TIME_LIMIT, "task_soft_time_limit", message,
                        limits and {"task_soft_time_limit": limits["soft"],
                                    "task_time_limit": limits["hard"]}, also=("task_time_limit",))


def _positive(value: Value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def failure_monitoring(audit: Audit) -> Row:
    item = "failure monitoring (Sentry or task_failure)"
    found = sorted((kind, facts.path, line) for facts in audit.index.files.values()
                   for kind, line in facts.monitoring)
    if found:
        kinds = ", ".join(sorted({kind for kind, _, _ in found}))
        _, path, line = found[0]
        return Row(item, NO_MONITORING.code, PASS, kinds, f"{path}:{line}")
    message = ("No `task_failure` handler and no Sentry Celery integration in the project: a task "
               "that fails in production fails silently")
    if audit.config.path is None:
        return Row(item, NO_MONITORING.code, FAIL, "none found", None, message)
    return Row(item, NO_MONITORING.code, FAIL, "none found", f"{audit.config.path}:1", message,
               [audit.missing(NO_MONITORING, message)])


def monitor(audit: Audit) -> Row:
    item = "Flower or other monitor"
    if not any(d.processes for d in production(audit.index)):
        return Row(item, NO_MONITOR.code, UNKNOWN, "", None, no_deployment(audit))
    found, process = monitoring(audit.index)
    if found is not None:
        where = f"{process.path}:{process.line}" if process is not None else None
        return Row(item, NO_MONITOR.code, PASS, found, where)
    message = ("No Flower, exporter or events-enabled worker (`-E`) in any process definition: "
               "queue depths, stuck and failing tasks are invisible")
    diagnostics = [audit.missing(NO_MONITOR, message)] if audit.config.path else []
    return Row(item, NO_MONITOR.code, FAIL, "none found", audit.config.path and
               f"{audit.config.path}:1", message, diagnostics)


def single_beat(audit: Audit) -> Row:
    beats = [p for d in production(audit.index) if not d.image_default for p in d.processes
             if p.runs_beat]
    if any(d.processes for d in production(audit.index)) and not beats:
        return Row("beat runs on a single node", "CEL402", NOT_APPLICABLE, "no beat process")
    return _deployment_row(audit, "beat runs on a single node", "CEL402",
                           replicated_beat(audit.index),
                           "one beat per deployment")


def serializer(audit: Audit) -> Row:
    item = "serializer (no pickle or yaml)"
    diagnostics, unsure, shown = [], [], []
    for setting in SERIALIZER_SETTINGS:
        found = audit.config.get(setting)
        if found is None:
            continue
        shown.append(f"{found.key} = {describe(found.value)}")
        insecure = _insecure(found.value)
        if insecure is None:
            unsure.append(found)
        elif insecure:
            message = (f"`{found.key}` allows {', '.join(sorted(insecure))}: a message from anyone "
                       "who can write to the broker runs code on the worker; use json")
            diagnostics.append(audit.at(INSECURE_SERIALIZER, found, message))
    status = FAIL if diagnostics else UNKNOWN if unsure else PASS
    first = diagnostics[0] if diagnostics else None
    where = f"{first.path}:{first.location.row}" if first else None
    detail = first.message if first else why_unknown(*unsure)
    return Row(item, INSECURE_SERIALIZER.code, status, "; ".join(shown) or "json (Celery's default)",
               where, detail, diagnostics)


def _insecure(value: Value) -> set[str] | None:
    """The insecure content types in a serializer setting; None when it cannot tell."""
    if uncertain(value):
        return None
    items = value if isinstance(value, tuple) else (value,)
    if any(uncertain(v) for v in items):
        return None
    return {v for v in items if isinstance(v, str) and v.lower() in INSECURE_CONTENT}


def eager(audit: Audit) -> Row:
    item = "not eager in production"
    found = audit.config.get("task_always_eager")
    if found is None:
        return Row(item, EAGER.code, PASS, audit.unset("task_always_eager"))
    if uncertain(found.value):
        return _row(audit, item, EAGER, found, UNKNOWN)
    if not found.value:
        return _row(audit, item, EAGER, found, PASS)
    message = (f"`{found.key}` is {describe(found.value)} in production settings: tasks run inside the web request "
               "that sends them and never reach a worker")
    return _row(audit, item, EAGER, found, FAIL, message, [audit.at(EAGER, found, message)])


def unknown_settings(audit: Audit) -> Row:
    item = "no unknown settings"
    config = audit.config
    modules = config.source.chain if config.source is not None else []
    every = settings_modules(audit.index)
    diagnostics = [d for module in modules
                   for d in unknown_setting_diagnostics(audit.index, module, every)]
    diagnostics += app_conf_unknown_settings(audit.index)
    if not diagnostics:
        return Row(item, UNKNOWN_SETTING.code, PASS, "all names known to Celery")
    first = diagnostics[0]
    names = ", ".join(sorted({d.message.split("`")[1] for d in diagnostics}))
    return Row(item, UNKNOWN_SETTING.code, FAIL, names, f"{first.path}:{first.location.row}",
               first.message, diagnostics)


def installed_apps(audit: Audit) -> Row:
    item = "result/beat apps installed"
    django = audit.config.django
    if django is None:
        return Row(item, MISSING_APP.code, NOT_APPLICABLE, "", detail="not a Django settings module")
    needs: list[tuple[ConfiguredValue, str]] = []
    backend = audit.config.get("result_backend")
    if backend is not None and isinstance(backend.value, str) and \
            backend.value in INSTALLED_FOR_BACKEND:
        needs.append((backend, INSTALLED_FOR_BACKEND[backend.value]))
    scheduler = audit.config.get("beat_scheduler")
    if scheduler is not None and isinstance(scheduler.value, str) and \
            scheduler.value.startswith("django_celery_beat"):
        needs.append((scheduler, "django_celery_beat"))
    if not needs:
        unsure = [f for f in (backend, scheduler) if f is not None and uncertain(f.value)]
        if unsure:
            return _row(audit, item, MISSING_APP, unsure[0], UNKNOWN)
        return Row(item, MISSING_APP.code, NOT_APPLICABLE, "no django-db, django-cache or "
                   "DatabaseScheduler")
    apps = django.entries.get("INSTALLED_APPS")
    if apps is None or not isinstance(apps.value, tuple):
        detail = why_unknown(apps) if apps is not None and uncertain(apps.value) else \
            "INSTALLED_APPS is not set in the production settings"
        return Row(item, MISSING_APP.code, UNKNOWN, describe(apps.value) if apps else "not set",
                   audit.where(apps), detail)
    diagnostics, unsure_apps = [], any(uncertain(a) for a in apps.value)
    for found, app in needs:
        installed = any(isinstance(a, str) and (a == app or a.startswith(app + "."))
                        for a in apps.value)
        if installed or unsure_apps:
            continue
        consequence = ("Celery fails when it first stores a result"
                       if app == "django_celery_results" else "beat cannot start")
        message = (f"`{found.key}` is {describe(found.value)}, which needs `{app}` in "
                   f"INSTALLED_APPS (it is not there): {consequence}")
        diagnostics.append(audit.at(MISSING_APP, found, message))
    if diagnostics:
        return Row(item, MISSING_APP.code, FAIL, ", ".join(a for _, a in needs),
                   f"{diagnostics[0].path}:{diagnostics[0].location.row}",
                   diagnostics[0].message, diagnostics)
    def installed(app: str) -> bool:
        return any(isinstance(a, str) and (a == app or a.startswith(app + "."))
                   for a in apps.value)

    # a backend or scheduler from the environment could need an app: fine if it is installed
    unsure = [f for f, app in ((backend, "django_celery_results"),
                               (scheduler, "django_celery_beat"))
              if f is not None and uncertain(f.value) and not installed(app)]
    missing_some = not all(installed(app) for _, app in needs)
    if unsure or (unsure_apps and missing_some):
        detail = why_unknown(*unsure) if unsure else why_unknown(apps)
        return Row(item, MISSING_APP.code, UNKNOWN, ", ".join(a for _, a in needs),
                   audit.where(apps), detail)
    return Row(item, MISSING_APP.code, PASS, ", ".join(a for _, a in needs), audit.where(apps))


def result_expiry(audit: Audit) -> Row:
    item = "results expire"
    backend = audit.config.get("result_backend")
    expires = audit.config.get("result_expires")
    if expires is None:
        return Row(item, RESULTS_NEVER_EXPIRE.code, PASS, audit.unset("result_expires"))
    if uncertain(expires.value):
        return _row(audit, item, RESULTS_NEVER_EXPIRE, expires, UNKNOWN)
    if expires.value not in (None, 0):
        return _row(audit, item, RESULTS_NEVER_EXPIRE, expires, PASS)
    if backend is not None and uncertain(backend.value):
        return _row(audit, item, RESULTS_NEVER_EXPIRE, expires, UNKNOWN,
                    f"the result backend is {describe(backend.value)}")
    if backend is None or not _is_database_backend(backend.value):
        return _row(audit, item, RESULTS_NEVER_EXPIRE, expires, NOT_APPLICABLE,
                    "not a database result backend")
    message = (f"`{expires.key}` is {describe(expires.value)} with the database result backend "
               f"{describe(backend.value)}: results are never deleted and the table grows "
               "without end")
    return _row(audit, item, RESULTS_NEVER_EXPIRE, expires, FAIL, message,
                [audit.at(RESULTS_NEVER_EXPIRE, expires, message)])


def _is_database_backend(value: Value) -> bool:
    return isinstance(value, str) and (value in DATABASE_BACKENDS or value.startswith("db+"))


def credentials(audit: Audit) -> Row:
    item = "no credentials in broker/backend URLs"
    diagnostics, shown = [], []
    for setting in URL_SETTINGS:
        found = audit.config.get(setting)
        if found is None:
            continue
        shown.append(f"{found.key} = {_redacted(found.value)}")
        user = _password_user(found.value)
        if user is not None:
            who = f"of `{user}` " if user else ""
            service = "broker" if found.name.startswith("broker") else "result backend"
            message = (f"`{found.key}` has the password {who}written in the source: anyone who "
                       f"can read the code can use the {service}; read the URL from the "
                       "environment")
            diagnostics.append(audit.at(CREDENTIALS, found, message))
    if diagnostics:
        first = diagnostics[0]
        return Row(item, CREDENTIALS.code, FAIL, "; ".join(shown),
                   f"{first.path}:{first.location.row}", first.message, diagnostics)
    return Row(item, CREDENTIALS.code, PASS, "; ".join(shown) or "no URL set")


def _password_user(value: Value) -> str | None:
    """The user of a password written in a URL literal ("" when there is no user), else None."""
    if not isinstance(value, str):
        return None
    from kombu.utils.url import url_to_parts

    for url in value.split(";"):
        if "://" not in url:
            continue
        try:
            parts = url_to_parts(url.strip())
        except (ValueError, TypeError):
            continue
        if parts.password and not parts.password.startswith(("$", "{", "<", "%")):
            return parts.username or ""
    return None


def _redacted(value: Value) -> str:
    if not isinstance(value, str):
        return describe(value)
    from kombu.utils.url import maybe_sanitize_url

    return repr(maybe_sanitize_url(value))


def timezone(audit: Audit) -> Row:
    item = "timezone agrees with Django"
    django = audit.config.django
    if django is None:
        return Row(item, TIMEZONE.code, NOT_APPLICABLE, "", detail="not a Django settings module")
    diagnostics = []
    celery_zone = audit.config.get("timezone")
    django_zone = django.entries.get("TIME_ZONE")
    unsure: list[ConfiguredValue | SettingEntry] = []
    shown = []
    if celery_zone is not None and django_zone is not None and celery_zone.key != "TIME_ZONE":
        shown.append(f"{celery_zone.key} = {describe(celery_zone.value)}, "
                     f"TIME_ZONE = {describe(django_zone.value)}")
        if uncertain(celery_zone.value) or uncertain(django_zone.value):
            unsure += [f for f in (celery_zone, django_zone) if uncertain(f.value)]
        elif celery_zone.value != django_zone.value:
            message = (f"`{celery_zone.key}` is {describe(celery_zone.value)} but Django's "
                       f"TIME_ZONE is {describe(django_zone.value)}: crontab schedules and ETAs "
                       "run at different hours than the code expects")
            diagnostics.append(audit.at(TIMEZONE, celery_zone, message))
    utc = audit.config.get("enable_utc")
    use_tz = django.entries.get("USE_TZ")
    if utc is not None and use_tz is not None:
        shown.append(f"{utc.key} = {describe(utc.value)}, USE_TZ = {describe(use_tz.value)}")
        if uncertain(utc.value) or uncertain(use_tz.value):
            unsure += [f for f in (utc, use_tz) if uncertain(f.value)]
        elif bool(utc.value) != bool(use_tz.value):
            message = (f"`{utc.key}` is {describe(utc.value)} but USE_TZ is "
                       f"{describe(use_tz.value)}: Celery and Django disagree on whether times "
                       "are UTC, so ETAs and schedules shift by the UTC offset")
            diagnostics.append(audit.at(TIMEZONE, utc, message))
    if diagnostics:
        first = diagnostics[0]
        return Row(item, TIMEZONE.code, FAIL, "; ".join(shown),
                   f"{first.path}:{first.location.row}", first.message, diagnostics)
    if unsure:
        return Row(item, TIMEZONE.code, UNKNOWN, "; ".join(shown), detail=why_unknown(*unsure))
    return Row(item, TIMEZONE.code, PASS, "; ".join(shown) or "Celery uses Django's TIME_ZONE")


def reject_on_worker_lost(audit: Audit) -> Row:
    item = "reject on worker lost"
    acks = audit.config.get("task_acks_late")
    if acks is None or uncertain(acks.value) or not acks.value:
        if acks is not None and uncertain(acks.value):
            return _row(audit, item, REJECT_ON_LOST, acks, UNKNOWN,
                        "whether acks late is on is not known")
        return Row(item, REJECT_ON_LOST.code, NOT_APPLICABLE, "", detail="acks late is off")
    key = audit.key("task_reject_on_worker_lost")
    message = (f"`{acks.key}` is on but `{key}` is not: when a worker process dies mid-task "
               "(the OOM killer, a signal, a crash) its task is still acknowledged and lost")
    found = audit.config.get("task_reject_on_worker_lost")
    if found is None:
        return _missing_row(audit, item, REJECT_ON_LOST, "task_reject_on_worker_lost", message)
    if uncertain(found.value):
        return _row(audit, item, REJECT_ON_LOST, found, UNKNOWN)
    if found.value:
        return _row(audit, item, REJECT_ON_LOST, found, PASS)
    return _row(audit, item, REJECT_ON_LOST, found, FAIL, message,
                [audit.at(REJECT_ON_LOST, found, message)])


def connection_retry(audit: Audit) -> Row:
    item = "broker connection retry on startup"
    if not audit.celery.has_setting("broker_connection_retry_on_startup"):
        first = audit.celery.introduced("broker_connection_retry_on_startup")
        return Row(item, RETRY_ON_STARTUP.code, NOT_APPLICABLE, "",
                   detail=f"{audit.celery.label} has no such setting (it came in Celery {first})")
    found = audit.config.get("broker_connection_retry_on_startup")
    if found is not None and set_at_run_time_only(found.value):
        return _row(audit, item, RETRY_ON_STARTUP, found, UNKNOWN)
    if found is not None:
        return _row(audit, item, RETRY_ON_STARTUP, found, PASS)
    key = audit.key("broker_connection_retry_on_startup")
    message = (f"`{key}` is not set: whether a worker retries a broker that is down when it "
               "starts falls back to `broker_connection_retry`, which Celery 6 stops consulting; "
               "set it (True keeps retrying)")
    return _missing_row(audit, item, RETRY_ON_STARTUP, "broker_connection_retry_on_startup",
                        message)


CHECKS: tuple[Callable[[Audit], Row], ...] = (
    worker_restarts, acks_late, prefetch, queues, time_limit, failure_monitoring, monitor,
    single_beat, serializer, eager, unknown_settings, installed_apps, result_expiry, credentials,
    timezone, reject_on_worker_lost, connection_retry,
)


DEPLOYMENT_CHECKS = (worker_restarts, monitor, single_beat)


# -- unknown settings (CEL306) ----------------------------------------------------------------
def unknown_setting_message(key: str, why: Unread, celery: ProjectCelery,
                            namespace: str | None, is_django: bool, twin: str = "") -> str:
    """What CEL306 says of `key`, which `celery` does not read as written (`why`); `twin` says
    where the name Celery reads for the same setting is set too (`line 12`)."""
    message = _unread_message(key, why, celery, namespace, is_django)
    if twin and why.kind == NO_SETTING:
        meant = _name_for(why.setting or "", celery, namespace, is_django)
        return (message.partition("; did you mean")[0] + f"; it looks meant for `{meant}`, which "
                f"is set too ({twin}), so this line has no effect: delete it")
    if twin:
        return message + f"; `{why.instead}` is set too ({twin}), so this line has no effect: " \
            "delete it"
    return message


def _unread_message(key: str, why: Unread, celery: ProjectCelery, namespace: str | None,
                    is_django: bool) -> str:
    where = f"under namespace {namespace!r}" if namespace else "without a namespace"
    label = celery.label
    setting = why.setting or ""
    if why.kind == MIXED:
        # Celery asks for the names of the config's majority: new ones, or old ones
        style, other = ("a new-style", "old-style") if celery.is_old_key(why.instead or "") \
            else ("an old-style", "new-style")
        return (f"`{key}` is {style} name in a config of {other} names: Celery refuses to "
                f"start (ImproperlyConfigured: cannot mix new and old setting keys); write "
                f"`{why.instead}`")
    if why.kind == OLD_NAME_READ:
        return (f"`{key}` is Celery's old name for `{setting}`: {label} still reads it but "
                f"warns at startup, and Celery 6 drops it; write `{why.instead}`")
    if why.kind == OLD_NAME_PARTLY_READ:
        others = tuple(m for m in celery.minors if m not in why.readers)
        return (f"`{key}` is Celery's old name for `{setting}`: of {label}, Celery "
                f"{shown_minors(why.readers)} reads it with a warning at startup, Celery "
                f"{shown_minors(others)} never reads it {where}; write `{why.instead}`")
    if why.kind == OLD_NAME_IGNORED:
        return (f"`{key}` is Celery's old name for `{setting}`, which {label} does not read "
                f"{where}, so it never sees this value; write `{why.instead}`")
    if why.kind == NO_PREFIX:
        return (f"`{key}` lacks the `{namespace}_` prefix: the app reads its settings {where}, so "
                f"Celery never sees it; write `{preferred_key(setting, namespace)}`")
    if why.kind == NOT_HERE:
        return f"`{key}` is not a name Celery reads here; write `{setting}`"
    if why.kind == NEEDS_NAMESPACE:
        return (f"`{key}` is not read: the app loads Django's settings {where}; write "
                f"`{why.instead}`, or pass `namespace='CELERY'` to `config_from_object`")
    if why.kind == OTHER_RELEASE:
        first, last = celery.introduced(setting), celery.dropped(setting)
        when = (f"`{setting}` came in Celery {first}" if first and first > celery.minors[-1]
                else f"Celery {last} was the last to have `{setting}`")
        return f"`{key}` is not a setting of {label}, so it is never read: {when}"
    if not setting:
        return (f"`{key}` is not a setting of {label} {where}, and the project does not read it "
                "itself, so its value is never used")
    return (f"`{key}` is not a setting of {label} {where}, so its value is never read; did you "
            f"mean `{_name_for(setting, celery, namespace, is_django)}`?")


def _name_for(setting: str, celery: ProjectCelery, namespace: str | None,
              is_django: bool) -> str:
    """The name that sets `setting` where the app reads: Django's settings without a namespace
    hold the old upper-case names."""
    if is_django and not namespace:
        return celery.old_name(setting)
    return preferred_key(setting, namespace)


@dataclass(frozen=True)
class _Reads:
    """What the project reads itself besides Celery, so that a name Celery ignores is not dead:
    `settings.NAME` and `getattr(settings, "NAME")` anywhere, `app.conf.name`, names imported
    from a settings module, and names that other settings are computed from."""

    names: frozenset[str]
    words: frozenset[str]  # identifiers in the settings' expressions

    def __contains__(self, key: object) -> bool:
        return key in self.names or key in self.words


def _project_reads(index: ProjectIndex, modules: set[str]) -> _Reads:
    namespace = index.settings.namespace
    names = {name for f in index.files.values() for name in f.setting_reads}
    for facts in index.files.values():
        for name in facts.conf_reads:
            names |= {name, preferred_key(name, namespace), name.upper()}
        names |= {target.rpartition(".")[2] for target in facts.imports.values()
                  if target.rpartition(".")[0] in modules}
    texts = [text for m in modules if m in index.files
             for text in _expressions(index.files[m].settings_ops)]
    return _Reads(frozenset(names), frozenset(n for text in texts for n in _names_in(text)))


def _names_in(expression: str) -> Iterator[str]:
    """The names an expression reads (not the words of its strings: `os.environ.get("X")` does
    not read the setting X)."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError):
        yield from re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expression)
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            yield node.id


def _expressions(ops: tuple[SettingsOp, ...]) -> Iterator[str]:
    for op in ops:
        if isinstance(op, SettingAssignment) and op.source:
            yield op.source
        elif isinstance(op, SettingsBranch):
            if op.test:
                yield op.test
            yield from _expressions(op.body)
            yield from _expressions(op.orelse)


def unknown_setting_diagnostics(index: ProjectIndex, module: str,
                                modules: set[str]) -> list[Diagnostic]:
    """CEL306 for the assignments a settings or config module makes itself; `modules` are the
    settings modules of the project, whose names the project may read."""
    settings = index.settings
    celery = index.celery
    facts = index.files.get(module)
    if facts is None:
        return []
    is_django = settings.source == "django"
    mixed = {} if is_django or settings.namespace else celery.mixed_keys(
        frozenset(op.name for op in assignments_of(facts)))
    found = []
    # a rename is safe only when nothing reads the old name (an expression in the settings,
    # `settings.OLD_NAME` anywhere) and the new name is set nowhere in the settings family,
    # where it would win over the renamed line's value or be overridden by it
    assigned = {op.name for m in set(settings.family) | {module} if m in index.files
                for op in assignments_of(index.files[m])}
    reads = _project_reads(index, modules)
    for op in assignments_of(facts):
        if op.op != "=":
            continue
        why = unread_key(op.name, celery, settings.namespace, is_django, mixed)
        if why is None or (why.kind in (NO_SETTING, OTHER_RELEASE) and op.name in reads):
            continue
        new = why.instead if why.kind in (MIXED, OLD_NAME_READ, OLD_NAME_PARTLY_READ,
                                          OLD_NAME_IGNORED) else None
        meant = new if new is not None else why.setting and why.kind == NO_SETTING and \
            _name_for(why.setting, celery, settings.namespace, is_django)
        twin = _twin(index, module, meant) if meant and meant != op.name else None
        # the setting is also written by the name Celery reads, which wins in every release
        where = "" if twin is None else f"line {twin[1].line}" if twin[0] == module else \
            f"{twin[0]} line {twin[1].line}"
        message = unknown_setting_message(op.name, why, celery, settings.namespace, is_django,
                                          where)
        diagnostic = _diagnostic(UNKNOWN_SETTING, message, facts.path, op.line, op.column,
                                 op.column + len(op.name))
        if new is not None and new not in assigned and op.name not in reads.names \
                and op.name not in reads.words:
            edit = Edit(new, diagnostic.location, diagnostic.end_location)
            diagnostic = replace(diagnostic, fix=Fix(
                _rename_applicability(op, why, celery), f"Rename to `{new}`", (edit,)))
        found.append(diagnostic)
    return _unique(found)


def _twin(index: ProjectIndex, module: str, name: str
          ) -> tuple[str, SettingAssignment] | None:
    """Where `name` is assigned in `module`, or in a module that one production configuration
    reads together with it."""
    chains = [c.source.chain for c in index.settings.configs if c.source is not None]
    together = [module] + sorted({m for chain in chains if module in chain for m in chain} - {module})
    for other in together:
        facts = index.files.get(other)
        for op in assignments_of(facts) if facts is not None else ():
            if op.name == name and op.op == "=":
                return other, op
    return None


def _rename_applicability(op: SettingAssignment, why: Unread,
                          celery: ProjectCelery) -> Applicability:
    """Renaming an old name every release of the project's Celery reads keeps what the workers
    do: safe; so does making a config that Celery refused to start with readable. Renaming one
    some release ignores (under a namespace, before Celery 5.7) makes Celery read its value:
    safe only when that value is Celery's default, which Celery uses now."""
    if why.kind in (OLD_NAME_READ, MIXED) or why.setting is None:
        return Applicability.SAFE
    default = celery.default_of(why.setting)
    if op.source is None and type(op.value) is type(default) and op.value == default:
        return Applicability.SAFE
    return Applicability.UNSAFE


def app_conf_unknown_settings(index: ProjectIndex) -> list[Diagnostic]:
    app = index.settings.app
    if app is None:
        return []
    found = []
    for owner in (app.factory, app):  # the factory's `conf`, then the module's
        if owner is None:
            continue
        path = index.files[owner.module].path
        for entry in owner.conf:
            why = unread_key(entry.name, index.celery, None, False, conf=True)
            if why is not None:
                message = unknown_setting_message(entry.name, why, index.celery, None, False)
                found.append(_diagnostic(UNKNOWN_SETTING, message, path, entry.line,
                                         entry.column, entry.column + len(entry.name)))
    return found


def soft_limit_diagnostics(audit: Audit) -> list[Diagnostic]:
    """CEL202 for the global limits: `task_soft_time_limit` not below `task_time_limit`."""
    from celery_lint.rules.definitions import SoftLimitNotBelowHard

    soft = audit.config.get("task_soft_time_limit")
    hard = audit.config.get("task_time_limit")
    if soft is None or hard is None or not _positive(soft.value) or not _positive(hard.value):
        return []
    if soft.value < hard.value:  # type: ignore[operator]
        return []
    message = (f"`{soft.key}` ({soft.value:g} s) is not below `{hard.key}` ({hard.value:g} s): "
               "the soft limit never fires")
    return [audit.at(SoftLimitNotBelowHard.info, soft, message)]


def settings_modules(index: ProjectIndex) -> set[str]:
    """The settings modules the app may read: the family and every production chain."""
    settings = index.settings
    return set(settings.family) | {m for c in settings.configs if c.source
                                   for m in c.source.chain}


def _unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return list({(d.code, d.path, d.location, d.message): d for d in diagnostics}.values())


def audits(index: ProjectIndex) -> Iterator[Audit]:
    for config in index.settings.configs:
        yield Audit(index, config)


def project_diagnostics(index: ProjectIndex, codes: frozenset[str]) -> list[Diagnostic]:
    """Every settings diagnostic of the project, once each."""
    if not any(code.startswith("CEL3") or code == "CEL202" for code in codes):
        return []
    found: list[Diagnostic] = []
    for number, audit in enumerate(audits(index)):
        for check in CHECKS:
            if check in DEPLOYMENT_CHECKS:
                continue  # reported by rules.deploy, once for the project
            if check is failure_monitoring and number:
                continue  # project-wide: once, in the first production module
            found += [d for d in check(audit).diagnostics if d.code in codes]
        if "CEL202" in codes:
            found += soft_limit_diagnostics(audit)
    if UNKNOWN_SETTING.code in codes:
        modules = settings_modules(index)
        for module in sorted(modules):
            found += unknown_setting_diagnostics(index, module, modules)
        found += app_conf_unknown_settings(index)
    return _unique(found)
