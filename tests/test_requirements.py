"""The project's Celery version, read from its dependency files (one test per format, each with
the version it must find), and the installed Celery when no file states one."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project

from celery_lint.facts.celery_names import installed_celery, project_celery
from celery_lint.facts.requirements import requirements


def celery_of(root: Path, files: dict[str, str]) -> tuple[tuple[str, ...], str]:
    """The minor releases the project at `root` may run, and the label messages use."""
    write_project(root, files, packages=False)
    found = project_celery(root)
    return found.minors, found.label


@pytest.mark.parametrize(("files", "minors", "stated"), [
    # requirements files
    ({"requirements.txt": "django>=4.2\ncelery==5.6.3\n"}, ("5.6",),
     "celery==5.6.3 in requirements.txt"),
    ({"requirements.txt": "celery[redis]==5.2.7 ; python_version >= '3.8'  # pinned\n"},
     ("5.2",), "celery[redis]==5.2.7 in requirements.txt"),
    ({"requirements.txt": "celery==5.4.0 \\\n    --hash=sha256:abc\n"}, ("5.4",),
     "celery==5.4.0 in requirements.txt"),
    ({"requirements/base.txt": "celery~=5.5.2\n"}, ("5.5",),
     "celery~=5.5.2 in requirements/base.txt"),
    ({"requirements-prod.txt": "celery>=5.5.3,<5.6\n"}, ("5.5",),
     "celery>=5.5.3,<5.6 in requirements-prod.txt"),
    ({"requirements.txt": "-r requirements/common.txt\n",
      "requirements/common.txt": "celery==5.3.6\n"}, ("5.3",),
     "celery==5.3.6 in requirements/common.txt"),
    ({"requirements.txt": "--requirement=deps/base.txt\n", "deps/base.txt": "celery==5.1.2\n"},
     ("5.1",), "celery==5.1.2 in deps/base.txt"),
    ({"requirements.txt": "celery\n-c constraints.txt\n", "constraints.txt": "celery==5.4.0\n"},
     ("5.4",), "celery==5.4.0 in constraints.txt"),
    # pyproject.toml: PEP 621, PEP 735, Poetry
    ({"pyproject.toml": '[project]\nname = "x"\ndependencies = ["celery[redis]==5.6.*"]\n'},
     ("5.6",), "celery[redis]==5.6.* in pyproject.toml"),
    ({"pyproject.toml": '[project]\nname = "x"\n[project.optional-dependencies]\n'
                        'worker = ["celery>=5.3,<5.5"]\n'}, ("5.3", "5.4"),
     "celery>=5.3,<5.5 in pyproject.toml"),
    ({"pyproject.toml": '[dependency-groups]\nworker = ["celery==5.5.3"]\n'}, ("5.5",),
     "celery==5.5.3 in pyproject.toml"),
    ({"pyproject.toml": '[tool.poetry.dependencies]\ncelery = "~5.4"\n'}, ("5.4",),
     'celery = "~5.4" in pyproject.toml'),
    ({"pyproject.toml": '[tool.poetry.dependencies]\n'
                        'celery = {version = "5.3.6", extras = ["redis"]}\n'}, ("5.3",),
     'celery = "5.3.6" in pyproject.toml'),
    ({"pyproject.toml": '[tool.poetry.group.worker.dependencies]\ncelery = "^5.6"\n'},
     ("5.6", "5.7"), 'celery = "^5.6" in pyproject.toml'),
    # lock files: the version installed
    ({"uv.lock": 'version = 1\n[[package]]\nname = "celery"\nversion = "5.6.2"\n'}, ("5.6",),
     "celery 5.6.2 in uv.lock"),
    ({"poetry.lock": '[[package]]\nname = "Celery"\nversion = "5.2.7"\n'}, ("5.2",),
     "celery 5.2.7 in poetry.lock"),
    ({"pdm.lock": '[[package]]\nname = "celery"\nversion = "5.4.0"\n'}, ("5.4",),
     "celery 5.4.0 in pdm.lock"),
    ({"Pipfile.lock": '{"default": {"celery": {"version": "==5.3.6"}}, "develop": {}}'},
     ("5.3",), "celery 5.3.6 in Pipfile.lock"),
    # Pipfile, setup.cfg, setup.py, a wheel's METADATA
    ({"Pipfile": '[packages]\ncelery = "==5.5.3"\n'}, ("5.5",), 'celery = "==5.5.3" in Pipfile'),
    ({"setup.cfg": "[options]\ninstall_requires =\n    django\n    celery>=5.6,<5.7\n"},
     ("5.6",), "celery>=5.6,<5.7 in setup.cfg"),
    ({"setup.cfg": "[options.extras_require]\nworker =\n    celery==5.0.5\n"}, ("5.0",),
     "celery==5.0.5 in setup.cfg"),
    ({"setup.py": 'from setuptools import setup\nsetup(install_requires=["celery==5.4.0"])\n'},
     ("5.4",), "celery==5.4.0 in setup.py"),
    ({"proj-1.0.dist-info/METADATA": "Name: proj\nRequires-Dist: celery (>=5.6.3,<5.7)\n"},
     ("5.6",), "celery (>=5.6.3,<5.7) in proj-1.0.dist-info/METADATA"),
])
def test_each_dependency_file_format(tmp_path: Path, files: dict[str, str],
                                     minors: tuple[str, ...], stated: str) -> None:
    found_minors, label = celery_of(tmp_path, files)
    assert found_minors == minors
    assert label.endswith(f"({stated})")


def test_a_pinned_release_labels_its_minor(tmp_path: Path) -> None:
    assert celery_of(tmp_path, {"requirements.txt": "celery==5.6.3\n"})[1] == \
        "Celery 5.6 (celery==5.6.3 in requirements.txt)"


def test_an_open_range_is_judged_by_every_release_it_allows(tmp_path: Path) -> None:
    minors, label = celery_of(tmp_path, {"requirements.txt": "celery>=5.5\n"})
    assert minors == ("5.5", "5.6", "5.7")
    assert label == "Celery 5.5 or later (celery>=5.5 in requirements.txt)"


def test_a_release_older_than_the_tables_is_judged_by_the_oldest_row(tmp_path: Path) -> None:
    minors, label = celery_of(tmp_path, {"requirements.txt": "celery==4.4.7\n"})
    assert minors == ("5.0",)
    assert label == "Celery 5.0 or earlier (celery==4.4.7 in requirements.txt)"


def test_a_lock_file_wins_over_a_range(tmp_path: Path) -> None:
    files = {"pyproject.toml": '[project]\nname = "x"\ndependencies = ["celery>=5.0"]\n',
             "uv.lock": '[[package]]\nname = "celery"\nversion = "5.5.3"\n'}
    assert celery_of(tmp_path, files)[0] == ("5.5",)


def test_every_file_holds_where_the_project_runs(tmp_path: Path) -> None:
    files = {"setup.py": 'setup(install_requires=["celery>=5.0"])\n',
             "requirements.txt": "celery==5.3.6\n"}
    assert celery_of(tmp_path, files)[0] == ("5.3",)


def test_files_that_contradict_each_other_allow_either(tmp_path: Path) -> None:
    files = {"requirements.txt": "celery==5.6.3\n", "requirements-legacy.txt": "celery==5.2.7\n"}
    assert celery_of(tmp_path, files)[0] == ("5.2", "5.6")


def test_an_include_cycle_is_read_once(tmp_path: Path) -> None:
    files = {"requirements.txt": "-r requirements-dev.txt\ncelery==5.4.0\n",
             "requirements-dev.txt": "-r requirements.txt\n"}
    write_project(tmp_path, files, packages=False)
    assert [r.shown for r in requirements(tmp_path, "celery")] == [
        "celery==5.4.0 in requirements.txt"]


@pytest.mark.parametrize("files", [
    {},
    {"requirements.txt": "celery\n"},
    {"requirements.txt": "celery[redis] @ https://example.com/celery.zip\n"},
    {"requirements.txt": "celery-progress==5.6.3\ndjango-celery-beat==2.5.0\n"},
    {"pyproject.toml": '[tool.poetry.dependencies]\ncelery = "*"\n'},
    {"pyproject.toml": "not toml ["},
    {"Pipfile.lock": "{not json"},
])
def test_no_file_states_a_version_so_the_installed_celery_is_used(
        tmp_path: Path, files: dict[str, str]) -> None:
    minors, label = celery_of(tmp_path, files)
    assert minors == installed_celery().minors
    assert "the one installed" in label


def test_the_nearest_folder_with_dependency_files(tmp_path: Path) -> None:
    write_project(tmp_path, {"requirements.txt": "celery==5.2.7\n", "src/app/x.py": ""},
                  packages=False)
    assert project_celery(tmp_path / "src" / "app").minors == ("5.2",)


def test_a_project_marker_stops_the_search(tmp_path: Path) -> None:
    write_project(tmp_path, {"requirements.txt": "celery==5.2.7\n", "src/manage.py": ""},
                  packages=False)
    assert project_celery(tmp_path / "src").installed is not None
