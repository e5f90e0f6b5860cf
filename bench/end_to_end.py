"""How close to the cloud's own time the portal gets, timed as its users see it: from the moment
a client sends its POST.

The portal runs as `make run` runs it, but for its web process: cloudsim, one Celery worker of
concurrency 2, beat (its health sweep set to hourly, so that a sweep's work is not counted as the
requests'), and gunicorn with the checkout's own gunicorn.conf.py (2 processes, one per core), as
production serves the site: runserver's listen backlog is 10 connections
(django.core.servers.basehttp.WSGIServer), and 50 clients at once find it full. Its clients are
separate HTTP clients, one thread each, that send at once; the benchmark watches the database
for each request's state. It measures this checkout, or with `--root DIR` another one (the code
before a change, measured the same way: the harness uses only the REST API, `manage.py` and the
tables' states).

    .venv/bin/python bench/end_to_end.py                  # 1, 12 and 500 at once, short times
    .venv/bin/python bench/end_to_end.py --profile cloud  # the cloud's own times
    .venv/bin/python bench/end_to_end.py --short          # 1, 12 and 50 at once (CI)

Figures, each the portal's time over the cloud's own for the same work:
- seed publish, POST → available, over the sum of the publish operations' times;
- 1 request, POST → pending approval, over CreateVpcEndpoint's time, and its approval, POST →
  connected, over EnableVpcEndpointConnection's; the first time (the portal reads from the start)
  and once it knows the operations' typical times;
- N requests at once, each from its own POST: the slowest and the median, and where the time went
  (the POST's answer, a worker taking the request, the endpoint asked for, pending approval).
  The cloud's own time for N creates is the operation's time, or more when N is over the
  operation's rate limit: at most 200 in any minute, the best client sends the 201st a minute
  after the first;
- the cloud calls of each account, their peak per second and per minute, against the documented
  rate limits (cloudsim/metadata/quotas.json, from the products' "API rate limits" pages:
  PrivateLink's writes 200 a minute, its reads 1,000 a minute; NLB's writes 200 a minute, its
  reads 20 a second), and how many calls the cloud refused for the rate;
- the CPU seconds the portal's processes spent per request (web, worker and its children, beat),
  and the same above what they spend idle (measured for 5 s before each burst).

Profiles (cloudsim/profiles): `short` (CreateVpcEndpoint 2 s, EnableVpcEndpointConnection 1.5 s,
...) or `cloud` (the cloud's own times, as the Terraform provider's waits show them: a minute for
an endpoint). SQLite and the file-system broker unless DATABASE_URL and REDIS_URL name others (an
empty PostgreSQL database; a Redis database of the benchmark's own, which it empties first).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import environment
import redis

VAR = environment.prepare("e2e")

from processes import (  # noqa: E402
    ROOT,
    broker,
    free_port,
    portal_cpu_seconds,
    scenario_with,
    wait_for_line,
)

from cloudsim import scenario as cloudsim_scenario  # noqa: E402
from cloudsim.metadata import quota  # noqa: E402

PUBLISH_OPERATIONS = (
    "CreateLoadBalancer",
    "CreateServerGroup",
    "AddServersToServerGroup",
    "CreateListener",
    "CreateVpcEndpointService",
)
POLL_SECONDS = 0.01
# The demo's people and accounts, each account synced, and a token each for the provider and
# the consumer: run by the measured checkout's `manage.py shell` (its own code and models).
SEED = """
import json
from connections import demo
from connections.api.tokens import issue_token
people = demo.create_people()
for account in demo.create_accounts({path!r}).values():
    demo.sync_inventory(account)
print("SEED " + json.dumps({{n: issue_token(people[n])[1] for n in ("provider", "consumer")}}))
"""


def main() -> None:
    # Stopped from outside (a timeout), it still stops the portal it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(f"{sys.argv[0]}: terminated"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="12 and 50 at once, not 500")
    parser.add_argument("--profile", default="short", choices=cloudsim_scenario.profiles())
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure")
    args = parser.parse_args()
    bursts = (12, 50) if args.short else (12, 500)
    scenario = cloudsim_scenario.with_profile(
        cloudsim_scenario.load(scenario_with(VAR, sum(bursts), write=False)), args.profile
    )
    # The profile's times written into the scenario: the measured checkout's cloudsim reads them
    # whether or not it knows profiles.
    path = scenario_with(VAR, sum(bursts), delays=dict(scenario.delays))
    with Portal(args.root.resolve(), path) as portal:
        run = Run(portal, scenario, bursts).measure()
        run.report(args.profile, portal.commit())


class Portal:
    """The portal's processes as `make run` starts them, from checkout `root`."""

    def __init__(self, root: Path, scenario_path: Path):
        self.root, self.scenario_path = root, scenario_path
        self.web_port, self.cloud_port = free_port(), free_port()
        self.env = {
            **os.environ,
            "PYTHONPATH": str(root),
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "VAR_DIR": str(VAR),
            "SECRET_KEY": "bench-only-not-a-secret",
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "CLOUD_ENDPOINT": f"http://127.0.0.1:{self.cloud_port}",
            "PROBE_INTERVAL_SECONDS": "3600",
            "API_RATE_USER": "",
            "GUNICORN_BIND": f"127.0.0.1:{self.web_port}",
            "GUNICORN_WORKERS": "2",
        }
        self.processes: dict[str, subprocess.Popen] = {}

    def __enter__(self) -> Portal:
        try:
            self._start_all()
        except BaseException:
            self.__exit__()  # what did start is stopped
            raise
        return self

    def _start_all(self) -> None:
        if os.environ.get("REDIS_URL"):
            # The cache keeps what an earlier run learnt (each operation's typical time: a run
            # with the cloud's minute-long times would make the next, short one wait a minute).
            redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
        self._manage("migrate", "--noinput")
        self._start(
            "cloudsim",
            [sys.executable, "-m", "cloudsim", "serve", "--port", str(self.cloud_port),
             "--scenario", str(self.scenario_path)],
            "cloudsim ready on",
        )  # fmt: skip
        seeded = self._manage("shell", "-c", SEED.format(path=str(self.scenario_path)))
        self.tokens = json.loads(seeded.split("SEED ", 1)[1])
        self._start(
            "web",
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "portal.wsgi"],
            "Booting worker",
        )
        self._start(
            "worker",
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "--queues",
             "provisioning,probes", "--concurrency", "2", "--loglevel", "INFO"],
            " ready.",
        )  # fmt: skip
        self._start(
            "beat",
            [sys.executable, "-m", "celery", "-A", "portal", "beat", "--loglevel", "INFO",
             "--schedule", str(VAR / "celerybeat-schedule")],
            "beat: Starting",
        )  # fmt: skip

    def __exit__(self, *exc) -> None:
        for process in reversed(self.processes.values()):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

    def _manage(self, *command: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=self.root, env=self.env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode:
            raise SystemExit(f"manage.py {command[0]} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def _start(self, name: str, command: list[str], ready: str) -> None:
        log = VAR / f"{name}.log"
        process = subprocess.Popen(
            command, cwd=self.root, env=self.env, stdout=log.open("w"), stderr=subprocess.STDOUT
        )
        self.processes[name] = process
        wait_for_line(process, log, ready, name)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def cpu_seconds(self) -> dict[str, float]:
        return {
            name: portal_cpu_seconds(process.pid)
            for name, process in self.processes.items()
            if name != "cloudsim"
        }

    def idle_cpu_rate(self, seconds: float = 5.0) -> float:
        """CPU seconds a second the portal's processes spend while nothing is asked of them."""
        before = sum(self.cpu_seconds().values())
        time.sleep(seconds)
        return (sum(self.cpu_seconds().values()) - before) / seconds

    def cloud_stats(self) -> dict:
        return http_json("GET", f"http://127.0.0.1:{self.cloud_port}/_sim/stats")

    def commit(self) -> str:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=self.root, capture_output=True, text=True,
            check=False,
        )  # fmt: skip
        return done.stdout.strip() or "?"


def http_json(method: str, url: str, body=None, token: str | None = None) -> dict:
    """One call as a script makes it: its own connection, JSON in and out."""
    import urllib.request

    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    request = urllib.request.Request(  # noqa: S310 - loopback URLs of the benchmark's processes
        url, data=json.dumps(body).encode() if body is not None else None, method=method,
        headers=headers,
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310
        return json.loads(answer.read() or b"{}")


class States:
    """The rows' states, read straight from the portal's tables (any checkout's)."""

    def __init__(self):
        url = os.environ.get("DATABASE_URL", "")
        if url.startswith("postgres"):
            import psycopg

            self.connection = psycopg.connect(url, autocommit=True)
            self.mark = "%s"
        else:
            import sqlite3

            self.connection = sqlite3.connect(VAR / "portal.sqlite3", isolation_level=None)
            self.mark = "?"

    def of(self, table: str, ids: list[int]) -> dict[int, str]:
        marks = ", ".join([self.mark] * len(ids))
        cursor = self.connection.execute(
            f"SELECT id, state FROM connections_{table} WHERE id IN ({marks})",  # noqa: S608
            ids,
        )
        return dict(cursor.fetchall())

    def hops(self, ids: list[int]) -> int:
        marks = ", ".join([self.mark] * len(ids))
        cursor = self.connection.execute(
            f"SELECT SUM(task_hop) FROM connections_accessrequest WHERE id IN ({marks})",  # noqa: S608
            ids,
        )
        return cursor.fetchone()[0] or 0

    def taken_at(self, ids: list[int]) -> dict[int, float]:
        """When a worker took each request (its `provisioning` event), as epoch seconds."""
        marks = ", ".join([self.mark] * len(ids))
        cursor = self.connection.execute(
            "SELECT access_request_id, created_at FROM connections_event "  # noqa: S608
            f"WHERE verb = 'provisioning' AND access_request_id IN ({marks})",
            ids,
        )
        return {pk: _epoch(at) for pk, at in cursor.fetchall()}

    def wait(
        self, table: str, ids: list[int], state: str, timeout: float = 900
    ) -> dict[int, float]:
        """When (epoch seconds) each row reached `state`."""
        started, reached = time.time(), {}
        while len(reached) < len(ids):
            for pk, now in self.of(table, [i for i in ids if i not in reached]).items():
                if now == state:
                    reached[pk] = time.time()
                elif now == "failed":
                    raise SystemExit(f"{table} {pk} failed: see {VAR}/worker.log")
            if time.time() - started > timeout:
                raise SystemExit(f"{len(ids) - len(reached)} not {state} after {timeout} s")
            time.sleep(POLL_SECONDS)
        return reached


def _epoch(value) -> float:
    from datetime import UTC, datetime

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


@dataclass
class Burst:
    count: int
    slowest: float
    median: float
    cloud: float  # the best client's slowest
    cloud_median: float
    answered: tuple[float, float]  # median, max seconds from POST to its answer
    taken: tuple[float, float]  # median, max seconds from POST to a worker taking it
    cpu: dict[str, float]
    idle: float  # CPU seconds a second the processes spend with nothing to do
    reads: int
    calls: dict[str, int]
    seconds: float


class Run:
    def __init__(self, portal: Portal, scenario, bursts: tuple[int, ...]):
        self.portal, self.scenario, self.bursts = portal, scenario, bursts
        self.states = States()
        self.rows: list[tuple[str, float, float]] = []
        self.measured: list[Burst] = []
        self.vpcs = self._consumer_vpcs()

    def _consumer_vpcs(self) -> list[dict]:
        token = self.portal.tokens["consumer"]
        vpcs, url = [], f"{self.portal.url}/api/v1/vpcs/?page_size=200"
        while url:
            page = http_json("GET", url, token=token)
            vpcs.extend(page["results"])
            url = page.get("next")
        return sorted(
            (v for v in vpcs if v["name"].startswith("B")), key=lambda v: int(v["name"][1:])
        )

    def delay(self, operation: str) -> float:
        return self.scenario.delay(operation)

    def measure(self) -> Run:
        for name, when in (("nginx-hangzhou", "first time"), ("nginx-hangzhou-2", "known")):
            self.service = self.publish(name, when)
            self.request_and_approve(when)
        start = 0
        for count in self.bursts:
            self.measured.append(self.at_once(self.vpcs[start : start + count]))
            start += count
        return self

    def publish(self, name: str, when: str) -> int:
        token = self.portal.tokens["provider"]
        vpcs = http_json("GET", f"{self.portal.url}/api/v1/vpcs/?name=VPC2", token=token)
        vpc = vpcs["results"][0]
        instances = {i["name"]: i["instance_id"] for i in vpc["instances"]}
        body = {
            "name": name,
            "vpc_id": vpc["vpc_id"],
            "zones": [
                {"zone_id": v["zone_id"], "vswitch_id": v["vswitch_id"]}
                for v in vpc["vswitches"]
                if v["zone_id"] in ("cn-hangzhou-g", "cn-hangzhou-k")
            ],
            "backends": [
                {"instance_id": instances[n], "port": 80, "weight": 100} for n in ("ECS03", "ECS04")
            ],
            "listener": {"protocol": "TCP", "port": 80},
        }
        sent = time.time()
        pk = http_json("POST", f"{self.portal.url}/api/v1/services/", body, token)["id"]
        done = self.states.wait("publishedservice", [pk], "available")[pk]
        cloud = sum(self.delay(op) for op in PUBLISH_OPERATIONS)
        self.rows.append((f"seed publish → available ({when})", done - sent, cloud))
        return pk

    def body(self, vpc: dict) -> dict:
        return {
            "service": self.service,
            "vpc_id": vpc["vpc_id"],
            "security_group_ids": [g["security_group_id"] for g in vpc["security_groups"]],
            "zones": [
                {"zone_id": v["zone_id"], "vswitch_id": v["vswitch_id"]}
                for v in vpc["vswitches"]
                if v["zone_id"] in ("cn-hangzhou-g", "cn-hangzhou-k")
            ],
            "justification": "bench",
        }

    def request_and_approve(self, when: str) -> None:
        token = self.portal.tokens["consumer"]
        vpc = next(
            v
            for v in http_json("GET", f"{self.portal.url}/api/v1/vpcs/?name=VPC1", token=token)[
                "results"
            ]
        )
        sent = time.time()
        pk = http_json("POST", f"{self.portal.url}/api/v1/access-requests/", self.body(vpc), token)[
            "id"
        ]
        pending = self.states.wait("accessrequest", [pk], "pending_approval")[pk]
        self.rows.append(
            (
                f"1 request → pending approval ({when})",
                pending - sent,
                self.delay("CreateVpcEndpoint"),
            )
        )
        sent = time.time()
        http_json(
            "POST",
            f"{self.portal.url}/api/v1/access-requests/{pk}/approve/",
            {},
            self.portal.tokens["provider"],
        )
        connected = self.states.wait("accessrequest", [pk], "connected")[pk]
        connect = self.delay("EnableVpcEndpointConnection")
        self.rows.append((f"approve → connected ({when})", connected - sent, connect))
        # Revoked out of the way, so that VPC1 may ask again for the next service.
        http_json("DELETE", f"{self.portal.url}/api/v1/access-requests/{pk}/", None, token)
        self.states.wait("accessrequest", [pk], "revoked")

    def at_once(self, vpcs: list[dict]) -> Burst:
        """len(vpcs) clients, each its own thread and connection, send their POSTs together."""
        token, count = self.portal.tokens["consumer"], len(vpcs)
        bodies = [self.body(vpc) for vpc in vpcs]
        barrier = threading.Barrier(count)
        sent, answered, ids = [0.0] * count, [0.0] * count, [0] * count

        def client(index: int) -> None:
            barrier.wait()
            sent[index] = time.time()
            ids[index] = http_json(
                "POST", f"{self.portal.url}/api/v1/access-requests/", bodies[index], token
            )["id"]
            answered[index] = time.time()

        idle = self.portal.idle_cpu_rate()
        before_calls, before_cpu = self.portal.cloud_stats()["calls"], self.portal.cpu_seconds()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
        started = time.time()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        reached = self.states.wait("accessrequest", ids, "pending_approval")
        after_cpu, stats = self.portal.cpu_seconds(), self.portal.cloud_stats()
        posted = dict(zip(ids, sent, strict=True))
        taken = self.states.taken_at(ids)
        totals = [reached[pk] - posted[pk] for pk in ids]
        burst = Burst(
            count=count,
            slowest=max(totals),
            median=statistics.median(totals),
            cloud=self.cloud_time("CreateVpcEndpoint", count - 1),
            cloud_median=statistics.median(
                self.cloud_time("CreateVpcEndpoint", rank) for rank in range(count)
            ),
            answered=_median_max([a - s for a, s in zip(answered, sent, strict=True)]),
            taken=_median_max([taken[pk] - posted[pk] for pk in ids if pk in taken]),
            cpu={k: after_cpu[k] - before_cpu[k] for k in after_cpu},
            idle=idle,
            reads=self.states.hops(ids),
            calls={a: n - before_calls.get(a, 0) for a, n in stats["calls"].items()},
            seconds=max(reached.values()) - started,
        )
        self.peaks = stats.get("peaks", {})
        self.throttled = stats.get("errors", {}).get("Throttling.User", 0)
        return burst

    def cloud_time(self, operation: str, rank: int) -> float:
        """The cloud's own time for the `rank`-th (from 0) of many calls of `operation` sent at
        once: its time, plus the wait its rate limit imposes on the best client. At most
        `limit` calls in any period (the stricter reading, which cloudsim enforces): the k-th
        call can go no sooner than period × (k // limit) after the first."""
        limit, period = quota("privatelink", operation) or (rank + 1, 0)
        return self.delay(operation) + rank // limit * period

    def report(self, profile: str, commit: str) -> None:
        database = (
            "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
        )
        print(
            f"end to end, timed from each client's POST: profile {profile}, {database}, "
            f"{broker()} broker, code at {commit}"
        )
        print(f"{'':46}{'portal s':>10}{'cloud s':>9}{'ratio':>8}")
        for label, spent, cloud in self.rows:
            print(f"{label:46}{spent:10.2f}{cloud:9.2f}{spent / cloud:8.2f}")
        for burst in self.measured:
            for what, value, cloud in (
                ("the slowest", burst.slowest, burst.cloud),
                ("the median", burst.median, burst.cloud_median),
            ):
                label = f"{burst.count} at once, {what}"
                print(f"{label:46}{value:10.2f}{cloud:9.2f}{value / cloud:8.2f}")
        print()
        print("where a burst's time went (median / slowest, seconds from each POST)")
        for burst in self.measured:
            print(
                f"{burst.count} at once: POST answered "
                f"{burst.answered[0]:.2f} / {burst.answered[1]:.2f}, "
                f"taken by a worker {burst.taken[0]:.2f} / {burst.taken[1]:.2f}, "
                f"pending approval {burst.median:.2f} / {burst.slowest:.2f}"
            )
        print()
        print("CPU seconds of the portal's processes per request (POST → pending approval)")
        for burst in self.measured:
            total = sum(burst.cpu.values())
            parts = ", ".join(
                f"{name} {seconds / burst.count:.3f}" for name, seconds in burst.cpu.items()
            )
            # What the processes spend with nothing to do (the broker's polling, timers) over the
            # burst's time is no request's: the cloud profile's minute-long waits would charge it
            # to them.
            above_idle = (total - burst.idle * burst.seconds) / burst.count
            print(
                f"{burst.count} at once: {total / burst.count:.3f} ({parts}); "
                f"above idle {above_idle:.3f} (idle {burst.idle:.3f} CPU s a second "
                f"over {burst.seconds:.0f} s)"
            )
        print()
        print(
            "while a burst waits on its endpoints: reads asked by the requests, and the calls made"
        )
        for burst in self.measured:
            print(
                f"{burst.count} at once: {burst.reads} reads, "
                f"{burst.calls.get('GetVpcEndpointAttribute', 0)} GetVpcEndpointAttribute, "
                f"{burst.calls.get('ListVpcEndpoints', 0)} ListVpcEndpoints"
            )
        print()
        print(f"calls the cloud refused for the rate (Throttling.User): {self.throttled}")
        print("cloud calls per account: peak in 1 s / in 60 s, against the documented quota")
        for uid, actions in sorted(self.peaks.items()):
            for key, peak in sorted(actions.items()):
                figure = quota(*key.split(":", 1))
                if figure is None:
                    continue
                limit, period = figure
                seen = peak["per_second"] if period <= 1 else peak["per_minute"]
                verdict = "within" if seen <= limit else "OVER"
                print(
                    f"{uid} {key:50} {peak['per_second']:5} / {peak['per_minute']:5}   "
                    f"limit {limit}/{period:g}s: {verdict}"
                )


def _median_max(values: list[float]) -> tuple[float, float]:
    return (statistics.median(values), max(values)) if values else (0.0, 0.0)


if __name__ == "__main__":
    main()
