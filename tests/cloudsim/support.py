"""Helpers for cloudsim's tests: the official SDK clients pointed at an emulator over HTTP, exactly
as the portal points them at the emulator or the cloud, and the control API."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as EcsClient
from alibabacloud_nlb20220430.client import Client as NlbClient
from alibabacloud_privatelink20200415.client import Client as PrivateLinkClient
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi.utils_models import Config
from alibabacloud_vpc20160428 import models as vpc_models
from alibabacloud_vpc20160428.client import Client as VpcClient

from cloudsim.server import CloudSim

REGION = "cn-hangzhou"
ACCOUNT_A = ("demo-a-key", "demo-a-secret")
ACCOUNT_B = ("demo-b-key", "demo-b-secret")
UID_A = "1111111111111111"
UID_B = "2222222222222222"
# Health checks every 10 s * 0.02 = 0.2 s: a stopped backend shows within about a second.
HEALTH_SCALE = 0.02


@dataclass
class Clients:
    """The SDK clients of one set of credentials, all aimed at the same emulator."""

    privatelink: PrivateLinkClient
    nlb: NlbClient
    vpc: VpcClient
    ecs: EcsClient
    sts: StsClient


def config(sim: CloudSim, key: str, secret: str, token: str | None = None) -> Config:
    return Config(
        access_key_id=key,
        access_key_secret=secret,
        security_token=token,
        region_id=REGION,
        endpoint=sim.endpoint,
        protocol="http",
        read_timeout=10000,
        connect_timeout=5000,
    )


def clients_for(sim: CloudSim, key: str, secret: str, token: str | None = None) -> Clients:
    return Clients(
        privatelink=PrivateLinkClient(config(sim, key, secret, token)),
        nlb=NlbClient(config(sim, key, secret, token)),
        vpc=VpcClient(config(sim, key, secret, token)),
        ecs=EcsClient(config(sim, key, secret, token)),
        sts=StsClient(config(sim, key, secret, token)),
    )


def control(sim: CloudSim, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """Call the control API; answers (status, parsed JSON) for errors too."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{sim.url}/_sim/{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def http_get(host: str, port: int, timeout: float = 5) -> str:
    with urllib.request.urlopen(f"http://{host}:{port}/", timeout=timeout) as response:
        return response.read().decode()


def wait_for(predicate: Callable[[], Any], timeout: float = 10, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


@dataclass
class Network:
    """The scenario's ids, found through the API by name as a client would find them."""

    vpcs: dict[str, str]
    vswitches: dict[str, dict[str, str]]  # VPC name → zone → vSwitch id
    instances: dict[str, str]
    security_groups: dict[str, str]


def discover(clients: Clients) -> Network:
    vpcs = clients.vpc.describe_vpcs(vpc_models.DescribeVpcsRequest(region_id=REGION)).body
    by_name = {vpc.vpc_name: vpc.vpc_id for vpc in vpcs.vpcs.vpc}
    vswitches: dict[str, dict[str, str]] = {}
    for name, vpc_id in by_name.items():
        answer = clients.vpc.describe_vswitches(
            vpc_models.DescribeVSwitchesRequest(region_id=REGION, vpc_id=vpc_id)
        ).body
        vswitches[name] = {v.zone_id: v.v_switch_id for v in answer.v_switches.v_switch}
    instances = clients.ecs.describe_instances(
        ecs_models.DescribeInstancesRequest(region_id=REGION, page_size=100)
    ).body.instances.instance
    groups = clients.ecs.describe_security_groups(
        ecs_models.DescribeSecurityGroupsRequest(region_id=REGION)
    ).body.security_groups.security_group
    return Network(
        by_name,
        vswitches,
        {i.instance_name: i.instance_id for i in instances},
        {g.security_group_name: g.security_group_id for g in groups},
    )
