"""Teams own their networks: every VPC, vSwitch, security group and instance of the demo, for every
role, through the REST API. Platform and Apps share cloud account A; sharing it shares nothing.

The demo is the real one: `load_demo`'s teams and accounts, the inventory synced from cloudsim
with its team tags (VPC1 Apps, VPC2 Platform, VPC3 Partners in account B). Who owns what is
written out here by hand, apart from the code under test, so a policy that drifts fails a cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import transaction

from connections import demo
from connections.choices import Role, ServiceState
from connections.models import Membership, PublishedService, Team, Vpc
from tests.connections.api.support import api_test_settings
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

OWNERS = {"VPC1": "apps", "VPC2": "platform", "VPC3": "partners"}
# The roles tenancy tells apart: anonymous; a member of team A; a member of team B in the same
# account; the service's owner; another service's owner; a platform admin.
ROLES = ["anonymous", "apps_member", "platform_member", "owner", "other_owner", "admin"]
TEAMS_OF = {
    "anonymous": set(),
    "apps_member": {"apps"},
    "platform_member": {"platform"},
    "owner": {"platform"},
    "other_owner": {"partners"},
    "admin": {"apps", "platform", "partners"},
}
MANAGES = {"owner": {"platform"}, "other_owner": {"partners"}, "admin": TEAMS_OF["admin"]}
# Answers that say "not yours": the ids are looked up among the user's teams' VPCs only.
OWNERSHIP_CODES = {
    "unknown_vpc",
    "unknown_vswitch",
    "unknown_security_group",
    "unknown_instance",
    "vpc_not_owned",
}


@dataclass
class Demo:
    users: dict
    tokens: dict

    def client(self, role: str):
        from rest_framework.test import APIClient

        client = APIClient()
        if role != "anonymous":
            client.force_authenticate(self.users[role])
        return client


@pytest.fixture
def demo_world(settings, cloudsim) -> Demo:
    api_test_settings(settings)
    cloudsim.reset()
    people = demo.create_people()
    for account in demo.create_accounts().values():
        demo.sync_inventory(account)
    users = {
        "apps_member": people["consumer"],
        "owner": people["provider"],
        "admin": people["admin"],
        "platform_member": UserFactory(username="platform-member"),
        "other_owner": UserFactory(username="partners-owner"),
    }
    Membership.objects.create(
        team=Team.objects.get(slug="platform"), user=users["platform_member"], role=Role.MEMBER
    )
    Membership.objects.create(
        team=Team.objects.get(slug="partners"), user=users["other_owner"], role=Role.OWNER
    )
    # The seed's service, as the worker would leave it (no worker here: nothing commits).
    service = demo.publish_seed_service(people["provider"])
    PublishedService.objects.filter(pk=service.pk).update(state=ServiceState.AVAILABLE)
    return Demo(users=users, tokens={})


def inventory() -> dict[str, dict[str, list[str]]]:
    """Every VPC of the demo with the ids of what is in it (vSwitches as `zone/id`)."""
    return {
        vpc.name: {
            "vpc_id": [vpc.vpc_id],
            "vswitches": sorted(f"{v.zone_id}/{v.vswitch_id}" for v in vpc.vswitches.all()),
            "security_groups": sorted(g.security_group_id for g in vpc.security_groups.all()),
            "instances": sorted(i.instance_id for i in vpc.instances.all()),
        }
        for vpc in Vpc.objects.prefetch_related("vswitches", "security_groups", "instances")
    }


def cloud_id(item: str) -> str:
    return item.rpartition("/")[2]


def listed(demo_world: Demo, role: str) -> dict[str, set[str]]:
    """Every id the role's GET /api/v1/vpcs/ shows."""
    response = demo_world.client(role).get("/api/v1/vpcs/")
    if role == "anonymous":
        assert response.status_code == 401
        return {}
    assert response.status_code == 200
    shown: dict[str, set[str]] = {}
    for vpc in response.json()["results"]:
        shown.setdefault("vpc_id", set()).add(vpc["vpc_id"])
        shown.setdefault("vswitches", set()).update(
            f"{v['zone_id']}/{v['vswitch_id']}" for v in vpc["vswitches"]
        )
        for kind, key in (("security_groups", "security_group_id"), ("instances", "instance_id")):
            shown.setdefault(kind, set()).update(item[key] for item in vpc[kind])
    return shown


def post_and_roll_back(client, path: str, body: dict):
    """POST, then undo whatever it recorded: each cell of the matrix starts from the same demo."""
    with transaction.atomic():
        response = client.post(path, body, format="json")
        transaction.set_rollback(True)
    return response


def problem_codes(response) -> set[str]:
    if response.status_code < 400 or response.status_code == 401:
        return set()
    body = response.json()
    return {error["code"] for error in body.get("errors", [])} | {body["code"]}


def request_body(vpc: dict[str, list[str]], team: str) -> dict:
    """Access to the seed's service from this VPC, in the zones the service offers (G and K)."""
    zones = [item.split("/") for item in vpc["vswitches"]]
    return {
        "service": PublishedService.objects.get(name=demo.SEED_SERVICE).pk,
        "team": team,
        "vpc_id": vpc["vpc_id"][0],
        "security_group_ids": vpc["security_groups"],
        "zones": [
            {"zone_id": zone, "vswitch_id": vswitch}
            for zone, vswitch in zones
            if zone in ("cn-hangzhou-g", "cn-hangzhou-k")
        ],
        "justification": "The matrix asks.",
    }


def publish_body(vpc: dict[str, list[str]], team: str) -> dict:
    body = request_body(vpc, team)
    return {
        "team": team,
        "name": "matrix-service",
        "vpc_id": body["vpc_id"],
        "zones": body["zones"],
        "backends": [{"instance_id": instance, "port": 80} for instance in vpc["instances"]],
        "listener": {"port": 80},
    }


def acting_team(role: str, vpc_name: str) -> str:
    """The team a role acts for with this VPC: its owner when the role is in it, else its own."""
    owner = OWNERS[vpc_name]
    mine = TEAMS_OF[role]
    return owner if owner in mine else (sorted(mine)[0] if mine else "apps")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_chooses_and_uses_exactly_its_teams_networks(demo_world, role):
    everything = inventory()
    assert set(everything) == set(OWNERS), "the demo's VPCs changed: update OWNERS"
    shown = listed(demo_world, role)
    client = demo_world.client(role)
    wrong = []
    for vpc_name, vpc in everything.items():
        owned = OWNERS[vpc_name] in TEAMS_OF[role]
        # Seen: the VPC and everything in it, or none of it.
        for kind, ids in vpc.items():
            for item in ids:
                seen = item in shown.get(kind, set())
                if seen != owned:
                    wrong.append(f"{vpc_name} {kind} {cloud_id(item)}: listed={seen}")
        team = acting_team(role, vpc_name)
        # Chosen for a request (step 5).
        response = post_and_roll_back(client, "/api/v1/access-requests/", request_body(vpc, team))
        if role == "anonymous":
            expected_ok = False
            refused = response.status_code == 401
        else:
            expected_ok = owned
            refused = {"unknown_vpc", "unknown_vswitch", "unknown_security_group"} <= (
                problem_codes(response)
            ) or (response.status_code == 403)
        if expected_ok and response.status_code != 201:
            wrong.append(f"{vpc_name} request: {response.status_code} {problem_codes(response)}")
        if not expected_ok and not refused:
            wrong.append(f"{vpc_name} request not refused: {response.status_code}")
        # Used to publish (steps 1–4): its vSwitches and instances behind a new NLB.
        response = post_and_roll_back(client, "/api/v1/services/", publish_body(vpc, team))
        manages_owner = OWNERS[vpc_name] in MANAGES.get(role, set())
        codes = problem_codes(response)
        if manages_owner:
            if codes & OWNERSHIP_CODES or response.status_code in (401, 403):
                wrong.append(f"{vpc_name} publish refused to its owner: {codes}")
        elif response.status_code not in (401, 403) and not (
            {"unknown_vpc", "unknown_vswitch"} <= codes
            and ("unknown_instance" in codes or not vpc["instances"])
        ):
            wrong.append(f"{vpc_name} publish not refused: {response.status_code} {codes}")
    assert not wrong, "\n".join(wrong)


def test_apps_never_sees_chooses_or_uses_vpc2_and_platform_cannot_publish_vpc1(demo_world):
    everything = inventory()
    vpc1, vpc2 = everything["VPC1"], everything["VPC2"]
    apps, platform = demo_world.client("apps_member"), demo_world.client("owner")

    shown = listed(demo_world, "apps_member")
    assert not any(set(ids) & shown.get(kind, set()) for kind, ids in vpc2.items())
    stolen = post_and_roll_back(apps, "/api/v1/access-requests/", request_body(vpc2, "apps"))
    assert stolen.status_code == 400
    assert {"unknown_vpc", "unknown_vswitch", "unknown_security_group"} <= problem_codes(stolen)

    published = post_and_roll_back(platform, "/api/v1/services/", publish_body(vpc1, "platform"))
    assert published.status_code == 400
    assert {"unknown_vpc", "unknown_vswitch", "unknown_instance"} <= problem_codes(published)
    # Not even a platform admin publishes Apps' instances for Platform.
    admin = demo_world.client("admin")
    refused = post_and_roll_back(admin, "/api/v1/services/", publish_body(vpc1, "platform"))
    assert "vpc_not_owned" in problem_codes(refused)
    own = post_and_roll_back(platform, "/api/v1/services/", publish_body(vpc2, "platform"))
    assert own.status_code == 201
