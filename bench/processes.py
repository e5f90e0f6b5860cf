"""The processes a benchmark starts beside itself: cloudsim, and Celery workers on the portal's
broker. Each on loopback, logging to a file, stopped by the benchmark when it is done."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import redis
import yaml

from cloudsim import scenario

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


class Beat:
    """`celery beat` with the settings' schedule (the reconciler every 10 s, the sweep, ...)."""

    def __init__(self, log: Path, var: Path):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "beat", "--loglevel", "INFO",
             "--schedule", str(var / "celerybeat-schedule")],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=log.open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for_line(self.process, log, "beat: Starting", "beat")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


class RedisServer:
    """A redis-server of one's own on a free loopback port, without persistence, to stop and
    start again (the soak's outage; the tests' stopped cache and broker)."""

    def __init__(self, log: Path | None = None):
        self.binary = shutil.which("redis-server")
        assert self.binary, "redis-server must be installed"
        self.port, self.log = free_port(), log
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=self.log.open("a") if self.log else subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        client = redis.Redis(host="127.0.0.1", port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)  # polling the server until it answers, within the deadline

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class Worker:
    """`celery worker` on the provisioning queue, with this process's settings and database."""

    def __init__(
        self,
        log: Path,
        name: str,
        *,
        concurrency: int = 2,
        env: dict | None = None,
        queues: str = "provisioning",
    ):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "--queues", queues,
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


def scenario_with(
    var: Path, consumer_vpcs: int, *, delays: dict | None = None, write: bool = True
) -> Path:
    """The demo scenario and `consumer_vpcs` more VPCs for Apps in account A (one live request
    per VPC and service: each request of a burst needs its own), with `delays` over its
    operation times."""
    data = yaml.safe_load(scenario.DEFAULT_PATH.read_text())
    if delays:
        data["delays"] = {**(data.get("delays") or {}), **delays}
    account = next(a for a in data["accounts"] if a["name"] == "A")
    for n in range(consumer_vpcs):
        net = f"100.{64 + n // 256}.{n % 256}"
        account["vpcs"].append(
            {
                "name": f"B{n}",
                "cidr": f"{net}.0/24",
                "tags": {"team": "apps"},
                "vswitches": [
                    {"name": f"vsw-b{n}-g", "cidr": f"{net}.0/25", "zone": "cn-hangzhou-g"},
                    {"name": f"vsw-b{n}-k", "cidr": f"{net}.128/25", "zone": "cn-hangzhou-k"},
                ],
                "security_groups": [{"name": f"sg-b{n}"}],
            }
        )
    path = var / "bench-scenario.yaml"
    if write or not path.exists():
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def portal_cpu_seconds(pid: int) -> float:
    """CPU seconds (user and system) spent so far by process `pid` and its live descendants
    (a Celery worker's pool processes), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        stats[int(entry.name)] = fields
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        fields = stats.get(current)
        if fields is not None:
            # utime and stime are fields 14 and 15 of /proc/<pid>/stat (11 and 12 after the name)
            total += (int(fields[11]) + int(fields[12])) / ticks
        todo.extend(children.get(current, ()))
    return total


def request_body(vpc, service_id: int, justification: str) -> dict:
    """An access request from `vpc` in the seed's zones, as the API takes it."""
    from connections.demo import SEED_ZONES
    from connections.models import SecurityGroup, VSwitch

    return {
        "service": service_id,
        "vpc_id": vpc.vpc_id,
        "security_group_ids": [g.security_group_id for g in SecurityGroup.objects.filter(vpc=vpc)],
        "zones": [
            {"zone_id": v.zone_id, "vswitch_id": v.vswitch_id}
            for v in VSwitch.objects.filter(vpc=vpc, zone_id__in=SEED_ZONES)
        ],
        "justification": justification,
    }


def broker() -> str:
    return "Redis" if os.environ.get("REDIS_URL") else "file-system"


def seeded_world(scenario_path: Path, **client_options) -> tuple[dict, dict]:
    """The seed's people and accounts, each account's inventory synced from cloudsim, and for
    the provider and the consumer an API client signed in with a token of their own: (people,
    clients). Django must be set up."""
    from rest_framework.test import APIClient

    from connections import demo
    from connections.api.tokens import issue_token

    people = demo.create_people()
    for account in demo.create_accounts(scenario_path).values():
        demo.sync_inventory(account)
    clients = {}
    for name in ("provider", "consumer"):
        clients[name] = APIClient(**client_options)
        clients[name].credentials(HTTP_AUTHORIZATION=f"Token {issue_token(people[name])[1]}")
    return people, clients
