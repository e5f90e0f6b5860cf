"""`python -m cloudsim serve`: the ready line, the loopback guard, and `--state` across restarts."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from alibabacloud_nlb20220430 import models as nlb_models
from alibabacloud_privatelink20200415 import models as pl_models
from alibabacloud_sts20150401 import models as sts_models

from cloudsim.server import CloudSim
from tests.cloudsim import seed
from tests.cloudsim.support import (
    ACCOUNT_A,
    ACCOUNT_B,
    REGION,
    UID_A,
    clients_for,
    control,
    discover,
    http_get,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(r"cloudsim ready on (http://127\.0\.0\.1:(\d+))")


class Served:
    """A `python -m cloudsim serve` process; quacks enough like CloudSim for the helpers."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cloudsim", "serve", "--port", "0", *args],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        line = self.process.stdout.readline()
        match = READY.search(line)
        if match is None:
            self.process.kill()
            raise AssertionError(f"no ready line: {line!r} {self.process.stderr.read()}")
        self.url = match.group(1)
        self.port = int(match.group(2))
        self.endpoint = f"127.0.0.1:{self.port}"

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=20)
        self.process.stdout.close()
        self.process.stderr.close()
        return code


def test_serve_prints_the_ready_line_and_answers(tmp_path):
    served = Served("--delay-scale", "0")
    try:
        assert control(served, "GET", "ping") == (
            200,
            {"status": "ok", "scenario": str(ROOT / "cloudsim/scenarios/default.yaml")},
        )
        clients = clients_for(served, *ACCOUNT_A)
        assert sorted(discover(clients).vpcs) == ["VPC1", "VPC2"]
    finally:
        assert served.stop() == 0


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.23.68", "example.com"])  # noqa: S104
def test_serve_refuses_a_non_loopback_host(host):
    result = subprocess.run(
        [sys.executable, "-m", "cloudsim", "serve", "--host", host, "--port", "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--allow-non-loopback" in result.stderr
    assert "ready" not in result.stdout
    with pytest.raises(ValueError, match="loopback"):
        CloudSim(host=host)


def test_serve_reports_a_bad_scenario(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("region: cn-hangzhou\nzones: []\naccounts: []\n")
    result = subprocess.run(
        [sys.executable, "-m", "cloudsim", "serve", "--port", "0", "--scenario", str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert f"{path}:2: a scenario needs at least one zone" in result.stderr


def test_state_survives_a_restart_with_its_data_plane(tmp_path):
    state = tmp_path / "cloudsim-state.json"
    served = Served("--delay-scale", "0", "--state", str(state), "--health-interval-scale", "0.02")
    try:
        clients = clients_for(served, *ACCOUNT_A)
        net = discover(clients)
        published = seed.publish(clients, net, auto_accept=True)
        endpoint = clients.privatelink.create_vpc_endpoint(
            seed.endpoint_request(net, published.service_id, client_token="restart-1")
        ).body
        control(served, "POST", "instances/ECS04/web/stop")
    finally:
        assert served.stop() == 0
    saved = json.loads(state.read_text())
    assert endpoint.endpoint_id in saved["resources"]["vpcendpoint"]

    served = Served("--delay-scale", "0", "--state", str(state), "--health-interval-scale", "0.02")
    try:
        clients = clients_for(served, *ACCOUNT_A)
        attribute = clients.privatelink.get_vpc_endpoint_attribute(
            pl_models.GetVpcEndpointAttributeRequest(
                endpoint_id=endpoint.endpoint_id, region_id=REGION
            )
        ).body
        assert attribute.connection_status == "Connected"
        again = clients.privatelink.create_vpc_endpoint(
            seed.endpoint_request(net, published.service_id, client_token="restart-1")
        ).body
        assert again.endpoint_id == endpoint.endpoint_id
        assert control(served, "GET", "stats")[1]["created"]["vpcendpoint"] == 1

        # The listener's proxy and the web servers came back (ECS04 still stopped).
        def only_ecs04_down() -> bool:
            control(served, "POST", f"health-check?listener={published.listener_id}")
            body = clients.nlb.get_listener_health_status(
                nlb_models.GetListenerHealthStatusRequest(listener_id=published.listener_id)
            ).body.to_map()
            servers = body["ListenerHealthStatus"][0]["ServerGroupInfos"][0]["NonNormalServers"]
            return [(s["ServerId"], s["Status"]) for s in servers] == [
                (net.instances["ECS04"], "Unhealthy")
            ]

        wait_for(only_ecs04_down)
        status, address = control(served, "GET", f"resolve?host={endpoint.endpoint_domain}&port=80")
        assert status == 200
        answers = {http_get(address["host"], address["port"]).strip() for _ in range(6)}
        assert answers == {"Hello World ! This is ECS03."}
    finally:
        assert served.stop() == 0


def test_pending_transitions_resume_after_a_restart(tmp_path):
    state = tmp_path / "state.json"
    # Delays * 100 (the 2 s provisioning takes 200 s): a slow restart cannot outlast it.
    with CloudSim(delay_scale=100, state_file=state) as sim:
        # Reads find the load balancer at once (ReadAfterCreate would be 50 s at this scale).
        assert control(sim, "POST", "delays", {"delays": {"ReadAfterCreate": 0}})[0] == 200
        clients = clients_for(sim, *ACCOUNT_A)
        lb_id = seed.create_load_balancer(clients, discover(clients))
    with CloudSim(delay_scale=100, state_file=state) as sim:
        clients = clients_for(sim, *ACCOUNT_A)
        request = nlb_models.GetLoadBalancerAttributeRequest(load_balancer_id=lb_id)
        assert (
            clients.nlb.get_load_balancer_attribute(request).body.load_balancer_status
            == "Provisioning"
        )
        control(sim, "POST", "clock", {"advance": 250})
        assert (
            clients.nlb.get_load_balancer_attribute(request).body.load_balancer_status == "Active"
        )


def test_a_corrupt_state_file_is_reported(tmp_path):
    state = tmp_path / "state.json"
    state.write_text("{not json")
    result = subprocess.run(
        [sys.executable, "-m", "cloudsim", "serve", "--port", "0", "--state", str(state)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "cannot load the state" in result.stderr


def test_saves_are_batched_and_never_hold_up_a_call(tmp_path, monkeypatch):
    state = tmp_path / "state.json"
    with CloudSim(delay_scale=0, state_file=state) as sim:
        clients = clients_for(sim, *ACCOUNT_A)
        net = discover(clients)
        written: list[str] = []
        writing, release = threading.Event(), threading.Event()
        write = sim.store._write

        def slow_write(text: str) -> None:
            # A slow disk: the file is being written until the test says otherwise.
            written.append(text)
            writing.set()
            release.wait(10)
            write(text)

        monkeypatch.setattr(sim.store, "_write", slow_write)
        seed.create_load_balancer(clients, net)
        assert writing.wait(5), "the flusher did not write the state"
        started = time.monotonic()
        groups = [seed.create_server_group(clients, net, name=f"group-{n}") for n in range(20)]
        # Only has to beat the 10 s stalled write: 20 calls on a loaded machine may take seconds.
        assert time.monotonic() - started < 8, "calls waited for the state file"
        release.set()

        def saved_groups() -> set[str]:
            if not state.exists():
                return set()
            return set(json.loads(state.read_text())["resources"].get("servergroup", {}))

        wait_for(lambda: saved_groups() == set(groups), timeout=5)
        assert 2 <= len(written) <= 4  # 21 writes, a few saves
    assert saved_groups() == set(groups)


def test_writes_that_change_records_in_place_are_saved(tmp_path):
    state = tmp_path / "state.json"
    with CloudSim(delay_scale=0, state_file=state) as sim:
        clients = clients_for(sim, *ACCOUNT_A)
        lb_id = seed.create_load_balancer(clients, discover(clients))
        control(sim, "POST", "fast-forward")  # nothing left for the next start to apply
    with CloudSim(delay_scale=0, state_file=state) as sim:
        # A change in place, the only change since the start.
        clients_for(sim, *ACCOUNT_A).nlb.tag_resources(
            nlb_models.TagResourcesRequest(
                resource_type="loadbalancer",
                resource_id=[lb_id],
                tag=[nlb_models.TagResourcesRequestTag(key="env", value="demo")],
            )
        )
    assert json.loads(state.read_text())["resources"]["loadbalancer"][lb_id]["Tags"] == {
        "env": "demo"
    }


def test_tokens_jobs_and_sessions_leave_the_state_after_a_day(tmp_path):
    state = tmp_path / "state.json"
    with CloudSim(delay_scale=0, state_file=state) as sim:
        clients = clients_for(sim, *ACCOUNT_A)
        net = discover(clients)
        clients.nlb.create_server_group(
            nlb_models.CreateServerGroupRequest(
                server_group_name="kept", vpc_id=net.vpcs["VPC2"], client_token="token-1"
            )
        )
        clients_for(sim, *ACCOUNT_B).sts.assume_role(
            sts_models.AssumeRoleRequest(
                role_arn=f"acs:ram::{UID_A}:role/portal-provisioner",
                role_session_name="short",
                duration_seconds=900,
            )
        )
    saved = json.loads(state.read_text())
    assert len(saved["tokens"]) == 1
    assert len(saved["resources"]["job"]) == 1
    assert len(saved["sessions"]) == 1

    with CloudSim(delay_scale=0, state_file=state) as sim:
        control(sim, "POST", "clock", {"advance": 25 * 3600})
    saved = json.loads(state.read_text())
    assert saved["tokens"] == {}
    assert saved["resources"]["job"] == {}
    assert saved["sessions"] == {}
    assert len(saved["resources"]["servergroup"]) == 1  # what the job made stays
