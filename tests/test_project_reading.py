"""Reading a project as Python and Celery do: every shape of Celery app, and names resolved as
Python resolves them. Each shape beside its near miss; a task is seen to be a task by CEL104 on a
call with one argument too many, an app's settings by CEL306 on a misspelt setting.
"""

from __future__ import annotations

from pathlib import Path

from helpers import CELERY_APP, codes_at, write_project

from celery_lint.config import Config
from celery_lint.index import ProjectIndex
from celery_lint.runner import load_project, run


def project(root: Path, files: dict[str, str], packages: bool = True) -> ProjectIndex:
    write_project(root, files, packages)
    return load_project([root], Config(root=root)).index


# the rules these tests read the project through (CEL001 is always on)
SELECTED = ("CEL102", "CEL104", "CEL306")


def codes(root: Path, files: dict[str, str], path: str,
          packages: bool = True) -> list[tuple[str, int]]:
    """(code, row) in `path` of the project; `packages` off leaves out the `__init__.py` files
    that `files` does not list."""
    if packages:
        return codes_at(root, files, path, select=SELECTED)
    write_project(root, files, packages=False)
    result = run([root], Config(root=root, select=SELECTED))
    return [(d.code, d.location.row) for d in result.diagnostics
            if Path(d.path) == root / path]


# -- names as Python resolves them: folders without __init__.py -----------------------------

SIBLINGS = {
    **CELERY_APP,
    "shop/tasks.py": """
        from celery import shared_task


        @shared_task
        def import_project(project_id):
            pass
    """,
    "billing/tasks.py": """
        from celery import shared_task


        @shared_task
        def import_project(project_id, user_id):
            pass
    """,
}


NAMESPACE_VIEW = """
    from . import tasks
    from .tasks import import_project


    def start(request):
        tasks.import_project.delay(1, 2)
        import_project.delay(1, 2, 3)
"""


def test_relative_imports_in_folders_without_init_at_the_top_of_a_project(tmp_path: Path) -> None:
    # shop/ and billing/ have no __init__.py: namespace packages `shop` and `billing` of the
    # project folder (manage.py), each with its own `tasks`
    files = {**SIBLINGS, "shop/views.py": NAMESPACE_VIEW, "proj/__init__.py": ""}
    assert codes(tmp_path, files, "shop/views.py", packages=False) == [
        ("CEL104", 6), ("CEL104", 7)]
    files = {**SIBLINGS, "billing/views.py": NAMESPACE_VIEW, "proj/__init__.py": ""}
    assert codes(tmp_path, files, "billing/views.py", packages=False) == [("CEL104", 7)]


def test_relative_imports_from_and_into_a_folder_without_init_in_a_package(
        tmp_path: Path) -> None:
    files = {
        **CELERY_APP, "proj/__init__.py": "",
        "proj/tasks.py": SIBLINGS["shop/tasks.py"],
        # proj/api/ has no __init__.py: the namespace package `proj.api`, with its own `tasks`
        "proj/api/tasks.py": SIBLINGS["billing/tasks.py"],
        "proj/api/views.py": "from ..tasks import import_project\n\n\n"
                             "def start(request):\n    import_project.delay(1, 2)\n",
        "proj/views.py": "from .api import tasks\nfrom .api.tasks import import_project\n\n\n"
                         "def start(request):\n    tasks.import_project(1, 2)\n"
                         "    import_project.delay(1)\n",
    }
    # from: proj.api.views imports proj.tasks's task, which takes one argument
    assert codes(tmp_path, files, "proj/api/views.py", packages=False) == [("CEL104", 5)]
    # into: proj.views imports proj.api.tasks's task, which takes two
    assert codes(tmp_path, files, "proj/views.py", packages=False) == [
        ("CEL102", 6), ("CEL104", 7)]


def test_package_under_a_folder_without_init_keeps_its_own_name(tmp_path: Path) -> None:
    # apps/ has no __init__.py, apps/shop/ has one: the project may put apps/ on sys.path, and
    # the rest of it imports `shop`
    files = {
        **CELERY_APP, "proj/__init__.py": "", "apps/shop/__init__.py": "",
        "apps/shop/tasks.py": SIBLINGS["shop/tasks.py"],
        "proj/views.py": "from shop.tasks import import_project\n\n\n"
                         "def start(request):\n    import_project.delay(1, 2)\n",
    }
    assert codes(tmp_path, files, "proj/views.py", packages=False) == [("CEL104", 5)]
    index = project(tmp_path, files, packages=False)
    assert "shop.tasks.import_project" in index.tasks


def test_folder_without_init_outside_a_project_folder_names_nothing(tmp_path: Path) -> None:
    # no manage.py nor pyproject.toml: which folder Python has on sys.path is unknown, so the
    # modules keep their own names as before
    files = {"scripts/tasks.py": SIBLINGS["shop/tasks.py"]}
    index = project(tmp_path, files, packages=False)
    assert set(index.tasks) == {"tasks.import_project"}
