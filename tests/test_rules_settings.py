"""The settings audit as diagnostics: CEL301–CEL314 and the settings part of CEL202, one shape per
test, the flagged shape and its near-miss side by side."""

from __future__ import annotations

import types
from pathlib import Path

import pytest
from celery import Celery
from helpers import CELERY_APP, lint, run_project, write_project

from celery_lint.config import Config
from celery_lint.diagnostics import Applicability
from celery_lint.rules.settings import audits, time_limit
from celery_lint.runner import load_project

# The app of helpers.CELERY_APP (proj.settings, namespace CELERY), without its settings.
APP_ONLY = {k: v for k, v in CELERY_APP.items() if k != "proj/settings.py"}

# Celery's app in proj/celery.py with no namespace.
NO_NAMESPACE_APP = """
    import os
    from celery import Celery

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
    app = Celery("proj")
    app.config_from_object("django.conf:settings")
"""

# A non-Django Celery project: lowercase names in a config module.
CONFIG_MODULE_APP = """
    from celery import Celery

    app = Celery("proj")
    app.config_from_object("proj.celeryconfig")
"""


def flagged(root: Path, settings: str, code: str, *, preview: bool = False,
            **files: str) -> list[tuple[str, str, int]]:
    """(code, path, row) of rule `code` for APP_ONLY with proj/settings.py = `settings`; a preview
    rule selected by its code runs, and `preview` runs those of a prefix too.

    `files` adds or replaces files: `proj__local="..."` is proj/local.py.
    """
    project = {**APP_ONLY, "proj/settings.py": settings}
    project.update({name.replace("__", "/") + ".py": text for name, text in files.items()})
    return lint(root, project, select=(code,), **({"preview": True} if preview else {}))


def package(root: Path, code: str, **modules: str) -> list[tuple[str, str, int]]:
    """(code, path, row) of rule `code` for APP_ONLY with a settings package holding `modules`."""
    project = {**APP_ONLY, "proj/settings/__init__.py": "",
               **{f"proj/settings/{name}.py": text for name, text in modules.items()}}
    return lint(root, project, select=(code,))


def messages(root: Path, files: dict[str, str], code: str) -> list[str]:
    result = run_project(root, files, (code,))
    assert not result.internal_errors, result.warnings
    return [d.message for d in result.diagnostics]


SETTINGS = "proj/settings.py"
PRODUCTION = "proj/settings/production.py"


def celery_reads_old_names_under_a_namespace() -> bool:
    """Whether the installed Celery reads an old name (`CELERY_ACKS_LATE`) from settings loaded
    with namespace="CELERY", asked of Celery itself: Celery 5.7 does; 5.3-5.6 look the new name up
    first, find its default and never reach the old one."""
    app = Celery("proj", set_as_current=False)
    app.config_from_object(types.SimpleNamespace(CELERY_ACKS_LATE=True), namespace="CELERY")
    return app.conf.task_acks_late is True


# -- CEL301 acks-late-disabled ------------------------------------------------------------------

def test_cel301_missing_sits_at_row_1(tmp_path: Path) -> None:
    assert flagged(tmp_path, 'CELERY_BROKER_URL = "redis://localhost"\n', "CEL301") == [
        ("CEL301", SETTINGS, 1)]


def test_cel301_false_sits_at_its_assignment(tmp_path: Path) -> None:
    settings = 'CELERY_BROKER_URL = "redis://localhost"\nCELERY_TASK_ACKS_LATE = False\n'
    assert flagged(tmp_path, settings, "CEL301") == [("CEL301", SETTINGS, 2)]


def test_cel301_true(tmp_path: Path) -> None:
    assert flagged(tmp_path, "CELERY_TASK_ACKS_LATE = True\n", "CEL301") == []


def test_cel301_value_from_the_environment_is_never_failed(tmp_path: Path) -> None:
    settings = "import os\nCELERY_TASK_ACKS_LATE = os.environ.get('ACKS_LATE', False)\n"
    assert flagged(tmp_path, settings, "CEL301") == []


def test_cel301_value_from_django_environ_is_never_failed(tmp_path: Path) -> None:
    settings = ("import environ\nenv = environ.Env()\n"
                "CELERY_TASK_ACKS_LATE = env.bool('ACKS_LATE', default=False)\n")
    assert flagged(tmp_path, settings, "CEL301") == []


def test_cel301_value_that_cannot_be_evaluated(tmp_path: Path) -> None:
    settings = "from proj.flags import reliable\nCELERY_TASK_ACKS_LATE = reliable()\n"
    assert flagged(tmp_path, settings, "CEL301") == []


def test_cel301_set_only_in_an_if_on_the_environment(tmp_path: Path) -> None:
    settings = "import os\nif os.environ.get('RELIABLE'):\n    CELERY_TASK_ACKS_LATE = True\n"
    assert flagged(tmp_path, settings, "CEL301") == []


def test_cel301_old_name_under_the_namespace_counts_where_celery_reads_it(
        tmp_path: Path) -> None:
    expected = [] if celery_reads_old_names_under_a_namespace() else [("CEL301", SETTINGS, 1)]
    assert flagged(tmp_path, "CELERY_ACKS_LATE = True\n", "CEL301") == expected


def test_cel301_set_in_base_of_the_production_chain(tmp_path: Path) -> None:
    assert package(tmp_path, "CEL301", base="CELERY_TASK_ACKS_LATE = True\n",
                   production="from .base import *\nX = 1\n") == []


def test_cel301_turned_off_in_production(tmp_path: Path) -> None:
    assert package(tmp_path, "CEL301", base="CELERY_TASK_ACKS_LATE = True\n",
                   production="from .base import *\nCELERY_TASK_ACKS_LATE = False\n") == [
        ("CEL301", PRODUCTION, 2)]


def test_cel301_set_only_in_test_settings_does_not_count(tmp_path: Path) -> None:
    assert package(tmp_path, "CEL301", base="INSTALLED_APPS = []\n",
                   production="from .base import *\nX = 1\n",
                   test="from .base import *\nCELERY_TASK_ACKS_LATE = True\n") == [
        ("CEL301", PRODUCTION, 1)]


def test_cel301_missing_in_each_production_module(tmp_path: Path) -> None:
    assert package(tmp_path, "CEL301", base="INSTALLED_APPS = []\n",
                   production="from .base import *\nX = 1\n",
                   staging="from .base import *\nX = 2\n") == [
        ("CEL301", PRODUCTION, 1), ("CEL301", "proj/settings/staging.py", 1)]


def test_cel301_missing_is_unknown_when_a_star_imported_module_is_absent(tmp_path: Path) -> None:
    # without a `try`, Django cannot start unless the deployment provides the module
    settings = "X = 1\nfrom .secrets import *\n"
    assert flagged(tmp_path, settings, "CEL301") == []


def test_cel301_missing_despite_an_optional_override_that_is_absent(tmp_path: Path) -> None:
    # the shipped settings are judged; the audit says the override may change the row
    settings = "X = 1\ntry:\n    from .secrets import *\nexcept ImportError:\n    pass\n"
    assert flagged(tmp_path, settings, "CEL301") == [("CEL301", SETTINGS, 1)]


def test_cel301_missing_despite_an_override_suppressed_by_contextlib(tmp_path: Path) -> None:
    settings = ("import contextlib\nX = 1\nwith contextlib.suppress(ImportError):\n"
                "    from .override_settings import *\n")
    assert flagged(tmp_path, settings, "CEL301") == [("CEL301", SETTINGS, 1)]


def test_cel301_missing_is_unknown_when_another_error_is_suppressed(tmp_path: Path) -> None:
    # `suppress(KeyError)` does not catch a failed import: the module must exist
    settings = ("import contextlib\nX = 1\nwith contextlib.suppress(KeyError):\n"
                "    from .override_settings import *\n")
    assert flagged(tmp_path, settings, "CEL301") == []


def test_cel301_missing_local_override_does_not_hide_a_missing_setting(tmp_path: Path) -> None:
    # `local` is a dev module (dev-settings): production does not get its settings from it
    settings = "X = 1\ntry:\n    from .local import *\nexcept ImportError:\n    pass\n"
    assert flagged(tmp_path, settings, "CEL301") == [("CEL301", "proj/settings.py", 1)]


def test_cel301_missing_is_unknown_when_base_does_not_parse(tmp_path: Path) -> None:
    found = package(tmp_path, "CEL301", base="CELERY_TASK_ACKS_LATE = (\n",
                    production="from .base import *\nX = 1\n")
    assert found == [("CEL001", "proj/settings/base.py", 1)]


def test_cel301_noqa_on_row_1_suppresses_the_missing_setting(tmp_path: Path) -> None:
    settings = '# noqa: CEL301\nCELERY_BROKER_URL = "redis://localhost"\n'
    assert flagged(tmp_path, settings, "CEL301") == []


def test_cel301_noqa_on_row_1_that_suppresses_is_not_unused(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": "# noqa: CEL301\nX = 1\n"}
    assert lint(tmp_path, files, select=("CEL301", "CEL002")) == []


def test_cel301_noqa_on_row_1_with_the_setting_present_is_unused(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": "# noqa: CEL301\nCELERY_TASK_ACKS_LATE = True\n"}
    assert lint(tmp_path, files, select=("CEL301", "CEL002")) == [("CEL002", SETTINGS, 1)]


def test_cel301_per_file_ignores(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": "X = 1\n"}
    assert lint(tmp_path, files, select=("CEL301",),
                per_file_ignores=(("proj/settings.py", ("CEL301",)),)) == []


def test_cel301_annotated_assignment(tmp_path: Path) -> None:
    assert flagged(tmp_path, "X = 1\nCELERY_TASK_ACKS_LATE: bool = False\n", "CEL301") == [
        ("CEL301", SETTINGS, 2)]


def test_cel301_config_from_the_settings_object(tmp_path: Path) -> None:
    celery = """
        import os
        from celery import Celery
        from django.conf import settings

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
        app = Celery("proj")
        app.config_from_object(settings, namespace="CELERY")
    """
    assert flagged(tmp_path, "X = 1\n", "CEL301", proj__celery=celery) == [
        ("CEL301", SETTINGS, 1)]


def test_cel301_noqa_for_another_code_on_row_1_does_not(tmp_path: Path) -> None:
    settings = '# noqa: CEL302\nCELERY_BROKER_URL = "redis://localhost"\n'
    assert flagged(tmp_path, settings, "CEL301") == [("CEL301", SETTINGS, 1)]


def test_cel301_by_app_conf(tmp_path: Path) -> None:
    celery = NO_NAMESPACE_APP + "    app.conf.task_acks_late = True\n"
    assert flagged(tmp_path, "X = 1\n", "CEL301", proj__celery=celery) == []


def test_cel301_truthy_integer(tmp_path: Path) -> None:
    assert flagged(tmp_path, "CELERY_TASK_ACKS_LATE = 1\n", "CEL301") == []


def test_cel301_message_names_the_key(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": "CELERY_TASK_ACKS_LATE = False\n"}
    [message] = messages(tmp_path, files, "CEL301")
    assert message.startswith("`CELERY_TASK_ACKS_LATE` is not enabled")


def test_cel301_not_reported_without_a_celery_app(tmp_path: Path) -> None:
    assert lint(tmp_path, {"manage.py": "", "proj/settings.py": "INSTALLED_APPS = []\n"},
                select=("CEL301",)) == []


# -- CEL302 prefetch-multiplier -----------------------------------------------------------------

def test_cel302_missing(tmp_path: Path) -> None:
    assert flagged(tmp_path, "X = 1\n", "CEL302") == [("CEL302", SETTINGS, 1)]


def test_cel302_four(tmp_path: Path) -> None:
    settings = "X = 1\nCELERY_WORKER_PREFETCH_MULTIPLIER = 4\n"
    assert flagged(tmp_path, settings, "CEL302") == [("CEL302", SETTINGS, 2)]


def test_cel302_one(tmp_path: Path) -> None:
    assert flagged(tmp_path, "CELERY_WORKER_PREFETCH_MULTIPLIER = 1\n", "CEL302") == []


def test_cel302_from_the_environment(tmp_path: Path) -> None:
    settings = "import os\nCELERY_WORKER_PREFETCH_MULTIPLIER = int(os.getenv('PREFETCH', '4'))\n"
    assert flagged(tmp_path, settings, "CEL302") == []


def test_cel302_computed_from_names(tmp_path: Path) -> None:
    settings = "BATCH = 2\nCELERY_WORKER_PREFETCH_MULTIPLIER = BATCH * 2\n"
    assert flagged(tmp_path, settings, "CEL302") == [("CEL302", SETTINGS, 2)]


def cel302_message(root: Path, settings: str) -> str:
    [diagnostic] = run_project(root, {**APP_ONLY, "proj/settings.py": settings},
                               select=("CEL302",)).diagnostics
    return diagnostic.message


@pytest.mark.parametrize(("settings", "start"), [
    ("X = 1\n", ("`CELERY_WORKER_PREFETCH_MULTIPLIER` is not set, so each worker reserves up to 4 "
                "tasks per process from the broker: ")),
    ("CELERY_WORKER_PREFETCH_MULTIPLIER = 8\n",
     ("`CELERY_WORKER_PREFETCH_MULTIPLIER` is 8, so each worker reserves up to 8 tasks per process "
      "from the broker: ")),
    ("CELERY_WORKER_PREFETCH_MULTIPLIER = 0\n",
     ("`CELERY_WORKER_PREFETCH_MULTIPLIER` is 0, so each worker reserves as many tasks as it can "
      "from the broker: ")),
])
def test_cel302_message_words_the_harm_as_celery_schedules(tmp_path: Path, settings: str,
                                                           start: str) -> None:
    # Celery hands a reserved task only to a free process of the worker (Celery 5's default "fair"
    # scheduling): what waits is the backlog one worker holds while another is free, not tasks
    # behind a busy process while the worker's other processes idle
    message = cel302_message(tmp_path, settings)
    assert message == start + ("the ones it cannot start yet wait until one of its own processes "
                               "is free, even while another worker could run them at once; set "
                               "it to 1")


# -- CEL303 no-global-time-limit ----------------------------------------------------------------

def test_cel303_missing(tmp_path: Path) -> None:
    assert flagged(tmp_path, "X = 1\n", "CEL303") == [("CEL303", SETTINGS, 1)]


def test_cel303_zero_sits_at_its_assignment(tmp_path: Path) -> None:
    assert flagged(tmp_path, "X = 1\nCELERY_TASK_TIME_LIMIT = 0\n", "CEL303") == [
        ("CEL303", SETTINGS, 2)]


def test_cel303_soft_limit_only(tmp_path: Path) -> None:
    assert flagged(tmp_path, "CELERY_TASK_SOFT_TIME_LIMIT = 30 * 60\n", "CEL303") == []


def test_cel303_hard_limit_only(tmp_path: Path) -> None:
    assert flagged(tmp_path, "CELERY_TASK_TIME_LIMIT = 600\n", "CEL303") == []


def test_cel303_from_the_environment(tmp_path: Path) -> None:
    settings = "import os\nCELERY_TASK_TIME_LIMIT = os.environ.get('LIMIT')\n"
    assert flagged(tmp_path, settings, "CEL303") == []


@pytest.mark.parametrize("option", ["--time-limit=600", "--soft-time-limit 540",
                                    "--time-limit=$TASK_TIME_LIMIT"])
def test_cel303_limit_on_the_production_worker_command_line(tmp_path: Path, option: str) -> None:
    project = {**APP_ONLY, "proj/settings.py": "X = 1\n",
               "Procfile": f"worker: celery -A proj worker {option}\n"}
    assert lint(tmp_path, project, select=("CEL303",)) == []


@pytest.mark.parametrize(("path", "command"), [
    ("Procfile.dev", "worker: celery -A proj worker --time-limit=600\n"),  # development only
    ("Procfile", "worker: celery -A proj worker --time-limit=0\n"),  # no limit
    ("Procfile", "beat: celery -A proj beat\nweb: gunicorn proj.wsgi --timeout 600\n"),
])
def test_cel303_limit_not_on_a_production_worker(tmp_path: Path, path: str, command: str) -> None:
    project = {**APP_ONLY, "proj/settings.py": "X = 1\n", path: command}
    assert lint(tmp_path, project, select=("CEL303",)) == [("CEL303", SETTINGS, 1)]


def test_cel303_audit_row_names_the_worker_limit(tmp_path: Path) -> None:
    write_project(tmp_path, {**APP_ONLY, "proj/settings.py": "X = 1\n",
                             "scripts/start-worker.sh": "#!/bin/sh\n"
                                                        "exec celery -A proj worker --time-limit=600\n"})
    [audit] = audits(load_project([tmp_path], Config(root=tmp_path)).index)
    row = time_limit(audit)
    assert (row.status, row.value, row.where) == (
        "pass", "worker --time-limit=600", str(tmp_path / "scripts/start-worker.sh") + ":2")


def test_cel303_by_app_conf_update(tmp_path: Path) -> None:
    celery = NO_NAMESPACE_APP + "    app.conf.update(task_soft_time_limit=240)\n"
    assert flagged(tmp_path, "X = 1\n", "CEL303", proj__celery=celery) == []


# -- CEL304 insecure-serializer -----------------------------------------------------------------

def test_cel304_pickle_in_accept_content(tmp_path: Path) -> None:
    assert flagged(tmp_path, "X = 1\nCELERY_ACCEPT_CONTENT = ['json', 'pickle']\n", "CEL304") == [
        ("CEL304", SETTINGS, 2)]


def test_cel304_pickle_task_serializer(tmp_path: Path) -> None:
    assert flagged(tmp_path, "CELERY_TASK_SERIALIZER = 'pickle'\n", "CEL304") == [
        ("CEL304", SETTINGS, 1)]


def test_cel304_yaml_result_serializer(tmp_path: Path) -> None:
    assert flagged(tmp_path, "X = 1\n\nCELERY_RESULT_SERIALIZER = 'yaml'\n", "CEL304") == [
        ("CEL304", SETTINGS, 3)]


def test_cel304_pickle_mime_type_in_result_accept_content(tmp_path: Path) -> None:
    settings = "CELERY_RESULT_ACCEPT_CONTENT = ['application/x-python-serialize']\n"
    assert flagged(tmp_path, settings, "CEL304") == [("CEL304", SETTINGS, 1)]


def test_cel304_multiline_list_sits_at_the_assignment(tmp_path: Path) -> None:
    settings = "X = 1\nCELERY_ACCEPT_CONTENT = [\n    'json',\n    'pickle',\n]\n"
    assert flagged(tmp_path, settings, "CEL304") == [("CEL304", SETTINGS, 2)]


def test_cel304_json_only(tmp_path: Path) -> None:
    settings = "CELERY_ACCEPT_CONTENT = ['json']\nCELERY_TASK_SERIALIZER = 'json'\n"
    assert flagged(tmp_path, settings, "CEL304") == []


def test_cel304_unset_is_celerys_json(tmp_path: Path) -> None:
    assert flagged(tmp_path, "X = 1\n", "CEL304") == []


def test_cel304_from_the_environment_with_a_pickle_default(tmp_path: Path) -> None:
    settings = "import os\nCELERY_TASK_SERIALIZER = os.getenv('SERIALIZER', 'pickle')\n"
    assert flagged(tmp_path, settings, "CEL304") == []


# -- CEL305 eager-in-production -----------------------------------------------------------------

def test_cel305_eager_in_production(tmp_path: Path) -> None:
    assert flagged(tmp_path, "X = 1\nCELERY_TASK_ALWAYS_EAGER = True\n", "CEL305") == [
        ("CEL305", SETTINGS, 2)]


def test_cel305_eager_by_its_old_name_where_celery_reads_it(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": "CELERY_ALWAYS_EAGER = True\n"}
    eager = [("CEL305", SETTINGS, 1)] if celery_reads_old_names_under_a_namespace() else []
    assert lint(tmp_path, files, select=("CEL305", "CEL306")) == [*eager, ("CEL306", SETTINGS, 1)]


def test_cel305_eager_false(tmp_path: Path) -> None:
    assert flagged(tmp_path, "CELERY_TASK_ALWAYS_EAGER = False\n", "CEL305") == []


def test_cel305_eager_only_in_test_settings(tmp_path: Path) -> None:
    assert package(tmp_path, "CEL305", base="INSTALLED_APPS = []\n",
                   production="from .base import *\nX = 1\n",
                   test="from .base import *\nCELERY_TASK_ALWAYS_EAGER = True\n") == []


def test_cel305_eager_in_base_reaches_production(tmp_path: Path) -> None:
    assert package(tmp_path, "CEL305", base="CELERY_TASK_ALWAYS_EAGER = True\n",
                   production="from .base import *\nX = 1\n") == [
        ("CEL305", "proj/settings/base.py", 1)]


def test_cel305_eager_in_base_turned_off_in_production(tmp_path: Path) -> None:
    assert package(tmp_path, "CEL305", base="CELERY_TASK_ALWAYS_EAGER = True\n",
                   production="from .base import *\nCELERY_TASK_ALWAYS_EAGER = False\n") == []


def test_cel305_eager_from_the_environment(tmp_path: Path) -> None:
    settings = "import os\nCELERY_TASK_ALWAYS_EAGER = os.getenv('EAGER', 'False') == 'True'\n"
    assert flagged(tmp_path, settings, "CEL305") == []


def test_cel305_eager_only_if_debug_known_false(tmp_path: Path) -> None:
    settings = "DEBUG = False\nif DEBUG:\n    CELERY_TASK_ALWAYS_EAGER = True\n"
    assert flagged(tmp_path, settings, "CEL305") == []


def test_cel305_eager_only_if_not_debug_known_true(tmp_path: Path) -> None:
    settings = "DEBUG = False\nif not DEBUG:\n    CELERY_TASK_ALWAYS_EAGER = True\n"
    assert flagged(tmp_path, settings, "CEL305") == [("CEL305", SETTINGS, 3)]


def test_cel305_not_in_a_module_that_sets_debug_true(tmp_path: Path) -> None:
    # `DEBUG = True` written in the module: development settings, not production
    settings = "DEBUG = True\nif DEBUG:\n    CELERY_TASK_ALWAYS_EAGER = True\n"
    assert flagged(tmp_path, settings, "CEL305") == []


# -- the settings as real projects write them: the checklist rules and CEL201 agree ------------

TASKS = """
    from celery import shared_task


    @shared_task
    def sync():
        pass
"""


def test_exec_of_an_override_file_does_not_hide_the_shipped_settings(tmp_path: Path) -> None:
    settings = ("import os\nINSTALLED_APPS = []\nif os.path.exists('/app/override.py'):\n"
                "    exec(open('/app/override.py').read())\n")
    project = {**APP_ONLY, "proj/settings.py": settings, "proj/tasks.py": TASKS}
    assert sorted(lint(tmp_path, project, select=("CEL201", "CEL303"))) == [
        ("CEL201", "proj/tasks.py", 5), ("CEL303", SETTINGS, 1)]


def test_hook_that_always_runs_leaves_both_silent(tmp_path: Path) -> None:
    settings = "from proj.plugins import load\nINSTALLED_APPS = []\nload(globals())\n"
    project = {**APP_ONLY, "proj/settings.py": settings, "proj/tasks.py": TASKS,
               "proj/plugins.py": "def load(names):\n    pass\n"}
    assert lint(tmp_path, project, select=("CEL201", "CEL301", "CEL303")) == []


def test_loop_over_the_environment_leaves_the_names_it_reaches_unknown(tmp_path: Path) -> None:
    settings = ("import os\nINSTALLED_APPS = []\nfor key in os.environ:\n"
                "    if key.startswith('CELERY_TASK_'):\n        globals()[key] = os.environ[key]\n")
    # task_acks_late and the limits may come from the environment; the prefetch multiplier not
    assert flagged(tmp_path, settings, "CEL301") == []
    assert flagged(tmp_path, settings, "CEL303") == []
    assert flagged(tmp_path, settings, "CEL302") == [("CEL302", SETTINGS, 1)]


def test_unguarded_import_of_a_missing_module_leaves_both_silent(tmp_path: Path) -> None:
    settings = "INSTALLED_APPS = []\nfrom .secrets import *\n"
    project = {**APP_ONLY, "proj/settings.py": settings, "proj/tasks.py": TASKS}
    assert lint(tmp_path, project, select=("CEL201", "CEL303")) == []


def test_settings_class_loaded_into_the_module_is_checked(tmp_path: Path) -> None:
    settings = ("class Production:\n    INSTALLED_APPS = []\n    CELERY_TASK_ACKS_LATE = False\n"
                "\nProduction.load_settings(__name__)\n")
    assert flagged(tmp_path, settings, "CEL301") == [("CEL301", SETTINGS, 3)]


def test_settings_class_loaded_into_the_module_passes(tmp_path: Path) -> None:
    settings = ("class Production:\n    INSTALLED_APPS = []\n    CELERY_TASK_ACKS_LATE = True\n"
                "\nProduction.load_settings(__name__)\n")
    assert flagged(tmp_path, settings, "CEL301") == []


def test_django_configurations_class_missing_a_setting(tmp_path: Path) -> None:
    settings = ("from configurations import Configuration\n\n"
                "class Production(Configuration):\n    INSTALLED_APPS = []\n")
    assert flagged(tmp_path, settings, "CEL303") == [("CEL303", SETTINGS, 1)]


def test_django_configurations_development_class_is_not_checked(tmp_path: Path) -> None:
    settings = ("from configurations import Configuration\n\n"
                "class Dev(Configuration):\n    INSTALLED_APPS = []\n")
    assert flagged(tmp_path, settings, "CEL303") == []


def test_development_settings_module_gets_no_checklist_finding(tmp_path: Path) -> None:
    settings = ('"""Settings for the dev project."""\nDEBUG = True\nINSTALLED_APPS = []\n'
                'CELERY_BROKER_URL = "redis://redis:6379/0"\n')
    project = {**APP_ONLY, "proj/settings.py": settings, "proj/tasks.py": TASKS}
    assert lint(tmp_path, project, select=("CEL201", "CEL301", "CEL302", "CEL303")) == []


def test_settings_module_with_debug_from_the_environment_is_checked(tmp_path: Path) -> None:
    settings = ('import os\nDEBUG = os.environ.get("DEBUG") == "1"\nINSTALLED_APPS = []\n')
    assert flagged(tmp_path, settings, "CEL301") == [("CEL301", SETTINGS, 1)]


def test_helper_module_of_the_settings_package_gets_no_checklist_finding(tmp_path: Path) -> None:
    assert package(tmp_path, "CEL301", base="INSTALLED_APPS = []\n",
                   production="from .base import *\nCELERY_TASK_ACKS_LATE = True\n",
                   logs="import logging\nFORMAT = '%(message)s'\nlogger = logging.getLogger()\n",
                   ) == []


# -- CEL306 unknown-setting ---------------------------------------------------------------------

def test_cel306_typo_under_the_namespace(tmp_path: Path) -> None:
    assert flagged(tmp_path, "X = 1\nCELERY_TASK_ACK_LATE = True\n", "CEL306") == [
        ("CEL306", SETTINGS, 2)]


def test_cel306_typo_suggests_the_setting(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": "CELERY_TASK_ACK_LATE = True\n"}
    [message] = messages(tmp_path, files, "CEL306")
    assert "did you mean `CELERY_TASK_ACKS_LATE`" in message


def test_cel306_old_name_under_the_namespace(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": "CELERY_ALWAYS_EAGER = False\n"}
    assert lint(tmp_path, files, select=("CEL306",)) == [("CEL306", SETTINGS, 1)]
    [message] = messages(tmp_path, files, "CEL306")
    assert "old name" in message
    assert "write `CELERY_TASK_ALWAYS_EAGER`" in message
    ignored = "does not read under namespace 'CELERY', so it never sees this value"
    assert (ignored in message) is not celery_reads_old_names_under_a_namespace()


def test_cel306_missing_prefix(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": "X = 1\nTASK_ACKS_LATE = True\n"}
    assert lint(tmp_path, files, select=("CEL306",)) == [("CEL306", SETTINGS, 2)]
    [message] = messages(tmp_path, files, "CEL306")
    assert "lacks the `CELERY_` prefix" in message
    assert "write `CELERY_TASK_ACKS_LATE`" in message


def test_cel306_noqa_on_the_assignment(tmp_path: Path) -> None:
    settings = "CELERY_TASK_ACK_LATE = True  # noqa: CEL306\n"
    assert lint(tmp_path, {**APP_ONLY, "proj/settings.py": settings},
                select=("CEL306", "CEL002")) == []


def test_cel306_typo_in_test_settings_is_still_a_typo(tmp_path: Path) -> None:
    assert package(tmp_path, "CEL306", base="INSTALLED_APPS = []\n",
                   production="from .base import *\nX = 1\n",
                   test="from .base import *\nCELERY_TASK_ALWAYS_EAGR = True\n") == [
        ("CEL306", "proj/settings/test.py", 2)]


def test_cel306_reported_once_for_two_production_modules(tmp_path: Path) -> None:
    assert package(tmp_path, "CEL306", base="CELERY_TASK_ACK_LATE = True\n",
                   production="from .base import *\nX = 1\n",
                   staging="from .base import *\nX = 2\n") == [
        ("CEL306", "proj/settings/base.py", 1)]


def test_cel306_old_broker_name_under_the_namespace(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": "BROKER_URL = 'redis://'\n"}
    [message] = messages(tmp_path, files, "CEL306")
    assert "write `CELERY_BROKER_URL`" in message


def test_cel306_project_setting_with_the_celery_prefix(tmp_path: Path) -> None:
    settings = "CELERY_EMAIL_BACKEND = 'django.core.mail.backends.smtp.EmailBackend'\n"
    assert flagged(tmp_path, settings, "CEL306") == []


def test_cel306_django_settings_are_not_celery_settings(tmp_path: Path) -> None:
    settings = "DEBUG = False\nTIME_ZONE = 'UTC'\nSECRET_KEY = 'x'\nINSTALLED_APPS = []\n"
    assert flagged(tmp_path, settings, "CEL306") == []


def test_cel306_project_settings_that_share_a_name_with_celery_settings(tmp_path: Path) -> None:
    # Celery has redis_host, database_url, cache_backend and the old name S3_BUCKET, but in Django
    # settings these are the project's own
    settings = ('import os\nDATABASE_URL = os.environ["DATABASE_URL"]\nREDIS_HOST = "redis"\n'
                'REDIS_PORT = 6379\nS3_BUCKET = "media"\nCACHE_BACKEND = "redis"\n')
    assert flagged(tmp_path, settings, "CEL306") == []


def test_cel306_missing_prefix_on_a_result_setting(tmp_path: Path) -> None:
    assert flagged(tmp_path, 'RESULT_BACKEND = "redis://"\n', "CEL306") == [
        ("CEL306", "proj/settings.py", 1)]


def test_cel306_known_setting_under_the_namespace(tmp_path: Path) -> None:
    settings = "CELERY_TASK_ACKS_LATE = True\nCELERY_BROKER_URL = 'redis://'\n"
    assert flagged(tmp_path, settings, "CEL306") == []


def test_cel306_lowercase_names_in_django_settings_are_not_read_but_not_flagged(
        tmp_path: Path) -> None:
    assert flagged(tmp_path, "celery_helper = 1\n", "CEL306") == []


def test_cel306_typo_in_a_base_module_of_the_chain(tmp_path: Path) -> None:
    assert package(tmp_path, "CEL306", base="CELERY_TASK_ACK_LATE = True\n",
                   production="from .base import *\nX = 1\n") == [
        ("CEL306", "proj/settings/base.py", 1)]


def test_cel306_prefixed_new_name_without_a_namespace(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/celery.py": NO_NAMESPACE_APP,
             "proj/settings.py": "X = 1\nCELERY_TASK_ACKS_LATE = True\n"}
    assert lint(tmp_path, files, select=("CEL306",)) == [("CEL306", SETTINGS, 2)]
    [message] = messages(tmp_path, files, "CEL306")
    assert "namespace='CELERY'" in message
    assert "`CELERY_ACKS_LATE`" in message


def test_cel301_prefixed_new_name_without_a_namespace_is_not_read(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/celery.py": NO_NAMESPACE_APP,
             "proj/settings.py": "X = 1\nCELERY_TASK_ACKS_LATE = True\n"}
    assert lint(tmp_path, files, select=("CEL301",)) == [("CEL301", SETTINGS, 1)]


def test_cel306_old_name_without_a_namespace_is_what_celery_reads(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/celery.py": NO_NAMESPACE_APP,
             "proj/settings.py": "CELERY_ACKS_LATE = True\nCELERYD_PREFETCH_MULTIPLIER = 1\n"}
    assert lint(tmp_path, files, select=("CEL306", "CEL301", "CEL302")) == []


def test_cel306_lowercase_typo_in_a_celeryconfig_module(tmp_path: Path) -> None:
    files = {"manage.py": "", "proj/celery.py": CONFIG_MODULE_APP,
             "proj/celeryconfig.py": "broker_url = 'redis://'\ntask_acks_lat = True\n"}
    assert lint(tmp_path, files, select=("CEL306",)) == [("CEL306", "proj/celeryconfig.py", 2)]
    [message] = messages(tmp_path, files, "CEL306")
    assert "did you mean `task_acks_late`" in message


def test_cel306_lowercase_names_in_a_celeryconfig_module(tmp_path: Path) -> None:
    files = {"manage.py": "", "proj/celery.py": CONFIG_MODULE_APP,
             "proj/celeryconfig.py": "broker_url = 'redis://'\ntask_acks_late = True\n"
                                     "worker_prefetch_multiplier = 1\n"}
    assert lint(tmp_path, files, select=("CEL306", "CEL301", "CEL302")) == []


def test_cel306_private_helper_in_a_celeryconfig_module(tmp_path: Path) -> None:
    files = {"manage.py": "", "proj/celery.py": CONFIG_MODULE_APP,
             "proj/celeryconfig.py": "_hours = 3600\ntask_time_limit = 2 * _hours\n"}
    assert lint(tmp_path, files, select=("CEL306",)) == []


def test_cel306_typo_in_app_conf_attribute(tmp_path: Path) -> None:
    celery = """
        from celery import Celery

        app = Celery("proj")
        app.conf.task_acks_lat = True
    """
    files = {"manage.py": "", "proj/celery.py": celery}
    assert lint(tmp_path, files, select=("CEL306",)) == [("CEL306", "proj/celery.py", 4)]
    [message] = messages(tmp_path, files, "CEL306")
    assert "did you mean `task_acks_late`" in message


def test_cel306_known_app_conf_attribute(tmp_path: Path) -> None:
    celery = """
        from celery import Celery

        app = Celery("proj")
        app.conf.task_acks_late = True
    """
    assert lint(tmp_path, {"manage.py": "", "proj/celery.py": celery}, select=("CEL306",)) == []


# -- CEL307 missing-installed-app ---------------------------------------------------------------

def test_cel307_django_db_results_without_the_app(tmp_path: Path) -> None:
    settings = "INSTALLED_APPS = ['django.contrib.admin']\nCELERY_RESULT_BACKEND = 'django-db'\n"
    assert flagged(tmp_path, settings, "CEL307") == [("CEL307", SETTINGS, 2)]


def test_cel307_django_cache_results_without_the_app(tmp_path: Path) -> None:
    settings = "INSTALLED_APPS = []\nCELERY_RESULT_BACKEND = 'django-cache'\n"
    assert flagged(tmp_path, settings, "CEL307") == [("CEL307", SETTINGS, 2)]


def test_cel307_django_db_results_with_the_app(tmp_path: Path) -> None:
    settings = ("INSTALLED_APPS = ['django.contrib.admin', 'django_celery_results']\n"
                "CELERY_RESULT_BACKEND = 'django-db'\n")
    assert flagged(tmp_path, settings, "CEL307") == []


def test_cel307_app_added_across_the_chain(tmp_path: Path) -> None:
    assert package(tmp_path, "CEL307", base="INSTALLED_APPS = ['django.contrib.admin']\n",
                   production="from .base import *\nINSTALLED_APPS += ['django_celery_results']\n"
                              "CELERY_RESULT_BACKEND = 'django-db'\n") == []


def test_cel307_app_added_only_in_test_settings(tmp_path: Path) -> None:
    assert package(tmp_path, "CEL307", base="INSTALLED_APPS = ['django.contrib.admin']\n",
                   production="from .base import *\nCELERY_RESULT_BACKEND = 'django-db'\n",
                   test="from .production import *\nINSTALLED_APPS.append('django_celery_results')\n"
                   ) == [("CEL307", PRODUCTION, 2)]


def test_cel307_database_scheduler_without_the_beat_app(tmp_path: Path) -> None:
    settings = ("INSTALLED_APPS = []\n"
                "CELERY_BEAT_SCHEDULER = 'django_celery_beat.schedulers:DatabaseScheduler'\n")
    assert flagged(tmp_path, settings, "CEL307") == [("CEL307", SETTINGS, 2)]


def test_cel307_database_scheduler_with_the_beat_app(tmp_path: Path) -> None:
    settings = ("INSTALLED_APPS = ['django_celery_beat']\n"
                "CELERY_BEAT_SCHEDULER = 'django_celery_beat.schedulers:DatabaseScheduler'\n")
    assert flagged(tmp_path, settings, "CEL307") == []


def test_cel307_installed_apps_with_an_unknown_item(tmp_path: Path) -> None:
    settings = ("import os\nINSTALLED_APPS = ['django.contrib.admin']\n"
                "if os.environ.get('RESULTS'):\n    INSTALLED_APPS.append('django_celery_results')\n"
                "CELERY_RESULT_BACKEND = 'django-db'\n")
    assert flagged(tmp_path, settings, "CEL307") == []


def test_cel307_redis_results(tmp_path: Path) -> None:
    settings = "INSTALLED_APPS = []\nCELERY_RESULT_BACKEND = 'redis://localhost/1'\n"
    assert flagged(tmp_path, settings, "CEL307") == []


def test_cel307_backend_from_the_environment(tmp_path: Path) -> None:
    settings = ("import os\nINSTALLED_APPS = []\n"
                "CELERY_RESULT_BACKEND = os.getenv('RESULTS', 'django-db')\n")
    assert flagged(tmp_path, settings, "CEL307") == []


# -- CEL308 results-never-expire ----------------------------------------------------------------

DB_RESULTS = "INSTALLED_APPS = ['django_celery_results']\nCELERY_RESULT_BACKEND = 'django-db'\n"


def test_cel308_expires_none_with_database_results(tmp_path: Path) -> None:
    assert flagged(tmp_path, DB_RESULTS + "CELERY_RESULT_EXPIRES = None\n", "CEL308") == [
        ("CEL308", SETTINGS, 3)]


def test_cel308_expires_zero_with_sqlalchemy_results(tmp_path: Path) -> None:
    settings = "CELERY_RESULT_BACKEND = 'db+postgresql://db/results'\nCELERY_RESULT_EXPIRES = 0\n"
    assert flagged(tmp_path, settings, "CEL308") == [("CEL308", SETTINGS, 2)]


def test_cel308_expires_set_with_database_results(tmp_path: Path) -> None:
    assert flagged(tmp_path, DB_RESULTS + "CELERY_RESULT_EXPIRES = 3600\n", "CEL308") == []


def test_cel308_expires_unset_with_database_results(tmp_path: Path) -> None:
    assert flagged(tmp_path, DB_RESULTS, "CEL308") == []


def test_cel308_expires_none_with_redis_results(tmp_path: Path) -> None:
    settings = "CELERY_RESULT_BACKEND = 'redis://localhost/1'\nCELERY_RESULT_EXPIRES = None\n"
    assert flagged(tmp_path, settings, "CEL308") == []


def test_cel308_expires_from_the_environment(tmp_path: Path) -> None:
    settings = DB_RESULTS + "import os\nCELERY_RESULT_EXPIRES = os.environ.get('EXPIRES')\n"
    assert flagged(tmp_path, settings, "CEL308") == []


# -- CEL309 hardcoded-broker-credentials --------------------------------------------------------

def test_cel309_password_in_the_broker_url(tmp_path: Path) -> None:
    settings = "X = 1\nCELERY_BROKER_URL = 'amqp://shop:s3cret@rabbit:5672//'\n"
    assert flagged(tmp_path, settings, "CEL309") == [("CEL309", SETTINGS, 2)]


def test_cel309_password_in_the_result_backend(tmp_path: Path) -> None:
    settings = "CELERY_RESULT_BACKEND = 'redis://:s3cret@cache:6379/1'\n"
    assert flagged(tmp_path, settings, "CEL309") == [("CEL309", SETTINGS, 1)]


def test_cel309_url_without_a_password(tmp_path: Path) -> None:
    assert flagged(tmp_path, "CELERY_BROKER_URL = 'redis://cache:6379/0'\n", "CEL309") == []


def test_cel309_url_from_the_environment(tmp_path: Path) -> None:
    settings = "import os\nCELERY_BROKER_URL = os.environ['BROKER_URL']\n"
    assert flagged(tmp_path, settings, "CEL309") == []


def test_cel309_password_from_the_environment_in_an_fstring(tmp_path: Path) -> None:
    settings = ("import os\n"
                "CELERY_BROKER_URL = f\"amqp://shop:{os.environ['BROKER_PASSWORD']}@rabbit//\"\n")
    assert flagged(tmp_path, settings, "CEL309") == []


def test_cel309_password_in_the_celery_constructor(tmp_path: Path) -> None:
    celery = """
        from celery import Celery

        app = Celery('proj', broker='amqp://user:secret@host//')
    """
    assert lint(tmp_path, {"manage.py": "", "proj/celery.py": celery}, select=("CEL309",)) == [
        ("CEL309", "proj/celery.py", 3)]


def test_cel309_message_does_not_repeat_the_password(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": "CELERY_BROKER_URL = 'amqp://shop:s3cret@rabbit//'\n"}
    [message] = messages(tmp_path, files, "CEL309")
    assert "`shop`" in message
    assert "s3cret" not in message


# -- CEL310 timezone-mismatch -------------------------------------------------------------------

def test_cel310_celery_timezone_differs_from_django(tmp_path: Path) -> None:
    settings = "TIME_ZONE = 'Europe/Paris'\nCELERY_TIMEZONE = 'UTC'\n"
    assert flagged(tmp_path, settings, "CEL310") == [("CEL310", SETTINGS, 2)]


def test_cel310_same_timezone(tmp_path: Path) -> None:
    settings = "TIME_ZONE = 'Europe/Paris'\nCELERY_TIMEZONE = TIME_ZONE\n"
    assert flagged(tmp_path, settings, "CEL310") == []


def test_cel310_celery_timezone_unset(tmp_path: Path) -> None:
    assert flagged(tmp_path, "TIME_ZONE = 'Europe/Paris'\n", "CEL310") == []


def test_cel310_enable_utc_contradicts_use_tz(tmp_path: Path) -> None:
    settings = "USE_TZ = True\nX = 1\nCELERY_ENABLE_UTC = False\n"
    assert flagged(tmp_path, settings, "CEL310") == [("CEL310", SETTINGS, 3)]


def test_cel310_enable_utc_agrees_with_use_tz(tmp_path: Path) -> None:
    assert flagged(tmp_path, "USE_TZ = True\nCELERY_ENABLE_UTC = True\n", "CEL310") == []


def test_cel310_timezone_from_the_environment(tmp_path: Path) -> None:
    settings = ("import os\nTIME_ZONE = 'Europe/Paris'\n"
                "CELERY_TIMEZONE = os.getenv('CELERY_TZ', 'UTC')\n")
    assert flagged(tmp_path, settings, "CEL310") == []


def test_cel310_not_applicable_to_a_celeryconfig_module(tmp_path: Path) -> None:
    files = {"manage.py": "", "proj/celery.py": CONFIG_MODULE_APP,
             "proj/celeryconfig.py": "timezone = 'UTC'\nenable_utc = False\n"}
    assert lint(tmp_path, files, select=("CEL310",)) == []


# -- CEL311 single-queue (info) -----------------------------------------------------------------

def test_cel311_no_routes(tmp_path: Path) -> None:
    assert flagged(tmp_path, "X = 1\n", "CEL311") == [("CEL311", SETTINGS, 1)]


def test_cel311_task_routes(tmp_path: Path) -> None:
    settings = "CELERY_TASK_ROUTES = {'shop.tasks.*': {'queue': 'shop'}}\n"
    assert flagged(tmp_path, settings, "CEL311") == []


def test_cel311_task_queues(tmp_path: Path) -> None:
    settings = "from kombu import Queue\nCELERY_TASK_QUEUES = (Queue('default'), Queue('slow'))\n"
    assert flagged(tmp_path, settings, "CEL311") == []


def test_cel311_queue_in_a_task_decorator(tmp_path: Path) -> None:
    tasks = """
        from celery import shared_task


        @shared_task(queue="slow")
        def build_report(year):
            return year
    """
    assert flagged(tmp_path, "X = 1\n", "CEL311", shop__tasks=tasks) == []


def test_cel311_is_off_by_default(tmp_path: Path) -> None:
    codes = {code for code, _, _ in lint(tmp_path, {**APP_ONLY, "proj/settings.py": "X = 1\n"})}
    assert "CEL303" in codes
    assert codes.isdisjoint({"CEL311", "CEL312", "CEL314"})


# -- CEL312 no-failure-monitoring (info) --------------------------------------------------------

def test_cel312_no_monitoring(tmp_path: Path) -> None:
    assert flagged(tmp_path, "X = 1\n", "CEL312") == [("CEL312", SETTINGS, 1)]


def test_cel312_task_failure_handler(tmp_path: Path) -> None:
    signals = """
        from celery.signals import task_failure


        @task_failure.connect
        def report_failure(sender=None, **kwargs):
            pass
    """
    assert flagged(tmp_path, "X = 1\n", "CEL312", shop__signals=signals) == []


def test_cel312_sentry_celery_integration(tmp_path: Path) -> None:
    settings = """
        import sentry_sdk
        from sentry_sdk.integrations.celery import CeleryIntegration

        sentry_sdk.init(dsn="", integrations=[CeleryIntegration()])
    """
    assert flagged(tmp_path, settings, "CEL312") == []


def test_cel312_task_base_class_with_on_failure(tmp_path: Path) -> None:
    base = """
        from celery import Task


        class ReportingTask(Task):
            def on_failure(self, exc, task_id, args, kwargs, einfo):
                pass
    """
    assert flagged(tmp_path, "X = 1\n", "CEL312", shop__base=base) == []


def test_cel312_a_function_named_on_failure_elsewhere_is_not_monitoring(tmp_path: Path) -> None:
    helpers = "class Retry:\n    def on_failure(self):\n        pass\n"
    assert flagged(tmp_path, "X = 1\n", "CEL312", shop__helpers=helpers) == [
        ("CEL312", SETTINGS, 1)]


# -- CEL313 reject-on-worker-lost-unset ---------------------------------------------------------

def test_cel313_acks_late_without_reject_on_worker_lost(tmp_path: Path) -> None:
    assert flagged(tmp_path, "CELERY_TASK_ACKS_LATE = True\n", "CEL313") == [
        ("CEL313", SETTINGS, 1)]


def test_cel313_reject_on_worker_lost_false(tmp_path: Path) -> None:
    settings = "CELERY_TASK_ACKS_LATE = True\nCELERY_TASK_REJECT_ON_WORKER_LOST = False\n"
    assert flagged(tmp_path, settings, "CEL313") == [("CEL313", SETTINGS, 2)]


def test_cel313_acks_late_and_reject_on_worker_lost(tmp_path: Path) -> None:
    settings = "CELERY_TASK_ACKS_LATE = True\nCELERY_TASK_REJECT_ON_WORKER_LOST = True\n"
    assert lint(tmp_path, {**APP_ONLY, "proj/settings.py": settings},
                select=("CEL301", "CEL313")) == []


def test_cel313_acks_late_off(tmp_path: Path) -> None:
    assert flagged(tmp_path, "CELERY_TASK_ACKS_LATE = False\n", "CEL313") == []


def test_cel313_acks_late_from_the_environment(tmp_path: Path) -> None:
    settings = "import os\nCELERY_TASK_ACKS_LATE = os.getenv('ACKS', 'true') == 'true'\n"
    assert flagged(tmp_path, settings, "CEL313") == []


def test_cel313_reject_on_worker_lost_from_the_environment(tmp_path: Path) -> None:
    settings = ("import os\nCELERY_TASK_ACKS_LATE = True\n"
                "CELERY_TASK_REJECT_ON_WORKER_LOST = os.getenv('REJECT', '') == '1'\n")
    assert flagged(tmp_path, settings, "CEL313") == []


# -- CEL314 connection-retry-on-startup-unset (info) --------------------------------------------

def test_cel314_unset(tmp_path: Path) -> None:
    assert flagged(tmp_path, "X = 1\n", "CEL314") == [("CEL314", SETTINGS, 1)]


def test_cel314_set_true(tmp_path: Path) -> None:
    settings = "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True\n"
    assert flagged(tmp_path, settings, "CEL314") == []


def test_cel314_set_false_is_a_choice(tmp_path: Path) -> None:
    settings = "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = False\n"
    assert flagged(tmp_path, settings, "CEL314") == []


# -- CEL202 soft-limit-not-below-hard, global limits --------------------------------------------

def test_cel202_global_soft_limit_equal_to_hard(tmp_path: Path) -> None:
    settings = "CELERY_TASK_TIME_LIMIT = 300\nCELERY_TASK_SOFT_TIME_LIMIT = 5 * 60\n"
    assert flagged(tmp_path, settings, "CEL202") == [("CEL202", SETTINGS, 2)]


def test_cel202_global_soft_limit_below_hard(tmp_path: Path) -> None:
    settings = "CELERY_TASK_TIME_LIMIT = 300\nCELERY_TASK_SOFT_TIME_LIMIT = 270\n"
    assert flagged(tmp_path, settings, "CEL202") == []


def test_cel202_limits_split_across_the_chain(tmp_path: Path) -> None:
    assert package(tmp_path, "CEL202", base="CELERY_TASK_TIME_LIMIT = 300\n",
                   production="from .base import *\nCELERY_TASK_SOFT_TIME_LIMIT = 600\n") == [
        ("CEL202", PRODUCTION, 2)]


def test_cel202_hard_limit_raised_in_production(tmp_path: Path) -> None:
    assert package(tmp_path, "CEL202",
                   base="CELERY_TASK_TIME_LIMIT = 300\nCELERY_TASK_SOFT_TIME_LIMIT = 600\n",
                   production="from .base import *\nCELERY_TASK_TIME_LIMIT = 900\n") == []


def test_cel202_global_soft_limit_from_the_environment(tmp_path: Path) -> None:
    settings = ("import os\nCELERY_TASK_TIME_LIMIT = 300\n"
                "CELERY_TASK_SOFT_TIME_LIMIT = int(os.getenv('SOFT', '600'))\n")
    assert flagged(tmp_path, settings, "CEL202") == []


def test_cel202_limits_in_a_celeryconfig_module(tmp_path: Path) -> None:
    files = {"manage.py": "", "proj/celery.py": CONFIG_MODULE_APP,
             "proj/celeryconfig.py": "task_time_limit = 60\ntask_soft_time_limit = 90\n"}
    assert lint(tmp_path, files, select=("CEL202",)) == [("CEL202", "proj/celeryconfig.py", 2)]


# -- the family together ------------------------------------------------------------------------

def test_every_cel3_diagnostic_of_a_bad_settings_module(tmp_path: Path) -> None:
    settings = """
        INSTALLED_APPS = ['django.contrib.admin']
        TIME_ZONE = 'Europe/Paris'
        CELERY_BROKER_URL = 'amqp://shop:s3cret@rabbit//'
        CELERY_RESULT_BACKEND = 'django-db'
        CELERY_RESULT_EXPIRES = None
        CELERY_TASK_ACKS_LATE = False
        CELERY_WORKER_PREFETCH_MULTIPLIER = 4
        CELERY_TASK_SERIALIZER = 'pickle'
        CELERY_TASK_ALWAYS_EAGER = True
        CELERY_TASK_ACK_LATE = True
        CELERY_TIMEZONE = 'UTC'
    """
    assert sorted(flagged(tmp_path, settings, "CEL3", preview=True)) == [
        ("CEL301", SETTINGS, 6), ("CEL302", SETTINGS, 7), ("CEL303", SETTINGS, 1),
        ("CEL304", SETTINGS, 8), ("CEL305", SETTINGS, 9), ("CEL306", SETTINGS, 10),
        ("CEL307", SETTINGS, 4), ("CEL308", SETTINGS, 5), ("CEL309", SETTINGS, 3),
        ("CEL310", SETTINGS, 11), ("CEL311", SETTINGS, 1), ("CEL312", SETTINGS, 1),
        ("CEL314", SETTINGS, 1),
    ]


def test_a_production_ready_settings_module_is_clean(tmp_path: Path) -> None:
    settings = """
        import os
        import sentry_sdk
        from sentry_sdk.integrations.celery import CeleryIntegration

        INSTALLED_APPS = ['django.contrib.admin', 'django_celery_results']
        TIME_ZONE = 'UTC'
        CELERY_BROKER_URL = os.environ['BROKER_URL']
        CELERY_RESULT_BACKEND = 'django-db'
        CELERY_TASK_ACKS_LATE = True
        CELERY_TASK_REJECT_ON_WORKER_LOST = True
        CELERY_WORKER_PREFETCH_MULTIPLIER = 1
        CELERY_TASK_SOFT_TIME_LIMIT = 240
        CELERY_TASK_TIME_LIMIT = 300
        CELERY_TASK_ROUTES = {'shop.tasks.*': {'queue': 'shop'}}
        CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
        CELERY_TIMEZONE = TIME_ZONE

        sentry_sdk.init(dsn=os.environ.get('SENTRY_DSN'), integrations=[CeleryIntegration()])
    """
    assert flagged(tmp_path, settings, "CEL3", preview=True) == []
    assert flagged(tmp_path, settings, "CEL202") == []


# -- judged by the project's own Celery ---------------------------------------------------------

def pinned(version: str, settings: str, **files: str) -> dict[str, str]:
    """APP_ONLY with proj/settings.py = `settings` and requirements.txt pinning `version`."""
    project = {**APP_ONLY, "proj/settings.py": settings, "requirements.txt": f"celery{version}\n"}
    project.update({name.replace("__", "/") + ".py": text for name, text in files.items()})
    return project


def diagnostics_of(root: Path, files: dict[str, str], code: str) -> list:
    result = run_project(root, files, (code,))
    assert not result.internal_errors, result.warnings
    return result.diagnostics


def test_cel306_old_name_under_the_namespace_on_celery_5_6(tmp_path: Path) -> None:
    [found] = diagnostics_of(tmp_path, pinned("==5.6.3", "CELERY_ACKS_LATE = True\n"), "CEL306")
    assert found.message == (
        "`CELERY_ACKS_LATE` is Celery's old name for `task_acks_late`, which Celery 5.6 "
        "(celery==5.6.3 in requirements.txt) does not read under namespace 'CELERY', so it never "
        "sees this value; write `CELERY_TASK_ACKS_LATE`")
    # the rename makes the setting take effect for the first time
    assert found.fix is not None and found.fix.applicability == Applicability.UNSAFE


def test_cel306_old_name_under_the_namespace_on_celery_5_7(tmp_path: Path) -> None:
    [found] = diagnostics_of(tmp_path, pinned("==5.7.0", "CELERY_ACKS_LATE = True\n"), "CEL306")
    assert "Celery 5.7 (celery==5.7.0 in requirements.txt) still reads it but warns" in \
        found.message
    assert found.fix is not None and found.fix.applicability == Applicability.SAFE


def test_cel306_old_name_ignored_with_the_default_value_renames_safely(tmp_path: Path) -> None:
    [found] = diagnostics_of(tmp_path, pinned("==5.6.3", "CELERY_ACKS_LATE = False\n"), "CEL306")
    assert found.fix is not None and found.fix.applicability == Applicability.SAFE


def test_cel306_old_name_read_by_some_releases_of_a_range(tmp_path: Path) -> None:
    [found] = diagnostics_of(tmp_path, pinned(">=5.6", "CELERY_ACKS_LATE = True\n"), "CEL306")
    assert "of Celery 5.6 or later (celery>=5.6 in requirements.txt), Celery 5.7 reads it with " \
           "a warning at startup, Celery 5.6 never reads it under namespace 'CELERY'" in \
        found.message
    assert found.fix is not None and found.fix.applicability == Applicability.UNSAFE


def test_cel301_old_name_read_by_some_releases_is_unknown(tmp_path: Path) -> None:
    files = pinned(">=5.6", "CELERY_ACKS_LATE = True\n")
    assert lint(tmp_path, files, select=("CEL301",)) == []


def test_cel301_old_name_ignored_by_celery_5_6_is_named(tmp_path: Path) -> None:
    [found] = diagnostics_of(tmp_path, pinned("==5.6.3", "X = 1\nCELERY_ACKS_LATE = True\n"),
                             "CEL301")
    assert found.location.row == 1
    assert "`CELERY_ACKS_LATE` (proj.settings line 2) is not a name Celery 5.6" in found.message


def test_cel301_old_name_read_by_celery_5_7(tmp_path: Path) -> None:
    assert lint(tmp_path, pinned("==5.7.0", "CELERY_ACKS_LATE = True\n"),
                select=("CEL301",)) == []


def test_cel306_a_soft_limit_is_meant_for_the_soft_limit(tmp_path: Path) -> None:
    [found] = diagnostics_of(tmp_path, pinned("==5.6.3", "CELERYD_SOFT_TIME_LIMIT = 600\n"),
                             "CEL306")
    assert found.message.endswith("did you mean `CELERY_TASK_SOFT_TIME_LIMIT`?")
    assert found.fix is None  # a name by its meaning is a guess


def test_cel306_a_plain_time_limit_is_meant_for_the_hard_limit(tmp_path: Path) -> None:
    [message] = messages(tmp_path, pinned("==5.6.3", "CELERY_TIME_LIMIT = 600\n"), "CEL306")
    assert message.endswith("did you mean `CELERY_TASK_TIME_LIMIT`?")


def test_cel306_the_old_soft_limit_name_is_read_by_celery_5_7(tmp_path: Path) -> None:
    [message] = messages(tmp_path, pinned("==5.7.0", "CELERYD_TASK_SOFT_TIME_LIMIT = 600\n"),
                         "CEL306")
    assert "old name for `task_soft_time_limit`" in message and "still reads it" in message


def test_cel306_every_celery_name_celery_does_not_read(tmp_path: Path) -> None:
    settings = "CELERY_ENABLED = True\nCELERY_SEND_TASK_ERROR_EMAILS = False\n"
    assert messages(tmp_path, pinned("==5.6.3", settings), "CEL306") == [
        f"`{name}` is not a setting of Celery 5.6 (celery==5.6.3 in requirements.txt) under "
        "namespace 'CELERY', and the project does not read it itself, so its value is never used"
        for name in ("CELERY_ENABLED", "CELERY_SEND_TASK_ERROR_EMAILS")]


def test_cel306_a_name_the_project_reads_as_a_setting(tmp_path: Path) -> None:
    files = pinned("==5.6.3", "CELERY_ENABLED = True\n", shop__tasks=(
        "from django.conf import settings\n\n"
        "def enabled():\n    return settings.CELERY_ENABLED\n"))
    assert lint(tmp_path, files, select=("CEL306",)) == []


def test_cel306_a_name_the_project_reads_with_getattr(tmp_path: Path) -> None:
    files = pinned("==5.6.3", "CELERY_FLOWER_URL = 'http://flower'\n", shop__views=(
        "from django.conf import settings as conf\n\n"
        "def flower():\n    return getattr(conf, 'CELERY_FLOWER_URL', None)\n"))
    assert lint(tmp_path, files, select=("CEL306",)) == []


def test_cel306_a_name_read_from_the_app_configuration(tmp_path: Path) -> None:
    files = pinned("==5.6.3", "CELERY_AUDIT_QUEUE = 'audit'\nCELERY_AUDIT_TTL = 60\n",
                   shop__tasks=("from celery import current_app\n\n"
                                "QUEUE = current_app.conf.audit_queue\n"
                                "TTL = current_app.conf.get('audit_ttl')\n"))
    assert lint(tmp_path, files, select=("CEL306",)) == []


def test_cel306_a_name_other_settings_are_computed_from(tmp_path: Path) -> None:
    settings = "CELERY_REDIS = 'redis://r:6379'\nCELERY_BROKER_URL = CELERY_REDIS + '/0'\n"
    assert lint(tmp_path, pinned("==5.6.3", settings), select=("CEL306",)) == []


def test_cel306_a_name_only_in_a_string_is_not_read(tmp_path: Path) -> None:
    settings = ("import os\nCELERY_LOADER = os.environ.get('CELERY_LOADER', 'x')\n")
    assert lint(tmp_path, pinned("==5.6.3", settings), select=("CEL306",)) == [
        ("CEL306", SETTINGS, 2)]


def test_cel306_names_of_celery_extensions(tmp_path: Path) -> None:
    settings = ("CELERY_REDBEAT_REDIS_URL = 'redis://'\nCELERY_SINGLETON_BACKEND_URL = 'redis://'\n"
                "CELERY_ONCE = {'backend': 'celery_once.backends.Redis'}\n")
    assert lint(tmp_path, pinned("==5.6.3", settings), select=("CEL306",)) == []


def test_cel306_a_setting_read_by_celery_code_but_not_in_its_defaults(tmp_path: Path) -> None:
    settings = "CELERY_RESULT_BACKEND_THREAD_SAFE = True\n"
    assert lint(tmp_path, pinned("==5.6.3", settings), select=("CEL306",)) == []


def test_cel306_a_setting_of_a_later_release(tmp_path: Path) -> None:
    [message] = messages(tmp_path, pinned("==5.2.7", "CELERY_RESULT_BACKEND_THREAD_SAFE = True\n"),
                         "CEL306")
    assert message == ("`CELERY_RESULT_BACKEND_THREAD_SAFE` is not a setting of Celery 5.2 "
                       "(celery==5.2.7 in requirements.txt), so it is never read: "
                       "`result_backend_thread_safe` came in Celery 5.3")


def test_cel306_a_setting_some_releases_of_the_range_have(tmp_path: Path) -> None:
    settings = "CELERY_TASK_ACKS_ON_FAILURE = False\n"
    assert lint(tmp_path, pinned("==5.6.3", settings), select=("CEL306",)) == [
        ("CEL306", SETTINGS, 1)]
    assert lint(tmp_path, pinned(">=5.6", settings), select=("CEL306",)) == []
    assert lint(tmp_path, pinned("==5.7.0", settings), select=("CEL306",)) == []


def test_cel306_old_name_beside_its_new_name_is_deleted_not_renamed(tmp_path: Path) -> None:
    settings = "CELERY_RESULT_EXPIRES = 86400\nCELERY_TASK_RESULT_EXPIRES = 43200\n"
    [found] = diagnostics_of(tmp_path, pinned("==5.6.3", settings), "CEL306")
    assert found.location.row == 2
    assert found.message.endswith("; `CELERY_RESULT_EXPIRES` is set too (line 1), so this line "
                                  "has no effect: delete it")
    assert found.fix is None


def test_cel306_a_misnamed_setting_beside_the_real_one(tmp_path: Path) -> None:
    settings = "CELERY_SEND_TASK_EVENTS = True\nCELERY_WORKER_SEND_TASK_EVENTS = True\n"
    [message] = messages(tmp_path, pinned("==5.6.3", settings), "CEL306")
    assert message.endswith("it looks meant for `CELERY_WORKER_SEND_TASK_EVENTS`, which is set "
                            "too (line 2), so this line has no effect: delete it")


def test_cel306_new_name_set_only_in_test_settings_is_no_twin(tmp_path: Path) -> None:
    project = {**APP_ONLY, "requirements.txt": "celery==5.6.3\n",
               "proj/settings/__init__.py": "",
               "proj/settings/production.py": "CELERY_TASK_RESULT_EXPIRES = 43200\n",
               "proj/settings/test.py": "from .production import *\nCELERY_RESULT_EXPIRES = 1\n"}
    [found] = diagnostics_of(tmp_path, project, "CEL306")
    assert "delete it" not in found.message
    assert found.fix is None  # the rename would clash with the test settings' name


def test_cel306_every_lowercase_name_of_a_config_module(tmp_path: Path) -> None:
    files = {"manage.py": "", "proj/celery.py": CONFIG_MODULE_APP,
             "requirements.txt": "celery==5.6.3\n",
             "proj/celeryconfig.py": "broker_url = 'redis://'\nretry_everything = True\n"}
    assert lint(tmp_path, files, select=("CEL306",)) == [("CEL306", "proj/celeryconfig.py", 2)]


def test_cel306_lowercase_helpers_of_a_config_module(tmp_path: Path) -> None:
    files = {"manage.py": "", "proj/celery.py": CONFIG_MODULE_APP,
             "proj/celeryconfig.py": ("import os\nredis_server = os.environ.get('REDIS', 'r')\n"
                                      "broker_url = f'redis://{redis_server}:6379/0'\n"
                                      "result_ttl = 60\n"),
             "proj/jobs.py": "from proj.celeryconfig import result_ttl\n"}
    assert lint(tmp_path, files, select=("CEL306",)) == []


def test_cel306_a_celery_name_without_a_namespace(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/celery.py": NO_NAMESPACE_APP,
             "proj/settings.py": "CELERY_MONITORING = True\nREDIS_HOST = 'r'\n"}
    assert lint(tmp_path, files, select=("CEL306",)) == [("CEL306", SETTINGS, 1)]


def test_cel303_names_a_misnamed_global_limit(tmp_path: Path) -> None:
    files = pinned("==5.6.3", "X = 1\nCELERYD_SOFT_TIME_LIMIT = 600\n")
    [found] = diagnostics_of(tmp_path, files, "CEL303")
    assert found.location.row == 1
    assert found.message.endswith(
        "; `CELERYD_SOFT_TIME_LIMIT` (proj.settings line 2) is not a name Celery 5.6 "
        "(celery==5.6.3 in requirements.txt) reads, so it sets nothing")


def test_cel303_an_old_limit_name_ignored_by_celery_5_6(tmp_path: Path) -> None:
    files = pinned("==5.6.3", "CELERYD_TASK_SOFT_TIME_LIMIT = 600\n")
    [found] = diagnostics_of(tmp_path, files, "CEL303")
    assert "`CELERYD_TASK_SOFT_TIME_LIMIT` (proj.settings line 1) is not a name" in found.message


def test_cel303_an_old_limit_name_read_by_celery_5_7(tmp_path: Path) -> None:
    assert lint(tmp_path, pinned("==5.7.0", "CELERYD_TASK_SOFT_TIME_LIMIT = 600\n"),
                select=("CEL303",)) == []


def test_cel303_the_limit_by_its_name(tmp_path: Path) -> None:
    assert lint(tmp_path, pinned("==5.6.3", "CELERY_TASK_SOFT_TIME_LIMIT = 600\n"),
                select=("CEL303",)) == []


def test_cel201_with_a_misnamed_global_limit(tmp_path: Path) -> None:
    files = pinned("==5.6.3", "CELERYD_SOFT_TIME_LIMIT = 600\n", shop__tasks=(
        "from celery import shared_task\n\n\n@shared_task\ndef sync():\n    pass\n"))
    [found] = diagnostics_of(tmp_path, files, "CEL201")
    assert found.message.endswith("a hung call holds a worker forever; `CELERYD_SOFT_TIME_LIMIT` "
                                  "(proj.settings line 1) is not a name Celery 5.6 "
                                  "(celery==5.6.3 in requirements.txt) reads, so it sets nothing")


def test_cel201_with_the_global_limit_by_its_name(tmp_path: Path) -> None:
    files = pinned("==5.6.3", "CELERY_TASK_SOFT_TIME_LIMIT = 600\n", shop__tasks=(
        "from celery import shared_task\n\n\n@shared_task\ndef sync():\n    pass\n"))
    assert lint(tmp_path, files, select=("CEL201",)) == []


def test_cel314_not_applicable_before_celery_5_3(tmp_path: Path) -> None:
    assert lint(tmp_path, pinned("==5.2.7", "X = 1\n"), select=("CEL314",)) == []
    assert lint(tmp_path, pinned("==5.3.6", "X = 1\n"), select=("CEL314",)) == [
        ("CEL314", SETTINGS, 1)]
