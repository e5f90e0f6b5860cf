"""Settings for the test run: the portal's own, with test-only values that production never has."""

import os
from pathlib import Path

# Each test run keeps its SQLite file, broker folders and logs apart: from a `make run` in the
# same checkout, and from another test run at the same time. Set in the environment so that the
# worker and cloudsim processes a run starts inherit the same folder.
os.environ.setdefault(
    "VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test" / f"run-{os.getpid()}")
)
os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")

from portal.settings import *  # noqa: F403
from portal.settings import DATABASES, VAR_DIR

# A fast hasher: the tests log in many users, none of them real.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: the Celery worker that the tests start is another process and must
    # see the same database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-portal.sqlite3")}

# Never the real cloud from a test: tests that need one start cloudsim and point here at it.
CLOUD_ENDPOINT = os.environ.get("CLOUD_ENDPOINT", "http://127.0.0.1:9")

# The redelivery test kills worker processes on purpose; Celery's default 10 s grace before it
# declares a process lost would make each kill cost that long. Results are never read anyway.
CELERY_WORKER_LOST_WAIT = 0.5

# Pages render static URLs; the manifest storage of production needs `collectstatic` first.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The test client and the browser tests' live server speak plain HTTP. (Production redirects to
# HTTPS: tests/portal/test_settings.py checks the production values in a process of their own.)
SECURE_SSL_REDIRECT = False
