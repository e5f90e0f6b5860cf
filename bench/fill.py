"""Rows for the benchmarks: services, requests and the people who look at them, made in bulk.

Imported by the benchmark scripts once Django is set up (they run from this folder).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from connections.choices import RequestState, Role, ServiceState
from connections.models import (
    AccessRequest,
    CloudAccount,
    Instance,
    Membership,
    PublishedService,
    RequestZone,
    SecurityGroup,
    ServiceBackend,
    ServiceZone,
    Team,
    Vpc,
    VSwitch,
)

STATES = [
    RequestState.CONNECTED,
    RequestState.PENDING_APPROVAL,
    RequestState.REVOKED,
    RequestState.REJECTED,
    RequestState.PROVISIONING,
]


def populate(services: int, requests: int, start: int = 0, first_request: int = 0) -> None:
    """`services` services over 10 teams, each with its VPC's zones and two backends, every other
    one trusting a team; `requests` requests from 10 teams' VPCs (bulk), each in its VPC's two
    zones with its security group, as a request made through the form is. With no new services,
    the requests go to the existing ones, numbered on from `first_request`."""
    account, _ = CloudAccount.objects.get_or_create(name="A", uid="1111111111111111")
    teams = list(Team.objects.order_by("pk"))
    vpcs = list(Vpc.objects.order_by("pk"))
    vswitches = {vpc.pk: list(vpc.vswitches.order_by("zone_id")) for vpc in vpcs}
    instances = {vpc.pk: list(vpc.instances.order_by("instance_id")) for vpc in vpcs}
    batch = []
    for number in range(start, start + services):
        team = teams[number % len(teams)]
        batch.append(
            PublishedService(
                owner_team=team,
                name=f"service-{number:06d}",
                description=f"Service number {number}, owned by {team.name}.",
                account=account,
                vpc=vpcs[number % len(vpcs)],
                listener_port=80,
                state=ServiceState.AVAILABLE,
                endpoint_service_id=f"epsrv-{number:06d}",
            )
        )
    created = PublishedService.objects.bulk_create(batch, batch_size=2000) or list(
        PublishedService.objects.order_by("pk")
    )
    new = created if services else []
    ServiceZone.objects.bulk_create(
        [
            ServiceZone(service=service, zone_id=vswitch.zone_id, vswitch=vswitch)
            for service in new
            for vswitch in vswitches[service.vpc_id]
        ],
        batch_size=5000,
    )
    ServiceBackend.objects.bulk_create(
        [
            ServiceBackend(service=service, instance=instance, port=80)
            for service in new
            for instance in instances[service.vpc_id]
        ],
        batch_size=5000,
    )
    trust = PublishedService.trusted_teams.through
    trust.objects.bulk_create(
        [
            trust(publishedservice_id=service.pk, team_id=teams[(number + 1) % len(teams)].pk)
            for number, service in enumerate(new, start)
            if number % 2 == 0
        ],
        batch_size=5000,
    )
    # Requests spread over services and teams; one live request per service and VPC at most.
    rows = []
    for number in range(first_request, first_request + requests):
        service = created[number % len(created)]
        vpc = vpcs[(number // len(created)) % len(vpcs)]
        live = (number // len(created)) < len(vpcs)
        rows.append(
            AccessRequest(
                service=service,
                consumer_team=vpc.team,
                vpc=vpc,
                justification="bench",
                state=STATES[number % 2] if live else STATES[2 + number % 2],
            )
        )
    made = AccessRequest.objects.bulk_create(rows, batch_size=5000)
    if not made or made[0].pk is None:  # a database that does not return the new ids
        made = list(AccessRequest.objects.order_by("-pk")[: len(rows)])
    groups = {group.vpc_id: group for group in SecurityGroup.objects.all()}
    RequestZone.objects.bulk_create(
        [
            RequestZone(access_request=made_request, zone_id=vswitch.zone_id, vswitch=vswitch)
            for made_request in made
            for vswitch in vswitches[made_request.vpc_id]
        ],
        batch_size=5000,
    )
    through = AccessRequest.security_groups.through
    through.objects.bulk_create(
        [
            through(
                accessrequest_id=made_request.pk, securitygroup_id=groups[made_request.vpc_id].pk
            )
            for made_request in made
        ],
        batch_size=5000,
    )


def set_up_people() -> object:
    """Ten teams with a VPC each (two zones, two instances); the measuring person owns Platform
    and is in Apps."""
    account, _ = CloudAccount.objects.get_or_create(name="A", uid="1111111111111111")
    names = ["Platform", "Apps"] + [f"Team {n}" for n in range(8)]
    for index, name in enumerate(names):
        team = Team.objects.create(name=name, slug=name.lower().replace(" ", "-"))
        vpc = Vpc.objects.create(account=account, team=team, vpc_id=f"vpc-{index:04d}", name=name)
        SecurityGroup.objects.create(vpc=vpc, security_group_id=f"sg-{index:04d}", name="web")
        for number, zone in enumerate(("cn-hangzhou-g", "cn-hangzhou-k")):
            VSwitch.objects.create(vpc=vpc, vswitch_id=f"vsw-{index:04d}-{zone[-1]}", zone_id=zone)
            Instance.objects.create(
                vpc=vpc, instance_id=f"i-{index:04d}-{zone[-1]}", name=f"{name} web {number}",
                zone_id=zone, private_ip=f"10.{index}.{number}.10", status="Running",
            )  # fmt: skip
    person = get_user_model().objects.create_user("bench", password="bench", is_staff=True)
    person.is_superuser = True  # the admin's lists need a superuser; the pages treat one alike
    person.save()
    Membership.objects.create(team=Team.objects.get(slug="platform"), user=person, role=Role.OWNER)
    Membership.objects.create(team=Team.objects.get(slug="apps"), user=person, role=Role.MEMBER)
    return person


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]
