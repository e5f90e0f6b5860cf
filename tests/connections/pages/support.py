"""What the page tests share: the roles, a signed-in client, a poll as htmx sends it, a valid
request form, rows enough to page through."""

from __future__ import annotations

from django.test import Client

from connections.choices import RequestState
from connections.models import AccessRequest
from tests.factories import AccessRequestFactory, PublishedServiceFactory

ROLES = ["anonymous", "consumer", "platform_member", "provider", "other_owner", "admin"]


def signed_in_as(world, role: str) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(world.users[role])
    return client


def pending(world) -> AccessRequest:
    return world.make_request(state=RequestState.PENDING_APPROVAL)


def form_data(world, **overrides) -> dict:
    vpc = world.vpcs["VPC1"]
    data = {
        "team": world.teams["apps"].pk,
        "vpc": vpc.pk,
        "zone_cn-hangzhou-g": vpc.vswitches.get(zone_id="cn-hangzhou-g").pk,
        "zone_cn-hangzhou-k": vpc.vswitches.get(zone_id="cn-hangzhou-k").pk,
        "security_groups": [vpc.security_groups.get().pk],
        "justification": "The storefront calls nginx.",
        "action": "submit",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def poll(client: Client, url: str, version: str = ""):
    return client.get(url, HTTP_HX_REQUEST="true", HTTP_X_PORTAL_VERSION=version)


def add_rows(world, count: int) -> None:
    for _ in range(count):
        service = PublishedServiceFactory(owner_team=world.teams["platform"])
        AccessRequestFactory(
            service=service,
            consumer_team=world.teams["apps"],
            vpc=world.vpcs["VPC1"],
            state=RequestState.PENDING_APPROVAL,
        )
