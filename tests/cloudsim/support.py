"""Helpers for cloudsim's tests: the official SDK clients pointed at an emulator over HTTP, exactly
as the portal points them at the emulator or the cloud, and the control API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

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
# Account A's RAM user: an account's own key is not limited by RAM, a user's is.
RAM_USER_A = ("portal-a-key", "portal-a-secret")
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


# -- requests signed by hand, for what the SDKs cannot be made to send ----------------------------


def _encode(value: str) -> str:
    return quote(value, safe="~")


def rpc_query(method: str, params: Mapping[str, str], secret: str) -> str:
    """`params` as a query string signed with HMAC-SHA1, as aliyun-python-sdk-core signs."""
    canonical = "&".join(f"{_encode(k)}={_encode(params[k])}" for k in sorted(params))
    string_to_sign = f"{method}&%2F&{_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    signature = base64.b64encode(digest).decode()
    return canonical + "&Signature=" + _encode(signature)


def rpc_params(action: str, version: str, key: str, **extra: str) -> dict[str, str]:
    """The common parameters of an HMAC-SHA1 call, plus `extra`."""
    return {
        "Action": action,
        "Version": version,
        "AccessKeyId": key,
        "Format": "JSON",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": uuid.uuid4().hex,
        "Timestamp": "2024-01-01T00:00:00Z",
        **extra,
    }


def acs3_headers(
    sim: Any,
    action: str,
    version: str,
    key: str,
    secret: str,
    body: bytes,
    *,
    content_type: str = "application/x-www-form-urlencoded",
    token: str | None = None,
) -> dict[str, str]:
    """Headers of a POST to / signed with ACS3-HMAC-SHA256 over `body`, as the tea SDKs sign."""
    headers = {
        "host": sim.endpoint,
        "content-type": content_type,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": "2024-01-01T00:00:00Z",
        "x-acs-signature-nonce": uuid.uuid4().hex,
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
    }
    if token is not None:
        headers["x-acs-security-token"] = token
    signed = sorted(headers)
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            "".join(f"{name}:{headers[name]}\n" for name in signed),
            ";".join(signed),
            headers["x-acs-content-sha256"],
        ]
    )
    string_to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    signature = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"ACS3-HMAC-SHA256 Credential={key},SignedHeaders={';'.join(signed)},Signature={signature}"
    )
    return headers


def raw(
    sim: Any, method: str, path: str, body: bytes = b"", headers: dict | None = None
) -> tuple[int, str, bytes]:
    """One HTTP request as given; answers (status, Content-Type, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        connection.close()
