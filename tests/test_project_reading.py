"""Reading a project as Python and Celery do: every shape of Celery app, and names resolved as
Python resolves them. Each shape beside its near miss; a task is seen to be a task by CEL104 on a
call with one argument too many, an app's settings by CEL306 on a misspelt setting.
"""

from __future__ import annotations

from pathlib import Path

from helpers import CELERY_APP, codes_at, write_project

from celery_lint.audit import build_report
from celery_lint.config import Config
from celery_lint.index import ProjectIndex
from celery_lint.runner import load_project, run

SETTINGS = """
    CELERY_BROKER_URL = "redis://localhost:6379/0"
    CELERY_TASK_TIME_LIMIT = 300
    CELERY_TASK_SOFT_TIME_LIMIT = 240
    CELERY_TASK_ACK_LATE = True
"""
# `CELERY_TASK_ACK_LATE` is a typo: CEL306 there shows the app reads these settings
MISSPELT = ("CEL306", 4)

# a task bound to the app `proj.celery.app`, and a view that calls it with one argument too many
BOUND_TASK = {
    "shop/tasks.py": """
        from proj.celery import app


        @app.task
        def send_invoice(order_id):
            pass
    """,
    "shop/views.py": """
        from .tasks import send_invoice


        def checkout(request):
            send_invoice.delay(1, 2)
    """,
}
MISCALLED = ("CEL104", 5)


def project(root: Path, files: dict[str, str], packages: bool = True) -> ProjectIndex:
    write_project(root, files, packages)
    return load_project([root], Config(root=root)).index


def apps(root: Path, files: dict[str, str]) -> list[tuple[str, int, str]]:
    """(qualified name, line, how) of each Celery app of the project."""
    return [(a.qualname, a.line, a.how) for a in project(root, files).apps]


# the rules these tests read the project through (CEL001 is always on), with preview on: a task
# called directly in a view, CEL102's preview part, shows which function a name resolves to
SELECTED = ("CEL102", "CEL104", "CEL306")


def codes(root: Path, files: dict[str, str], path: str,
          packages: bool = True) -> list[tuple[str, int]]:
    """(code, row) in `path` of the project; `packages` off leaves out the `__init__.py` files
    that `files` does not list."""
    if packages:
        return codes_at(root, files, path, select=SELECTED, preview=True)
    write_project(root, files, packages=False)
    result = run([root], Config(root=root, select=SELECTED, preview=True))
    return [(d.code, d.location.row) for d in result.diagnostics
            if Path(d.path) == root / path]


# -- an app re-exported by its package ---------------------------------------------------------

APP_MODULE = """
    import os

    from celery import Celery

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
    app = Celery("proj")
    app.config_from_object("django.conf:settings", namespace="CELERY")
"""


def test_app_reexported_by_its_package_is_the_app(tmp_path: Path) -> None:
    # `from proj.celery import app` is the package's `app` (its __init__ binds it), not the
    # submodule proj/celery/app.py
    files = {"manage.py": "", "proj/settings.py": SETTINGS, **BOUND_TASK,
             "proj/celery/__init__.py": "from .app import app\n", "proj/celery/app.py": APP_MODULE}
    assert codes(tmp_path, files, "shop/views.py") == [MISCALLED]
    assert codes(tmp_path, files, "proj/settings.py") == [MISSPELT]


def test_submodule_is_meant_when_the_package_does_not_bind_the_name(tmp_path: Path) -> None:
    files = {"manage.py": "", "proj/settings.py": SETTINGS, **BOUND_TASK,
             "proj/celery/__init__.py": "", "proj/celery/app.py": APP_MODULE}
    # `app` is the submodule: `@app.task` is not the app's task decorator...
    assert codes(tmp_path, files, "shop/views.py") == []
    # ... `@app.app.task` is
    files["shop/tasks.py"] = BOUND_TASK["shop/tasks.py"].replace("@app.task", "@app.app.task")
    assert codes(tmp_path, files, "shop/views.py") == [MISCALLED]


def test_the_package_s_own_assignment_wins_over_its_submodule(tmp_path: Path) -> None:
    files = {"manage.py": "", "proj/settings.py": SETTINGS, **BOUND_TASK,
             "proj/celery/__init__.py": "from celery import Celery\n\napp = Celery('proj')\n",
             "proj/celery/app.py": "app = None\n"}
    assert apps(tmp_path, files) == [("proj.celery.app", 3, "direct")]
    assert codes(tmp_path, files, "shop/views.py") == [MISCALLED]


# -- an app built by a factory -----------------------------------------------------------------

FACTORY = """
    import os

    from celery import Celery


    def create_application():
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
        application = Celery("proj")
        application.config_from_object("django.conf:settings", namespace="CELERY")
        return application
"""


def test_app_built_by_a_factory_in_its_module(tmp_path: Path) -> None:
    files = {"manage.py": "", "proj/settings.py": SETTINGS, **BOUND_TASK,
             "proj/celery.py": FACTORY + "\n\n    app = create_application()\n"}
    assert apps(tmp_path, files) == [("proj.celery.app", 13, "factory")]
    assert codes(tmp_path, files, "shop/views.py") == [MISCALLED]
    # the namespace and the settings source are the factory's
    assert codes(tmp_path, files, "proj/settings.py") == [MISSPELT]


def test_app_built_by_a_factory_of_another_module(tmp_path: Path) -> None:
    files = {"manage.py": "", "proj/settings.py": SETTINGS, **BOUND_TASK,
             "proj/factory.py": FACTORY,
             "proj/celery.py": "from .factory import create_application\n\n"
                               "app = create_application()\n"}
    assert apps(tmp_path, files) == [("proj.celery.app", 3, "factory")]
    assert codes(tmp_path, files, "shop/views.py") == [MISCALLED]
    assert codes(tmp_path, files, "proj/settings.py") == [MISSPELT]


def test_factory_configuration_on_the_app_object(tmp_path: Path) -> None:
    factory = """
        from celery import Celery


        def make_celery():
            celery = Celery("proj", broker="redis://localhost:6379/0")
            celery.conf.task_time_limt = 60
            celery.conf.update(task_acks_late=True)
            return celery


        app = make_celery()
    """
    files = {"manage.py": "", **BOUND_TASK, "proj/celery.py": factory}
    index = project(tmp_path, files)
    assert index.settings.source == "app"
    assert {"broker_url", "task_acks_late"} <= set(index.celery_config.values)  # type: ignore[union-attr]
    assert codes(tmp_path, files, "proj/celery.py") == [("CEL306", 6)]


def test_factory_that_builds_something_else_is_no_app(tmp_path: Path) -> None:
    factory = """
        from flask import Flask


        def create_application():
            application = Flask("proj")
            application.config.from_object("proj.settings")
            return application
    """
    files = {"manage.py": "", "proj/settings.py": SETTINGS, **BOUND_TASK,
             "proj/factory.py": factory,
             "proj/celery.py": "from .factory import create_application\n\n"
                               "app = create_application()\n"}
    assert apps(tmp_path, files) == []
    assert codes(tmp_path, files, "shop/views.py") == []
    assert codes(tmp_path, files, "proj/settings.py") == []


def test_factory_app_named_like_a_module_level_app(tmp_path: Path) -> None:
    # the factory's local `app` is not the module's: its configuration is the factory's
    factory = """
        from celery import Celery


        def create_app():
            app = Celery("proj")
            app.config_from_object("django.conf:settings", namespace="CELERY")
            return app


        app = create_app()
    """
    files = {"manage.py": "", "proj/settings.py": SETTINGS, **BOUND_TASK,
             "proj/celery.py": factory}
    [app] = project(tmp_path, files).apps
    assert (app.how, app.line, app.config_objects) == ("factory", 10, ())
    assert app.configured_by == (("django.conf:settings", "CELERY"),)


# -- an app of a Celery subclass ---------------------------------------------------------------

def test_app_of_a_celery_subclass_of_another_module(tmp_path: Path) -> None:
    files = {"manage.py": "", "proj/settings.py": SETTINGS, **BOUND_TASK,
             "proj/base.py": "from celery import Celery\n\n\nclass ProjCelery(Celery):\n"
                             "    task_cls = 'proj.base:Task'\n",
             "proj/celery.py": "from .base import ProjCelery\n\napp = ProjCelery('proj')\n"}
    assert apps(tmp_path, files) == [("proj.celery.app", 3, "subclass")]
    assert codes(tmp_path, files, "shop/views.py") == [MISCALLED]


def test_app_of_a_celery_subclass_configured_and_used_in_its_module(tmp_path: Path) -> None:
    source = """
        from .base import ProjCelery

        app = ProjCelery("proj")
        app.conf.update(task_acks_lat=True)


        @app.task
        def debug(order_id):
            pass


        debug.delay(1, 2)
    """
    files = {"manage.py": "", "proj/celery.py": source,
             "proj/base.py": "from celery import Celery\n\n\nclass ProjCelery(Celery):\n"
                             "    pass\n"}
    assert codes(tmp_path, files, "proj/celery.py") == [("CEL306", 4), ("CEL104", 12)]


def test_app_of_a_subclass_of_a_subclass_in_its_module(tmp_path: Path) -> None:
    source = """
        import os

        import celery

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")


        class Base(celery.Celery):
            pass


        class ProjCelery(Base):
            pass


        app = ProjCelery("proj")
        app.config_from_object("django.conf:settings", namespace="CELERY")
    """
    files = {"manage.py": "", "proj/settings.py": SETTINGS, **BOUND_TASK, "proj/celery.py": source}
    assert apps(tmp_path, files) == [("proj.celery.app", 16, "subclass")]
    assert codes(tmp_path, files, "proj/settings.py") == [MISSPELT]


def test_object_of_another_class_is_no_app(tmp_path: Path) -> None:
    files = {"manage.py": "", "proj/settings.py": SETTINGS, **BOUND_TASK,
             "proj/base.py": "class Registry:\n    def task(self, function):\n"
                             "        return function\n",
             "proj/celery.py": "from .base import Registry\n\napp = Registry()\n"}
    assert apps(tmp_path, files) == []
    assert codes(tmp_path, files, "shop/views.py") == []


# -- no app in the project: `shared_task` only -------------------------------------------------

SHARED = {
    "shop/tasks.py": """
        from celery import shared_task


        @shared_task
        def send_invoice(order_id):
            pass
    """,
    "shop/views.py": BOUND_TASK["shop/views.py"],
    "proj/settings.py": SETTINGS,
}


def test_shared_tasks_of_a_project_whose_app_is_configured_elsewhere(tmp_path: Path) -> None:
    files = {"manage.py": "", **SHARED}
    assert codes(tmp_path, files, "shop/views.py") == [MISCALLED]
    # the settings of an app that is not in the project are not read: nothing is said of them
    assert codes(tmp_path, files, "proj/settings.py") == []
    [note] = build_report(project(tmp_path, files)).settings.notes
    assert "`@shared_task` tasks run on an app configured elsewhere" in note


def test_shared_tasks_with_the_app_in_the_project(tmp_path: Path) -> None:
    files = {**CELERY_APP, **SHARED}
    assert codes(tmp_path, files, "shop/views.py") == [MISCALLED]
    assert codes(tmp_path, files, "proj/settings.py") == [MISSPELT]


# -- names as Python resolves them -------------------------------------------------------------

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


def test_task_through_its_module_imported_from_the_package(tmp_path: Path) -> None:
    view = """
        from . import tasks


        def start(request):
            tasks.import_project.delay(1, 2)
            tasks.import_project.delay(1)
    """
    # shop's task takes one argument; billing's two
    assert codes(tmp_path, {**SIBLINGS, "shop/views.py": view}, "shop/views.py") == [
        ("CEL104", 5)]
    assert codes(tmp_path, {**SIBLINGS, "billing/views.py": view}, "billing/views.py") == [
        ("CEL104", 6)]


def test_direct_call_through_a_tasks_module_with_no_other_celery_word(tmp_path: Path) -> None:
    view = """
        from . import tasks


        def start(request):
            tasks.import_project(1)
    """
    assert codes(tmp_path, {**SIBLINGS, "shop/views.py": view}, "shop/views.py") == [
        ("CEL102", 5)]


def test_direct_call_through_a_module_without_tasks(tmp_path: Path) -> None:
    view = """
        from . import helpers


        def start(request):
            helpers.import_project(1)
    """
    files = {**SIBLINGS, "shop/helpers.py": "def import_project(project_id):\n    pass\n",
             "shop/views.py": view}
    assert codes(tmp_path, files, "shop/views.py") == []


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


# -- views with subscripted generic bases ------------------------------------------------------

GENERIC_VIEWS = """
    from rest_framework.generics import GenericAPIView

    from .models import Export
    from .tasks import import_project


    class ExportView(GenericAPIView[Export]):
        def post(self, request):
            return import_project.delay(1).get()


    class ExportBatch(list[ExportView]):
        def post(self, request):
            return import_project.delay(1).get()
"""


def test_view_with_a_subscripted_generic_base(tmp_path: Path) -> None:
    files = {**SIBLINGS, "shop/models.py": "from django.db import models\n\n\n"
                                           "class Export(models.Model):\n    pass\n",
             "shop/views.py": GENERIC_VIEWS}
    # ExportBatch is a list (of views), not a view
    assert codes(tmp_path, files, "shop/views.py") == [("CEL102", 9)]


# -- another name for a task decorator ---------------------------------------------------------

ALIASED_TASKS = """
    from proj.celery import project_task, report_task


    @project_task
    def send_invoice(order_id):
        pass


    @report_task(bind=True)
    def build_report(self, order_id):
        pass
"""
ALIASED_VIEW = """
    from .tasks import build_report, send_invoice


    def checkout(request):
        send_invoice.delay(1, 2)
        build_report.delay(1, 2)
"""


def test_module_level_names_for_the_task_decorators(tmp_path: Path) -> None:
    celery = CELERY_APP["proj/celery.py"] + """
        project_task = shared_task
        report_task = app.task
    """
    files = {**CELERY_APP, "proj/celery.py": celery.replace(
        "from celery import Celery", "from celery import Celery, shared_task"),
        "shop/tasks.py": ALIASED_TASKS, "shop/views.py": ALIASED_VIEW}
    assert codes(tmp_path, files, "shop/views.py") == [("CEL104", 5), ("CEL104", 6)]


def test_names_like_a_task_decorator_bound_to_something_else(tmp_path: Path) -> None:
    celery = CELERY_APP["proj/celery.py"] + """

        def project_task(function):
            return function


        report_task = functools.partial(project_task)
    """
    files = {**CELERY_APP, "shop/tasks.py": ALIASED_TASKS, "shop/views.py": ALIASED_VIEW,
             "proj/celery.py": celery.replace("import os", "import functools\n        import os")}
    assert codes(tmp_path, files, "shop/views.py") == []
    assert codes(tmp_path, files, "proj/celery.py") == []  # it parses
