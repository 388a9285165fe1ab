"""What a function does that must not happen twice, what the attempt does after it, and what
guards it (phase 1, with `ast`).

A side effect is a call that charges money, sends mail or a notification, writes to an external
service, creates rows, or increments a counter. An effect can happen twice only when the attempt
goes on after it: a later statement (or the next turn of a loop around it) that can fail into a
retry, call `self.retry()`, or keep the worker busy long enough to be lost with the message
unacknowledged. What only looks at the effect's own result (`response.raise_for_status()`, `if
response.status_code >= 500: raise self.retry()`) is the effect failing, not a later failure.

A guard is what makes running the function again harmless. Some guard by their shape: a
status-filtered `.update()` whose result is checked, `get_or_create`/`update_or_create`, an
idempotency key, an insert that catches `IntegrityError`, a cache/lock `add`. An early return (an
`if` that leaves) guards only when its test looks at what the function itself records: a field it
writes (`if order.receipt_sent: return` ... `order.receipt_sent = True`), or rows of a model it
creates (`if Invoice.objects.filter(...).exists(): return` ... `Invoice.objects.create(...)`);
CEL203 joins those checks with what the task and the functions it calls write.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from celery_lint.facts.evaluate import dotted, source_text

PAYMENT_WORDS = frozenset({"charge", "refund", "payout", "capture", "pay", "bill", "debit",
                           "purchase"})
# `charge_card`, `refund_order`: these words name a payment whatever follows them; the others
# (`pay_period`, `capture_screenshot`) only alone or before a payment noun
PAYMENT_PREFIXES = frozenset({"charge", "refund", "payout"})
PAYMENT_NOUNS = frozenset({"invoice", "invoices", "order", "orders", "payment", "payments",
                           "card", "customer", "bill", "out", "amount", "balance", "subscription"})
PAYMENT_SDKS = ("stripe.", "braintree.", "paypalrestsdk.", "adyen.", "mollie.", "square.")
NOT_PAYMENT = frozenset({"capture_exception", "capture_message", "capture_event"})
MAIL_FUNCTIONS = frozenset({"send_mail", "send_mass_mail", "mail_admins", "mail_managers",
                            "send_email", "send_emails", "send_html_mail", "send_templated_mail",
                            "send_sms", "send_text_message", "send_push", "send_push_notification",
                            "send_notification", "send_notifications", "chat_postMessage",
                            "send_messages", "email_user", "send_raw_email",
                            "send_templated_email", "send_bulk_templated_email"})
EMAIL_CLASSES = frozenset({"EmailMessage", "EmailMultiAlternatives", "AnymailMessage"})
# e-mail SDK clients whose `send(...)` (or `.emails.send(...)`, Postmark's) sends mail
EMAIL_CLIENTS = frozenset({"SendGridAPIClient", "SendGridClient", "PostmarkClient"})
HTTP_WRITES = frozenset({"post", "put", "patch", "delete"})
HTTP_MODULES = ("requests.", "httpx.", "urllib3.")
HTTP_RECEIVER = re.compile(r"(session|client|http|api|requests)", re.IGNORECASE)
COUNTER_METHODS = frozenset({"incr", "incrby", "decr", "decrby", "hincrby", "zincrby"})
ROW_METHODS = frozenset({"create", "bulk_create"})
LOCK_RECEIVER = re.compile(r"(cache|redis|lock)", re.IGNORECASE)
EFFECT_METHODS = MAIL_FUNCTIONS | HTTP_WRITES | ROW_METHODS | COUNTER_METHODS | {
    "send", "request", "save", "create", "update"}
GET_OR_CREATE = frozenset({"get_or_create", "update_or_create", "aget_or_create",
                           "aupdate_or_create"})
INTERESTING = EFFECT_METHODS | GET_OR_CREATE | {"add", "set", "lock", "acquire", "retry"}
# a row a model of this name holds records one attempt (a log line, a delivery attempt): a second
# attempt writes its own row, which is no duplicate
PER_ATTEMPT_MODELS = ("Log", "LogEntry", "History", "Attempt", "Audit", "AuditEntry", "Execution",
                      "Trace")

# -- what the attempt does after a point: calls that cannot fail into a retry nor take time
BUILTIN_CALLS = frozenset({
    "len", "str", "int", "float", "bool", "repr", "isinstance", "issubclass", "getattr",
    "hasattr", "setattr", "range", "enumerate", "zip", "sorted", "reversed", "min", "max", "sum",
    "any", "all", "dict", "list", "set", "tuple", "frozenset", "print", "format", "round", "abs",
    "map", "filter", "iter", "next", "type", "id", "super", "vars", "_", "gettext",
    "gettext_lazy", "ugettext", "ngettext", "pgettext"})
PURE_METHODS = frozenset({
    "append", "extend", "insert", "pop", "items", "keys", "values", "copy", "join", "split",
    "rsplit", "splitlines", "strip", "lstrip", "rstrip", "lower", "upper", "capitalize", "title",
    "replace", "startswith", "endswith", "encode", "decode", "format", "format_map", "setdefault",
    "isoformat", "strftime", "total_seconds", "index", "find", "partition", "rpartition", "sort",
    "reverse", "union", "intersection", "difference", "hexdigest", "now", "utcnow", "today",
    "uuid4", "discard", "attach", "attach_alternative", "mixed_subtype", "add_header"})
# on a manager or queryset, or any `.save()`: database work
QUERY_METHODS = frozenset({
    "get", "filter", "exclude", "first", "last", "exists", "count", "all", "values",
    "values_list", "aggregate", "annotate", "in_bulk", "iterator", "latest", "earliest",
    "select_for_update", "select_related", "prefetch_related", "order_by", "distinct", "using",
    "update", "create", "bulk_create", "bulk_update", "get_or_create", "update_or_create", "add",
    "remove", "clear", "set", "delete"})
DB_METHODS = frozenset({"save", "refresh_from_db", "full_clean"})
# publishing a task is as quick as a database write, and can fail as one does (the broker is down)
ENQUEUE_METHODS = frozenset({"delay", "apply_async", "send_task", "delay_on_commit",
                             "apply_async_on_commit"})
CONTAINER_METHODS = frozenset({"get", "update", "add", "set", "count", "remove", "clear",
                               "values", "first", "last"})
# a name or part of a call chain that only reports: logging, warnings, error trackers
REPORTING = re.compile(r"^_*(log|logger|logging|warnings|sentry_sdk)$|logger$", re.IGNORECASE)
NOT_DONE = re.compile(r"^(capture_|report_)")
# exceptions that any failure can raise; a handler or `autoretry_for` naming only others (network
# errors, a client library's errors) retries on those alone, not on a failing database write
BROAD_EXCEPTIONS = re.compile(r"^(Exception|BaseException)$|Database|Operational|Integrity|"
                              r"Interface|DB")
# a method named `mark_sent`, `set_status`, `update_state` records what it names
SETTER_VERBS = frozenset({"mark", "set", "flag", "record", "update", "save", "store"})
FIELD_NOISE = frozenset({"is", "has", "was", "already", "at", "on", "date", "time", "timestamp"})


@dataclass(frozen=True)
class Effect:
    kind: str  # "payment", "mail", "external", "rows", "counter", "configured"
    what: str  # the call, as written (shortened)
    line: int
    model: str | None = None  # "rows": the class whose rows are created (checked to be a model)
    target: str | None = None  # the qualified call, when the effect is known by its name only
    # what the attempt can do after it: "" nothing that can fail, "db" database work only, "io"
    # more (a network call, project code, another effect, a later turn of a loop around it)
    fails_after: str = ""
    busy_after: bool = False  # network or project work after it (failing or not)
    retried: bool = False  # a `self.retry()` can run after it happened


@dataclass(frozen=True)
class CallSite:
    """A call of a function the task may find in the project, and what the task does after it."""

    target: str  # the qualified name called
    line: int
    fails_after: str = ""
    busy_after: bool = False
    retried: bool = False
    # the widest retrying handler around it: "" none, "io" (network errors), "any"
    retry_handler: str = ""


@dataclass(frozen=True)
class StateCheck:
    """An `if` that leaves (return, raise, continue) before what follows it, or one around what
    its body does: what its test reads."""

    line: int
    until: int  # the last line of the body it guards; 0: it leaves, and guards what follows
    fields: tuple[str, ...]  # attributes read, and the fields a query filters on
    models: tuple[str, ...]  # the models (or related managers) it queries
    objects: tuple[str, ...] = ()  # the names whose attributes it reads (`order` of `order.status`)


@dataclass(frozen=True)
class Behaviour:
    """Side effects and guards of one function body (nested functions excluded)."""

    effects: tuple[Effect, ...] = ()
    guards: tuple[str, ...] = ()  # guards by their shape alone
    calls: tuple[CallSite, ...] = ()  # the calls of project functions (a task's only)
    retries: bool = False  # calls `self.retry(...)` (first parameter `.retry`)
    checks: tuple[StateCheck, ...] = ()
    writes: tuple[str, ...] = ()  # fields it assigns or updates
    creates: tuple[str, ...] = ()  # models (or related managers) it creates rows of
    setters: tuple[str, ...] = ()  # names of the `mark_*`/`set_*`-like methods it calls
    # (name, line) of each method called on a name: `order.charge()` can move `order.status`
    object_calls: tuple[tuple[str, int], ...] = ()


def chain(node: ast.AST | None) -> str:
    """A cheap text of a call chain: `Order.objects.filter().update` (arguments left out)."""
    parts: list[str] = []
    while node is not None:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            parts.append("()")
            node = node.func
        elif isinstance(node, ast.Name):
            parts.append(node.id)
            break
        else:
            parts.append("?")
            break
    return ".".join(reversed(parts)).replace(".()", "()")


def _root(node: ast.AST) -> str | None:
    """The name a chain of attributes, calls and subscripts starts from."""
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _short(node: ast.AST) -> str:
    text = " ".join(source_text(node).split())
    return text if len(text) <= 60 else text[:57] + "..."


def _words(name: str) -> set[str]:
    return {w for w in name.lower().split("_") if w}


class Scanner:
    """Collects one function's behaviour from the nodes of its body, given one at a time (the
    file's single `ast.walk` feeds every scanner, so no function is walked twice); `behaviour()`
    then follows the body's statements once to see what runs after each effect."""

    def __init__(self, function: ast.FunctionDef | ast.AsyncFunctionDef,
                 qualify: Callable[[ast.AST], str | None], first_param: str | None,
                 follow_calls: bool = True) -> None:
        self.function = function
        self.qualify = qualify
        self.first_param = first_param
        self.follow_calls = follow_calls
        self.effects: list[tuple[ast.Call, Effect]] = []
        self.guards: list[str] = []
        self.calls: list[tuple[ast.Call, str]] = []
        self.retries = False
        self.new_instances: dict[str, str] = {}  # name → class it was built from
        self.emails: set[str] = set()  # names holding an EmailMessage or an e-mail SDK client
        self.updated: set[str] = set()  # names holding the count of a filtered .update()
        self.values: dict[str, ast.expr] = {}  # name → the expression last assigned to it
        self.ifs: list[ast.If] = []
        self.atomic: list[tuple[int, int]] = []  # lines of `with transaction.atomic():` blocks
        self.increments: list[tuple[str, ast.AugAssign, Effect]] = []  # `obj.n += 1`
        self.saved: set[str] = set()  # objects `.save()` is called on
        self.header_names: set[str] = set()  # names given as `headers=` to calls
        self.idempotent_headers: set[str] = set()  # names of dicts with an Idempotency-Key
        self.writes: set[str] = set()
        self.creates: set[str] = set()
        self.setters: set[str] = set()
        self.object_calls: list[tuple[str, ast.Call]] = []
        self.expiring: set[str] = set()  # receivers of `.expire(...)`: counters of a time window
        self.all_atomic = False  # decorated with @transaction.atomic

    def handle(self, node: ast.AST) -> None:
        method = _HANDLERS.get(type(node))
        if method is not None:
            method(self, node)

    def visit_Assign(self, node: ast.Assign | ast.AnnAssign) -> None:
        value = node.value
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if value is None:
            return
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        self.writes.update(t.attr for t in targets if isinstance(t, ast.Attribute))
        for name in names:
            self.values[name] = value
        if isinstance(value, ast.Dict) and any(
                isinstance(k, ast.Constant) and isinstance(k.value, str)
                and k.value.lower() == "idempotency-key"
                for k in value.keys):
            self.idempotent_headers.update(names)
        if isinstance(value, ast.Call) and names:
            callee = dotted(value.func) or ""
            head = callee.rsplit(".", 1)[-1]
            if head in EMAIL_CLASSES or head in EMAIL_CLIENTS:
                self.emails.update(names)
            elif head[:1].isupper() and callee.count(".") <= 1:
                qualified = self.qualify(value.func)
                for name in names:
                    self.new_instances[name] = qualified or callee
            text = chain(value)
            if text.endswith(".update()") and (".filter(" in text or ".exclude(" in text):
                self.updated.update(names)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Attribute):
            self.writes.add(node.target.attr)
        # `order.views += 1`: a counter when the object is saved afterwards
        if isinstance(node.target, ast.Attribute) and isinstance(node.op, (ast.Add, ast.Sub)) \
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, int):
            self.increments.append((chain(node.target.value), node, Effect(
                "counter", _short(node), node.lineno)))

    def visit_If(self, node: ast.If) -> None:
        self.ifs.append(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if any(name.rsplit(".", 1)[-1] == "IntegrityError" for name in _caught(node)):
            self.guards.append("an insert that catches IntegrityError")

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            text = chain(item.context_expr)
            if "lock" in text.lower():
                self.guards.append("a lock")
            if text.rsplit(".", 1)[-1].startswith("atomic"):
                self.atomic.append((node.lineno, node.end_lineno or node.lineno))

    def visit_Call(self, node: ast.Call) -> None:
        self._classify(node)

    def _classify(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            method, receiver = func.attr, func.value
        elif isinstance(func, ast.Name):
            method, receiver = func.id, None
        else:
            return
        if method in ("expire", "pexpire", "expireat") and receiver is not None:
            self.expiring.add(chain(receiver))
        if isinstance(receiver, ast.Name) and method not in PURE_METHODS and \
                receiver.id != self.first_param and not REPORTING.search(receiver.id):
            self.object_calls.append((receiver.id, node))
        first_word = method.split("_", 1)[0].lower()
        if first_word in SETTER_VERBS and "_" in method:
            self.setters.add(method)
        interesting = method in INTERESTING or first_word in PAYMENT_WORDS
        if not interesting and not self.follow_calls and not node.keywords:
            return  # the common case: a call that is neither an effect nor a guard
        name = dotted(func) or ""
        qualified = (self.qualify(func) or name) if name else ""
        if self.follow_calls and "." in qualified and not qualified.startswith(
                ("django.", "celery.", "logging.")):
            self.calls.append((node, qualified))
        keywords = {k.arg for k in node.keywords if k.arg}
        if "idempotency_key" in keywords or ("headers" in keywords and _idempotency_header(node)):
            self.guards.append("an idempotency key")
        for keyword in node.keywords:
            if keyword.arg == "headers" and isinstance(keyword.value, ast.Name):
                self.header_names.add(keyword.value.id)
            if keyword.arg == "update_fields" and isinstance(keyword.value, (ast.List, ast.Tuple)):
                self.writes.update(e.value for e in keyword.value.elts
                                   if isinstance(e, ast.Constant) and isinstance(e.value, str))
        if method == "setattr" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) \
                and isinstance(node.args[1].value, str):
            self.writes.add(node.args[1].value)
        if not interesting and not qualified.startswith(PAYMENT_SDKS):
            return
        receiver_text = chain(receiver) if receiver is not None else ""
        if method == "update" and receiver is not None:
            self.writes.update(keywords)
        # -- guards
        if method in GET_OR_CREATE:
            self.guards.append(f"`{method}()`")
            self.creates.add(self._manager(receiver))
        elif (method == "add" and LOCK_RECEIVER.search(receiver_text)) or (
                method == "set" and "nx" in keywords) or method in ("lock", "acquire"):
            self.guards.append(f"`{_short(func)}()`")
        elif method == "set" and LOCK_RECEIVER.search(receiver_text):
            self.creates.add(receiver_text)  # a flag kept in the cache: `if cache.get(key)`
        elif method == "retry" and receiver_text == self.first_param:
            self.retries = True
        # -- side effects
        effect = self._effect(node, qualified, method, receiver, receiver_text, keywords)
        if effect is not None:
            self.effects.append((node, effect))
            if effect.kind == "rows" and effect.model:
                self.creates.add(effect.model)

    def _manager(self, receiver: ast.AST | None) -> str:
        """The model a manager or queryset chain is on (qualified), or the chain's text for a
        related manager: the same name for `Invoice.objects.create` and `Invoice.objects.filter`."""
        while isinstance(receiver, ast.Call) or (
                isinstance(receiver, ast.Attribute) and receiver.attr != "objects"
                and not receiver.attr.endswith("_set") and isinstance(
                    receiver.value, (ast.Call, ast.Attribute))):
            receiver = receiver.func if isinstance(receiver, ast.Call) else receiver.value
        if isinstance(receiver, ast.Attribute) and receiver.attr in ("objects", "_default_manager"):
            return self.qualify(receiver.value) or chain(receiver.value)
        return chain(receiver)

    def _effect(self, node: ast.Call, qualified: str, method: str, receiver: ast.AST | None,
                receiver_text: str, keywords: set[str]) -> Effect | None:
        words = method.lower().split("_")
        if method not in EFFECT_METHODS and words[0] not in PAYMENT_WORDS \
                and not qualified.startswith(PAYMENT_SDKS):
            return None  # most calls: nothing to look at
        line = node.lineno
        if method not in NOT_PAYMENT and not qualified.startswith(("sentry_sdk.", "logging.")):
            if qualified.startswith(PAYMENT_SDKS) and method in ("create", "sale", "capture",
                                                                 "charge", "refund"):
                return Effect("payment", _short(node.func), line)
            if method.islower() and (method in PAYMENT_WORDS or words[0] in PAYMENT_PREFIXES or (
                    words[0] in PAYMENT_WORDS and len(words) > 1 and words[1] in PAYMENT_NOUNS)):
                return Effect("payment", _short(node.func), line, target=qualified)
        if method in MAIL_FUNCTIONS:
            return Effect("mail", _short(node.func), line, target=qualified)
        if method == "send" and receiver is not None and self._sends_mail(receiver, keywords):
            return Effect("mail", _short(node.func), line)
        if method == "create" and receiver_text.endswith("messages") and \
                "objects" not in receiver_text:
            return Effect("mail", _short(node.func), line)  # twilio's client.messages.create
        if method in HTTP_WRITES and (qualified.startswith(HTTP_MODULES) or (
                receiver is not None and HTTP_RECEIVER.search(receiver_text)
                and "objects" not in receiver_text and method != "delete")):
            return Effect("external", _short(node.func), line)
        if method == "request" and qualified.startswith(HTTP_MODULES) and node.args and \
                isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str) and \
                node.args[0].value.lower() in HTTP_WRITES:
            return Effect("external", _short(node.func), line)
        if method in ROW_METHODS and receiver is not None and (
                receiver_text.endswith((".objects", "._default_manager", "_set"))):
            return Effect("rows", _short(node.func), line, model=self._manager(receiver))
        if method == "save" and receiver_text:
            self.saved.add(receiver_text)
        if method == "save" and receiver_text in self.new_instances and not node.args:
            return Effect("rows", _short(node.func), line, model=self.new_instances[receiver_text])
        if method in COUNTER_METHODS:
            return Effect("counter", _short(node.func), line)
        if method == "update" and any(_increments(k.value) for k in node.keywords):
            return Effect("counter", _short(node), line)
        return None

    def _sends_mail(self, receiver: ast.AST, keywords: set[str]) -> bool:
        """`.send()` of an e-mail: on a name built from an e-mail class or SDK client, on such a
        class built in place, on Postmark's `client.emails`, or with Django's `fail_silently=`."""
        if isinstance(receiver, ast.Attribute) and receiver.attr == "emails":
            receiver = receiver.value
        if isinstance(receiver, ast.Name) and receiver.id in self.emails:
            return True
        if isinstance(receiver, ast.Call):
            head = (dotted(receiver.func) or "").rsplit(".", 1)[-1]
            return head in EMAIL_CLASSES or head in EMAIL_CLIENTS
        return "fail_silently" in keywords

    def may_have_effects(self) -> bool:
        """Whether `behaviour()` can find an effect: a cheap test that spares the flow pass for
        the many functions that have none."""
        return bool(self.effects or self.increments)

    def records(self) -> bool:
        """Whether the function writes fields, creates rows or calls setters."""
        return bool(self.writes or self.creates or self.setters)

    def behaviour(self) -> Behaviour:
        guards = list(self.guards)
        found = self.effects + [(node, e) for target, node, e in self.increments
                                if target in self.saved]
        # a counter that expires counts a time window (a rate limit): counting one run twice
        # only shortens the window
        found = [(node, e) for node, e in found if e.kind != "counter"
                 or e.what.rpartition(".")[0] not in self.expiring]
        # rows and counters written inside a transaction are rolled back with it: a run that
        # fails and runs again leaves no duplicate behind
        found = [(node, e) for node, e in found if e.kind not in ("rows", "counter") or not (
            self.all_atomic or any(start <= e.line <= end for start, end in self.atomic))]
        if self.header_names & self.idempotent_headers:
            guards.append("an idempotency key")
        checks = []
        for node in self.ifs if found or self.calls else ():
            check = self._check(node)
            if check is None:
                continue
            if check == "update":
                guards.append("a status-filtered `.update()` whose count is checked")
            else:
                checks.append(check)
        # the effect itself (`user.email_user(...)`) moves nothing a check could read
        effect_nodes = {id(node) for node, _ in found}
        points: list[ast.AST] = [node for node, _ in found] + [node for node, _ in self.calls]
        after = _Flow(self.function, self.first_param, {id(p) for p in points},
                      {id(node) for node, _ in found}).run() if points else {}
        effects = tuple(dataclasses.replace(e, **{
            k: v for k, v in _point(after.get(id(node))).items() if k != "retry_handler"})
            for node, e in found)
        calls: dict[str, CallSite] = {}
        for node, target in self.calls:
            site = CallSite(target, node.lineno, **_point(after.get(id(node))))
            calls[target] = _widest(calls[target], site) if target in calls else site
        return Behaviour(effects, tuple(dict.fromkeys(guards)), tuple(calls.values()),
                         self.retries, tuple(checks), tuple(sorted(self.writes)),
                         tuple(sorted(self.creates)), tuple(sorted(self.setters)),
                         tuple(sorted({(name, node.lineno) for name, node in self.object_calls
                                       if id(node) not in effect_nodes})))

    def _check(self, node: ast.If) -> StateCheck | str | None:
        """What an `if` reads (one that leaves early, or one around what it guards); "update"
        for the count of a filtered update; None for a test of the arguments alone."""
        test = node.test
        nodes = list(ast.walk(test))
        # a name assigned earlier stands for its value: `done = X.objects.filter(...).exists()`
        for name in [n for n in nodes if isinstance(n, ast.Name)]:
            if name.id in self.updated:
                return "update"
            value = self.values.get(name.id)
            if value is not None and value.lineno < node.lineno:
                nodes += ast.walk(value)
        attributes = {n.attr for n in nodes if isinstance(n, ast.Attribute)}
        if {"update", "filter"} <= attributes:
            return "update"
        fields = {n.attr for n in nodes if isinstance(n, ast.Attribute)
                  and not isinstance(n.ctx, ast.Store)}
        models = set()
        for call in (n for n in nodes if isinstance(n, ast.Call)):
            if isinstance(call.func, ast.Attribute) and call.func.attr in QUERY_METHODS:
                fields.update(k.arg.split("__", 1)[0] for k in call.keywords if k.arg)
                manager = self._manager(call.func.value)
                if manager:
                    models.add(manager)
        if not fields and not models:
            return None  # an early return on the arguments alone
        objects = {n.value.id for n in nodes if isinstance(n, ast.Attribute)
                   and isinstance(n.value, ast.Name)} - {self.first_param, "settings"}
        until = 0 if _returns_early(node.body) else node.body[-1].end_lineno or node.lineno
        return StateCheck(node.lineno, until, tuple(sorted(fields)), tuple(sorted(models)),
                          tuple(sorted(n for n in objects if n)))


def _widest(first: CallSite, second: CallSite) -> CallSite:
    """One function called twice: what may happen after either call."""
    order = ("", "db", "io")
    return CallSite(first.target, min(first.line, second.line),
                    max(first.fails_after, second.fails_after, key=order.index),
                    first.busy_after or second.busy_after, first.retried or second.retried,
                    max(first.retry_handler, second.retry_handler, key=("", "io", "any").index))


def _point(ahead: tuple[_Ahead, tuple[str, ...]] | None) -> dict[str, object]:
    """The `fails_after`/`busy_after`/`retried`/`retry_handler` fields of a point."""
    if ahead is None:
        return {}
    flags, tries = ahead
    retried = flags.retry or any(
        (kind == "any" and flags.db >= depth) or (kind == "io" and flags.io >= depth)
        for depth, kind in enumerate(tries, 1))
    handlers = set(tries)
    return {"fails_after": "io" if flags.io >= 0 else "db" if flags.db >= 0 else "",
            "busy_after": flags.busy, "retried": retried,
            "retry_handler": "any" if "any" in handlers else "io" if "io" in handlers else ""}


@dataclass(frozen=True)
class _Ahead:
    """What an attempt can still do after a point. `io` and `db` are the innermost `try` depth
    whose body holds such work (-1: none): a handler of the `try` at depth k catches what fails
    after the point when k is at most that depth."""

    io: int = -1  # a network call, project code, another effect: can fail, takes time
    db: int = -1  # any work that can fail, a database write included
    busy: bool = False  # network or project work, even where its failure is swallowed
    retry: bool = False  # a `self.retry()`

    def __or__(self, other: _Ahead) -> _Ahead:
        return _Ahead(max(self.io, other.io), max(self.db, other.db), self.busy or other.busy,
                      self.retry or other.retry)


NOTHING = _Ahead()
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_TRY = (ast.Try, *([ast.TryStar] if hasattr(ast, "TryStar") else []))
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


@dataclass(frozen=True)
class _Context:
    tries: tuple[str, ...] = ()  # per enclosing `try` body: its retrying handler ("", "io", "any")
    swallowed: bool = False  # inside a `try` whose broad handler neither raises nor retries
    own_result: bool = False  # inside an `if` that tests only an effect's own result
    next_turn: _Ahead = NOTHING  # `continue`: the loop's next turn, then what follows the loop
    after_loop: _Ahead = NOTHING  # `break`


class _Flow:
    """One backward pass over a function's statements: for each point (an effect or a call), what
    the attempt can still do after it."""

    def __init__(self, function: ast.FunctionDef | ast.AsyncFunctionDef, first_param: str | None,
                 points: set[int], effects: set[int]) -> None:
        self.function = function
        self.first_param = first_param
        self.points = points
        self.after: dict[int, tuple[_Ahead, tuple[str, ...]]] = {}
        self.turns: dict[tuple[int, _Context], _Ahead] = {}
        # names holding an effect's result: what is done with them is the effect failing
        # (`response = requests.post(...)`, then `data = response.json()`)
        self.results: set[str] = set()
        assignments = [node for node in _walk(function.body) if isinstance(
            node, (ast.Assign, ast.AnnAssign)) and node.value is not None]
        for _ in range(2):  # the walk is in no order: a second pass sees what the first found
            for node in assignments:
                assert node.value is not None
                names = _names(node.value)
                if any(id(n) in effects for n in _walk([node.value])) or (
                        names and names <= self.results):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    self.results.update(t.id for t in targets if isinstance(t, ast.Name))

    def run(self) -> dict[int, tuple[_Ahead, tuple[str, ...]]]:
        self._block(self.function.body, NOTHING, _Context(), record=True)
        return self.after

    def _block(self, body: list[ast.stmt], tail: _Ahead, context: _Context,
               record: bool) -> _Ahead:
        """What runs from the start of `body` on, `tail` being what runs after it."""
        ahead = tail
        for statement in reversed(body):
            ahead = self._statement(statement, ahead, context, record)
        return ahead

    def _statement(self, node: ast.stmt, tail: _Ahead, context: _Context,
                   record: bool) -> _Ahead:
        depth = len(context.tries)
        if isinstance(node, SCOPES):
            return tail
        if isinstance(node, (ast.Return, ast.Raise, ast.Break, ast.Continue)):
            after = NOTHING if isinstance(node, ast.Return) else \
                context.after_loop if isinstance(node, ast.Break) else \
                context.next_turn if isinstance(node, ast.Continue) else \
                NOTHING if context.own_result or context.swallowed else _Ahead(db=depth)
            return self._header([node], after, context, record)
        if isinstance(node, ast.If):
            inner = context
            if _names(node.test) and _names(node.test) <= self.results:
                inner = dataclasses.replace(context, own_result=True)
            body = self._block(node.body, tail, inner, record) | \
                self._block(node.orelse, tail, inner, record)
            return self._header([node.test], body, context, record)
        if isinstance(node, _LOOPS):
            turn = self._turn(node, context)
            exit_ = self._block(node.orelse, tail, context, record)
            inner = dataclasses.replace(context, next_turn=turn | exit_, after_loop=tail)
            body = self._block(node.body, turn | exit_, inner, record)
            header = [node.test] if isinstance(node, ast.While) else [node.target, node.iter]
            return self._header(header, body | exit_, context, record)
        if isinstance(node, (ast.With, ast.AsyncWith)):
            body = self._block(node.body, tail, context, record)
            return self._header([item.context_expr for item in node.items], body, context,
                                record)
        if isinstance(node, _TRY):
            return self._try(node, tail, context, record)
        if isinstance(node, ast.Match):
            cases = NOTHING
            for case in node.cases:
                cases = cases | self._block(case.body, tail, context, record)
            return self._header([node.subject], cases | tail, context, record)
        return self._header([node], tail, context, record)

    def _try(self, node: ast.Try, tail: _Ahead, context: _Context, record: bool) -> _Ahead:
        final = self._block(node.finalbody, tail, context, record)
        handlers = NOTHING
        retrying = ""
        swallows = False
        for handler in node.handlers:
            handlers = handlers | self._block(handler.body, final, context, record)
            names = _caught(handler)
            broad = not names or any(BROAD_EXCEPTIONS.search(n.rsplit(".", 1)[-1]) for n in names)
            if self._retries(handler.body):
                retrying = "any" if broad or retrying == "any" else "io"
            elif broad and not any(isinstance(n, ast.Raise) for n in _walk(handler.body)):
                swallows = True
        # a retrying handler beside the broad one still sees what it names
        swallows = swallows and not retrying
        orelse = self._block(node.orelse, final, context, record)
        inner = dataclasses.replace(context, tries=(*context.tries, retrying),
                                    swallowed=context.swallowed or swallows)
        body = self._block(node.body, orelse, inner, record)
        return body | handlers

    def _turn(self, loop: ast.For | ast.AsyncFor | ast.While, context: _Context) -> _Ahead:
        """What one more turn of `loop` can do (memoized: nested loops would redo it)."""
        key = (id(loop), context)
        if key not in self.turns:
            self.turns[key] = NOTHING  # a loop inside itself cannot be; guards the recursion
            inner = dataclasses.replace(context, next_turn=NOTHING, after_loop=NOTHING)
            self.turns[key] = self._block(loop.body, NOTHING, inner, record=False)
        return self.turns[key]

    def _header(self, expressions: list[ast.AST], tail: _Ahead, context: _Context,
                record: bool) -> _Ahead:
        """The points in `expressions` (a simple statement, or a compound one's header) are
        followed by `tail`; returns what runs from the expressions on."""
        depth = len(context.tries)
        own = NOTHING
        for node, in_loop in _expression_nodes(expressions):
            if record and id(node) in self.points:
                ahead = tail | (_Ahead(depth, depth, True) if in_loop else NOTHING)
                self.after[id(node)] = (ahead, context.tries)
            if isinstance(node, ast.Call):
                own = own | self._work(node, context, depth)
        return own | tail

    def _work(self, node: ast.Call, context: _Context, depth: int) -> _Ahead:
        kind = self._kind(node)
        if kind == "retry":
            return NOTHING if context.own_result else _Ahead(retry=True)
        if kind == "io":
            failing = -1 if context.swallowed else depth
            return _Ahead(failing, failing, True)
        if kind == "db" and not context.swallowed:
            return _Ahead(db=depth)
        return NOTHING

    def _kind(self, node: ast.Call) -> str:
        """"retry", "io", "db" or "" (nothing that fails or takes time) for one call."""
        func = node.func
        if isinstance(func, ast.Name):
            # building an object (an exception to raise, a message) does no work yet
            return "" if func.id in BUILTIN_CALLS or REPORTING.search(func.id) or \
                NOT_DONE.match(func.id) or func.id[:1].isupper() else "io"
        if not isinstance(func, ast.Attribute):
            return "io"
        method, receiver = func.attr, func.value
        if method[:1].isupper():
            return ""
        root = _root(receiver)
        text = chain(receiver)
        if root is not None and root in self.results:
            return ""  # the effect's own result: its failure is the effect's
        if method == "retry" and text == self.first_param:
            return "retry"
        if any(REPORTING.search(part) for part in text.split(".")) or NOT_DONE.match(method):
            return ""
        if (dotted(func) or "").startswith(HTTP_MODULES) or (
                method in HTTP_WRITES | {"get", "request"} and HTTP_RECEIVER.search(text)):
            return "io"
        if method == "on_commit":
            return ""  # it only registers a callback
        if method in DB_METHODS or method in ENQUEUE_METHODS or (method in QUERY_METHODS and (
                "objects" in text or "_set" in text or "filter(" in text or "all()" in text)):
            return "db"
        if LOCK_RECEIVER.search(text):
            return "io"  # a cache or redis call
        # `get`, `update`, `add` on anything else: a dict, a set, a list
        return "" if method in PURE_METHODS or method in CONTAINER_METHODS else "io"

    def _retries(self, body: list[ast.stmt]) -> bool:
        return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                   and n.func.attr == "retry" and chain(n.func.value) == self.first_param
                   for n in _walk(body))


def _walk(nodes: list[ast.stmt] | list[ast.expr]) -> Iterator[ast.AST]:
    """Every node under `nodes`, nested functions, classes and lambdas left out."""
    pending: list[ast.AST] = list(nodes)
    while pending:
        node = pending.pop()
        if isinstance(node, SCOPES):
            continue
        yield node
        pending.extend(ast.iter_child_nodes(node))


def _expression_nodes(nodes: list[ast.AST]) -> Iterator[tuple[ast.AST, bool]]:
    """The nodes of a simple statement or of expressions, each with whether it sits in a
    comprehension (where more turns follow it)."""
    pending: list[tuple[ast.AST, bool]] = [(node, False) for node in nodes]
    while pending:
        node, in_loop = pending.pop()
        if isinstance(node, SCOPES):
            continue
        yield node, in_loop
        loop = in_loop or isinstance(node, _COMPREHENSIONS)
        pending.extend((child, loop) for child in ast.iter_child_nodes(node))


def _names(test: ast.AST) -> set[str]:
    """The names a test reads, builtins left out."""
    return {n.id for n in ast.walk(test) if isinstance(n, ast.Name)
            and n.id not in BUILTIN_CALLS}


def _caught(handler: ast.ExceptHandler) -> list[str]:
    """The names of the classes an `except` names (none: a bare `except:`)."""
    caught = handler.type
    names = caught.elts if isinstance(caught, ast.Tuple) else [caught] if caught else []
    return [dotted(name) or "" for name in names]


def _idempotency_header(node: ast.Call) -> bool:
    for keyword in node.keywords:
        if keyword.arg == "headers" and isinstance(keyword.value, ast.Dict):
            for key in keyword.value.keys:
                if isinstance(key, ast.Constant) and isinstance(key.value, str) and \
                        key.value.lower() == "idempotency-key":
                    return True
    return False


def _returns_early(body: list[ast.stmt]) -> bool:
    """An `if` body that leaves: `return`, `raise Ignore()`, or `continue` ends it."""
    if not body:
        return False
    return isinstance(body[-1], (ast.Return, ast.Continue, ast.Raise))


def _increments(node: ast.AST) -> bool:
    """`F("count") + 1` (or minus)."""
    return isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)) and \
        isinstance(node.left, ast.Call) and (dotted(node.left.func) or "").rsplit(".", 1)[-1] == "F"


def guarded(checks: tuple[StateCheck, ...], before: int, writes: set[str], creates: set[str],
            setters: set[str], object_calls: tuple[tuple[str, int], ...] = ()) -> bool:
    """Whether a check before line `before` looks at what the code records: a field it writes (or
    a `mark_*`/`set_*` method names, or a method of the object it reads may move), or rows of a
    model it creates."""
    for check in checks:
        if check.line >= before or (check.until and before > check.until):
            continue
        if set(check.fields) & writes or set(check.models) & creates:
            return True
        if any(name in check.objects and line > check.line for name, line in object_calls):
            return True
        for field in check.fields:
            words = _words(field) - FIELD_NOISE
            if words and any(words <= _words(setter) for setter in setters):
                return True
    return False


def per_attempt(model: str | None) -> bool:
    """A model whose rows record one attempt each (`DeliveryAttempt`, `SyncLog`)."""
    return bool(model) and model.rsplit(".", 1)[-1].endswith(PER_ATTEMPT_MODELS)


_HANDLERS = {
    ast.Assign: Scanner.visit_Assign, ast.AnnAssign: Scanner.visit_Assign,
    ast.AugAssign: Scanner.visit_AugAssign, ast.If: Scanner.visit_If,
    ast.ExceptHandler: Scanner.visit_ExceptHandler, ast.With: Scanner.visit_With,
    ast.AsyncWith: Scanner.visit_With, ast.Call: Scanner.visit_Call,
}
HANDLER_TYPES = frozenset(_HANDLERS)


def new_scanner(function: ast.FunctionDef | ast.AsyncFunctionDef,
                qualify: Callable[[ast.AST], str | None], follow_calls: bool = True) -> Scanner:
    params = function.args.posonlyargs + function.args.args
    return Scanner(function, qualify, params[0].arg if params else None, follow_calls)


def behaviour_of(function: ast.FunctionDef | ast.AsyncFunctionDef,
                 qualify: Callable[[ast.AST], str | None]) -> Behaviour:
    """One function's behaviour, walking it on its own (nested scopes left out)."""
    scanner = new_scanner(function, qualify)
    for node in _walk(function.body):
        scanner.handle(node)
    return scanner.behaviour()
