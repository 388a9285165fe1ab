"""The example projects produce exactly the diagnostics written next to them."""

from __future__ import annotations

from pathlib import Path

import pytest

from celery_lint.config import load_config
from celery_lint.runner import run

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def expected(name: str) -> list[str]:
    lines = (FIXTURES / f"{name}.expected").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("name", ["shop", "clean"])
def test_fixture_diagnostics_are_exactly_the_expected_ones(name: str) -> None:
    root = FIXTURES / name
    result = run([root], load_config(root))
    assert result.warnings == []
    found = [f"{d.code} {Path(d.path).relative_to(root).as_posix()}:{d.location.row}"
             for d in result.diagnostics]
    key = lambda line: (line.split()[1].split(":")[0], int(line.split(":")[-1]), line.split()[0])
    assert sorted(found, key=key) == sorted(expected(name), key=key)


def test_shop_covers_every_rule_of_the_registry_that_fires_on_python() -> None:
    codes = {line.split()[0] for line in expected("shop")}
    assert codes >= {"CEL002", "CEL101", "CEL102", "CEL104", "CEL105", "CEL107", "CEL201",
                     "CEL202", "CEL204", "CEL205", "CEL207", "CEL210"}
