"""The control API: loopback only, reset, fast-forward, clock, stats, web servers, resolve."""

from __future__ import annotations

import json

from alibabacloud_nlb20220430 import models as nlb_models
from werkzeug.test import Client

from cloudsim.server import CloudSim
from tests.cloudsim import seed
from tests.cloudsim.support import ACCOUNT_A, clients_for, control, discover


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
