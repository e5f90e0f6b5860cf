"""The portal follows the cloud as Alibaba documents it (cloudsim enforces each rule; its sources
are in docs/cloud-api.md): changes made in the console on the provider's side, concurrency
refusals waited out, reads that lag behind a create, the zones each product offers, and refusals
a person must act on (activation, deletion protection, locks) told in words."""

import pytest

from connections import actions, demo
from connections.choices import Health, RequestState, ServiceState
from connections.inventory import sync_account
from connections.models import Finding
from tests.connections.conftest import wait_for_state, wait_until
from tests.connections.monitoring.test_sweep import sweep_through_worker
from tests.connections.workflows.test_workflows import request_from, verbs
from tests.console import Console

pytestmark = pytest.mark.worker


def changes_found(service) -> dict[str, str]:
    return {
        f.resource_id: f.detail
        for f in Finding.objects.open().filter(service=service, kind=Finding.Kind.SERVICE_CHANGED)
    }


# --- the provider's side, changed in the console --------------------------------------------------


def test_a_listener_stopped_in_the_console_takes_the_service_and_its_requests_down(
    world, seed_service
):
    seed_service.trusted_teams.add(world.team("apps"))
    connected = wait_for_state(request_from(world, seed_service), RequestState.CONNECTED)
    console = Console(seed_service.account)
    console.call("nlb", "StopListener", ListenerId=seed_service.listener_id)

    sweep_through_worker()

    seed_service.refresh_from_db()
    connected.refresh_from_db()
    assert seed_service.state == ServiceState.AVAILABLE
    assert (seed_service.health, connected.health) == (Health.DOWN, Health.DOWN)
    assert "was stopped outside the portal" in seed_service.health_reason
    assert seed_service.listener_id in changes_found(seed_service)

    console.call("nlb", "StartListener", ListenerId=seed_service.listener_id)

    def healthy_again():
        sweep_through_worker()
        seed_service.refresh_from_db()
        return seed_service.health == Health.HEALTHY

    wait_until(healthy_again, what="the service healthy again")
    assert changes_found(seed_service) == {}


def test_auto_accept_switched_in_the_console_is_followed_and_reported(world, seed_service):
    Console(seed_service.account).call(
        "privatelink",
        "UpdateVpcEndpointServiceAttribute",
        ServiceId=seed_service.endpoint_service_id,
        AutoAcceptEnabled=True,
    )
    wait_until(
        lambda: (
            Console(seed_service.account)
            .call(
                "privatelink",
                "GetVpcEndpointServiceAttribute",
                ServiceId=seed_service.endpoint_service_id,
            )
            .get("ServiceStatus")
            == "Active"
        ),
        what="the change applied",
    )

    sweep_through_worker()

    seed_service.refresh_from_db()
    assert seed_service.auto_accept is True
    assert "auto-accept changed outside the portal" in verbs(seed_service)
    assert "Auto-accept was switched on outside the portal." in changes_found(seed_service).values()


def test_a_backend_removed_in_the_console_counts_as_unhealthy(world, seed_service):
    ecs04 = seed_service.backends.get(instance__name="ECS04")
    Console(seed_service.account).call(
        "nlb",
        "RemoveServersFromServerGroup",
        ServerGroupId=seed_service.server_group_id,
        Servers=[{"ServerId": ecs04.instance.instance_id, "ServerType": "Ecs", "Port": 80}],
    )

    sweep_through_worker()

    seed_service.refresh_from_db()
    ecs04.refresh_from_db()
    assert seed_service.health == Health.DEGRADED
    assert (ecs04.healthy, ecs04.health_reason) == (False, "RemovedOutsidePortal")
    assert any("ECS04:80" in detail for detail in changes_found(seed_service).values())


def test_a_listener_deleted_in_the_console_fails_the_service_and_a_retry_publishes_it_again(
    world, seed_service
):
    old_listener = seed_service.listener_id
    Console(seed_service.account).call("nlb", "DeleteListener", ListenerId=old_listener)
    wait_until(
        lambda: (
            not Console(seed_service.account)
            .call("nlb", "ListListeners", ListenerIds=[old_listener])
            .get("Listeners")
        ),
        what="the listener gone",
    )

    sweep_through_worker()

    seed_service.refresh_from_db()
    assert seed_service.state == ServiceState.FAILED
    assert seed_service.last_error_code == "DeletedOutsidePortal"
    assert old_listener in seed_service.last_error_message
    assert seed_service.listener_id == ""
    assert old_listener in changes_found(seed_service)

    actions.retry_service(world.provider, seed_service)
    wait_for_state(seed_service, ServiceState.AVAILABLE)
    assert seed_service.listener_id not in ("", old_listener)
    created = world.cloudsim.stats()["created"]
    assert (created["loadbalancer"], created["listener"]) == (1, 2)


# --- the cloud's timing and its refusals of concurrent calls --------------------------------------


def test_approvals_in_one_account_wait_their_turn(world, seed_service):
    # An acceptance holds the account for as long as it takes: the second waits for the first
    # ("does not support accepting connections concurrently within one account").
    world.cloudsim.control("POST", "delays", {"delays": {"EnableVpcEndpointConnection": 1.5}})
    first = request_from(world, seed_service)
    second = request_from(world, seed_service, user="partner", team="partners", vpc="VPC3")
    for access_request in (first, second):
        wait_for_state(access_request, RequestState.PENDING_APPROVAL)

    actions.approve_request(world.provider, first)
    actions.approve_request(world.provider, second)

    for access_request in (first, second):
        wait_for_state(access_request, RequestState.CONNECTED)
        assert access_request.last_error_code == ""
    assert world.cloudsim.stats()["errors"].get("ConcurrentCallNotSupported", 0) >= 1


def test_resources_the_cloud_does_not_find_right_after_creating_them_are_waited_for(world):
    world.cloudsim.control("POST", "delays", {"delays": {"ReadAfterCreate": 1.0}})

    service = demo.publish_seed_service(world.provider)

    wait_for_state(service, ServiceState.AVAILABLE)
    assert service.last_error_code == ""
    errors = world.cloudsim.stats()["errors"]
    assert (
        errors.get("ResourceNotFound.loadBalancer", 0)
        + errors.get("ResourceNotFound.serverGroup", 0)
        + errors.get("EndpointServiceNotFound", 0)
        >= 1
    )


# --- the zones each product offers ---------------------------------------------------------------


def test_zones_a_product_does_not_offer_are_refused_before_any_cloud_call(world, seed_service):
    # Zone K stops offering PrivateLink: an endpoint there would be refused by the cloud.
    world.cloudsim.control("POST", "zones/cn-hangzhou-k", {"products": ["nlb"]})
    sync_account(world.accounts["A"], team_tag="team")

    with pytest.raises(Exception, match="PrivateLink is not offered in zone cn-hangzhou-k"):
        request_from(world, seed_service)


# --- refusals a person must act on, in words ---------------------------------------------------


def test_an_account_without_privatelink_activated_is_told_so(world):
    world.cloudsim.control("POST", "accounts/1111111111111111", {"privatelink_activated": False})

    service = demo.publish_seed_service(world.provider)

    wait_for_state(service, ServiceState.FAILED)
    assert service.last_error_code == "NeedOpenProduct"
    assert service.last_error_message.startswith(
        "PrivateLink is not activated in this cloud account"
    )


def test_deletion_protection_set_in_the_console_stops_a_retire_with_what_to_do(world, seed_service):
    console = Console(seed_service.account)
    console.call(
        "nlb",
        "UpdateLoadBalancerProtection",
        LoadBalancerId=seed_service.nlb_id,
        DeletionProtectionEnabled=True,
        DeletionProtectionReason="keep it",
    )

    actions.retire_service(world.provider, seed_service)
    wait_for_state(seed_service, ServiceState.FAILED)

    assert seed_service.last_error_code == "OperationDenied.DeletionProtectionEnabled"
    assert "Turn it off in the NLB console" in seed_service.last_error_message
    console.call(
        "nlb",
        "UpdateLoadBalancerProtection",
        LoadBalancerId=seed_service.nlb_id,
        DeletionProtectionEnabled=False,
    )
    actions.retry_service(world.provider, seed_service)
    wait_for_state(seed_service, ServiceState.RETIRED)


def test_a_retire_stops_at_a_connection_the_portal_does_not_manage_and_names_it(
    world, seed_service
):
    # Someone made an endpoint in the console, and the owner accepted it there.
    console = Console(seed_service.account)
    vpc1 = world.vpc("VPC1")
    endpoint_id = console.call(
        "privatelink",
        "CreateVpcEndpoint",
        VpcId=vpc1.vpc_id,
        ServiceId=seed_service.endpoint_service_id,
        SecurityGroupId=[world.security_groups("VPC1")[0].security_group_id],
        Zone=[
            {"ZoneId": z.zone_id, "VSwitchId": z.vswitch.vswitch_id}
            for z in world.zones("VPC1", "g")
        ],
    )["EndpointId"]
    console.call(
        "privatelink",
        "EnableVpcEndpointConnection",
        ServiceId=seed_service.endpoint_service_id,
        EndpointId=endpoint_id,
    )

    actions.retire_service(world.provider, seed_service)
    wait_for_state(seed_service, ServiceState.FAILED)

    assert seed_service.last_error_code == "EndpointServiceConnectionDependence"
    assert endpoint_id in seed_service.last_error_message
    console.call(
        "privatelink",
        "DisableVpcEndpointConnection",
        ServiceId=seed_service.endpoint_service_id,
        EndpointId=endpoint_id,
    )
    actions.retry_service(world.provider, seed_service)
    wait_for_state(seed_service, ServiceState.RETIRED)
    assert "detaching service resource" in verbs(seed_service)
