"""`python -m celery_lint` runs the command line."""

import os
import sys

# `python -m` puts the current folder first on sys.path: a module of the project being linted
# named like one celery-lint imports (yaml.py, celery.py, click.py) would be imported, and run,
# instead. Take it out, as pip's own __main__ does.
if sys.path and sys.path[0] in ("", os.getcwd()):
    sys.path.pop(0)

from celery_lint.cli import main

main()
