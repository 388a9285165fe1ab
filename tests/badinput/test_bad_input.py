"""Bad input (SPEC section 4): a diagnostic or a clear warning, never a traceback, never a hang,
and the other files of the project are still checked.

Every case is a small Django project with a known-bad sibling, `shop/services.py`, which sends a
model instance to a task (CEL101 at 7:24), plus the bad input. The command line runs in a
subprocess with a time bound, as a user runs it; each case checks what is reported about the bad
input, that the sibling is still reported, the exit status (1: diagnostics; 2 only for a usage or
configuration error) and that no traceback is printed.

Cases that are one bad file among others (Python files, YAML bombs, malformed deployment files,
links) share a project linted once per group, each file and test of its own: a subprocess per
case would cost most of the suite's time budget. A crash on one of them fails its whole group.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import CELERY_APP, MODELS, TASKS, write_project

TIMEOUT = 60  # seconds for one run of the command line: generous, but a hang fails the test

BAD_SERVICES = """
    from shop.models import Order
    from shop.tasks import send_invoice


    def checkout(order_id):
        order = Order.objects.get(pk=order_id)
        send_invoice.delay(order)
"""
BAD_SOURCE = textwrap.dedent(BAD_SERVICES).lstrip("\n")  # CEL101 at 7:24 wherever it is put
SIBLING = ("shop/services.py", 7, 24, "CEL101")
DIAGNOSTIC = re.compile(r"^(?P<path>\S.*?):(?P<row>\d+):(?P<column>\d+): (?P<code>CEL\d{3}) ")


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def diagnostics(self) -> list[tuple[str, int, int, str]]:
        """(path, row, column, code) of each diagnostic printed (concise format)."""
        found = []
        for line in self.stdout.splitlines():
            match = DIAGNOSTIC.match(line)
            if match:
                found.append((match["path"], int(match["row"]), int(match["column"]),
                              match["code"]))
        return found

    def codes_in(self, path: str) -> list[tuple[int, str]]:
        """(row, code) of the diagnostics in one file."""
        return [(row, code) for where, row, _, code in self.diagnostics if where == path]

    @property
    def warnings(self) -> list[str]:
        prefix = "warning: "
        return [line[len(prefix):] for line in self.stderr.splitlines() if line.startswith(prefix)]

    def warnings_about(self, path: str) -> list[str]:
        """The warnings about one file, without the `path: ` they start with."""
        prefix = f"{path}: "
        return [w[len(prefix):] for w in self.warnings if w.startswith(prefix)]

    def message(self, path: str, code: str) -> str:
        """The message of the first `code` diagnostic in `path`."""
        for line in self.stdout.splitlines():
            if line.startswith(f"{path}:") and f": {code} " in line:
                return line.split(f": {code} ", 1)[1]
        raise AssertionError(f"no {code} in {path}:\n{self.stdout}")


def project(root: Path, extra: dict[str, str | bytes] | None = None) -> Path:
    """The Django project with the known-bad sibling, plus `extra` files written byte for byte."""
    write_project(root, {**CELERY_APP, "shop/models.py": MODELS, "shop/tasks.py": TASKS,
                         "shop/services.py": BAD_SERVICES})
    for name, content in (extra or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return root


def run_cli(root: Path, argv: list[str], stdin: bytes | None = None,
            timeout: float = TIMEOUT) -> Run:
    """Run `argv` in `root` within `timeout` seconds (a hang fails); no output has a traceback."""
    completed = subprocess.run(argv, cwd=root, input=stdin, capture_output=True,
                               timeout=timeout, check=False)
    run = Run(completed.returncode, completed.stdout.decode("utf-8", "replace"),
              completed.stderr.decode("utf-8", "replace"))
    assert "Traceback" not in run.stdout + run.stderr, run.stderr
    return run


def check(root: Path, *args: str, stdin: bytes | None = None, timeout: float = TIMEOUT) -> Run:
    """`celery-lint check --output-format concise ARGS` (default: `.`) run in `root`."""
    argv = [sys.executable, "-m", "celery_lint", "check", "--output-format", "concise",
            *(args or (".",))]
    return run_cli(root, argv, stdin, timeout)


def assert_rest_checked(run: Run) -> None:
    """The known-bad sibling was still checked, nothing failed inside the linter, exit 1."""
    assert SIBLING in run.diagnostics, run.stdout + run.stderr
    assert "internal error" not in run.stderr, run.stderr
    assert run.returncode == 1, run.stdout + run.stderr


# -- one bad Python file each: `python_zoo`, and `deep_zoo` for the deeply nested ones --------------

SYNTAX_ERRORS = {  # file: (content, row of its CEL001)
    "shop/syntax_first_line.py": (b"def (:\nx = 1\n", 1),
    "shop/syntax_last_line.py": (b"x = 1\ny = (1 +", 2),  # no newline at the end
    "shop/syntax_f_string.py": (b"name = 'x'\ngreeting = f'{name +}'\n", 2),
    "shop/syntax_unclosed_bracket.py": (b"x = 1\nitems = [1, 2,\n", 2),
    "shop/syntax_async_as_a_name.py": (b"x = 1\nasync = 1\n", 2),
    "shop/syntax_tab_error.py": (b"if True:\n\tx = 1\n        y = 2\n", 3),
    "shop/syntax_nbsp_indent.py": (b"x = 1\n\xc2\xa0   y = 2\n", 2),
}
UNDECODABLE = {  # file: (content, what the CEL001 message says)
    "shop/bytes_null.py": (b"x = 1\x00\ny = 2\n", "null bytes"),
    "shop/bytes_invalid_utf_8.py": (b"x = '\xff\xfe'\n", "encoding"),
    "shop/bytes_binary.py": (bytes(range(256)) * 40, "decode"),
    "shop/bytes_unknown_cookie.py": (b"# -*- coding: klingon -*-\nx = 1\n", "klingon"),
    "shop/bytes_utf_16.py": (b"\xff\xfe" + BAD_SOURCE.encode("utf-16-le"), "encoding"),
}
LINE_ENDINGS = {  # file: content with the CEL101 of BAD_SOURCE at 7:24
    "shop/eol_bom_crlf.py": b"\xef\xbb\xbf" + BAD_SOURCE.replace("\n", "\r\n").encode(),
    "shop/eol_cr_only.py": BAD_SOURCE.replace("\n", "\r").encode(),
    "shop/eol_mixed.py": BAD_SOURCE.replace("\n", "\r\n", 3).encode(),
    "shop/eol_form_feed.py": b"\x0c" + BAD_SOURCE.encode(),
}
EMPTY = {
    "shop/empty.py": b"",
    "shop/empty_bom.py": b"\xef\xbb\xbf",
    "shop/empty_newlines.py": b"\n\n\r\n\n",
    "shop/empty_comment.py": b"# nothing here\n",
}
TOO_DEEP = {  # file: (content, what the CEL001 says); CPython refuses 200 brackets, 100 indents
    "shop/deep_parens.py": ("x = " + "(" * 1000 + "1" + ")" * 1000 + "\n", "parentheses"),
    "shop/deep_lists.py": ("x = " + "[" * 1000 + "]" * 1000 + "\n", "parentheses"),
    "shop/deep_ifs.py": ("".join("    " * n + "if x:\n" for n in range(1000))
                         + "    " * 1000 + "pass\n", "indentation"),
}
DEEP_EXPRESSIONS = {  # valid Python 1000 nodes deep, in a task call's arguments and countdown
    "shop/deep_unary_minus.py": "-" * 1000 + "1",
    "shop/deep_sum.py": " + ".join(["1"] * 1000),
    "shop/deep_attributes.py": "a" + ".b" * 1000,
    "shop/deep_calls.py": "a" + "()" * 1000,
    "shop/deep_conditionals.py": "1" + " if x else 1" * 1000,
}
LATIN_1 = ("# -*- coding: latin-1 -*-\n"
           + BAD_SOURCE.replace("delay(order)", "delay(order)  # envoyé au café")).encode("latin-1")
OTHERS = {
    "shop/legacy_latin_1.py": LATIN_1,  # CEL101 at 8:24
    "shop/tabbed.py": BAD_SOURCE.replace("    ", "\t").encode(),  # CEL101 at 7:21
    # `await` in a plain def is a compile-time error, not a parse error: the file is checked
    "shop/await_outside_async.py": (BAD_SOURCE + "\n\ndef poll(client):\n"
                                    "    await client.get()\n").encode(),
}
OTHER_DEEP = {
    "shop/deep_task_argument.py": (BAD_SOURCE + "\n\ndef ping():\n    send_invoice.delay("
                                   + "-" * 1000 + "1)\n").encode(),  # CEL101 at 7:24
    "shop/deep_for_the_parser.py": b"x = " + b"-" * 50_000 + b"1\n",
}


@pytest.fixture(scope="module")
def python_zoo(tmp_path_factory: pytest.TempPathFactory) -> Run:
    files: dict[str, str | bytes] = {
        **{name: content for name, (content, _) in SYNTAX_ERRORS.items()},
        **{name: content for name, (content, _) in UNDECODABLE.items()},
        **LINE_ENDINGS, **EMPTY, **OTHERS,
    }
    return check(project(tmp_path_factory.mktemp("python-zoo"), files))


@pytest.fixture(scope="module")
def deep_zoo(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The deeply nested files, apart: they are the likeliest to take a whole run down."""
    files: dict[str, str | bytes] = {
        **OTHER_DEEP,
        **{name: content for name, (content, _) in TOO_DEEP.items()},
        **{name: ("from shop.tasks import send_invoice\n\n"
                  f"send_invoice.apply_async(args=[{expression}], countdown={expression})\n")
           for name, expression in DEEP_EXPRESSIONS.items()},
    }
    return check(project(tmp_path_factory.mktemp("deep-zoo"), files))


def ids(cases: dict[str, object]) -> list[str]:
    return [Path(name).stem for name in cases]


@pytest.mark.parametrize("name", SYNTAX_ERRORS, ids=ids(SYNTAX_ERRORS))
def test_syntax_error_is_cel001_at_its_row(python_zoo: Run, name: str) -> None:
    assert python_zoo.codes_in(name) == [(SYNTAX_ERRORS[name][1], "CEL001")]
    assert_rest_checked(python_zoo)


def test_tab_error_says_tabs(python_zoo: Run) -> None:
    assert "tabs" in python_zoo.message("shop/syntax_tab_error.py", "CEL001")


def test_await_outside_async_def_parses_and_the_file_is_checked(python_zoo: Run) -> None:
    assert python_zoo.codes_in("shop/await_outside_async.py") == [(7, "CEL101")]
    assert python_zoo.warnings_about("shop/await_outside_async.py") == []
    assert_rest_checked(python_zoo)


@pytest.mark.parametrize("name", UNDECODABLE, ids=ids(UNDECODABLE))
def test_undecodable_file_is_cel001_at_row_1(python_zoo: Run, name: str) -> None:
    assert python_zoo.codes_in(name) == [(1, "CEL001")]
    assert UNDECODABLE[name][1] in python_zoo.message(name, "CEL001")
    assert_rest_checked(python_zoo)


def test_latin_1_coding_cookie_is_read_with_it(python_zoo: Run) -> None:
    assert python_zoo.codes_in("shop/legacy_latin_1.py") == [(8, "CEL101")]  # no CEL001
    assert_rest_checked(python_zoo)


def test_latin_1_line_is_shown_decoded_in_the_full_format(tmp_path: Path) -> None:
    root = project(tmp_path, {"shop/legacy.py": LATIN_1})
    run = run_cli(root, [sys.executable, "-m", "celery_lint", "check", "shop/legacy.py"])
    assert "8 |     send_invoice.delay(order)  # envoyé au café" in run.stdout.splitlines()


@pytest.mark.parametrize("name", LINE_ENDINGS, ids=ids(LINE_ENDINGS))
def test_bom_and_line_endings_keep_rows_and_columns(python_zoo: Run, name: str) -> None:
    assert (name, 7, 24, "CEL101") in python_zoo.diagnostics  # the BOM takes no column
    assert python_zoo.codes_in(name) == [(7, "CEL101")]
    assert_rest_checked(python_zoo)


def test_tab_indented_file_is_checked(python_zoo: Run) -> None:
    assert ("shop/tabbed.py", 7, 21, "CEL101") in python_zoo.diagnostics  # a tab is one column
    assert_rest_checked(python_zoo)


@pytest.mark.parametrize("name", EMPTY, ids=ids(EMPTY))
def test_empty_file_is_quiet(python_zoo: Run, name: str) -> None:
    assert python_zoo.codes_in(name) == []
    assert python_zoo.warnings_about(name) == []
    assert_rest_checked(python_zoo)


@pytest.mark.parametrize("name", TOO_DEEP, ids=ids(TOO_DEEP))
def test_1000_deep_nesting_is_cel001(deep_zoo: Run, name: str) -> None:
    assert [code for _, code in deep_zoo.codes_in(name)] == ["CEL001"]
    assert TOO_DEEP[name][1] in deep_zoo.message(name, "CEL001")
    assert_rest_checked(deep_zoo)


@pytest.mark.parametrize("name", DEEP_EXPRESSIONS, ids=ids(DEEP_EXPRESSIONS))
def test_1000_deep_expression_is_checked_or_skipped_with_a_warning(
        deep_zoo: Run, name: str) -> None:
    # `ast` reads these; checking them hit Python's recursion limit in the rule walk and in
    # libcst's code generation: an internal error and exit 2
    assert deep_zoo.codes_in(name) == []
    assert all(w == "skipped: too deeply nested to check" for w in deep_zoo.warnings_about(name))
    assert_rest_checked(deep_zoo)


def test_1000_deep_expression_in_a_task_argument_is_checked(deep_zoo: Run) -> None:
    assert deep_zoo.codes_in("shop/deep_task_argument.py") == [(7, "CEL101")]
    assert deep_zoo.warnings_about("shop/deep_task_argument.py") == []
    assert_rest_checked(deep_zoo)


def test_expression_too_deep_for_the_parser_has_a_reason(deep_zoo: Run) -> None:
    assert deep_zoo.codes_in("shop/deep_for_the_parser.py") == [(1, "CEL001")]
    message = deep_zoo.message("shop/deep_for_the_parser.py", "CEL001")
    assert message.strip() != "Cannot parse:"


def test_50000_line_file_is_checked_to_its_end(tmp_path: Path) -> None:
    filler = "".join(f"value_{n} = {n}\n" for n in range(49_993))
    source = filler + BAD_SOURCE  # 50,000 lines, the CEL101 on the last one
    assert len(source.splitlines()) == 50_000
    run = check(project(tmp_path, {"shop/generated.py": source}))
    assert run.codes_in("shop/generated.py") == [(50_000, "CEL101")]
    assert_rest_checked(run)


# -- files that cannot be read --------------------------------------------------------------------

# Runs the command line with opening one path raising PermissionError: `chmod 000` does not stop
# root, who runs these tests in CI containers.
UNREADABLE = """
import builtins, io, os, sys

target = os.path.abspath(sys.argv[1])
real_open = io.open


def guarded_open(file, *args, **kwargs):
    if isinstance(file, (str, bytes, os.PathLike)) and \\
            os.path.abspath(os.fsdecode(file)) == target:
        raise PermissionError(13, "Permission denied", os.fsdecode(file))
    return real_open(file, *args, **kwargs)


io.open = builtins.open = guarded_open
from celery_lint.cli import main

sys.argv = ["celery-lint", *sys.argv[2:]]
main()
"""


def test_unreadable_file_is_a_warning(tmp_path: Path) -> None:
    root = project(tmp_path, {"shop/secret.py": BAD_SOURCE})
    run = run_cli(root, [sys.executable, "-c", UNREADABLE, "shop/secret.py",
                         "check", "--output-format", "concise", "."])
    assert run.warnings_about("shop/secret.py") == ["cannot read: Permission denied"]
    assert run.codes_in("shop/secret.py") == []
    assert_rest_checked(run)


def test_file_whose_read_fails_with_eio_is_a_warning(tmp_path: Path) -> None:
    # a real read error even for root: /proc/self/mem cannot be read from offset 0 (EIO)
    root = project(tmp_path)
    (root / "shop" / "memory.py").symlink_to("/proc/self/mem")
    run = check(root)
    [warning] = run.warnings_about("shop/memory.py")
    assert "cannot read" in warning
    assert_rest_checked(run)


def test_fifo_named_py_is_skipped_not_waited_on(tmp_path: Path) -> None:
    # opening a FIFO blocks until something writes to it: the linter once hung here forever
    root = project(tmp_path)
    os.mkfifo(root / "shop" / "pipe.py")
    os.mkfifo(root / "docker-compose.yml")
    run = check(root)
    assert run.warnings_about("shop/pipe.py") == ["not a regular file; skipped"]
    assert run.warnings_about("docker-compose.yml") == ["not a regular file; skipped"]
    assert_rest_checked(run)


def test_fifo_named_on_the_command_line_is_skipped(tmp_path: Path) -> None:
    root = project(tmp_path)
    os.mkfifo(root / "shop" / "pipe.py")
    run = check(root, ".", "shop/pipe.py")
    assert run.warnings_about("shop/pipe.py") == ["not a regular file; skipped"]
    assert_rest_checked(run)


# -- links and folders ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def links_zoo(tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = project(tmp_path_factory.mktemp("links-zoo"))
    shop = root / "shop"
    (shop / "loop_a.py").symlink_to("loop_b.py")
    (shop / "loop_b.py").symlink_to("loop_a.py")
    (shop / "itself.py").symlink_to("itself.py")
    (shop / "dangling.py").symlink_to("nowhere.py")
    (shop / "up").symlink_to("..")
    (shop / "here").symlink_to(".")
    # /dev/null reads as empty, but /dev/zero never ends and /dev/tty blocks
    (shop / "device.py").symlink_to("/dev/null")
    return check(root)


def test_symlink_loop_between_two_files(links_zoo: Run) -> None:
    for name in ("shop/loop_a.py", "shop/loop_b.py"):
        [warning] = links_zoo.warnings_about(name)
        assert warning.startswith("cannot read") and "symbolic links" in warning
    assert_rest_checked(links_zoo)


def test_symlink_to_itself(links_zoo: Run) -> None:
    [warning] = links_zoo.warnings_about("shop/itself.py")
    assert warning.startswith("cannot read") and "symbolic links" in warning
    assert_rest_checked(links_zoo)


def test_dangling_symlink(links_zoo: Run) -> None:
    assert links_zoo.warnings_about("shop/dangling.py") == [
        "cannot read: No such file or directory"]
    assert_rest_checked(links_zoo)


def test_folder_links_to_itself_and_its_parent_are_not_walked(links_zoo: Run) -> None:
    assert links_zoo.diagnostics.count(SIBLING) == 1
    assert not any("/up/" in path or "/here/" in path for path, *_ in links_zoo.diagnostics)
    assert_rest_checked(links_zoo)


def test_link_to_a_device_is_skipped(links_zoo: Run) -> None:
    assert links_zoo.warnings_about("shop/device.py") == ["not a regular file; skipped"]
    assert_rest_checked(links_zoo)


def test_folder_link_loop_named_on_the_command_line(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "loop1").symlink_to("loop2")
    (root / "loop2").symlink_to("loop1")
    run = check(root, ".", "loop1")
    assert run.warnings_about("loop1") == ["no such file or directory"]
    assert_rest_checked(run)


def test_folders_with_file_names(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "shop" / "x.py").mkdir()
    (root / "shop" / "x.py" / "inner.py").write_text(BAD_SOURCE)
    for name in ("docker-compose.yml", "Procfile", "deploy/celery.service"):
        (root / name).mkdir(parents=True)
    run = check(root, ".", "shop/x.py")
    assert run.codes_in("shop/x.py/inner.py") == [(7, "CEL101")]
    assert run.warnings == []
    assert_rest_checked(run)


def test_invalid_gitignore_patterns_are_ignored_with_a_warning(tmp_path: Path) -> None:
    # git skips a pattern it cannot read; pathspec raised on it, and the run ended in a traceback
    root = project(tmp_path, {".gitignore": "[z-a]\n\\\n!\nbuild/\n", "build/gen.py": "x = (\n"})
    run = check(root)
    assert sorted(run.warnings_about(".gitignore")) == [
        "invalid pattern '!' ignored", "invalid pattern '[z-a]' ignored",
        "invalid pattern '\\\\' ignored"]
    assert run.codes_in("build/gen.py") == []  # the valid pattern still applies
    assert_rest_checked(run)


# -- YAML: bombs, loops, size ---------------------------------------------------------------------

def compose_with_worker(extra: str = "") -> str:
    """A compose file whose worker has no restart policy (CEL404 at its command), plus `extra`."""
    return ("services:\n  worker:\n    image: app\n    command: celery -A proj worker\n"
            + extra)


def billion_laughs() -> str:
    text = 'x-a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for level in range(1, 10):
        name, previous = chr(ord("a") + level), chr(ord("a") + level - 1)
        text += f"x-{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]\n"
    return text + compose_with_worker("    environment: *j\n    labels: *j\n")


def merge_key_bomb() -> str:
    # each level merges the one below nine times: 9**20 paths down to the command
    text = "x-l0: &l0 {command: celery -A proj worker}\n"
    for level in range(1, 21):
        bases = ", ".join([f"*l{level - 1}"] * 9)
        text += f"x-l{level}: &l{level}\n  <<: [{bases}]\n  key{level}: value\n"
    return text + "services:\n  worker:\n    <<: *l20\n    image: app\n"


YAML_BOMBS = {  # each in its own folder: a deployment of its own
    "billion-laughs": billion_laughs(),
    "merge-key-bomb": merge_key_bomb(),
    "sequence-containing-itself": "x-loop: &a [*a]\n" + compose_with_worker(
        "    environment: *a\n"),
    "mapping-merging-itself": ("services:\n  worker: &w\n    <<: *w\n    image: app\n"
                               "    command: celery -A proj worker\n"),
    "merge-through-a-nested-anchor": "x-a: &a\n  nested: &b\n    <<: *a\n" + compose_with_worker(
        "    <<: *b\n"),
}


@pytest.fixture(scope="module")
def yaml_bombs(tmp_path_factory: pytest.TempPathFactory) -> Run:
    files = {f"bombs/{name}/docker-compose.yml": text for name, text in YAML_BOMBS.items()}
    return check(project(tmp_path_factory.mktemp("yaml-bombs"), files))


@pytest.mark.parametrize("name", YAML_BOMBS)
def test_yaml_bombs_and_alias_loops_stay_cheap(yaml_bombs: Run, name: str) -> None:
    path = f"bombs/{name}/docker-compose.yml"
    assert yaml_bombs.warnings_about(path) == []
    assert [code for _, code in yaml_bombs.codes_in(path)] == ["CEL404"]
    assert_rest_checked(yaml_bombs)


def test_10_mb_compose_file(tmp_path: Path) -> None:
    variables = "".join(f"      - VARIABLE_{n}={'v' * 80}\n" for n in range(100_000))
    text = compose_with_worker("    environment:\n" + variables)
    assert len(text.encode()) > 10_000_000
    run = check(project(tmp_path, {"docker-compose.yml": text}))
    assert run.codes_in("docker-compose.yml") == [(4, "CEL404")]
    assert_rest_checked(run)


def test_giant_command_line(tmp_path: Path) -> None:
    # click's parser took minutes over a command of 400,000 words
    text = ("services:\n  worker:\n    image: app\n    command: celery -A proj worker "
            + "-Q default " * 100_000 + "\n")
    run = check(project(tmp_path, {"docker-compose.yml": text}))
    assert run.codes_in("docker-compose.yml") == [(4, "CEL404")]
    assert_rest_checked(run)


def test_100000_deep_yaml_is_skipped_with_a_warning(tmp_path: Path) -> None:
    text = compose_with_worker("    labels: " + "[" * 100_000 + "]" * 100_000 + "\n")
    run = check(project(tmp_path, {"docker-compose.yml": text}))
    [warning] = run.warnings_about("docker-compose.yml")
    assert warning.endswith("skipped")
    assert_rest_checked(run)


# -- malformed deployment files: skipped with a warning -------------------------------------------

MALFORMED = {  # file: (content, how its warning starts)
    "docker-compose.yml": ("services:\n  worker:\n    command: [celery\n  beat: {\n",
                           "malformed YAML (line 4)"),
    "tabs/compose.yaml": ("services:\n\tworker:\n\t\tcommand: celery worker\n",
                          "malformed YAML (line 2)"),
    "nul/docker-compose.yml": ("services:\n  w:\n    command: celery \x00 worker\n",
                               "malformed YAML"),
    "docker-compose.override.yml": ("services:\n  worker: *nowhere\n", "malformed YAML (line 2)"),
    "docker-compose.prod.yml": ("a: &x 1\nb: &x 2\nservices: {}\n", "malformed YAML (line 2)"),
    "k8s/worker.yaml": ("kind: Deployment\nspec: [celery\n", "malformed YAML (line 3)"),
    "deploy/no-section.conf": ("[program:celery\ncommand=celery -A proj worker\n",
                               "malformed INI"),
    "deploy/stray-line.conf": (("[program:celery]\ncommand=celery -A proj worker\n"
                                "  stray continuation\n=x\n"), "malformed INI"),
}
UNREADABLE_COMMANDS = {  # read, but no command in them can be understood: passed over quietly
    "deploy/celery.service": "[Service\nExecStart=/usr/bin/celery -A proj worker \\\n",
    "Dockerfile": 'FROM python\nCMD ["celery", "-A\n',
    "bin/start-worker.sh": "#!/bin/sh\nexec celery -A proj worker '\n",
    "quote/docker-compose.yml": "services:\n  worker:\n    command: celery -A 'proj\n",
}
PROCFILE = ("worker celery -A proj worker\nbeat: celery -A proj beat '\n::::\n\x00\xff\n"
            "web: celery -A proj worker -B\n")  # only the last line can be read: CEL401 there


@pytest.fixture(scope="module")
def malformed_zoo(tmp_path_factory: pytest.TempPathFactory) -> Run:
    files = {name: text for name, (text, _) in MALFORMED.items()}
    root = project(tmp_path_factory.mktemp("malformed"),
                   {**files, **UNREADABLE_COMMANDS, "Procfile": PROCFILE})
    return check(root)


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_deployment_file_is_skipped_with_a_warning(malformed_zoo: Run,
                                                              name: str) -> None:
    [warning] = malformed_zoo.warnings_about(name)
    assert warning.startswith(MALFORMED[name][1]) and warning.endswith("; skipped"), warning
    assert malformed_zoo.codes_in(name) == []
    assert_rest_checked(malformed_zoo)


@pytest.mark.parametrize("name", UNREADABLE_COMMANDS)
def test_unreadable_commands_are_passed_over(malformed_zoo: Run, name: str) -> None:
    assert malformed_zoo.codes_in(name) == []
    assert malformed_zoo.warnings_about(name) == []
    assert_rest_checked(malformed_zoo)


def test_malformed_procfile_lines_are_passed_over(malformed_zoo: Run) -> None:
    assert malformed_zoo.codes_in("Procfile") == [(5, "CEL401")]
    assert_rest_checked(malformed_zoo)


# -- configuration: exit 2 naming the key ---------------------------------------------------------

@pytest.mark.parametrize(("table", "named"), [
    pytest.param('[tool.celery-lint]\nselct = ["CEL1"]\n', "selct", id="unknown-key"),
    pytest.param('[tool.celery-lint]\nselect = "CEL1"\n', "select", id="wrong-type"),
    pytest.param('[tool.celery-lint.per-file-ignores]\n"shop/*.py" = "CEL1"\n',
                 "per-file-ignores", id="wrong-nested-type"),
    pytest.param("[tool.celery-lint]\nfix-time-limits = {soft = -5}\n", "fix-time-limits",
                 id="bad-value"),
    pytest.param("[tool]\ncelery-lint = 3\n", "tool.celery-lint", id="not-a-table"),
    pytest.param("[tool.celery-lint\nselect = []\n", "pyproject.toml", id="invalid-toml"),
])
def test_broken_configuration_exits_2_naming_the_key(
        tmp_path: Path, table: str, named: str) -> None:
    run = check(project(tmp_path, {"pyproject.toml": table}))
    assert run.returncode == 2
    assert named in run.stderr
    assert run.stdout == ""


def test_pyproject_that_is_not_utf_8_exits_2(tmp_path: Path) -> None:
    root = project(tmp_path, {"pyproject.toml": b'[tool.celery-lint]\nselect = ["\xff"]\n'})
    run = check(root)
    assert run.returncode == 2
    assert "pyproject.toml" in run.stderr


@pytest.mark.parametrize(("table", "named"), [
    pytest.param('[tool.celery-lint]\nexclude = ["[z-a]"]\n', "exclude", id="exclude"),
    pytest.param('[tool.celery-lint]\nper-file-ignores = {"[z-a]" = ["CEL1"]}\n',
                 "per-file-ignores", id="per-file-ignores"),
])
def test_invalid_glob_in_configuration_exits_2_naming_the_key(
        tmp_path: Path, table: str, named: str) -> None:
    run = check(project(tmp_path, {"pyproject.toml": table}))
    assert run.returncode == 2
    assert named in run.stderr
    assert "internal error" not in run.stderr


# -- the buffer on stdin --------------------------------------------------------------------------

@pytest.mark.parametrize("content", [
    pytest.param(b"x = 1\x00\n", id="null-byte"),
    pytest.param(b"x = '\xff'\n", id="invalid-utf-8"),
    pytest.param(b"def (:\n", id="syntax-error"),
])
def test_bad_buffer_on_stdin_is_cel001(tmp_path: Path, content: bytes) -> None:
    run = check(project(tmp_path), "--stdin-filename", "shop/buffer.py", stdin=content)
    assert [code for path, _, _, code in run.diagnostics] == ["CEL001"]
    assert run.returncode == 1


# -- everything at once, fixed --------------------------------------------------------------------

def test_fix_over_bad_input_writes_only_what_it_can_read(tmp_path: Path) -> None:
    """`--fix --unsafe-fixes` over a project full of bad input: the files it cannot read or
    parse are left byte for byte; the odd encodings it fixes keep their encoding, BOM and line
    endings."""
    latin = ("# -*- coding: latin-1 -*-\n" + BAD_SOURCE + "# café\n").encode("latin-1")
    windows = b"\xef\xbb\xbf" + BAD_SOURCE.replace("\n", "\r\n").encode()
    untouchable = {
        "shop/syntax.py": b"from shop.tasks import send_invoice\nsend_invoice.delay(1)\ny = (1 +",
        "shop/null.py": b"x = 1\x00\n",
        "shop/binary.py": bytes(range(256)) * 4,
        "shop/deep.py": ("x = " + "(" * 1000 + "1" + ")" * 1000 + "\n").encode(),
        "docker-compose.yml": b"services:\n  worker:\n    command: [celery\n",
    }
    root = project(tmp_path, {**untouchable, "shop/latin.py": latin, "shop/windows.py": windows})
    os.mkfifo(root / "shop" / "pipe.py")
    (root / "shop" / "loop.py").symlink_to("loop.py")

    def digest(name: str) -> str:
        return hashlib.sha256((root / name).read_bytes()).hexdigest()

    before = {name: digest(name) for name in untouchable}
    run = run_cli(root, [sys.executable, "-m", "celery_lint", "check", "--fix", "--unsafe-fixes",
                         "--output-format", "concise", "."])
    assert run.returncode == 1  # the CEL001s remain
    assert {name: digest(name) for name in untouchable} == before
    assert (root / "shop" / "latin.py").read_bytes() == latin.replace(b"(order)", b"(order.pk)")
    assert (root / "shop" / "windows.py").read_bytes() == windows.replace(b"(order)",
                                                                          b"(order.pk)")
    assert (root / "shop" / "services.py").read_text().count("delay(order.pk)") == 1
    assert "internal error" not in run.stderr
