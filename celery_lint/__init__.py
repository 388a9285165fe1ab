"""celery-lint: a static linter for Django projects that use Celery."""

__version__ = "0.1.0"
