"""YAML as nodes, for compose files and Kubernetes manifests: each node keeps its line, merge
keys (`<<`) are followed, and nothing a file holds makes the work grow without bound.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

MAX_YAML_DEPTH = 64
MAX_YAML_DOCUMENTS = 1000
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_documents(text: str) -> tuple[list[yaml.Node], str | None]:
    try:  # libyaml when PyYAML has it: a 10 MB compose file in a second, not ten
        return _compose_all(text, FAST_LOADER), None
    except yaml.YAMLError:
        pass
    try:  # the pure-Python loader's messages say more about what is wrong
        return _compose_all(text, yaml.SafeLoader), None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return [], f"malformed YAML{where}: {problem}; skipped"


def _compose_all(text: str, loader: Any) -> list[yaml.Node]:
    documents = []
    for document in yaml.compose_all(text, Loader=loader):
        if document is not None:
            documents.append(document)
        if len(documents) > MAX_YAML_DOCUMENTS:
            break
    return documents


def get(node: Any, key: str, depth: int = 0, seen: set[int] | None = None) -> Any:
    """`node[key]` for a YAML mapping node, following `<<` merge keys; None when absent.

    Each node is looked into once per lookup, so aliases merged into aliases cannot make the
    work grow with the number of paths to a node (a "billion laughs" file stays cheap).
    """
    if not isinstance(node, yaml.MappingNode) or depth > MAX_YAML_DEPTH:
        return None
    seen = set() if seen is None else seen
    if id(node) in seen:
        return None
    seen.add(id(node))
    found = None
    for key_node, value in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key \
                and key_node.tag != "tag:yaml.org,2002:merge":
            found = value
    if found is not None:
        return found
    for key_node, value in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            for base in value.value if isinstance(value, yaml.SequenceNode) else [value]:
                merged = get(base, key, depth + 1, seen)
                if merged is not None:
                    return merged
    return None


def get_path(node: Any, *keys: str) -> Any:
    for key in keys:
        node = get(node, key)
    return node


def mapping_items(node: Any) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                yield key_node.value, key_node, value


def scalar(node: Any) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        return None
    if node.tag.endswith(":int"):
        try:
            number = int(node.value.replace("_", ""), 0)
        except ValueError:
            return node.value
        # a number Python will not print (more than 4300 digits) stays text, as a bad one does
        return number if number.bit_length() <= 10_000 else node.value
    if node.tag.endswith(":bool"):
        return node.value.lower() in ("true", "yes", "on", "y")
    if node.tag.endswith(":null"):
        return None
    return node.value


def command_of(node: Any) -> str | list[str] | None:
    if isinstance(node, yaml.ScalarNode):
        value = scalar(node)
        return value if isinstance(value, str) else None
    if isinstance(node, yaml.SequenceNode):
        words = [scalar(item) for item in node.value]
        return [str(w) for w in words if w is not None]
    return None


def where(node: Any) -> tuple[int, int]:
    mark = node.start_mark
    return mark.line + 1, mark.column + 1
