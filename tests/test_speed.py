"""The speed machinery must not change what is reported: the prefilter, the cache, the process
pool, the per-statement positions. And start-up imports only what a run needs."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest
from helpers import CELERY_APP, MODELS, TASKS, write_project

from celery_lint import runner
from celery_lint.analysis.walk import children
from celery_lint.cache import Cache, configuration_key
from celery_lint.config import Config, load_config
from celery_lint.runner import RunResult, load_project, open_cache, run

FIXTURES = Path(__file__).parent.parent / "fixtures"
PROJECTS = sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p.suffix != ".expected")


def shown(result: RunResult) -> list[tuple]:
    return [(d.code, d.path, d.location, d.end_location, d.message, d.fix) for d in
            result.diagnostics]


def copy_of(project: Path, tmp_path: Path) -> Path:
    target = tmp_path / project.name
    shutil.copytree(project, target, ignore=shutil.ignore_patterns(".celery_lint_cache"))
    return target


def environment(**changes: str) -> dict[str, str]:
    """The environment for a command-line run that uses the cache (conftest turns it off)."""
    return {k: v for k, v in {**os.environ, **changes}.items() if k != "CELERY_LINT_NO_CACHE"}


# -- the prefilter ----------------------------------------------------------------------------
@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_the_prefilter_changes_nothing_on_the_fixtures(project: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(project)
    with_prefilter = run([project], config)
    monkeypatch.setattr(runner, "PREFILTER", False)
    without = run([project], config)
    assert shown(with_prefilter) == shown(without)
    assert with_prefilter.files_checked > 2


def test_the_prefilter_skips_files_that_cannot_raise_anything(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    write_project(tmp_path, {**CELERY_APP, "proj/models.py": MODELS, "proj/tasks.py": TASKS,
                             "proj/utils.py": "def add(a, b):  # noqa: E501\n    return a + b\n"})
    parsed = []
    real = cst.parse_module
    monkeypatch.setattr(cst, "parse_module", lambda text: parsed.append(text) or real(text))
    run([tmp_path], Config(root=tmp_path))
    assert any("shared_task" in text for text in parsed)  # the tasks file is parsed
    assert not any("def add" in text for text in parsed)  # a noqa comment alone is no reason


SENDING_HELPER = """\
from proj.tasks import send_invoice


def notify(order_id):
    send_invoice.delay(order_id)
"""
CALLER = """\
from django.db import transaction

from proj.helpers import notify


def pay(order):
    with transaction.atomic():
        order.save()
        notify(order.pk)
"""
RUNNING_HELPER = """\
from proj.tasks import send_invoice


def invoice_now(order_id):
    return send_invoice.apply(args=[order_id])
"""
VIEW = """\
from django.http import HttpResponse

from proj.running import invoice_now


def invoice(request, pk):
    invoice_now(pk)
    return HttpResponse()
"""


@pytest.mark.parametrize(("select", "preview", "caller", "parsed"), [
    (("CEL103",), True, CALLER, True),  # a call in a transaction of a function that sends
    (("CEL102", "CEL2"), True, CALLER, False),  # ... asked by no selected rule
    (("CEL101",), False, CALLER, True),  # a call of a function that sends its parameter
    (("CEL102",), True, VIEW, True),  # a view calls a function that runs a task in place
    (("CEL102",), False, VIEW, False),  # ... which only preview reports
])
def test_a_file_is_parsed_for_what_its_calls_reach_only_for_a_rule_that_looks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, select: tuple[str, ...],
        preview: bool, caller: str, parsed: bool) -> None:
    write_project(tmp_path, {**CELERY_APP, "proj/models.py": MODELS, "proj/tasks.py": TASKS,
                             "proj/helpers.py": SENDING_HELPER, "proj/services.py": CALLER,
                             "proj/running.py": RUNNING_HELPER, "proj/views.py": VIEW})
    texts: list[str] = []
    real = cst.parse_module
    monkeypatch.setattr(cst, "parse_module", lambda text: texts.append(text) or real(text))
    run([tmp_path], Config(root=tmp_path, select=select, preview=preview))
    assert (caller in texts) is parsed


# -- positions, one top-level statement at a time ----------------------------------------------
POSITIONS = '''\
"""Doc."""
# a comment

import os; import sys


@decorator(
    1,
)
# between
def f(a,
      b):
    x = """
    multi
    """; y = 2
    return x


class C(Base):  # trailing
    @property
    def p(self):
        return [
            1,
            2,
        ]
if x: pass
async def g():
    await h()
z = 1
'''
# libcst and ast do not agree on where this last statement belongs: the slow way is taken
JOINED = POSITIONS + "if y:\n    pass\n\\\nw = 2\n"


@pytest.mark.parametrize(("text", "fast"), [(POSITIONS, True), (JOINED, False)])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_positions_of_each_statement_match_the_whole_module(text: str, fast: bool,
                                                            newline: str) -> None:
    from libcst.metadata import MetadataWrapper, PositionProvider

    from celery_lint.facts.python import read_python_facts
    from celery_lint.index import build_index
    from celery_lint.rules.base import FileContext
    from celery_lint.source import SourceFile

    text = text.replace("\n", newline)
    facts = read_python_facts(Path("m.py"), text)
    module = cst.parse_module(text)
    source = SourceFile.from_bytes("m.py", "m.py", text.encode())
    context = FileContext(source, module, facts, build_index([facts], Config()), Config())
    whole = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    nodes = list(module.body)
    count = 0
    while nodes:
        node = nodes.pop()
        nodes += children(node)
        assert context.range_of(node) == whole[node], node
        count += 1
    assert count > 50
    assert (context._statement_lines is not None) is fast


# -- the cache -----------------------------------------------------------------------------------
def test_a_warm_run_reads_no_file_and_reports_the_same(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    project = copy_of(FIXTURES / "shop", tmp_path)
    config = load_config(project)
    cold = run([project], config, cache=open_cache(config, [project]))
    assert (project / ".celery_lint_cache" / "CACHEDIR.TAG").is_file()
    assert (project / ".celery_lint_cache" / ".gitignore").read_text().splitlines()[-1] == "*"

    def fail(*args: object) -> None:
        raise AssertionError("a file was read again")

    monkeypatch.setattr(runner, "read_facts", fail)
    monkeypatch.setattr(runner, "_visit", fail)
    monkeypatch.setattr(runner, "build_index", fail)
    warm = run([project], config, cache=open_cache(config, [project]))
    assert shown(warm) == shown(cold)
    assert warm.files_checked == cold.files_checked
    assert sorted(warm.warnings) == sorted(cold.warnings)


def test_a_changed_model_rereads_that_file_only_and_rechecks_the_rest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = copy_of(FIXTURES / "shop", tmp_path)
    config = load_config(project)
    run([project], config, cache=open_cache(config, [project]))
    models = project / "orders" / "models.py"
    models.write_text(models.read_text() + "\n\nclass Refund(models.Model):\n    pass\n")
    read = []
    real = runner.read_facts
    monkeypatch.setattr(runner, "read_facts", lambda path, *a: read.append(path) or
                        real(path, *a))
    warm = run([project], config, cache=open_cache(config, [project]))
    assert read == [str(models)]
    assert shown(warm) == shown(run([project], config))  # as with no cache at all


def test_pre_commit_style_run_of_one_changed_file(tmp_path: Path) -> None:
    project = copy_of(FIXTURES / "shop", tmp_path)
    config = load_config(project)
    run([project], config, cache=open_cache(config, [project]))
    tasks = project / "orders" / "tasks.py"
    tasks.write_text(tasks.read_text() + "\n# edited\n")
    one = run([tasks], load_config(tasks), cache=open_cache(load_config(tasks), [tasks]))
    assert shown(one) == shown(run([tasks], load_config(tasks)))
    assert one.files_checked == 1 and one.diagnostics


def test_a_requirements_change_is_seen(tmp_path: Path) -> None:
    project = copy_of(FIXTURES / "shop", tmp_path)
    config = load_config(project)
    before = load_project([project], config, read=False).fingerprint
    (project / "requirements.txt").write_text("celery>=5.0\n")
    assert load_project([project], config, read=False).fingerprint != before


def test_a_configuration_change_is_seen(tmp_path: Path) -> None:
    project = copy_of(FIXTURES / "shop", tmp_path)
    config = load_config(project)
    run([project], config, cache=open_cache(config, [project]))
    narrow = Config(root=config.root, select=("CEL101",))
    result = run([project], narrow, cache=open_cache(narrow, [project]))
    assert result.diagnostics and {d.code for d in result.diagnostics} == {"CEL101"}


@pytest.mark.parametrize("damage", [b"", b"not a pickle", b"\x80\x05garbage", None])
def test_a_damaged_cache_is_ignored_and_rebuilt(tmp_path: Path, damage: bytes | None) -> None:
    project = copy_of(FIXTURES / "shop", tmp_path)
    config = load_config(project)
    expected = shown(run([project], config))
    run([project], config, cache=open_cache(config, [project]))
    files = list((project / ".celery_lint_cache").rglob("*.pickle"))
    assert sorted(f.name.split("-")[0].split(".")[0] for f in files) == ["deploy", "facts", "results"]
    for file in files:
        if damage is None:
            file.write_bytes(file.read_bytes()[: len(file.read_bytes()) // 2])  # truncated
        else:
            file.write_bytes(damage)
    assert shown(run([project], config, cache=open_cache(config, [project]))) == expected
    assert shown(run([project], config, cache=open_cache(config, [project]))) == expected


class Planted:
    def __reduce__(self) -> tuple:
        return (os.system, ("touch PLANTED",))


def test_a_planted_cache_cannot_run_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    project = copy_of(FIXTURES / "shop", tmp_path)
    config = load_config(project)
    expected = shown(run([project], config))
    run([project], config, cache=open_cache(config, [project]))
    for file in (project / ".celery_lint_cache").rglob("*.pickle"):
        file.write_bytes(pickle.dumps({"x": Planted()}))
    assert shown(run([project], config, cache=open_cache(config, [project]))) == expected
    assert not (tmp_path / "PLANTED").exists()


def test_an_unwritable_cache_folder_is_no_cache(tmp_path: Path) -> None:
    project = copy_of(FIXTURES / "shop", tmp_path)
    (tmp_path / "file").write_text("")
    config = Config(**{**load_config(project).__dict__, "cache_dir": str(tmp_path / "file" / "c")})
    cache = open_cache(config, [project])
    assert shown(run([project], config, cache=cache)) == shown(run([project], config))


def test_the_cache_folder_sits_beside_the_configuration(tmp_path: Path) -> None:
    write_project(tmp_path, {**CELERY_APP, "proj/tasks.py": TASKS})
    (tmp_path / "pyproject.toml").write_text("[tool.celery-lint]\n")
    assert open_cache(load_config(tmp_path / "proj"), [tmp_path / "proj"]).folder == \
        tmp_path / ".celery_lint_cache"
    (tmp_path / "pyproject.toml").write_text('[tool.celery-lint]\ncache-dir = "build/cl"\n')
    assert open_cache(load_config(tmp_path), [tmp_path]).folder == tmp_path / "build" / "cl"


def test_results_are_kept_per_configuration(tmp_path: Path) -> None:
    assert configuration_key(Config(root=tmp_path)) != \
        configuration_key(Config(root=tmp_path, ignore=("CEL101",)))
    cache = Cache.open(tmp_path, "abc")
    cache.put_result("x.py", b"1", b"2", "outcome")
    cache.save()
    assert Cache.open(tmp_path, "abc").result("x.py", b"1", b"2") == "outcome"
    assert Cache.open(tmp_path, "abc").result("x.py", b"1", b"3") is None
    assert Cache.open(tmp_path, "def").result("x.py", b"1", b"2") is None


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "celery_lint", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, env=environment(), check=False)


def test_concurrent_runs_share_a_cache(tmp_path: Path) -> None:
    project = copy_of(FIXTURES / "shop", tmp_path)
    expected = cli("check", "--no-cache", ".", cwd=project).stdout
    for _ in range(3):
        runs = [subprocess.Popen([sys.executable, "-m", "celery_lint", "check", "."], cwd=project,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=environment()) for _ in range(4)]
        outputs = [r.communicate(timeout=120) for r in runs]
        assert [o for o, _ in outputs] == [expected] * 4
        assert all("Traceback" not in e for _, e in outputs)
    assert not [p for p in (project / ".celery_lint_cache").rglob(".tmp-*")]


def test_no_cache_writes_nothing(tmp_path: Path) -> None:
    project = copy_of(FIXTURES / "shop", tmp_path)
    assert cli("check", "--no-cache", ".", cwd=project).returncode == 1
    assert not (project / ".celery_lint_cache").exists()
    assert cli("check", "--cache-dir", str(tmp_path / "elsewhere"), ".", cwd=project
               ).returncode == 1
    assert not (project / ".celery_lint_cache").exists()
    assert (tmp_path / "elsewhere" / "CACHEDIR.TAG").exists()


# -- the process pool ----------------------------------------------------------------------------
@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_a_process_pool_reports_the_same(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if runner._FORK is None:
        pytest.skip("no fork on this platform: runs stay in one process")
    config = load_config(project)
    alone = run([project], config, jobs=1)
    monkeypatch.setattr(runner, "POOL_MIN_READS", 1)
    monkeypatch.setattr(runner, "POOL_MIN_CHECKS", 1)
    pooled = run([project], config, jobs=2)
    assert shown(pooled) == shown(alone)
    assert pooled.files_checked == alone.files_checked
    assert sorted(pooled.warnings) == sorted(alone.warnings)


def test_jobs_must_be_positive(tmp_path: Path) -> None:
    result = cli("check", "--jobs", "0", ".", cwd=tmp_path)
    assert result.returncode == 2 and "--jobs" in result.stderr


# -- start-up ------------------------------------------------------------------------------------
IMPORTS = """
import sys
from celery_lint.cli import main
try:
    main(["check", *sys.argv[1:]])
except SystemExit:
    pass
print(" ".join(sorted(m for m in ("libcst", "celery", "kombu", "pygls", "yaml")
                      if m in sys.modules)), file=sys.stderr)
"""


def test_a_warm_run_imports_no_libcst_celery_or_pygls(tmp_path: Path) -> None:
    project = copy_of(FIXTURES / "shop", tmp_path)
    first = subprocess.run([sys.executable, "-c", IMPORTS, "orders/tasks.py"], cwd=project,
                           capture_output=True, text=True, timeout=120, env=environment(), check=False)
    assert "libcst" in first.stderr.splitlines()[-1]  # cold: the tasks file is parsed
    warm = subprocess.run([sys.executable, "-c", IMPORTS, "orders/tasks.py"], cwd=project,
                          capture_output=True, text=True, timeout=120, env=environment(), check=False)
    assert warm.stdout == first.stdout
    assert warm.stderr.splitlines()[-1].split() == ["yaml"]


def test_a_file_no_rule_needs_imports_no_celery_or_pygls(tmp_path: Path) -> None:
    write_project(tmp_path, {"manage.py": "", "app/utils.py": "def add(a, b):\n    return a + b\n"})
    result = subprocess.run([sys.executable, "-c", IMPORTS, "--no-cache", "app/utils.py"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert "All checks passed!" in result.stdout
    # the codes are a table (no rule is imported to learn them): no libcst, celery or pygls
    assert result.stderr.splitlines()[-1].split() == ["yaml"]


def test_fix_with_a_cache_fixes_as_without(tmp_path: Path) -> None:
    cached = copy_of(FIXTURES / "shop", tmp_path / "a")
    fresh = copy_of(FIXTURES / "shop", tmp_path / "b")
    cli("check", ".", cwd=cached)  # fill the cache
    assert cli("check", "--fix", ".", cwd=cached).stdout == \
        cli("check", "--fix", "--no-cache", ".", cwd=fresh).stdout
    for path in fresh.rglob("*.py"):
        assert (cached / path.relative_to(fresh)).read_text() == path.read_text()
    assert cli("check", ".", cwd=cached).stdout == cli("check", "--no-cache", ".", cwd=fresh).stdout


def test_results_are_kept_per_installed_celery(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """What a rule reports can follow the installed Celery's tables (which old setting names
    it reads, which crontabs it accepts): a cache from another Celery is not used."""
    import celery_lint.cache

    before = configuration_key(Config(root=tmp_path))
    monkeypatch.setattr(celery_lint.cache, "celery_version", lambda: "9.9.9")
    assert configuration_key(Config(root=tmp_path)) != before


def test_the_next_run_sees_a_folder_become_a_package(tmp_path: Path) -> None:
    """A file's module name, and so what its imports resolve to, depends on the __init__.py
    files around it, not only on its content: cached facts with another module name are read
    again. (Found by the corpus tests' author.) Here `apps/shop` is first a namespace package
    `apps.shop`, then the package `shop` (a project that puts `apps/` on sys.path)."""
    files = {
        "apps/shop/models.py": "from django.db import models\n\n\n"
                               "class Order(models.Model):\n    status = models.CharField()\n",
        "apps/shop/tasks.py": "from celery import shared_task\n\n\n"
                              "@shared_task\ndef process_order(order_id):\n    pass\n",
        "services.py": "from shop.models import Order\nfrom shop.tasks import process_order\n\n\n"
                       "def run():\n    order = Order.objects.get(pk=1)\n"
                       "    process_order.delay(order)\n",
    }
    write_project(tmp_path, files, packages=False)
    (tmp_path / "manage.py").write_text("")
    assert "CEL101" not in cli("check", "--output-format", "concise", ".", cwd=tmp_path).stdout
    (tmp_path / "apps" / "shop" / "__init__.py").write_text("")
    warm = cli("check", "--output-format", "concise", ".", cwd=tmp_path).stdout
    assert "CEL101" in warm
    assert warm == cli("check", "--no-cache", "--output-format", "concise", ".",
                       cwd=tmp_path).stdout


def test_a_cache_written_by_other_code_is_not_read(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A development install keeps its version number while its facts and rules change: facts
    pickled by an older checkout (without a field a newer rule reads) must not come back."""
    import celery_lint.cache
    from celery_lint.cache import Cache

    cache = Cache.open(tmp_path, configuration="")
    before = cache._version
    monkeypatch.setattr(celery_lint.cache, "code_fingerprint", lambda: "other-code")
    assert cache._version != before
    assert "other-code" in cache._version
