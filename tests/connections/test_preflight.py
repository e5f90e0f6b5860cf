"""The pre-flight checks (connections/preflight.py), through the verbs: each refusal has its code
and a message a person can act on, every problem is told at once, and nothing reaches the cloud
before the checks pass."""

from datetime import timedelta

import pytest
from django.utils import timezone

from connections.choices import RequestState, ServiceState
from connections.models import AccessRequest
from connections.preflight import BackendChoice, ZoneChoice
from tests.connections.verbs import codes, publish, refusal
from tests.factories import (
    AccessRequestFactory,
    InstanceFactory,
    SecurityGroupFactory,
    UserFactory,
    VpcFactory,
    VSwitchFactory,
)

pytestmark = pytest.mark.django_db


def test_zone_outside_the_service_names_the_zones_offered(
    setup, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        found = refusal(lambda: setup.request(zones=setup.zones("g", "h")))

    assert found["zones"] == [
        (
            "zone_not_offered",
            "nginx-hangzhou is not offered in cn-hangzhou-h; "
            "it is offered in cn-hangzhou-g, cn-hangzhou-k.",
        )
    ]
    assert callbacks == []
    assert not AccessRequest.objects.exists()


def test_vswitch_of_another_vpc_is_refused(setup):
    foreign = VSwitchFactory(zone_id="cn-hangzhou-g", vswitch_id="vsw-elsewhere")

    found = refusal(lambda: setup.request(zones=[ZoneChoice("cn-hangzhou-g", foreign)]))

    assert found["zones"] == [
        ("vswitch_not_in_vpc", "vSwitch vsw-elsewhere is not in VPC vpc-consumer.")
    ]


def test_vswitch_in_another_zone_is_refused(setup):
    found = refusal(
        lambda: setup.request(zones=[ZoneChoice("cn-hangzhou-g", setup.vswitches["k"])])
    )

    assert found["zones"] == [
        ("vswitch_not_in_zone", "vSwitch vsw-k is in zone cn-hangzhou-k, not cn-hangzhou-g.")
    ]


def test_security_group_of_another_vpc_is_refused(setup):
    foreign = SecurityGroupFactory(security_group_id="sg-elsewhere")

    found = refusal(lambda: setup.request(security_groups=[foreign]))

    assert found["security_groups"] == [
        ("security_group_not_in_vpc", "Security group sg-elsewhere is not in VPC vpc-consumer.")
    ]


@pytest.mark.parametrize("owner", ["another team", "nobody"])
def test_a_team_requests_only_from_its_own_vpc_even_in_a_shared_account(setup, owner):
    other_vpc = VpcFactory(
        account=setup.account,  # the consumer's own account: sharing it shares no network
        team=setup.owner_team if owner == "another team" else None,
        vpc_id="vpc-other",
        name="VPC9",
    )
    VSwitchFactory(vpc=other_vpc, zone_id="cn-hangzhou-g")

    found = refusal(
        lambda: setup.request(
            vpc=other_vpc,
            zones=[ZoneChoice("cn-hangzhou-g", other_vpc.vswitches.get())],
            security_groups=[SecurityGroupFactory(vpc=other_vpc)],
        )
    )

    assert found["vpc"] == [
        (
            "vpc_not_owned",
            "VPC9 (vpc-other) is not a VPC of Apps: a team uses its own VPCs only "
            "(a platform admin assigns them).",
        )
    ]


def test_a_platform_admin_may_use_an_unassigned_vpc_but_not_another_teams(setup):
    admin = UserFactory(username="root", is_superuser=True)
    unassigned = VpcFactory(account=setup.account, vpc_id="vpc-free", name="VPC8")
    owned = VpcFactory(account=setup.account, team=setup.owner_team, vpc_id="vpc-owned")

    def codes_for(vpc):
        vswitch = VSwitchFactory(vpc=vpc, zone_id="cn-hangzhou-g")
        return codes(
            refusal(
                lambda: setup.request(
                    user=admin,
                    vpc=vpc,
                    zones=[ZoneChoice("cn-hangzhou-g", vswitch)],
                    security_groups=[SecurityGroupFactory(vpc=vpc)],
                    justification="",  # something to refuse, so nothing is recorded
                )
            )
        )

    assert codes_for(unassigned) == {"justification_required"}
    assert codes_for(owned) == {"justification_required", "vpc_not_owned"}


def test_second_live_request_for_the_same_service_and_vpc_is_refused(setup):
    setup.request()

    found = refusal(setup.request)

    assert found["vpc"] == [
        ("duplicate_request", "VPC1 (vpc-consumer) already has a live request for nginx-hangzhou.")
    ]


def test_a_closed_request_does_not_block_a_new_one(setup):
    AccessRequestFactory(
        service=setup.service,
        vpc=setup.vpc,
        consumer_team=setup.consumer_team,
        state=RequestState.REVOKED,
    )

    assert setup.request().state == RequestState.SUBMITTED


def test_the_connection_limit_is_enforced(setup):
    setup.service.connection_limit = 1
    setup.service.save()
    AccessRequestFactory(service=setup.service, state=RequestState.CONNECTED)

    found = refusal(setup.request)

    assert found["service"] == [
        ("connection_limit_reached", "nginx-hangzhou accepts at most 1 connections; all are taken.")
    ]


def test_a_service_that_is_not_available_is_refused(setup):
    setup.service.state = ServiceState.PROVISIONING
    setup.service.save()

    found = refusal(setup.request)

    assert found["service"] == [
        ("service_unavailable", "nginx-hangzhou is provisioning, not available.")
    ]


def test_missing_zones_groups_and_justification_are_all_reported_at_once(setup):
    found = refusal(lambda: setup.request(zones=[], security_groups=[], justification="  "))

    assert codes(found) == {"zone_required", "security_group_required", "justification_required"}


def test_expiry_in_the_past_is_refused(setup):
    found = refusal(lambda: setup.request(expires_at=timezone.now() - timedelta(minutes=1)))

    assert found["expires_at"] == [("expiry_in_past", "The expiry must be in the future.")]


def test_publish_checks_zones_backends_ports_and_names(setup, provider_vpc):
    foreign_instance = InstanceFactory(instance_id="i-foreign", name="ECS99", private_ip="10.9.9.9")
    found = refusal(
        lambda: publish(
            setup,
            provider_vpc,
            name="nginx-hangzhou",
            zones=[ZoneChoice("cn-hangzhou-g", VSwitchFactory(vpc=provider_vpc))],
            backends=[BackendChoice(foreign_instance, 0, 101)],
            listener_port=70000,
        )
    )

    assert found == {
        "name": [("duplicate_name", "A service named nginx-hangzhou already exists.")],
        "zones": [("too_few_zones", "Choose at least 2 zones: an NLB spans two or more.")],
        "backends": [
            (
                "instance_not_in_vpc",
                "Instance ECS99 (i-foreign, 10.9.9.9) is not in VPC vpc-provider.",
            ),
            ("invalid_port", "Port 0 is not between 1 and 65535."),
            ("invalid_weight", "Weight 101 is not between 0 and 100."),
        ],
        "listener_port": [("invalid_port", "Port 70000 is not between 1 and 65535.")],
    }


def test_publish_checks_names_zones_duplicates_protocol_limit_and_owner(setup):
    outside = VpcFactory(account=setup.account, team=setup.consumer_team, vpc_id="vpc-outside")
    instance = InstanceFactory(
        vpc=outside, instance_id="i-one", name="ECS01", private_ip="10.0.0.1"
    )
    vswitch_k = VSwitchFactory(vpc=outside, zone_id="cn-hangzhou-k", vswitch_id="vsw-k2")
    found = refusal(
        lambda: publish(
            setup,
            outside,
            name="Not A Slug!",
            zones=[ZoneChoice("cn-hangzhou-g", vswitch_k), ZoneChoice("cn-hangzhou-g", vswitch_k)],
            backends=[BackendChoice(instance, 80), BackendChoice(instance, 80)],
            listener_protocol="HTTP",
            connection_limit=0,
        )
    )

    assert codes(found) == {
        "invalid_name",
        "vpc_not_owned",
        "duplicate_zone",
        "vswitch_not_in_zone",
        "duplicate_backend",
        "invalid_protocol",
        "invalid_limit",
    }
    assert found["listener_protocol"] == [("invalid_protocol", "Protocol must be one of TCP, UDP.")]


def test_inventory_the_cloud_no_longer_has_is_refused(setup):
    setup.vswitches["g"].present = False
    setup.vswitches["g"].save()
    setup.security_group.present = False
    setup.security_group.save()

    found = refusal(setup.request)

    assert codes(found) == {"vswitch_gone", "security_group_gone"}
