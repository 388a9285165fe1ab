"""The pre-commit hooks, as the real pre-commit runs them in a small Django + Celery repository.

The tests marked `pre_commit` are slow: pre-commit builds the hooks' environment with pip from this
repository (needs the package index; 10-60 s), once per session in a temporary PRE_COMMIT_HOME that
every run shares. They run in CI, which installs pre-commit with the `test` extra.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest
import yaml
from helpers import CELERY_APP, MODELS, TASKS, write_project

from celery_lint.discovery import is_lintable

ROOT = Path(__file__).resolve().parent.parent
HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))

slow = pytest.mark.pre_commit

GOOD_VIEWS = """
    from django.shortcuts import get_object_or_404

    from shop.models import Order
    from shop.tasks import send_invoice


    def ship(request, pk):
        order = get_object_or_404(Order, pk=pk)
        send_invoice.delay(order.pk)
"""
BAD_VIEWS = GOOD_VIEWS.replace("delay(order.pk)", "delay(order)")
MORE_GOOD_VIEWS = GOOD_VIEWS + """

    def ship_later(request, pk):
        send_invoice.apply_async((pk,), countdown=60)
"""
GOOD_PROCFILE = """
    web: gunicorn proj.wsgi
    worker: celery -A proj worker -l info
"""
BAD_PROCFILE = GOOD_PROCFILE.replace("-l info", "-B -l info")
MORE_GOOD_PROCFILE = GOOD_PROCFILE + "    beat: celery -A proj beat -l info\n"
PROJECT = {
    **CELERY_APP,
    "proj/settings.py": CELERY_APP["proj/settings.py"] + """
        CELERY_TASK_ACKS_LATE = True
        CELERY_TASK_REJECT_ON_WORKER_LOST = True
        CELERY_WORKER_PREFETCH_MULTIPLIER = 1
    """,
    "shop/models.py": MODELS,
    "shop/tasks.py": TASKS,
    "shop/views.py": GOOD_VIEWS,
    "Procfile": GOOD_PROCFILE,
}


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env=_clean_env(), capture_output=True,
                          text=True, check=True)
    return done.stdout.strip()


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without the variables that would point git at another repository (as
    when the tests run inside a git hook)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "PRE_COMMIT_HOME", "SKIP")}
    return {**env, **extra}


def _init_repo(root: Path) -> None:
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "celery-lint tests")
    git(root, "config", "user.email", "tests@celery-lint.invalid")
    git(root, "config", "commit.gpgsign", "false")


# -- which files reach the hooks ----------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "shop/views.py", "Procfile", "Procfile.dev", "deploy/Procfile", "Dockerfile",
    "docker/Dockerfile.worker", "worker.dockerfile", "docker-compose.yml", "k8s/worker.YAML",
    "celery.service", "celery-worker@.service", "supervisord.conf", "celery.ini", "start.sh",
    "README.md", "setup.cfg", "shop/views.pyc", "shop/stubs.pyi", "MyProcfile", "data.json",
])
def test_hook_files_are_the_files_celery_lint_lints(name: str) -> None:
    # a file named on the command line is always checked, so the hooks must pass no other
    for hook in HOOKS:
        assert bool(re.search(hook["files"], name)) == is_lintable(PurePosixPath(name)), hook["id"]
        assert hook["types"] == ["file"]  # `types_or: [python, yaml]` would AND away a Procfile


def test_hooks_read_the_project_once() -> None:
    assert [(h["id"], h["entry"], h["require_serial"]) for h in HOOKS] == [
        ("celery-lint", "celery-lint check", True),
        ("celery-lint-fix", "celery-lint check --fix", True),
    ]


# -- the real pre-commit ------------------------------------------------------------------------

@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """This repository's working tree (committed or not, as `git ls-files` sees it) committed in
    a new repository: `pre-commit try-repo` would take only tracked files, and a hooks file not
    committed yet is untracked."""
    if importlib.util.find_spec("pre_commit") is None:
        pytest.fail("pre-commit is not installed: pip install -e '.[test]'")
    snapshot = tmp_path_factory.mktemp("hook-repo")
    listed = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in sorted(set(listed.split("\0")) - {""}):
        source = ROOT / name
        if source.is_file():
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, snapshot / name)
    _init_repo(snapshot)
    git(snapshot, "add", "-A")
    git(snapshot, "commit", "-q", "-m", "snapshot")
    return snapshot, git(snapshot, "rev-parse", "HEAD")


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One hook environment for the session: every run below reuses it."""
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def project(tmp_path: Path, hook_repo: tuple[Path, str]) -> Path:
    """A Django + Celery repository in a good state, committed, with both hooks configured as
    the README shows them (the fix hook with `--unsafe-fixes` in its args)."""
    repo, rev = hook_repo
    write_project(tmp_path, PROJECT)
    config = {"repos": [{"repo": str(repo), "rev": rev, "hooks": [
        {"id": "celery-lint"},
        {"id": "celery-lint-fix", "args": ["--unsafe-fixes"]},
    ]}]}
    (tmp_path / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    _init_repo(tmp_path)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "good state")
    return tmp_path


def pre_commit(project: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`pre-commit run ARGS` in `project`, stdout and stderr together."""
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--color", "never", *args], cwd=project,
        env=_clean_env(PRE_COMMIT_HOME=str(home)), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=600, check=False,
    )


def change(project: Path, files: dict[str, str]) -> None:
    write_project(project, files, packages=False)
    git(project, "add", *files)


@slow
def test_bad_change_fails_the_commit_hook(project: Path, pre_commit_home: Path) -> None:
    # no file names: pre-commit passes the staged files, as at `git commit`
    change(project, {"shop/views.py": BAD_VIEWS, "Procfile": BAD_PROCFILE})
    done = pre_commit(project, pre_commit_home, "celery-lint")
    assert done.returncode == 1, done.stdout
    assert re.search(r"^celery-lint\.+Failed$", done.stdout, re.MULTILINE), done.stdout
    assert "shop/views.py:9:24: CEL101 `order` is an `Order` instance" in done.stdout
    assert "Procfile:2:9: CEL401 `worker` runs beat inside a worker (`-B`)" in done.stdout
    assert "Found 2 errors." in done.stdout


@slow
def test_good_change_passes(project: Path, pre_commit_home: Path) -> None:
    change(project, {"shop/views.py": MORE_GOOD_VIEWS, "Procfile": MORE_GOOD_PROCFILE})
    done = pre_commit(project, pre_commit_home, "celery-lint", "--all-files")
    assert done.returncode == 0, done.stdout
    assert re.search(r"^celery-lint\.+Passed$", done.stdout, re.MULTILINE), done.stdout


@slow
def test_only_the_view_passed_still_knows_the_model(project: Path,
                                                    pre_commit_home: Path) -> None:
    # Order is a model because of shop/models.py, which pre-commit does not pass
    change(project, {"shop/views.py": BAD_VIEWS})
    done = pre_commit(project, pre_commit_home, "celery-lint", "--files", "shop/views.py")
    assert done.returncode == 1, done.stdout
    assert "shop/views.py:9:24: CEL101 `order` is an `Order` instance" in done.stdout
    assert "Found 1 error." in done.stdout


@slow
def test_fix_hook_takes_unsafe_fixes_from_args(project: Path, pre_commit_home: Path) -> None:
    change(project, {"shop/views.py": BAD_VIEWS})
    done = pre_commit(project, pre_commit_home, "celery-lint-fix", "--files", "shop/views.py")
    # pre-commit fails a hook that changed files, so the user reviews the fix before committing
    assert done.returncode == 1, done.stdout
    assert "- files were modified by this hook" in done.stdout
    assert (project / "shop/views.py").read_text(encoding="utf-8").endswith(
        "send_invoice.delay(order.pk)\n")


@slow
def test_try_repo_against_this_repository(project: Path, hook_repo: tuple[Path, str]) -> None:
    # `pre-commit try-repo`, as the issue asks: it builds its own environment on each call
    # (PRE_COMMIT_HOME is not used), so one call only
    repo, _ = hook_repo
    change(project, {"shop/views.py": BAD_VIEWS})
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(repo), "celery-lint", "--files",
         "shop/views.py", "--color", "never"], cwd=project, env=_clean_env(),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600, check=False)
    assert done.returncode == 1, done.stdout
    assert "shop/views.py:9:24: CEL101 `order` is an `Order` instance" in done.stdout
