"""A small world for the verbs' tests (test_actions.py, test_preflight.py): a consumer team with
its VPC, a service's owners, and a tripwire that fails any cloud call (the fixtures `setup` and
`provider_vpc` of tests/connections/conftest.py)."""

import pytest
from django.core.exceptions import ValidationError

from connections import actions
from connections.choices import Role
from connections.cloud.base import ProductApi
from connections.preflight import BackendChoice, ZoneChoice
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


def forbid_cloud_calls(monkeypatch) -> None:
    """A tripwire: the verbs must decide everything before any cloud call."""

    def refuse(*args, **kwargs):
        raise AssertionError("a cloud call was made")

    monkeypatch.setattr(ProductApi, "call", refuse)


class Setup:
    """A consumer team with a VPC (zones G, K and H) and an available service in G and K."""

    def __init__(self):
        self.consumer_team = TeamFactory(name="Apps")
        self.consumer = MembershipFactory(
            team=self.consumer_team, user=UserFactory(username="consumer")
        ).user
        self.account = CloudAccountFactory()
        self.vpc = VpcFactory(
            account=self.account, team=self.consumer_team, vpc_id="vpc-consumer", name="VPC1"
        )
        self.vswitches = {
            zone: VSwitchFactory(
                vpc=self.vpc, zone_id=f"cn-hangzhou-{zone}", vswitch_id=f"vsw-{zone}"
            )
            for zone in "gkh"
        }
        self.security_group = SecurityGroupFactory(vpc=self.vpc, security_group_id="sg-vpc1")
        self.owner_team = TeamFactory(name="Platform")
        self.owner = MembershipFactory(
            team=self.owner_team, user=UserFactory(username="provider"), role=Role.OWNER
        ).user
        self.service = PublishedServiceFactory(owner_team=self.owner_team, name="nginx-hangzhou")

    def zones(self, *letters: str) -> list[ZoneChoice]:
        return [ZoneChoice(f"cn-hangzhou-{z}", self.vswitches[z]) for z in letters]

    def request(self, **overrides):
        arguments = {
            "service": self.service,
            "team": self.consumer_team,
            "vpc": self.vpc,
            "security_groups": [self.security_group],
            "zones": self.zones("g", "k"),
            "justification": "The checkout service calls nginx.",
        }
        arguments.update(overrides)
        user = arguments.pop("user", self.consumer)
        return actions.request_access(user, **arguments)


def refusal(call) -> dict[str, list[tuple[str, str]]]:
    """The codes and messages of a ValidationError, by field."""
    with pytest.raises(ValidationError) as caught:
        call()
    error = caught.value
    return {
        field: [(e.code, e.messages[0]) for e in errors]
        for field, errors in error.error_dict.items()
    }


def codes(found: dict) -> set[str]:
    return {code for errors in found.values() for code, _ in errors}


def publish(setup, vpc, **overrides):
    arguments = {
        "team": setup.owner_team,
        "name": "orders-api",
        "vpc": vpc,
        "zones": [
            ZoneChoice(z, VSwitchFactory(vpc=vpc, zone_id=z))
            for z in ("cn-hangzhou-g", "cn-hangzhou-k")
        ],
        "backends": [BackendChoice(InstanceFactory(vpc=vpc), 80, 100)],
        "listener_port": 80,
    }
    arguments.update(overrides)
    user = arguments.pop("user", setup.owner)
    return actions.publish_service(user, **arguments)
