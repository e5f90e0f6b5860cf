"""The REST API's test world, built with the factories: the demo's roles without a cloud.

Platform owns `nginx-hangzhou` in VPC2 (zones G and K); Apps owns VPC1 (G, K and H, the zone
the service does not offer) in the same account; Partners owns VPC3 in another account. Requests
are made through the services, as the API makes them; nothing here reaches a cloud or a broker,
because these tests run in a transaction that never commits (so no workflow is ever enqueued).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.conf import settings
from rest_framework.test import APIClient

from connections import actions
from connections.api import tokens
from connections.choices import Role
from connections.models import AccessRequest, PublishedService, Team, Vpc
from connections.preflight import ZoneChoice
from tests.factories import (
    CloudAccountFactory,
    InstanceFactory,
    MembershipFactory,
    PublishedServiceFactory,
    SecurityGroupFactory,
    TeamFactory,
    UserFactory,
    VpcFactory,
    VSwitchFactory,
)

ZONES = {"g": "cn-hangzhou-g", "k": "cn-hangzhou-k", "h": "cn-hangzhou-h"}
GENEROUS_RATES = {
    "user": "100000/min",
    "anon": "100000/min",
    "token": "100000/min",
    "signin_failure": "100000/min",
}


def api_test_settings(settings_fixture) -> None:
    """Plain HTTP (the test client's), rates no test reaches by accident (the throttle tests set
    their own), and cache keys of this test's own: the counts of throttles and waits are keyed
    by user ids and usernames, which the next test has again."""
    settings_fixture.SECURE_SSL_REDIRECT = False
    settings_fixture.CACHES = {
        name: {**options, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
        for name, options in settings.CACHES.items()
    }
    settings_fixture.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": GENEROUS_RATES,
    }


@dataclass
class ApiWorld:
    users: dict
    teams: dict[str, Team]
    vpcs: dict[str, Vpc]
    service: PublishedService
    keys: dict[str, str] = field(default_factory=dict)

    def client(self, who: str | None) -> APIClient:
        """A client with `who`'s token (a fresh one per user), or anonymous for None."""
        client = APIClient()
        if who is not None:
            if who not in self.keys:
                self.keys[who] = tokens.issue_token(self.users[who])[1]
            client.credentials(HTTP_AUTHORIZATION=f"Token {self.keys[who]}")
        return client

    def vswitch_id(self, vpc: str, zone: str) -> str:
        return self.vpcs[vpc].vswitches.get(zone_id=ZONES[zone]).vswitch_id

    def request_body(self, *, vpc: str = "VPC1", zones: str = "gk", **overrides) -> dict:
        body = {
            "service": self.service.pk,
            "vpc_id": self.vpcs[vpc].vpc_id,
            "security_group_ids": [
                group.security_group_id for group in self.vpcs[vpc].security_groups.all()
            ],
            "zones": [{"zone_id": ZONES[z], "vswitch_id": self.vswitch_id(vpc, z)} for z in zones],
            "justification": "The storefront calls nginx.",
        }
        body.update(overrides)
        return body

    def make_request(self, who: str = "consumer", vpc: str = "VPC1", **fields) -> AccessRequest:
        """A request made through the service, then moved to the state a test needs."""
        team = {"consumer": "apps", "partner": "partners"}.get(who, "apps")
        access_request = actions.request_access(
            self.users[who],
            service=self.service,
            team=self.teams[team],
            vpc=self.vpcs[vpc],
            security_groups=list(self.vpcs[vpc].security_groups.all()),
            zones=[
                ZoneChoice(ZONES[z], self.vpcs[vpc].vswitches.get(zone_id=ZONES[z])) for z in "gk"
            ],
            justification="The storefront calls nginx.",
        )
        if fields:
            # Where a worker would have taken it: tests set the state a workflow would reach.
            AccessRequest.objects.filter(pk=access_request.pk).update(**fields)
            access_request.refresh_from_db()
        return access_request


def build_api_world() -> ApiWorld:
    teams = {
        "platform": TeamFactory(name="Platform", slug="platform"),
        "apps": TeamFactory(name="Apps", slug="apps"),
        "partners": TeamFactory(name="Partners", slug="partners"),
    }
    users = {
        "provider": UserFactory(username="provider"),
        "platform_member": UserFactory(username="platform_member"),
        "consumer": UserFactory(username="consumer"),
        "partner": UserFactory(username="partner"),
        "other_owner": UserFactory(username="other_owner"),  # owns Partners' services
        "admin": UserFactory(username="admin", is_staff=True, is_superuser=True),
        "loner": UserFactory(username="loner"),  # signed in, in no team
    }
    MembershipFactory(team=teams["platform"], user=users["provider"], role=Role.OWNER)
    MembershipFactory(team=teams["platform"], user=users["platform_member"], role=Role.MEMBER)
    MembershipFactory(team=teams["apps"], user=users["consumer"], role=Role.MEMBER)
    MembershipFactory(team=teams["partners"], user=users["partner"], role=Role.MEMBER)
    MembershipFactory(team=teams["partners"], user=users["other_owner"], role=Role.OWNER)

    # As in the demo: Platform and Apps share account A, but each owns its own VPC.
    account_a = CloudAccountFactory(name="Account A", uid="1111111111111111")
    account_b = CloudAccountFactory(name="Account B", uid="2222222222222222")
    vpcs = {
        "VPC1": VpcFactory(
            account=account_a, team=teams["apps"], vpc_id="vpc-vpc1", name="VPC1", cidr="10.0.0.0/8"
        ),
        "VPC2": VpcFactory(
            account=account_a,
            team=teams["platform"],
            vpc_id="vpc-vpc2",
            name="VPC2",
            cidr="192.168.0.0/16",
        ),
        "VPC3": VpcFactory(
            account=account_b,
            team=teams["partners"],
            vpc_id="vpc-vpc3",
            name="VPC3",
            cidr="172.16.0.0/16",
        ),
    }
    # VPC2's vSwitches are the service's, made by its factory.
    for vpc_name, zones in {"VPC1": "gkh", "VPC2": "", "VPC3": "gk"}.items():
        for zone in zones:
            VSwitchFactory(
                vpc=vpcs[vpc_name],
                zone_id=ZONES[zone],
                vswitch_id=f"vsw-{vpc_name.lower()}-{zone}",
            )
        SecurityGroupFactory(
            vpc=vpcs[vpc_name], security_group_id=f"sg-{vpc_name.lower()}", name="default"
        )
    InstanceFactory(vpc=vpcs["VPC2"], instance_id="i-ecs03", name="ECS03", zone_id=ZONES["g"])
    InstanceFactory(vpc=vpcs["VPC2"], instance_id="i-ecs04", name="ECS04", zone_id=ZONES["k"])
    service = PublishedServiceFactory(
        owner_team=teams["platform"],
        name="nginx-hangzhou",
        description="The seed's nginx.",
        vpc=vpcs["VPC2"],
    )
    return ApiWorld(users=users, teams=teams, vpcs=vpcs, service=service)


def assert_problem(response, status: int, code: str) -> dict:
    """The response is a problem document of this status and code; returns its body."""
    assert response.status_code == status, (response.status_code, response.content[:2000])
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code, body
    assert body["type"].endswith(f"/api/v1/problems/{code}/")
    assert body["title"] and body["detail"]
    assert body["instance"] == response.wsgi_request.get_full_path()
    return body


def field_codes(body: dict) -> set[tuple[str | None, str]]:
    return {(error["field"], error["code"]) for error in body["errors"]}
