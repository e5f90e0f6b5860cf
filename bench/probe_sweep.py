"""One health sweep at scale: 10,000 connected requests over 50 services and 5 accounts.

cloudsim runs in its own process (no delays) with a generated scenario: 5 accounts, each with a
provider VPC (two instances serving HTTP on loopback) and 40 consumer VPCs. Through the portal's
cloud adapter (the real SDKs) each account publishes 10 auto-accepting services (NLB, server
group, listener, endpoint service, the other accounts whitelisted), and every consumer VPC opens
an endpoint to every service, tagged as the portal tags its own; the database gets the matching
rows, every request `connected`. Then, side by side in this one run:

- the cloud reads a sweep needs, alone: each account's endpoints, connections, endpoint
  services, load balancers, listeners and server groups' servers, each service's backends'
  health, whitelist and attached resources (the floor: what any sweep must read);
- a first sweep (every request's health is new: 10,000 events and history points written);
- a steady sweep (nothing changed: nothing to write but the check times).

For each it prints the wall time, the cloud calls (cloudsim's own count), the database queries,
and the sweep's time over the bare reads'. Targets: a sweep under 60 s, a few hundred calls.

    .venv/bin/python bench/probe_sweep.py            # 10,000 requests, 50 services, 5 accounts
    .venv/bin/python bench/probe_sweep.py --short    # 1,000 requests, 10 services, for CI

The database is the embedded SQLite under a temporary folder unless DATABASE_URL names another
(PostgreSQL: give an empty database; its tables are made and left behind).
"""

from __future__ import annotations

import argparse
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import environment

environment.prepare("sweep", DJANGO_SETTINGS_MODULE="tests.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from processes import CloudSim  # noqa: E402

from connections.choices import RequestState, Role, ServiceState  # noqa: E402
from connections.cloud import CloudSession  # noqa: E402
from connections.inventory import sync_account  # noqa: E402
from connections.models import (  # noqa: E402
    AccessRequest,
    CloudAccount,
    Instance,
    Membership,
    PublishedService,
    ServiceBackend,
    Team,
    Vpc,
)
from connections.monitoring.sweep import sweep  # noqa: E402
from connections.workflows.steps import portal_tags  # noqa: E402

ZONES = ("cn-hangzhou-g", "cn-hangzhou-k")
ACCOUNTS = 5
SETUP_THREADS = 8


def scenario_yaml(consumer_vpcs: int) -> str:
    """5 accounts: a provider VPC with two web servers, and `consumer_vpcs` consumer VPCs."""
    lines = ["region: cn-hangzhou", "zones:"]
    lines += [f"  - {{id: {zone}, name: {zone}}}" for zone in ZONES]
    lines.append("accounts:")
    for a in range(ACCOUNTS):
        lines += [
            f"  - name: B{a}",
            f'    uid: "{3000000000000000 + a}"',
            f"    access_keys: [{{id: bench-key-{a}, secret: bench-secret-{a}}}]",
            "    vpcs:",
            f"      - name: P{a}",
            f"        cidr: 192.168.{a}.0/24",
            f"        tags: {{team: team-{a}}}",
            "        vswitches:",
            f"          - {{name: vsw-p{a}-g, cidr: 192.168.{a}.0/25, zone: {ZONES[0]}}}",
            f"          - {{name: vsw-p{a}-k, cidr: 192.168.{a}.128/25, zone: {ZONES[1]}}}",
            f"        security_groups: [{{name: sg-p{a}}}]",
            "        instances:",
            f"          - {{name: web-{a}-g, vswitch: vsw-p{a}-g, ip: 192.168.{a}.10,"
            f' web: {{port: 80, body: "web {a} g"}}}}',
            f"          - {{name: web-{a}-k, vswitch: vsw-p{a}-k, ip: 192.168.{a}.140,"
            f' web: {{port: 80, body: "web {a} k"}}}}',
        ]
        for v in range(consumer_vpcs):
            lines += [
                f"      - name: C{a}-{v}",
                f"        cidr: 10.{a}.{v}.0/24",
                f"        tags: {{team: team-{a}}}",
                "        vswitches:",
                f"          - {{name: vsw-c{a}-{v}-g, cidr: 10.{a}.{v}.0/25, zone: {ZONES[0]}}}",
                f"          - {{name: vsw-c{a}-{v}-k, cidr: 10.{a}.{v}.128/25, zone: {ZONES[1]}}}",
                f"        security_groups: [{{name: sg-c{a}-{v}}}]",
            ]
    return "\n".join(lines) + "\n"


# --- filling the cloud and the database --------------------------------------------------------


def accounts_and_inventory(consumer_vpcs: int) -> list[CloudAccount]:
    accounts = []
    for a in range(ACCOUNTS):
        team = Team.objects.create(name=f"Team {a}", slug=f"team-{a}")
        account = CloudAccount.objects.create(name=f"Bench {a}", uid=str(3000000000000000 + a))
        account.access_key_id, account.access_key_secret = f"bench-key-{a}", f"bench-secret-{a}"
        account.save()
        sync_account(account, team_tag="team")
        accounts.append(account)
        Membership.objects.get_or_create(
            team=team, user=bench_user(), defaults={"role": Role.OWNER}
        )
    assert Vpc.objects.count() == ACCOUNTS * (1 + consumer_vpcs), "inventory incomplete"
    return accounts


def bench_user():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get_or_create(username="bench")[0]


def new_service(account: CloudAccount, number: int) -> PublishedService:
    provider = Vpc.objects.get(account=account, name__startswith="P")
    service = PublishedService.objects.create(
        owner_team=provider.team,
        name=f"bench-{account.uid[-1]}-{number:02d}",
        account=account,
        vpc=provider,
        listener_port=80,
        auto_accept=True,
        state=ServiceState.AVAILABLE,
    )
    instances = Instance.objects.filter(vpc=provider).order_by("name")
    ServiceBackend.objects.bulk_create(
        ServiceBackend(service=service, instance=instance, port=80) for instance in instances
    )
    return PublishedService.objects.select_related("account", "vpc").get(pk=service.pk)


def publish(service: PublishedService, all_uids: list[str]) -> PublishedService:
    """What the publish workflow makes, made through the adapter (no database: a thread's)."""
    vswitches = {v.zone_id: v.vswitch_id for v in service.vpc.vswitches.all()}
    instances = [backend.instance for backend in service.backends.all()]
    tags = portal_tags("privatelink-portal:service", service)
    session = CloudSession(service.account)
    nlb = session.nlb.create_load_balancer(
        name=service.name, vpc_id=service.vpc.vpc_id, zones=[(z, vswitches[z]) for z in ZONES],
        tags=tags, client_token=uuid.uuid4().hex,
    )["LoadbalancerId"]  # fmt: skip
    group = session.nlb.create_server_group(
        name=service.name, vpc_id=service.vpc.vpc_id, protocol="TCP", tags=tags,
        client_token=uuid.uuid4().hex,
    )["ServerGroupId"]  # fmt: skip
    session.nlb.add_servers(
        group, [(i.instance_id, 80, 100) for i in instances], client_token=uuid.uuid4().hex
    )
    listener = session.nlb.create_listener(
        nlb_id=nlb, server_group_id=group, protocol="TCP", port=80, tags=tags,
        client_token=uuid.uuid4().hex,
    )["ListenerId"]  # fmt: skip
    endpoint_service = session.privatelink.create_endpoint_service(
        nlb_id=nlb, zones=list(ZONES), auto_accept=True, description="bench", tags=tags,
        client_token=uuid.uuid4().hex,
    )  # fmt: skip
    for uid in all_uids:
        if uid != service.account.uid:
            session.privatelink.add_user(
                endpoint_service["ServiceId"], uid, client_token=uuid.uuid4().hex
            )
    service.nlb_id, service.server_group_id, service.listener_id = nlb, group, listener
    service.endpoint_service_id = endpoint_service["ServiceId"]
    service.endpoint_service_name = endpoint_service["ServiceName"]
    return service


def open_endpoint(access_request: AccessRequest) -> tuple[int, str, str]:
    vpc = access_request.vpc
    vswitches = {v.zone_id: v.vswitch_id for v in vpc.vswitches.all()}
    result = CloudSession(vpc.account).privatelink.create_endpoint(
        name=f"bench-{access_request.pk}",
        vpc_id=vpc.vpc_id,
        service_id=access_request.service.endpoint_service_id,
        security_group_ids=[g.security_group_id for g in vpc.security_groups.all()],
        zones=[(zone, vswitches[zone]) for zone in ZONES],
        tags=portal_tags("privatelink-portal:request", access_request),
        client_token=uuid.uuid4().hex,
    )
    return access_request.pk, result["EndpointId"], result["EndpointDomain"]


def fill(services_per_account: int, consumer_vpcs: int) -> int:
    accounts = accounts_and_inventory(consumer_vpcs)
    uids = [account.uid for account in accounts]
    services = [new_service(a, n) for a in accounts for n in range(services_per_account)]
    services = list(
        PublishedService.objects.select_related("account", "vpc").prefetch_related(
            "vpc__vswitches", "backends__instance"
        )
    )
    # The cloud work in threads, the database's in this one (SQLite takes one writer).
    with ThreadPoolExecutor(SETUP_THREADS) as pool:
        services = list(pool.map(lambda service: publish(service, uids), services))
    PublishedService.objects.bulk_update(
        services,
        ["nlb_id", "server_group_id", "listener_id", "endpoint_service_id",
         "endpoint_service_name"],
    )  # fmt: skip
    consumers = list(Vpc.objects.filter(name__startswith="C").select_related("team"))
    now = timezone.now()
    rows = AccessRequest.objects.bulk_create(
        [
            AccessRequest(
                service=service,
                consumer_team=vpc.team,
                requester=bench_user(),
                vpc=vpc,
                justification="bench",
                state=RequestState.CONNECTED,
                connected_at=now,
            )
            for service in services
            for vpc in consumers
        ],
        batch_size=2000,
    )
    rows = list(
        AccessRequest.objects.select_related("service", "vpc__account").prefetch_related(
            "vpc__vswitches", "vpc__security_groups"
        )
    )
    with ThreadPoolExecutor(SETUP_THREADS) as pool:
        made = list(pool.map(open_endpoint, rows))
    by_pk = {row.pk: row for row in rows}
    for pk, endpoint_id, domain in made:
        by_pk[pk].endpoint_id, by_pk[pk].endpoint_domain = endpoint_id, domain
    AccessRequest.objects.bulk_update(rows, ["endpoint_id", "endpoint_domain"], batch_size=2000)
    return len(rows)


# --- measuring ----------------------------------------------------------------------------------


def bare_reads() -> None:
    """What a sweep must read from the cloud, and nothing else: the consumers' side, and the
    providers' side as the console may have changed it."""
    for account in CloudAccount.objects.all():
        session = CloudSession(account)
        session.verify_account()
        session.privatelink.all_endpoints()
        session.privatelink.all_connections()
        session.privatelink.all_endpoint_services()
        session.nlb.all_load_balancers()
        session.nlb.all_listeners()
        session.nlb.all_servers()
    for service in PublishedService.objects.select_related("account"):
        session = CloudSession(service.account)
        session.nlb.unhealthy_servers(service.listener_id)
        session.privatelink.list_users(service.endpoint_service_id)
        session.privatelink.service_resources(service.endpoint_service_id)


def measure(cloudsim: CloudSim, what) -> tuple[float, int, int, object]:
    calls = cloudsim.calls()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = what()
        elapsed = time.perf_counter() - started
    return elapsed, cloudsim.calls() - calls, len(queries), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="1,000 requests over 10 services")
    args = parser.parse_args()
    services_per_account, consumer_vpcs = (2, 100 // ACCOUNTS) if args.short else (10, 40)

    var = Path(settings.VAR_DIR)
    scenario = var / "bench-scenario.yaml"
    scenario.write_text(scenario_yaml(consumer_vpcs))
    cloudsim = CloudSim(var / "bench-cloudsim.log", scenario=scenario, delay_scale=0)
    settings.CLOUD_ENDPOINT = cloudsim.url
    try:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        requests = fill(services_per_account, consumer_vpcs)
        print(
            f"{requests:,} connected requests over {ACCOUNTS * services_per_account} services "
            f"and {ACCOUNTS} accounts ({connection.vendor}); set up in "
            f"{time.perf_counter() - started:.0f} s"
        )
        # Two health-check rounds: every backend Healthy (healthy_threshold) before sweeping.
        cloudsim.control("POST", "health-check", {})
        cloudsim.control("POST", "health-check", {})

        cloudsim.settle()
        reads = measure(cloudsim, bare_reads)
        first = measure(cloudsim, sweep)
        cloudsim.settle()
        steady = measure(cloudsim, sweep)
    finally:
        cloudsim.stop()

    healthy = AccessRequest.objects.filter(health="healthy").count()
    print(f"{'':24} {'wall s':>8} {'cloud calls':>12} {'db queries':>11} {'÷ bare reads':>13}")
    for label, (elapsed, calls, queries, _result) in [
        ("bare cloud reads", reads),
        ("first sweep", first),
        ("steady sweep", steady),
    ]:
        print(f"{label:24} {elapsed:8.2f} {calls:12,} {queries:11,} {elapsed / reads[0]:13.2f}")
    for label, (_elapsed, _calls, _queries, result) in [("first", first), ("steady", steady)]:
        phases = ", ".join(f"{phase} {spent:.2f} s" for phase, spent in result.seconds.items())
        print(f"{label} sweep's phases: {phases}")
    report = first[3]
    print(
        f"first sweep: {report.probes:,} probes, {report.health_changes:,} health changes, "
        f"{healthy:,} of {requests:,} requests healthy, drift {len(report.drift)}, "
        f"findings {report.findings}, unreadable accounts {report.unreadable_accounts or 0}"
    )


if __name__ == "__main__":
    main()
