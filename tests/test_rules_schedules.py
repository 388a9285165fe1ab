"""The periodic-task rules, one tiny project per shape: CEL501, CEL502, CEL503, and CEL105 on
django-celery-beat's `PeriodicTask(task=...)`.

Each flagged shape sits next to its near miss. A source string is dedented and its leading newline
dropped, so its first line of code is row 1. What CEL501 expects follows what the installed Celery
accepts and rejects.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import CELERY_APP, lint, run_project

TASKS = """
    from celery import shared_task


    @shared_task
    def send_report(period, include_refunds=False):
        pass


    @shared_task
    def sync_rates():
        pass
"""

PROJECT = {**CELERY_APP, "shop/tasks.py": TASKS}


def rows(tmp_path: Path, code: str, source: str, path: str = "shop/schedules.py",
         files: dict[str, str] | None = None) -> list[int]:
    """Rows of rule `code` in `path`, `source` written at `path` of the shop project."""
    project = {**PROJECT, **(files or {}), path: source}
    return [row for found, where, row in lint(tmp_path, project, select=(code,))
            if where == path and found == code]


def messages(tmp_path: Path, code: str, source: str, path: str = "shop/schedules.py") -> list[str]:
    result = run_project(tmp_path, {**PROJECT, path: source}, select=(code,))
    return [d.message for d in result.diagnostics if d.code == code]


# -- CEL501: invalid-crontab -------------------------------------------------------------------

def crontab_rows(tmp_path: Path, call: str,
                 imports: str = "from celery.schedules import crontab") -> list[int]:
    """Rows of CEL501 for `call`, written on row 3 below `imports`."""
    source = f"{imports}\n\nSCHEDULE = {call}\n"
    return rows(tmp_path, "CEL501", source)


# Rejected by Celery 5: each value is out of its field's range or not a crontab pattern.
REJECTED = [
    "crontab(minute='60')",
    "crontab(minute=60)",
    "crontab(minute=-1)",
    "crontab(minute='-1')",
    "crontab(minute='*/0')",
    "crontab(minute='0-59/0')",
    "crontab(minute='0,,30')",
    "crontab(minute='1.5')",
    "crontab(minute=1.5)",
    "crontab(minute='*/')",
    "crontab(hour='24')",
    "crontab(hour=24)",
    "crontab(day_of_week='funday')",
    "crontab(day_of_week='7')",
    "crontab(day_of_week=7)",
    "crontab(day_of_month='0')",
    "crontab(day_of_month='32')",
    "crontab(month_of_year='13')",
    "crontab(month_of_year='0')",
    "crontab(minute=[0, 60])",
    "crontab(hour=(8, 24))",
]


@pytest.mark.parametrize("call", REJECTED)
def test_crontab_field_rejected(tmp_path, call):
    assert crontab_rows(tmp_path, call) == [3]


# Accepted by Celery 5, some of them surprising: a range may wrap around, a step may exceed the field.
ACCEPTED = [
    "crontab()",
    "crontab(minute='*/15')",
    "crontab(minute='0,30')",
    "crontab(minute='1-5/2')",
    "crontab(minute=0, hour=0)",
    "crontab(minute=59, hour=23)",
    "crontab(minute=[0, 30])",
    "crontab(minute='0, 30')",
    "crontab(minute='*/90')",
    "crontab(hour='22-2')",
    "crontab(hour='0,8-17/2')",
    "crontab(day_of_week='mon-fri')",
    "crontab(day_of_week='sun')",
    "crontab(day_of_week='Monday')",
    "crontab(day_of_week=6)",
    "crontab(day_of_month='1-7,15-21')",
    "crontab(day_of_month=31)",
    "crontab(month_of_year='jan')",
    "crontab(month_of_year='*/3')",
    "crontab(day_of_month=29, month_of_year=2)",
    "crontab(day_of_month='31', month_of_year='1-2')",
]


@pytest.mark.parametrize("call", ACCEPTED)
def test_crontab_accepted_by_celery_not_flagged(tmp_path, call):
    assert crontab_rows(tmp_path, call) == []


def test_crontab_positional_minute(tmp_path):
    assert crontab_rows(tmp_path, "crontab('60')") == [3]


def test_crontab_positional_fields_in_celerys_order(tmp_path):
    # minute, hour, day_of_week, day_of_month, month_of_year: 7 is a valid day of the month
    assert crontab_rows(tmp_path, "crontab(0, 0, '*', 7)") == []
    assert crontab_rows(tmp_path, "crontab(0, 0, 7)") == [3]


def test_crontab_imported_under_another_name(tmp_path):
    imports = "from celery.schedules import crontab as cron"
    assert crontab_rows(tmp_path, "cron(hour='25')", imports) == [3]


def test_crontab_through_the_module(tmp_path):
    assert crontab_rows(tmp_path, "celery.schedules.crontab(hour='25')",
                        "import celery.schedules") == [3]


def test_crontab_through_the_schedules_module(tmp_path):
    assert crontab_rows(tmp_path, "schedules.crontab(hour='25')",
                        "from celery import schedules") == [3]


def test_crontab_imported_inside_a_function(tmp_path):
    source = """
        def schedule():
            from celery.schedules import crontab

            return crontab(minute=75)
    """
    assert rows(tmp_path, "CEL501", source) == [4]


def test_crontab_in_a_beat_schedule(tmp_path):
    source = """
        from celery.schedules import crontab

        CELERY_BEAT_SCHEDULE = {
            "report": {
                "task": "shop.tasks.send_report",
                "schedule": crontab(
                    minute=0,
                    hour=24,
                    day_of_week="funday",
                ),
            },
        }
    """
    assert rows(tmp_path, "CEL501", source, "proj/settings.py") == [8, 9]


def test_crontab_message_names_field_value_and_celerys_reason(tmp_path):
    source = "from celery.schedules import crontab\n\nSCHEDULE = crontab(hour='25')\n"
    assert messages(tmp_path, "CEL501", source) == [
        "`crontab(hour='25')`: Celery rejects hour '25' (Invalid end range: 25 > 23)"]


def test_crontab_fields_that_name_no_day(tmp_path):
    call = "crontab(\n    day_of_month=30,\n    month_of_year=2,\n)"
    assert crontab_rows(tmp_path, call) == [4]


def test_crontab_fields_that_name_no_day_message(tmp_path):
    # month numbers: Celery before 5.5 rejects month names ('apr') on their own
    source = ("from celery.schedules import crontab\n\n"
              "SCHEDULE = crontab(day_of_month=31, month_of_year='4,6')\n")
    [message] = messages(tmp_path, "CEL501", source)
    assert message.startswith("`crontab(day_of_month=31, month_of_year='4,6')`: Celery "
                              "rejects these fields together (")
    # Celery 5.7 says so in crontab(); before, beat raises "unable to rollover" and the message
    # says why
    assert "day_of_month 31 never occurs in month_of_year '4,6'" in message


def test_crontab_fields_that_name_a_day_once_in_four_years(tmp_path):
    assert crontab_rows(tmp_path, "crontab(\n    day_of_month=29,\n    month_of_year=2,\n)") == []


def test_crontab_unknown_keyword(tmp_path):
    call = "crontab(\n    minutes=0,\n)"
    assert crontab_rows(tmp_path, call) == [4]


def test_crontab_unknown_keyword_suggests_the_field(tmp_path):
    source = "from celery.schedules import crontab\n\nSCHEDULE = crontab(hours=3)\n"
    [message] = messages(tmp_path, "CEL501", source)
    assert message.endswith("did you mean `hour`?")


def test_crontab_nowfun_keyword_not_flagged(tmp_path):
    source = """
        from celery.schedules import crontab
        from django.utils import timezone

        SCHEDULE = crontab(minute=0, nowfun=timezone.now)
    """
    assert rows(tmp_path, "CEL501", source) == []


def test_crontab_from_string_rejected(tmp_path):
    assert crontab_rows(tmp_path, "crontab.from_string('*/5 * * *')") == [3]
    assert crontab_rows(tmp_path, "crontab.from_string('60 * * * *')") == [3]


def test_crontab_from_string_accepted_not_flagged(tmp_path):
    assert crontab_rows(tmp_path, "crontab.from_string('*/5 8-17 * * mon-fri')") == []


def test_crontab_value_from_a_variable_not_flagged(tmp_path):
    source = """
        from celery.schedules import crontab

        HOUR = "25"
        SCHEDULE = crontab(hour=HOUR)
    """
    assert rows(tmp_path, "CEL501", source) == []


def test_crontab_f_string_not_flagged(tmp_path):
    source = """
        from celery.schedules import crontab


        def schedule(hour):
            return crontab(hour=f"{hour}", minute="*/70")
    """
    assert rows(tmp_path, "CEL501", source) == []


def test_crontab_star_arguments_not_flagged(tmp_path):
    source = """
        from celery.schedules import crontab

        SPEC = ("60", "25")
        FIELDS = {"hour": "25"}
        SCHEDULES = [crontab(*SPEC), crontab(**FIELDS)]
    """
    assert rows(tmp_path, "CEL501", source) == []


def test_crontab_named_function_of_the_project_not_flagged(tmp_path):
    source = """
        def crontab(minute="*", hour="*"):
            return (minute, hour)

        SCHEDULE = crontab(hour=25)
    """
    assert rows(tmp_path, "CEL501", source) == []


def test_crontab_of_another_library_not_flagged(tmp_path):
    assert crontab_rows(tmp_path, "crontab(hour=25)", "from huey import crontab") == []


# -- CEL502: periodic-task-without-expires -----------------------------------------------------

def expiry_rows(tmp_path: Path, source: str, path: str = "proj/settings.py") -> list[int]:
    return rows(tmp_path, "CEL502", source, path)


def beat_entry(fields: str) -> str:
    """A settings module whose one beat entry is `{"task": ..., "schedule": 60.0, <fields>}`."""
    return f"""
        CELERY_BEAT_SCHEDULE = {{
            "sync-rates": {{
                "task": "shop.tasks.sync_rates",
                "schedule": 60.0,
                {fields}
            }},
        }}
    """


def test_beat_entry_without_options(tmp_path):
    assert expiry_rows(tmp_path, beat_entry("")) == [2]


def test_beat_entry_options_without_expires(tmp_path):
    assert expiry_rows(tmp_path, beat_entry('"options": {"queue": "rates"},')) == [2]


def test_beat_entry_with_expires_not_flagged(tmp_path):
    assert expiry_rows(tmp_path, beat_entry('"options": {"expires": 60},')) == []


def test_beat_entry_expires_beside_other_options_not_flagged(tmp_path):
    source = beat_entry('"options": {"queue": "rates", "expires": RATE_EXPIRY},')
    assert expiry_rows(tmp_path, source) == []


def test_beat_entry_options_from_a_variable_not_flagged(tmp_path):
    assert expiry_rows(tmp_path, beat_entry('"options": OPTIONS,')) == []


def test_beat_entry_options_unpacked_not_flagged(tmp_path):
    assert expiry_rows(tmp_path, beat_entry('"options": {"queue": "rates", **DEFAULTS},')) == []


def test_beat_entry_unpacked_not_flagged(tmp_path):
    assert expiry_rows(tmp_path, beat_entry("**COMMON_ENTRY,")) == []


def test_beat_entry_from_a_variable_not_flagged(tmp_path):
    source = """
        SYNC_RATES = {"task": "shop.tasks.sync_rates", "schedule": 60.0}
        CELERY_BEAT_SCHEDULE = {"sync-rates": SYNC_RATES}
    """
    assert expiry_rows(tmp_path, source) == []


def test_beat_entry_expires_outside_options(tmp_path):
    source = beat_entry('"expires": 60,')
    assert expiry_rows(tmp_path, source) == [2]
    [message] = messages(tmp_path, "CEL502", source, "proj/settings.py")
    assert "beside `options`" in message and "TypeError" in message


def test_beat_entry_message_suggests_the_period(tmp_path):
    [message] = messages(tmp_path, "CEL502", beat_entry(""), "proj/settings.py")
    assert message == (
        "Beat entry `sync-rates` has no `expires`: runs sent while workers are down pile up and "
        "all run when they return; add `\"options\": {\"expires\": ...}` (e.g. `60.0`, its "
        "period in seconds)")


def test_app_conf_beat_schedule(tmp_path):
    source = """
        from celery import Celery

        app = Celery("proj")
        app.conf.beat_schedule = {
            "sync-rates": {"task": "shop.tasks.sync_rates", "schedule": 60.0},
        }
    """
    assert expiry_rows(tmp_path, source, "proj/celery.py") == [5]


def test_app_conf_update_beat_schedule(tmp_path):
    source = """
        from celery import Celery

        app = Celery("proj")
        app.conf.update(beat_schedule={
            "sync-rates": {"task": "shop.tasks.sync_rates", "schedule": 60.0},
            "report": {"task": "shop.tasks.send_report", "schedule": 60.0,
                       "options": {"expires": 30}},
        })
    """
    assert expiry_rows(tmp_path, source, "proj/celery.py") == [5]


def test_beat_entry_added_by_subscript(tmp_path):
    source = """
        CELERY_BEAT_SCHEDULE = {}
        CELERY_BEAT_SCHEDULE["sync-rates"] = {"task": "shop.tasks.sync_rates", "schedule": 60.0}
    """
    assert expiry_rows(tmp_path, source) == [2]


def test_beat_entries_added_by_update(tmp_path):
    source = """
        CELERY_BEAT_SCHEDULE = {}
        CELERY_BEAT_SCHEDULE.update({
            "sync-rates": {"task": "shop.tasks.sync_rates", "schedule": 60.0},
            "report": {"task": "shop.tasks.send_report", "schedule": 60.0,
                       "options": {"expires": 30}},
        })
    """
    assert expiry_rows(tmp_path, source) == [3]


def test_dict_of_another_setting_not_checked(tmp_path):
    source = """
        CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        CELERY_TASK_ROUTES = {"shop.tasks.sync_rates": {"queue": "rates"}}
    """
    assert expiry_rows(tmp_path, source) == []


def test_off_unless_selected(tmp_path):
    files = {**PROJECT, "proj/settings.py": beat_entry("")}
    assert [code for code, _, _ in lint(tmp_path, files) if code == "CEL502"] == []


PERIODIC_SETUP = """
    from celery import Celery

    from shop.tasks import sync_rates

    app = Celery("proj")


    @app.on_after_configure.connect
    def setup_periodic_tasks(sender, **kwargs):
        {call}
"""


def add_periodic_task_rows(tmp_path: Path, call: str) -> list[int]:
    """Rows of CEL502 for `call`, written on row 10 of the Celery module."""
    return expiry_rows(tmp_path, PERIODIC_SETUP.format(call=call), "proj/celery.py")


def test_add_periodic_task_without_expires(tmp_path):
    assert add_periodic_task_rows(tmp_path, "sender.add_periodic_task(60.0, sync_rates.s())") == [10]


def test_add_periodic_task_immutable_signature(tmp_path):
    call = "sender.add_periodic_task(60.0, sync_rates.si(), name='rates')"
    assert add_periodic_task_rows(tmp_path, call) == [10]


def test_add_periodic_task_signature_set_without_expires(tmp_path):
    call = "sender.add_periodic_task(60.0, sync_rates.s().set(queue='rates'))"
    assert add_periodic_task_rows(tmp_path, call) == [10]


def test_add_periodic_task_keywords(tmp_path):
    call = "sender.add_periodic_task(schedule=60.0, sig=sync_rates.s())"
    assert add_periodic_task_rows(tmp_path, call) == [10]


def test_add_periodic_task_with_expires_not_flagged(tmp_path):
    call = "sender.add_periodic_task(60.0, sync_rates.s(), expires=60)"
    assert add_periodic_task_rows(tmp_path, call) == []


def test_add_periodic_task_signature_set_expires_not_flagged(tmp_path):
    call = "sender.add_periodic_task(60.0, sync_rates.s().set(expires=60))"
    assert add_periodic_task_rows(tmp_path, call) == []


def test_add_periodic_task_signature_from_a_variable_not_flagged(tmp_path):
    call = "sender.add_periodic_task(60.0, kwargs['signature'])"
    assert add_periodic_task_rows(tmp_path, call) == []


def test_add_periodic_task_unpacked_options_not_flagged(tmp_path):
    call = "sender.add_periodic_task(60.0, sync_rates.s(), **kwargs)"
    assert add_periodic_task_rows(tmp_path, call) == []


def test_add_periodic_task_message(tmp_path):
    source = PERIODIC_SETUP.format(call="sender.add_periodic_task(300, sync_rates.s())")
    [message] = messages(tmp_path, "CEL502", source, "proj/celery.py")
    assert message.startswith("`sender.add_periodic_task()` has no `expires=`")
    assert message.endswith("(e.g. `300`, its period in seconds)")


def periodic_task_source(call: str) -> str:
    """A module that builds a django-celery-beat task with `call` on row 7."""
    return f"""
        import json

        from django_celery_beat.models import IntervalSchedule, PeriodicTask


        def schedule(every_minute: IntervalSchedule):
            {call}
    """


def beat_model_rows(tmp_path: Path, call: str) -> list[int]:
    return rows(tmp_path, "CEL502", periodic_task_source(call))


def test_periodic_task_create_without_expiry(tmp_path):
    call = ("PeriodicTask.objects.create(name='rates', task='shop.tasks.sync_rates', "
            "interval=every_minute)")
    assert beat_model_rows(tmp_path, call) == [7]


def test_periodic_task_constructor_without_expiry(tmp_path):
    call = "PeriodicTask(name='rates', task='shop.tasks.sync_rates', interval=every_minute).save()"
    assert beat_model_rows(tmp_path, call) == [7]


def test_periodic_task_update_or_create_without_expiry(tmp_path):
    call = ("PeriodicTask.objects.update_or_create(name='rates', defaults={"
            "'task': 'shop.tasks.sync_rates', 'interval': every_minute})")
    assert beat_model_rows(tmp_path, call) == [7]


def test_periodic_task_get_or_create_without_expiry(tmp_path):
    call = "PeriodicTask.objects.get_or_create(name='rates', interval=every_minute)"
    assert beat_model_rows(tmp_path, call) == [7]


def test_periodic_task_message_names_the_task(tmp_path):
    source = periodic_task_source("PeriodicTask.objects.create(name='rates', task='x')")
    [message] = messages(tmp_path, "CEL502", source)
    assert message.startswith("Periodic task `rates` has no `expire_seconds`")


def test_periodic_task_expire_seconds_not_flagged(tmp_path):
    call = ("PeriodicTask.objects.create(name='rates', task='shop.tasks.sync_rates', "
            "interval=every_minute, expire_seconds=60)")
    assert beat_model_rows(tmp_path, call) == []


def test_periodic_task_expires_not_flagged(tmp_path):
    call = "PeriodicTask(name='rates', interval=every_minute, expires=END_OF_CAMPAIGN).save()"
    assert beat_model_rows(tmp_path, call) == []


def test_periodic_task_expiry_in_defaults_not_flagged(tmp_path):
    call = ("PeriodicTask.objects.update_or_create(name='rates', defaults={"
            "'interval': every_minute, 'expire_seconds': 60})")
    assert beat_model_rows(tmp_path, call) == []


def test_periodic_task_defaults_from_a_variable_not_flagged(tmp_path):
    call = "PeriodicTask.objects.update_or_create(name='rates', defaults=FIELDS)"
    assert beat_model_rows(tmp_path, call) == []


def test_periodic_task_unpacked_fields_not_flagged(tmp_path):
    call = "PeriodicTask.objects.create(name='rates', **FIELDS)"
    assert beat_model_rows(tmp_path, call) == []


def test_periodic_task_one_off_not_flagged(tmp_path):
    call = "PeriodicTask.objects.create(name='rates', interval=every_minute, one_off=True)"
    assert beat_model_rows(tmp_path, call) == []


def test_periodic_task_clocked_not_flagged(tmp_path):
    call = "PeriodicTask.objects.create(name='rates', clocked=at_noon, one_off=True)"
    assert beat_model_rows(tmp_path, call) == []


def test_periodic_task_expiry_set_before_save_not_flagged(tmp_path):
    source = """
        from django_celery_beat.models import PeriodicTask


        def schedule(every_minute):
            task = PeriodicTask(name="rates", task="shop.tasks.sync_rates", interval=every_minute)
            task.expire_seconds = 60
            task.save()
    """
    assert rows(tmp_path, "CEL502", source) == []


def test_periodic_task_expiry_set_on_another_object(tmp_path):
    source = """
        from django_celery_beat.models import PeriodicTask


        def schedule(every_minute, other):
            task = PeriodicTask(name="rates", task="shop.tasks.sync_rates", interval=every_minute)
            other.expire_seconds = 60
            task.save()
    """
    assert rows(tmp_path, "CEL502", source) == [5]


def test_periodic_task_of_another_app_not_flagged(tmp_path):
    source = """
        from shop.models import PeriodicTask


        def schedule():
            PeriodicTask.objects.create(name="rates")
    """
    assert rows(tmp_path, "CEL502", source) == []


# -- CEL503: periodic-args-not-json ------------------------------------------------------------

def json_rows(tmp_path: Path, call: str) -> list[int]:
    return rows(tmp_path, "CEL503", periodic_task_source(call))


PYTHON_OBJECTS = [
    "args=[1, 2]",
    "args=['weekly']",
    "args=('weekly',)",
    "args={1, 2}",
    "args=7",
    "args=-1",
    "args=[day for day in range(7)]",
    "kwargs={'include_refunds': True}",
    "kwargs={key: True for key in FLAGS}",
    "kwargs=1.5",
]


@pytest.mark.parametrize("argument", PYTHON_OBJECTS)
def test_periodic_task_python_object(tmp_path, argument):
    call = f"PeriodicTask.objects.create(name='report', task='shop.tasks.send_report', {argument})"
    assert json_rows(tmp_path, call) == [7]


JSON_STRINGS = [
    "args=json.dumps([1, 2])",
    "args='[\"weekly\"]'",
    "args=''",
    "args=ARGS",
    "args=build_args()",
    "args=[]",
    "kwargs={}",
    "kwargs=json.dumps({'include_refunds': True})",
    "kwargs=str(FLAGS)",
]


@pytest.mark.parametrize("argument", JSON_STRINGS)
def test_periodic_task_json_string_or_unknown_not_flagged(tmp_path, argument):
    call = f"PeriodicTask.objects.create(name='report', task='shop.tasks.send_report', {argument})"
    assert json_rows(tmp_path, call) == []


def test_periodic_task_constructor_args(tmp_path):
    call = "PeriodicTask(name='report', args=['weekly'], kwargs={'include_refunds': True})"
    assert json_rows(tmp_path, call) == [7, 7]


def test_periodic_task_defaults_args(tmp_path):
    source = """
        from django_celery_beat.models import PeriodicTask


        def schedule(every_week):
            PeriodicTask.objects.update_or_create(
                name="report",
                defaults={
                    "interval": every_week,
                    "args": ["weekly"],
                    "kwargs": json.dumps({"include_refunds": True}),
                },
            )
    """
    assert rows(tmp_path, "CEL503", source) == [9]


def test_periodic_task_get_or_create_kwargs(tmp_path):
    call = "PeriodicTask.objects.get_or_create(name='report', kwargs={'include_refunds': True})"
    assert json_rows(tmp_path, call) == [7]


def test_periodic_task_through_the_models_module(tmp_path):
    source = """
        from django_celery_beat import models as beat


        def schedule():
            beat.PeriodicTask.objects.create(name="report", args=["weekly"])
    """
    assert rows(tmp_path, "CEL503", source) == [5]


def test_periodic_task_imported_under_another_name(tmp_path):
    source = """
        from django_celery_beat.models import PeriodicTask as BeatTask


        def schedule():
            BeatTask.objects.create(name="report", args=["weekly"])
    """
    assert rows(tmp_path, "CEL503", source) == [5]


def test_periodic_task_args_in_unpacked_defaults_not_flagged(tmp_path):
    call = "PeriodicTask.objects.update_or_create(name='report', defaults={**FIELDS})"
    assert json_rows(tmp_path, call) == []


def test_args_of_another_model_not_flagged(tmp_path):
    source = """
        from shop.models import PeriodicTask


        def schedule():
            PeriodicTask.objects.create(name="report", args=["weekly"])
    """
    assert rows(tmp_path, "CEL503", source) == []


def test_args_of_another_call_not_flagged(tmp_path):
    source = """
        from django_celery_beat.models import PeriodicTask


        def schedule(task: PeriodicTask):
            PeriodicTask.objects.filter(name="report").update(args=["weekly"])
            task.run(args=["weekly"])
    """
    assert rows(tmp_path, "CEL503", source) == []


def test_not_json_message_for_a_list(tmp_path):
    source = periodic_task_source("PeriodicTask(name='report', args=['weekly'])")
    assert messages(tmp_path, "CEL503", source) == [(
        "`args=['weekly']` is a list, but django-celery-beat stores `args` as a JSON string: its "
        "str() is JSON only by accident (a string, None or True inside breaks it); pass "
        "`json.dumps(['weekly'])`")]


def test_not_json_message_for_a_dict(tmp_path):
    source = periodic_task_source("PeriodicTask(name='report', kwargs={'days': 7})")
    [message] = messages(tmp_path, "CEL503", source)
    assert message.endswith("its str() is not JSON, and beat disables the entry; pass "
                            "`json.dumps({'days': 7})`")


def test_not_json_message_for_a_number(tmp_path):
    source = periodic_task_source("PeriodicTask(name='report', args=7)")
    [message] = messages(tmp_path, "CEL503", source)
    assert message.endswith("its str() is not a JSON list; pass `json.dumps([7])`")


# -- CEL105 on PeriodicTask(task=...) ----------------------------------------------------------

def task_name_rows(tmp_path: Path, call: str) -> list[int]:
    return rows(tmp_path, "CEL105", periodic_task_source(call))


def test_periodic_task_unknown_task_name(tmp_path):
    call = "PeriodicTask.objects.create(name='rates', task='shop.tasks.sync_rate')"
    assert task_name_rows(tmp_path, call) == [7]


def test_periodic_task_constructor_unknown_task_name(tmp_path):
    call = "PeriodicTask(name='rates', task='shop.tasks.refresh_rates').save()"
    assert task_name_rows(tmp_path, call) == [7]


def test_periodic_task_defaults_unknown_task_name(tmp_path):
    source = """
        from django_celery_beat.models import PeriodicTask


        def schedule():
            PeriodicTask.objects.update_or_create(
                name="rates",
                defaults={"task": "shop.tasks.sync_rate"},
            )
    """
    assert rows(tmp_path, "CEL105", source) == [7]


def test_periodic_task_unknown_task_name_suggests_registered(tmp_path):
    source = periodic_task_source("PeriodicTask.objects.create(task='shop.tasks.sync_rate')")
    assert messages(tmp_path, "CEL105", source) == [
        "No task is registered as `shop.tasks.sync_rate`; did you mean `shop.tasks.sync_rates`?"]


def test_periodic_task_registered_task_name_not_flagged(tmp_path):
    call = "PeriodicTask.objects.create(name='rates', task='shop.tasks.sync_rates')"
    assert task_name_rows(tmp_path, call) == []


def test_periodic_task_other_service_task_name_not_flagged(tmp_path):
    call = "PeriodicTask.objects.create(name='rates', task='billing_service.charge')"
    assert task_name_rows(tmp_path, call) == []


def test_periodic_task_name_field_is_not_a_task_name(tmp_path):
    call = "PeriodicTask.objects.create(name='shop.tasks.sync_rate', task='shop.tasks.sync_rates')"
    assert task_name_rows(tmp_path, call) == []


def test_task_keyword_of_another_model_not_checked(tmp_path):
    source = """
        from shop.models import PeriodicTask


        def schedule():
            PeriodicTask.objects.create(task="shop.tasks.sync_rate")
    """
    assert rows(tmp_path, "CEL105", source) == []


# -- CEL504: crontab-every-minute --------------------------------------------------------------

def every_minute_rows(tmp_path: Path, call: str,
                      imports: str = "from celery.schedules import crontab") -> list[int]:
    """Rows of CEL504 for `call`, written on row 3 below `imports`."""
    return rows(tmp_path, "CEL504", f"{imports}\n\nSCHEDULE = {call}\n")


EVERY_MINUTE = [
    "crontab(hour=4)",
    "crontab(hour=3, day_of_week='mon')",
    "crontab(day_of_month=1)",
    "crontab(month_of_year='jan')",
    "crontab(day_of_week='mon-fri')",
    "crontab(hour='*/2')",
    "crontab(hour='*', day_of_week='sun')",
    "crontab(hour=HOUR)",
    "crontab(hour=4, nowfun=None)",
]


@pytest.mark.parametrize("call", EVERY_MINUTE)
def test_crontab_without_minute(tmp_path, call):
    assert every_minute_rows(tmp_path, call) == [3]


MINUTE_MEANT = [
    "crontab()",
    "crontab(minute=0, hour=4)",
    "crontab(minute='*/15', hour=4)",
    "crontab(minute='*', hour=4)",
    "crontab(hour=4, minute=30)",
    "crontab(0, 4)",
    "crontab('*', 4, 'mon')",
    "crontab(hour='*')",
    "crontab(hour='*', day_of_week='*')",
    "crontab(**FIELDS)",
    "crontab(*FIELDS)",
]


@pytest.mark.parametrize("call", MINUTE_MEANT)
def test_crontab_with_minute_or_every_minute_on_purpose(tmp_path, call):
    assert every_minute_rows(tmp_path, call) == []


def test_crontab_without_minute_imported_under_another_name(tmp_path):
    imports = "from celery.schedules import crontab as cron"
    assert every_minute_rows(tmp_path, "cron(hour=4)", imports) == [3]


def test_another_crontab_function_not_flagged(tmp_path):
    imports = "from shop.schedules_util import crontab"
    assert every_minute_rows(tmp_path, "crontab(hour=4)", imports) == []


def test_crontab_without_minute_in_add_periodic_task(tmp_path):
    source = """
        from celery.schedules import crontab

        from proj.celery import app
        from shop.tasks import sync_rates


        @app.on_after_finalize.connect
        def setup(sender, **kwargs):
            sender.add_periodic_task(crontab(hour=7, day_of_week=1), sync_rates.s(), expires=60)
    """
    assert rows(tmp_path, "CEL504", source) == [9]


def test_crontab_every_minute_message_counts_the_runs(tmp_path):
    source = "from celery.schedules import crontab\n\nA = crontab(hour=4)\nB = crontab(hour='8,20')\n" \
             "C = crontab(day_of_month=1)\n"
    found = messages(tmp_path, "CEL504", source)
    assert found[0] == (
        "`crontab(hour=4)` leaves `minute` at its default `*`, so it runs every minute of each hour "
        "it names (60 runs a day instead of one); add `minute=0` (or write `minute=\"*\"` when "
        "every minute is meant)")
    assert "(120 runs a day instead of 2)" in found[1]
    assert "every minute of each day it names (1,440 runs a day instead of one)" in found[2]
