"""Each workflow end to end: the verbs, a real Celery worker, the official SDKs, cloudsim.

Nothing here is mocked: the worker is another process on the configured broker, it calls
cloudsim over HTTP through the SDKs, and step 7 is a real HTTP GET through cloudsim's data plane.
"""

import ipaddress
import shutil
import threading

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from connections import actions, demo
from connections.choices import RequestState, ServiceState
from connections.cloud import CloudNotFound, CloudSession
from connections.models import AccessRequest, VSwitch
from connections.preflight import BackendChoice
from connections.states import InvalidTransition
from tests.conftest import CHAOS_DIR
from tests.connections.conftest import http_get_through, wait_for_state, wait_until
from tests.console import Console

pytestmark = pytest.mark.worker

GREETINGS = {"Hello World ! This is ECS03.", "Hello World ! This is ECS04."}


def request_from(world, service, *, user="consumer", team="apps", vpc="VPC1", zones=("g", "k")):
    return actions.request_access(
        world.users[user],
        service=service,
        team=world.team(team),
        vpc=world.vpc(vpc),
        security_groups=world.security_groups(vpc),
        zones=world.zones(vpc, *zones),
        justification="The storefront needs the nginx service.",
    )


def endpoint_exists(access_request: AccessRequest) -> bool:
    try:
        CloudSession(access_request.vpc.account).privatelink.get_endpoint(
            access_request.endpoint_id
        )
    except CloudNotFound:
        return False
    return True


def verbs(obj) -> list[str]:
    return [event.verb for event in obj.events.all()]


def test_seed_flow_reaches_connected_and_step_7_answers_from_both_backends(world, seed_service):
    assert seed_service.nlb_id.startswith("nlb-")
    assert seed_service.server_group_id.startswith("sgp-")
    assert seed_service.listener_id.startswith("lsn-")
    assert seed_service.endpoint_service_id.startswith("epsrv-")
    assert {
        "created load balancer",
        "added backends",
        "created endpoint service",
        "published",
    } <= set(verbs(seed_service))

    access_request = request_from(world, seed_service)
    wait_for_state(access_request, RequestState.PENDING_APPROVAL)
    assert access_request.endpoint_id.startswith("ep-")
    assert access_request.endpoint_domain.endswith(".cn-hangzhou.privatelink.aliyuncs.com")

    actions.approve_request(world.provider, access_request)
    wait_for_state(access_request, RequestState.CONNECTED)

    zones = list(access_request.zones.select_related("vswitch"))
    assert [zone.zone_id for zone in zones] == ["cn-hangzhou-g", "cn-hangzhou-k"]
    for zone in zones:
        assert ipaddress.ip_address(zone.eni_ip) in ipaddress.ip_network(zone.vswitch.cidr)
        assert zone.eni_id and zone.zone_domain.endswith(".privatelink.aliyuncs.com")
    answers = {http_get_through(world.cloudsim, access_request.endpoint_domain) for _ in range(8)}
    assert answers == GREETINGS
    for zone in zones:
        assert http_get_through(world.cloudsim, zone.zone_domain) in GREETINGS
        assert http_get_through(world.cloudsim, zone.eni_ip) in GREETINGS
    assert verbs(access_request) == [
        "requested",
        "provisioning",
        "created endpoint",
        "awaiting approval",
        "approve",
        "accepted connection",
        "connected",
    ]
    cloud_ids = [
        e.cloud_request_id for e in access_request.events.filter(verb__startswith="created")
    ]
    assert all(cloud_ids)


def test_an_auto_accepting_service_connects_without_approval(world):
    vpc = world.vpc("VPC2")
    service = actions.publish_service(
        world.provider,
        team=world.team("platform"),
        name="nginx-auto",
        vpc=vpc,
        zones=world.zones("VPC2", "g", "k"),
        backends=[
            BackendChoice(i, 80, 100) for i in vpc.instances.filter(name__in=["ECS03", "ECS04"])
        ],
        listener_port=80,
        auto_accept=True,
    )
    wait_for_state(service, ServiceState.AVAILABLE)

    access_request = request_from(world, service)
    wait_for_state(access_request, RequestState.CONNECTED)

    assert "auto-accepted" in verbs(access_request)
    assert "accepted connection" not in verbs(access_request)
    assert http_get_through(world.cloudsim, access_request.endpoint_domain) in GREETINGS


def test_a_trusted_team_is_approved_at_once(world, seed_service):
    seed_service.trusted_teams.add(world.team("apps"))

    access_request = request_from(world, seed_service)
    wait_for_state(access_request, RequestState.CONNECTED)

    assert "auto-approved" in verbs(access_request)
    assert "accepted connection" in verbs(access_request)
    assert "approve" not in verbs(access_request)


def test_reject_deletes_the_endpoint_zones_first(world, seed_service):
    access_request = request_from(world, seed_service)
    wait_for_state(access_request, RequestState.PENDING_APPROVAL)

    actions.reject_request(world.provider, access_request, reason="Use the public API instead.")
    wait_until(
        lambda: AccessRequest.objects.get(pk=access_request.pk).endpoint_deleted_at, what="deletion"
    )

    access_request.refresh_from_db()
    assert access_request.state == RequestState.REJECTED
    assert access_request.decision_reason == "Use the public API instead."
    assert not endpoint_exists(access_request)
    seen = verbs(access_request)
    # A waiting connection is Disconnected already: nothing to disable. The zones go one at a
    # time, then the endpoint (DeleteVpcEndpoint refuses an endpoint that has zones).
    assert "rejected connection" not in seen
    assert seen.count("removing endpoint zone") == 2
    assert seen.index("removing endpoint zone") < seen.index("deleting endpoint")
    assert "endpoint deleted" in seen


def test_reject_deletes_an_endpoint_accepted_meanwhile(world, seed_service):
    access_request = request_from(world, seed_service)
    wait_for_state(access_request, RequestState.PENDING_APPROVAL)
    # Accepted in the console before the owner rejects it in the portal.
    Console(seed_service.account).call(
        "privatelink",
        "EnableVpcEndpointConnection",
        ServiceId=seed_service.endpoint_service_id,
        EndpointId=access_request.endpoint_id,
    )

    actions.reject_request(world.provider, access_request, reason="Not this one.")
    wait_until(
        lambda: AccessRequest.objects.get(pk=access_request.pk).endpoint_deleted_at, what="deletion"
    )
    assert not endpoint_exists(access_request)
    assert world.cloudsim.resolve(access_request.endpoint_domain, 80) is None


@pytest.mark.parametrize("revoker", ["consumer", "provider"])
def test_revoke_by_either_side_deletes_the_endpoint(world, seed_service, revoker):
    seed_service.trusted_teams.add(world.team("apps"))
    access_request = request_from(world, seed_service)
    wait_for_state(access_request, RequestState.CONNECTED)
    domain = access_request.endpoint_domain

    actions.revoke_request(world.users[revoker], access_request)
    wait_for_state(access_request, RequestState.REVOKED)

    assert access_request.endpoint_deleted_at and access_request.closed_at
    assert not endpoint_exists(access_request)
    assert world.cloudsim.resolve(domain, 80) is None
    assert access_request.events.get(verb="revoke").actor == world.users[revoker]


def test_retire_tears_everything_down_in_order(world, seed_service):
    actions.retire_service(world.provider, seed_service)
    wait_for_state(seed_service, ServiceState.RETIRED)

    cloud = CloudSession(seed_service.account)
    with pytest.raises(CloudNotFound):
        cloud.privatelink.get_endpoint_service(seed_service.endpoint_service_id)
    with pytest.raises(CloudNotFound):
        cloud.nlb.get_listener(seed_service.listener_id)
    assert cloud.nlb.get_server_group(seed_service.server_group_id) is None
    with pytest.raises(CloudNotFound):
        cloud.nlb.get_load_balancer(seed_service.nlb_id)
    deletions = [v for v in verbs(seed_service) if v.startswith("deleting")]
    assert deletions == [
        "deleting endpoint service",
        "deleting listener",
        "deleting server group",
        "deleting load balancer",
    ]


def test_retire_with_live_requests_needs_force_and_then_revokes_them(world, seed_service):
    seed_service.trusted_teams.add(world.team("apps"))
    access_request = request_from(world, seed_service)
    wait_for_state(access_request, RequestState.CONNECTED)

    with pytest.raises(ValidationError):
        actions.retire_service(world.provider, seed_service)
    actions.retire_service(world.provider, seed_service, force=True)

    wait_for_state(seed_service, ServiceState.RETIRED)
    wait_for_state(access_request, RequestState.REVOKED)
    assert not endpoint_exists(access_request)


def test_a_refused_create_fails_with_its_code_and_a_retry_resumes_to_success(world, seed_service):
    world.cloudsim.control(
        "POST",
        "faults",
        {"kind": "error", "action": "CreateVpcEndpoint", "count": 1, "status": 400,
         "code": "QuotaExceeded.totalEpPerVpc", "message": "The endpoint quota is used up."},
    )  # fmt: skip
    access_request = request_from(world, seed_service)

    wait_for_state(access_request, RequestState.FAILED)
    assert access_request.last_error_code == "QuotaExceeded.totalEpPerVpc"
    assert access_request.last_error_message == "The endpoint quota is used up."
    assert access_request.failed_phase == "provision"

    actions.retry_request(world.consumer, access_request)
    wait_for_state(access_request, RequestState.PENDING_APPROVAL)
    assert access_request.endpoint_id
    assert world.cloudsim.stats()["created"]["vpcendpoint"] == 1


def test_throttling_is_retried_without_failing(world, seed_service):
    world.cloudsim.control(
        "POST",
        "faults",
        {"kind": "throttle", "action": "CreateVpcEndpoint", "count": 2, "retry_after_ms": 200},
    )
    access_request = request_from(world, seed_service)

    wait_for_state(access_request, RequestState.PENDING_APPROVAL)
    assert access_request.last_error_code == ""
    assert world.cloudsim.stats()["calls"]["CreateVpcEndpoint"] == 3


def test_cross_account_request_whitelists_the_partner_account(world, seed_service):
    provider_api = CloudSession(seed_service.account).privatelink
    partner_uid = world.accounts["B"].uid
    assert partner_uid not in provider_api.list_users(seed_service.endpoint_service_id)

    access_request = request_from(world, seed_service, user="partner", team="partners", vpc="VPC3")
    wait_for_state(access_request, RequestState.PENDING_APPROVAL)

    assert partner_uid in provider_api.list_users(seed_service.endpoint_service_id)
    assert "whitelisted account" in verbs(access_request)
    actions.approve_request(world.provider, access_request)
    wait_for_state(access_request, RequestState.CONNECTED)
    assert http_get_through(world.cloudsim, access_request.endpoint_domain) in GREETINGS


@pytest.fixture
def chaos():
    """Make the worker die once right after each cloud write (tests/chaos.py)."""
    shutil.rmtree(CHAOS_DIR, ignore_errors=True)
    CHAOS_DIR.mkdir(parents=True)
    yield CHAOS_DIR
    shutil.rmtree(CHAOS_DIR, ignore_errors=True)


@pytest.mark.timeout(600)
def test_redelivery_after_every_cloud_write_creates_nothing_twice(world, chaos):
    service = demo.publish_seed_service(world.provider)
    wait_for_state(service, ServiceState.AVAILABLE, timeout=180)
    same_account = request_from(world, service)
    partner = request_from(world, service, user="partner", team="partners", vpc="VPC3")
    wait_for_state(same_account, RequestState.PENDING_APPROVAL, timeout=180)
    wait_for_state(partner, RequestState.PENDING_APPROVAL, timeout=180)
    actions.approve_request(world.provider, same_account)
    actions.approve_request(world.provider, partner)
    wait_for_state(same_account, RequestState.CONNECTED, timeout=180)
    wait_for_state(partner, RequestState.CONNECTED, timeout=180)
    actions.revoke_request(world.consumer, same_account)
    wait_for_state(same_account, RequestState.REVOKED, timeout=180)

    crashed = set((chaos / "crashes.log").read_text().split())
    assert {
        "CreateLoadBalancer",
        "CreateServerGroup",
        "AddServersToServerGroup",
        "CreateListener",
        "CreateVpcEndpointService",
        "AddUserToVpcEndpointService",
        "CreateVpcEndpoint",
        "EnableVpcEndpointConnection",
        "DeleteVpcEndpoint",
    } <= crashed
    created = world.cloudsim.stats()["created"]
    assert created["loadbalancer"] == 1
    assert created["servergroup"] == 1
    assert created["listener"] == 1
    assert created["vpcendpointservice"] == 1
    assert created["vpcendpoint"] == 2
    servers = CloudSession(service.account).nlb.list_servers(service.server_group_id)
    assert sorted((s["ServerId"], s["Port"]) for s in servers) == sorted(
        (b.instance.instance_id, 80) for b in service.backends.select_related("instance")
    )
    assert http_get_through(world.cloudsim, partner.endpoint_domain) in GREETINGS


def race(*calls) -> list[str]:
    """Run each (verb, user, request id) at the same instant on its own database connection."""
    barrier = threading.Barrier(len(calls))
    outcomes = [""] * len(calls)

    def act(index, verb, user, request_id):
        from django.db import connection

        barrier.wait()
        try:
            verb(user, AccessRequest.objects.get(pk=request_id))
            outcomes[index] = "done"
        except InvalidTransition:
            outcomes[index] = "refused"
        finally:
            connection.close()

    threads = [threading.Thread(target=act, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_approve_racing_revoke_ends_in_one_outcome(world, seed_service):
    for _ in range(3):
        access_request = request_from(world, seed_service)
        wait_for_state(access_request, RequestState.PENDING_APPROVAL)

        approve, revoke = race(
            (actions.approve_request, world.provider, access_request.pk),
            (actions.revoke_request, world.consumer, access_request.pk),
        )

        assert revoke == "done"
        wait_for_state(access_request, RequestState.REVOKED)
        assert not endpoint_exists(access_request)
        history = verbs(access_request)
        assert history.count("revoke") == 1
        assert history.count("approve") == (1 if approve == "done" else 0)
        assert history[-1] == "revoked"


def test_inventory_sync_mirrors_the_scenario(world):
    assert sorted(VSwitch.objects.filter(vpc__name="VPC1").values_list("zone_id", flat=True)) == [
        "cn-hangzhou-g",
        "cn-hangzhou-h",
        "cn-hangzhou-k",
    ]
    vpc2 = world.vpc("VPC2")
    assert vpc2.account == world.accounts["A"] and vpc2.cidr == "192.168.0.0/16"
    assert sorted(vpc2.instances.values_list("name", "private_ip")) == [
        ("ECS03", "192.168.2.190"),
        ("ECS04", "192.168.4.20"),
    ]
    assert world.vpc("VPC3").account == world.accounts["B"]


def tags_of(console: Console, product: str, resource_type: str, resource_id: str) -> dict:
    answer = console.call(
        product,
        "ListTagResources",
        ResourceType=resource_type,
        ResourceId=[resource_id],
        RegionId="cn-hangzhou",
    )
    return {row["TagKey"]: row["TagValue"] for row in answer.get("TagResources") or []}


def test_everything_the_portal_creates_is_tagged(world, seed_service):
    access_request = request_from(world, seed_service)
    wait_for_state(access_request, RequestState.PENDING_APPROVAL)
    console = Console(seed_service.account)
    installation = {"privatelink-portal:installation": settings.PORTAL_INSTALLATION_ID}
    service_tags = {
        "managed-by": "privatelink-portal",
        **installation,
        "privatelink-portal:service": seed_service.uuid.hex,
    }

    assert tags_of(console, "nlb", "loadbalancer", seed_service.nlb_id) == service_tags
    assert tags_of(console, "nlb", "servergroup", seed_service.server_group_id) == service_tags
    assert tags_of(console, "nlb", "listener", seed_service.listener_id) == service_tags
    assert (
        tags_of(console, "privatelink", "vpcendpointservice", seed_service.endpoint_service_id)
        == service_tags
    )
    assert tags_of(console, "privatelink", "vpcendpoint", access_request.endpoint_id) == {
        "managed-by": "privatelink-portal",
        **installation,
        "privatelink-portal:request": access_request.uuid.hex,
    }


@pytest.mark.worker
def test_turning_auto_accept_on_reaches_the_endpoint_service_and_new_requests_connect(
    world, seed_service
):
    api = CloudSession(seed_service.account).privatelink
    assert not api.get_endpoint_service(seed_service.endpoint_service_id)["AutoAcceptEnabled"]

    actions.update_service_settings(
        world.provider, seed_service, auto_accept=True, trusted_teams=[], connection_limit=None
    )

    wait_until(lambda: "changed auto-accept" in verbs(seed_service), what="the cloud change")
    assert api.get_endpoint_service(seed_service.endpoint_service_id)["AutoAcceptEnabled"]
    access_request = request_from(world, seed_service)
    wait_for_state(access_request, RequestState.CONNECTED)
    assert "auto-accepted" in verbs(access_request)
