"""The speed machinery on real code: on each corpus project (see tests/test_corpus_fixes.py for
where the projects come from), the diagnostics are the same with the prefilter on and off, with
and without the cache (cold and warm), and in one process or a pool (slow; runs in CI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_corpus_fixes import _project_ids, corpus  # noqa: F401 - the session fixture

RUN_TIMEOUT = 900


def lint(project: Path, *args: str, **environment: str) -> list[dict]:
    env = {k: v for k, v in {**os.environ, **environment}.items()
           if k != "CELERY_LINT_NO_CACHE"}
    run = subprocess.run([sys.executable, "-m", "celery_lint", "check", "--exit-zero",
                          "--output-format", "json", *args, str(project)],
                         capture_output=True, text=True, timeout=RUN_TIMEOUT, env=env,
                         check=False)
    assert run.returncode == 0, run.stderr
    assert "internal error" not in run.stderr and "Traceback" not in run.stderr
    return json.loads(run.stdout)


@pytest.mark.slow
@pytest.mark.parametrize("project", _project_ids(), ids=lambda p: Path(p).name)
def test_prefilter_cache_and_pool_change_nothing(project: str, corpus: dict[str, Path],  # noqa: F811
                                                 tmp_path: Path) -> None:
    root = corpus[project]
    expected = lint(root, "--no-cache", "--jobs", "1")
    assert lint(root, "--no-cache", "--jobs", "2", CELERY_LINT_NO_PREFILTER="1") == expected
    cache = str(tmp_path / "cache")
    assert lint(root, "--cache-dir", cache, "--jobs", "2") == expected  # cold
    assert lint(root, "--cache-dir", cache, "--jobs", "1") == expected  # warm
    assert not list(root.rglob(".celery_lint_cache"))  # nothing written into the project
