"""The control API: loopback only and not for web pages, reset, fast-forward, clock, stats, web
servers, resolve."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alibabacloud_nlb20220430 import models as nlb_models
from alibabacloud_privatelink20200415 import models as pl_models
from werkzeug.test import Client

from cloudsim import scenario
from cloudsim.server import CloudSim
from tests.cloudsim import seed
from tests.cloudsim.support import (
    ACCOUNT_A,
    ACCOUNT_B,
    REGION,
    UID_B,
    clients_for,
    control,
    discover,
    http_get,
)


def test_the_control_api_answers_loopback_peers_only(sim):
    client = Client(sim.app)
    for peer in ("10.0.23.68", "192.168.1.20", "203.0.113.9", "::ffff:10.0.0.1"):
        response = client.get("/_sim/state", environ_base={"REMOTE_ADDR": peer})
        assert response.status_code == 403, peer
        assert response.json["Code"] == "Forbidden"
        refused = client.post("/_sim/reset", environ_base={"REMOTE_ADDR": peer})
        assert refused.status_code == 403
    for peer in ("127.0.0.1", "127.3.2.1", "::1"):
        response = client.get("/_sim/ping", environ_base={"REMOTE_ADDR": peer})
        assert response.status_code == 200, peer


def test_reset_returns_to_the_scenario(sim, account_a, net_a):
    seed.publish(account_a, net_a)
    assert control(sim, "GET", "stats")[1]["created"]["loadbalancer"] == 1
    control(sim, "POST", "faults", {"kind": "throttle", "action": "Nothing"})
    assert control(sim, "POST", "reset")[0] == 200
    listed = account_a.nlb.list_load_balancers(nlb_models.ListLoadBalancersRequest()).body
    assert listed.total_count == 0
    stats = control(sim, "GET", "stats")[1]
    assert stats["created"] == {}
    assert stats["calls"] == {"ListLoadBalancers": 1}
    assert control(sim, "GET", "faults")[1] == {"faults": []}
    # The scenario's ids are the same as before the reset.
    assert discover(account_a) == net_a


def test_fast_forward_skips_the_remaining_delays():
    with CloudSim(delay_scale=100) as sim:
        # Reads find what was just created (ReadAfterCreate would otherwise be 50 s here).
        assert control(sim, "POST", "delays", {"delays": {"ReadAfterCreate": 0}})[0] == 200
        clients = clients_for(sim, *ACCOUNT_A)
        lb_id = seed.create_load_balancer(clients, discover(clients))
        request = nlb_models.GetLoadBalancerAttributeRequest(load_balancer_id=lb_id)
        assert (
            clients.nlb.get_load_balancer_attribute(request).body.load_balancer_status
            == "Provisioning"
        )
        state = control(sim, "GET", "state")[1]
        pending = state["resources"]["loadbalancer"][lb_id]["_pending"]
        assert len(pending) == 1
        assert control(sim, "POST", "fast-forward")[1] == {"applied": 1}
        assert (
            clients.nlb.get_load_balancer_attribute(request).body.load_balancer_status == "Active"
        )


def test_the_clock_only_moves_forward(sim):
    assert control(sim, "POST", "clock", {"advance": -5})[0] == 400
    assert control(sim, "POST", "clock", {"advance": "soon"})[0] == 400
    status, body = control(sim, "POST", "clock", {"advance": 60})
    assert status == 200
    assert body["offset"] == 60


def test_web_servers_by_name_or_id(sim, net_a):
    status, body = control(sim, "POST", "instances/ECS03/web/stop")
    assert (status, body["InstanceId"], body["web_running"]) == (
        200,
        net_a.instances["ECS03"],
        False,
    )
    status, body = control(sim, "POST", f"instances/{net_a.instances['ECS03']}/web/start")
    assert (status, body["web_running"]) == (200, True)
    assert control(sim, "POST", "instances/ECS01/web/stop")[0] == 404  # no web server there
    assert control(sim, "POST", "instances/ECS99/web/stop")[0] == 404
    assert control(sim, "GET", "instances/ECS03/web/stop")[0] == 405


def test_resolve_refuses_unknown_hosts_and_bad_queries(sim):
    status, body = control(sim, "GET", "resolve?host=example.com&port=80")
    assert status == 404
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert control(sim, "GET", "resolve?host=example.com")[0] == 400
    assert control(sim, "GET", "resolve?host=example.com&port=99999")[0] == 400


def test_unknown_routes_and_methods(sim):
    assert control(sim, "GET", "nothing-here")[0] == 404
    assert control(sim, "PUT", "faults")[0] == 405
    assert control(sim, "DELETE", "faults/fault-unknown")[0] == 404
    request_body = json.dumps({"kind": "latency", "latency_ms": 1})
    status, fault = control(sim, "POST", "faults", json.loads(request_body))
    assert status == 200
    assert control(sim, "DELETE", f"faults/{fault['id']}") == (200, {"removed": fault["id"]})


def test_web_pages_cannot_drive_the_control_api(sim):
    # A page in a developer's browser is a loopback peer too: it sends an Origin header, cannot
    # send JSON without a CORS preflight, and under DNS rebinding names its own Host.
    client = Client(sim.app)
    loopback = {"REMOTE_ADDR": "127.0.0.1"}
    page = {"Origin": "https://example.com"}
    for method, path in (("POST", "/_sim/reset"), ("GET", "/_sim/state"), ("GET", "/_sim/stats")):
        refused = client.open(
            path,
            method=method,
            headers=page,
            content_type="application/json",
            environ_base=loopback,
        )
        assert refused.status_code == 403, path
        assert "Origin" in refused.json["Message"]
    rebound = client.get(
        "/_sim/state", headers={"Host": "attacker.example:9100"}, environ_base=loopback
    )
    assert rebound.status_code == 403
    for content_type in (None, "text/plain", "application/x-www-form-urlencoded"):
        refused = client.post("/_sim/reset", content_type=content_type, environ_base=loopback)
        assert refused.status_code == 415, content_type
        assert refused.json["Code"] == "UnsupportedMediaType"
    assert client.delete("/_sim/faults", environ_base=loopback).status_code == 415
    for host in ("localhost:9100", "127.0.0.1:9100", "[::1]:9100"):
        accepted = client.post(
            "/_sim/reset",
            headers={"Host": host},
            content_type="application/json; charset=utf-8",
            environ_base=loopback,
        )
        assert accepted.status_code == 200, host
    # GETs need no content type: the compose health check and the portal's tests use them so.
    assert client.get("/_sim/stats", environ_base=loopback).status_code == 200
    assert client.get("/_sim/resolve?host=x&port=80", environ_base=loopback).status_code == 404


def test_bad_control_input_is_a_400_not_a_500(sim, account_a):
    for advance in (1e308, float("inf"), float("nan"), 10 * 366 * 86400):
        assert control(sim, "POST", "clock", {"advance": advance})[0] == 400, advance
    # Steps within the per-call limit still cannot push the clock past what dates can show.
    sim.store.advance_clock(datetime(9998, 6, 1, tzinfo=UTC).timestamp() - sim.store.now())
    assert control(sim, "POST", "clock", {"advance": 365 * 86400})[0] == 400
    assert seed.create_server_group(account_a, discover(account_a))  # calls still work
    assert control(sim, "GET", "resolve?host=x&port=%C2%B2")[0] == 400
    assert control(sim, "POST", "faults", {"kind": "latency", "latency_ms": 10**18})[0] == 400
    assert control(sim, "POST", "faults", {"kind": "throttle", "retry_after_ms": 10**18})[0] == 400
    request = urllib.request.Request(
        f"{sim.url}/_sim/faults",
        data=b"[" * 5000,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400


OVERLAPPING = (
    (Path(scenario.__file__).parent / "scenarios/default.yaml").read_text()
    + """
      # Account B's VPC4 reuses VPC1's addresses: legal, as VPCs are separate networks.
      - name: VPC4
        cidr: 10.0.0.0/16
        vswitches:
          - {name: vsw-vpc4-g, cidr: 10.0.23.0/24, zone: cn-hangzhou-g}
        security_groups:
          - {name: sg-vpc4}
"""
)


def test_an_address_of_two_connected_endpoints_needs_the_vpc():
    with CloudSim(scenario.parse(OVERLAPPING, "overlapping.yaml"), delay_scale=0) as sim:
        clients_a, clients_b = clients_for(sim, *ACCOUNT_A), clients_for(sim, *ACCOUNT_B)
        net_a, net_b = discover(clients_a), discover(clients_b)
        published = seed.publish(clients_a, net_a, auto_accept=True)
        clients_a.privatelink.add_user_to_vpc_endpoint_service(
            pl_models.AddUserToVpcEndpointServiceRequest(
                service_id=published.service_id, user_id=int(UID_B), region_id=REGION
            )
        )
        address = "10.0.23.50"
        request_a = seed.endpoint_request(net_a, published.service_id, zones=(seed.ZONE_G,))
        request_b = seed.endpoint_request(
            net_b, published.service_id, vpc="VPC4", zones=(seed.ZONE_G,), security_group="sg-vpc4"
        )
        endpoints = {}
        for name, clients, request in (("A", clients_a, request_a), ("B", clients_b, request_b)):
            request.zone[0].ip = address
            endpoints[name] = clients.privatelink.create_vpc_endpoint(request).body
        control(sim, "POST", "fast-forward")

        status, body = control(sim, "GET", f"resolve?host={address}&port=80")
        assert status == 409
        assert body["Code"] == "Ambiguous"
        assert net_a.vpcs["VPC1"] in body["Message"] and net_b.vpcs["VPC4"] in body["Message"]
        for vpc in (net_a.vpcs["VPC1"], net_b.vpcs["VPC4"]):
            status, body = control(sim, "GET", f"resolve?host={address}&port=80&vpc={vpc}")
            assert status == 200
            assert http_get(body["host"], body["port"]).startswith("Hello World")
        # Domains are the endpoint's own: never ambiguous.
        domain = endpoints["B"].endpoint_domain
        assert control(sim, "GET", f"resolve?host={domain}&port=80")[0] == 200

        # Once only one of them carries traffic, the address is that one's again.
        clients_a.privatelink.disable_vpc_endpoint_connection(
            pl_models.DisableVpcEndpointConnectionRequest(
                service_id=published.service_id,
                endpoint_id=endpoints["B"].endpoint_id,
                region_id=REGION,
            )
        )
        control(sim, "POST", "fast-forward")
        assert control(sim, "GET", f"resolve?host={address}&port=80")[0] == 200
        status, _ = control(sim, "GET", f"resolve?host={address}&port=80&vpc={net_b.vpcs['VPC4']}")
        assert status == 404
