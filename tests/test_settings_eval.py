"""Static evaluation of settings: expressions (`evaluate_source`) and settings modules through a
project (star-import chains, `+=`/`.append`, `if`/`try` blocks, the production module)."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from helpers import CELERY_APP, write_project

from celery_lint.config import Config
from celery_lint.facts.evaluate import Qualify, evaluate, evaluate_source
from celery_lint.facts.settings import SettingsModel, describe, qualifier, uncertain
from celery_lint.facts.types import FromEnv, Unknown, Value
from celery_lint.runner import load_project

# The app of helpers.CELERY_APP (DJANGO_SETTINGS_MODULE = proj.settings), without its settings.
APP_ONLY = {k: v for k, v in CELERY_APP.items() if k != "proj/settings.py"}


def imported(names: dict[str, str]) -> Qualify:
    """A qualifier for a file that imports `names` (local name → qualified name)."""
    return qualifier(names)


def env(variable: str, default: Value, text: str, has_default: bool = True) -> FromEnv:
    return FromEnv("environment", variable, default, has_default, text)


# -- literals, names, arithmetic, containers ---------------------------------------------------

def test_arithmetic_of_literals() -> None:
    assert evaluate_source("30 * 60", {}) == 1800


def test_arithmetic_with_a_name_defined_earlier() -> None:
    assert evaluate_source("MINUTES * 60", {"MINUTES": 5}) == 300


def test_name_defined_earlier() -> None:
    assert evaluate_source("BROKER", {"BROKER": "redis://localhost"}) == "redis://localhost"


def test_name_not_defined_is_unknown() -> None:
    assert evaluate_source("BROKER", {}) == Unknown("BROKER")


def test_true_false_none_names() -> None:
    assert [evaluate_source(t, {}) for t in ("True", "False", "None")] == [True, False, None]


def test_list_concatenation_is_a_tuple() -> None:
    assert evaluate_source("['a'] + ['b']", {}) == ("a", "b")


def test_list_concatenation_with_a_name() -> None:
    assert evaluate_source("DJANGO_APPS + ['shop']", {"DJANGO_APPS": ("admin", "auth")}) \
        == ("admin", "auth", "shop")


def test_list_with_a_starred_name() -> None:
    assert evaluate_source("[*BASE, 'shop']", {"BASE": ("admin",)}) == ("admin", "shop")


def test_dict_keeps_known_values_and_marks_unknown_ones() -> None:
    assert evaluate_source("{'queue': 'mail', 'rate': make_rate()}", {}) == {
        "queue": "mail", "rate": Unknown("make_rate()")}


def test_dict_with_an_unknown_key_is_unknown() -> None:
    assert isinstance(evaluate_source("{KEY: 1}", {}), Unknown)


def test_dict_call_with_keywords() -> None:
    assert evaluate_source("dict(queue='mail')", {}) == {"queue": "mail"}


def test_subscript_of_a_known_dict() -> None:
    assert evaluate_source("LIMITS['hard']", {"LIMITS": {"hard": 300}}) == 300


def test_division_by_zero_is_unknown_not_a_crash() -> None:
    assert evaluate_source("1 / 0", {}) == Unknown("1 / 0")


def test_huge_power_is_unknown() -> None:
    assert isinstance(evaluate_source("2 ** 100000", {}), Unknown)


def test_bool_arithmetic_is_unknown() -> None:
    assert isinstance(evaluate_source("True + 1", {}), Unknown)


def test_unparsable_text_is_unknown() -> None:
    assert evaluate_source("(", {}) == Unknown("(")


def test_conditional_expression_on_a_known_test() -> None:
    assert evaluate_source("'a' if DEBUG else 'b'", {"DEBUG": False}) == "b"


def test_conditional_expression_on_an_unknown_test() -> None:
    assert isinstance(evaluate_source("'a' if DEBUG else 'b'", {}), Unknown)


def test_string_method_on_a_literal() -> None:
    assert evaluate_source("'Europe/Paris'.strip()", {}) == "Europe/Paris"


def test_evaluate_takes_an_ast_node() -> None:
    assert evaluate(ast.parse("2 * HOURS", mode="eval").body, {"HOURS": 3}) == 6


# -- f-strings ----------------------------------------------------------------------------------

def test_fstring_of_known_names() -> None:
    assert evaluate_source("f'redis://{HOST}:{PORT}/0'", {"HOST": "cache", "PORT": 6379}) \
        == "redis://cache:6379/0"


def test_fstring_of_an_unknown_name_is_unknown() -> None:
    assert isinstance(evaluate_source("f'redis://{HOST}/0'", {}), Unknown)


def test_fstring_with_a_format_spec_is_unknown() -> None:
    assert isinstance(evaluate_source("f'{PORT:05d}'", {"PORT": 6379}), Unknown)


def test_fstring_of_an_environment_read_is_from_the_environment() -> None:
    value = evaluate_source("f\"redis://{os.environ['HOST']}:6379\"", {})
    assert isinstance(value, FromEnv)
    assert (value.variable, value.has_default) == ("HOST", False)


def test_fstring_of_an_environment_read_with_default() -> None:
    value = evaluate_source("f\"redis://{os.getenv('HOST', 'localhost')}:6379\"", {})
    assert isinstance(value, FromEnv)
    assert value.default == "redis://localhost:6379"


# -- the environment: os ------------------------------------------------------------------------

def test_os_environ_get_with_default() -> None:
    assert evaluate_source("os.environ.get('X', 'd')", {}) == env(
        "X", "d", "os.environ.get('X', 'd')")


def test_os_environ_get_with_default_keyword() -> None:
    value = evaluate_source("os.environ.get('X', default='d')", {})
    assert isinstance(value, FromEnv) and value.default == "d"


def test_os_getenv_with_default() -> None:
    assert evaluate_source("os.getenv('X', '5')", {}) == env("X", "5", "os.getenv('X', '5')")


def test_os_getenv_without_default_falls_back_to_none() -> None:
    value = evaluate_source("os.getenv('X')", {})
    assert isinstance(value, FromEnv)
    assert (value.variable, value.default, value.has_default) == ("X", None, True)


def test_getenv_imported_from_os() -> None:
    value = evaluate_source("getenv('X', 'd')", {}, imported({"getenv": "os.getenv"}))
    assert isinstance(value, FromEnv) and value.default == "d"


def test_os_environ_subscript_has_no_default() -> None:
    assert evaluate_source("os.environ['X']", {}) == env(
        "X", None, "os.environ['X']", has_default=False)


def test_environ_get_or_default() -> None:
    value = evaluate_source("os.environ.get('X') or 'd'", {})
    assert isinstance(value, FromEnv)
    assert (value.variable, value.default) == ("X", "d")


def test_int_of_an_environment_read_casts_the_default() -> None:
    value = evaluate_source("int(os.getenv('CONCURRENCY', '4'))", {})
    assert isinstance(value, FromEnv) and value.default == 4


def test_bool_of_the_string_false_is_true_as_in_python() -> None:
    value = evaluate_source("bool(os.getenv('X', 'False'))", {})
    assert isinstance(value, FromEnv)
    assert value.default is True


def test_lower_equals_true_of_the_string_false_is_false() -> None:
    value = evaluate_source("os.getenv('X', 'False').lower() == 'true'", {})
    assert isinstance(value, FromEnv)
    assert (value.variable, value.default) == ("X", False)


def test_lower_equals_true_of_the_string_true_is_true() -> None:
    value = evaluate_source("os.environ.get('X', 'TRUE').lower() == 'true'", {})
    assert isinstance(value, FromEnv) and value.default is True


def test_in_tuple_of_an_environment_read() -> None:
    value = evaluate_source("os.environ.get('X', '1') in ('1', 'yes')", {})
    assert isinstance(value, FromEnv) and value.default is True


def test_concatenation_with_an_environment_read() -> None:
    value = evaluate_source("os.getenv('HOST', 'localhost') + ':6379'", {})
    assert isinstance(value, FromEnv) and value.default == "localhost:6379"


# -- the environment: django-environ ------------------------------------------------------------

ENVIRON = {"env": Unknown("environ.Env()")}


def test_django_environ_call_with_default() -> None:
    assert evaluate_source("env('X', default='y')", ENVIRON) == env(
        "X", "y", "env('X', default='y')")


def test_django_environ_call_without_default() -> None:
    value = evaluate_source("env('BROKER_URL')", ENVIRON)
    assert isinstance(value, FromEnv)
    assert (value.variable, value.has_default) == ("BROKER_URL", False)


def test_django_environ_bool_with_default() -> None:
    assert evaluate_source("env.bool('X', default=False)", ENVIRON) == env(
        "X", False, "env.bool('X', default=False)")


def test_django_environ_bool_with_positional_default() -> None:
    value = evaluate_source("env.bool('X', True)", ENVIRON)
    assert isinstance(value, FromEnv) and value.default is True


def test_django_environ_bool_casts_a_string_default() -> None:
    value = evaluate_source("env.bool('X', default='false')", ENVIRON)
    assert isinstance(value, FromEnv) and value.default is False


def test_django_environ_int_casts_the_default() -> None:
    value = evaluate_source("env.int('PREFETCH', default='4')", ENVIRON)
    assert isinstance(value, FromEnv) and value.default == 4


def test_django_environ_list_default() -> None:
    value = evaluate_source("env.list('ACCEPT', default=['json'])", ENVIRON)
    assert isinstance(value, FromEnv) and value.default == ("json",)


def test_django_environ_cast_argument() -> None:
    value = evaluate_source("env('PREFETCH', int, default='4')", ENVIRON)
    assert isinstance(value, FromEnv) and value.default == 4


def test_django_environ_under_another_name() -> None:
    value = evaluate_source("settings_env.int('X', default=2)",
                            {"settings_env": Unknown("environ.Env()")})
    assert isinstance(value, FromEnv) and value.default == 2


# -- the environment: python-decouple, configparser ---------------------------------------------

DECOUPLE = imported({"config": "decouple.config"})


def test_decouple_config_with_cast_int() -> None:
    value = evaluate_source("config('X', default='5', cast=int)", {}, DECOUPLE)
    assert value == env("X", 5, "config('X', default='5', cast=int)")


def test_decouple_config_with_cast_bool_of_a_string() -> None:
    value = evaluate_source("config('DEBUG', default='False', cast=bool)", {}, DECOUPLE)
    assert isinstance(value, FromEnv) and value.default is False


def test_decouple_config_without_default() -> None:
    value = evaluate_source("config('BROKER_URL')", {}, DECOUPLE)
    assert isinstance(value, FromEnv)
    assert (value.variable, value.has_default) == ("BROKER_URL", False)


def test_config_not_imported_from_decouple_is_unknown() -> None:
    assert isinstance(evaluate_source("config('X', default='5', cast=int)", {}), Unknown)


def test_configparser_get_with_fallback() -> None:
    names = {"cfg": Unknown("configparser.ConfigParser()")}
    value = evaluate_source("cfg.get('celery', 'broker', fallback='redis://localhost')", names)
    assert value == FromEnv("config file", "[celery] broker", "redis://localhost", True,
                            "cfg.get('celery', 'broker', fallback='redis://localhost')")


def test_configparser_getint_casts_the_fallback() -> None:
    names = {"cfg": Unknown("configparser.ConfigParser()")}
    value = evaluate_source("cfg.getint('celery', 'prefetch', fallback='4')", names)
    assert isinstance(value, FromEnv) and value.default == 4


def test_get_on_a_dict_is_not_a_config_file() -> None:
    assert evaluate_source("LIMITS.get('celery', 'x')", {"LIMITS": {"celery": 1}}) \
        == Unknown("LIMITS.get('celery', 'x')")


# -- how the audit shows values -----------------------------------------------------------------

def test_describe_environment_read_with_default() -> None:
    assert describe(env("ACKS", False, "...")) == "from the environment ($ACKS, default False)"


def test_describe_environment_read_without_default() -> None:
    assert describe(env("BROKER_URL", None, "...", has_default=False)) \
        == "from the environment ($BROKER_URL, no default)"


def test_describe_list_with_an_unknown_item() -> None:
    assert describe(("a", Unknown("extra_apps()"))) == "['a', extra_apps()]"


# -- settings modules through a project ---------------------------------------------------------

def settings_of(root: Path, files: dict[str, str], **config: object) -> SettingsModel:
    write_project(root, files)
    return load_project([root], Config(root=root, **config)).index.settings  # type: ignore[arg-type]


def django_values(root: Path, files: dict[str, str], **config: object) -> dict[str, Value]:
    """Django's settings (name → value) of the one production module."""
    [config_] = settings_of(root, files, **config).configs
    assert config_.django is not None
    return {name: entry.value for name, entry in config_.django.entries.items()}


def celery_values(root: Path, files: dict[str, str], **config: object
                  ) -> dict[str, tuple[Value, str, int]]:
    """Celery setting → (value, path relative to root, line) of the one production module."""
    [config_] = settings_of(root, files, **config).configs
    return {name: (found.value, Path(found.path).relative_to(root).as_posix(), found.line)
            for name, found in config_.values.items()}


def package(**modules: str) -> dict[str, str]:
    """APP_ONLY with a settings package proj/settings/ holding `modules`."""
    return {**APP_ONLY, "proj/settings/__init__.py": "",
            **{f"proj/settings/{name}.py": text for name, text in modules.items()}}


def test_star_import_chain_three_deep_later_wins(tmp_path: Path) -> None:
    files = package(
        base="CELERY_WORKER_PREFETCH_MULTIPLIER = 4\nCELERY_TASK_ACKS_LATE = False\n",
        staging="from .base import *\nCELERY_WORKER_PREFETCH_MULTIPLIER = 2\n",
        production="from .staging import *\nCELERY_TASK_ACKS_LATE = True\n",
    )
    assert celery_values(tmp_path, files) == {
        "worker_prefetch_multiplier": (2, "proj/settings/staging.py", 2),
        "task_acks_late": (True, "proj/settings/production.py", 2),
    }


def test_production_chain_is_recorded_in_order(tmp_path: Path) -> None:
    files = package(base="INSTALLED_APPS = []\n", staging="from .base import *\nY = 2\n",
                    production="from .staging import *\nZ = 3\n")
    [config] = settings_of(tmp_path, files).configs
    assert config.source is not None
    assert config.source.chain == ["proj.settings.production", "proj.settings.staging",
                                   "proj.settings.base"]


def test_value_overridden_in_production(tmp_path: Path) -> None:
    files = package(base="CELERY_TASK_TIME_LIMIT = 60\n",
                    production="from .base import *\nCELERY_TASK_TIME_LIMIT = 30 * 60\n")
    assert celery_values(tmp_path, files) == {
        "task_time_limit": (1800, "proj/settings/production.py", 2)}


def test_assignment_before_the_star_import_is_overridden_by_it(tmp_path: Path) -> None:
    files = package(base="CELERY_TASK_TIME_LIMIT = 60\n",
                    production="CELERY_TASK_TIME_LIMIT = 900\nfrom .base import *\n")
    assert celery_values(tmp_path, files) == {
        "task_time_limit": (60, "proj/settings/base.py", 1)}


def test_expression_in_production_uses_a_name_from_base(tmp_path: Path) -> None:
    files = package(base="MINUTE = 60\n",
                    production="from .base import *\nCELERY_TASK_SOFT_TIME_LIMIT = 5 * MINUTE\n")
    assert celery_values(tmp_path, files)["task_soft_time_limit"][0] == 300


def test_installed_apps_augmented_and_appended_across_a_chain(tmp_path: Path) -> None:
    files = package(
        base="INSTALLED_APPS = ['django.contrib.admin']\n",
        staging="from .base import *\nINSTALLED_APPS += ['django_celery_results']\n",
        production="from .staging import *\nINSTALLED_APPS.append('django_celery_beat')\n",
    )
    assert django_values(tmp_path, files)["INSTALLED_APPS"] == (
        "django.contrib.admin", "django_celery_results", "django_celery_beat")


def test_installed_apps_extend_and_insert(tmp_path: Path) -> None:
    files = package(
        base="INSTALLED_APPS = ['b']\n",
        production="from .base import *\nINSTALLED_APPS.extend(['c', 'd'])\n"
                   "INSTALLED_APPS.insert(0, 'a')\n",
    )
    assert django_values(tmp_path, files)["INSTALLED_APPS"] == ("a", "b", "c", "d")


def test_installed_apps_reassigned_from_itself(tmp_path: Path) -> None:
    files = package(base="INSTALLED_APPS = ('a',)\n",
                    production="from .base import *\nINSTALLED_APPS = INSTALLED_APPS + ('b',)\n")
    assert django_values(tmp_path, files)["INSTALLED_APPS"] == ("a", "b")


def test_augmented_assignment_of_an_undefined_name_is_unknown(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": "INSTALLED_APPS += ['shop']\n"}
    assert isinstance(django_values(tmp_path, files)["INSTALLED_APPS"], Unknown)


def test_augmented_assignment_of_an_environment_list_is_unknown(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        import environ
        env = environ.Env()
        INSTALLED_APPS = env.list('APPS', default=['a'])
        INSTALLED_APPS += ['b']
    """}
    assert isinstance(django_values(tmp_path, files)["INSTALLED_APPS"], Unknown)


def test_dict_update_and_item_assignment(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        CELERY_TASK_ROUTES = {'shop.tasks.a': {'queue': 'a'}}
        CELERY_TASK_ROUTES.update({'shop.tasks.b': {'queue': 'b'}})
        CELERY_TASK_ROUTES['shop.tasks.c'] = {'queue': 'c'}
    """}
    assert celery_values(tmp_path, files)["task_routes"] == (
        {"shop.tasks.a": {"queue": "a"}, "shop.tasks.b": {"queue": "b"},
         "shop.tasks.c": {"queue": "c"}}, "proj/settings.py", 3)


def test_if_debug_known_false_takes_the_else_branch(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        DEBUG = False
        if DEBUG:
            CELERY_TASK_ALWAYS_EAGER = True
        else:
            CELERY_TASK_ALWAYS_EAGER = False
    """}
    assert celery_values(tmp_path, files) == {
        "task_always_eager": (False, "proj/settings.py", 5)}


def test_if_debug_known_false_from_base_skips_the_body(tmp_path: Path) -> None:
    files = package(base="DEBUG = False\n", production="""
        from .base import *
        if DEBUG:
            CELERY_TASK_ALWAYS_EAGER = True
    """)
    assert "task_always_eager" not in celery_values(tmp_path, files)


def test_elif_chain_on_a_known_value(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        STAGE = 'prod'
        if STAGE == 'dev':
            CELERY_TASK_ALWAYS_EAGER = True
        elif STAGE == 'prod':
            CELERY_TASK_ALWAYS_EAGER = False
        else:
            CELERY_TASK_ALWAYS_EAGER = None
    """}
    assert celery_values(tmp_path, files) == {
        "task_always_eager": (False, "proj/settings.py", 5)}


def test_if_not_debug_known_false_takes_the_body(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        DEBUG = False
        if not DEBUG:
            CELERY_TASK_ACKS_LATE = True
    """}
    assert celery_values(tmp_path, files) == {"task_acks_late": (True, "proj/settings.py", 3)}


def test_if_on_a_debug_flag_from_the_environment_is_unknown(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        import os
        DEBUG = os.environ.get('DEBUG', '0') == '1'
        if DEBUG:
            CELERY_TASK_ALWAYS_EAGER = True
    """}
    value, _, _ = celery_values(tmp_path, files)["task_always_eager"]
    assert isinstance(value, Unknown)
    assert django_values(tmp_path, files)["DEBUG"] == FromEnv(
        "environment", "DEBUG", False, True, "os.environ.get('DEBUG', '0') == '1'")


def test_if_testing_from_sys_argv_is_unknown(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        import sys
        TESTING = 'test' in sys.argv
        if TESTING:
            CELERY_TASK_ALWAYS_EAGER = True
    """}
    value, _, _ = celery_values(tmp_path, files)["task_always_eager"]
    assert isinstance(value, Unknown)


def test_if_on_an_environment_value_makes_the_value_unknown(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        import os
        CELERY_WORKER_PREFETCH_MULTIPLIER = 1
        if os.environ.get('FAST'):
            CELERY_WORKER_PREFETCH_MULTIPLIER = 4
    """}
    value, path, line = celery_values(tmp_path, files)["worker_prefetch_multiplier"]
    assert isinstance(value, Unknown)
    assert "only if `os.environ.get('FAST')`" in value.text
    assert (path, line) == ("proj/settings.py", 4)


def test_setting_only_in_an_if_on_the_environment_is_unknown(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        import os
        if os.environ.get('RELIABLE'):
            CELERY_TASK_ACKS_LATE = True
    """}
    value, _, _ = celery_values(tmp_path, files)["task_acks_late"]
    assert isinstance(value, Unknown)


def test_same_value_in_both_branches_is_known(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        import os
        if os.environ.get('X'):
            CELERY_TASK_ACKS_LATE = True
        else:
            CELERY_TASK_ACKS_LATE = True
    """}
    assert celery_values(tmp_path, files)["task_acks_late"][0] is True


def test_list_appended_in_an_if_keeps_the_common_items(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        import os
        INSTALLED_APPS = ['django.contrib.admin', 'django_celery_results']
        if os.environ.get('USE_BEAT'):
            INSTALLED_APPS.append('django_celery_beat')
    """}
    apps = django_values(tmp_path, files)["INSTALLED_APPS"]
    assert isinstance(apps, tuple)
    assert apps[:2] == ("django.contrib.admin", "django_celery_results")
    assert len(apps) == 3 and isinstance(apps[2], Unknown)


def test_try_star_import_of_a_missing_local_module(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        CELERY_TASK_ACKS_LATE = True
        try:
            from .local import *
        except ImportError:
            pass
    """}
    [config] = settings_of(tmp_path, files).configs
    assert config.values["task_acks_late"].value is True
    # `local` matches dev-settings: a local override is not where production gets its settings
    assert config.gaps == ()


def test_try_star_import_of_a_missing_production_module(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        CELERY_TASK_ACKS_LATE = True
        try:
            from .secrets import *
        except ImportError:
            pass
    """}
    [config] = settings_of(tmp_path, files).configs
    # secrets.py may exist where the project is deployed: the shipped settings are judged, and
    # the override is said to reach every name
    assert config.gaps == ()
    [override] = config.source.overrides if config.source else []
    assert "optional `from proj.secrets import *`" in override.how
    assert override.line == 3 and override.reaches("CELERY_TASK_TIME_LIMIT")


def test_star_import_of_a_missing_production_module_outside_try_is_a_gap(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        CELERY_TASK_ACKS_LATE = True
        from .secrets import *
    """}
    [config] = settings_of(tmp_path, files).configs
    assert config.gaps == ("`from proj.secrets import *`: proj.secrets is not in the project",)


def test_optional_override_does_not_reach_names_assigned_after_it(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        try:
            from .secrets import *
        except ImportError:
            pass
        CELERY_TASK_ACKS_LATE = True
    """}
    [config] = settings_of(tmp_path, files).configs
    assert config.source is not None
    assert config.source.overridden("CELERY_TASK_ACKS_LATE") == []
    assert len(config.source.overridden("CELERY_TASK_TIME_LIMIT")) == 1


def test_override_suppressed_by_contextlib(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        from contextlib import suppress
        CELERY_TASK_ACKS_LATE = True
        with suppress(ModuleNotFoundError):
            from proj.override_settings import *
    """}
    [config] = settings_of(tmp_path, files).configs
    assert config.gaps == ()
    assert config.source is not None and len(config.source.overrides) == 1


def test_try_star_import_of_a_present_local_module_is_only_maybe(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/local.py": "CELERY_TASK_ACKS_LATE = False\n",
             "proj/settings.py": """
        CELERY_TASK_ACKS_LATE = True
        try:
            from .local import *
        except ImportError:
            pass
    """}
    [config] = settings_of(tmp_path, files).configs
    assert isinstance(config.values["task_acks_late"].value, Unknown)
    assert config.gaps == ()


def test_star_import_from_outside_the_project_is_not_a_gap(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        from some_library.settings import *
        CELERY_TASK_ACKS_LATE = True
    """}
    [config] = settings_of(tmp_path, files).configs
    assert config.gaps == ()


def test_unparsable_base_module_is_a_gap_not_a_crash(tmp_path: Path) -> None:
    files = package(base="CELERY_TASK_TIME_LIMIT = (\n",
                    production="from .base import *\nCELERY_TASK_ACKS_LATE = True\n")
    [config] = settings_of(tmp_path, files).configs
    assert config.values["task_acks_late"].value is True
    assert not config.complete
    assert any("proj.settings.base cannot be parsed" in gap for gap in config.gaps)


def test_unparsable_single_settings_module_is_a_gap(tmp_path: Path) -> None:
    settings = settings_of(tmp_path, {**APP_ONLY, "proj/settings.py": "CELERY_TASK_ACKS_LATE = (\n"})
    assert settings.production == ("proj.settings",)
    [config] = settings.configs
    assert config.values == {}
    assert any("proj.settings cannot be parsed (line 1" in gap for gap in config.gaps)


def test_star_import_cycle_does_not_loop(tmp_path: Path) -> None:
    files = package(base="from .production import *\nCELERY_TASK_ACKS_LATE = False\n",
                    production="from .base import *\nCELERY_TASK_TIME_LIMIT = 5\n")
    settings = settings_of(tmp_path, files)
    assert settings.family == ("proj.settings", "proj.settings.base", "proj.settings.production")


def test_name_imported_from_another_module(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/limits.py": "LIMIT = 120\n",
             "proj/settings.py": "from proj.limits import LIMIT\nCELERY_TASK_TIME_LIMIT = LIMIT * 2\n"}
    assert celery_values(tmp_path, files)["task_time_limit"][0] == 240


def test_settings_from_the_environment_through_django_environ(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        import environ
        env = environ.Env()
        CELERY_TASK_ACKS_LATE = env.bool('ACKS_LATE', default=False)
    """}
    value, _, line = celery_values(tmp_path, files)["task_acks_late"]
    assert value == FromEnv("environment", "ACKS_LATE", False, True,
                            "env.bool('ACKS_LATE', default=False)")
    assert line == 3


def test_settings_from_the_environment_through_decouple(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        from decouple import config
        CELERY_WORKER_PREFETCH_MULTIPLIER = config('PREFETCH', default='4', cast=int)
    """}
    value, _, _ = celery_values(tmp_path, files)["worker_prefetch_multiplier"]
    assert isinstance(value, FromEnv) and value.default == 4


def test_settings_from_a_config_file(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        import configparser
        cfg = configparser.ConfigParser()
        cfg.read('/etc/proj.ini')
        CELERY_BROKER_URL = cfg.get('celery', 'broker', fallback='redis://localhost')
    """}
    value, _, _ = celery_values(tmp_path, files)["broker_url"]
    assert isinstance(value, FromEnv)
    assert (value.origin, value.variable, value.default) == (
        "config file", "[celery] broker", "redis://localhost")


def test_environment_value_read_in_base_is_still_from_the_environment(tmp_path: Path) -> None:
    files = package(base="import os\nPREFETCH = int(os.getenv('PREFETCH', '2'))\n",
                    production="from .base import *\nCELERY_WORKER_PREFETCH_MULTIPLIER = PREFETCH\n")
    value, _, _ = celery_values(tmp_path, files)["worker_prefetch_multiplier"]
    assert isinstance(value, FromEnv) and value.default == 2


# -- which module is production -----------------------------------------------------------------

SETTINGS_PACKAGE = package(
    base="INSTALLED_APPS = []\nCELERY_TASK_ACKS_LATE = False\n",
    production="from .base import *\nCELERY_TASK_ACKS_LATE = True\n",
    local="from .base import *\nCELERY_TASK_ALWAYS_EAGER = True\n",
    test="from .base import *\nCELERY_TASK_ALWAYS_EAGER = True\n",
)


def test_settings_package_production_module(tmp_path: Path) -> None:
    settings = settings_of(tmp_path, SETTINGS_PACKAGE)
    assert (settings.source, settings.namespace) == ("django", "CELERY")
    assert settings.production == ("proj.settings.production",)
    assert settings.family == ("proj.settings", "proj.settings.base", "proj.settings.local",
                               "proj.settings.production", "proj.settings.test")
    assert settings.notes == ()


def test_single_settings_module_is_production(tmp_path: Path) -> None:
    settings = settings_of(tmp_path, CELERY_APP)
    assert settings.production == ("proj.settings",)
    [config] = settings.configs
    assert (config.module, config.namespace, config.complete) == ("proj.settings", "CELERY", True)


def test_settings_module_config_key_overrides_detection(tmp_path: Path) -> None:
    settings = settings_of(tmp_path, SETTINGS_PACKAGE, settings_module="proj.settings.local")
    assert settings.production == ("proj.settings.local",)
    [config] = settings.configs
    assert config.values["task_always_eager"].value is True
    assert config.values["task_acks_late"].value is False


def test_settings_module_config_key_naming_a_missing_module(tmp_path: Path) -> None:
    settings = settings_of(tmp_path, SETTINGS_PACKAGE, settings_module="proj.settings.nope")
    assert settings.production == ()
    assert settings.configs == ()
    assert "`settings-module` proj.settings.nope is not a module of the project" in settings.notes


def test_staging_is_production_by_default(tmp_path: Path) -> None:
    files = {**SETTINGS_PACKAGE, "proj/settings/staging.py": "from .base import *\nX = 1\n"}
    assert settings_of(tmp_path, files).production == ("proj.settings.production",
                                                        "proj.settings.staging")


def test_dev_settings_globs_leave_modules_out_of_production(tmp_path: Path) -> None:
    files = {**SETTINGS_PACKAGE, "proj/settings/staging.py": "from .base import *\nX = 1\n"}
    settings = settings_of(tmp_path, files, dev_settings=("*.staging", "*.local", "*test*"))
    assert settings.production == ("proj.settings.production",)


def test_dev_settings_globs_replace_the_defaults(tmp_path: Path) -> None:
    settings = settings_of(tmp_path, SETTINGS_PACKAGE, dev_settings=("*.test",))
    assert settings.production == ("proj.settings.local", "proj.settings.production")


def test_django_settings_module_naming_a_missing_module(tmp_path: Path) -> None:
    celery = CELERY_APP["proj/celery.py"].replace('"proj.settings"', '"proj.config"')
    files = {**CELERY_APP, "proj/celery.py": celery,
             "proj/settings.py": "INSTALLED_APPS = []\nCELERY_TASK_ACKS_LATE = True\n"}
    settings = settings_of(tmp_path, files)
    note = "DJANGO_SETTINGS_MODULE names proj.config, which is not in the project"
    assert settings.notes == (note,)
    # the module that defines INSTALLED_APPS stands in for it
    assert settings.production == ("proj.settings",)


def test_django_settings_module_from_manage_py(tmp_path: Path) -> None:
    celery = CELERY_APP["proj/celery.py"].replace(
        'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")', "")
    files = {**SETTINGS_PACKAGE, "proj/celery.py": celery, "manage.py": """
        import os
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings.production")
    """}
    assert settings_of(tmp_path, files).production == ("proj.settings.production",)


def test_config_module_without_django(tmp_path: Path) -> None:
    files = {"manage.py": "", "proj/celery.py": """
        from celery import Celery
        app = Celery("proj")
        app.config_from_object("proj.celeryconfig")
    """, "proj/celeryconfig.py": "task_acks_late = True\n"}
    settings = settings_of(tmp_path, files)
    assert (settings.source, settings.namespace, settings.production) == (
        "module", None, ("proj.celeryconfig",))
    assert settings.configs[0].values["task_acks_late"].value is True


def test_app_conf_wins_over_the_settings_module(tmp_path: Path) -> None:
    files = {**CELERY_APP, "proj/celery.py": """
        import os
        from celery import Celery

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
        app = Celery("proj")
        app.config_from_object("django.conf:settings", namespace="CELERY")
        app.conf.task_time_limit = 600
    """}
    assert celery_values(tmp_path, files)["task_time_limit"] == (600, "proj/celery.py", 7)


def test_project_without_a_celery_app(tmp_path: Path) -> None:
    settings = settings_of(tmp_path, {"manage.py": "", "proj/settings.py": "X = 1\n"})
    assert (settings.app, settings.configs, settings.notes) == (None, (), ("no Celery app found",))


def test_settings_package_whose_init_star_imports_production(tmp_path: Path) -> None:
    files = {**SETTINGS_PACKAGE, "proj/settings/__init__.py": "from .production import *\n"}
    settings = settings_of(tmp_path, files)
    assert len(settings.configs) == 1
    assert settings.configs[0].values["task_acks_late"].value is True


def test_a_hook_handed_globals_sets_the_names_before_it(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        from proj.conf import load_into

        CELERY_TASK_ACKS_LATE = True
        load_into(globals())
        CELERY_TASK_TIME_LIMIT = 300
    """, "proj/conf.py": "def load_into(names):\n    pass\n"}
    [config] = settings_of(tmp_path, files).configs
    assert config.gaps == ()
    # the hook always runs: what it can reach is unknown, what is assigned after it is not
    hook = "`load_into(...)`, handed `globals()` (line 4 of proj.settings)"
    assert config.values["task_acks_late"].value == FromEnv("run time", None, True, True, hook)
    assert describe(config.values["task_acks_late"].value) == (
        f"may be set when the project runs by {hook} (shipped: True)")
    assert config.values["task_time_limit"].value == 300
    # not shipped: the hook may set it, and does not when it does not
    assert config.values["task_soft_time_limit"].value == FromEnv("run time", None, None, True,
                                                                  hook)
    assert config.source is not None
    [override] = config.source.overridden("CELERY_TASK_ACKS_LATE")
    assert (override.how, override.line, override.optional) == (
        "`load_into(...)`, handed `globals()`", 4, False)


def test_a_hook_in_an_if_may_change_the_shipped_settings(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        import os
        from proj.conf import load_into

        CELERY_TASK_ACKS_LATE = True
        if os.environ.get("PLUGINS"):
            load_into(globals())
    """, "proj/conf.py": "def load_into(names):\n    pass\n"}
    [config] = settings_of(tmp_path, files).configs
    # it may not run: the shipped settings are judged, the audit says what it may change
    assert config.values["task_acks_late"].value is True
    assert "task_soft_time_limit" not in config.values
    assert config.source is not None
    [override] = config.source.overridden("CELERY_TASK_ACKS_LATE")
    assert override.optional


def test_globals_inside_a_function_is_not_a_module_level_change(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        def names():
            return globals()

        CELERY_TASK_ACKS_LATE = True
    """}
    [config] = settings_of(tmp_path, files).configs
    assert config.gaps == ()


# -- writes through globals() and vars() --------------------------------------------------------

def overrides(root: Path, files: dict[str, str]) -> list[tuple[str, int, tuple[str, ...]]]:
    """(how, line, prefixes) of the run-time writes of the one production configuration."""
    [config] = settings_of(root, files).configs
    assert config.complete, config.gaps
    assert config.source is not None
    return [(o.how, o.line, o.prefixes) for o in config.source.overrides]


def test_globals_item_with_a_known_key(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        globals()["CELERY_TASK_TIME_LIMIT"] = 5 * 60
    """}
    assert celery_values(tmp_path, files) == {"task_time_limit": (300, "proj/settings.py", 1)}
    assert overrides(tmp_path, files) == []


def test_globals_item_read_is_not_a_write(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        CELERY_TASK_TIME_LIMIT = 60
        LIMIT = globals()["CELERY_TASK_TIME_LIMIT"]
        if "DEBUG" in globals():
            pass
        EXTRA = globals().get("EXTRA")
    """}
    assert overrides(tmp_path, files) == []


def test_globals_update_with_a_dict_and_keywords(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        globals().update({"CELERY_TASK_ACKS_LATE": True})
        globals().update(CELERY_WORKER_PREFETCH_MULTIPLIER=1)
    """}
    values = celery_values(tmp_path, files)
    assert values["task_acks_late"] == (True, "proj/settings.py", 1)
    assert values["worker_prefetch_multiplier"] == (1, "proj/settings.py", 2)


def test_vars_item_is_the_module_names(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": 'vars()["CELERY_TASK_ACKS_LATE"] = True\n'}
    assert celery_values(tmp_path, files)["task_acks_late"][0] is True


def test_vars_of_an_object_is_not_a_write(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        import types
        holder = types.SimpleNamespace()
        vars(holder)["CELERY_TASK_ACKS_LATE"] = True
    """}
    [config] = settings_of(tmp_path, files).configs
    assert "task_acks_late" not in config.values
    assert config.source is not None and config.source.overrides == []


def test_setattr_on_this_module(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        import sys
        setattr(sys.modules[__name__], "CELERY_TASK_ACKS_LATE", True)
    """}
    assert celery_values(tmp_path, files)["task_acks_late"][0] is True


def test_globals_update_of_a_dict_from_the_chain(tmp_path: Path) -> None:
    files = package(base="INSTALLED_APPS = []\nEXTRA = {'CELERY_TASK_ACKS_LATE': True}\n",
                    production="from .base import *\nglobals().update(EXTRA)\n")
    assert celery_values(tmp_path, files) == {
        "task_acks_late": (True, "proj/settings/production.py", 2)}


def test_loop_over_a_known_dict_writes_each_name(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        LIMITS = {"CELERY_TASK_SOFT_TIME_LIMIT": 240, "CELERY_TASK_TIME_LIMIT": 300}
        for name, seconds in LIMITS.items():
            globals()[name] = seconds
    """}
    values = celery_values(tmp_path, files)
    assert values["task_soft_time_limit"][0] == 240
    assert values["task_time_limit"][0] == 300


def test_loop_over_a_known_list_appends_each_item(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        INSTALLED_APPS = ["django.contrib.admin"]
        for app in ["django_celery_results", "django_celery_beat"]:
            INSTALLED_APPS.append(app)
    """}
    assert django_values(tmp_path, files)["INSTALLED_APPS"] == (
        "django.contrib.admin", "django_celery_results", "django_celery_beat")


def test_loop_over_the_environment_with_a_prefix_reaches_only_that_prefix(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        import os
        DEBUG = False
        CELERY_TASK_ACKS_LATE = True
        for key, value in os.environ.items():
            if key.startswith("CELERY_"):
                globals()[key] = value
    """}
    [config] = settings_of(tmp_path, files).configs
    assert config.complete
    # the environment may set any CELERY_ name: each is unknown; other names are not
    assert uncertain(config.values["task_acks_late"].value)
    assert uncertain(config.values["task_time_limit"].value)
    assert config.source is not None
    [override] = config.source.overridden("CELERY_TASK_ACKS_LATE")
    assert override.prefixes == ("CELERY_",)
    assert override.how == ("`globals()[key]` with a key known only at run time in a loop over "
                            "`os.environ.items()`")
    assert config.source.overridden("DEBUG") == []
    assert django_values(tmp_path, files)["DEBUG"] is False


def test_loop_over_the_environment_without_a_prefix_reaches_every_name(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        import os
        for key in os.environ:
            globals()[key] = os.environ[key]
    """}
    assert overrides(tmp_path, files) == [
        ("`globals()[key]` with a key known only at run time in a loop over `os.environ`", 3,
         ("",))]


def test_loop_skipping_other_prefixes_with_continue(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        import os
        for key, value in os.environ.items():
            if not key.startswith(("APP_", "FEATURE_")):
                continue
            globals()[key] = value
    """}
    assert [o[2] for o in overrides(tmp_path, files)] == [("APP_", "FEATURE_")]


def test_key_cut_from_a_prefixed_variable(tmp_path: Path) -> None:
    # WEBLATE_RATELIMIT_X → RATELIMIT_X: only names starting RATELIMIT_ are reached
    files = {**APP_ONLY, "proj/settings.py": """
        import os
        for name in os.environ:
            if name.startswith("WEBLATE_RATELIMIT_"):
                locals()[name[8:]] = os.environ[name]
        for name in os.environ:
            if name.startswith("DJANGO_"):
                globals()[name.removeprefix("DJANGO_")] = os.environ[name]
    """}
    assert [o[2] for o in overrides(tmp_path, files)] == [("RATELIMIT_",), ("",)]


def test_update_with_a_filtered_comprehension(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        import os
        globals().update({k: v for k, v in os.environ.items() if k.startswith("PROJ_")})
    """}
    assert [o[2] for o in overrides(tmp_path, files)] == [("PROJ_",)]


def test_exec_of_an_override_file_keeps_the_shipped_settings(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        import os
        CELERY_TASK_ACKS_LATE = False
        OVERRIDES = "/app/data/settings-override.py"
        if os.path.exists(OVERRIDES):
            with open(OVERRIDES) as handle:
                exec(compile(handle.read(), OVERRIDES, "exec"))
    """}
    [config] = settings_of(tmp_path, files).configs
    assert config.complete
    assert config.values["task_acks_late"].value is False
    assert config.source is not None
    [override] = config.source.overridden("CELERY_TASK_TIME_LIMIT")
    assert (override.how, override.line) == ("`exec()` of code read at run time", 6)


def test_exec_in_a_namespace_of_its_own_is_not_a_write(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        scope = {}
        exec("X = 1", scope)
        CELERY_TASK_ACKS_LATE = True
    """}
    assert overrides(tmp_path, files) == []


def test_run_time_write_does_not_reach_names_assigned_after_it(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        exec(open("/etc/proj.py").read())
        CELERY_TASK_ACKS_LATE = True
        if EXTRA:
            CELERY_TASK_TIME_LIMIT = 60
    """}
    [config] = settings_of(tmp_path, files).configs
    assert config.source is not None
    assert config.source.overridden("CELERY_TASK_ACKS_LATE") == []
    # assigned in an `if` that may not run: the write may still be what the name holds
    assert len(config.source.overridden("CELERY_TASK_TIME_LIMIT")) == 1


# -- settings classes ---------------------------------------------------------------------------

CLASS_SETTINGS = """
    class Base:
        INSTALLED_APPS = ["django.contrib.admin"]
        CELERY_TASK_ACKS_LATE = False
        CELERY_TASK_TIME_LIMIT = 600

        @property
        def CELERY_TASK_SOFT_TIME_LIMIT(self):
            return self.CELERY_TASK_TIME_LIMIT - 60

        def helper(self):
            return 1


    class ProductionSettings(Base):
        CELERY_TASK_ACKS_LATE = True
        CELERY_TASK_TIME_LIMIT = 300
"""


def test_settings_class_loaded_into_the_module(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": textwrap.dedent(CLASS_SETTINGS) + "\n"
             "ProductionSettings.load_settings(__name__)\n"}
    values = celery_values(tmp_path, files)
    assert values["task_acks_late"] == (True, "proj/settings.py", 15)
    assert values["task_time_limit"] == (300, "proj/settings.py", 16)
    # the property of the base sees the subclass's limit
    assert values["task_soft_time_limit"] == (240, "proj/settings.py", 7)
    assert django_values(tmp_path, files)["INSTALLED_APPS"] == ("django.contrib.admin",)


def test_settings_class_never_loaded_sets_nothing(tmp_path: Path) -> None:
    files = {**APP_ONLY,
             "proj/settings.py": "INSTALLED_APPS = []\n" + textwrap.dedent(CLASS_SETTINGS)}
    assert celery_values(tmp_path, files) == {}


def test_settings_class_from_another_module(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/classes.py": CLASS_SETTINGS, "proj/settings.py": """
        from proj.classes import ProductionSettings

        ProductionSettings().install(globals())
    """}
    assert celery_values(tmp_path, files)["task_acks_late"] == (True, "proj/classes.py", 15)


def test_settings_class_load_of_a_class_celery_lint_cannot_read(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        from somewhere import Settings

        CELERY_TASK_ACKS_LATE = True
        Settings.load_settings(__name__)
    """}
    [config] = settings_of(tmp_path, files).configs
    assert config.complete and uncertain(config.values["task_acks_late"].value)
    assert [o.how for o in config.source.overrides] == [  # type: ignore[union-attr]
        "`Settings.load_settings(__name__)`, a class celery-lint cannot read"]


def test_logger_of_the_module_is_not_a_settings_load(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        import logging
        logger = logging.getLogger(__name__)
        CELERY_TASK_ACKS_LATE = True
    """}
    assert overrides(tmp_path, files) == []


CONFIGURATIONS = """
    from configurations import Configuration, values


    class Common(Configuration):
        INSTALLED_APPS = ["django.contrib.admin"]
        DEBUG = False
        CELERY_TASK_ACKS_LATE = values.BooleanValue(True)


    class Dev(Common):
        DEBUG = True


    class Production(Common):
        CELERY_TASK_TIME_LIMIT = values.IntegerValue(300, environ_prefix="PROJ")
"""


def test_django_configurations_class_named_by_django_configuration(tmp_path: Path) -> None:
    celery = textwrap.dedent(APP_ONLY["proj/celery.py"]).replace(
        'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")',
        'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")\n'
        'os.environ.setdefault("DJANGO_CONFIGURATION", "Production")')
    files = {**APP_ONLY, "proj/celery.py": celery, "proj/settings.py": CONFIGURATIONS}
    settings = settings_of(tmp_path, files)
    assert settings.production == ("proj.settings.Production",)
    values = celery_values(tmp_path, files)
    assert values["task_acks_late"] == (
        env("DJANGO_CELERY_TASK_ACKS_LATE", True, "values.BooleanValue(True)"),
        "proj/settings.py", 7)
    assert values["task_time_limit"][0] == env(
        "PROJ_CELERY_TASK_TIME_LIMIT", 300, "values.IntegerValue(300, environ_prefix='PROJ')")


def test_django_configurations_without_a_name_takes_the_production_classes(
        tmp_path: Path) -> None:
    # Common is extended, Dev is development by its name: Production is left
    files = {**APP_ONLY, "proj/settings.py": CONFIGURATIONS}
    assert settings_of(tmp_path, files).production == ("proj.settings.Production",)


def test_django_configurations_named_by_the_deployment(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": CONFIGURATIONS.replace("class Dev", "class Staging"),
             "docker-compose.yml": """
        services:
          worker:
            image: proj
            command: celery -A proj worker
            environment:
              DJANGO_CONFIGURATION: Staging
    """}
    settings = settings_of(tmp_path, files)
    # Staging sets DEBUG = True: development, whatever its name
    assert settings.production == ()
    assert settings.notes == (
        ("proj.settings.Staging sets `DEBUG = True` (line 11 of proj.settings): a development "
        "settings module, not judged as production"), "no production settings module found")


def test_django_configurations_value_not_from_the_environment(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": """
        from configurations import Configuration, values

        class Production(Configuration):
            CELERY_TASK_TIME_LIMIT = values.IntegerValue(300, environ=False)
    """}
    assert celery_values(tmp_path, files)["task_time_limit"][0] == 300


# -- which module is production -----------------------------------------------------------------

def test_module_that_sets_debug_true_is_development(tmp_path: Path) -> None:
    files = {**APP_ONLY, "proj/settings.py": "DEBUG = True\nINSTALLED_APPS = []\n"}
    settings = settings_of(tmp_path, files)
    assert settings.production == ()
    assert settings.notes == (
        ("proj.settings sets `DEBUG = True` (line 1 of proj.settings): a development settings "
        "module, not judged as production"), "no production settings module found")


def test_debug_from_the_environment_stays_production(tmp_path: Path) -> None:
    for debug in ('env.bool("DEBUG", default=False)', 'os.environ.get("DEBUG") == "1"',
                  'os.environ.get("DEBUG", True)'):
        files = {**APP_ONLY, "proj/settings.py": f"""
            import os
            import environ
            env = environ.Env()
            DEBUG = {debug}
            INSTALLED_APPS = []
        """}
        assert settings_of(tmp_path / debug[:8], files).production == ("proj.settings",)


def test_debug_true_inherited_from_base_is_development(tmp_path: Path) -> None:
    files = package(base="DEBUG = True\nINSTALLED_APPS = []\n",
                    production="from .base import *\nCELERY_TASK_ACKS_LATE = True\n")
    assert settings_of(tmp_path, files).production == ()


def test_debug_true_turned_off_in_production(tmp_path: Path) -> None:
    files = package(base="DEBUG = True\nINSTALLED_APPS = []\n",
                    production="from .base import *\nDEBUG = False\n")
    assert settings_of(tmp_path, files).production == ("proj.settings.production",)


def test_helper_module_in_the_settings_package_is_not_settings(tmp_path: Path) -> None:
    files = package(
        base="INSTALLED_APPS = []\n",
        production="from .base import *\nCELERY_TASK_ACKS_LATE = True\n",
        database="import redis\nREDIS_URL = 'redis://cache'\nclient = redis.Redis(REDIS_URL)\n",
    )
    settings = settings_of(tmp_path, files)
    assert settings.production == ("proj.settings.production",)
    assert "proj.settings.database" not in settings.family


def test_module_of_the_settings_package_that_sets_a_django_setting_is_settings(
        tmp_path: Path) -> None:
    files = package(base="INSTALLED_APPS = []\n",
                    production="from .base import *\nCELERY_TASK_ACKS_LATE = True\n",
                    worker="CACHES = {}\n")
    assert settings_of(tmp_path, files).production == ("proj.settings.production",
                                                        "proj.settings.worker")


def test_settings_module_named_by_the_deployment_environment(tmp_path: Path) -> None:
    celery = APP_ONLY["proj/celery.py"].replace(
        'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")', "")
    files = {**APP_ONLY, "proj/celery.py": celery, "config/production.py": "INSTALLED_APPS = []\n",
             "config/other.py": "INSTALLED_APPS = []\n", "Dockerfile": """
        FROM python:3.12
        ENV DJANGO_SETTINGS_MODULE=config.production
        CMD ["celery", "-A", "proj", "worker"]
    """}
    assert settings_of(tmp_path, files).production == ("config.production",)


def test_settings_module_named_by_a_development_deployment_does_not_count(
        tmp_path: Path) -> None:
    celery = APP_ONLY["proj/celery.py"].replace(
        'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")', "")
    files = {**APP_ONLY, "proj/celery.py": celery, "config/production.py": "INSTALLED_APPS = []\n",
             "config/other.py": "INSTALLED_APPS = []\n", "docker-compose.dev.yml": """
        services:
          worker:
            command: celery -A proj worker
            environment:
              - DJANGO_SETTINGS_MODULE=config.other
    """}
    assert settings_of(tmp_path, files).production == ("config.other", "config.production")


def test_settings_module_copied_into_place_by_the_dockerfile(tmp_path: Path) -> None:
    celery = APP_ONLY["proj/celery.py"].replace('"proj.settings"', '"app.settings.config"')
    files = {**APP_ONLY, "proj/celery.py": celery,
             "app/settings/__init__.py": "", "app/settings/base.py": "INSTALLED_APPS = []\n",
             "docker/config.py": "from app.settings.base import *\nCELERY_TASK_ACKS_LATE = True\n",
             "Dockerfile": """
        FROM python:3.12
        COPY docker/config.py /srv/app/settings/config.py
    """}
    settings = settings_of(tmp_path, files)
    assert settings.production == ("docker.config",)
    assert settings.notes == ()
    assert celery_values(tmp_path, files)["task_acks_late"][:2] == (True, "docker/config.py")


def test_copy_of_another_file_does_not_change_the_settings(tmp_path: Path) -> None:
    celery = APP_ONLY["proj/celery.py"].replace('"proj.settings"', '"app.settings.config"')
    files = {**APP_ONLY, "proj/celery.py": celery,
             "app/settings/__init__.py": "", "app/settings/base.py": "INSTALLED_APPS = []\n",
             "docker/config.py": "CELERY_TASK_ACKS_LATE = True\n", "Dockerfile": """
        FROM python:3.12
        COPY docker/config.py /srv/app/config.py
    """}
    settings = settings_of(tmp_path, files)
    assert "DJANGO_SETTINGS_MODULE names app.settings.config, which is not in the project" \
        in settings.notes
