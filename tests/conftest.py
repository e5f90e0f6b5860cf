"""Fixtures shared by every test package: cloudsim and a real Celery worker, each in its own
process, and free loopback ports."""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from bench.processes import RedisServer, free_port
from cloudsim import contract
from portal.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


# Tests whose outcome does not depend on the database and broker the portal runs on (cloudsim on
# its own, benchmarks, `make run` and settings in processes of their own, the browser journeys,
# whose pages the view tests check on both): CI's second pass, on PostgreSQL and Redis, leaves
# them out (`-m "not one_pass"`), having run them in its first.
ONE_PASS = (
    "tests/cloudsim/",
    "tests/conformance/",
    "tests/bench/",
    "tests/e2e/",
    "tests/portal/test_make_run.py",
    "tests/portal/test_settings.py",
    "tests/portal/test_compose.py",
)


# Every answer of every cloudsim the tests start (in this process or another: the variable is
# inherited) is checked against the SDK's response models and the metadata's error codes; a
# violation fails the run (cloudsim/contract.py).
CONTRACT_LOG = Path(settings.VAR_DIR) / "cloudsim-contract.jsonl"
os.environ[contract.ENVIRONMENT_VARIABLE] = str(CONTRACT_LOG)


def pytest_sessionfinish(session, exitstatus):
    violations = contract.read_log(CONTRACT_LOG)
    if violations:
        session.config.contract_violations = violations
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    violations = getattr(config, "contract_violations", [])
    if not violations:
        return
    terminalreporter.section("cloudsim answers that break the documented contract", red=True)
    for violation in sorted(set(violations)):
        terminalreporter.line(violation)
    terminalreporter.line(f"{len(violations)} violations, logged in {CONTRACT_LOG}")


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.fspath)).relative_to(ROOT).as_posix()
        if path.startswith(ONE_PASS):
            item.add_marker(pytest.mark.one_pass)


def pytest_sessionstart(session):
    """Remove the folders of test runs that ended over an hour ago (logs of recent ones stay)."""
    for folder in (ROOT / "var" / "test").glob("run-*"):
        if folder != Path(settings.VAR_DIR) and time.time() - folder.stat().st_mtime > 3600:
            shutil.rmtree(folder, ignore_errors=True)


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

    # Quieter and faster to start than the Procfile's worker; a test of the worker itself gives
    # `options=()` to run it as the Procfile does.
    TEST_OPTIONS = ("--without-gossip", "--without-mingle", "--without-heartbeat")

    def __init__(
        self,
        hostname: str,
        extra_env: dict[str, str] | None = None,
        options: tuple[str, ...] = TEST_OPTIONS,
    ):
        self.hostname = hostname
        self.extra_env = extra_env or {}
        self.options = options
        self.process: subprocess.Popen | None = None
        self._log_file = None
        self.log_path = Path(settings.VAR_DIR) / f"worker-{hostname}.log"

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "portal", "worker",
                "--queues", "provisioning,probes", "--concurrency", "2",
                "--hostname", f"{self.hostname}@%h", "--loglevel", "INFO", *self.options,
                "--include", "tests.chaos",
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


class CloudSimProcess:
    """`python -m cloudsim serve` on a free loopback port, with no delays, and its control API."""

    def __init__(self, log_dir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / "cloudsim.log"
        self.process: subprocess.Popen | None = None
        self._log_file = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "cloudsim", "serve", "--host", "127.0.0.1",
                "--port", str(self.port), "--delay-scale", "0", "--health-interval-scale", "0.05",
            ],
            cwd=ROOT, stdout=self._log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while "cloudsim ready on" not in self.log_path.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"cloudsim did not start:\n{self.log_path.read_text()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self._log_file:
            self._log_file.close()

    def control(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}/_sim/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"{}")

    def reset(self) -> None:
        self.control("POST", "reset", {})

    def stats(self) -> dict:
        return self.control("GET", "stats")

    def resolve(self, host: str, port: int) -> tuple[str, int] | None:
        try:
            answer = self.control("GET", f"resolve?host={host}&port={port}")
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise
        return answer["host"], answer["port"]


@pytest.fixture(scope="session")
def cloudsim():
    """One cloudsim for the session; tests that use it reset it first (see `cloud`)."""
    server = CloudSimProcess(Path(settings.VAR_DIR))
    server.start()
    previous, settings.CLOUD_ENDPOINT = settings.CLOUD_ENDPOINT, server.url
    yield server
    settings.CLOUD_ENDPOINT = previous
    server.stop()


# Switches of the test worker's faults and checks around cloud calls (tests/chaos.py): a test
# creates CHAOS_DIR to crash the worker once after each cloud write, or a file named after an
# action in CRASH_ON_DIR to crash it before every call of that action; LOCKED_CALLS_LOG lists
# the cloud calls made inside a database transaction.
CHAOS_DIR = Path(settings.VAR_DIR) / "chaos"
CRASH_ON_DIR = Path(settings.VAR_DIR) / "crash-on"
LOCKED_CALLS_LOG = Path(settings.VAR_DIR) / "locked-calls.log"


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, cloudsim):
    """A real worker on the real broker, shared by the session's tests (not eager mode).

    Its cloud is the session's cloudsim: no test's worker may ever reach a real endpoint.
    """
    with django_db_blocker.unblock():
        purge_queues()
        worker = WorkerProcess(
            hostname=f"test-worker-{os.getpid()}",
            extra_env={
                "CLOUD_ENDPOINT": cloudsim.url,
                "PORTAL_CHAOS_DIR": str(CHAOS_DIR),
                "PORTAL_CRASH_ON_DIR": str(CRASH_ON_DIR),
                "PORTAL_LOCKED_CALLS_LOG": str(LOCKED_CALLS_LOG),
            },
        )
        worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def private_redis():
    """A Redis of the test's own, so that stopping it disturbs nobody else."""
    server = RedisServer()
    server.start()
    yield server
    server.stop()
