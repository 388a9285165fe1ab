"""Fuzzing: generated and mutated programs inside small Django+Celery projects, in process.

Three sources of input, each placed in a project the rules really look at:
- programs hypothesmith generates from Python's grammar, as a module of their own, appended to
  the project's tasks, settings, Celery app or views;
- Celery-shaped programs (settings, task options, `.delay()` calls, beat schedules, a Procfile)
  whose values are generated expressions (huge and odd numbers, environment reads, containers,
  f-strings...), with `noqa` comments and form feeds here and there;
- the files of `fixtures/` (Python, Procfile, compose, Kubernetes, systemd) after a few random
  mutations: lines deleted, duplicated, swapped or re-indented, the file truncated, tokens or
  bytes inserted (null bytes, CR, tabs, form feeds, invalid UTF-8), numbers replaced, line
  endings changed, a BOM or a coding cookie added.

Every rule runs, the preview ones and the preview parts of rules too. For every input: no
exception escapes `run`, `fix`, `add_noqa`, the formatters or the audit,
and no internal error is reported; every diagnostic and every fix edit lies inside its file and
a diagnostic in a Python file neither starts nor ends inside an identifier; `fix` (safe only,
and with the unsafe fixes) settles, never turns a Python file that parsed into one that does
not, writes the file in its own encoding, and fixing the written result again changes nothing;
`add_noqa` run twice changes nothing the second time; removing unused `noqa` codes (CEL002)
changes comments only.

Profiles (HYPOTHESIS_PROFILE): `ci` (the default) is bounded and derandomized with no example
database, so CI runs the same examples every time; `long` runs thousands of random examples:

    HYPOTHESIS_PROFILE=long python -m pytest tests/test_fuzz.py -q

(FUZZ_MAX_EXAMPLES=N sets the number of examples of each fuzz test.)
"""

from __future__ import annotations

import ast
import itertools
import os
import re
import shutil
import sys
import tempfile
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import hypothesmith
import pytest
from helpers import CELERY_APP, MODELS, TASKS, write_project
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from celery_lint.audit import build_report, render_json, render_table
from celery_lint.config import Config
from celery_lint.diagnostics import END_OF_FILE, Applicability
from celery_lint.fixes import add_noqa, fix, fix_pass, unified_diff, write
from celery_lint.output import FORMATS
from celery_lint.runner import RunResult, load_project, run
from celery_lint.source import SourceFile, split_lines

FIXTURES = Path(__file__).parent.parent / "fixtures"
# odd generated programs make `compile` warn (`1()`: 'int' object is not callable)
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

_SUPPRESSED = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
               HealthCheck.large_base_example]
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, database=None,
                          suppress_health_check=_SUPPRESSED, print_blob=True)
settings.register_profile("long", max_examples=2000, deadline=None, database=None,
                          suppress_health_check=_SUPPRESSED, print_blob=True)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE not in ("ci", "long"):
    PROFILE = "ci"
FUZZ = settings.get_profile(PROFILE)
if os.environ.get("FUZZ_MAX_EXAMPLES", "").isdigit():  # examples per test, for either profile
    FUZZ = settings(FUZZ, max_examples=int(os.environ["FUZZ_MAX_EXAMPLES"]))

# How many inputs each test ran (shrinking included), printed at the end of the module.
COUNTS: Counter[str] = Counter()

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_WORD = re.compile(r"\w")


class _CountsReport:
    """A plugin that prints COUNTS in pytest's terminal summary."""

    @staticmethod
    def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
        if COUNTS:
            summary = ", ".join(f"{name}: {count}" for name, count in sorted(COUNTS.items()))
            terminalreporter.write_line(f"fuzz ({PROFILE} profile) inputs run: {summary}")


@pytest.fixture(scope="module", autouse=True)
def _report_counts(pytestconfig: pytest.Config) -> Iterator[None]:
    if not pytestconfig.pluginmanager.has_plugin("celery-lint-fuzz-counts"):
        pytestconfig.pluginmanager.register(_CountsReport(), "celery-lint-fuzz-counts")
    yield


# -- the properties ------------------------------------------------------------------------------
def python_parses(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def rows_of(text: str) -> list[str]:
    """The rows of `text` as Python, libcst and the fixes count them (the last may be empty)."""
    return _LINE_BREAK.split(text)


# Columns count characters (facts/python.py converts ast's UTF-8 byte offsets; see
# test_settings_columns_count_characters).
AST_BYTE_COLUMNS = False


def _width(line: str) -> int:
    return len(line.encode("utf-8", "surrogatepass")) if AST_BYTE_COLUMNS else len(line)


def check_inside(where: str, text: str | None, path: str, start: tuple[int, int],
                 end: tuple[int, int], words: bool) -> None:
    if text is None:  # a file that could not be decoded: its CEL001 sits at 1:1
        assert start == end == (1, 1), f"{where} of an undecodable file at {start}-{end}"
        return
    rows = rows_of(text)
    lines = len(rows) - 1 if len(rows) > 1 and rows[-1] == "" else len(rows)
    (row, column), (end_row, end_column) = start, end
    assert 1 <= row <= max(lines, 1), f"{where} starts on row {row} of {lines}: {path}"
    assert 1 <= column <= _width(rows[row - 1]) + 1, \
        f"{where} starts at {row}:{column}, line {rows[row - 1]!r}: {path}"
    assert 1 <= end_row <= len(rows), f"{where} ends on row {end_row} of {lines}: {path}"
    assert 1 <= end_column <= _width(rows[end_row - 1]) + 1, \
        f"{where} ends at {end_row}:{end_column}, line {rows[end_row - 1]!r}: {path}"
    assert start <= end, f"{where} starts at {start}, after its end {end}: {path}"
    if words and not (AST_BYTE_COLUMNS and not rows[row - 1].isascii()):
        line, end_line = rows[row - 1], rows[end_row - 1]
        assert not (1 < column <= len(line) and _WORD.match(line[column - 2])
                    and _WORD.match(line[column - 1])), \
            f"{where} starts inside a word at {row}:{column}, line {line!r}: {path}"
        assert not (1 < end_column <= len(end_line) and _WORD.match(end_line[end_column - 2])
                    and _WORD.match(end_line[end_column - 1])), \
            f"{where} ends inside a word at {end_row}:{end_column}, line {end_line!r}: {path}"


def check_ranges(result: RunResult) -> None:
    for d in result.diagnostics:
        source = result.sources.get(d.path)
        text = source.text if source is not None else None
        # Python's own syntax errors may point inside a token (`0O` is an invalid octal literal),
        # and flake8, like celery-lint, reads code CEL101 in a noqa comment's `CEL101x`
        words = d.path.endswith(".py") and d.code not in ("CEL001", "CEL002")
        check_inside(f"{d.code} {d.message!r}", text, d.path, (d.location.row, d.location.column),
                     (d.end_location.row, d.end_location.column), words)
        if d.fix is None:
            continue
        spans = []
        for edit in d.fix.edits:
            if edit.location.row >= END_OF_FILE:  # an append to the end of the file
                assert edit.end_location.row >= END_OF_FILE, (d, edit)
                continue
            check_inside(f"a {d.code} fix edit", text, d.path,
                         (edit.location.row, edit.location.column),
                         (edit.end_location.row, edit.end_location.column), False)
            spans.append((edit.location, edit.end_location))
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end <= start, f"{d.code}: its fix has overlapping edits: {d.fix}"


def same_code(a: str, b: str) -> bool:
    """Whether two Python sources have the same syntax tree (comments and layout aside)."""
    limit = getattr(sys, "get_int_max_str_digits", lambda: None)()
    if limit is not None:
        sys.set_int_max_str_digits(0)  # a tree may hold a huge int literal (0xfff...)
    try:
        return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))
    finally:
        if limit is not None:
            sys.set_int_max_str_digits(limit)


def check_unused_noqa_fixes(result: RunResult) -> None:
    """Removing unused `noqa` codes (CEL002, a safe fix) changes comments only."""
    for path, source in result.sources.items():
        unused = [d for d in result.diagnostics if d.path == path and d.code == "CEL002"
                  and d.fix is not None]
        if not unused or not path.endswith(".py") or not python_parses(source.text):
            continue
        text = fix_pass({path: source}, unused)[0].get(path, source.text)
        assert python_parses(text), f"CEL002 fixes broke {path}:\n{text}"
        assert same_code(text, source.text), \
            f"CEL002 fixes changed the code of {path}:\n{source.text!r}\n->\n{text!r}"


def check_outputs(result: RunResult) -> None:
    for name, render in FORMATS.items():
        assert isinstance(render(result.diagnostics), str), name


def check_audit(root: Path, config: Config) -> None:
    project = load_project([root], config)
    report = build_report(project.index)
    render_json(report)
    render_table(report)


def check_run(paths: list[Path], config: Config) -> RunResult:
    result = run(paths, config)
    assert result.internal_errors == 0, result.warnings
    check_ranges(result)
    check_unused_noqa_fixes(result)
    check_outputs(result)
    return result


def check_fix(files: dict[str, bytes], checked: list[str], unsafe: bool) -> None:
    """Fix a fresh copy of the project; what was written must parse and be fixed for good."""
    with project_dir(files) as root:
        paths = [root / name for name in checked]
        config = Config(root=root, preview=True)
        outcome = fix(paths, config, unsafe)
        assert outcome.result.internal_errors == 0, outcome.result.warnings
        assert not outcome.unsettled, f"fixes did not settle: {outcome.unsettled}"
        check_ranges(outcome.result)
        for path, text in outcome.fixed.items():
            original = outcome.originals[path]
            if path.endswith(".py") and python_parses(original.text):
                assert python_parses(text), f"the fix broke {path}:\n{text}"
            if "\r" not in original.text:
                assert "\r" not in text, f"the fix changed the line endings of {path}"
        diff = unified_diff(outcome)
        assert all(line[:1] in " +-@\\" for line in split_lines(diff)), diff
        assert write(outcome) == []
        for path, text in outcome.fixed.items():
            # written in its own encoding and BOM: reading it back gives the fixed text
            assert SourceFile.from_bytes(path, path, Path(path).read_bytes()).text == text
        again = fix(paths, config, unsafe)
        assert again.result.internal_errors == 0, again.result.warnings
        assert again.fixed == {}, {p: again.applied.get(p) for p in again.fixed}


def check_add_noqa(files: dict[str, bytes], checked: list[str], changed: dict[str, bytes]
                   ) -> None:
    """After `--add-noqa` wrote `changed` (name → content), a second one changes nothing."""
    with project_dir({**files, **changed}) as root:
        paths = [root / name for name in checked]
        again = run(paths, Config(root=root, preview=True))
        assert again.internal_errors == 0, again.warnings
        assert add_noqa(again) == {}, "a second --add-noqa changed the files again"


def noqa_added(root: Path, result: RunResult) -> dict[str, bytes]:
    """What `--add-noqa` writes (name under `root` → content); Python files still parse."""
    written = {}
    for path, text in add_noqa(result).items():
        source = result.sources[path]
        if path.endswith(".py") and python_parses(source.text):
            assert python_parses(text), f"--add-noqa broke {path}:\n{text}"
        data = (b"\xef\xbb\xbf" if source.bom else b"") + text.encode(source.encoding)
        written[Path(path).relative_to(root).as_posix()] = data
    return written


def check_project(files: dict[str, bytes], checked: list[str] | None = None,
                  audit: bool = True) -> None:
    """Every property, on the project `files` (name → content); `checked` limits the files
    linted (the rest is context), default: the whole project."""
    checked = checked or ["."]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarning of odd programs, from `ast.parse`
        with project_dir(files) as root:
            config = Config(root=root, preview=True)
            result = check_run([root / name for name in checked], config)
            if audit:
                check_audit(root, config)
            noqa = noqa_added(root, result)
        fixable = [d for d in result.diagnostics if d.fix is not None and d.fix.edits]
        # seen with --hypothesis-show-statistics
        event(f"diagnostics: {'yes' if result.diagnostics else 'none'}, fixes: "
              f"{'yes' if fixable else 'none'}, noqa added: {'yes' if noqa else 'no'}")
        if fixable:
            check_fix(files, checked, unsafe=True)
            if any(d.fix.applicability is Applicability.UNSAFE for d in fixable  # type: ignore
                   ) and any(d.fix.applicability is Applicability.SAFE  # type: ignore[union-attr]
                             for d in fixable):
                check_fix(files, checked, unsafe=False)
        if noqa:
            check_add_noqa(files, checked, noqa)


class project_dir:
    """`files` written into a fresh temporary folder, removed afterwards."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    def __enter__(self) -> Path:
        self.root = Path(tempfile.mkdtemp(prefix="celery-lint-fuzz-"))
        for name, data in self.files.items():
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return self.root

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def as_bytes(files: dict[str, str]) -> dict[str, bytes]:
    """A helpers-style project (dedented text, `__init__.py` in every folder) as bytes."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_project(root, files)
        return {p.relative_to(root).as_posix(): p.read_bytes()
                for p in sorted(root.rglob("*")) if p.is_file()}


# -- (a) programs generated from the grammar --------------------------------------------------
VIEWS = """
    from django.db import transaction

    from proj.models import Order
    from proj.tasks import send_invoice


    def ship(request, pk):
        order = Order.objects.get(pk=pk)
        with transaction.atomic():
            order.save()
            send_invoice.delay(order)
        return send_invoice.delay(order.pk).get()
"""
PROCFILE = "worker: celery -A proj worker -B -Q celery\nbeat: celery -A proj beat\n"
BASE = as_bytes({**CELERY_APP, "proj/models.py": MODELS, "proj/tasks.py": TASKS,
                 "proj/views.py": VIEWS, "Procfile": PROCFILE})
# where a generated program goes: alone as the module, or after the module's own code
PLACES = ["proj/generated.py", "proj/tasks.py", "proj/settings.py", "proj/celery.py",
          "proj/views.py"]
# a line that makes phase 2 read a module of its own (it imports a task)
IMPORT_A_TASK = "from proj.tasks import send_invoice\n"


def place(program: str, where: str, after: bool) -> dict[str, bytes]:
    files = dict(BASE)
    text = program
    if after:
        before = BASE[where].decode() if where in BASE else IMPORT_A_TASK
        combined = before + ("" if before.endswith("\n") else "\n") + program
        if python_parses(combined):  # a `from __future__` import must come first
            text = combined
    files[where] = text.encode("utf-8", "surrogatepass")
    return files


@FUZZ
@given(program=st.one_of(hypothesmith.from_grammar(), hypothesmith.from_node()),
       where=st.sampled_from(PLACES), after=st.booleans())
def test_generated_programs(program: str, where: str, after: bool) -> None:
    COUNTS["generated programs"] += 1
    check_project(place(program, where, after))


# -- Celery-shaped programs: the places rules read, filled with generated values -------------
_SCALARS = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["0", "-1", "1", "4", "300", "240", "10**6", "2**64", "(2**64)**64",
                     "((2**64)**64)**64", "1e999", "-1e999", "1e-999",
                     "float('nan')", "float('inf')", "True", "False", "None", "...", "b'x'",
                     "1j", "'pickle'", "'json'", "'yaml'", "'redis://u:p@h:6379/0'",
                     "'amqp://guest:guest@localhost//'", "'sqs://'", "'django-db'",
                     "'django-cache'", "'UTC'", "'Europe/Paris'", "'*/5'", "'1-5'", "'mon-fri'",
                     "'60/m'", "'proj.tasks.send_invoice'", "'celery'", "'payments'", "''",
                     "'%s'", "'{}'", "'\\x00'", "'\\udcff'", "'é' * 3", "'[1, 2]'", "'{\"a\": 1}'",
                     "Exception", "BaseException", "(Exception,)", "ValueError",
                     "crontab(minute='*/5')", "timedelta(seconds=30)", "lambda: 1", "order",
                     "order.pk", "request", "Order.objects.all()", "{1, 2}", "open('f')", "os",
                     "env('CELERY_X')", "env.int('CELERY_X', default=4)",
                     "os.environ.get('X', '4')", "os.environ['X']", "os.getenv('X') or 1",
                     "config('X', default=4, cast=int)", "env.bool('X', True)",
                     "CELERY_TASK_TIME_LIMIT", "CELERY_TASK_SOFT_TIME_LIMIT", "UNDEFINED"]),
    st.text(max_size=12).map(repr),
    st.floats().map(lambda f: f"float({str(f)!r})"),
    st.builds(lambda: "0x" + "f" * 4000),  # an int too long for str() (builds: a short repr)
)


def _expressions() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        pair = st.tuples(inner, inner)
        return st.one_of(
            st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
            st.lists(inner, max_size=4).map(lambda xs: "(" + ", ".join(xs) + ",)"),
            st.lists(st.tuples(_SCALARS, inner), max_size=3).map(
                lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"),
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "//", "%", "**", " or ",
                                              " and ", " if True else ", " == ", " in ", "|"]),
                      inner).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
            st.tuples(st.sampled_from(["-", "not ", "~", "+"]), inner).map("".join),
            pair.map(lambda t: f"f'{{{t[0]}}}{{{t[1]}!r}}'"),
            st.tuples(st.sampled_from(["int", "float", "bool", "str", "list", "tuple", "dict",
                                       "env", "env.bool", "env.list", "os.getenv",
                                       "os.environ.get", "config", "crontab", "len"]),
                      st.lists(inner, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
            st.tuples(inner, st.sampled_from(["lower", "upper", "split", "strip", "pk", "id"])
                      ).map(lambda t: f"({t[0]}).{t[1]}()"),
            pair.map(lambda t: f"({t[0]})[{t[1]}]"),
        )

    # (hypothesmith's `from_grammar("eval_input")` would be broader, but it discards most of
    # what it draws: about 4 s an expression)
    return st.recursive(_SCALARS, extend, max_leaves=6)


EXPRESSION = _expressions()
SETTINGS_NAMES = [
    "CELERY_TASK_TIME_LIMIT", "CELERY_TASK_SOFT_TIME_LIMIT", "CELERY_TASK_ACKS_LATE",
    "CELERY_WORKER_PREFETCH_MULTIPLIER", "CELERY_TASK_SERIALIZER", "CELERY_ACCEPT_CONTENT",
    "CELERY_RESULT_SERIALIZER", "CELERY_RESULT_ACCEPT_CONTENT", "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND", "CELERY_RESULT_EXPIRES", "CELERY_TIMEZONE", "TIME_ZONE", "USE_TZ",
    "CELERY_ENABLE_UTC", "CELERY_TASK_ALWAYS_EAGER", "CELERY_TASK_ROUTES", "CELERY_TASK_QUEUES",
    "CELERY_BEAT_SCHEDULE", "CELERY_BROKER_TRANSPORT_OPTIONS", "INSTALLED_APPS",
    "CELERY_TASK_REJECT_ON_WORKER_LOST", "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP",
    "CELERY_TASK_DEFAULT_QUEUE", "CELERYD_PREFETCH_MULTIPLIER", "CELERY_TASK_ACK_LATE",
    "BROKER_URL", "CELERY_BEAT_SCHEDULER", "CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS",
    "CELERY_TASK_ANNOTATIONS", "DATABASES", "CACHES", "ATOMIC_REQUESTS", "CELERY_IMPORTS",
]
# a statement before an assignment on its line, whose characters are wider in UTF-8 than one
PREFIXES = ["", "", "", "_ = 'éé'; ", "_ = '😀😀😀😀'; ", "\t", "if True: "]


@st.composite
def settings_module(draw: st.DrawFn) -> str:
    lines = ["import os", "from datetime import timedelta", "from celery.schedules import crontab",
             "import environ", "env = environ.Env()"]
    for _ in range(draw(st.integers(1, 8))):
        name = draw(st.sampled_from(SETTINGS_NAMES))
        value = draw(EXPRESSION)
        prefix = draw(st.sampled_from(PREFIXES))
        shape = draw(st.sampled_from(["=", "=", "=", "+=", "append", "update", "item", "if",
                                      "beat", "annotated"]))
        if shape == "=":
            lines.append(f"{prefix}{name} = {value}")
        elif shape == "+=":
            lines.append(f"{prefix}{name} += {value}")
        elif shape in ("append", "update"):
            lines.append(f"{prefix}{name}.{shape}({value})")
        elif shape == "item":
            lines.append(f"{prefix}{name}[{draw(EXPRESSION)}] = {value}")
        elif shape == "annotated":
            lines.append(f"{prefix}{name}: int = {value}")
        elif shape == "if":
            lines.append(f"if {draw(EXPRESSION)}:\n    {name} = {value}\nelse:\n    {name} = 1")
        else:
            lines.append(
                f"{prefix}CELERY_BEAT_SCHEDULE = {{'job': {{'task': {draw(EXPRESSION)}, "
                f"'schedule': crontab(minute={value}, hour={draw(EXPRESSION)}), "
                f"'args': {draw(EXPRESSION)}, 'options': {{'expires': {draw(EXPRESSION)}}}}}}}")
    return "\n".join(lines) + "\n"


TASK_OPTIONS = ["bind", "max_retries", "soft_time_limit", "time_limit", "autoretry_for", "queue",
                "name", "acks_late", "ignore_result", "retry_backoff", "rate_limit", "base",
                "default_retry_delay", "retry_kwargs", "expires", "serializer"]
PARAMETERS = ["", "self", "self, order_id", "order: Order", "*args, **kwargs",
              "self, x=1, *, y", "order_id, /, tags=None", "self, order: 'Order'"]
TASK_LINES = ["self.retry(countdown={e})", "raise self.retry(exc={e})", "return {e}",
              "x = self.request.id", "send_invoice.delay({e}).get()", "Order.objects.create()",
              "try:\n        pass\n    except Exception:\n        pass",
              "try:\n        x = {e}\n    except:\n        return None",
              "requests.post({e}, timeout=10)", "with transaction.atomic():\n        {e}",
              "send_mail({e})", "Order.objects.filter(pk={e}).update(status={e})",
              "self.retry(exc={e}, max_retries={e})", "result = chord([ping.s()])(ping.s())"]
CALL_LINES = ["send_invoice.delay({a})", "send_invoice.apply_async(args={e}, kwargs={e})",
              "send_invoice.apply_async(({a},), countdown={e}, queue={e})",
              "send_invoice.apply_async(eta={e}, expires={e})", "job.s({a}).delay()",
              "app.send_task({e}, args={e})", "with transaction.atomic():\n        order.save()\n        job.delay({a})",
              "chord([job.s({a})])(send_invoice.s())", "send_invoice({a})", "job.delay({a}).get()",
              "group(job.si({a}) for _ in range(3)).apply_async()",
              "signature({e}, args={e}).delay()", "transaction.on_commit(lambda: job.delay({a}))",
              "PeriodicTask.objects.create(name='x', task={e}, args={e}, kwargs={e})",
              "app.add_periodic_task({e}, job.s({a}))", "job.delay(*{e}, **{e})"]
ARGUMENTS = ["order", "order.pk", "request", "Order.objects.all()", "{1, 2}", "lambda: 1",
             "open('f')", "os", "(x for x in [])", "request.user", "order_id=order",
             "order_id={e}", "*{e}", "**{e}", "{e}"]


def _fill(draw: st.DrawFn, template: str) -> str:
    while "{a}" in template:
        count = draw(st.integers(0, 3))
        args = ", ".join(draw(st.sampled_from(ARGUMENTS)) for _ in range(count))
        template = template.replace("{a}", args, 1)
    while "{e}" in template:
        template = template.replace("{e}", draw(EXPRESSION).replace("\n", " "), 1)
    return template


@st.composite
def tasks_module(draw: st.DrawFn) -> str:
    options = draw(st.lists(st.sampled_from(TASK_OPTIONS), max_size=5, unique=True))
    decorator = draw(st.sampled_from(["shared_task", "app.task", "shared_task()"]))
    arguments = ", ".join(f"{o}={draw(EXPRESSION)}" for o in options)
    if options:
        decorator = decorator.removesuffix("()") + f"({arguments})"
    params = draw(st.sampled_from(PARAMETERS))
    body = [_fill(draw, line) for line in draw(st.lists(st.sampled_from(TASK_LINES), max_size=4))]
    prefix = draw(st.sampled_from(["", "async ", "", ""]))
    return (
        "import requests\nfrom celery import chord, shared_task\n"
        "from django.core.mail import send_mail\nfrom django.db import transaction\n\n"
        "from proj.celery import app\nfrom proj.models import Order\n\n\n"
        "@shared_task\ndef send_invoice(order_id):\n    return order_id\n\n\n"
        "@shared_task\ndef ping():\n    return None\n\n\n"
        f"@{decorator}\n{prefix}def job({params}):\n"
        + "".join(f"    {line}\n" for line in body) + "    return None\n"
    )


@st.composite
def views_module(draw: st.DrawFn) -> str:
    calls = [_fill(draw, line) for line in draw(st.lists(st.sampled_from(CALL_LINES),
                                                         min_size=1, max_size=4))]
    decorator = draw(st.sampled_from(["", "@transaction.atomic\n"]))
    return (
        "import os\n\nfrom celery import chord, group, signature\nfrom django.db import "
        "transaction\nfrom django_celery_beat.models import PeriodicTask\n\n"
        "from proj.celery import app\nfrom proj.models import Order\n"
        "from proj.tasks import job, send_invoice\n\n\n"
        f"{decorator}def ship(request, pk):\n    order = Order.objects.get(pk=pk)\n"
        + "".join(f"    {line}\n" for line in calls) + "    return None\n"
    )


WORKER_OPTIONS = ["-B", "--beat", "-Q celery", "-Q payments,celery", "-Q $QUEUES", "-E",
                  "--concurrency=4", "-l info", "--pool=solo", "-A", "--queues=", "-Q ''",
                  "--autoscale=10,3", "-O fair", "--without-heartbeat", "-n w1@%h", "--", "\\"]


@st.composite
def procfile(draw: st.DrawFn) -> str:
    lines = []
    for number in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["worker", "beat", "flower", "events", "multi start w1"]))
        options = " ".join(draw(st.lists(st.sampled_from(WORKER_OPTIONS), max_size=4)))
        wrapper = draw(st.sampled_from(["", "exec ", "newrelic-admin run-program ", "sh -c '"]))
        line = f"p{number}: {wrapper}celery -A proj {kind} {options}"
        lines.append(line + ("'" if wrapper.startswith("sh") else ""))
    return "\n".join(lines) + "\n"


COMMENTS = ["", "", "", "", "", "  # noqa: CEL101", "  # noqa: CEL201, CEL301", "  # noqa",
            "  # noqa:CEL999", "  # page break\x0c", "  # noqa: CEL002", "  # noqa: CEL306"]


@st.composite
def with_comments(draw: st.DrawFn, text: str) -> str:
    """`text` with `noqa` comments ending some lines, and form feeds starting some."""
    lines = text.split("\n")
    for number, line in enumerate(lines):
        if line.strip():
            feed = draw(st.sampled_from(["", "", "", "", "", "", "", "\x0c"]))
            lines[number] = feed + line + draw(st.sampled_from(COMMENTS))
    return "\n".join(lines)


@FUZZ
@given(settings_text=st.one_of(st.none(), settings_module().flatmap(with_comments)),
       tasks_text=st.one_of(st.none(), tasks_module().flatmap(with_comments)),
       views_text=st.one_of(st.none(), views_module().flatmap(with_comments)),
       procfile_text=st.one_of(st.none(), procfile()))
def test_celery_shaped_programs(settings_text: str | None, tasks_text: str | None,
                                views_text: str | None, procfile_text: str | None) -> None:
    COUNTS["celery-shaped programs"] += 1
    files = dict(BASE)
    for name, text in (("proj/settings.py", settings_text), ("proj/tasks.py", tasks_text),
                       ("proj/views.py", views_text), ("Procfile", procfile_text)):
        if text is not None:
            files[name] = text.encode("utf-8", "surrogatepass")
    check_project(files)


# -- (b) mutated fixtures ---------------------------------------------------------------------
# Parts of the fixture projects, small enough to read for every example; each keeps the
# fixture's Celery app, settings and deployment files, so the mutated file has its context.
CONTEXTS = {
    "shop-orders": ("shop", ["manage.py", "config", "orders", "Procfile",
                             "docker-compose.prod.yml", "docker-compose.dev.yml", "deploy"]),
    "shop-notifications": ("shop", ["manage.py", "config", "notifications", "accounts",
                                    "reports"]),
    "clean": ("clean", ["manage.py", "config", "billing", "newsletter", "core", "users",
                        "docker-compose.yml"]),
    "celeryconfig": ("celeryconfig", ["pyproject.toml", "proj"]),
}


def _read_context(fixture: str, parts: list[str]) -> dict[str, bytes]:
    files = {}
    for part in parts:
        path = FIXTURES / fixture / part
        found = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in found:
            if file.is_file() and "__pycache__" not in file.parts:
                files[file.relative_to(FIXTURES / fixture).as_posix()] = file.read_bytes()
    return files


PROJECTS = {name: _read_context(fixture, parts) for name, (fixture, parts) in CONTEXTS.items()}
# the files rules say most about (and fix) are drawn four times as often as the others
TARGETS = [(context, name) for context, files in PROJECTS.items() for name in files
           if name.endswith((".py", ".yml", ".yaml", ".service")) or name == "Procfile"
           for _ in range(4 if re.search(r"tasks|views|settings|celery|Procfile|yml|yaml", name)
                          else 1)]
# the files the audit reads: settings, the Celery app and deployment files
AUDITED = {context: {name for name in files if "settings" in name or "celery" in name
                     or not name.endswith(".py")}
           for context, files in PROJECTS.items()}

TOKENS = [b"(", b")", b"[", b"]", b"{", b"}", b":", b",", b"\\", b"'", b'"', b'"""', b"'''",
          b"#", b"# noqa", b"  # noqa: CEL101", b"  # noqa: CEL201, CEL999", b"# celery-lint: noqa",
          b"\x00", b"\r", b"\r\n", b"\n", b"\t", b"\x0c", b"\x0b", b"\x1c", b"\xff", b"\x80",
          b"\xc3", b"\xef\xbb\xbf", "\u2028".encode(), "\x85".encode(), "é".encode(),
          '"😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀"; '.encode(), "é = 1; ".encode(),
          b"lambda: ", b"yield ", b"await ", b"async ", b"def ", b"class ", b"return ", b"pass",
          b"@shared_task\n", b"@app.task(bind=True)\n", b".delay(", b".apply_async(",
          b"self.retry()", b"raise ", b"*", b"**", b"=", b" if ", b" else ", b"None", b"True",
          b"False", b"0", b"-1", b"1e999", b"10**100", b"0x" + b"f" * 4000, b"f'{", b"$", b"`",
          b"; ", b"import os\n", b"from .base import *\n", b"from . import *\n",
          b"with transaction.atomic():\n", b"- ", b"<<: *", b"&a ", b"*a", b"!!python/object ",
          b"---\n", b"replicas: 5\n", b"command: celery -A proj beat\n", b"%", b"-B", b" --beat",
          b"-Q $QUEUES", b"celery -A config worker -B", b"sh -c '", b"ExecStart=", b"Restart=no",
          b"[Service]\n", b"numprocs=3", b"${", b"{{ .Values.x }}", b"    ", b" " * 200,
          b"(" * 120, b"[" * 120, b"not " * 50, b"-" * 60]


@st.composite
def mutation(draw: st.DrawFn, data: bytes) -> tuple[str, bytes]:
    """One mutation of `data`: a description and the result."""
    lines = data.splitlines(keepends=True) or [b""]
    line = st.integers(0, len(lines) - 1)
    offset = st.integers(0, len(data))
    kind = draw(st.sampled_from(["delete", "duplicate", "swap", "truncate", "token", "token",
                                 "token", "bytes", "indent", "endings", "start", "number",
                                 "cut"]))
    if kind == "delete":
        i = draw(line)
        return f"delete line {i + 1}", b"".join(lines[:i] + lines[i + 1:])
    if kind == "duplicate":
        i = draw(line)
        return f"duplicate line {i + 1}", b"".join(lines[:i + 1] + lines[i:])
    if kind == "swap":
        i, j = draw(line), draw(line)
        lines[i], lines[j] = lines[j], lines[i]
        return f"swap lines {i + 1} and {j + 1}", b"".join(lines)
    if kind == "truncate":
        at = draw(offset)
        return f"truncate at {at}", data[:at]
    if kind == "cut":
        at, length = draw(offset), draw(st.integers(1, 40))
        return f"cut {length} bytes at {at}", data[:at] + data[at + length:]
    if kind in ("token", "bytes"):
        at = draw(offset)
        token = draw(st.sampled_from(TOKENS) if kind == "token" else st.binary(min_size=1,
                                                                          max_size=8))
        return f"insert {token[:20]!r} at {at}", data[:at] + token + data[at:]
    if kind == "indent":
        i = draw(line)
        body = lines[i].lstrip(b" \t")
        indent = draw(st.sampled_from([b"", b" ", b"  ", b"    ", b"\t", b" \t", b"        "]))
        lines[i] = indent + body
        return f"indent line {i + 1} with {indent!r}", b"".join(lines)
    if kind == "endings":
        ending = draw(st.sampled_from([b"\r\n", b"\r", b"\n"]))
        return f"line endings {ending!r}", re.sub(rb"\r\n|\r|\n", ending, data)
    if kind == "start":
        head = draw(st.sampled_from([b"\xef\xbb\xbf", b"# -*- coding: latin-1 -*-\n",
                                     b"# coding: utf-16\n", b"# coding: nonsense\n",
                                     b"# celery-lint: noqa\n", b"\n\n\n", b"#!/bin/sh\n"]))
        return f"start with {head!r}", head + data
    numbers = list(re.finditer(rb"\d+", data))
    if not numbers:
        return "no number to replace", data
    match = draw(st.sampled_from(numbers))
    value = draw(st.sampled_from([b"0", b"1", b"-1", b"99999999999999999999", b"1e999", b"0.5",
                                  b"2**64", b"x"]))
    return f"replace {match.group()!r} at {match.start()} with {value!r}", \
        data[:match.start()] + value + data[match.end():]


@st.composite
def mutated_file(draw: st.DrawFn) -> tuple[str, str, list[str], bytes]:
    context, name = draw(st.sampled_from(TARGETS))
    data = PROJECTS[context][name]
    done = []
    for _ in range(draw(st.integers(1, 4))):
        description, data = draw(mutation(data))
        done.append(description)
    return context, name, done, data


@FUZZ
@given(mutated_file())
def test_mutated_fixtures(case: tuple[str, str, list[str], bytes]) -> None:
    context, name, _, data = case
    COUNTS["mutated files"] += 1
    files = {**PROJECTS[context], name: data}
    if name.endswith(".py"):
        parses = python_parses(data.decode("utf-8", "replace"))
        event(f"the mutated Python file {'parses' if parses else 'does not parse'}")
    # only the mutated file is checked (the rest is its context), and the audit reads the
    # project when the mutated file can change it
    check_project(files, [name], audit=name in AUDITED[context])


# -- the properties themselves ------------------------------------------------------------------
def test_the_checks_see_a_range_outside_the_file() -> None:
    text = "x = 1\n"
    for start, end in (((2, 1), (2, 1)), ((1, 7), (1, 7)), ((1, 3), (1, 2)), ((1, 1), (3, 1))):
        with pytest.raises(AssertionError):
            check_inside("d", text, "f.py", start, end, True)
    with pytest.raises(AssertionError, match="inside a word"):
        check_inside("d", "value = 1\n", "f.py", (1, 3), (1, 6), True)
    check_inside("d", text, "f.py", (1, 1), (2, 1), True)  # an end at the end of the file
    check_inside("d", "", "f.py", (1, 1), (1, 1), True)


def test_the_fixture_projects_are_linted_and_fixed() -> None:
    """The unmutated contexts: diagnostics and fixes exist, so the properties are exercised."""
    with project_dir(PROJECTS["shop-orders"]) as root:
        result = run([root], Config(root=root, preview=True))
    assert {"CEL101", "CEL201", "CEL401"} <= {d.code for d in result.diagnostics}
    assert any(d.fix is not None for d in result.diagnostics)
    with project_dir(BASE) as root:
        result = run([root], Config(root=root, preview=True))
    codes = {d.code for d in result.diagnostics}
    assert {"CEL101", "CEL102", "CEL103", "CEL301", "CEL401"} <= codes



# -- bugs the fuzzing found, one example each -------------------------------------------------
def _lint(files: dict[str, bytes], checked: str, unsafe: bool | None = None
          ) -> tuple[RunResult, dict[str, str]]:
    """The diagnostics of one file of the project (and, with `unsafe` given, its fixed text)."""
    with project_dir(files) as root:
        config = Config(root=root, preview=True)
        result = run([root / checked], config)
        fixed = {} if unsafe is None else fix([root / checked], config, unsafe).fixed
        return result, {Path(p).relative_to(root).as_posix(): t for p, t in fixed.items()}


def test_unused_noqa_fix_after_a_form_feed_keeps_the_code() -> None:
    # SourceFile.lines split at the form feed too, so the CEL002 fix took row 4 for a comment on
    # a line of its own and deleted `y = send_invoice.delay(2)`
    views = (b"from proj.tasks import send_invoice\n\nx = 1  # page break\x0c\n"
             b"y = send_invoice.delay(2)  # noqa: CEL101\nprint(y)\n")
    result, fixed = _lint({**BASE, "proj/views.py": views}, "proj/views.py", unsafe=False)
    assert [(d.code, d.location.row, d.location.column) for d in result.diagnostics] == [
        ("CEL002", 4, 28)]
    assert fixed == {"proj/views.py": views.decode().replace("  # noqa: CEL101", "")}


def test_positions_after_a_form_feed_in_an_indentation() -> None:
    # libcst repeats a form feed that starts a block's first line on every line of the block (and
    # drops one before a module-level statement), so its columns were one off: the CEL101 fix
    # wrote `.delay(order).pk`, then `.pk.pk`, ten passes long
    views = (b"from proj.models import Order\nfrom proj.tasks import send_invoice\n\n\n"
             b"def ship(request, pk):\n\x0c    order = Order.objects.get(pk=pk)\n"
             b"    send_invoice.delay(order)\n\x0csend_invoice.delay(Order.objects.get())\n")
    result, fixed = _lint({**BASE, "proj/views.py": views}, "proj/views.py", unsafe=True)
    assert [(d.code, d.location.row, d.location.column, d.end_location.column)
            for d in result.diagnostics] == [("CEL101", 7, 24, 29), ("CEL101", 8, 21, 40)]
    assert fixed == {"proj/views.py": views.decode().replace("(order)", "(order.pk)")}


DOCSTRING_SETTINGS = b'''"""
Django settings for proj.
"""
CELERY_BROKER_URL = "redis://localhost:6379/0"
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
'''


def test_add_noqa_does_not_write_into_a_docstring() -> None:
    # a missing setting sits at row 1, which opens the docstring here: the comment went into the
    # string (changing it, suppressing nothing), and each --add-noqa added one more
    files = {**BASE, "proj/settings.py": DOCSTRING_SETTINGS}
    with project_dir(files) as root:
        result = run([root / "proj/settings.py"], Config(root=root, preview=True))
        assert {(d.code, d.location.row) for d in result.diagnostics} >= {
            ("CEL301", 1), ("CEL302", 5)}
        changed = add_noqa(result)
    assert list(changed.values()) == [DOCSTRING_SETTINGS.decode().replace(
        "MULTIPLIER = 4\n", "MULTIPLIER = 4  # noqa: CEL302\n")]


@pytest.mark.xfail(strict=True, reason=(
    "runner._apply_noqa matches a `# noqa` on the diagnostic's row only; as in ruff, a row "
    "inside a string that goes on over several lines should take the directive on the line "
    "the string ends (and fixes.add_noqa should write it there)"))
def test_noqa_after_a_docstring_suppresses_what_sits_on_its_first_row() -> None:
    settings_text = DOCSTRING_SETTINGS.replace(b'"""\nCELERY',
                                               b'"""  # noqa: CEL301, CEL303\nCELERY')
    result, _ = _lint({**BASE, "proj/settings.py": settings_text}, "proj/settings.py")
    assert {d.code for d in result.diagnostics} == {"CEL302"}


def test_a_command_goes_on_over_other_lines_its_range_ends_on_its_own() -> None:
    # Kubernetes `args:` on the line after `command:`: CEL401 ended at the column of the whole
    # command line's length, past the end of the line
    manifest = b"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: worker
          command: ["celery", "-A", "proj", "worker"]
          args: ["-B", "-l", "info", "--concurrency", "8"]
"""
    result, _ = _lint({**BASE, "Procfile": b"", "k8s/worker.yaml": manifest}, "k8s/worker.yaml")
    [(start, end)] = [(d.location, d.end_location) for d in result.diagnostics
                      if d.code == "CEL401"]
    assert (start.row, start.column, end.row, end.column) == (11, 20, 11, 54)


def test_rows_of_a_deployment_file_with_a_form_feed() -> None:
    # deployment files were split into rows with str.splitlines, which also breaks at form feeds
    procfile = b"# the web and worker dynos\x0c\nworker: celery -A proj worker -B\n"
    result, _ = _lint({**BASE, "Procfile": procfile}, "Procfile")
    assert [(d.code, d.location.row) for d in result.diagnostics] == [("CEL401", 2)]


def test_diff_and_full_output_of_a_file_with_a_form_feed() -> None:
    views = (b"from proj.tasks import send_invoice\n\nx = 1  # page break\x0c\n"
             b"y = send_invoice.delay(2)  # noqa: CEL101\n")
    with project_dir({**BASE, "proj/views.py": views}) as root:
        config = Config(root=root, preview=True)
        result = run([root / "proj/views.py"], config)
        shown = FORMATS["full"](result.diagnostics)
        diff = unified_diff(fix([root / "proj/views.py"], config, False))
    assert "4 | y = send_invoice.delay(2)  # noqa: CEL101\n" in shown
    assert " x = 1  # page break\x0c\n-y = send_invoice.delay(2)  # noqa: CEL101\n" \
           "+y = send_invoice.delay(2)\n" in diff


def test_settings_columns_count_characters() -> None:
    settings_text = ('CELERY_BROKER_URL = "redis://localhost:6379/0"\n'
                     '_ = "éé"; CELERY_WORKER_PREFETCH_MULTIPLIER = 4\n').encode()
    result, _ = _lint({**BASE, "proj/settings.py": settings_text}, "proj/settings.py")
    [cel302] = [d for d in result.diagnostics if d.code == "CEL302"]
    assert (cel302.location.column, cel302.end_location.column) == (11, 44)


def test_no_settings_fix_for_an_app_configured_in_code_only() -> None:
    # `app = Celery("proj")` with no config_from_object: the settings fixes appended
    # `task_acks_late = True` to the app's module, which Celery does not read, so the next pass
    # appended it again, ten times
    celery_module = b'from celery import Celery\n\napp = Celery("proj")'
    files = {**PROJECTS["celeryconfig"], "proj/celery.py": celery_module}
    result, fixed = _lint(files, "proj/celery.py", unsafe=True)
    assert {d.code for d in result.diagnostics} >= {"CEL301", "CEL302", "CEL303"}
    assert all(d.fix is None for d in result.diagnostics) and fixed == {}


def test_noqa_comments_of_a_file_with_old_mac_line_endings() -> None:
    # tokenize's lines end at \n only, so every comment of a file with \r line endings was found
    # on row 1: an unused noqa's fix then indexed past the end of row 1 (an internal error), and
    # no noqa comment suppressed anything
    views = (b"from proj.models import Order\nfrom proj.tasks import send_invoice\n\n\n"
             b"def ship(request, pk):\n    order = Order.objects.get(pk=pk)\n"
             b"    send_invoice.delay(order)  # noqa: CEL101\n"
             b"    send_invoice.delay(order.pk)  # noqa: CEL101\n")
    found = {}
    for ending in (b"\n", b"\r", b"\r\n"):
        files = {**BASE, "proj/views.py": views.replace(b"\n", ending)}
        result, _ = _lint(files, "proj/views.py")
        assert result.internal_errors == 0, result.warnings
        found[ending] = [(d.code, d.location.row, d.location.column) for d in result.diagnostics]
    assert found[b"\n"] == found[b"\r"] == found[b"\r\n"] == [("CEL002", 8, 35)]
    unsuppressed = {**BASE, "proj/views.py": views.replace(b"  # noqa: CEL101", b"")
                    .replace(b"\n", b"\r")}
    with project_dir(unsuppressed) as root:
        [text] = add_noqa(run([root / "proj/views.py"], Config(root=root, preview=True))).values()
    assert text.split("\r")[6] == "    send_invoice.delay(order)  # noqa: CEL101"


# an int literal Python parses but will not print: str() and repr() raise ValueError past 4300
# digits (this one has 4816)
HUGE = "0x" + "f" * 4000


@pytest.mark.parametrize("name, text", [
    # the settings evaluator joined it into an f-string (phase 1: the exception escaped `run`)
    ("proj/settings.py", (f"CELERY_BROKER_URL = f'redis://{{{HUGE}}}'\n"
                          f"CELERY_WORKER_PREFETCH_MULTIPLIER = {HUGE}\n"
                          f"CELERY_TASK_TIME_LIMIT = 300\nCELERY_TASK_TIME_LIMIT *= {HUGE}\n")),
    # the side effects of a task looked for an Idempotency-Key with str() of every dict key
    ("proj/tasks.py", ("from celery import shared_task\n\n\n@shared_task\n"
                       f"def send_invoice(x):\n    headers = {{{HUGE}: 1}}\n"
                       "    return send_invoice.delay(x).get()\n")),
    # replicas printed in CEL402's message and the audit (an internal error; the audit crashed)
    ("docker-compose.yml", ("services:\n  beat:\n    image: proj\n"
                            "    command: celery -A proj worker -B\n"
                            f"    deploy:\n      replicas: {HUGE}\n")),
])
def test_an_int_too_long_to_print(name: str, text: str) -> None:
    with project_dir({**BASE, name: text.encode()}) as root:
        result = run([root], Config(root=root, preview=True))
        assert result.internal_errors == 0, result.warnings
        assert name in {Path(d.path).relative_to(root).as_posix() for d in result.diagnostics}
        check_outputs(result)
        check_audit(root, Config(root=root, preview=True))


def test_a_compose_command_in_a_block_scalar() -> None:
    # `command: >` puts the text on the next line; its diagnostics took the column of the `>`
    compose = (b"services:\n  worker:\n    image: proj\n    restart: always\n    command: >\n"
               b"      celery -A proj worker -B\n")
    result, _ = _lint({**BASE, "Procfile": b"", "docker-compose.yml": compose},
                      "docker-compose.yml")
    assert [(d.code, d.location.row, d.location.column, d.end_location.column)
            for d in result.diagnostics] == [("CEL401", 6, 7, 31)]
