"""The soak: requests through cloud faults, a killed worker and a restarted broker, then the
portal checked against the cloud.

It starts its own stack on loopback: cloudsim (its fixed operation times, and a VPC for each
request), a worker as the Procfile runs it (both queues), beat (the reconciler every 10 s, the
health sweep), and with --redis a redis-server of its own as cache and broker; the database is
PostgreSQL when DATABASE_URL names one, else SQLite, and without --redis the broker is the
embedded file-system one. Requests and decisions go through the REST API in this process, with
tokens, as a client sends them; every answer is kept.

While requests are made and decided, cloudsim throttles 20% of calls with Retry-After, answers
5% with 503 and slows half of them down; the worker is killed with SIGKILL a third of the way
in (a new one is started, as a supervisor would) and, with --redis, Redis is stopped for 5 s two
thirds of the way in, while requests go on being made. Once every decision is made the faults
stop, and the soak checks:

- every request ended as asked (70% connected, 15% rejected, 15% revoked after connecting),
  none failed, and each entered each state once at most (no duplicate event);
- one endpoint in the cloud per connected request, and none left for the others (no orphan);
- no 5xx answer from the portal, and no worker exit but the one it killed;
- every chain resumed by the reconciler (`restarted` events) within 60 s of the worker or the
  broker coming back;
- all settled within 60 s after the faults stopped.

    .venv/bin/python bench/soak.py --short           # 20 requests (CI)
    .venv/bin/python bench/soak.py                   # 200 requests
    .venv/bin/python bench/soak.py [--short] --redis # Redis as cache and broker

It prints its figures and each check, and exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

import environment

# Rate limits on, but far above what the soak asks: they must let requests through while
# Redis is away.
VAR = environment.prepare("soak", **environment.PORTAL, API_RATE_USER="100000/min")

from processes import (  # noqa: E402
    Beat,
    CloudSim,
    RedisServer,
    Worker,
    broker,
    request_body,
    scenario_with,
    seeded_world,
)

FAULTS = [
    {"kind": "throttle", "rate": 0.2, "retry_after_ms": 500, "seed": 1},
    {"kind": "unavailable", "rate": 0.05, "seed": 2},
    {"kind": "latency", "rate": 0.5, "latency_ms": 150, "seed": 3},
]
BROKER_DOWN_SECONDS = 5
RESUME_LIMIT_SECONDS = 60
SETTLE_LIMIT_SECONDS = 60
POLL_SECONDS = 0.2


def plan_for(number: int) -> str:
    """What is asked of the n-th request: of every 20, 14 approved, 3 rejected, 3 revoked."""
    return "approve" if number % 20 < 14 else "reject" if number % 20 < 17 else "revoke"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="20 requests instead of 200")
    parser.add_argument("--redis", action="store_true", help="a Redis of its own as broker")
    args = parser.parse_args()
    count = 20 if args.short else 200
    redis = RedisServer(VAR / "redis.log") if args.redis else None
    if redis:
        redis.start()
        os.environ["REDIS_URL"] = redis.url
    path = scenario_with(VAR, count)
    cloudsim = CloudSim(VAR / "cloudsim.log", scenario=path)
    os.environ["CLOUD_ENDPOINT"] = cloudsim.url
    processes = []
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        soak = Soak(cloudsim, redis, path, count, processes)
        ok = soak.run()
    finally:
        for process in processes:
            process.stop()
        cloudsim.stop()
        if redis:
            redis.stop()
    sys.exit(0 if ok else 1)


class Soak:
    def __init__(self, cloudsim, redis, path: Path, count: int, processes: list):
        self.cloudsim, self.redis, self.path, self.count = cloudsim, redis, path, count
        self.processes = processes
        self.answers: list[tuple[str, int]] = []
        self.recoveries: list[tuple[str, float]] = []  # (what came back, when: time.time())
        self.workers = 0
        self.approved: set[int] = set()

    # --- the stack ---
    def start_worker(self) -> Worker:
        self.workers += 1
        worker = Worker(
            VAR / f"worker-{self.workers}.log", f"soak-{self.workers}", queues="provisioning,probes"
        )
        self.processes.append(worker)
        return worker

    def kill_worker(self, worker: Worker) -> Worker:
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait()
        self.processes.remove(worker)
        replacement = self.start_worker()
        self.recoveries.append(("worker", time.time()))
        return replacement

    def restart_broker(self) -> threading.Thread:
        """Stop Redis now and start it again BROKER_DOWN_SECONDS later, while requests go on."""
        self.redis.stop()

        def back() -> None:
            time.sleep(BROKER_DOWN_SECONDS)  # the outage itself, not a wait for something
            self.redis.start()
            self.recoveries.append(("broker", time.time()))

        thread = threading.Thread(target=back)
        thread.start()
        return thread

    # --- the API, as a client ---
    def call(self, client, method: str, url: str, body: dict | None = None) -> dict | None:
        answer = getattr(client, method)(url, body, format="json")
        self.answers.append((f"{method.upper()} {url}", answer.status_code))
        return answer.json() if answer.status_code < 300 and answer.content else None

    def run(self) -> bool:
        from django.db.models import Count

        from connections import demo
        from connections.choices import RequestState, ServiceState
        from connections.models import AccessRequest, Event, PublishedService, Vpc

        # A 5xx must be counted as the client saw it, not raised in this process.
        people, clients = seeded_world(self.path, raise_request_exception=False)
        worker = self.start_worker()
        self.processes.append(Beat(VAR / "beat.log", VAR))

        service = demo.publish_seed_service(people["provider"])
        deadline = time.monotonic() + 120
        while PublishedService.objects.get(pk=service.pk).state != ServiceState.AVAILABLE:
            if time.monotonic() > deadline:
                raise SystemExit("the seed service did not become available")
            time.sleep(POLL_SECONDS)

        for fault in FAULTS:
            self.cloudsim.control("POST", "faults", fault)
        started = time.time()
        plans, decided = {}, set()
        vpcs = list(Vpc.objects.filter(name__startswith="B").order_by("pk")[: self.count])
        for number, vpc in enumerate(vpcs):
            if number == self.count // 3:
                worker = self.kill_worker(worker)
            if number == 2 * self.count // 3 and self.redis:
                outage = self.restart_broker()
            created = self.call(
                clients["consumer"],
                "post",
                "/api/v1/access-requests/",
                request_body(vpc, service.pk, "soak"),
            )
            if created:
                plans[created["id"]] = plan_for(number)
            self.decide(clients, plans, decided)

        if self.redis:
            outage.join()
        while len(decided) < len(plans):
            self.decide(clients, plans, decided)
            time.sleep(POLL_SECONDS)
            if time.time() - started > 300:
                break  # reported below: not every request ended as asked
        fired = sum(f["fired"] for f in self.cloudsim.control("GET", "faults")["faults"])
        self.cloudsim.control("DELETE", "faults")
        faults_stopped = time.time()

        wanted = {
            "approve": RequestState.CONNECTED,
            "reject": RequestState.REJECTED,
            "revoke": RequestState.REVOKED,
        }

        def settled() -> bool:
            rows = AccessRequest.objects.filter(pk__in=plans)
            done = 0
            for pk, state, endpoint, deleted in rows.values_list(
                "pk", "state", "endpoint_id", "endpoint_deleted_at"
            ):
                closed = state != RequestState.CONNECTED
                done += state == wanted[plans[pk]] and (not closed or not endpoint or bool(deleted))
            return done == len(plans)

        while not settled() and time.time() - faults_stopped < 300:
            time.sleep(POLL_SECONDS)
        settle = time.time() - faults_stopped

        # --- checks ---
        rows = {r.pk: r for r in AccessRequest.objects.filter(pk__in=plans)}
        endpoints = self.cloudsim.control("GET", "state")["resources"].get("vpcendpoint", {})
        connected = {pk for pk, r in rows.items() if r.state == RequestState.CONNECTED}
        live_endpoints = {rows[pk].endpoint_id for pk in connected}
        made_here = {r.endpoint_id for r in rows.values() if r.endpoint_id}
        repeated = (
            Event.objects.filter(access_request__in=plans)
            .exclude(to_state="")
            .values("access_request", "to_state")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .count()
        )
        restarts = list(
            Event.objects.filter(access_request__in=plans, verb="restarted").values_list(
                "created_at", flat=True
            )
        )
        resume_delays = [self.resume_delay(at.timestamp()) for at in restarts]
        failed = any(r.state == RequestState.FAILED or r.last_error_code for r in rows.values())
        exits = [w for w in self.processes if w.process.poll() is not None]
        unrecoverable = sum(
            "Unrecoverable error" in log.read_text() for log in VAR.glob("worker-*.log")
        )
        server_errors = [(what, status) for what, status in self.answers if status >= 500]
        refused = [(what, status) for what, status in self.answers if 400 <= status < 500]
        asked = sum(row.state == wanted[plans[pk]] for pk, row in rows.items())

        from django.db import connection

        print(f"soak: {len(plans)} requests ({broker()} broker, {connection.vendor}), "
              f"{fired} cloud faults, 1 worker killed"
              f"{', Redis stopped for 5 s' if self.redis else ''}")  # fmt: skip
        print(f"  {len(self.answers)} API answers, {len(refused)} 4xx, {len(server_errors)} 5xx; "
              f"{len(restarts)} chains resumed, the slowest "
              f"{max(resume_delays, default=0):.0f} s after its worker or broker came back; "
              f"settled {settle:.1f} s after the faults stopped "
              f"({faults_stopped - started:.0f} s of faults)")  # fmt: skip
        checks = [
            ("every request ended as asked", asked == len(plans) == self.count),
            ("none failed or kept an error", not failed),
            ("each state entered once at most", repeated == 0),
            ("one endpoint per connected request",
             all(e in endpoints for e in live_endpoints) and len(live_endpoints) == len(connected)),
            ("no orphan endpoint", not (set(endpoints) & (made_here - live_endpoints))),
            ("every request and decision accepted", not refused),
            ("no 5xx from the portal", not server_errors),
            ("no worker exit but the one killed", not exits and not unrecoverable),
            (f"every lost chain resumed within {RESUME_LIMIT_SECONDS} s",
             all(d <= RESUME_LIMIT_SECONDS for d in resume_delays)),
            (f"settled within {SETTLE_LIMIT_SECONDS} s", settle <= SETTLE_LIMIT_SECONDS),
        ]  # fmt: skip
        for label, passed in checks:
            print(f"  {'ok  ' if passed else 'FAIL'} {label}")
        if server_errors or refused:
            print("  refused or failed:", (server_errors + refused)[:10])
        return all(passed for _, passed in checks)

    def decide(self, clients, plans: dict, decided: set) -> None:
        """Approve, reject or revoke each request that is ready for it, once; `decided` holds
        the requests whose last decision is made."""
        from connections.choices import RequestState
        from connections.models import AccessRequest

        pending = [pk for pk in plans if pk not in decided]
        for pk, state in AccessRequest.objects.filter(pk__in=pending).values_list("pk", "state"):
            plan, url = plans[pk], f"/api/v1/access-requests/{pk}/"
            if state == RequestState.PENDING_APPROVAL and plan == "reject":
                if self.call(clients["provider"], "post", f"{url}reject/", {"reason": "soak"}):
                    decided.add(pk)
            elif state == RequestState.PENDING_APPROVAL and pk not in self.approved:
                if self.call(clients["provider"], "post", f"{url}approve/"):
                    self.approved.add(pk)
                    if plan == "approve":
                        decided.add(pk)
            elif (
                state == RequestState.CONNECTED
                and plan == "revoke"
                and self.call(clients["consumer"], "delete", url)
            ):
                decided.add(pk)

    def resume_delay(self, at: float) -> float:
        """Seconds from the last recovery before `at` (or the start of faults) to `at`."""
        before = [when for _, when in self.recoveries if when <= at]
        return at - max(before) if before else float("inf")


if __name__ == "__main__":
    main()
