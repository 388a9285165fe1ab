"""The production broker, as the rules about redelivery ask for it: which transport, and how
long it waits for an acknowledgement before it delivers a message again (its visibility timeout)."""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from celery_lint.facts.settings import CeleryConfig
from celery_lint.facts.types import FromEnv

# broker URL schemes and the kombu transport module whose Channel holds the default timeout
TRANSPORTS = {
    "redis": ("Redis", "kombu.transport.redis", "visibility_timeout"),
    "rediss": ("Redis", "kombu.transport.redis", "visibility_timeout"),
    "redis+socket": ("Redis", "kombu.transport.redis", "visibility_timeout"),
    "sentinel": ("Redis", "kombu.transport.redis", "visibility_timeout"),
    "sqs": ("SQS", "kombu.transport.SQS", "default_visibility_timeout"),
}


@dataclass(frozen=True)
class VisibilityTimeout:
    broker: str  # "Redis" or "SQS"
    seconds: float
    source: str  # where the value comes from, for messages
    assumed: str = ""  # the broker URL is read from the environment: "the default of $X"


@cache
def transport_default(module: str, attribute: str) -> float | None:
    """A number kombu's transport `Channel` class sets, read from kombu's source.

    Importing the transport needs its client library (redis, boto3), which a linter does not.
    """
    try:
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            return None
        tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    except (ImportError, OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if not (isinstance(node, ast.ClassDef) and node.name == "Channel"):
            continue
        for statement in node.body:
            if isinstance(statement, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == attribute for t in statement.targets):
                value = statement.value
                if isinstance(value, ast.Constant) and is_number(value.value):
                    return float(value.value)
    return None


def visibility_timeout(config: CeleryConfig | None,
                       env_default: bool = False) -> VisibilityTimeout | None:
    """The visibility timeout of the production broker, when it is Redis or SQS and known.

    `env_default` takes a broker URL read from the environment to be its default: the transport
    a project writes as the default is the one it deploys with.
    """
    if config is None:
        return None
    url = config.get("broker_url")
    value = url.value if url is not None else None
    assumed = ""
    if env_default and isinstance(value, FromEnv) and value.has_default:
        assumed = f"the default of {value.variable or 'the broker URL'}"
        value = value.default
    if isinstance(value, tuple) and value:
        value = value[0]  # failover URLs: the first is used first
    if not isinstance(value, str):
        return None
    scheme = value.split(";")[0].strip().partition("://")[0].lower()
    if scheme not in TRANSPORTS:
        return None
    broker, module, attribute = TRANSPORTS[scheme]
    options = config.get("broker_transport_options")
    if options is not None:
        if not isinstance(options.value, dict):
            return None
        if "visibility_timeout" in options.value:
            seconds = options.value["visibility_timeout"]
            if not is_number(seconds):
                return None
            return VisibilityTimeout(broker, float(seconds), "from `broker_transport_options`",
                                     assumed)
    default = transport_default(module, attribute)
    if default is None:
        return None
    return VisibilityTimeout(broker, default, "kombu's default", assumed)


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def duration(seconds: float) -> str:
    """`2 h`, `1 day`, `90 min` when whole, else `3601 s`."""
    for size, unit in ((86400, " day"), (3600, " h"), (60, " min")):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count}{unit}{'s' if unit == ' day' and count != 1 else ''}"
    return f"{int(seconds)} s" if float(seconds).is_integer() else f"{seconds:g} s"
