"""The verbs' pre-flight checks and permissions: each refusal has its code and a message a person
can act on, and nothing reaches the cloud or the broker before the checks pass."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from connections import services
from connections.checks import BackendChoice, ZoneChoice
from connections.choices import RequestState, Role, ServiceState
from connections.cloud.base import ProductApi
from connections.models import AccessRequest, Event
from connections.states import InvalidTransition
from portal.celery import app as celery_app
from tests.factories import (
    AccessRequestFactory,
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

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_cloud_calls(monkeypatch):
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
        return services.request_access(user, **arguments)


@pytest.fixture
def setup():
    return Setup()


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


@pytest.fixture
def sent_tasks(monkeypatch):
    """What the verbs hand to the broker (the broker itself is not what these tests are about)."""
    sent = []

    def send_task(name, args, kwargs):
        sent.append((name, args, kwargs))

    monkeypatch.setattr(celery_app, "send_task", send_task)
    return sent


def test_a_valid_request_is_recorded_with_its_event_and_enqueued_on_commit(
    setup, django_capture_on_commit_callbacks, sent_tasks
):
    with django_capture_on_commit_callbacks(execute=True):
        access_request = setup.request()
        assert sent_tasks == []  # nothing leaves before the commit

    assert access_request.state == RequestState.SUBMITTED
    assert sorted(z.zone_id for z in access_request.zones.all()) == [
        "cn-hangzhou-g",
        "cn-hangzhou-k",
    ]
    assert list(access_request.security_groups.all()) == [setup.security_group]
    assert [e.verb for e in access_request.events.all()] == ["requested"]
    token = access_request.task_token
    assert sent_tasks == [("connections.provision_request", (access_request.pk, token), {"hop": 0})]


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


def test_only_team_members_may_request(setup):
    outsider = UserFactory(username="outsider")

    with pytest.raises(PermissionDenied):
        setup.request(user=outsider)


# --- decisions ---------------------------------------------------------------------------------


def pending(setup) -> AccessRequest:
    return AccessRequestFactory(
        service=setup.service,
        vpc=setup.vpc,
        consumer_team=setup.consumer_team,
        state=RequestState.PENDING_APPROVAL,
        endpoint_id="ep-test",
    )


def test_only_the_services_owners_may_approve(setup):
    access_request = pending(setup)

    with pytest.raises(PermissionDenied):
        services.approve_request(setup.consumer, access_request)

    approved = services.approve_request(setup.owner, access_request)
    assert approved.state == RequestState.CONNECTING
    event = approved.events.get(verb="approve")
    assert (event.actor, event.from_state, event.to_state) == (
        setup.owner,
        "pending_approval",
        "connecting",
    )


def test_reject_needs_a_reason(setup):
    access_request = pending(setup)

    found = refusal(lambda: services.reject_request(setup.owner, access_request, reason=" "))

    assert found["reason"] == [("reason_required", "Give a reason for the rejection.")]
    access_request.refresh_from_db()
    assert access_request.state == RequestState.PENDING_APPROVAL


def test_approving_twice_is_a_conflict_not_a_second_approval(setup):
    access_request = pending(setup)
    services.approve_request(setup.owner, access_request)

    with pytest.raises(InvalidTransition):
        services.approve_request(setup.owner, access_request)

    assert Event.objects.filter(access_request=access_request, verb="approve").count() == 1


def test_either_side_may_revoke_but_nobody_else(setup):
    first = pending(setup)
    services.revoke_request(setup.consumer, first)
    first.refresh_from_db()
    assert first.state == RequestState.REVOKING

    second = AccessRequestFactory(
        service=setup.service, consumer_team=setup.consumer_team, state="connected"
    )
    services.revoke_request(setup.owner, second)
    second.refresh_from_db()
    assert second.state == RequestState.REVOKING

    third = AccessRequestFactory(
        service=setup.service, consumer_team=setup.consumer_team, state="connected"
    )
    with pytest.raises(PermissionDenied):
        services.revoke_request(UserFactory(username="stranger"), third)


def test_revoking_a_closed_request_is_a_conflict(setup):
    closed = AccessRequestFactory(service=setup.service, state=RequestState.REVOKED)
    with pytest.raises(InvalidTransition):
        services.revoke_request(setup.owner, closed)


def test_retire_is_refused_while_requests_are_live(setup):
    pending(setup)

    with pytest.raises(ValidationError) as caught:
        services.retire_service(setup.owner, setup.service)

    assert caught.value.code == "service_has_live_requests"
    setup.service.refresh_from_db()
    assert setup.service.state == ServiceState.AVAILABLE


# --- publish -----------------------------------------------------------------------------------


@pytest.fixture
def provider_vpc(setup):
    return VpcFactory(account=setup.account, team=setup.owner_team, vpc_id="vpc-provider")


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
    return services.publish_service(user, **arguments)


def test_publish_records_the_service_and_enqueues_the_workflow(
    setup, provider_vpc, django_capture_on_commit_callbacks, sent_tasks
):
    with django_capture_on_commit_callbacks(execute=True):
        service = publish(setup, provider_vpc)

    assert service.state == ServiceState.PROVISIONING
    assert service.zone_ids == ["cn-hangzhou-g", "cn-hangzhou-k"]
    assert service.backends.count() == 1
    assert sent_tasks == [
        ("connections.publish_service", (service.pk, service.task_token), {"hop": 0})
    ]


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


def test_only_owners_publish(setup, provider_vpc):
    member = MembershipFactory(team=setup.owner_team, user=UserFactory(username="member")).user

    with pytest.raises(PermissionDenied):
        publish(setup, provider_vpc, user=member)


def test_expired_requests_are_revoked_by_the_system(setup, django_capture_on_commit_callbacks):
    past = timezone.now() - timedelta(minutes=1)
    due = AccessRequestFactory(service=setup.service, state=RequestState.CONNECTED, expires_at=past)
    later = AccessRequestFactory(
        service=setup.service,
        state=RequestState.CONNECTED,
        expires_at=timezone.now() + timedelta(days=1),
    )
    closed = AccessRequestFactory(
        service=setup.service, state=RequestState.REVOKED, expires_at=past
    )

    with django_capture_on_commit_callbacks() as callbacks:
        assert services.expire_due_requests() == 1

    states = {r.pk: r.state for r in AccessRequest.objects.all()}
    assert states == {due.pk: "revoking", later.pk: "connected", closed.pk: "revoked"}
    event = Event.objects.get(access_request=due, verb="expired")
    assert event.actor is None and event.actor_label == "system"
    assert len(callbacks) == 1
