"""The README stays true: its rule table is the table of codes, its test command is what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from celery_lint.codes import all_rules

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
_ROW = re.compile(
    r"^\| \[(CEL\d{3})\]\(rules/\1\.md\) \| (\S+) \| (\w+) \| (\w+) \| (\w+) \| (.+) \|$",
    re.MULTILINE)


def test_rule_table_matches_the_table_of_codes() -> None:
    table = [row[:5] for row in _ROW.findall(README)]
    codes = [(r.code, r.name, r.severity.value, r.fix.value if r.fix else "none", r.group.value)
             for r in all_rules()]
    assert table == codes


def test_ci_runs_the_readme_test_command() -> None:
    commands = re.findall(r"```sh\n(.+?)\n```", README)
    assert len(commands) >= 2
    install_and_check, install_and_test = commands[:2]
    assert "celery-lint check fixtures/shop" in install_and_check
    assert install_and_test in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
