"""The rules cloudsim enforces because Alibaba documents them, each proved through the official SDKs
against an in-process emulator, and the contract checker that holds cloudsim's answers to the
SDK's models and the metadata's codes.

Each test's docstring names the rule's source as the module that enforces it gives it
(cloudsim/products/privatelink/*, cloudsim/products/nlb/*, cloudsim/products/locks.py,
cloudsim/ram.py, cloudsim/store.py, cloudsim/metadata). Windows of time (a call under way, a
resource not yet readable) are held open by a frozen emulator clock and closed by
`POST /_sim/clock`, never by sleeping: they hold on a slow machine.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from alibabacloud_nlb20220430 import models as nlb_models
from alibabacloud_privatelink20200415 import models as pl_models
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_tea_openapi import utils_models as openapi_models
from alibabacloud_tea_openapi.client import Client as OpenApiClient
from alibabacloud_tea_openapi.exceptions import ClientException
from darabonba.runtime import RuntimeOptions

from cloudsim import contract, scenario
from cloudsim.metadata import required_parameters
from cloudsim.products import PRODUCTS
from cloudsim.server import CloudSim
from tests.cloudsim import seed
from tests.cloudsim.support import (
    ACCOUNT_A,
    REGION,
    UID_A,
    UID_B,
    Clients,
    Network,
    clients_for,
    config,
    control,
    discover,
    wait_for,
)

PL_VERSION = "2020-04-15"
NLB_VERSION = "2022-04-30"


# -- helpers --------------------------------------------------------------------------------------


def refusal(call: Callable[..., Any], *args: Any) -> ClientException:
    """The ClientException `call(*args)` raises (the test fails if it succeeds)."""
    with pytest.raises(ClientException) as refused:
        call(*args)
    return refused.value


def set_delays(sim: CloudSim, **delays: float | None) -> None:
    status, body = control(sim, "POST", "delays", {"delays": delays})
    assert status == 200, body


def tick(sim: CloudSim, seconds: float) -> None:
    status, body = control(sim, "POST", "clock", {"advance": seconds})
    assert status == 200, body


def raw_call(sim: CloudSim, version: str, action: str, query: dict[str, str]) -> dict[str, Any]:
    """One signed call with exactly `query` (what an SDK model cannot send), answering the body
    as it came over the wire, before any SDK model read it."""
    client = OpenApiClient(config(sim, *ACCOUNT_A))
    params = openapi_models.Params(
        action=action,
        version=version,
        protocol="HTTPS",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )
    request = openapi_models.OpenApiRequest(query=query)
    return client.call_api(params, request, RuntimeOptions())["body"]


def endpoint_attribute(clients: Clients, endpoint_id: str):
    return clients.privatelink.get_vpc_endpoint_attribute(
        pl_models.GetVpcEndpointAttributeRequest(endpoint_id=endpoint_id, region_id=REGION)
    ).body


def endpoint_zones(clients: Clients, endpoint_id: str) -> dict[str, str]:
    zones = clients.privatelink.list_vpc_endpoint_zones(
        pl_models.ListVpcEndpointZonesRequest(endpoint_id=endpoint_id, region_id=REGION)
    ).body.zones
    return {zone.zone_id: zone.zone_status for zone in zones}


def remove_zone(clients: Clients, endpoint_id: str, zone: str) -> None:
    clients.privatelink.remove_zone_from_vpc_endpoint(
        pl_models.RemoveZoneFromVpcEndpointRequest(
            endpoint_id=endpoint_id, zone_id=zone, region_id=REGION
        )
    )


def delete_endpoint(clients: Clients, endpoint_id: str) -> None:
    clients.privatelink.delete_vpc_endpoint(
        pl_models.DeleteVpcEndpointRequest(endpoint_id=endpoint_id, region_id=REGION)
    )


def create_endpoint(clients: Clients, net: Network, service_id: str, **extra: Any) -> str:
    request = seed.endpoint_request(net, service_id, **extra)
    return clients.privatelink.create_vpc_endpoint(request).body.endpoint_id


def service_status(clients: Clients, service_id: str) -> str:
    return clients.privatelink.get_vpc_endpoint_service_attribute(
        pl_models.GetVpcEndpointServiceAttributeRequest(service_id=service_id, region_id=REGION)
    ).body.service_status


def service_resources(clients: Clients, service_id: str) -> list[tuple[str, str]]:
    resources = clients.privatelink.list_vpc_endpoint_service_resources(
        pl_models.ListVpcEndpointServiceResourcesRequest(service_id=service_id, region_id=REGION)
    ).body.resources
    return sorted((r.resource_id, r.zone_id) for r in resources)


def detach(clients: Clients, service_id: str, lb_id: str) -> None:
    clients.privatelink.detach_resource_from_vpc_endpoint_service(
        pl_models.DetachResourceFromVpcEndpointServiceRequest(
            service_id=service_id, resource_id=lb_id, resource_type="nlb", region_id=REGION
        )
    )


def delete_service(clients: Clients, service_id: str) -> None:
    clients.privatelink.delete_vpc_endpoint_service(
        pl_models.DeleteVpcEndpointServiceRequest(service_id=service_id, region_id=REGION)
    )


def enable(clients: Clients, service_id: str, endpoint_id: str) -> None:
    clients.privatelink.enable_vpc_endpoint_connection(
        pl_models.EnableVpcEndpointConnectionRequest(
            service_id=service_id, endpoint_id=endpoint_id, region_id=REGION
        )
    )


def disable(clients: Clients, service_id: str, endpoint_id: str) -> None:
    clients.privatelink.disable_vpc_endpoint_connection(
        pl_models.DisableVpcEndpointConnectionRequest(
            service_id=service_id, endpoint_id=endpoint_id, region_id=REGION
        )
    )


def add_user(clients: Clients, service_id: str, uid: str) -> None:
    clients.privatelink.add_user_to_vpc_endpoint_service(
        pl_models.AddUserToVpcEndpointServiceRequest(
            service_id=service_id, user_id=int(uid), region_id=REGION
        )
    )


def remove_user(clients: Clients, service_id: str, uid: str) -> None:
    clients.privatelink.remove_user_from_vpc_endpoint_service(
        pl_models.RemoveUserFromVpcEndpointServiceRequest(
            service_id=service_id, user_id=int(uid), region_id=REGION
        )
    )


def load_balancer(clients: Clients, lb_id: str):
    return clients.nlb.get_load_balancer_attribute(
        nlb_models.GetLoadBalancerAttributeRequest(load_balancer_id=lb_id)
    ).body


def delete_load_balancer(clients: Clients, lb_id: str) -> str:
    return clients.nlb.delete_load_balancer(
        nlb_models.DeleteLoadBalancerRequest(load_balancer_id=lb_id)
    ).body.job_id


def protect_load_balancer(clients: Clients, lb_id: str, enabled: bool) -> None:
    clients.nlb.update_load_balancer_protection(
        nlb_models.UpdateLoadBalancerProtectionRequest(
            load_balancer_id=lb_id,
            deletion_protection_enabled=enabled,
            deletion_protection_reason="production traffic" if enabled else None,
        )
    )


def delete_server_group(clients: Clients, group_id: str) -> None:
    clients.nlb.delete_server_group(nlb_models.DeleteServerGroupRequest(server_group_id=group_id))


def add_weighted(clients: Clients, group_id: str, servers: list[tuple[str, int, int]]) -> None:
    """Servers as (instance id, port, weight)."""
    clients.nlb.add_servers_to_server_group(
        nlb_models.AddServersToServerGroupRequest(
            server_group_id=group_id,
            servers=[
                nlb_models.AddServersToServerGroupRequestServers(
                    server_id=server_id, server_type="Ecs", port=port, weight=weight
                )
                for server_id, port, weight in servers
            ],
        )
    )


def non_normal(clients: Clients, listener_id: str) -> tuple[bool, dict[tuple[str, int], str]]:
    """Whether health checks are on, and the (server, port) → Status the health API lists."""
    body = clients.nlb.get_listener_health_status(
        nlb_models.GetListenerHealthStatusRequest(listener_id=listener_id)
    ).body.to_map()
    info = body["ListenerHealthStatus"][0]["ServerGroupInfos"][0]
    statuses = {(s["ServerId"], s["Port"]): s["Status"] for s in info["NonNormalServers"]}
    return info["HeathCheckEnabled"], statuses


def put_policy(sim: CloudSim, key: str, statements: list[dict[str, Any]]) -> None:
    status, body = control(sim, "PUT", f"policies/{key}", {"Version": "1", "Statement": statements})
    assert status == 200, body


def account_settings(sim: CloudSim, uid: str) -> dict[str, Any]:
    return control(sim, "GET", "state")[1]["accounts"][uid]


# -- required parameters --------------------------------------------------------------------------


def test_every_privatelink_operation_but_three_requires_region_id(sim, account_a):
    """RegionId is required by every PrivateLink operation but CheckProductOpen,
    OpenPrivateLinkService and DescribeRegions, and the SDK does not add it from the client's
    config. Source: the operations' required parameters in Alibaba's OpenAPI metadata
    (cloudsim/metadata/privatelink.json); the gateway answers `Missing{ParameterName}`, HTTP 400,
    "{ParameterName} is mandatory for this action." (cloudsim/metadata/common.json)."""
    refused = refusal(account_a.privatelink.list_vpc_endpoints, pl_models.ListVpcEndpointsRequest())
    assert (refused.code, refused.status_code) == ("MissingRegionId", 400)
    assert "RegionId is mandatory for this action." in refused.message
    answer = account_a.privatelink.list_vpc_endpoints(
        pl_models.ListVpcEndpointsRequest(region_id=REGION)
    ).body
    assert answer.total_count == 0

    # Every operation, with its other required parameters given: RegionId alone is missing.
    without_region = []
    for action in sorted(PRODUCTS[PL_VERSION].operations):
        required = required_parameters("privatelink", action)
        if "RegionId" not in required:
            without_region.append(action)
            continue
        query = {name: "x" for name in required if name != "RegionId"}
        with pytest.raises(ClientException) as missing:
            raw_call(sim, PL_VERSION, action, query)
        assert missing.value.code == "MissingRegionId", action
    assert without_region == ["CheckProductOpen", "DescribeRegions", "OpenPrivateLinkService"]
    assert account_a.privatelink.check_product_open().body.success is True


# -- teardown orders -----------------------------------------------------------------------------


def test_an_endpoints_zones_go_one_at_a_time_before_the_endpoint(
    sim, account_a, net_a, freeze_clock
):
    """DeleteVpcEndpoint: "Before you delete an endpoint, delete the zones added to it"
    (EndpointDependenceViolation); RemoveZoneFromVpcEndpoint is asynchronous, the endpoint is
    Pending meanwhile and another change of it is refused (EndpointOperationDenied: "does not
    support concurrent … for the same endpoint"). Source: the API reference of each operation,
    as cloudsim/products/privatelink/endpoints.py quotes it; codes from the metadata."""
    published = seed.publish(account_a, net_a)
    endpoint_id = create_endpoint(account_a, net_a, published.service_id)
    freeze_clock(sim)
    set_delays(sim, RemoveZoneFromVpcEndpoint=5)

    refused = refusal(delete_endpoint, account_a, endpoint_id)
    assert refused.code == "EndpointDependenceViolation"
    assert seed.ZONE_G in refused.message and seed.ZONE_K in refused.message

    remove_zone(account_a, endpoint_id, seed.ZONE_G)
    assert endpoint_attribute(account_a, endpoint_id).endpoint_status == "Pending"
    assert endpoint_zones(account_a, endpoint_id) == {seed.ZONE_G: "Deleting", seed.ZONE_K: "Wait"}
    assert refusal(remove_zone, account_a, endpoint_id, seed.ZONE_K).code == (
        "EndpointOperationDenied"
    )
    assert refusal(delete_endpoint, account_a, endpoint_id).code == "EndpointOperationDenied"

    tick(sim, 5)
    assert endpoint_attribute(account_a, endpoint_id).endpoint_status == "Active"
    assert endpoint_zones(account_a, endpoint_id) == {seed.ZONE_K: "Wait"}
    assert refusal(delete_endpoint, account_a, endpoint_id).code == "EndpointDependenceViolation"
    remove_zone(account_a, endpoint_id, seed.ZONE_K)
    tick(sim, 5)
    assert endpoint_zones(account_a, endpoint_id) == {}

    delete_endpoint(account_a, endpoint_id)
    control(sim, "POST", "fast-forward")
    assert refusal(endpoint_attribute, account_a, endpoint_id).code == "EndpointNotFound"


def test_a_service_goes_after_its_connections_and_its_detached_resources(
    sim, account_a, net_a, freeze_clock
):
    """DeleteVpcEndpointService: "disconnect the endpoint connections and remove the service
    resources first" (EndpointServiceConnectionDependence while a connection is in use,
    EndpointServiceDependenceViolation while a resource is attached); a detached resource stays
    listed by ListVpcEndpointServiceResources until the asynchronous detachment is done. Source:
    the API reference, as cloudsim/products/privatelink/services.py quotes it; codes from the
    metadata."""
    published = seed.publish(account_a, net_a, auto_accept=True)
    endpoint_id = create_endpoint(account_a, net_a, published.service_id)
    assert endpoint_attribute(account_a, endpoint_id).connection_status == "Connected"

    refused = refusal(delete_service, account_a, published.service_id)
    assert refused.code == "EndpointServiceConnectionDependence"
    assert endpoint_id in refused.message
    refused = refusal(detach, account_a, published.service_id, published.load_balancer_id)
    assert refused.code == "EndpointServiceConnectionDependence"

    disable(account_a, published.service_id, endpoint_id)
    assert endpoint_attribute(account_a, endpoint_id).connection_status == "Disconnected"
    refused = refusal(delete_service, account_a, published.service_id)
    assert refused.code == "EndpointServiceDependenceViolation"
    assert published.load_balancer_id in refused.message

    freeze_clock(sim)
    set_delays(sim, DetachResourceFromVpcEndpointService=2)
    detach(account_a, published.service_id, published.load_balancer_id)
    both_zones = [
        (published.load_balancer_id, seed.ZONE_G),
        (published.load_balancer_id, seed.ZONE_K),
    ]
    assert service_resources(account_a, published.service_id) == both_zones
    assert service_status(account_a, published.service_id) == "Pending"
    assert refusal(delete_service, account_a, published.service_id).code == (
        "EndpointServiceOperationDenied"
    )

    def detached() -> bool:
        tick(sim, 0.5)  # the emulator's time, not the machine's, ends the detachment
        return service_resources(account_a, published.service_id) == []

    wait_for(detached, timeout=30)
    assert service_status(account_a, published.service_id) == "Active"
    delete_service(account_a, published.service_id)
    control(sim, "POST", "fast-forward")
    refused = refusal(service_status, account_a, published.service_id)
    assert refused.code == "EndpointServiceNotFound"
    # The endpoint left Disconnected outlives its service.
    assert endpoint_attribute(account_a, endpoint_id).connection_status == "ServiceDeleted"


def test_a_load_balancer_goes_after_its_listener_and_its_server_group(account_a, net_a):
    """A server group "can be deleted when no listener uses it" (ResourceInUse.ServerGroup;
    cloudsim/products/nlb/server_groups.py, from the API reference); DeleteLoadBalancer refuses
    while a listener exists (OperationDenied.ListenerExists: the metadata's OperationDenied.%s,
    cloudsim's stricter reading, cloudsim/products/nlb/load_balancers.py)."""
    lb_id = seed.create_load_balancer(account_a, net_a)
    group_id = seed.create_server_group(account_a, net_a)
    seed.add_servers(account_a, net_a, group_id)
    listener_id = seed.create_listener(account_a, lb_id, group_id)

    refused = refusal(delete_server_group, account_a, group_id)
    assert (refused.code, refused.status_code) == ("ResourceInUse.ServerGroup", 400)
    refused = refusal(delete_load_balancer, account_a, lb_id)
    assert (refused.code, refused.status_code) == ("OperationDenied.ListenerExists", 400)
    assert listener_id in refused.message

    account_a.nlb.delete_listener(nlb_models.DeleteListenerRequest(listener_id=listener_id))
    delete_server_group(account_a, group_id)
    job_id = delete_load_balancer(account_a, lb_id)
    job = account_a.nlb.get_job_status(nlb_models.GetJobStatusRequest(job_id=job_id)).body
    assert job.status == "Succeeded"
    refused = refusal(load_balancer, account_a, lb_id)
    assert (refused.code, refused.status_code) == ("ResourceNotFound.loadBalancer", 404)


def test_a_load_balancer_being_created_or_changed_is_not_deleted(
    sim, account_a, net_a, freeze_clock
):
    """DeleteLoadBalancer refuses a load balancer being created (ResourceInCreating.loadbalancer)
    or changed (ResourceInConfiguring.loadbalancer), lower-case b as the metadata spells them.
    Source: the metadata of DeleteLoadBalancer (cloudsim/products/nlb/common.py)."""
    freeze_clock(sim)
    set_delays(sim, CreateLoadBalancer=10, UpdateLoadBalancerAttribute=10)
    lb_id = seed.create_load_balancer(account_a, net_a)
    assert load_balancer(account_a, lb_id).load_balancer_status == "Provisioning"
    assert refusal(delete_load_balancer, account_a, lb_id).code == (
        "ResourceInCreating.loadbalancer"
    )
    tick(sim, 10)
    account_a.nlb.update_load_balancer_attribute(
        nlb_models.UpdateLoadBalancerAttributeRequest(
            load_balancer_id=lb_id, load_balancer_name="renamed"
        )
    )
    assert load_balancer(account_a, lb_id).load_balancer_status == "Configuring"
    assert refusal(delete_load_balancer, account_a, lb_id).code == (
        "ResourceInConfiguring.loadbalancer"
    )
    tick(sim, 10)
    assert delete_load_balancer(account_a, lb_id)


# -- connections ----------------------------------------------------------------------------------


def test_a_connection_waiting_for_the_provider_is_disconnected(account_a, net_a):
    """ "After you create an endpoint that is associated with the endpoint service, the endpoint
    connection is in the Disconnected state", its zones Wait (the console guide "Manage endpoint
    connections", cloudsim/products/privatelink/common.py). EnableVpcEndpointConnection accepts
    only a Disconnected connection, DisableVpcEndpointConnection only a Connecting or Connected
    one (EndpointConnectionOperationDenied otherwise); an endpoint of another service has no
    connection to it (EndpointConnectionNotFound). Source: the API reference and metadata of each
    (cloudsim/products/privatelink/connections.py)."""
    published = seed.publish(account_a, net_a)
    endpoint_id = create_endpoint(account_a, net_a, published.service_id)
    attribute = endpoint_attribute(account_a, endpoint_id)
    assert (attribute.endpoint_status, attribute.connection_status) == ("Active", "Disconnected")
    assert endpoint_zones(account_a, endpoint_id) == {seed.ZONE_G: "Wait", seed.ZONE_K: "Wait"}
    queue = account_a.privatelink.list_vpc_endpoint_connections(
        pl_models.ListVpcEndpointConnectionsRequest(
            service_id=published.service_id, region_id=REGION
        )
    ).body.connections
    assert [(c.endpoint_id, c.connection_status) for c in queue] == [(endpoint_id, "Disconnected")]

    refused = refusal(disable, account_a, published.service_id, endpoint_id)
    assert refused.code == "EndpointConnectionOperationDenied"
    enable(account_a, published.service_id, endpoint_id)
    assert endpoint_attribute(account_a, endpoint_id).connection_status == "Connected"
    refused = refusal(enable, account_a, published.service_id, endpoint_id)
    assert refused.code == "EndpointConnectionOperationDenied"
    disable(account_a, published.service_id, endpoint_id)
    assert endpoint_attribute(account_a, endpoint_id).connection_status == "Disconnected"
    assert endpoint_zones(account_a, endpoint_id) == {
        seed.ZONE_G: "Disconnected",
        seed.ZONE_K: "Disconnected",
    }
    # A rejected connection may be accepted again.
    enable(account_a, published.service_id, endpoint_id)
    assert endpoint_attribute(account_a, endpoint_id).connection_status == "Connected"

    refused = refusal(enable, account_a, published.service_id, "ep-notaconnection")
    assert refused.code == "EndpointConnectionNotFound"


def test_an_endpoint_needs_an_active_service(sim, account_a, account_b, net_a, net_b, freeze_clock):
    """CreateVpcEndpoint needs the service Active (IncorrectStatus.VpcEndpointService while it is
    Creating or Pending, EndpointServiceDeleted while it is deleted) and the caller on its
    whitelist (EndpointServiceNotAuthorized, HTTP 400). Source: the API reference and metadata of
    CreateVpcEndpoint (cloudsim/products/privatelink/endpoints.py)."""
    lb_id = seed.create_load_balancer(account_a, net_a)
    other_lb = seed.create_load_balancer(account_a, net_a)
    freeze_clock(sim)
    set_delays(
        sim,
        CreateVpcEndpointService=10,
        UpdateVpcEndpointServiceAttribute=10,
        DeleteVpcEndpointService=10,
    )
    service_id = seed.create_service(account_a, lb_id)
    assert service_status(account_a, service_id) == "Creating"
    refused = refusal(create_endpoint, account_a, net_a, service_id)
    assert (refused.code, refused.status_code) == ("IncorrectStatus.VpcEndpointService", 400)
    assert "Creating" in refused.message

    tick(sim, 10)
    account_a.privatelink.update_vpc_endpoint_service_attribute(
        pl_models.UpdateVpcEndpointServiceAttributeRequest(
            service_id=service_id, service_description="changed", region_id=REGION
        )
    )
    assert service_status(account_a, service_id) == "Pending"
    refused = refusal(create_endpoint, account_a, net_a, service_id)
    assert refused.code == "IncorrectStatus.VpcEndpointService"
    tick(sim, 10)
    assert create_endpoint(account_a, net_a, service_id, zones=(seed.ZONE_G,)).startswith("ep-")

    # Another account, not on the whitelist.
    request = seed.endpoint_request(net_b, service_id, vpc="VPC3", security_group="sg-vpc3")
    refused = refusal(account_b.privatelink.create_vpc_endpoint, request)
    assert (refused.code, refused.status_code) == ("EndpointServiceNotAuthorized", 400)

    # A service being deleted (a second one, with no endpoint and its resource detached).
    empty_service = seed.create_service(account_a, other_lb)
    tick(sim, 10)
    set_delays(sim, DetachResourceFromVpcEndpointService=0)
    detach(account_a, empty_service, other_lb)
    delete_service(account_a, empty_service)
    refused = refusal(create_endpoint, account_a, net_a, empty_service)
    assert refused.code == "EndpointServiceDeleted"


def test_zones_are_added_to_an_endpoint_from_the_services_zones(
    sim, account_a, net_a, freeze_clock
):
    """AddZoneToVpcEndpoint: a zone the service offers (EndpointServiceNotSupportedZone), not one
    the endpoint has (EndpointZoneDuplicated); asynchronous, the endpoint Pending meanwhile, and
    the new zone joins the connection as it stands (Wait while it waits for the provider).
    Source: the API reference and metadata of AddZoneToVpcEndpoint
    (cloudsim/products/privatelink/endpoints.py)."""
    published = seed.publish(account_a, net_a)
    endpoint_id = create_endpoint(account_a, net_a, published.service_id, zones=(seed.ZONE_G,))

    def add_zone(zone: str) -> None:
        account_a.privatelink.add_zone_to_vpc_endpoint(
            pl_models.AddZoneToVpcEndpointRequest(
                endpoint_id=endpoint_id,
                zone_id=zone,
                v_switch_id=net_a.vswitches["VPC1"][zone],
                region_id=REGION,
            )
        )

    refused = refusal(add_zone, seed.ZONE_H)
    assert refused.code == "EndpointServiceNotSupportedZone"
    assert refusal(add_zone, seed.ZONE_G).code == "EndpointZoneDuplicated"

    freeze_clock(sim)
    set_delays(sim, AddZoneToVpcEndpoint=3)
    add_zone(seed.ZONE_K)
    assert endpoint_attribute(account_a, endpoint_id).endpoint_status == "Pending"
    assert endpoint_zones(account_a, endpoint_id) == {seed.ZONE_G: "Wait", seed.ZONE_K: "Creating"}
    assert refusal(remove_zone, account_a, endpoint_id, seed.ZONE_G).code == (
        "EndpointOperationDenied"
    )
    tick(sim, 3)
    assert endpoint_attribute(account_a, endpoint_id).endpoint_status == "Active"
    assert endpoint_zones(account_a, endpoint_id) == {seed.ZONE_G: "Wait", seed.ZONE_K: "Wait"}


# -- calls that may not overlap -------------------------------------------------------------------


def test_whitelist_changes_do_not_overlap(sim, account_a, net_a, freeze_clock):
    """AddUserToVpcEndpointService allows one call at a time per account,
    RemoveUserFromVpcEndpointService one per endpoint service: another call while one is under
    way is refused with ConcurrentCallNotSupported. Source: the API reference of each ("does not
    support concurrent …"); the code from the Terraform provider
    (cloudsim/metadata/additions.json, cloudsim/products/privatelink/services.py)."""
    first = seed.publish(account_a, net_a)
    second = seed.create_service(account_a, seed.create_load_balancer(account_a, net_a))
    freeze_clock(sim)
    set_delays(sim, AddUserToVpcEndpointService=5, RemoveUserFromVpcEndpointService=5)

    add_user(account_a, first.service_id, UID_B)
    # Per account: another service of the same account waits too.
    refused = refusal(add_user, account_a, second, UID_B)
    assert (refused.code, refused.status_code) == ("ConcurrentCallNotSupported", 400)
    tick(sim, 5)
    add_user(account_a, second, UID_B)
    tick(sim, 5)

    # Per service: two services at once are fine, the same one twice is not.
    remove_user(account_a, first.service_id, UID_B)
    remove_user(account_a, second, UID_B)
    refused = refusal(remove_user, account_a, first.service_id, UID_B)
    assert refused.code == "ConcurrentCallNotSupported"
    tick(sim, 5)
    remove_user(account_a, first.service_id, UID_B)


def test_a_load_balancer_takes_one_change_at_a_time(sim, account_a, net_a, freeze_clock):
    """While CreateListener's job runs, the load balancer refuses another listener and a
    protection change with Conflict.Lock (listed for CreateListener, DeleteListener,
    DeleteLoadBalancer and UpdateLoadBalancerProtection in the metadata; the Terraform provider
    retries it). Source: cloudsim/products/nlb/common.py."""
    lb_id = seed.create_load_balancer(account_a, net_a)
    group_id = seed.create_server_group(account_a, net_a)
    freeze_clock(sim)
    set_delays(sim, CreateListener=5)
    seed.create_listener(account_a, lb_id, group_id, port=80)
    refused = refusal(seed.create_listener, account_a, lb_id, group_id, 81)
    assert (refused.code, refused.status_code) == ("Conflict.Lock", 400)
    assert refusal(protect_load_balancer, account_a, lb_id, True).code == "Conflict.Lock"
    tick(sim, 5)
    assert seed.create_listener(account_a, lb_id, group_id, port=81).startswith("lsn-")


# -- read after create ----------------------------------------------------------------------------


def test_what_was_just_created_is_not_found_for_a_moment(sim, account_a, net_a, freeze_clock):
    """Reads right after a create do not find the new resource for the ReadAfterCreate delay
    (`/_sim/delays` sets it; 0 makes reads consistent at once), as the cloud's eventually
    consistent reads do. Source: cloudsim/store.py (hide_until_consistent)."""
    published = seed.publish(account_a, net_a)
    freeze_clock(sim)
    set_delays(sim, ReadAfterCreate=3)

    group_id = seed.create_server_group(account_a, net_a, name="fresh")
    listed = account_a.nlb.list_server_groups(
        nlb_models.ListServerGroupsRequest(server_group_ids=[group_id])
    ).body
    assert listed.total_count == 0
    refused = refusal(seed.add_servers, account_a, net_a, group_id)
    assert (refused.code, refused.status_code) == ("ResourceNotFound.serverGroup", 404)

    endpoint_id = create_endpoint(account_a, net_a, published.service_id)
    assert refusal(endpoint_attribute, account_a, endpoint_id).code == "EndpointNotFound"
    listed = account_a.privatelink.list_vpc_endpoints(
        pl_models.ListVpcEndpointsRequest(region_id=REGION)
    ).body
    assert listed.total_count == 0

    tick(sim, 3)
    assert endpoint_attribute(account_a, endpoint_id).endpoint_id == endpoint_id
    assert seed.add_servers(account_a, net_a, group_id)

    set_delays(sim, ReadAfterCreate=0)
    other = seed.create_server_group(account_a, net_a, name="fresh-too")
    assert seed.add_servers(account_a, net_a, other)


def test_read_after_create_follows_the_delay_scale(freeze_clock):
    """The ReadAfterCreate delay is 0.5 s times the delay scale by default (cloudsim/scenario.py,
    cloudsim/store.py)."""
    with CloudSim(delay_scale=1) as sim:
        freeze_clock(sim)
        clients = clients_for(sim, *ACCOUNT_A)
        lb_id = seed.create_load_balancer(clients, discover(clients))
        refused = refusal(load_balancer, clients, lb_id)
        assert (refused.code, refused.status_code) == ("ResourceNotFound.loadBalancer", 404)
        tick(sim, 0.5)
        assert load_balancer(clients, lb_id).load_balancer_status == "Provisioning"


# -- the zones each product is offered in ---------------------------------------------------------

PRODUCT_ZONES = """
region: cn-hangzhou
zones:
  - {id: cn-hangzhou-g, name: Zone G}
  - {id: cn-hangzhou-h, name: Zone H, products: [nlb]}
  - {id: cn-hangzhou-j, name: Zone J, products: [privatelink]}
  - {id: cn-hangzhou-k, name: Zone K}
accounts:
  - name: A
    uid: "1111111111111111"
    access_keys:
      - {id: demo-a-key, secret: demo-a-secret}
    vpcs:
      - name: VPC2
        cidr: 192.168.0.0/16
        vswitches:
          - {name: vsw-g, cidr: 192.168.2.0/24, zone: cn-hangzhou-g}
          - {name: vsw-h, cidr: 192.168.3.0/24, zone: cn-hangzhou-h}
          - {name: vsw-j, cidr: 192.168.5.0/24, zone: cn-hangzhou-j}
          - {name: vsw-k, cidr: 192.168.4.0/24, zone: cn-hangzhou-k}
        security_groups:
          - {name: sg-vpc2}
"""


def test_each_product_is_offered_in_its_own_zones():
    """NLB and PrivateLink each support a subset of a region's zones, listed by each one's
    DescribeZones ("Queries zones in a region that supports NLB"; "Check the regions and zones
    that PrivateLink supports"): a load balancer in a zone without NLB is refused with
    UnauthorizedZone (HTTP 403), an endpoint service or endpoint in a zone without PrivateLink
    with EndpointServiceNotSupportedZone. Source: cloudsim/scenario.py (Zone.products),
    cloudsim/products/nlb/load_balancers.py, cloudsim/products/privatelink/account.py."""
    parsed = scenario.parse(PRODUCT_ZONES, "product-zones.yaml")
    with CloudSim(parsed, delay_scale=0) as sim:
        clients = clients_for(sim, *ACCOUNT_A)
        net = discover(clients)
        vsw = net.vswitches["VPC2"]
        pl_zones = clients.privatelink.describe_zones(
            pl_models.DescribeZonesRequest(region_id=REGION)
        ).body.zones.zone
        assert [z.zone_id for z in pl_zones] == ["cn-hangzhou-g", "cn-hangzhou-j", "cn-hangzhou-k"]
        nlb_zones = clients.nlb.describe_zones(
            nlb_models.DescribeZonesRequest(region_id=REGION)
        ).body.zones
        assert [z.zone_id for z in nlb_zones] == ["cn-hangzhou-g", "cn-hangzhou-h", "cn-hangzhou-k"]

        def create_lb(*zones: str) -> str:
            request = nlb_models.CreateLoadBalancerRequest(
                address_type="Intranet",
                vpc_id=net.vpcs["VPC2"],
                zone_mappings=[
                    nlb_models.CreateLoadBalancerRequestZoneMappings(
                        zone_id=zone, v_switch_id=vsw[zone]
                    )
                    for zone in zones
                ],
            )
            return clients.nlb.create_load_balancer(request).body.loadbalancer_id

        refused = refusal(create_lb, "cn-hangzhou-g", "cn-hangzhou-j")
        assert (refused.code, refused.status_code) == ("UnauthorizedZone", 403)
        assert "cn-hangzhou-j" in refused.message
        lb_id = create_lb("cn-hangzhou-g", "cn-hangzhou-h")

        def create_service(zone: str | None) -> str:
            request = pl_models.CreateVpcEndpointServiceRequest(
                service_resource_type="nlb",
                resource=[
                    pl_models.CreateVpcEndpointServiceRequestResource(
                        resource_id=lb_id, resource_type="nlb", zone_id=zone
                    )
                ],
                region_id=REGION,
            )
            return clients.privatelink.create_vpc_endpoint_service(request).body.service_id

        refused = refusal(create_service, None)  # all of the NLB's zones, H among them
        assert (refused.code, refused.status_code) == ("EndpointServiceNotSupportedZone", 400)
        assert "cn-hangzhou-h" in refused.message
        service_id = create_service("cn-hangzhou-g")

        def endpoint_in(zone: str) -> str:
            request = pl_models.CreateVpcEndpointRequest(
                vpc_id=net.vpcs["VPC2"],
                service_id=service_id,
                security_group_id=[net.security_groups["sg-vpc2"]],
                zone=[pl_models.CreateVpcEndpointRequestZone(zone_id=zone, v_switch_id=vsw[zone])],
                region_id=REGION,
            )
            return clients.privatelink.create_vpc_endpoint(request).body.endpoint_id

        refused = refusal(endpoint_in, "cn-hangzhou-h")
        assert refused.code == "EndpointServiceNotSupportedZone"
        assert endpoint_in("cn-hangzhou-g").startswith("ep-")


# -- activation -----------------------------------------------------------------------------------


def test_privatelink_must_be_activated_before_a_service_is_published(sim, account_a, net_a):
    """CheckProductOpen answers Success true for an activated account and NeedOpenProduct for one
    that is not; CreateVpcEndpointService needs the account activated (NeedOpenProduct);
    OpenPrivateLinkService activates it and refuses an account that already is (OrderOpend).
    Source: the API reference of each (cloudsim/products/privatelink/account.py, services.py)."""
    lb_id = seed.create_load_balancer(account_a, net_a)
    status, settings = control(sim, "POST", f"accounts/{UID_A}", {"privatelink_activated": False})
    assert (status, settings["privatelink_activated"]) == (200, False)

    refused = refusal(account_a.privatelink.check_product_open)
    assert (refused.code, refused.status_code) == ("NeedOpenProduct", 400)
    refused = refusal(seed.create_service, account_a, lb_id)
    assert refused.code == "NeedOpenProduct"

    order = account_a.privatelink.open_private_link_service(
        pl_models.OpenPrivateLinkServiceRequest()
    ).body
    assert order.order_id
    assert account_a.privatelink.check_product_open().body.success is True
    refused = refusal(
        account_a.privatelink.open_private_link_service, pl_models.OpenPrivateLinkServiceRequest()
    )
    assert refused.code == "OrderOpend"
    assert seed.create_service(account_a, lb_id).startswith("epsrv-")


# -- protection -----------------------------------------------------------------------------------


def test_deletion_protection_keeps_a_load_balancer(account_a, net_a):
    """UpdateLoadBalancerProtection turns deletion protection on and off; DeleteLoadBalancer
    refuses a protected load balancer (OperationDenied.DeletionProtectionEnabled). Source: the
    API reference and metadata of both (cloudsim/products/nlb/load_balancers.py)."""
    lb_id = seed.create_load_balancer(account_a, net_a)
    protect_load_balancer(account_a, lb_id, True)
    config_shown = load_balancer(account_a, lb_id).deletion_protection_config
    assert (config_shown.enabled, config_shown.reason) == (True, "production traffic")
    assert config_shown.enabled_time

    refused = refusal(delete_load_balancer, account_a, lb_id)
    assert (refused.code, refused.status_code) == ("OperationDenied.DeletionProtectionEnabled", 400)
    protect_load_balancer(account_a, lb_id, False)
    assert load_balancer(account_a, lb_id).deletion_protection_config.enabled is False
    assert delete_load_balancer(account_a, lb_id)


def test_a_protected_endpoint_answers_only_the_session_that_created_it(sim, account_a, net_a):
    """An endpoint created with ProtectedEnabled: "only the same user as at creation may modify
    or delete the endpoint through STS"; anybody else is refused with
    OperationDenied.EndpointProtected. Source: the API reference of CreateVpcEndpoint
    (cloudsim/products/privatelink/endpoints.py)."""
    published = seed.publish(account_a, net_a)

    def session(name: str) -> Clients:
        credentials = account_a.sts.assume_role(
            sts_models.AssumeRoleRequest(
                role_arn=f"acs:ram::{UID_A}:role/portal-provisioner",
                role_session_name=name,
                duration_seconds=900,
            )
        ).body.credentials
        return clients_for(
            sim,
            credentials.access_key_id,
            credentials.access_key_secret,
            credentials.security_token,
        )

    creator, other = session("creator"), session("someone-else")
    endpoint_id = create_endpoint(creator, net_a, published.service_id, protected_enabled=True)
    assert endpoint_attribute(account_a, endpoint_id).protected_enabled is True

    for stranger in (account_a, other):
        refused = refusal(remove_zone, stranger, endpoint_id, seed.ZONE_G)
        assert refused.code == "OperationDenied.EndpointProtected"
        refused = refusal(delete_endpoint, stranger, endpoint_id)
        assert refused.code == "OperationDenied.EndpointProtected"
    remove_zone(creator, endpoint_id, seed.ZONE_G)
    assert endpoint_zones(account_a, endpoint_id) == {seed.ZONE_K: "Wait"}

    # Without STS nobody matches: the account's own key made this one, and cannot change it.
    unreachable = create_endpoint(account_a, net_a, published.service_id, protected_enabled=True)
    refused = refusal(remove_zone, account_a, unreachable, seed.ZONE_G)
    assert refused.code == "OperationDenied.EndpointProtected"


# -- locks ----------------------------------------------------------------------------------------


def test_a_locked_load_balancer_shows_its_lock_and_is_not_deleted(sim, account_a, net_a):
    """A locked load balancer stays Active but its LoadBalancerBusinessStatus is Abnormal and its
    OperationLocks name the lock and reason (GetLoadBalancerAttribute's API reference);
    DeleteLoadBalancer refuses it (the metadata's OperationDenied.%s) unless it is
    ResidualLocked ("We recommend that you release the NLB instance", the NLB instance overview).
    Source: cloudsim/products/locks.py."""
    lb_id = seed.create_load_balancer(account_a, net_a)
    status, _ = control(sim, "POST", "locks", {"resource": lb_id, "lock": "SecurityLocked"})
    assert status == 200
    shown = load_balancer(account_a, lb_id)
    assert (shown.load_balancer_status, shown.load_balancer_business_status) == (
        "Active",
        "Abnormal",
    )
    assert [lock.lock_type for lock in shown.operation_locks] == ["SecurityLocked"]
    assert shown.operation_locks[0].lock_reason
    refused = refusal(delete_load_balancer, account_a, lb_id)
    assert (refused.code, refused.status_code) == ("OperationDenied.SecurityLocked", 400)

    assert control(sim, "DELETE", f"locks/{lb_id}", {})[0] == 200
    shown = load_balancer(account_a, lb_id)
    assert (shown.load_balancer_business_status, shown.operation_locks) == ("Normal", [])

    control(sim, "POST", "locks", {"resource": lb_id, "lock": "ResidualLocked"})
    assert delete_load_balancer(account_a, lb_id)


def test_a_locked_endpoint_refuses_changes(sim, account_a, net_a):
    """A financially locked endpoint's EndpointBusinessStatus is FinancialLocked
    (GetVpcEndpointAttribute's API reference) and it refuses the operations whose metadata lists
    EndpointLocked, RemoveZoneFromVpcEndpoint among them. Source: cloudsim/products/locks.py."""
    published = seed.publish(account_a, net_a)
    endpoint_id = create_endpoint(account_a, net_a, published.service_id)
    status, _ = control(sim, "POST", "locks", {"resource": endpoint_id, "lock": "FinancialLocked"})
    assert status == 200
    assert endpoint_attribute(account_a, endpoint_id).endpoint_business_status == (
        "FinancialLocked"
    )
    refused = refusal(remove_zone, account_a, endpoint_id, seed.ZONE_G)
    assert (refused.code, refused.status_code) == ("EndpointLocked", 400)

    assert control(sim, "DELETE", f"locks/{endpoint_id}", {})[0] == 200
    assert endpoint_attribute(account_a, endpoint_id).endpoint_business_status == "Normal"
    remove_zone(account_a, endpoint_id, seed.ZONE_G)


# -- backends' health and server groups -----------------------------------------------------------


def test_a_weight_0_server_is_unused_and_unchecked_ones_are_unavailable(account_a, net_a):
    """GetListenerHealthStatus lists a server of weight 0 as Unused ("the server's weight is
    0") and, once health checks are off, every server as Unavailable ("health checks are not
    enabled"). Source: its API reference (cloudsim/products/nlb/listeners.py)."""
    lb_id = seed.create_load_balancer(account_a, net_a)
    group_id = seed.create_server_group(account_a, net_a)
    ecs03, ecs04 = net_a.instances["ECS03"], net_a.instances["ECS04"]
    add_weighted(account_a, group_id, [(ecs03, 80, 0), (ecs04, 80, 100)])
    listener_id = seed.create_listener(account_a, lb_id, group_id)

    enabled, statuses = non_normal(account_a, listener_id)
    assert enabled is True
    assert statuses[(ecs03, 80)] == "Unused"
    assert statuses.get((ecs04, 80)) != "Unused"

    account_a.nlb.update_server_group_attribute(
        nlb_models.UpdateServerGroupAttributeRequest(
            server_group_id=group_id,
            health_check_config=nlb_models.UpdateServerGroupAttributeRequestHealthCheckConfig(
                health_check_enabled=False
            ),
        )
    )
    enabled, statuses = non_normal(account_a, listener_id)
    assert enabled is False
    assert statuses == {(ecs03, 80): "Unavailable", (ecs04, 80): "Unavailable"}


def test_preserving_the_client_ip_is_on_by_default(account_a, net_a):
    """CreateServerGroup's PreserveClientIpEnabled: "true (default)" for an IPv4 group. Source:
    its API reference (cloudsim/products/nlb/server_groups.py)."""
    default = seed.create_server_group(account_a, net_a, name="default-group")
    turned_off = account_a.nlb.create_server_group(
        nlb_models.CreateServerGroupRequest(
            server_group_name="no-client-ip",
            vpc_id=net_a.vpcs["VPC2"],
            preserve_client_ip_enabled=False,
        )
    ).body.server_group_id
    groups = account_a.nlb.list_server_groups(nlb_models.ListServerGroupsRequest()).body
    preserved = {g.server_group_id: g.preserve_client_ip_enabled for g in groups.server_groups}
    assert preserved == {default: True, turned_off: False}


# -- paging ---------------------------------------------------------------------------------------


def test_privatelink_lists_take_at_most_50_and_every_page_is_reachable(account_a, net_a):
    """PrivateLink's List… operations take MaxResults from 1 to 50, 50 by default, and page on
    with NextToken. Source: the SDK's models and the API reference
    (cloudsim/products/privatelink/common.py)."""
    published = seed.publish(account_a, net_a)
    made = [create_endpoint(account_a, net_a, published.service_id) for _ in range(3)]
    pl = account_a.privatelink

    refused = refusal(
        pl.list_vpc_endpoints, pl_models.ListVpcEndpointsRequest(max_results=51, region_id=REGION)
    )
    assert (refused.code, refused.status_code) == ("InvalidParameter", 400)
    assert "MaxResults" in refused.message
    refused = refusal(
        pl.list_vpc_endpoint_services,
        pl_models.ListVpcEndpointServicesRequest(max_results=51, region_id=REGION),
    )
    assert refused.code == "InvalidParameter"
    assert (
        pl.list_vpc_endpoints(pl_models.ListVpcEndpointsRequest(region_id=REGION)).body.max_results
        == 50
    )
    widest = pl.list_vpc_endpoints(
        pl_models.ListVpcEndpointsRequest(max_results=50, region_id=REGION)
    ).body
    assert ([e.endpoint_id for e in widest.endpoints], widest.next_token) == (made, "")

    seen, token = [], None
    for _ in range(10):
        page = pl.list_vpc_endpoints(
            pl_models.ListVpcEndpointsRequest(max_results=1, next_token=token, region_id=REGION)
        ).body
        assert len(page.endpoints) == 1
        seen.extend(e.endpoint_id for e in page.endpoints)
        token = page.next_token
        if not token:
            break
    assert seen == made


def test_nlb_lists_take_at_most_100_and_health_is_paged(sim, account_a, net_a):
    """NLB's List… operations take MaxResults from 1 to 100, 20 by default; so are the servers
    GetListenerHealthStatus lists (its API reference; the pinned SDK's request model has no
    MaxResults, so it is sent as is). Source: cloudsim/products/nlb/common.py, listeners.py."""
    refused = refusal(
        account_a.nlb.list_load_balancers, nlb_models.ListLoadBalancersRequest(max_results=101)
    )
    assert (refused.code, refused.status_code) == ("InvalidParameter", 400)
    listed = account_a.nlb.list_load_balancers(nlb_models.ListLoadBalancersRequest()).body
    assert listed.max_results == 20

    lb_id = seed.create_load_balancer(account_a, net_a)
    group_id = seed.create_server_group(account_a, net_a)
    ecs03 = net_a.instances["ECS03"]
    add_weighted(account_a, group_id, [(ecs03, port, 0) for port in (80, 81, 82)])
    listener_id = seed.create_listener(account_a, lb_id, group_id)

    def health_page(token: str | None) -> dict[str, Any]:
        query = {"ListenerId": listener_id, "MaxResults": "2"}
        if token:
            query["NextToken"] = token
        return raw_call(sim, NLB_VERSION, "GetListenerHealthStatus", query)

    def ports(body: dict[str, Any]) -> list[int]:
        servers = body["ListenerHealthStatus"][0]["ServerGroupInfos"][0]["NonNormalServers"]
        return [server["Port"] for server in servers]

    first = health_page(None)
    assert (ports(first), first["TotalCount"], first["MaxResults"]) == ([80, 81], 3, 2)
    second = health_page(first["NextToken"])
    assert (ports(second), second["NextToken"]) == ([82], "")
    with pytest.raises(ClientException) as refused_page:
        raw_call(
            sim,
            NLB_VERSION,
            "GetListenerHealthStatus",
            {"ListenerId": listener_id, "MaxResults": "101"},
        )
    assert refused_page.value.code == "InvalidParameter"


# -- rate limits ----------------------------------------------------------------------------------


def test_an_account_is_throttled_beyond_an_operations_documented_rate(
    sim, account_a, account_b, freeze_clock
):
    """At most so many calls of an operation per account in any period: NLB's reads 20 a second,
    PrivateLink's writes 200 a minute (the products' "API rate limits" pages, per region, API
    and main account), answered Throttling.User 400 beyond. Source: cloudsim/metadata/
    quotas.json, enforced in cloudsim/store.py; the clock frozen, so every call is in one
    period."""
    freeze_clock(sim)
    listing = nlb_models.ListLoadBalancersRequest()
    for _ in range(20):
        account_a.nlb.list_load_balancers(listing)
    refused = refusal(account_a.nlb.list_load_balancers, listing)
    assert (refused.code, refused.status_code) == ("Throttling.User", 400)
    account_b.nlb.list_load_balancers(listing)  # another account's calls are its own
    tick(sim, 1.0)
    account_a.nlb.list_load_balancers(listing)

    gone = pl_models.DeleteVpcEndpointRequest(endpoint_id="ep-nothing", region_id=REGION)
    for _ in range(200):
        assert refusal(account_a.privatelink.delete_vpc_endpoint, gone).code == "EndpointNotFound"
    refused = refusal(account_a.privatelink.delete_vpc_endpoint, gone)
    assert (refused.code, refused.status_code) == ("Throttling.User", 400)
    tick(sim, 30.0)  # still within the minute of the first 200
    assert refusal(account_a.privatelink.delete_vpc_endpoint, gone).code == "Throttling.User"
    tick(sim, 30.0)
    assert refusal(account_a.privatelink.delete_vpc_endpoint, gone).code == "EndpointNotFound"


# -- RAM policies and service-linked roles --------------------------------------------------------


def test_an_action_no_statement_allows_is_denied_by_ram(sim, ram_user_a, net_a):
    """An action is allowed when an Allow statement matches it (wildcards, case-insensitive)
    and no Deny does; otherwise RAM refuses with Forbidden.RAM, HTTP 403, its
    AccessDeniedDetail.AuthAction naming the action. Source: RAM's "Policy structure and syntax"
    and "Policy evaluation process" (cloudsim/ram.py); the refusal's body from RAM's
    access-denied troubleshooting guide (cloudsim/errors.py)."""
    lb_id = seed.create_load_balancer(ram_user_a, net_a)
    put_policy(sim, "portal-a-key", [{"Effect": "Allow", "Action": "NLB:list*", "Resource": "*"}])
    assert ram_user_a.nlb.list_load_balancers(
        nlb_models.ListLoadBalancersRequest()
    ).body.total_count
    refused = refusal(load_balancer, ram_user_a, lb_id)
    assert (refused.code, refused.status_code) == ("Forbidden.RAM", 403)
    assert refused.access_denied_detail["AuthAction"] == "nlb:GetLoadBalancerAttribute"
    assert refused.access_denied_detail["NoPermissionType"] == "ImplicitDeny"
    # Any identity may ask who it is.
    assert ram_user_a.sts.get_caller_identity().body.account_id == UID_A

    assert control(sim, "DELETE", "policies/portal-a-key", {})[0] == 200
    assert load_balancer(ram_user_a, lb_id).load_balancer_id == lb_id


def test_an_explicit_deny_wins_over_an_allow(sim, ram_user_a, net_a):
    """ "An explicit Deny wins" over any Allow (RAM's policy evaluation, cloudsim/ram.py)."""
    lb_id = seed.create_load_balancer(ram_user_a, net_a)
    put_policy(
        sim,
        "portal-a-key",
        [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": ["nlb:Delete*"], "Resource": "*"},
        ],
    )
    refused = refusal(delete_load_balancer, ram_user_a, lb_id)
    assert (refused.code, refused.status_code) == ("Forbidden.RAM", 403)
    assert refused.access_denied_detail["AuthAction"] == "nlb:DeleteLoadBalancer"
    assert refused.access_denied_detail["NoPermissionType"] == "ExplicitDeny"
    assert load_balancer(ram_user_a, lb_id).load_balancer_status == "Active"


def test_an_accounts_own_key_is_not_limited_by_ram(sim):
    """RAM limits an account's RAM users and roles, not the account itself: a policy for its
    own key (one without a user) is refused, by the control API and by a scenario."""
    status, body = control(
        sim, "PUT", "policies/demo-a-key", {"Version": "1", "Statement": [NLB_ONLY]}
    )
    assert (status, body["Code"]) == (400, "InvalidParameter")
    assert "not limit" in body["Message"]


def test_a_policy_cloudsim_cannot_judge_is_refused(sim):
    """cloudsim matches no resource ARNs and only the StringEquals condition: a policy using
    anything else is refused when it is given, not judged wrongly (cloudsim/ram.py)."""
    for statement in (
        {"Effect": "Allow", "Action": "*", "Resource": "acs:nlb:*:*:loadbalancer/nlb-x"},
        {"Effect": "Allow", "Action": "*", "Condition": {"IpAddress": {"acs:SourceIp": "1.1.1.1"}}},
        {"Effect": "Maybe", "Action": "*"},
    ):
        status, body = control(
            sim, "PUT", "policies/portal-a-key", {"Version": "1", "Statement": [statement]}
        )
        assert (status, body["Code"]) == (400, "InvalidParameter"), statement
    assert control(sim, "GET", "policies")[1] == {"policies": {}}


NLB_ONLY = {"Effect": "Allow", "Action": ["nlb:*", "vpc:*", "ecs:*"], "Resource": "*"}


def linked_role_statement(service: str) -> dict[str, Any]:
    """The statement of the system policy AliyunNLBFullAccess (cloudsim/ram.py)."""
    return {
        "Action": "ram:CreateServiceLinkedRole",
        "Resource": "*",
        "Effect": "Allow",
        "Condition": {"StringEquals": {"ram:ServiceName": service}},
    }


def test_the_first_load_balancer_creates_nlbs_service_linked_role_if_it_may(sim, ram_user_a, net_a):
    """The first CreateLoadBalancer of an account creates AliyunServiceRoleForNlb ("creating an
    NLB instance automatically creates the AliyunServiceRoleForNlb role") if its caller may:
    ram:CreateServiceLinkedRole with the condition ram:ServiceName = nlb.aliyuncs.com (the
    system policy AliyunNLBFullAccess); otherwise OperationDenied.ServiceLinkedRoleNotExist.
    Source: cloudsim/products/nlb/load_balancers.py, cloudsim/ram.py."""
    assert account_settings(sim, UID_A)["service_linked_roles"] == []
    put_policy(sim, "portal-a-key", [NLB_ONLY])
    refused = refusal(seed.create_load_balancer, ram_user_a, net_a)
    assert (refused.code, refused.status_code) == ("OperationDenied.ServiceLinkedRoleNotExist", 400)
    assert "ram:CreateServiceLinkedRole" in refused.message

    # Allowed for another service only: the condition does not hold for NLB.
    put_policy(sim, "portal-a-key", [NLB_ONLY, linked_role_statement("privatelink.aliyuncs.com")])
    refused = refusal(seed.create_load_balancer, ram_user_a, net_a)
    assert refused.code == "OperationDenied.ServiceLinkedRoleNotExist"
    assert account_settings(sim, UID_A)["service_linked_roles"] == []

    put_policy(sim, "portal-a-key", [NLB_ONLY, linked_role_statement("nlb.aliyuncs.com")])
    assert seed.create_load_balancer(ram_user_a, net_a).startswith("nlb-")
    assert account_settings(sim, UID_A)["service_linked_roles"] == ["nlb.aliyuncs.com"]

    # Once the role exists, creating more needs no permission on it.
    put_policy(sim, "portal-a-key", [NLB_ONLY])
    assert seed.create_load_balancer(ram_user_a, net_a).startswith("nlb-")


def test_the_first_endpoint_needs_privatelinks_service_linked_role(
    sim, account_a, ram_user_a, net_a
):
    """AliyunServiceRoleForPrivatelink is "created when you create an endpoint", by a caller that
    may (CheckServiceLinkRoleError otherwise). Source: cloudsim/products/privatelink/endpoints.py
    and the metadata of CreateVpcEndpoint."""
    published = seed.publish(account_a, net_a)
    everything_but_ram = {
        "Effect": "Allow",
        "Action": ["privatelink:*", "nlb:*", "vpc:*", "ecs:*"],
        "Resource": "*",
    }
    put_policy(sim, "portal-a-key", [everything_but_ram])
    refused = refusal(create_endpoint, ram_user_a, net_a, published.service_id)
    assert (refused.code, refused.status_code) == ("CheckServiceLinkRoleError", 400)

    statement = linked_role_statement("privatelink.aliyuncs.com")
    put_policy(sim, "portal-a-key", [everything_but_ram, statement])
    assert create_endpoint(ram_user_a, net_a, published.service_id).startswith("ep-")
    assert "privatelink.aliyuncs.com" in account_settings(sim, UID_A)["service_linked_roles"]


# -- codes as the metadata spells them ----------------------------------------------------------


def test_not_found_and_missing_codes_are_the_metadatas(account_a, net_a):
    """Codes as Alibaba's metadata spells them, not as one would guess: CreateVpcEndpointService
    on an unknown load balancer answers LoadBalancerNotFound; AddUserToVpcEndpointService needs
    UserId or UserARN (MissingParam.UserArn), not both (Mismatch.UserIdAndUserArn); NLB's
    not-found codes are HTTP 404 (ResourceNotFound.BackendServer, ResourceNotFound.listener).
    Source: cloudsim/metadata/privatelink.json and nlb.json
    (cloudsim/products/privatelink/services.py, cloudsim/products/nlb/common.py)."""
    published = seed.publish(account_a, net_a)
    refused = refusal(seed.create_service, account_a, "nlb-doesnotexist")
    assert (refused.code, refused.status_code) == ("LoadBalancerNotFound", 400)

    def add(who: dict[str, Any]) -> None:
        account_a.privatelink.add_user_to_vpc_endpoint_service(
            pl_models.AddUserToVpcEndpointServiceRequest(
                service_id=published.service_id, region_id=REGION, **who
            )
        )

    assert refusal(add, {}).code == "MissingParam.UserArn"
    both = {"user_id": int(UID_B), "user_arn": f"acs:ram:*:{UID_B}:*"}
    assert refusal(add, both).code == "Mismatch.UserIdAndUserArn"

    refused = refusal(
        account_a.nlb.remove_servers_from_server_group,
        nlb_models.RemoveServersFromServerGroupRequest(
            server_group_id=published.server_group_id,
            servers=[
                nlb_models.RemoveServersFromServerGroupRequestServers(
                    server_id=net_a.instances["ECS03"], server_type="Ecs", port=8080
                )
            ],
        ),
    )
    assert (refused.code, refused.status_code) == ("ResourceNotFound.BackendServer", 404)
    refused = refusal(
        account_a.nlb.get_listener_attribute,
        nlb_models.GetListenerAttributeRequest(listener_id="lsn-doesnotexist"),
    )
    assert (refused.code, refused.status_code) == ("ResourceNotFound.listener", 404)


# -- idempotence ----------------------------------------------------------------------------------


def test_an_nlb_client_token_reused_for_another_request_is_refused(account_a, net_a):
    """NLB refuses a ClientToken reused with other parameters (IdempotenceSignatureMismatch) and
    replays the first answer to the same request. Source: the NLB metadata
    (cloudsim/products/nlb/common.py); PrivateLink, which documents no such code, replays
    whatever the parameters (test_privatelink.py)."""

    def create(name: str) -> str:
        return account_a.nlb.create_server_group(
            nlb_models.CreateServerGroupRequest(
                server_group_name=name, vpc_id=net_a.vpcs["VPC2"], client_token="group-1"
            )
        ).body.server_group_id

    first = create("first-name")
    assert create("first-name") == first
    refused = refusal(create, "second-name")
    assert (refused.code, refused.status_code) == ("IdempotenceSignatureMismatch", 400)


# -- answers fit the SDK's models -----------------------------------------------------------------


def test_answers_carry_only_what_the_sdk_models_declare(sim, account_a, net_a):
    """An answer holds only the fields its SDK response model declares (a field the model lacks
    never reaches the portal): GetVpcEndpointAttribute has no Tags, ListVpcEndpointServices rows
    no Zones (GetVpcEndpointServiceAttribute has them), PrivateLink's DescribeZones nests its
    zones as Zones.Zone[]. Source: the SDK's models (cloudsim/contract.py)."""
    published = seed.publish(account_a, net_a)
    endpoint_id = create_endpoint(
        account_a,
        net_a,
        published.service_id,
        tag=[pl_models.CreateVpcEndpointRequestTag(key="team", value="apps")],
    )
    region = {"RegionId": REGION}

    attribute = raw_call(
        sim, PL_VERSION, "GetVpcEndpointAttribute", {"EndpointId": endpoint_id, **region}
    )
    assert attribute["EndpointId"] == endpoint_id
    assert "Tags" not in attribute
    listed = raw_call(sim, PL_VERSION, "ListVpcEndpoints", region)
    assert listed["Endpoints"][0]["Tags"] == [{"Key": "team", "Value": "apps"}]

    services = raw_call(sim, PL_VERSION, "ListVpcEndpointServices", region)["Services"]
    assert [s["ServiceId"] for s in services] == [published.service_id]
    assert "Zones" not in services[0]
    service = raw_call(
        sim,
        PL_VERSION,
        "GetVpcEndpointServiceAttribute",
        {"ServiceId": published.service_id, **region},
    )
    assert service["Zones"] == [seed.ZONE_G, seed.ZONE_K]

    zones = raw_call(sim, PL_VERSION, "DescribeZones", region)["Zones"]
    assert [z["ZoneId"] for z in zones["Zone"]] == [
        "cn-hangzhou-g",
        "cn-hangzhou-h",
        "cn-hangzhou-k",
    ]
    for action, body in (
        ("GetVpcEndpointAttribute", attribute),
        ("ListVpcEndpoints", listed),
        ("DescribeZones", {"Zones": zones}),
    ):
        assert contract.violations("privatelink", action, 200, body) == []


# -- the contract checker itself ------------------------------------------------------------------


def test_the_contract_checker_passes_a_body_that_fits_the_model():
    """cloudsim/contract.py: a body whose keys the model declares, with the model's types."""
    body = {
        "RequestId": "A1",
        "EndpointId": "ep-1",
        "Bandwidth": 3072,
        "ProtectedEnabled": False,
        "ZonePrivateIpAddressCount": 1,
    }
    assert contract.violations("privatelink", "GetVpcEndpointAttribute", 200, body) == []
    nested = {"Zones": {"Zone": [{"ZoneId": "cn-hangzhou-g", "LocalName": "G"}]}}
    assert contract.violations("privatelink", "DescribeZones", 200, nested) == []


def test_the_contract_checker_reports_a_field_the_model_lacks():
    """cloudsim/contract.py: a key the SDK's model does not declare, at any depth."""
    found = contract.violations(
        "privatelink", "GetVpcEndpointAttribute", 200, {"EndpointId": "ep-1", "Tags": []}
    )
    assert found == [
        "privatelink GetVpcEndpointAttribute: body.Tags: not a field of "
        "GetVpcEndpointAttributeResponseBody"
    ]
    rows = {"Services": [{"ServiceId": "epsrv-1", "Zones": ["cn-hangzhou-g"]}]}
    found = contract.violations("privatelink", "ListVpcEndpointServices", 200, rows)
    assert len(found) == 1
    assert "body.Services[0].Zones: not a field" in found[0]


def test_the_contract_checker_reports_a_wrong_type():
    """cloudsim/contract.py: a value of another type than the model's (a string for an int, a
    bool for an int, an object for a list, a flat list where the model nests)."""
    found = contract.violations(
        "privatelink", "GetVpcEndpointAttribute", 200, {"Bandwidth": "3072"}
    )
    assert found == ["privatelink GetVpcEndpointAttribute: body.Bandwidth: str '3072', not int"]
    assert contract.violations("privatelink", "GetVpcEndpointAttribute", 200, {"Bandwidth": True})
    assert contract.violations("nlb", "ListLoadBalancers", 200, {"LoadBalancers": {}})
    flat = {"Zones": [{"ZoneId": "cn-hangzhou-g"}]}
    assert contract.violations("privatelink", "DescribeZones", 200, flat)


def test_the_contract_checker_reports_an_undocumented_code():
    """cloudsim/contract.py and cloudsim/metadata: an error code, with its HTTP status, must be
    one the metadata documents for the operation (its own, the gateway's, or additions.json's)."""
    assert (
        contract.violations(
            "nlb", "DeleteLoadBalancer", 400, {"Code": "OperationDenied.ListenerExists"}
        )
        == []
    )  # the metadata's OperationDenied.%s
    assert (
        contract.violations(
            "nlb", "DeleteLoadBalancer", 404, {"Code": "ResourceNotFound.loadBalancer"}
        )
        == []
    )
    assert contract.violations("nlb", "DeleteLoadBalancer", 400, {"Code": "Forbidden.RAM"}) == [
        "nlb DeleteLoadBalancer: error 400 Forbidden.RAM is not documented for it"
    ]  # the gateway's code, but with 403
    assert contract.violations(
        "nlb", "DeleteLoadBalancer", 400, {"Code": "ResourceInUse.loadBalancer"}
    )
    assert contract.violations(
        "nlb", "DeleteLoadBalancer", 400, {"Code": "ResourceNotFound.loadBalancer"}
    )  # documented with 404
    assert (
        contract.violations(
            "privatelink",
            "EnableVpcEndpointConnection",
            400,
            {"Code": "ConcurrentCallNotSupported"},
        )
        == []
    )  # additions.json
    assert (
        contract.violations("privatelink", "ListVpcEndpoints", 400, {"Code": "MissingRegionId"})
        == []
    )
    assert contract.violations("nlb", "ListLoadBalancers", 400, {"Code": "MissingRegionId"})


def test_the_contract_log_writes_one_line_per_violation(tmp_path):
    """cloudsim/contract.py: ContractLog appends each violation as a JSON line; read_log reads
    them back in order (the suite's CLOUDSIM_CONTRACT_LOG)."""
    log = contract.ContractLog(tmp_path / "contract.log")
    log.check("privatelink", "GetVpcEndpointAttribute", 200, {"EndpointId": "ep-1"})
    assert contract.read_log(log.path) == []
    log.check("privatelink", "GetVpcEndpointAttribute", 200, {"Tags": [], "Bandwidth": "x"})
    log.check("nlb", "GetJobStatus", 404, {"Code": "ResourceNotFound.job"})
    found = contract.read_log(log.path)
    assert len(found) == 3
    assert found[-1] == "nlb GetJobStatus: error 404 ResourceNotFound.job is not documented for it"
    assert all(json.loads(line) for line in log.path.read_text().splitlines())
