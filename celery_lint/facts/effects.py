"""What a function does that must not happen twice, and what guards it (phase 1, with `ast`).

A side effect is a call that charges money, sends mail or a notification, writes to an external
service, creates rows, or increments a counter. A guard is what makes running the function again
harmless: a status-filtered `.update()` whose result is checked, `select_for_update()` with an early
return, `get_or_create`/`update_or_create`, an idempotency key, an insert that catches
`IntegrityError`, an early return on the object's state, or a cache/lock `add`. CEL203 joins these
facts with how a task can run twice.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
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
                            "send_messages"})
EMAIL_CLASSES = frozenset({"EmailMessage", "EmailMultiAlternatives", "AnymailMessage"})
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
INTERESTING = EFFECT_METHODS | GET_OR_CREATE | {"select_for_update", "add", "set", "lock",
                                                "acquire", "retry"}


@dataclass(frozen=True)
class Effect:
    kind: str  # "payment", "mail", "external", "rows", "counter"
    what: str  # the call, as written (shortened)
    line: int
    model: str | None = None  # "rows": the class whose rows are created (checked to be a model)
    target: str | None = None  # the qualified call, when the effect is known by its name only


@dataclass(frozen=True)
class Behaviour:
    """Side effects and guards of one function body (nested functions excluded)."""

    effects: tuple[Effect, ...] = ()
    guards: tuple[str, ...] = ()
    calls: tuple[str, ...] = ()  # qualified names of the functions it calls
    retries: bool = False  # calls `self.retry(...)` (first parameter `.retry`)


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


def _short(node: ast.AST) -> str:
    text = " ".join(source_text(node).split())
    return text if len(text) <= 60 else text[:57] + "..."


class Scanner:
    """Collects one function's behaviour from the nodes of its body, given one at a time (the
    file's single `ast.walk` feeds every scanner, so no function is walked twice)."""

    def __init__(self, qualify: Callable[[ast.AST], str | None], first_param: str | None,
                 follow_calls: bool = True) -> None:
        self.qualify = qualify
        self.first_param = first_param
        self.follow_calls = follow_calls
        self.effects: list[Effect] = []
        self.guards: list[str] = []
        self.calls: list[str] = []
        self.retries = False
        self.new_instances: dict[str, str] = {}  # name → class it was built from
        self.emails: set[str] = set()  # names holding an EmailMessage
        self.updated: set[str] = set()  # names holding the count of a filtered .update()
        self.locked: set[str] = set()  # names holding select_for_update() results
        self.checked: set[str] = set()  # names read in an `if` test that returns early
        self.state_checks = 0  # early returns on the state of something
        self.atomic: list[tuple[int, int]] = []  # lines of `with transaction.atomic():` blocks
        self.increments: list[tuple[str, Effect]] = []  # (object, effect) of `obj.n += 1`
        self.saved: set[str] = set()  # objects `.save()` is called on
        self.state_lines: list[int] = []  # lines of early returns on state
        self.header_names: set[str] = set()  # names given as `headers=` to calls
        self.idempotent_headers: set[str] = set()  # names of dicts with an Idempotency-Key
        self.all_atomic = False  # decorated with @transaction.atomic
        self.select_for_update = False

    def handle(self, node: ast.AST) -> None:
        method = _HANDLERS.get(type(node))
        if method is not None:
            method(self, node)

    def visit_Assign(self, node: ast.Assign) -> None:
        value = node.value
        names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        if isinstance(value, ast.Dict) and any(
                isinstance(k, ast.Constant) and isinstance(k.value, str)
                and k.value.lower() == "idempotency-key"
                for k in value.keys):
            self.idempotent_headers.update(names)
        if isinstance(value, ast.Call) and names:
            callee = dotted(value.func) or ""
            head = callee.rsplit(".", 1)[-1]
            if head in EMAIL_CLASSES:
                self.emails.update(names)
            elif head[:1].isupper() and callee.count(".") <= 1:
                qualified = self.qualify(value.func)
                for name in names:
                    self.new_instances[name] = qualified or callee
            text = chain(value)
            if text.endswith(".update()") and (".filter(" in text or ".exclude(" in text):
                self.updated.update(names)
            if ".select_for_update(" in text:
                self.locked.update(names)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        # `order.views += 1`: a counter when the object is saved afterwards
        if isinstance(node.target, ast.Attribute) and isinstance(node.op, (ast.Add, ast.Sub)) \
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, int):
            self.increments.append((chain(node.target.value), Effect(
                "counter", _short(node), node.lineno)))

    def visit_If(self, node: ast.If) -> None:
        if _returns_early(node.body):
            test = node.test
            nodes = list(ast.walk(test))
            read = {n.id for n in nodes if isinstance(n, ast.Name)}
            self.checked |= read
            attributes = {n.attr for n in nodes if isinstance(n, ast.Attribute)}
            if attributes:
                self.state_checks += 1
                self.state_lines.append(node.lineno)
            if read & self.updated or {"update", "filter"} <= attributes:
                self.guards.append("a status-filtered `.update()` whose count is checked")

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        caught = node.type
        names = caught.elts if isinstance(caught, ast.Tuple) else [caught] if caught else []
        for name in names:
            text = dotted(name) or ""
            if text.rsplit(".", 1)[-1] == "IntegrityError":
                self.guards.append("an insert that catches IntegrityError")

    def visit_With(self, node: ast.With) -> None:
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
        interesting = method in INTERESTING or method.split("_", 1)[0].lower() in PAYMENT_WORDS
        if not interesting and not self.follow_calls and not node.keywords:
            return  # the common case: a call that is neither an effect nor a guard
        name = dotted(func) or ""
        qualified = (self.qualify(func) or name) if name else ""
        if self.follow_calls and "." in qualified and not qualified.startswith(
                ("django.", "celery.", "logging.")):
            self.calls.append(qualified)
        keywords = {k.arg for k in node.keywords if k.arg}
        if "idempotency_key" in keywords or ("headers" in keywords and _idempotency_header(node)):
            self.guards.append("an idempotency key")
        for keyword in node.keywords:
            if keyword.arg == "headers" and isinstance(keyword.value, ast.Name):
                self.header_names.add(keyword.value.id)
        if not interesting and not qualified.startswith(PAYMENT_SDKS):
            return
        receiver_text = chain(receiver) if receiver is not None else ""
        # -- guards
        if method in GET_OR_CREATE:
            self.guards.append(f"`{method}()`")
        elif method == "select_for_update":
            self.select_for_update = True
        elif (method == "add" and LOCK_RECEIVER.search(receiver_text)) or (
                method == "set" and "nx" in keywords) or method in ("lock", "acquire"):
            self.guards.append(f"`{_short(func)}()`")
        elif method == "retry" and receiver_text == self.first_param:
            self.retries = True
        # -- side effects
        effect = self._effect(node, qualified, method, receiver, receiver_text, keywords)
        if effect is not None:
            self.effects.append(effect)

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
        if method == "send" and receiver is not None and (
                receiver_text in self.emails or (isinstance(receiver, ast.Call) and (
                    dotted(receiver.func) or "").rsplit(".", 1)[-1] in EMAIL_CLASSES)):
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
            model = self.qualify(receiver.value) if isinstance(receiver, ast.Attribute) else None
            return Effect("rows", _short(node.func), line, model=model or receiver_text)
        if method == "save" and receiver_text:
            self.saved.add(receiver_text)
        if method == "save" and receiver_text in self.new_instances and not node.args:
            return Effect("rows", _short(node.func), line, model=self.new_instances[receiver_text])
        if method in COUNTER_METHODS:
            return Effect("counter", _short(node.func), line)
        if method == "update" and any(_increments(k.value) for k in node.keywords):
            return Effect("counter", _short(node), line)
        return None

    def behaviour(self) -> Behaviour:
        guards = list(self.guards)
        candidates = self.effects + [e for target, e in self.increments if target in self.saved]
        # rows and counters written inside a transaction are rolled back with it: a run that
        # fails and runs again leaves no duplicate behind
        effects = [e for e in candidates if e.kind not in ("rows", "counter") or not (
            self.all_atomic or any(start <= e.line <= end for start, end in self.atomic))]
        if self.header_names & self.idempotent_headers:
            guards.append("an idempotency key")
        # a state check guards what comes after it, not what ran before
        first = min((e.line for e in effects), default=0)
        if any(line < first for line in self.state_lines) or (self.state_lines and not effects):
            if self.select_for_update or self.locked:
                guards.append("`select_for_update()` with a state check and an early return")
            else:
                guards.append("an early return on the object's state")
        return Behaviour(tuple(effects), tuple(dict.fromkeys(guards)),
                         tuple(dict.fromkeys(self.calls)), self.retries)


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
    last = body[-1]
    if isinstance(last, (ast.Return, ast.Continue)):
        return True
    return isinstance(last, ast.Raise)  # Ignore(), Reject(), or an error: nothing runs twice


def _increments(node: ast.AST) -> bool:
    """`F("count") + 1` (or minus)."""
    return isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)) and \
        isinstance(node.left, ast.Call) and (dotted(node.left.func) or "").rsplit(".", 1)[-1] == "F"


_HANDLERS = {
    ast.Assign: Scanner.visit_Assign, ast.AugAssign: Scanner.visit_AugAssign,
    ast.If: Scanner.visit_If, ast.ExceptHandler: Scanner.visit_ExceptHandler,
    ast.With: Scanner.visit_With, ast.AsyncWith: Scanner.visit_With, ast.Call: Scanner.visit_Call,
}
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
HANDLER_TYPES = frozenset(_HANDLERS)


def new_scanner(function: ast.FunctionDef | ast.AsyncFunctionDef,
                qualify: Callable[[ast.AST], str | None], follow_calls: bool = True) -> Scanner:
    params = function.args.posonlyargs + function.args.args
    return Scanner(qualify, params[0].arg if params else None, follow_calls)


def behaviour_of(function: ast.FunctionDef | ast.AsyncFunctionDef,
                 qualify: Callable[[ast.AST], str | None]) -> Behaviour:
    """One function's behaviour, walking it on its own (nested scopes left out)."""
    scanner = new_scanner(function, qualify)
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop()
        if isinstance(node, SCOPES):
            continue
        scanner.handle(node)
        pending.extend(ast.iter_child_nodes(node))
    return scanner.behaviour()
