"""`python -m celery_lint` runs the command line."""

from celery_lint.cli import main

main()
