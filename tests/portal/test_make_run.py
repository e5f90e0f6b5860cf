"""`make run` serves the sign-in page, its worker runs a task, Ctrl-C stops it all, and again."""

import os
import signal
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def run_env(var_dir: Path, web_port: int) -> dict[str, str]:
    # The embedded defaults, as on a fresh machine: no database, broker or cloud named.
    unset = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "CLOUD_ENDPOINT"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        VAR_DIR=str(var_dir),
        WEB_PORT=str(web_port),
        CLOUDSIM_PORT=str(free_port()),
    )
    return env


def wait_for_page(url: str, process: subprocess.Popen, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "make run exited early"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read().decode()
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout}s")


def wait_for_seed_service(database: Path, timeout: float = 90) -> str:
    """load_demo enqueued the seed's publish; the worker builds it against cloudsim."""
    state, deadline = "", time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sqlite3.connect(database) as db:
            row = db.execute(
                "SELECT state FROM connections_publishedservice WHERE name = 'nginx-hangzhou'"
            ).fetchone()
        state = row[0] if row else ""
        if state in ("available", "failed"):
            return state
        time.sleep(0.5)
    return state


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def run_once(env: dict[str, str], web_port: int, output: Path) -> str:
    with output.open("w") as log:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "run"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        page = wait_for_page(f"http://127.0.0.1:{web_port}/accounts/login/", process)
        ping = subprocess.run(
            [str(ROOT / ".venv/bin/python"), "manage.py", "ping_worker", "--timeout", "30"],
            cwd=ROOT, env={**env, "DEBUG": "true"}, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert ping.returncode == 0, ping.stderr + output.read_text()
        assert "answered" in ping.stdout
        assert wait_for_seed_service(Path(env["VAR_DIR"]) / "portal.sqlite3") == "available"
    finally:
        # Ctrl-C in a terminal signals the whole foreground process group.
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)
    deadline = time.monotonic() + 15
    while group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not group_alive(process.pid), "a process outlived Ctrl-C"
    return page


@pytest.mark.timeout(300)
def test_make_run_serves_sign_in_runs_a_task_and_stops_on_ctrl_c_twice(tmp_path):
    web_port = free_port()
    env = run_env(tmp_path / "var", web_port)

    first = run_once(env, web_port, tmp_path / "first.log")
    second = run_once(env, web_port, tmp_path / "second.log")

    for page in (first, second):
        assert "Sign in" in page and 'name="username"' in page
    banner = (tmp_path / "first.log").read_text()
    assert f"http://127.0.0.1:{web_port}/" in banner
    assert "provider, consumer, partner, admin" in banner
