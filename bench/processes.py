"""The processes a benchmark starts beside itself: cloudsim, and Celery workers on the portal's
broker. Each on loopback, logging to a file, stopped by the benchmark when it is done."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_line(process: subprocess.Popen, log: Path, line: str, what: str) -> None:
    deadline = time.monotonic() + 60
    while line not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.1)


class CloudSim:
    """cloudsim in its own process on a free loopback port (it does not share the CPU of the
    process that measures). `delay_scale` 1 keeps the scenario's fixed operation times."""

    def __init__(self, log: Path, *, scenario: Path | None = None, delay_scale: float = 1.0):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "cloudsim", "serve", "--port", str(self.port),
                   "--delay-scale", str(delay_scale)]  # fmt: skip
        if scenario is not None:
            command += ["--scenario", str(scenario)]
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT
        )
        wait_for_line(self.process, log, "cloudsim ready on", "cloudsim")

    def control(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(  # noqa: S310 - cloudsim's loopback URL
            f"{self.url}/_sim/{path}",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
            return json.loads(answer.read() or b"{}")

    def settle(self, quiet_ms: float = 5, deadline_s: float = 120) -> None:
        """Wait until cloudsim is idle again (its relay threads from earlier probes done), so
        that one measurement's leftovers do not slow the next one's cloud calls."""
        deadline, quiet = time.monotonic() + deadline_s, 0
        while quiet < 3 and time.monotonic() < deadline:
            started = time.perf_counter()
            self.control("GET", "ping")
            quiet = quiet + 1 if (time.perf_counter() - started) * 1000 < quiet_ms else 0

    def calls(self) -> int:
        return sum(self.control("GET", "stats")["calls"].values())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


class Worker:
    """`celery worker` on the provisioning queue, with this process's settings and database."""

    def __init__(self, log: Path, name: str, *, concurrency: int = 2, env: dict | None = None):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "--queues", "provisioning",
             "--concurrency", str(concurrency), "--hostname", f"{name}@%h", "--loglevel", "INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
            stdout=log.open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for_line(self.process, log, " ready.", f"worker {name}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
