"""Rule metadata, declared once per rule, and the selection of rules by code or prefix."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from celery_lint.diagnostics import Applicability, Severity


@dataclass(frozen=True)
class RuleInfo:
    code: str
    name: str
    severity: Severity
    summary: str
    fix: Applicability | None = None

    @property
    def enabled_by_default(self) -> bool:
        return self.severity is not Severity.INFO

    @property
    def url(self) -> str:
        return f"https://celery-lint.readthedocs.io/en/latest/rules/{self.code}/"


_RULES: dict[str, RuleInfo] = {}


def register(info: RuleInfo) -> RuleInfo:
    if info.code in _RULES:
        raise ValueError(f"rule {info.code} registered twice")
    _RULES[info.code] = info
    return info


def all_rules() -> list[RuleInfo]:
    _load_rule_modules()
    return sorted(_RULES.values(), key=lambda r: r.code)


def get_rule(code: str) -> RuleInfo | None:
    _load_rule_modules()
    return _RULES.get(code.upper())


def _load_rule_modules() -> None:
    # Importing the rule modules registers their metadata.
    from celery_lint.rules import load_all

    load_all()


def expand_codes(selectors: Iterable[str]) -> set[str]:
    """Expand codes and prefixes (`CEL1`, `CEL10`, `ALL`) into the known rule codes.

    Raises ValueError naming a selector that matches no rule.
    """
    selectors = [s for s in selectors if s.strip()]
    if not selectors:
        return set()
    codes = {rule.code for rule in all_rules()}
    selected: set[str] = set()
    for selector in selectors:
        selector = selector.strip().upper()
        if not selector:
            continue
        if selector == "ALL":
            selected |= codes
            continue
        matched = {code for code in codes if code.startswith(selector)}
        if not matched:
            raise ValueError(f"unknown rule selector {selector!r}")
        selected |= matched
    return selected


def selected_rules(
    select: Iterable[str] | None, ignore: Iterable[str], extend_select: Iterable[str]
) -> frozenset[str]:
    """The codes that a run reports, as ruff resolves select/extend-select/ignore."""
    if select is None:
        base = {rule.code for rule in all_rules() if rule.enabled_by_default}
    else:
        base = expand_codes(select)
    base |= expand_codes(extend_select)
    return frozenset(base - expand_codes(ignore))
