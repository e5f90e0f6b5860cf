"""Fixtures shared by every test package: a real Celery worker process and free loopback ports."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from portal.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_for_subprocess() -> str:
    """The URL of the database the tests use (the test database, once it exists)."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for a child process that must share the tests' database and broker."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATABASE_URL=database_url_for_subprocess(),
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


class WorkerProcess:
    """A `celery worker` in its own process, consuming the configured broker."""

    def __init__(self, hostname: str, extra_env: dict[str, str] | None = None):
        self.hostname = hostname
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None
        self._log_file = None
        self.log_path = ROOT / "var" / "test" / f"worker-{hostname}.log"

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "portal", "worker",
                "--queues", "provisioning,probes", "--concurrency", "2",
                "--hostname", f"{self.hostname}@%h", "--loglevel", "INFO",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ],
            cwd=ROOT, env=subprocess_env(**self.extra_env), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self._wait_ready(timeout=30)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log_path.read_text()}")
            if " ready." in self.log_path.read_text():
                return
            time.sleep(0.1)
        raise RuntimeError(f"worker not ready in {timeout}s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log_file:
            self._log_file.close()

    def log(self) -> str:
        return self.log_path.read_text()


def purge_queues() -> None:
    """Drop messages a previous run left behind, so a worker only sees this run's tasks."""
    with celery_app.connection_for_write() as conn:
        for queue in celery_app.conf.task_queues:
            queue.bind(conn.default_channel).purge()


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real worker on the real broker, shared by the session's tests (not eager mode)."""
    with django_db_blocker.unblock():
        purge_queues()
        worker = WorkerProcess(hostname=f"test-worker-{os.getpid()}")
        worker.start()
    yield worker
    worker.stop()
