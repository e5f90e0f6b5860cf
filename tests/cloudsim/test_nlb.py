"""NLB: statuses and jobs, dependency and state refusals, input checks, tags and paging."""

from __future__ import annotations

import socket
import threading

import pytest
from alibabacloud_nlb20220430 import models as nlb_models
from alibabacloud_privatelink20200415 import models as pl_models
from alibabacloud_tea_openapi.exceptions import ClientException

from cloudsim import dataplane
from cloudsim.server import CloudSim
from tests.cloudsim import seed
from tests.cloudsim.support import ACCOUNT_A, REGION, clients_for, control, discover


def lb_status(clients, lb_id: str) -> str:
    return clients.nlb.get_load_balancer_attribute(
        nlb_models.GetLoadBalancerAttributeRequest(load_balancer_id=lb_id)
    ).body.load_balancer_status


def job_status(clients, job_id: str) -> str:
    return clients.nlb.get_job_status(nlb_models.GetJobStatusRequest(job_id=job_id)).body.status


def group_status(clients, group_id: str) -> str:
    groups = clients.nlb.list_server_groups(
        nlb_models.ListServerGroupsRequest(server_group_ids=[group_id])
    ).body.server_groups
    return groups[0].server_group_status


def test_statuses_and_jobs_follow_the_delays(freeze_clock):
    with CloudSim(delay_scale=1) as sim:
        freeze_clock(sim)  # only the ticks move time: a slow machine cannot finish a delay early
        # Reads find what was just created (test_documented_rules.py tests ReadAfterCreate).
        control(sim, "POST", "delays", {"delays": {"ReadAfterCreate": 0}})
        clients = clients_for(sim, *ACCOUNT_A)
        net = discover(clients)

        def tick(seconds: float) -> None:
            control(sim, "POST", "clock", {"advance": seconds})

        lb_id = seed.create_load_balancer(clients, net)
        assert lb_status(clients, lb_id) == "Provisioning"
        group_id = seed.create_server_group(clients, net)
        assert group_status(clients, group_id) == "Creating"
        with pytest.raises(ClientException) as refused:
            seed.add_servers(clients, net, group_id)
        assert refused.value.code == "IncorrectStatus.serverGroup"
        with pytest.raises(ClientException) as refused:
            seed.create_listener(clients, lb_id, group_id)
        assert refused.value.code == "IncorrectStatus.loadbalancer"

        tick(2.0)
        assert lb_status(clients, lb_id) == "Active"
        assert group_status(clients, group_id) == "Available"
        job = seed.add_servers(clients, net, group_id)
        assert job_status(clients, job) == "Processing"
        assert group_status(clients, group_id) == "Configuring"
        servers = clients.nlb.list_server_group_servers(
            nlb_models.ListServerGroupServersRequest(server_group_id=group_id)
        ).body.servers
        assert {s.status for s in servers} == {"Adding"}
        tick(1.0)
        assert job_status(clients, job) == "Succeeded"
        assert group_status(clients, group_id) == "Available"

        listener_id = seed.create_listener(clients, lb_id, group_id)
        listener = clients.nlb.get_listener_attribute(
            nlb_models.GetListenerAttributeRequest(listener_id=listener_id)
        ).body
        assert listener.listener_status == "Provisioning"
        tick(1.0)
        stop_job = clients.nlb.stop_listener(
            nlb_models.StopListenerRequest(listener_id=listener_id)
        ).body.job_id
        assert job_status(clients, stop_job) == "Processing"
        assert control(sim, "POST", "fast-forward")[1]["applied"] >= 2
        listener = clients.nlb.get_listener_attribute(
            nlb_models.GetListenerAttributeRequest(listener_id=listener_id)
        ).body
        assert listener.listener_status == "Stopped"
        assert job_status(clients, stop_job) == "Succeeded"


def test_dependencies_refuse_deletion_in_order(account_a, net_a):
    published = seed.publish(account_a, net_a)
    nlb = account_a.nlb
    with pytest.raises(ClientException) as refused:
        nlb.delete_server_group(
            nlb_models.DeleteServerGroupRequest(server_group_id=published.server_group_id)
        )
    assert refused.value.code == "ResourceInUse.ServerGroup"
    assert published.listener_id in refused.value.message
    with pytest.raises(ClientException) as refused:
        nlb.delete_load_balancer(
            nlb_models.DeleteLoadBalancerRequest(load_balancer_id=published.load_balancer_id)
        )
    assert refused.value.code == "OperationDenied.ListenerExists"
    assert published.listener_id in refused.value.message

    nlb.delete_listener(nlb_models.DeleteListenerRequest(listener_id=published.listener_id))
    nlb.delete_server_group(
        nlb_models.DeleteServerGroupRequest(server_group_id=published.server_group_id)
    )
    # Still the endpoint service's resource.
    with pytest.raises(ClientException) as refused:
        nlb.delete_load_balancer(
            nlb_models.DeleteLoadBalancerRequest(load_balancer_id=published.load_balancer_id)
        )
    assert refused.value.code == "OperationDenied.AssociatedWithEndpointService"
    assert published.service_id in refused.value.message

    # The service goes once its resources are detached (all of the NLB's zones at once).
    account_a.privatelink.detach_resource_from_vpc_endpoint_service(
        pl_models.DetachResourceFromVpcEndpointServiceRequest(
            service_id=published.service_id,
            resource_id=published.load_balancer_id,
            resource_type="nlb",
            region_id=REGION,
        )
    )
    account_a.privatelink.delete_vpc_endpoint_service(
        pl_models.DeleteVpcEndpointServiceRequest(service_id=published.service_id, region_id=REGION)
    )
    job = nlb.delete_load_balancer(
        nlb_models.DeleteLoadBalancerRequest(load_balancer_id=published.load_balancer_id)
    ).body.job_id
    assert job_status(account_a, job) == "Succeeded"
    with pytest.raises(ClientException) as refused:
        lb_status(account_a, published.load_balancer_id)
    assert refused.value.code == "ResourceNotFound.loadBalancer"
    with pytest.raises(ClientException) as refused:
        nlb.get_listener_attribute(
            nlb_models.GetListenerAttributeRequest(listener_id=published.listener_id)
        )
    assert refused.value.code == "ResourceNotFound.listener"


def mappings(net, pairs):
    return [
        nlb_models.CreateLoadBalancerRequestZoneMappings(zone_id=zone, v_switch_id=vsw)
        for zone, vsw in pairs
    ]


def test_load_balancer_inputs_are_checked(account_a, net_a):
    vpc2 = net_a.vswitches["VPC2"]
    vpc1 = net_a.vswitches["VPC1"]
    g, k = seed.ZONE_G, seed.ZONE_K

    def zones(*pairs):
        return {"zone_mappings": mappings(net_a, pairs)}

    cases = [
        (zones((g, vpc1[g]), (k, vpc2[k])), ("ResourceNotFound.VSwitch", 404)),
        (zones((g, vpc2[k]), (k, vpc2[g])), ("Mismatch.ZoneIdAndVswitchId", 400)),
        (zones((g, "vsw-nothere"), (k, vpc2[k])), ("ResourceNotFound.VSwitch", 404)),
        (zones((g, vpc2[g])), ("InvalidZones", 400)),
        (zones((g, vpc2[g]), (g, vpc2[g])), ("OperationFailed.DuplicateZones.", 400)),
        (zones((g, vpc2[g]), ("cn-hangzhou-z", vpc2[k])), ("UnauthorizedZone", 403)),
        ({"vpc_id": "vpc-nothere"}, ("ResourceNotFound.Vpc", 404)),
        ({"address_type": "Outernet"}, ("InvalidParameter", 400)),
        ({"address_type": None}, ("MissingAddressType", 400)),
    ]
    for change, (code, status) in cases:
        request = nlb_models.CreateLoadBalancerRequest(
            address_type="Intranet",
            vpc_id=net_a.vpcs["VPC2"],
            zone_mappings=mappings(
                net_a, [(seed.ZONE_G, vpc2[seed.ZONE_G]), (seed.ZONE_K, vpc2[seed.ZONE_K])]
            ),
        )
        for key, value in change.items():
            setattr(request, key, value)
        with pytest.raises(ClientException) as refused:
            account_a.nlb.create_load_balancer(request)
        assert refused.value.code == code, (change, refused.value.message)
        assert refused.value.status_code == status, (change, code)
    assert (
        account_a.nlb.list_load_balancers(nlb_models.ListLoadBalancersRequest()).body.total_count
        == 0
    )


def test_a_chosen_private_address_is_used_once(account_a, net_a):
    lb_id = seed.create_load_balancer(account_a, net_a, zone_g_address="192.168.2.10")
    lb = account_a.nlb.get_load_balancer_attribute(
        nlb_models.GetLoadBalancerAttributeRequest(load_balancer_id=lb_id)
    ).body
    addresses = {
        z.zone_id: z.load_balancer_addresses[0].private_ipv_4address for z in lb.zone_mappings
    }
    assert addresses[seed.ZONE_G] == "192.168.2.10"
    assert addresses[seed.ZONE_K].startswith("192.168.4.")
    with pytest.raises(ClientException) as refused:
        seed.create_load_balancer(account_a, net_a, zone_g_address="192.168.2.10")
    assert refused.value.code == "ResourceInUse.IP"
    assert "192.168.2.10" in refused.value.message


def test_servers_and_listeners_are_checked(account_a, net_a):
    lb_id = seed.create_load_balancer(account_a, net_a)
    group_id = seed.create_server_group(account_a, net_a)
    nlb = account_a.nlb

    def add(server_id: str, port: int | None = 80):
        return nlb.add_servers_to_server_group(
            nlb_models.AddServersToServerGroupRequest(
                server_group_id=group_id,
                servers=[nlb_models.AddServersToServerGroupRequestServers(
                    server_id=server_id, server_type="Ecs", port=port)],
            )
        )  # fmt: skip

    with pytest.raises(ClientException) as refused:
        add("i-nothere")
    assert (refused.value.code, refused.value.status_code) == ("ResourceNotFound.Ecs", 404)
    with pytest.raises(ClientException) as refused:
        add(net_a.instances["ECS01"])  # in VPC1, the group is in VPC2
    assert refused.value.code == "Mismatch.VpcId"
    with pytest.raises(ClientException) as refused:
        add(net_a.instances["ECS03"], port=None)
    assert refused.value.code == "MissingParam.Servers.1.Port"
    add(net_a.instances["ECS03"])
    with pytest.raises(ClientException) as refused:
        add(net_a.instances["ECS03"])
    assert refused.value.code == "DuplicatedParam.Server"

    seed.create_listener(account_a, lb_id, group_id)
    with pytest.raises(ClientException) as refused:
        seed.create_listener(account_a, lb_id, group_id)
    assert refused.value.code == "Conflict.Port"
    with pytest.raises(ClientException) as refused:
        nlb.create_listener(
            nlb_models.CreateListenerRequest(
                load_balancer_id=lb_id,
                listener_protocol="TCP",
                listener_port=70000,
                server_group_id=group_id,
            )
        )
    assert refused.value.code == "IllegalParam.Port"
    assert "ListenerPort" in refused.value.message


def test_health_status_lists_only_non_normal_servers(sim, account_a, net_a):
    published = seed.publish(account_a, net_a)
    body = account_a.nlb.get_listener_health_status(
        nlb_models.GetListenerHealthStatusRequest(listener_id=published.listener_id)
    ).body.to_map()
    info = body["ListenerHealthStatus"][0]
    assert info["ListenerId"] == published.listener_id
    assert info["ListenerPort"] == 80
    group_info = info["ServerGroupInfos"][0]
    assert group_info["ServerGroupId"] == published.server_group_id
    assert group_info["HeathCheckEnabled"] is True
    # Before any check has run, servers are Initial; none is Healthy yet.
    assert {s["Status"] for s in group_info["NonNormalServers"]} <= {"Initial", "Unhealthy"}


def test_tags_filters_and_paging(account_a, net_a):
    nlb = account_a.nlb
    made = []
    for number in range(3):
        made.append(
            seed.create_load_balancer(
                account_a,
                net_a,
                tag=[nlb_models.CreateLoadBalancerRequestTag(key="env", value=f"e{number}")],
            )
        )
    nlb.tag_resources(
        nlb_models.TagResourcesRequest(
            resource_type="loadbalancer",
            resource_id=[made[0]],
            tag=[nlb_models.TagResourcesRequestTag(key="owner", value="platform")],
        )
    )
    tags = nlb.list_tag_resources(
        nlb_models.ListTagResourcesRequest(resource_type="loadbalancer", resource_id=[made[0]])
    ).body.tag_resources
    assert sorted((t.tag_key, t.tag_value) for t in tags) == [("env", "e0"), ("owner", "platform")]
    filtered = nlb.list_load_balancers(
        nlb_models.ListLoadBalancersRequest(
            tag=[nlb_models.ListLoadBalancersRequestTag(key="env", value="e2")]
        )
    ).body
    assert [lb.load_balancer_id for lb in filtered.load_balancers] == [made[2]]

    first = nlb.list_load_balancers(nlb_models.ListLoadBalancersRequest(max_results=2)).body
    assert first.total_count == 3
    assert len(first.load_balancers) == 2
    second = nlb.list_load_balancers(
        nlb_models.ListLoadBalancersRequest(max_results=2, next_token=first.next_token)
    ).body
    assert not second.next_token
    assert [lb.load_balancer_id for lb in first.load_balancers + second.load_balancers] == made

    nlb.untag_resources(
        nlb_models.UntagResourcesRequest(
            resource_type="loadbalancer", resource_id=[made[0]], all=True
        )
    )
    assert (
        nlb.list_tag_resources(
            nlb_models.ListTagResourcesRequest(resource_type="loadbalancer", resource_id=[made[0]])
        ).body.tag_resources
        == []
    )
    zones = nlb.describe_zones(nlb_models.DescribeZonesRequest(region_id=REGION)).body.zones
    assert [z.zone_id for z in zones] == ["cn-hangzhou-g", "cn-hangzhou-h", "cn-hangzhou-k"]


def test_addresses_are_checked_and_named(account_a, net_a):
    def create(address: str) -> str:
        return seed.create_load_balancer(account_a, net_a, zone_g_address=address)

    # Not an address: the parameter is named.
    with pytest.raises(ClientException) as refused:
        create("not-an-ip")
    assert (refused.value.code, refused.value.status_code) == ("InvalidParameter", 400)
    assert "ZoneMappings.1.PrivateIPv4Address" in refused.value.message
    # The vSwitch's network address, one of its last three (reserved), one outside it: none is
    # a free address of the vSwitch (ResourceInUse.IP, the metadata's code), and it is named.
    for address in ("192.168.2.0", "192.168.2.253", "192.168.9.9"):
        with pytest.raises(ClientException) as refused:
            create(address)
        assert refused.value.status_code == 400, address
        assert refused.value.code == "ResourceInUse.IP", address
        assert address in refused.value.message
    assert create("192.168.2.252").startswith("nlb-")

    group_id = seed.create_server_group(account_a, net_a)
    with pytest.raises(ClientException) as refused:
        account_a.nlb.add_servers_to_server_group(
            nlb_models.AddServersToServerGroupRequest(
                server_group_id=group_id,
                servers=[
                    nlb_models.AddServersToServerGroupRequestServers(
                        server_id="not-an-ip", server_type="Ip", port=80
                    )
                ],
            )
        )
    assert refused.value.code == "InvalidParameter"
    assert "Servers.1.ServerId" in refused.value.message


def test_dependants_refuse_the_deletion_until_they_are_gone(
    sim, account_a, net_a, monkeypatch, freeze_clock
):
    """A listener being deleted still holds its load balancer (OperationDenied.ListenerExists),
    and the endpoint service holds it until its resource is detached, however long that takes
    (OperationDenied.AssociatedWithEndpointService): each refusal ends when the dependant is
    gone, not before."""
    published = seed.publish(account_a, net_a)
    monkeypatch.setattr(sim.store, "delay_scale", 1.0)
    freeze_clock(sim)  # the listener must still be Deleting (0.5 s) when the refusal is checked
    nlb = account_a.nlb
    delete = nlb_models.DeleteLoadBalancerRequest(load_balancer_id=published.load_balancer_id)

    nlb.delete_listener(nlb_models.DeleteListenerRequest(listener_id=published.listener_id))
    with pytest.raises(ClientException) as refused:
        nlb.delete_load_balancer(delete)
    assert refused.value.code == "OperationDenied.ListenerExists"
    assert published.listener_id in refused.value.message

    control(sim, "POST", "clock", {"advance": 0.5})  # DeleteListener's delay
    with pytest.raises(ClientException) as refused:
        nlb.delete_load_balancer(delete)
    assert refused.value.code == "OperationDenied.AssociatedWithEndpointService"
    assert published.service_id in refused.value.message

    account_a.privatelink.detach_resource_from_vpc_endpoint_service(
        pl_models.DetachResourceFromVpcEndpointServiceRequest(
            service_id=published.service_id,
            resource_id=published.load_balancer_id,
            resource_type="nlb",
            region_id=REGION,
        )
    )
    # Detaching is under way: the service still uses the load balancer.
    with pytest.raises(ClientException) as refused:
        nlb.delete_load_balancer(delete)
    assert refused.value.code == "OperationDenied.AssociatedWithEndpointService"

    control(sim, "POST", "clock", {"advance": 0.5})  # DetachResourceFromVpcEndpointService's
    assert nlb.delete_load_balancer(delete).body.job_id


def test_finished_jobs_are_forgotten_after_a_day(sim, account_a, net_a):
    job = seed.add_servers(account_a, net_a, seed.create_server_group(account_a, net_a))
    assert job_status(account_a, job) == "Succeeded"
    control(sim, "POST", "clock", {"advance": 24 * 3600 - 120})
    assert job_status(account_a, job) == "Succeeded"
    control(sim, "POST", "clock", {"advance": 240})
    with pytest.raises(ClientException) as refused:
        job_status(account_a, job)
    assert (refused.value.code, refused.value.status_code) == ("ResourceNotFound.JobId", 404)
    assert sim.store.snapshot()["resources"]["job"] == {}


@pytest.mark.parametrize("operation", ["delete the listener", "reset"])
def test_closing_a_listeners_proxy_does_not_stall_other_calls(
    sim, account_a, net_a, monkeypatch, operation
):
    published = seed.publish(account_a, net_a)
    port = sim.network.dataplane.listener_port(published.listener_id)
    assert port is not None
    closing, release = threading.Event(), threading.Event()
    close = dataplane._TcpProxy.close

    def slow_close(proxy: dataplane._TcpProxy) -> None:
        # As when a health check is in the middle of its timeout: joining it takes a while.
        closing.set()
        release.wait(10)
        close(proxy)

    monkeypatch.setattr(dataplane._TcpProxy, "close", slow_close)
    if operation == "reset":
        first = threading.Thread(target=sim.reset)
    else:
        request = nlb_models.DeleteListenerRequest(listener_id=published.listener_id)
        first = threading.Thread(target=account_a.nlb.delete_listener, args=(request,))
    answered = threading.Event()

    def other_call() -> None:
        clients_for(sim, *ACCOUNT_A).nlb.list_load_balancers(nlb_models.ListLoadBalancersRequest())
        answered.set()

    first.start()
    second = threading.Thread(target=other_call)
    try:
        assert closing.wait(5)
        second.start()
        # Only has to beat the 10 s stall: a loaded machine may take seconds to answer anyway.
        assert answered.wait(8), "a call waited for a listener's proxy to close"
    finally:
        release.set()
        first.join(10)
        if second.is_alive() or second.ident is not None:
            second.join(10)
    # The proxy was still closed before the first call returned.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
