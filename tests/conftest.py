import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

# The command-line runs of the tests write no cache into the fixtures or the test projects;
# tests/test_speed.py tests the cache, with this variable taken out of the environment.
os.environ.setdefault("CELERY_LINT_NO_CACHE", "1")
