"""The seed's walk-through, steps 1–7, through the official SDKs, ending in real HTTP requests
that reach ECS03's and ECS04's web servers through the endpoint's resolved addresses."""

from __future__ import annotations

import ipaddress

from alibabacloud_nlb20220430 import models as nlb_models
from alibabacloud_privatelink20200415 import models as pl_models

from tests.cloudsim import seed
from tests.cloudsim.support import REGION, control, http_get, wait_for

GREETINGS = {"Hello World ! This is ECS03.", "Hello World ! This is ECS04."}


def resolve(sim, host: str, port: int = 80) -> tuple[int, dict]:
    return control(sim, "GET", f"resolve?host={host}&port={port}")


def non_normal_servers(clients, listener_id: str) -> list[dict]:
    body = clients.nlb.get_listener_health_status(
        nlb_models.GetListenerHealthStatusRequest(listener_id=listener_id, region_id=REGION)
    ).body.to_map()
    infos = body["ListenerHealthStatus"][0]["ServerGroupInfos"]
    assert infos[0]["HeathCheckEnabled"] is True
    return infos[0]["NonNormalServers"]


def wait_all_healthy(sim, clients, listener_id: str) -> None:
    def healthy() -> bool:
        control(sim, "POST", f"health-check?listener={listener_id}")
        return non_normal_servers(clients, listener_id) == []

    wait_for(healthy)


def test_seed_steps_one_to_seven(sim, account_a, net_a):
    pl, nlb = account_a.privatelink, account_a.nlb

    # Steps 1–4: NLB, server group RS1 with ECS03 and ECS04, TCP listener on 80, endpoint service.
    published = seed.publish(account_a, net_a)
    lb = nlb.get_load_balancer_attribute(
        nlb_models.GetLoadBalancerAttributeRequest(load_balancer_id=published.load_balancer_id)
    ).body
    assert lb.load_balancer_status == "Active"
    assert lb.vpc_id == net_a.vpcs["VPC2"]
    assert sorted(z.zone_id for z in lb.zone_mappings) == [seed.ZONE_G, seed.ZONE_K]
    servers = nlb.list_server_group_servers(
        nlb_models.ListServerGroupServersRequest(server_group_id=published.server_group_id)
    ).body.servers
    assert sorted((s.server_id, s.port, s.weight, s.status) for s in servers) == sorted(
        (net_a.instances[name], 80, 100, "Available") for name in ("ECS03", "ECS04")
    )
    listener = nlb.get_listener_attribute(
        nlb_models.GetListenerAttributeRequest(listener_id=published.listener_id)
    ).body
    assert (listener.listener_protocol, listener.listener_port, listener.listener_status) == (
        "TCP",
        80,
        "Running",
    )
    service = pl.get_vpc_endpoint_service_attribute(
        pl_models.GetVpcEndpointServiceAttributeRequest(
            service_id=published.service_id, region_id=REGION
        )
    ).body
    assert service.service_status == "Active"
    assert service.zones == [seed.ZONE_G, seed.ZONE_K]
    wait_all_healthy(sim, account_a, published.listener_id)

    # Step 5: the endpoint in VPC1 over zones G and K.
    created = pl.create_vpc_endpoint(seed.endpoint_request(net_a, published.service_id)).body
    assert created.endpoint_status == "Creating"
    assert created.endpoint_domain == (
        f"{created.endpoint_id}.{published.service_id}.{REGION}.privatelink.aliyuncs.com"
    )
    endpoint = pl.get_vpc_endpoint_attribute(
        pl_models.GetVpcEndpointAttributeRequest(endpoint_id=created.endpoint_id, region_id=REGION)
    ).body
    # Waiting for the provider: the connection is Disconnected, its zones Wait.
    assert (endpoint.endpoint_status, endpoint.connection_status) == ("Active", "Disconnected")
    waiting = pl.list_vpc_endpoint_zones(
        pl_models.ListVpcEndpointZonesRequest(endpoint_id=created.endpoint_id, region_id=REGION)
    ).body.zones
    assert [z.zone_status for z in waiting] == ["Wait", "Wait"]
    assert resolve(sim, created.endpoint_domain)[0] == 404

    # Step 6: the provider sees the request in its queue and accepts it.
    queue = pl.list_vpc_endpoint_connections(
        pl_models.ListVpcEndpointConnectionsRequest(
            service_id=published.service_id, region_id=REGION
        )
    ).body
    assert [(c.endpoint_id, c.connection_status) for c in queue.connections] == [
        (created.endpoint_id, "Disconnected")
    ]
    pl.enable_vpc_endpoint_connection(
        pl_models.EnableVpcEndpointConnectionRequest(
            service_id=published.service_id, endpoint_id=created.endpoint_id, region_id=REGION
        )
    )
    endpoint = pl.get_vpc_endpoint_attribute(
        pl_models.GetVpcEndpointAttributeRequest(endpoint_id=created.endpoint_id, region_id=REGION)
    ).body
    assert endpoint.connection_status == "Connected"

    # Step 7: the endpoint domain, both zone domains and both ENI addresses reach both servers.
    zones = pl.list_vpc_endpoint_zones(
        pl_models.ListVpcEndpointZonesRequest(endpoint_id=created.endpoint_id, region_id=REGION)
    ).body.zones
    assert sorted((z.zone_id, z.zone_status) for z in zones) == [
        (seed.ZONE_G, "Connected"),
        (seed.ZONE_K, "Connected"),
    ]
    subnets = {seed.ZONE_G: "10.0.23.0/24", seed.ZONE_K: "10.0.24.0/24"}
    for zone in zones:
        assert ipaddress.ip_address(zone.eni_ip) in ipaddress.ip_network(subnets[zone.zone_id])
        assert zone.zone_domain == (
            f"{created.endpoint_id}-{zone.zone_id}.{published.service_id}.{REGION}"
            ".privatelink.aliyuncs.com"
        )
    hosts = [created.endpoint_domain] + [z.zone_domain for z in zones] + [z.eni_ip for z in zones]
    seen = set()
    for host in hosts:
        status, address = resolve(sim, host)
        assert status == 200, address
        assert address["host"] == "127.0.0.1"
        for _ in range(6):
            seen.add(http_get(address["host"], address["port"]).strip())
    assert seen == GREETINGS
    assert resolve(sim, created.endpoint_domain, port=443)[0] == 404
    # Many at once, in order, each with its own answer (a health sweep's way).
    status, batch = control(
        sim,
        "POST",
        "resolve",
        {"targets": [{"host": h, "port": 80} for h in hosts] + [{"host": "nowhere", "port": 80}]},
    )
    assert status == 200
    *answers, nowhere = batch["answers"]
    assert answers == [resolve(sim, host)[1] for host in hosts]
    assert nowhere["error"] == "NotFound"
    assert control(sim, "POST", "resolve", {"targets": [{"host": "x", "port": 0}]})[0] == 400


def test_a_stopped_backend_is_reported_and_skipped(sim, account_a, net_a):
    published = seed.publish(account_a, net_a, auto_accept=True)
    endpoint = account_a.privatelink.create_vpc_endpoint(
        seed.endpoint_request(net_a, published.service_id)
    ).body
    wait_all_healthy(sim, account_a, published.listener_id)
    status, address = resolve(sim, endpoint.endpoint_domain)
    assert status == 200

    assert control(sim, "POST", "instances/ECS03/web/stop")[0] == 200

    def ecs03_unhealthy() -> list[dict]:
        control(sim, "POST", f"health-check?listener={published.listener_id}")
        return [
            server
            for server in non_normal_servers(account_a, published.listener_id)
            if server["Status"] == "Unhealthy"
        ]

    reported = wait_for(ecs03_unhealthy)
    assert len(reported) == 1
    assert reported[0]["ServerId"] == net_a.instances["ECS03"]
    assert reported[0]["ServerIp"] == "192.168.2.190"
    assert reported[0]["Port"] == 80
    assert reported[0]["Reason"]["ReasonCode"]
    answers = {http_get(address["host"], address["port"]).strip() for _ in range(10)}
    assert answers == {"Hello World ! This is ECS04."}

    assert control(sim, "POST", f"instances/{net_a.instances['ECS03']}/web/start")[0] == 200
    wait_all_healthy(sim, account_a, published.listener_id)
    answers = {http_get(address["host"], address["port"]).strip() for _ in range(12)}
    assert answers == GREETINGS


def test_removing_a_server_takes_it_out_of_the_proxy(sim, account_a, net_a):
    published = seed.publish(account_a, net_a, auto_accept=True)
    endpoint = account_a.privatelink.create_vpc_endpoint(
        seed.endpoint_request(net_a, published.service_id)
    ).body
    wait_all_healthy(sim, account_a, published.listener_id)
    account_a.nlb.remove_servers_from_server_group(
        nlb_models.RemoveServersFromServerGroupRequest(
            server_group_id=published.server_group_id,
            servers=[
                nlb_models.RemoveServersFromServerGroupRequestServers(
                    server_id=net_a.instances["ECS04"], server_type="Ecs", port=80
                )
            ],
        )
    )
    remaining = account_a.nlb.list_server_group_servers(
        nlb_models.ListServerGroupServersRequest(server_group_id=published.server_group_id)
    ).body.servers
    assert [s.server_id for s in remaining] == [net_a.instances["ECS03"]]
    status, address = resolve(sim, endpoint.endpoint_domain)
    assert status == 200
    answers = {http_get(address["host"], address["port"]).strip() for _ in range(8)}
    assert answers == {"Hello World ! This is ECS03."}


def test_deleting_the_listener_stops_resolution(sim, account_a, net_a):
    published = seed.publish(account_a, net_a, auto_accept=True)
    endpoint = account_a.privatelink.create_vpc_endpoint(
        seed.endpoint_request(net_a, published.service_id)
    ).body
    assert resolve(sim, endpoint.endpoint_domain)[0] == 200
    account_a.nlb.delete_listener(
        nlb_models.DeleteListenerRequest(listener_id=published.listener_id)
    )
    status, error = resolve(sim, endpoint.endpoint_domain)
    assert status == 404
    assert "no Running listener" in error["Message"]


def test_a_stopped_listener_carries_no_traffic_until_started(sim, account_a, net_a):
    published = seed.publish(account_a, net_a, auto_accept=True)
    endpoint = account_a.privatelink.create_vpc_endpoint(
        seed.endpoint_request(net_a, published.service_id)
    ).body
    wait_all_healthy(sim, account_a, published.listener_id)
    account_a.nlb.stop_listener(nlb_models.StopListenerRequest(listener_id=published.listener_id))
    assert resolve(sim, endpoint.endpoint_domain)[0] == 404
    account_a.nlb.start_listener(nlb_models.StartListenerRequest(listener_id=published.listener_id))
    wait_all_healthy(sim, account_a, published.listener_id)
    status, address = resolve(sim, endpoint.endpoint_domain)
    assert status == 200
    assert http_get(address["host"], address["port"]).strip() in GREETINGS
