"""CEL106 countdown-exceeds-visibility-timeout and CEL315 visibility-timeout-below-time-limit,
one tiny project per shape, flagged beside near miss.

A source string is dedented and its leading newline dropped, so its first line of code is row 1.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import CELERY_APP, codes_at, lint, run_project

from celery_lint.analysis.broker import transport_default

TASKS = """
    from celery import shared_task


    @shared_task
    def send_reminder(order_id):
        pass
"""

SETTINGS = """
    CELERY_TASK_TIME_LIMIT = 300
    CELERY_TASK_SOFT_TIME_LIMIT = 240
"""
REDIS = SETTINGS + """
    CELERY_BROKER_URL = "redis://localhost:6379/0"
"""

SHOP = {**CELERY_APP, "shop/tasks.py": TASKS}


def rows(tmp_path: Path, source: str, settings: str = REDIS, path: str = "shop/services.py",
         files: dict[str, str] | None = None) -> list[int]:
    """Rows of CEL106 in `path`, `source` written there, with `settings` in production."""
    project = {**SHOP, "proj/settings.py": settings, **(files or {}), path: source}
    return [row for _, row in codes_at(tmp_path, project, path, select=("CEL106",))]


def scheduled(keyword: str) -> str:
    return f"""
        from datetime import datetime, timedelta

        from django.utils import timezone

        from shop.tasks import send_reminder


        def remind(pk):
            send_reminder.apply_async(args=[pk], {keyword})
    """


# -- what is too far ahead --------------------------------------------------------------------

@pytest.mark.parametrize("keyword", [
    "countdown=7200",
    "countdown=2 * 60 * 60",
    "countdown=3601",
    "countdown=60 * 60 * 24",
    "countdown=timedelta(hours=3).total_seconds()",
    "eta=timezone.now() + timedelta(hours=2)",
    "eta=datetime.now() + timedelta(days=1)",
    "eta=datetime.utcnow() + timedelta(0, 5400)",
    "eta=timedelta(minutes=90) + timezone.now()",
])
def test_schedule_beyond_redis_default(tmp_path, keyword):
    assert rows(tmp_path, scheduled(keyword)) == [9]


@pytest.mark.parametrize("keyword", [
    "countdown=60",
    "countdown=59 * 60",
    "countdown=3600",
    "countdown=delay",
    "countdown=None",
    "eta=timezone.now() + timedelta(minutes=30)",
    "eta=timezone.now() + timedelta(hours=2) - timedelta(hours=1, seconds=1)",
    "eta=order_time + timedelta(hours=2)",
    "eta=timezone.now() + timedelta(hours=hours)",
    "expires=7200",
])
def test_schedule_within_redis_default_not_flagged(tmp_path, keyword):
    source = scheduled(keyword).replace("def remind(pk):", "def remind(pk, delay=0, hours=1, "
                                                           "order_time=None):")
    assert rows(tmp_path, source) == []


def test_reported_at_the_value(tmp_path):
    result = run_project(tmp_path, {**SHOP, "proj/settings.py": REDIS,
                                    "shop/services.py": scheduled("countdown=7200")},
                         select=("CEL106",))
    [diagnostic] = result.diagnostics
    assert (diagnostic.location.row, diagnostic.location.column) == (9, 52)
    assert diagnostic.message.startswith(
        "countdown of 2 h is beyond the Redis visibility timeout, 1 h (kombu's "
        "default): ")


# -- other ways to schedule -------------------------------------------------------------------

def test_retry_countdown_in_bound_task(tmp_path):
    source = """
        from celery import shared_task


        @shared_task(bind=True, max_retries=3)
        def sync_order(self, pk):
            raise self.retry(countdown=6 * 60 * 60)
    """
    assert rows(tmp_path, source, path="shop/tasks.py") == [6]


def test_retry_short_countdown_not_flagged(tmp_path):
    source = """
        from celery import shared_task


        @shared_task(bind=True, max_retries=3)
        def sync_order(self, pk):
            raise self.retry(countdown=60)
    """
    assert rows(tmp_path, source, path="shop/tasks.py") == []


def test_retry_of_something_else_not_flagged(tmp_path):
    source = """
        from tenacity import Retrying

        retrying = Retrying()


        def sync(pk):
            retrying.retry(countdown=7200)
    """
    assert rows(tmp_path, source) == []


@pytest.mark.parametrize("call", [
    "send_reminder.s(pk).set(countdown=7200).delay()",
    "send_reminder.s(pk).apply_async(countdown=7200)",
    "send_reminder.signature((pk,), countdown=7200).delay()",
    'app.send_task("shop.tasks.send_reminder", args=[pk], countdown=7200)',
])
def test_signature_and_send_task_countdown(tmp_path, call):
    source = f"""
        from proj.celery import app
        from shop.tasks import send_reminder


        def remind(pk):
            {call}
    """
    assert rows(tmp_path, source) == [6]


def test_set_of_something_else_not_flagged(tmp_path):
    source = """
        from django.core.cache import cache


        def remind(pk):
            cache.set("reminder", pk, countdown=7200)
    """
    assert rows(tmp_path, source) == []


def test_delay_has_no_countdown_not_flagged(tmp_path):
    # `.delay(countdown=...)` passes `countdown` to the task as an argument
    source = """
        from shop.tasks import send_reminder


        def remind(pk):
            send_reminder.delay(pk, countdown=7200)
    """
    assert rows(tmp_path, source) == []


# -- which broker, which timeout --------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "rediss://:secret@cache.example.com:6380/0",
    "redis+socket:///run/redis/redis.sock",
    "sentinel://sentinel-1:26379;sentinel://sentinel-2:26379",
])
def test_other_redis_urls(tmp_path, url):
    settings = SETTINGS + f"""
    CELERY_BROKER_URL = "{url}"
    """
    assert rows(tmp_path, scheduled("countdown=7200"), settings) == [9]


def test_sqs_default_is_half_an_hour(tmp_path):
    settings = SETTINGS + """
    CELERY_BROKER_URL = "sqs://"
    """
    assert rows(tmp_path, scheduled("countdown=45 * 60"), settings) == [9]


def test_sqs_within_default_not_flagged(tmp_path):
    settings = SETTINGS + """
    CELERY_BROKER_URL = "sqs://"
    """
    assert rows(tmp_path, scheduled("countdown=20 * 60"), settings) == []


def test_kombu_defaults_read_from_its_source():
    assert transport_default("kombu.transport.redis", "visibility_timeout") == 3600
    assert transport_default("kombu.transport.SQS", "default_visibility_timeout") == 1800
    assert transport_default("kombu.transport.redis", "no_such_attribute") is None


def test_amqp_broker_not_flagged(tmp_path):
    settings = SETTINGS + """
    CELERY_BROKER_URL = "amqp://guest:guest@rabbitmq:5672//"
    """
    assert rows(tmp_path, scheduled("countdown=86400"), settings) == []


def test_no_broker_url_not_flagged(tmp_path):
    # Celery's default broker is RabbitMQ
    assert rows(tmp_path, scheduled("countdown=86400"), SETTINGS) == []


def test_broker_from_environment_not_flagged(tmp_path):
    settings = SETTINGS + """
    import os

    CELERY_BROKER_URL = os.environ.get("BROKER_URL", "redis://localhost:6379/0")
    """
    assert rows(tmp_path, scheduled("countdown=86400"), settings) == []


def test_transport_options_raise_the_timeout_not_flagged(tmp_path):
    settings = REDIS + """
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 12 * 60 * 60}
    """
    assert rows(tmp_path, scheduled("countdown=2 * 60 * 60"), settings) == []


def test_transport_options_timeout_still_too_short(tmp_path):
    settings = REDIS + """
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 12 * 60 * 60}
    """
    assert rows(tmp_path, scheduled("countdown=24 * 60 * 60"), settings) == [9]


def test_transport_options_lower_the_timeout(tmp_path):
    settings = REDIS + """
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600, "max_retries": 3}
    """
    assert rows(tmp_path, scheduled("countdown=15 * 60"), settings) == [9]


def test_transport_options_without_timeout_use_the_default(tmp_path):
    settings = REDIS + """
    CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 3}
    """
    assert rows(tmp_path, scheduled("countdown=7200"), settings) == [9]


def test_transport_options_timeout_from_environment_not_flagged(tmp_path):
    settings = REDIS + """
    import os

    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(os.environ.get("VISIBILITY_TIMEOUT", "3600")),
    }
    """
    assert rows(tmp_path, scheduled("countdown=7200"), settings) == []


def test_broker_given_to_the_app(tmp_path):
    app = """
        from celery import Celery

        app = Celery("proj", broker="redis://localhost:6379/0")
    """
    assert rows(tmp_path, scheduled("countdown=7200"), SETTINGS,
                files={"proj/celery.py": app}) == [9]


# -- CEL315 visibility-timeout-below-time-limit -------------------------------------------------

LATE = """
    CELERY_BROKER_URL = "redis://localhost:6379/0"
    CELERY_TASK_ACKS_LATE = True
    CELERY_TASK_SOFT_TIME_LIMIT = 240
    CELERY_TASK_TIME_LIMIT = 300
"""


def limit_rows(tmp_path: Path, decorator: str, settings: str = LATE,
               files: dict[str, str] | None = None) -> list[tuple[str, int]]:
    """(path, row) of CEL315: the task's decorator is on row 3 of shop/tasks.py."""
    source = f"from celery import shared_task\n\n{decorator}\ndef export(day):\n    pass\n"
    project = {**CELERY_APP, "proj/settings.py": settings, "shop/tasks.py": source,
               **(files or {})}
    return [(path, row) for _, path, row in lint(tmp_path, project, select=("CEL315",))]


def test_cel315_task_limit_beyond_the_redis_default(tmp_path):
    assert limit_rows(tmp_path, "@shared_task(time_limit=2 * 60 * 60)") == [("shop/tasks.py", 3)]


def test_cel315_task_limit_within_the_timeout_not_flagged(tmp_path):
    assert limit_rows(tmp_path, "@shared_task(time_limit=3600)") == []


def test_cel315_task_limit_on_its_own_line(tmp_path):
    decorator = "@shared_task(\n    bind=True,\n    soft_time_limit=5000,\n    time_limit=5400,\n)"
    assert limit_rows(tmp_path, decorator) == [("shop/tasks.py", 6)]


def test_cel315_soft_limit_when_there_is_no_hard_one(tmp_path):
    settings = LATE.replace("    CELERY_TASK_TIME_LIMIT = 300\n", "")
    assert limit_rows(tmp_path, "@shared_task(soft_time_limit=5000)", settings) == [
        ("shop/tasks.py", 3)]


def test_cel315_hard_limit_within_the_timeout_bounds_a_long_soft_one(tmp_path):
    settings = LATE.replace("CELERY_TASK_TIME_LIMIT = 300", "CELERY_TASK_TIME_LIMIT = 3000")
    assert limit_rows(tmp_path, "@shared_task(soft_time_limit=5000)", settings) == []


def test_cel315_task_acknowledged_early_not_flagged(tmp_path):
    assert limit_rows(tmp_path, "@shared_task(acks_late=False, time_limit=7200)") == []


def test_cel315_acks_late_on_the_task_only(tmp_path):
    settings = LATE.replace("CELERY_TASK_ACKS_LATE = True", "CELERY_TASK_ACKS_LATE = False")
    assert limit_rows(tmp_path, "@shared_task(time_limit=7200)", settings) == []
    assert limit_rows(tmp_path, "@shared_task(acks_late=True, time_limit=7200)", settings) == [
        ("shop/tasks.py", 3)]


def test_cel315_acks_late_on_the_task_and_a_global_limit(tmp_path):
    settings = LATE.replace("CELERY_TASK_ACKS_LATE = True", "CELERY_TASK_ACKS_LATE = False") \
        .replace("CELERY_TASK_TIME_LIMIT = 300", "CELERY_TASK_TIME_LIMIT = 7200")
    assert limit_rows(tmp_path, "@shared_task(\n    acks_late=True,\n)", settings) == [
        ("shop/tasks.py", 4)]


def test_cel315_global_limit_and_global_acks_late_at_the_setting(tmp_path):
    settings = LATE.replace("CELERY_TASK_TIME_LIMIT = 300", "CELERY_TASK_TIME_LIMIT = 7200")
    assert limit_rows(tmp_path, "@shared_task", settings) == [("proj/settings.py", 4)]


def test_cel315_global_limit_overridden_by_the_task_still_reported_once(tmp_path):
    settings = LATE.replace("CELERY_TASK_TIME_LIMIT = 300", "CELERY_TASK_TIME_LIMIT = 7200")
    assert limit_rows(tmp_path, "@shared_task(time_limit=7000)", settings) == [
        ("proj/settings.py", 4), ("shop/tasks.py", 3)]


def test_cel315_visibility_timeout_raised_in_the_transport_options(tmp_path):
    settings = LATE + '    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 4 * 3600}\n'
    assert limit_rows(tmp_path, "@shared_task(time_limit=7200)", settings) == []
    assert limit_rows(tmp_path, "@shared_task(time_limit=5 * 3600)", settings) == [
        ("shop/tasks.py", 3)]


def test_cel315_sqs_default_is_half_an_hour(tmp_path):
    settings = LATE.replace("redis://localhost:6379/0", "sqs://")
    assert limit_rows(tmp_path, "@shared_task(time_limit=2400)", settings) == [
        ("shop/tasks.py", 3)]


def test_cel315_rabbitmq_not_flagged(tmp_path):
    settings = LATE.replace("redis://localhost:6379/0", "amqp://guest@localhost//")
    assert limit_rows(tmp_path, "@shared_task(time_limit=7200)", settings) == []


def test_cel315_default_broker_not_flagged(tmp_path):
    settings = LATE.replace('    CELERY_BROKER_URL = "redis://localhost:6379/0"\n', "")
    assert limit_rows(tmp_path, "@shared_task(time_limit=7200)", settings) == []


def test_cel315_broker_from_the_environment_with_a_redis_default(tmp_path):
    settings = "    import os\n" + LATE.replace(
        '"redis://localhost:6379/0"', 'os.environ.get("BROKER_URL", "redis://localhost:6379/0")')
    assert limit_rows(tmp_path, "@shared_task(time_limit=7200)", settings) == [
        ("shop/tasks.py", 3)]


def test_cel315_broker_from_the_environment_without_a_default_not_flagged(tmp_path):
    settings = "    import os\n" + LATE.replace('"redis://localhost:6379/0"',
                                                'os.environ["BROKER_URL"]')
    assert limit_rows(tmp_path, "@shared_task(time_limit=7200)", settings) == []


def test_cel315_limit_from_the_environment_not_flagged(tmp_path):
    settings = "    import os\n" + LATE.replace(
        "CELERY_TASK_TIME_LIMIT = 300", 'CELERY_TASK_TIME_LIMIT = int(os.environ.get("L", 7200))')
    assert limit_rows(tmp_path, "@shared_task", settings) == []


def test_cel315_task_class_that_may_set_the_limit_not_flagged(tmp_path):
    settings = LATE.replace("CELERY_TASK_TIME_LIMIT = 300", "CELERY_TASK_TIME_LIMIT = 7200")
    source = {"shop/tasks.py": """
        from celery import shared_task
        from somelib.tasks import ShortTask


        @shared_task(base=ShortTask, acks_late=True)
        def export(day):
            pass
    """}
    found = limit_rows(tmp_path, "@shared_task", settings.replace(
        "CELERY_TASK_ACKS_LATE = True", "CELERY_TASK_ACKS_LATE = False"), source)
    assert found == []


def test_cel315_message(tmp_path):
    project = {**CELERY_APP, "proj/settings.py": LATE, "shop/tasks.py": (
        "from celery import shared_task\n\n@shared_task(time_limit=5400)\n"
        "def export(day):\n    pass\n")}
    result = run_project(tmp_path, project, select=("CEL315",))
    assert [d.message for d in result.diagnostics] == [
        ("Task `export` is acknowledged late (`CELERY_TASK_ACKS_LATE`) and, with "
         "`time_limit=5400`, it may run 90 min, longer than the Redis visibility timeout of 1 h "
         "(kombu's default): the broker delivers the unacknowledged message to another worker "
         "while it still runs, so it runs twice; raise `visibility_timeout` in "
         "`broker_transport_options` above the limit, or lower the limit")]
