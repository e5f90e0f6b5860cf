"""Bad input never produces a 500: raw malformed HTTP, and signed calls with junk parameters
to every operation of every product."""

from __future__ import annotations

import http.client
import json
import random

import pytest
from alibabacloud_tea_openapi import utils_models as openapi_models
from alibabacloud_tea_openapi.client import Client as OpenApiClient
from alibabacloud_tea_openapi.exceptions import ClientException
from darabonba.runtime import RuntimeOptions

from cloudsim.products import PRODUCTS
from tests.cloudsim import seed
from tests.cloudsim.support import ACCOUNT_A, config

ERROR_KEYS = {"RequestId", "HostId", "Code", "Message", "Recommend"}
LIST_ENDPOINTS = {"x-acs-action": "ListVpcEndpoints", "x-acs-version": "2020-04-15"}


def raw(sim, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "code"),
    [
        ("POST", "/", b"", {}, 400, "MissingParameter"),
        ("GET", "/?Action=DescribeVpcs", b"", {}, 400, "MissingParameter"),
        ("GET", "/?Action=DescribeVpcs&Version=1999-01-01", b"", {}, 400, "InvalidVersion"),
        ("POST", "/", b"", {"x-acs-action": "LaunchRocket", "x-acs-version": "2020-04-15"},
         404, "InvalidAction.NotFound"),
        ("POST", "/", b"", LIST_ENDPOINTS, 400, "IncompleteSignature"),
        ("POST", "/", b"", LIST_ENDPOINTS | {"Authorization": "ACS3-HMAC-SHA256 garbage"},
         400, "IncompleteSignature"),
        ("POST", "/", b"", LIST_ENDPOINTS | {"Authorization": "ACS3-HMAC-SHA256 "
         "Credential=demo-a-key,SignedHeaders=host;x-nothing,Signature=00"},
         400, "IncompleteSignature"),
        ("POST", "/", b"", LIST_ENDPOINTS | {"Authorization": "HMAC-MD5 x"},
         400, "IncompleteSignature"),
        ("GET", "/?Action=DescribeVpcs&Version=2016-04-28&Signature=abc", b"", {}, 400,
         "MissingParameter"),
        ("GET", "/?Action=DescribeVpcs&Version=2016-04-28&Signature=abc&AccessKeyId=demo-a-key",
         b"", {}, 400, "SignatureDoesNotMatch"),
        ("GET", "/?Action=DescribeVpcs&Version=2016-04-28&Signature=abc&AccessKeyId=demo-a-key"
                "&SignatureMethod=HMAC-MD5", b"", {}, 400, "IncompleteSignature"),
        ("GET", "/?Action=%FF%FE&Version=2016-04-28", b"", {}, 400, "InvalidParameter"),
        ("POST", "/?Version=2016-04-28", b"Action=%C3%28",
         {"Content-Type": "application/x-www-form-urlencoded"}, 400, "InvalidParameter"),
        ("POST", "/?Version=2016-04-28&Action=DescribeVpcs", b"\xff\xfe\xfd",
         {"Content-Type": "application/x-www-form-urlencoded"}, 400, "InvalidParameter"),
        ("PUT", "/?Action=DescribeVpcs&Version=2016-04-28", b"", {}, 400, "UnsupportedHTTPMethod"),
        ("POST", "/?Action=DescribeVpcs&Version=2016-04-28", b"x" * (2 << 20),
         {"Content-Type": "application/x-www-form-urlencoded"}, 413, "RequestTooLarge"),
    ],
)  # fmt: skip
def test_malformed_requests_get_the_clouds_error_shape(
    sim, method, path, body, headers, status, code
):
    got_status, content_type, data = raw(sim, method, path, body, headers)
    assert got_status == status, data
    assert content_type.startswith("application/json")
    error = json.loads(data)
    assert set(error) == ERROR_KEYS
    assert error["Code"] == code


def test_an_unsigned_body_change_is_detected(sim):
    # A signed request whose body is changed on the way: the content hash no longer matches.
    status, _, data = raw(
        sim,
        "POST",
        "/",
        b"VpcId=vpc-x",
        {
            "x-acs-action": "ListVpcEndpoints",
            "x-acs-version": "2020-04-15",
            "x-acs-content-sha256": "0" * 64,
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "ACS3-HMAC-SHA256 Credential=demo-a-key,"
            "SignedHeaders=x-acs-action;x-acs-content-sha256;x-acs-version,Signature=00",
        },
    )
    assert status == 400
    assert json.loads(data)["Code"] == "SignatureDoesNotMatch"


NAMES = [
    "VpcId", "VSwitchId", "ZoneId", "ServiceId", "ServiceName", "EndpointId", "EndpointName",
    "LoadBalancerId", "ServerGroupId", "ListenerId", "JobId", "ResourceId", "ResourceType",
    "UserId", "UserARN", "MaxResults", "NextToken", "PageNumber", "PageSize", "DryRun",
    "ClientToken", "AutoAcceptEnabled", "ListenerPort", "ListenerProtocol", "AddressType",
    "ServerGroupName", "Bandwidth", "DurationSeconds", "RoleArn", "RoleSessionName",
    "ConnectionStatus", "InstanceIds", "SecurityGroupIds", "ServiceResourceType", "IdleTimeout",
    "ProxyProtocolV2Config", "Zone.1.ZoneId", "Zone.1.VSwitchId", "Zone.1.ip", "Zone.x.ZoneId",
    "ZoneMappings.1.ZoneId", "ZoneMappings.1.VSwitchId", "ZoneMappings.2.ZoneId",
    "ZoneMappings.1.PrivateIPv4Address", "Servers.1.ServerId", "Servers.1.Port",
    "Servers.1.Weight", "Servers.1.ServerType", "Resource.1.ResourceId", "Resource.1.ZoneId",
    "Resource.1.ResourceType", "SecurityGroupId.1", "SecurityGroupId", "Tag.1.Key",
    "Tag.1.Value", "Tag.0.Key", "TagKey.1", "ResourceId.1", "ResourceId.99999",
    "HealthCheckConfig.HealthCheckType", "HealthCheckConfig.HealthCheckInterval",
    "HealthCheckConfig.HealthCheckEnabled", "HealthCheckConfig.Nonsense", "LoadBalancerIds.1",
    "ServerGroupIds.1", "ListenerIds.1", "StartPort", "EndPort", "RegionId",
]  # fmt: skip
VALUES = [
    "", "x", "-1", "0", "1", "65536", "99999999999999999999", "True", "false", "maybe",
    "cn-hangzhou", "cn-hangzhou-g", "vpc-x", "é", "\u00a0", "a" * 300, "[1,2", '["i-1"]',
    "{}", "acs:ram", "FF00000001", "1.5", "../../etc/passwd", "%00", "Intranet", "TCP", "nlb",
]  # fmt: skip


def signed_call(client: OpenApiClient, product, action: str, query: dict) -> None:
    params = openapi_models.Params(
        action=action,
        version=product.version,
        protocol="HTTPS",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )
    client.call_api(params, openapi_models.OpenApiRequest(query=query), RuntimeOptions())


def test_junk_parameters_never_cause_a_server_error(sim, account_a, net_a):
    # Resources to aim at, so that handlers get past their first lookups.
    published = seed.publish(account_a, net_a)
    names = [*NAMES]
    values = [
        *VALUES,
        published.load_balancer_id,
        published.server_group_id,
        published.listener_id,
        published.service_id,
        net_a.vpcs["VPC2"],
        net_a.vswitches["VPC2"]["cn-hangzhou-g"],
        net_a.instances["ECS03"],
    ]
    client = OpenApiClient(config(sim, *ACCOUNT_A))
    chance = random.Random(20240101)
    calls = 0
    for product in PRODUCTS.values():
        for action in sorted(product.operations):
            for _ in range(6):
                query = {
                    chance.choice(names): chance.choice(values) for _ in range(chance.randint(0, 6))
                }
                try:
                    signed_call(client, product, action, query)
                except ClientException as refused:
                    assert 400 <= refused.status_code < 500
                    assert refused.code not in ("None", "")
                calls += 1
    assert calls == 6 * sum(len(product.operations) for product in PRODUCTS.values())
    stats = json.loads(raw(sim, "GET", "/_sim/stats")[2])
    assert "InternalError" not in stats["errors"]
