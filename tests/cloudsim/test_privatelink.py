"""PrivateLink: the whitelist, the zone rule, state machines, refusals, idempotency, paging."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from alibabacloud_privatelink20200415 import models as pl_models
from alibabacloud_tea_openapi.exceptions import ClientException

from cloudsim.server import CloudSim
from tests.cloudsim import seed
from tests.cloudsim.support import (
    ACCOUNT_A,
    REGION,
    UID_B,
    clients_for,
    control,
    discover,
)


def endpoint_attribute(clients, endpoint_id: str):
    return clients.privatelink.get_vpc_endpoint_attribute(
        pl_models.GetVpcEndpointAttributeRequest(endpoint_id=endpoint_id, region_id=REGION)
    ).body


def zone_statuses(clients, endpoint_id: str) -> list[str]:
    zones = clients.privatelink.list_vpc_endpoint_zones(
        pl_models.ListVpcEndpointZonesRequest(endpoint_id=endpoint_id, region_id=REGION)
    ).body.zones
    return [zone.zone_status for zone in zones]


def by_end_user(clients) -> list[str]:
    services = clients.privatelink.list_vpc_endpoint_services_by_end_user(
        pl_models.ListVpcEndpointServicesByEndUserRequest(region_id=REGION)
    ).body.services
    return [service.service_id for service in services]


def enable(clients, service_id: str, endpoint_id: str) -> None:
    clients.privatelink.enable_vpc_endpoint_connection(
        pl_models.EnableVpcEndpointConnectionRequest(
            service_id=service_id, endpoint_id=endpoint_id, region_id=REGION
        )
    )


def created_count(sim: CloudSim, kind: str) -> int:
    return control(sim, "GET", "stats")[1]["created"].get(kind, 0)


def test_another_account_needs_the_whitelist(sim, account_a, account_b, net_a, net_b):
    published = seed.publish(account_a, net_a)
    request = seed.endpoint_request(
        net_b, published.service_id, vpc="VPC3", security_group="sg-vpc3"
    )
    assert by_end_user(account_b) == []
    with pytest.raises(ClientException) as refused:
        account_b.privatelink.create_vpc_endpoint(request)
    assert refused.value.code == "EndpointServiceNotAuthorized"
    assert refused.value.status_code == 400
    assert created_count(sim, "vpcendpoint") == 0

    account_a.privatelink.add_user_to_vpc_endpoint_service(
        pl_models.AddUserToVpcEndpointServiceRequest(
            service_id=published.service_id, user_id=int(UID_B), region_id=REGION
        )
    )
    users = account_a.privatelink.list_vpc_endpoint_service_users(
        pl_models.ListVpcEndpointServiceUsersRequest(
            service_id=published.service_id, region_id=REGION
        )
    ).body
    assert [u.user_id for u in users.users] == [int(UID_B)]
    assert users.total_count == "1"
    assert by_end_user(account_b) == [published.service_id]

    endpoint = account_b.privatelink.create_vpc_endpoint(request).body
    queue = account_a.privatelink.list_vpc_endpoint_connections(
        pl_models.ListVpcEndpointConnectionsRequest(
            service_id=published.service_id, region_id=REGION
        )
    ).body.connections
    assert [(c.endpoint_id, c.endpoint_owner_id, c.resource_owner) for c in queue] == [
        (endpoint.endpoint_id, int(UID_B), False)
    ]
    enable(account_a, published.service_id, endpoint.endpoint_id)
    assert endpoint_attribute(account_b, endpoint.endpoint_id).connection_status == "Connected"
    status, address = control(sim, "GET", f"resolve?host={endpoint.endpoint_domain}&port=80")
    assert status == 200
    assert address["host"] == "127.0.0.1"

    # B's endpoint is B's: A cannot read it as a consumer, only see it as a connection.
    with pytest.raises(ClientException) as refused:
        endpoint_attribute(account_a, endpoint.endpoint_id)
    assert refused.value.code == "EndpointNotFound"

    account_a.privatelink.remove_user_from_vpc_endpoint_service(
        pl_models.RemoveUserFromVpcEndpointServiceRequest(
            service_id=published.service_id, user_id=int(UID_B), region_id=REGION
        )
    )
    with pytest.raises(ClientException) as refused:
        account_b.privatelink.create_vpc_endpoint(request)
    assert refused.value.code == "EndpointServiceNotAuthorized"


def test_a_user_arn_whitelists_the_account_too(account_a, account_b, net_a, net_b):
    published = seed.publish(account_a, net_a)
    account_a.privatelink.add_user_to_vpc_endpoint_service(
        pl_models.AddUserToVpcEndpointServiceRequest(
            service_id=published.service_id, user_arn=f"acs:ram:*:{UID_B}:*", region_id=REGION
        )
    )
    assert by_end_user(account_b) == [published.service_id]
    request = seed.endpoint_request(
        net_b, published.service_id, vpc="VPC3", security_group="sg-vpc3"
    )
    assert account_b.privatelink.create_vpc_endpoint(request).body.endpoint_id.startswith("ep-")


def test_the_zone_rule_refuses_zones_the_service_does_not_offer(sim, account_a, net_a):
    published = seed.publish(account_a, net_a)
    request = seed.endpoint_request(
        net_a, published.service_id, zones=(seed.ZONE_G, seed.ZONE_H, seed.ZONE_K)
    )
    with pytest.raises(ClientException) as refused:
        account_a.privatelink.create_vpc_endpoint(request)
    assert refused.value.code == "EndpointServiceNotSupportedZone"
    assert refused.value.status_code == 400
    assert "cn-hangzhou-h" in refused.value.message
    assert "it offers cn-hangzhou-g, cn-hangzhou-k" in refused.value.message
    assert created_count(sim, "vpcendpoint") == 0


def test_vswitches_and_security_groups_are_checked(account_a, net_a):
    published = seed.publish(account_a, net_a)
    pl = account_a.privatelink
    cases = [
        # a vSwitch of VPC2 named for VPC1
        (
            {"zone": [pl_models.CreateVpcEndpointRequestZone(
                zone_id=seed.ZONE_G, v_switch_id=net_a.vswitches["VPC2"][seed.ZONE_G])]},
            "VSwitchNotFound",
        ),
        # zone K's vSwitch named for zone G
        (
            {"zone": [pl_models.CreateVpcEndpointRequestZone(
                zone_id=seed.ZONE_G, v_switch_id=net_a.vswitches["VPC1"][seed.ZONE_K])]},
            "VSwitchNotFound",
        ),
        (
            {"zone": [pl_models.CreateVpcEndpointRequestZone(
                zone_id=seed.ZONE_G, v_switch_id="vsw-doesnotexist")]},
            "VSwitchNotFound",
        ),
        ({"security_group_id": [net_a.security_groups["sg-vpc2-default"]]},
         "SecurityGroupNotFound"),
        ({"security_group_id": ["sg-doesnotexist"]}, "SecurityGroupNotFound"),
        ({"security_group_id": []}, "EndpointMustContainSecurityGroup"),
        ({"zone": [pl_models.CreateVpcEndpointRequestZone(
            zone_id=zone, v_switch_id=net_a.vswitches["VPC1"][seed.ZONE_G])
            for zone in (seed.ZONE_G, seed.ZONE_G)]}, "EndpointZoneDuplicated"),
        ({"vpc_id": "vpc-doesnotexist"}, "VpcNotFound"),
        ({"service_id": "epsrv-doesnotexist"}, "EndpointServiceNotFound"),
    ]  # fmt: skip
    for change, code in cases:
        request = seed.endpoint_request(net_a, published.service_id)
        for key, value in change.items():
            setattr(request, key, value)
        with pytest.raises(ClientException) as refused:
            pl.create_vpc_endpoint(request)
        assert refused.value.code == code, (change, refused.value.message)


def test_missing_and_malformed_parameters_are_named(account_a, net_a):
    published = seed.publish(account_a, net_a)
    request = seed.endpoint_request(net_a, published.service_id)
    request.vpc_id = None
    with pytest.raises(ClientException) as refused:
        account_a.privatelink.create_vpc_endpoint(request)
    # The gateway's Missing{ParameterName} for what the metadata marks required.
    assert refused.value.code == "MissingVpcId"
    assert "VpcId is mandatory for this action." in refused.value.message

    request = seed.endpoint_request(net_a, published.service_id)
    request.zone = None
    with pytest.raises(ClientException) as refused:
        account_a.privatelink.create_vpc_endpoint(request)
    assert refused.value.code == "MissingParameter"
    assert "Zone.1.ZoneId" in refused.value.message

    with pytest.raises(ClientException) as refused:
        account_a.privatelink.list_vpc_endpoints(
            pl_models.ListVpcEndpointsRequest(max_results=0, region_id=REGION)
        )
    assert refused.value.code == "InvalidParameter"
    assert "MaxResults" in refused.value.message

    with pytest.raises(ClientException) as refused:
        account_a.privatelink.list_vpc_endpoints(
            pl_models.ListVpcEndpointsRequest(next_token="?", region_id=REGION)
        )
    assert refused.value.code == "InvalidParameter"
    assert "NextToken" in refused.value.message


def test_dry_run_checks_without_creating(sim, account_a, net_a):
    published = seed.publish(account_a, net_a)
    request = seed.endpoint_request(net_a, published.service_id, dry_run=True)
    with pytest.raises(ClientException) as refused:
        account_a.privatelink.create_vpc_endpoint(request)
    assert refused.value.code == "DryRunOperation"
    assert refused.value.status_code == 400
    assert created_count(sim, "vpcendpoint") == 0
    listed = account_a.privatelink.list_vpc_endpoints(
        pl_models.ListVpcEndpointsRequest(region_id=REGION)
    ).body
    assert listed.total_count == 0

    # A dry run that fails its checks answers the failure, not DryRunOperation.
    bad = seed.endpoint_request(net_a, published.service_id, zones=(seed.ZONE_H,), dry_run=True)
    with pytest.raises(ClientException) as refused:
        account_a.privatelink.create_vpc_endpoint(bad)
    assert refused.value.code == "EndpointServiceNotSupportedZone"


def test_a_repeated_client_token_returns_the_first_endpoint(sim, account_a, account_b, net_a):
    published = seed.publish(account_a, net_a)
    pl = account_a.privatelink
    first = pl.create_vpc_endpoint(
        seed.endpoint_request(net_a, published.service_id, client_token="request-42-step-5")
    ).body
    again = pl.create_vpc_endpoint(
        seed.endpoint_request(net_a, published.service_id, client_token="request-42-step-5")
    ).body
    assert again.endpoint_id == first.endpoint_id
    assert again.endpoint_domain == first.endpoint_domain
    assert again.request_id != first.request_id
    assert (
        pl.list_vpc_endpoints(pl_models.ListVpcEndpointsRequest(region_id=REGION)).body.total_count
        == 1
    )
    stats = control(sim, "GET", "stats")[1]
    assert stats["calls"]["CreateVpcEndpoint"] == 2
    assert stats["created"]["vpcendpoint"] == 1

    other = pl.create_vpc_endpoint(
        seed.endpoint_request(net_a, published.service_id, client_token="request-43-step-5")
    ).body
    assert other.endpoint_id != first.endpoint_id
    assert created_count(sim, "vpcendpoint") == 2


def test_concurrent_repeats_of_one_client_token_create_one_endpoint(sim, account_a, net_a):
    published = seed.publish(account_a, net_a)
    request = seed.endpoint_request(net_a, published.service_id, client_token="redelivered")

    def create(_: int) -> str:
        client = clients_for(sim, *ACCOUNT_A).privatelink
        return client.create_vpc_endpoint(request).body.endpoint_id

    with ThreadPoolExecutor(max_workers=8) as pool:
        endpoint_ids = set(pool.map(create, range(16)))
    assert len(endpoint_ids) == 1
    assert created_count(sim, "vpcendpoint") == 1


def test_statuses_move_with_the_clock(freeze_clock):
    # Real delays (scale 1), stepped through with the emulator clock instead of sleeping.
    with CloudSim(delay_scale=1) as sim:
        freeze_clock(sim)  # only the ticks move time: a slow machine cannot finish a delay early
        # Reads find what was just created (test_documented_rules.py tests ReadAfterCreate).
        control(sim, "POST", "delays", {"delays": {"ReadAfterCreate": 0}})
        clients = clients_for(sim, *ACCOUNT_A)
        net = discover(clients)
        pl = clients.privatelink

        def tick(seconds: float) -> None:
            assert control(sim, "POST", "clock", {"advance": seconds})[0] == 200

        lb_id = seed.create_load_balancer(clients, net)
        tick(2.0)
        service_id = seed.create_service(clients, lb_id)
        service = pl.get_vpc_endpoint_service_attribute(
            pl_models.GetVpcEndpointServiceAttributeRequest(service_id=service_id, region_id=REGION)
        ).body
        assert service.service_status == "Creating"
        tick(1.0)
        endpoint_id = pl.create_vpc_endpoint(
            seed.endpoint_request(net, service_id)
        ).body.endpoint_id
        attribute = endpoint_attribute(clients, endpoint_id)
        assert (attribute.endpoint_status, attribute.connection_status) == (
            "Creating",
            "Disconnected",
        )
        assert zone_statuses(clients, endpoint_id) == ["Creating", "Creating"]

        with pytest.raises(ClientException) as refused:
            enable(clients, service_id, endpoint_id)
        assert refused.value.code == "EndpointOperationDenied"

        tick(2.0)
        attribute = endpoint_attribute(clients, endpoint_id)
        # Waiting for the provider: Disconnected, its zones Wait.
        assert (attribute.endpoint_status, attribute.connection_status) == (
            "Active",
            "Disconnected",
        )
        assert zone_statuses(clients, endpoint_id) == ["Wait", "Wait"]

        enable(clients, service_id, endpoint_id)
        assert endpoint_attribute(clients, endpoint_id).connection_status == "Connecting"
        assert zone_statuses(clients, endpoint_id) == ["Connecting", "Connecting"]
        tick(1.5)
        assert endpoint_attribute(clients, endpoint_id).connection_status == "Connected"
        assert zone_statuses(clients, endpoint_id) == ["Connected", "Connected"]

        with pytest.raises(ClientException) as refused:
            pl.delete_vpc_endpoint_service(
                pl_models.DeleteVpcEndpointServiceRequest(service_id=service_id, region_id=REGION)
            )
        assert refused.value.code == "EndpointServiceConnectionDependence"

        pl.disable_vpc_endpoint_connection(
            pl_models.DisableVpcEndpointConnectionRequest(
                service_id=service_id, endpoint_id=endpoint_id, region_id=REGION
            )
        )
        assert endpoint_attribute(clients, endpoint_id).connection_status == "Disconnecting"
        tick(1.0)
        assert endpoint_attribute(clients, endpoint_id).connection_status == "Disconnected"
        assert zone_statuses(clients, endpoint_id) == ["Disconnected", "Disconnected"]

        # Zones first, one at a time (the endpoint is Pending while one goes), then the endpoint.
        for zone in (seed.ZONE_G, seed.ZONE_K):
            pl.remove_zone_from_vpc_endpoint(
                pl_models.RemoveZoneFromVpcEndpointRequest(
                    endpoint_id=endpoint_id, zone_id=zone, region_id=REGION
                )
            )
            assert endpoint_attribute(clients, endpoint_id).endpoint_status == "Pending"
            tick(1.0)
        assert zone_statuses(clients, endpoint_id) == []
        pl.delete_vpc_endpoint(
            pl_models.DeleteVpcEndpointRequest(endpoint_id=endpoint_id, region_id=REGION)
        )
        assert endpoint_attribute(clients, endpoint_id).endpoint_status == "Deleting"
        tick(1.5)
        with pytest.raises(ClientException) as refused:
            endpoint_attribute(clients, endpoint_id)
        assert refused.value.code == "EndpointNotFound"

        # The service's resource first, then the service.
        pl.detach_resource_from_vpc_endpoint_service(
            pl_models.DetachResourceFromVpcEndpointServiceRequest(
                service_id=service_id, resource_id=lb_id, resource_type="nlb", region_id=REGION
            )
        )
        tick(0.5)
        pl.delete_vpc_endpoint_service(
            pl_models.DeleteVpcEndpointServiceRequest(service_id=service_id, region_id=REGION)
        )
        assert control(sim, "POST", "fast-forward")[1]["applied"] >= 1
        with pytest.raises(ClientException) as refused:
            pl.get_vpc_endpoint_service_attribute(
                pl_models.GetVpcEndpointServiceAttributeRequest(
                    service_id=service_id, region_id=REGION
                )
            )
        assert refused.value.code == "EndpointServiceNotFound"


def test_auto_accept_connects_without_a_provider_call(account_a, net_a):
    published = seed.publish(account_a, net_a, auto_accept=True)
    endpoint = account_a.privatelink.create_vpc_endpoint(
        seed.endpoint_request(net_a, published.service_id)
    ).body
    assert endpoint_attribute(account_a, endpoint.endpoint_id).connection_status == "Connected"


def test_service_operations_wait_for_an_active_service(freeze_clock):
    with CloudSim(delay_scale=1) as sim:
        freeze_clock(sim)  # the service's 1 s creation must not run out on a slow machine
        control(sim, "POST", "delays", {"delays": {"ReadAfterCreate": 0}})
        clients = clients_for(sim, *ACCOUNT_A)
        net = discover(clients)
        lb_id = seed.create_load_balancer(clients, net)
        control(sim, "POST", "fast-forward")
        service_id = seed.create_service(clients, lb_id)
        with pytest.raises(ClientException) as refused:
            clients.privatelink.add_user_to_vpc_endpoint_service(
                pl_models.AddUserToVpcEndpointServiceRequest(
                    service_id=service_id, user_id=int(UID_B), region_id=REGION
                )
            )
        assert refused.value.code == "EndpointServiceOperationDenied"


def test_listing_pages_and_filters(account_a, net_a):
    published = seed.publish(account_a, net_a)
    pl = account_a.privatelink
    made = []
    for number in range(5):
        request = seed.endpoint_request(net_a, published.service_id)
        request.endpoint_name = f"ep-{number}"
        request.tag = [pl_models.CreateVpcEndpointRequestTag(key="index", value=str(number % 2))]
        made.append(pl.create_vpc_endpoint(request).body.endpoint_id)

    seen, token, pages = [], None, 0
    while True:
        page = pl.list_vpc_endpoints(
            pl_models.ListVpcEndpointsRequest(max_results=2, next_token=token, region_id=REGION)
        ).body
        assert page.total_count == 5
        assert len(page.endpoints) <= 2
        seen.extend(e.endpoint_id for e in page.endpoints)
        pages += 1
        token = page.next_token
        if not token:
            break
    assert pages == 3
    assert seen == made

    named = pl.list_vpc_endpoints(
        pl_models.ListVpcEndpointsRequest(endpoint_name="ep-3", region_id=REGION)
    ).body
    assert [e.endpoint_id for e in named.endpoints] == [made[3]]
    tagged = pl.list_vpc_endpoints(
        pl_models.ListVpcEndpointsRequest(
            tag=[pl_models.ListVpcEndpointsRequestTag(key="index", value="1")], region_id=REGION
        )
    ).body
    assert [e.endpoint_id for e in tagged.endpoints] == [made[1], made[3]]
    pending = pl.list_vpc_endpoints(
        pl_models.ListVpcEndpointsRequest(connection_status="Connected", region_id=REGION)
    ).body
    assert pending.total_count == 0


def test_tags_through_tag_resources(account_a, net_a):
    published = seed.publish(account_a, net_a)
    pl = account_a.privatelink
    pl.tag_resources(
        pl_models.TagResourcesRequest(
            resource_type="VpcEndpointService",
            resource_id=[published.service_id],
            tag=[pl_models.TagResourcesRequestTag(key="portal-service", value="nginx-hangzhou")],
            region_id=REGION,
        )
    )
    listed = pl.list_tag_resources(
        pl_models.ListTagResourcesRequest(
            resource_type="VpcEndpointService", resource_id=[published.service_id], region_id=REGION
        )
    ).body.tag_resources
    assert [(t.resource_id, t.tag_key, t.tag_value) for t in listed] == [
        (published.service_id, "portal-service", "nginx-hangzhou")
    ]
    services = pl.list_vpc_endpoint_services(
        pl_models.ListVpcEndpointServicesRequest(
            tag=[
                pl_models.ListVpcEndpointServicesRequestTag(
                    key="portal-service", value="nginx-hangzhou"
                )
            ],
            region_id=REGION,
        )
    ).body.services
    assert [s.service_id for s in services] == [published.service_id]
    with pytest.raises(ClientException) as refused:
        pl.tag_resources(
            pl_models.TagResourcesRequest(
                resource_type="VpcEndpoint",
                resource_id=["ep-doesnotexist"],
                tag=[pl_models.TagResourcesRequestTag(key="k", value="v")],
                region_id=REGION,
            )
        )
    # The code PrivateLink's metadata documents for TagResources.
    assert refused.value.code == "InvalidResourceId.NotFound"

    # 20 tags at most per resource; the 21st is refused with PrivateLink's own code.
    def tag(count: int, prefix: str) -> None:
        pl.tag_resources(
            pl_models.TagResourcesRequest(
                resource_type="VpcEndpointService",
                resource_id=[published.service_id],
                tag=[
                    pl_models.TagResourcesRequestTag(key=f"{prefix}{n}", value="v")
                    for n in range(count)
                ],
                region_id=REGION,
            )
        )

    tag(19, "bulk-")  # 20 with portal-service
    with pytest.raises(ClientException) as refused:
        tag(1, "one-more-")
    assert refused.value.code == "QuotaExceed.TagsPerResource"


def test_a_service_owner_sees_its_service_and_connections_only(account_a, account_b, net_a):
    published = seed.publish(account_a, net_a)
    assert by_end_user(account_a) == [published.service_id]
    with pytest.raises(ClientException) as refused:
        account_b.privatelink.list_vpc_endpoint_connections(
            pl_models.ListVpcEndpointConnectionsRequest(
                service_id=published.service_id, region_id=REGION
            )
        )
    assert refused.value.code == "EndpointServiceNotFound"


def service_status(clients, service_id: str) -> str:
    return clients.privatelink.get_vpc_endpoint_service_attribute(
        pl_models.GetVpcEndpointServiceAttributeRequest(service_id=service_id, region_id=REGION)
    ).body.service_status


def test_service_changes_go_through_pending(sim, account_a, net_a, monkeypatch, freeze_clock):
    published = seed.publish(account_a, net_a)
    other_lb = seed.create_load_balancer(account_a, net_a)
    monkeypatch.setattr(sim.store, "delay_scale", 1.0)
    freeze_clock(sim)  # after a 0.4 s advance only 0.1 s is left: real time must not take it
    pl = account_a.privatelink
    changes = [
        lambda: pl.update_vpc_endpoint_service_attribute(
            pl_models.UpdateVpcEndpointServiceAttributeRequest(
                service_id=published.service_id, service_description="changed", region_id=REGION
            )
        ),
        lambda: pl.detach_resource_from_vpc_endpoint_service(
            pl_models.DetachResourceFromVpcEndpointServiceRequest(
                service_id=published.service_id,
                resource_id=published.load_balancer_id,
                resource_type="nlb",
                zone_id=seed.ZONE_K,
                region_id=REGION,
            )
        ),
        lambda: pl.attach_resource_to_vpc_endpoint_service(
            pl_models.AttachResourceToVpcEndpointServiceRequest(
                service_id=published.service_id,
                resource_id=other_lb,
                resource_type="nlb",
                zone_id=seed.ZONE_K,
                region_id=REGION,
            )
        ),
    ]
    for change in changes:
        change()
        assert service_status(account_a, published.service_id) == "Pending"
        control(sim, "POST", "clock", {"advance": 0.4})
        assert service_status(account_a, published.service_id) == "Pending"
        control(sim, "POST", "clock", {"advance": 0.2})  # every delay here is 0.5 s
        assert service_status(account_a, published.service_id) == "Active"


def test_endpoint_addresses_and_user_ids_are_checked(account_a, net_a):
    published = seed.publish(account_a, net_a)
    request = seed.endpoint_request(net_a, published.service_id, zones=(seed.ZONE_G,))
    request.zone[0].ip = "not-an-ip"
    with pytest.raises(ClientException) as refused:
        account_a.privatelink.create_vpc_endpoint(request)
    assert refused.value.code == "InvalidParameter"
    assert "Zone.1.ip" in refused.value.message
    # The vSwitch's network and broadcast addresses, and one outside it: EniIpUnavailable.
    for address in ("10.0.23.0", "10.0.23.255", "192.168.2.9"):
        request = seed.endpoint_request(net_a, published.service_id, zones=(seed.ZONE_G,))
        request.zone[0].ip = address
        with pytest.raises(ClientException) as refused:
            account_a.privatelink.create_vpc_endpoint(request)
        assert refused.value.code == "EniIpUnavailable", address
        assert address in refused.value.message
    request = seed.endpoint_request(net_a, published.service_id, zones=(seed.ZONE_G,))
    request.zone[0].ip = "10.0.23.252"
    account_a.privatelink.create_vpc_endpoint(request)

    # "²" is a digit to str.isdigit(), but no number to int().
    with pytest.raises(ClientException) as refused:
        account_a.privatelink.add_user_to_vpc_endpoint_service(
            pl_models.AddUserToVpcEndpointServiceRequest(
                service_id=published.service_id, region_id=REGION
            ).from_map({"ServiceId": published.service_id, "UserId": "²"})
        )
    assert refused.value.code == "InvalidParameter"
    assert "UserId" in refused.value.message
    users = account_a.privatelink.list_vpc_endpoint_service_users(
        pl_models.ListVpcEndpointServiceUsersRequest(
            service_id=published.service_id, region_id=REGION
        )
    ).body
    assert users.users == []


def test_a_client_token_with_other_parameters_replays_the_first_answer(sim, account_a, net_a):
    """PrivateLink documents no code for a ClientToken reused with other parameters (NLB's
    IdempotenceSignatureMismatch has no PrivateLink counterpart in the metadata): the first
    answer is replayed whatever the parameters (cloudsim/products/base.py)."""
    published = seed.publish(account_a, net_a)
    pl = account_a.privatelink
    first = pl.create_vpc_endpoint(
        seed.endpoint_request(net_a, published.service_id, client_token="step-5")
    ).body
    changed = seed.endpoint_request(net_a, published.service_id, client_token="step-5")
    changed.endpoint_name = "another-name"
    assert pl.create_vpc_endpoint(changed).body.endpoint_id == first.endpoint_id
    assert created_count(sim, "vpcendpoint") == 1
    assert endpoint_attribute(account_a, first.endpoint_id).endpoint_name == "ep-nginx"
    # The identical request is a replay too (signature, nonce and timestamp differ each time).
    again = pl.create_vpc_endpoint(
        seed.endpoint_request(net_a, published.service_id, client_token="step-5")
    ).body
    assert again.endpoint_id == first.endpoint_id


def test_client_tokens_are_remembered_for_a_day(sim, account_a, net_a):
    published = seed.publish(account_a, net_a)
    request = seed.endpoint_request(net_a, published.service_id, client_token="daily")
    first = account_a.privatelink.create_vpc_endpoint(request).body.endpoint_id
    control(sim, "POST", "clock", {"advance": 23 * 3600})
    assert account_a.privatelink.create_vpc_endpoint(request).body.endpoint_id == first
    control(sim, "POST", "clock", {"advance": 3600 + 60})
    assert account_a.privatelink.create_vpc_endpoint(request).body.endpoint_id != first
    assert created_count(sim, "vpcendpoint") == 2
