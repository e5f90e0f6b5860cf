"""How close to the cloud's own time the portal gets: publish, request, approve, and many at once.

cloudsim runs with its fixed operation times (CreateLoadBalancer 2 s, CreateVpcEndpoint 2 s,
EnableVpcEndpointConnection 1.5 s, …) and a generated scenario: the demo plus enough consumer
VPCs for Apps. Real Celery workers on the portal's broker do the work; requests go through the
REST API (in this process, as a client would send them). Each figure is the portal's time over
the cloud's own wait for the same operations, measured side by side in one run:

- seed publish (steps 1–4): POST → `available`, over the sum of the five operations' times;
- 1 request: POST → `pending_approval`, over CreateVpcEndpoint's time; approve → `connected`,
  over EnableVpcEndpointConnection's;
- 12 and 50 requests at once (one worker process of concurrency 2), the slowest, over
  CreateVpcEndpoint's time; and 500 at once with two worker processes (not with --short);
  with the cloud calls per second while they wait, and for each burst the reads its requests
  asked for against the Get and List calls that answered them.

    .venv/bin/python bench/end_to_end.py            # with 500 at once
    .venv/bin/python bench/end_to_end.py --short    # without (CI)

Embedded defaults (SQLite, file-system broker) unless DATABASE_URL and REDIS_URL name others:
an empty PostgreSQL database, and a Redis database of the benchmark's own, which it empties
first (the typical times learnt by a run before would make the first-time rows known ones).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import environment

VAR = environment.prepare("e2e", **environment.PORTAL, API_RATE_USER="")

from processes import (  # noqa: E402
    CloudSim,
    Worker,
    broker,
    request_body,
    scenario_with,
    seeded_world,
)

from cloudsim import scenario as cloudsim_scenario  # noqa: E402

PUBLISH_OPERATIONS = (
    "CreateLoadBalancer",
    "CreateServerGroup",
    "AddServersToServerGroup",
    "CreateListener",
    "CreateVpcEndpointService",
)
POLL_SECONDS = 0.01


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="without the 500 at once")
    args = parser.parse_args()
    burst = 50 if args.short else 500
    path = scenario_with(VAR, burst)
    delays = cloudsim_scenario.load(path)
    cloudsim = CloudSim(VAR / "cloudsim.log", scenario=path)
    os.environ["CLOUD_ENDPOINT"] = cloudsim.url
    workers = []
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from django.core.cache import cache

        cache.clear()  # a folder of its own, or the Redis database given to the benchmark
        workers.append(Worker(VAR / "worker-1.log", "bench-1"))
        run(cloudsim, workers, path, delays, burst)
    finally:
        for worker in workers:
            worker.stop()
        cloudsim.stop()


def run(cloudsim: CloudSim, workers: list, path: Path, delays, burst: int) -> None:
    from django.db import connection
    from django.db.models import Sum

    from connections.choices import RequestState, ServiceState
    from connections.demo import SEED_ZONES
    from connections.models import AccessRequest, PublishedService, Vpc, VSwitch

    _people, clients = seeded_world(path)

    def wait_for(model, pks, state, timeout=600) -> dict[int, float]:
        """When (time.monotonic()) each row reached `state`, polled every POLL_SECONDS."""
        started, reached = time.monotonic(), {}
        while len(reached) < len(pks):
            rows = model.objects.filter(pk__in=set(pks) - set(reached))
            for pk, now in rows.values_list("pk", "state"):
                if now == state:
                    reached[pk] = time.monotonic()
                elif now == "failed":
                    raise SystemExit(f"{model.__name__} {pk} failed: see the worker log")
            if time.monotonic() - started > timeout:
                raise SystemExit(f"{len(pks) - len(reached)} rows not {state} after {timeout} s")
            time.sleep(POLL_SECONDS)
        return reached

    figures = []
    vpc1, vpc2 = Vpc.objects.get(name="VPC1"), Vpc.objects.get(name="VPC2")
    endpoint = delays.delay("CreateVpcEndpoint")
    connect = delays.delay("EnableVpcEndpointConnection")

    def publish(name: str) -> tuple[int, float]:
        """Seed steps 1–4 through the API: (the service, seconds from POST to available)."""
        body = {
            "name": name,
            "vpc_id": vpc2.vpc_id,
            "zones": [
                {"zone_id": v.zone_id, "vswitch_id": v.vswitch_id}
                for v in VSwitch.objects.filter(vpc=vpc2, zone_id__in=SEED_ZONES)
            ],
            "backends": [
                {"instance_id": i, "port": 80, "weight": 100}
                for i in vpc2.instances.filter(name__in=["ECS03", "ECS04"]).values_list(
                    "instance_id", flat=True
                )
            ],
            "listener": {"protocol": "TCP", "port": 80},
        }
        started = time.monotonic()
        answer = clients["provider"].post("/api/v1/services/", body, format="json")
        assert answer.status_code == 201, answer.content
        pk = answer.json()["id"]
        return pk, wait_for(PublishedService, [pk], ServiceState.AVAILABLE)[pk] - started

    def request_and_approve(service_id: int) -> tuple[float, float]:
        started = time.monotonic()
        answer = clients["consumer"].post(
            "/api/v1/access-requests/", request_body(vpc1, service_id, "bench"), format="json"
        )
        assert answer.status_code == 201, answer.content
        pk = answer.json()["id"]
        requested = wait_for(AccessRequest, [pk], RequestState.PENDING_APPROVAL)[pk] - started
        started = time.monotonic()
        answer = clients["provider"].post(f"/api/v1/access-requests/{pk}/approve/")
        assert answer.status_code == 202, answer.content
        return requested, wait_for(AccessRequest, [pk], RequestState.CONNECTED)[pk] - started

    # Twice: the first time the portal has never seen these operations (it reads from the
    # start); the second, it knows their typical times, as it does from then on.
    cloud_publish = sum(delays.delay(op) for op in PUBLISH_OPERATIONS)
    for name, when in (("nginx-hangzhou", "first time"), ("nginx-hangzhou-2", "known")):
        service_id, spent = publish(name)
        figures.append((f"seed publish → available ({when})", spent, cloud_publish))
        requested, connected = request_and_approve(service_id)
        figures.append((f"1 request → pending approval ({when})", requested, endpoint))
        figures.append((f"approve → connected ({when})", connected, connect))

    reads = []

    def at_once(count: int, label: str) -> None:
        vpcs = list(Vpc.objects.filter(name__startswith="B").order_by("pk")[:count])
        bodies = [request_body(vpc, service_id, "bench") for vpc in vpcs]
        before, posted = cloudsim.control("GET", "stats")["calls"], {}
        started = time.monotonic()
        for body in bodies:  # each timed from its own POST: what its requester sees
            sent = time.monotonic()
            answer = clients["consumer"].post("/api/v1/access-requests/", body, format="json")
            assert answer.status_code == 201, answer.content
            posted[answer.json()["id"]] = sent
        pks = list(posted)
        reached = wait_for(AccessRequest, pks, RequestState.PENDING_APPROVAL)
        slowest = max(reached[pk] - posted[pk] for pk in pks)
        after = cloudsim.control("GET", "stats")["calls"]
        made = {action: n - before.get(action, 0) for action, n in after.items()}
        rate = sum(made.values()) / (time.monotonic() - started)
        figures.append((f"{label}, the slowest", slowest, endpoint, rate))
        # Each wait of a request re-schedules its chain once (task_hop): the reads it asked for.
        hops = AccessRequest.objects.filter(pk__in=pks).aggregate(hops=Sum("task_hop"))["hops"]
        reads.append((count, hops, made.get("GetVpcEndpointAttribute", 0),
                      made.get("ListVpcEndpoints", 0)))  # fmt: skip
        # Out of the way for the next burst: their VPCs are free again once they are revoked.
        AccessRequest.objects.filter(pk__in=pks).update(state=RequestState.REVOKED)

    at_once(12, "12 at once, 1 worker")
    # Many waiting in one account: their reads share list calls (connections/workflows/board.py).
    at_once(50, "50 at once, 1 worker")
    if burst > 50:
        workers.append(Worker(VAR / "worker-2.log", "bench-2"))
        at_once(burst, f"{burst} at once, 2 workers")

    print(f"end to end against cloudsim's fixed times ({connection.vendor}, {broker()} broker)")
    print(f"{'':46}{'portal s':>10}{'cloud s':>9}{'ratio':>8}{'calls/s':>9}")
    for label, spent, cloud, *rate in figures:
        calls = f"{rate[0]:9.1f}" if rate else f"{'':9}"
        print(f"{label:46}{spent:10.2f}{cloud:9.2f}{spent / cloud:8.2f}{calls}")
    print()
    print("while a burst waits on its endpoints: reads asked by the requests, and the calls made")
    for count, hops, gets, lists in reads:
        print(f"{count} at once: {hops} reads, {gets} GetVpcEndpointAttribute, ", end="")
        print(f"{lists} ListVpcEndpoints")


if __name__ == "__main__":
    main()
