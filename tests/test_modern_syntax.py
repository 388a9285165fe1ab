"""Python newer than the interpreter running the linter (issue 15.1), and template folders (15.4).

A project whose celery, settings, models, tasks and views modules use each construct of Python
3.11 to 3.14 gives exactly the diagnostics of its twin written in older syntax, line for line, on
whatever interpreter runs the tests. `.ci/run` runs the tests marked `modern_syntax` again on the
oldest and the newest interpreter it finds, so the fallback (on an interpreter that does not know
a construct) and the native path (on one that does) are both held to the same answers.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
from helpers import CELERY_APP, MODELS, lint, run_project

from celery_lint.facts import syntax
from celery_lint.facts.python import read_python_facts
from celery_lint.facts.syntax import is_template, parse_python, template_folder

pytestmark = pytest.mark.modern_syntax

# Each module holds at least one construct of Python 3.14 (a t-string or `except A, B:`), so that
# even the newest interpreter available reads it through the fallback.
MODERN = {
    "manage.py": "",
    "proj/celery.py": """
        import os
        from celery import Celery

        type AppName = str

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
        app = Celery(t"proj")
        app.config_from_object("django.conf:settings", namespace="CELERY")
        app.autodiscover_tasks()
    """,
    "proj/settings.py": """
        import os

        type Seconds = int
        HOSTS = {"redis": "cache.internal", "home": os.environ.get("HOME")}

        CELERY_BROKER_URL = f"redis://{HOSTS["redis"]}:6379/0"
        CELERY_WORKER_PREFETCH_MULTIPLIER = 4
        try:
            import local_settings
        except ImportError, ModuleNotFoundError:
            pass
    """,
    "proj/models.py": """
        from django.db import models

        type Status = str


        class Order(models.Model):
            status = models.CharField(max_length=20)

            def first[T](self, items: list[T]) -> T:
                return items[0]

            def label(self) -> str:
                return t"{self.status!r:>{10}} {", ".join(["a", "b"])}"
    """,
    "proj/tasks.py": """
        from celery import shared_task

        from proj.models import Order


        @shared_task
        def charge[T](order_id: T) -> T | None:
            try:
                order = Order.objects.get(pk=order_id)
            except ConnectionError, TimeoutError:
                return None
            return order.pk


        @shared_task(bind=True)
        def notify(self, *targets: *tuple[str, ...]) -> str:
            try:
                names = f"{"\\n".join(targets)}"
            except* ValueError:
                names = ""
            return f"{self.name}: {
                names  # a comment inside a replacement field
            }"
    """,
    "proj/views.py": """
        from django.shortcuts import get_object_or_404

        from proj.models import Order
        from proj.tasks import charge


        class Page[T]:
            title: T


        def checkout(request, pk):
            order = get_object_or_404(Order, pk=pk)
            note = t"order {order.pk}"
            try:
                charge.delay(order)
            except ConnectionError, TimeoutError:
                pass
            charge.apply_async((order.pk,), countdown=7200)
            return charge.delay(order.pk).get()
    """,
}
# The same project in the syntax of Python 3.10, every line where it was.
OLDER = {
    **MODERN,
    "proj/celery.py": MODERN["proj/celery.py"].replace("type AppName = str", "AppName = str")
    .replace('t"proj"', '"proj"'),
    "proj/settings.py": MODERN["proj/settings.py"].replace("type Seconds", "Seconds")
    .replace('{HOSTS["redis"]}', "{HOSTS['redis']}")
    .replace("except ImportError, ModuleNotFoundError:",
             "except (ImportError, ModuleNotFoundError):"),
    "proj/models.py": MODERN["proj/models.py"].replace("type Status", "Status")
    .replace("def first[T]", "def first")
    .replace('return t"{self.status!r:>{10}} {", ".join(["a", "b"])}"',
             "return f\"{self.status!r:>{10}} {', '.join(['a', 'b'])}\""),
    "proj/tasks.py": MODERN["proj/tasks.py"].replace("def charge[T]", "def charge")
    .replace("except ConnectionError, TimeoutError:", "except (ConnectionError, TimeoutError):")
    .replace("*targets: *tuple[str, ...]", "*targets: str")
    .replace('names = f"{"\\n".join(targets)}"', 'names = "\\n".join(targets)')
    .replace("except* ValueError:", "except ValueError:")
    .replace('return f"{self.name}: {', 'return f"""{self.name}: {')
    .replace("names  # a comment inside a replacement field", "names")
    .replace('    }"', '    }"""'),
    "proj/views.py": MODERN["proj/views.py"].replace("class Page[T]:", "class Page:")
    .replace('t"order {order.pk}"', 'f"order {order.pk}"')
    .replace("except ConnectionError, TimeoutError:", "except (ConnectionError, TimeoutError):"),
}
def diagnostics(root: Path, files: dict[str, str]) -> list[tuple[str, str, int, int]]:
    """Every rule's diagnostics, the preview ones too: the more facts they read, the better."""
    result = run_project(root, files, preview=True)
    assert not result.internal_errors, result.warnings
    return [(d.code, Path(d.path).relative_to(root).as_posix(), d.location.row,
             d.location.column) for d in result.diagnostics]


def test_twins_are_line_for_line() -> None:
    for name, text in MODERN.items():
        assert text.count("\n") == OLDER[name].count("\n"), name
        assert name == "manage.py" or text != OLDER[name], name
    for name, text in OLDER.items():  # the twin is Python 3.10
        ast.parse(textwrap.dedent(text), feature_version=(3, 10))


def test_modern_project_gives_the_diagnostics_of_its_older_twin(tmp_path: Path) -> None:
    modern = diagnostics(tmp_path / "modern", MODERN)
    older = diagnostics(tmp_path / "older", OLDER)
    assert modern == older
    # each depends on facts of the modules the constructs are in: a task, a model, a setting,
    # the broker URL an f-string builds
    assert modern == [
        ("CEL301", "proj/settings.py", 1, 1),  # the settings module read: no acks_late in it
        ("CEL303", "proj/settings.py", 1, 1),  # nor a global time limit
        ("CEL302", "proj/settings.py", 7, 1),  # CELERY_WORKER_PREFETCH_MULTIPLIER = 4
        ("CEL201", "proj/tasks.py", 7, 1),  # charge is a task, with no time limit
        ("CEL201", "proj/tasks.py", 16, 1),  # notify
        ("CEL101", "proj/views.py", 15, 22),  # an Order (a model) sent to a task
        ("CEL106", "proj/views.py", 18, 47),  # beyond the visibility timeout of Redis
        ("CEL102", "proj/views.py", 19, 12),  # waiting on a task's result inside a view
        ("CEL108", "proj/views.py", 19, 12),  # ... with no result backend to give it
    ]


@pytest.mark.parametrize(("source", "row"), [
    ("type X = int\n\ndef broken(:\n    pass\n", 3),  # the real error comes after a `type`
    ('x = f"{d["k"]}"\ny = t"{x}"\nif x\n    pass\n', 3),
    ("try:\n    pass\nexcept A, B:\n    pass\nz = (1,\n", 5),
    ("def f[T](x: T) -> T:\n    return x\n\n\nclass Box[T]:\n    items = [1, 2\n\n\nx = 1\n", 6),
])
def test_real_error_after_a_newer_construct_is_where_python_puts_it(tmp_path: Path,
                                                                  source: str, row: int) -> None:
    with pytest.raises(SyntaxError) as caught:
        parse_python(source)
    assert caught.value.lineno == row
    path = tmp_path / "proj" / "broken.py"
    path.parent.mkdir()
    path.write_text(source, encoding="utf-8")
    found = lint(tmp_path, {**CELERY_APP, "manage.py": ""})
    assert [d for d in found if d[1] == "proj/broken.py"] == [("CEL001", "proj/broken.py", row)]


def test_real_error_keeps_pythons_message() -> None:
    with pytest.raises(SyntaxError) as caught:
        parse_python("type X = int\nvalue = (1,\n")
    assert (caught.value.lineno, caught.value.msg) == (2, "'(' was never closed")


@pytest.mark.parametrize("source", [
    "type X = int\nafter = 1\n",
    "type L[T] = list[T]\nafter = 1\n",
    "type Pair[\n    K,\n    V = int,\n] = dict[K, V]\nafter = 1\n",
    "def f[T: int, *Ts, **P](x: T) -> T:\n    return x\nafter = 1\n",
    "def f[\n    T,\n](x: T) -> T:\n    return x\nafter = 1\n",
    "class Box[T = int](Base):\n    pass\nafter = 1\n",
    'x = f"{row["id"]}"\nafter = 1\n',
    'x = f"{"\\n".join(rows)}"\nafter = 1\n',
    'x = f"{f"{f"{1}"}"}"\nafter = 1\n',
    'x = f"{value # why\n}"\nafter = 1\n',
    'x = f"{\n    value\n    + 1\n}"\nafter = 1\n',
    'x = t"{name!r:>{width}}"\nafter = 1\n',
    'x = Rt"\\d{name}"\nafter = 1\n',
    "try:\n    pass\nexcept A, B:\n    pass\nafter = 1\n",
    "try:\n    pass\nexcept* A, B:\n    pass\nafter = 1\n",
    "def f(*args: *Ts) -> tuple[*Ts]:\n    return args\nafter = 1\n",
    'é = "ñ"; x = f"{d["é"]}"\r\ntype X = int\r\nafter = 1\r\n',  # CR LF, not ASCII
    '\x0cx = f"{d["k"]}"\n\x0ctype X = int\nafter = 1\n',  # form feeds libcst drops
])
def test_each_construct_parses_with_every_statement_on_its_row(source: str) -> None:
    tree = parse_python(source)
    last = tree.body[-1]
    assert isinstance(last, ast.Assign) and last.targets[0].id == "after"  # type: ignore[attr-defined]
    assert last.lineno == source.count("\n")


def test_the_files_own_warnings_are_not_printed() -> None:
    # a parse that misreads `rt"..."` as a name and a plain string warns about its escapes, and
    # an invalid escape sequence is the file's business (3.12 and later warn about both)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parse_python('pattern = rt"\\d+{x}"\nplain = "\\d"\n')


def test_f_string_fields_keep_their_values() -> None:
    # a settings value built by a PEP 701 f-string is evaluated as on a newer Python
    facts = read_python_facts(Path("/p/proj/settings.py"), textwrap.dedent("""
        HOSTS = {"redis": "cache"}
        URL = f"redis://{HOSTS["redis"]}:6379"
        PLAIN = f"{"-".join(["a", "b"])}"
        NESTED = f"{f"{HOSTS["redis"]}"}"
    """))
    values = {op.name: op.value for op in facts.settings_ops}  # type: ignore[union-attr]
    assert values["URL"] == "redis://cache:6379"
    assert values["NESTED"] == "cache"
    assert facts.syntax_error is None


def test_columns_are_kept() -> None:
    # a task's decorator option and a setting keep the column they have in the file
    text = 'type X = int\nQUEUE = f"{"a"}"\nOTHER = 1\n'
    facts = read_python_facts(Path("/p/proj/settings.py"), text)
    assert [(op.name, op.line, op.column) for op in facts.settings_ops] == [  # type: ignore[union-attr]
        ("QUEUE", 2, 1), ("OTHER", 3, 1)]


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="the interpreter reads t-strings")
def test_libcst_reads_only_the_statements_the_interpreter_does_not(monkeypatch) -> None:
    read = []
    real = syntax._libcst

    def spy(text: str):  # type: ignore[no-untyped-def]
        read.append(text)
        return real(text)

    monkeypatch.setattr(syntax, "_libcst", spy)
    source = ("import os\n\n\n@decorated\ndef first():\n    return 1\n\n\n"
              "NAME = t'x'  # PEP 750\n\n\nclass Later:\n    pass\n")
    tree = parse_python(source)
    assert read == ["NAME = t'x'  # PEP 750\n\n\n"]
    assert [node.lineno for node in tree.body] == [1, 5, 9, 12]


def test_statement_rows_follow_the_tokenizer() -> None:
    source = ('import os\n@a\n@b\ndef f():\n    """Text at\ncolumn 0."""\nx = (1,\n2)\n'
              "try:\n    pass\nexcept A:\n    pass\nelse:\n    pass\n# a comment\ny = 1\n")
    assert syntax._statement_rows(source) == [1, 2, 7, 9, 16]


def test_code_the_interpreter_reads_never_meets_libcst() -> None:
    # the fallback is for files `ast` refuses: the others stay on the fast path
    code = ("import sys; from pathlib import Path; from celery_lint.facts.python import "
            "read_python_facts; read_python_facts(Path('/p/a.py'), 'x = 1\\n'); "
            "print('libcst' in sys.modules)")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True)
    assert found.stdout.strip() == "False"


@pytest.mark.parametrize("expression", [
    "-" * 50_000 + "1", "(" * 300 + ")" * 300, " and ".join(["a"] * 5_000)])
def test_deep_nesting_after_a_newer_construct_does_not_crash(expression: str) -> None:
    # libcst's parser overflows the stack on these (a crash, not an exception): a t-string first
    # sends the file to the fallback, which must not hand them to it
    source = f"x = t'a'\ny = {expression}\n"
    code = ("import sys; from celery_lint.facts.syntax import parse_python\n"
            "try:\n    parse_python(sys.stdin.read())\n"
            "except (SyntaxError, MemoryError, RecursionError):\n    pass\n")
    done = subprocess.run([sys.executable, "-c", code], input=source, capture_output=True,
                          text=True, timeout=60, check=False)
    assert (done.returncode, done.stderr) == (0, "")


def test_a_real_syntax_error_is_still_cel001(tmp_path: Path) -> None:
    files = {**CELERY_APP, "manage.py": "", "shop/models.py": MODELS,
             "shop/broken.py": "x = 1\nif x\n    pass\n"}
    found = lint(tmp_path, files)
    assert [d for d in found if d[1] == "shop/broken.py"] == [("CEL001", "shop/broken.py", 2)]


# -- templates --------------------------------------------------------------------------------

COOKIECUTTER = {
    "{{cookiecutter.project_slug}}/manage.py": "",
    "{{cookiecutter.project_slug}}/{{cookiecutter.project_slug}}/tasks.py": """
        from celery import shared_task
        from {{cookiecutter.project_slug}}.models import Thing
    """,
    "{{cookiecutter.project_slug}}/config/settings.py": """
        {% if cookiecutter.use_celery == "y" %}
        CELERY_BROKER_URL = "redis://"
        {% endif %}
    """,
}


def test_cookiecutter_folder_is_one_warning_not_a_cel001_per_file(tmp_path: Path) -> None:
    result = run_project(tmp_path, COOKIECUTTER)
    assert [d.code for d in result.diagnostics if d.code == "CEL001"] == []
    folder = tmp_path / "{{cookiecutter.project_slug}}"
    assert [w for w in result.warnings if "template" in w] == [
        f"{folder}: a cookiecutter or Jinja template, not Python: 2 files that do not parse skipped"]


def test_jinja_tags_in_a_file_make_its_folder_a_template(tmp_path: Path) -> None:
    files = {**CELERY_APP, "manage.py": "", "templates/project/celery.py": """
        from celery import Celery
        {% if beat %}
        app = Celery("{{ name }}")
        {% endif %}
    """, "templates/project/app/tasks.py": """
        from {{ name }}.models import Thing
    """}
    result = run_project(tmp_path, files)
    assert [d.code for d in result.diagnostics if d.code == "CEL001"] == []
    folder = tmp_path / "templates" / "project"
    assert [w for w in result.warnings if "template" in w] == [
        f"{folder}: a cookiecutter or Jinja template, not Python: 2 files that do not parse skipped"]


def test_template_strings_in_python_are_linted_normally(tmp_path: Path) -> None:
    # near misses: "{{" in a string literal of a file that parses, and a real syntax error in a
    # file that also holds a Django template string
    files = {**CELERY_APP, "manage.py": "", "shop/models.py": MODELS, "shop/tasks.py": """
        from celery import shared_task

        GREETING = "Hello {{ user.name }}, {% url 'home' %}"


        @shared_task
        def greet(user):
            return GREETING
    """, "shop/views.py": """
        from shop.models import Order
        from shop.tasks import greet

        PAGE = "{% block content %}{{ order }}{% endblock %}"


        def show(pk):
            greet.delay(Order.objects.get(pk=pk))
    """, "shop/broken.py": """
        PAGE = "{{ order.pk }}"
        def broken(:
            pass
    """}
    result = run_project(tmp_path, files)
    found = [(d.code, Path(d.path).name, d.location.row) for d in result.diagnostics]
    assert ("CEL101", "views.py", 8) in found
    assert ("CEL001", "broken.py", 2) in found
    assert not [w for w in result.warnings if "template" in w]


@pytest.mark.parametrize(("path", "text", "template"), [
    ("/p/{{cookiecutter.slug}}/tasks.py", "def f(:\n", True),
    ("/p/app/tasks.py", "{% if x %}\nimport a\n{% endif %}\n", True),
    ("/p/app/tasks.py", "from {{ name }}.models import Thing\n", True),
    ("/p/app/tasks.py", 'PAGE = "{{ x }}"\ndef f(:\n', False),
    ("/p/app/tasks.py", 'PAGE = "{% url "a" %}\n', False),  # an unclosed string, not a tag
    ("/p/app/tasks.py", "def f(:\n", False),
])
def test_is_template(path: str, text: str, template: bool) -> None:
    assert is_template(Path(path), text) is template


def test_template_folder_is_the_outermost_tagged_folder() -> None:
    assert template_folder(Path("/p/{{a}}/x/{{b}}/t.py")) == Path("/p/{{a}}")
    assert template_folder(Path("/p/app/t.py")) == Path("/p/app")
