"""cloudsim's rules as the cloud must show them: the same tests run against a real test account
(`make conformance` with its credentials; target.py) and against cloudsim (every `make test`).
A test that passes on cloudsim and fails on the real cloud shows where cloudsim is wrong; the
rules and their sources are in docs/cloud-api.md ("Rules and their sources").

Reads and DryRun calls prove what they can without creating anything; the tests that need real
resources take the `creating` fixture, which tags and deletes everything they make.
"""

from __future__ import annotations

from alibabacloud_tea_openapi.exceptions import AlibabaCloudException

from tests.conformance.target import Target, fake_id

# -- parameters and codes, by reads and DryRun ----------------------------------------------------


def test_privatelink_needs_region_id(target: Target):
    """Every PrivateLink operation requires RegionId (the metadata), and the SDK does not add
    it from the client's configuration: the gateway refuses its absence."""
    refused = target.refusal("privatelink", "ListVpcEndpoints", region=False)
    assert refused.code.startswith("Missing"), refused.code
    assert "RegionId" in (refused.code + str(refused.data))


def test_not_found_codes_as_the_metadata_spells_them(target: Target):
    """PrivateLink answers its not-found codes with HTTP 400, NLB with 404 and a capital B in
    loadBalancer (the metadata of each operation)."""
    cases = [
        ("privatelink", "GetVpcEndpointAttribute", {"EndpointId": fake_id("ep")},
         "EndpointNotFound", 400),
        ("privatelink", "GetVpcEndpointServiceAttribute", {"ServiceId": fake_id("epsrv")},
         "EndpointServiceNotFound", 400),
        ("privatelink", "ListVpcEndpointZones", {"EndpointId": fake_id("ep")},
         "EndpointNotFound", 400),
        ("nlb", "GetLoadBalancerAttribute", {"LoadBalancerId": fake_id("nlb")},
         "ResourceNotFound.loadBalancer", 404),
        ("nlb", "GetListenerAttribute", {"ListenerId": fake_id("lsn")},
         "ResourceNotFound.listener", 404),
    ]  # fmt: skip
    for product, action, params, code, status in cases:
        refused = target.refusal(product, action, **params)
        assert (refused.code, refused.status_code) == (code, status), action


def test_privatelink_lists_take_fifty_a_page(target: Target):
    """PrivateLink's MaxResults is 1 to 50 (the SDK's models, the API reference; the metadata's
    schema says 1,000: cloudsim takes the stricter)."""
    assert target.call("privatelink", "ListVpcEndpoints", MaxResults=50)["MaxResults"] == 50
    target.refusal("privatelink", "ListVpcEndpoints", MaxResults=51)


def test_nlb_lists_take_a_hundred_a_page(target: Target):
    """NLB's MaxResults is 1 to 100, default 20 (the SDK's models)."""
    assert target.call("nlb", "ListLoadBalancers")["MaxResults"] == 20
    target.refusal("nlb", "ListLoadBalancers", MaxResults=101)


def test_each_product_lists_the_zones_it_offers(target: Target):
    """PrivateLink's and NLB's DescribeZones each list a subset of the region's zones;
    PrivateLink nests them as Zones.Zone[] (the SDK's model), NLB as Zones[]."""
    region = {z["ZoneId"] for z in target.call("vpc", "DescribeZones")["Zones"]["Zone"]}
    privatelink = {
        z["ZoneId"] for z in target.call("privatelink", "DescribeZones")["Zones"]["Zone"]
    }
    nlb = {z["ZoneId"] for z in target.call("nlb", "DescribeZones")["Zones"]}
    assert privatelink and privatelink <= region
    assert nlb and nlb <= region


def test_check_product_open_says_true_or_refuses(target: Target):
    """CheckProductOpen answers Success true for an activated account ("the only value is
    true"), and NeedOpenProduct otherwise (its reference)."""
    try:
        assert target.call("privatelink", "CheckProductOpen", region=False)["Success"] is True
    except AlibabaCloudException as refused:
        assert refused.code == "NeedOpenProduct"


def test_a_dry_run_load_balancer_is_checked_and_not_made(target: Target, network):
    """DryRun answers DryRunOperation (HTTP 400) once every check passes (the metadata), and
    makes nothing."""
    before = target.call("nlb", "ListLoadBalancers", VpcIds=[target.vpc_id])["TotalCount"]
    refused = target.refusal(
        "nlb",
        "CreateLoadBalancer",
        AddressType="Intranet",
        VpcId=target.vpc_id,
        ZoneMappings=[{"ZoneId": zone, "VSwitchId": vsw} for zone, vsw in network["zones"]],
        DryRun=True,
    )
    assert (refused.code, refused.status_code) == ("DryRunOperation", 400)
    assert target.call("nlb", "ListLoadBalancers", VpcIds=[target.vpc_id])["TotalCount"] == before


def test_an_endpoint_to_no_service_is_refused(target: Target, network):
    """CreateVpcEndpoint to an endpoint service that does not exist: EndpointServiceNotFound."""
    zone, vswitch = network["zones"][0]
    refused = target.refusal(
        "privatelink",
        "CreateVpcEndpoint",
        VpcId=target.vpc_id,
        ServiceId=fake_id("epsrv"),
        SecurityGroupId=[network["security_group"]],
        Zone=[{"ZoneId": zone, "VSwitchId": vswitch}],
        DryRun=True,
    )
    assert refused.code == "EndpointServiceNotFound"


# -- with real resources: publish, connect, and tear down in the documented order ------------------


def publish(target: Target, network, made) -> dict:
    """Seed steps 1–4 in the test VPC, each waited for as the portal waits."""
    zones = network["zones"]
    nlb_id = made.add(
        "load_balancer",
        target.call(
            "nlb",
            "CreateLoadBalancer",
            AddressType="Intranet",
            VpcId=target.vpc_id,
            ZoneMappings=[{"ZoneId": zone, "VSwitchId": vsw} for zone, vsw in zones],
            LoadBalancerName="plp-conformance",
            Tag=target.tags(),
        )["LoadbalancerId"],
    )
    target.wait("the NLB Active", lambda: _lb_status(target, nlb_id) == "Active", 600)
    group_id = made.add(
        "server_group",
        target.call(
            "nlb",
            "CreateServerGroup",
            ServerGroupName="plp-conformance",
            VpcId=target.vpc_id,
            Protocol="TCP",
            Tag=target.tags(),
        )["ServerGroupId"],
    )
    target.wait("the group Available", lambda: _group_status(target, group_id) == "Available", 600)
    listener_id = made.add(
        "listener",
        target.call(
            "nlb",
            "CreateListener",
            LoadBalancerId=nlb_id,
            ServerGroupId=group_id,
            ListenerProtocol="TCP",
            ListenerPort=80,
            Tag=target.tags(),
        )["ListenerId"],
    )
    target.wait(
        "the listener Running", lambda: _listener_status(target, listener_id) == "Running", 600
    )
    service_id = made.add(
        "service",
        target.call(
            "privatelink",
            "CreateVpcEndpointService",
            ServiceResourceType="nlb",
            Resource=[{"ResourceId": nlb_id, "ResourceType": "nlb", "ZoneId": z} for z, _ in zones],
            AutoAcceptEnabled=False,
            Tag=target.tags(),
        )["ServiceId"],
    )
    target.wait("the service Active", lambda: _service_status(target, service_id) == "Active", 600)
    return {"nlb": nlb_id, "group": group_id, "listener": listener_id, "service": service_id}


def test_the_documented_order_of_teardown(target: Target, network, creating):
    """A waiting connection is Disconnected (the console guide); an endpoint with zones cannot
    be deleted (EndpointDependenceViolation), nor a service with resources
    (EndpointServiceDependenceViolation), nor a server group a listener uses
    (ResourceInUse.ServerGroup): zones first, one at a time, then the endpoint; resources
    detached, then the service; listener, server group, load balancer (each API reference)."""
    published = publish(target, network, creating)
    zone, vswitch = network["zones"][0]
    endpoint_id = creating.add(
        "endpoint",
        target.call(
            "privatelink",
            "CreateVpcEndpoint",
            VpcId=target.vpc_id,
            ServiceId=published["service"],
            SecurityGroupId=[network["security_group"]],
            Zone=[{"ZoneId": zone, "VSwitchId": vswitch}],
            Tag=target.tags(),
        )["EndpointId"],
    )
    endpoint = target.wait(
        "the endpoint Active", lambda: _active_endpoint(target, endpoint_id), 600
    )
    assert endpoint["ConnectionStatus"] == "Disconnected"

    refused = target.refusal("privatelink", "DeleteVpcEndpoint", EndpointId=endpoint_id)
    assert refused.code == "EndpointDependenceViolation"
    refused = target.refusal(
        "privatelink", "DeleteVpcEndpointService", ServiceId=published["service"]
    )
    assert refused.code in ("EndpointServiceDependenceViolation", "DeleteFailedDueToEndpointExist")
    refused = target.refusal("nlb", "DeleteServerGroup", ServerGroupId=published["group"])
    assert refused.code == "ResourceInUse.ServerGroup"
    # The clean-up then deletes everything in the documented order (cleanup.py); it fails the
    # test if the cloud refuses any step of it.


def _lb_status(target, nlb_id):
    try:
        return target.call("nlb", "GetLoadBalancerAttribute", LoadBalancerId=nlb_id)[
            "LoadBalancerStatus"
        ]
    except AlibabaCloudException as error:  # not yet readable right after the create
        if error.code == "ResourceNotFound.loadBalancer":
            return None
        raise


def _group_status(target, group_id):
    groups = target.call("nlb", "ListServerGroups", ServerGroupIds=[group_id]).get("ServerGroups")
    return groups[0]["ServerGroupStatus"] if groups else None


def _listener_status(target, listener_id):
    try:
        return target.call("nlb", "GetListenerAttribute", ListenerId=listener_id)["ListenerStatus"]
    except AlibabaCloudException as error:
        if error.code == "ResourceNotFound.listener":
            return None
        raise


def _service_status(target, service_id):
    try:
        return target.call("privatelink", "GetVpcEndpointServiceAttribute", ServiceId=service_id)[
            "ServiceStatus"
        ]
    except AlibabaCloudException as error:
        if error.code == "EndpointServiceNotFound":
            return None
        raise


def _active_endpoint(target, endpoint_id):
    try:
        endpoint = target.call("privatelink", "GetVpcEndpointAttribute", EndpointId=endpoint_id)
    except AlibabaCloudException as error:
        if error.code == "EndpointNotFound":
            return None
        raise
    return endpoint if endpoint["EndpointStatus"] == "Active" else None
