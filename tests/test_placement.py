"""facts.placement: the row new settings must stay above, and the rows after assignments."""

from __future__ import annotations

import ast
import textwrap

import pytest

from celery_lint.facts.placement import assignments, settings_limit


def limit(source: str) -> int | None:
    text = textwrap.dedent(source).lstrip("\n")
    return settings_limit(ast.parse(text), text)


@pytest.mark.parametrize(("source", "row"), [
    ("A = 1\nsys.exit(0)\nB = 2\n", 2),  # nothing after an unconditional exit runs
    ("A = 1\nraise SystemExit\n", 2),
    ("A = 1\nexit()\n", 2),
    ("A = 1\n\n# leave when only checking\nif CHECK:\n    quit()\n", 3),
    ("A = 1\nif CHECK:\n    pass\nelse:\n    os._exit(1)\n", 2),
    ("A = 1\nif __name__ == '__main__':\n    main()\n", 2),
    ("A = 1\n# must be last: the overrides\nB = 2\n", 2),
    ("A = 1\n# Do NOT add new settings after this block\nB = 2\n", 2),
    ("A = 1\n# nothing below here\n", 2),
])
def test_the_end_of_the_settings(source: str, row: int) -> None:
    assert limit(source) == row


@pytest.mark.parametrize("source", [
    "A = 1\nif CHECK:\n    print(A)\n",  # an `if` that does not exit
    "A = 1\nif not A:\n    raise ValueError\nB = 2\n",  # settings follow the check
    "A = 1\nservice.exit()\n",  # not the interpreter's exit
    "A = 1\n# don't add a trailing slash\nB = '/x'\n",  # says nothing of where
    "def f():\n    # do not add anything below this line\n    return 1\n",  # not module level
])
def test_no_end_of_the_settings(source: str) -> None:
    assert limit(source) is None


def test_assignments_give_the_end_of_each() -> None:
    text = "A = 1\nB = {\n    'x': 1,\n}  # the x\nC: int = 3\nD: int\nx.y = 4\n"
    assert assignments(ast.parse(text), text) == (("A", 1, 1, 5), ("B", 2, 4, 10),
                                                  ("C", 5, 5, 10))
