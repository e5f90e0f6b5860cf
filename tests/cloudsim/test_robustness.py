"""Bad input never produces a 500: raw malformed HTTP, signed calls with junk parameters to every
operation of every product, and valid calls with one parameter turned to junk at a time."""

from __future__ import annotations

import json
import random

import pytest
from alibabacloud_tea_openapi import utils_models as openapi_models
from alibabacloud_tea_openapi.client import Client as OpenApiClient
from alibabacloud_tea_openapi.exceptions import ClientException
from darabonba.runtime import RuntimeOptions

from cloudsim.products import PRODUCTS
from tests.cloudsim import seed
from tests.cloudsim.support import (
    ACCOUNT_A,
    REGION,
    UID_A,
    acs3_headers,
    config,
    raw,
)

ERROR_KEYS = {"RequestId", "HostId", "Code", "Message", "Recommend"}
LIST_ENDPOINTS = {"x-acs-action": "ListVpcEndpoints", "x-acs-version": "2020-04-15"}


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
        # A signature with a non-ASCII character, in the header (Latin-1) and in the query.
        ("POST", "/", b"", LIST_ENDPOINTS | {"Authorization": "ACS3-HMAC-SHA256 "
         "Credential=demo-a-key,SignedHeaders=x-acs-action,Signature=\xff"},
         400, "SignatureDoesNotMatch"),
        ("GET", "/?Action=DescribeVpcs&Version=2016-04-28&Signature=%C3%A9&AccessKeyId=demo-a-key",
         b"", {}, 400, "SignatureDoesNotMatch"),
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


def test_a_body_changed_after_signing_is_refused(sim):
    # Signed properly over the body it claims (x-acs-content-sha256), so only the body check can
    # tell; the unchanged request passes, which proves the signature itself is right.
    body = f"RegionId={REGION}&VpcId=vpc-x".encode()
    headers = acs3_headers(sim, "ListVpcEndpoints", "2020-04-15", *ACCOUNT_A, body)
    status, _, data = raw(sim, "POST", "/", body, headers)
    assert status == 200, data
    status, _, data = raw(sim, "POST", "/", f"RegionId={REGION}&VpcId=vpc-y".encode(), headers)
    assert status == 400
    refusal = json.loads(data)
    assert refusal["Code"] == "SignatureDoesNotMatch"
    assert "x-acs-content-sha256 does not match the request body" in refusal["Message"]


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


# -- one junk parameter in an otherwise valid call ------------------------------------------------

# Values that reach conversions (int, ipaddress, json) once the rest of the call is valid.
JUNK = [
    None,  # the parameter left out
    "", "x", "-1", "0", "65536", "99999999999999999999", "1.5", "1_000", "maybe", "NaN",
    "²", "٣", "é", "\u00a0", "a" * 300, "[" * 1500, '{"Ppv2VpcIdEnabled": [[]]}', "{}",
    "not-an-ip", "10.0.23.999", "10.0.23.0", "::1", "192.168.2.255", "%00",
]  # fmt: skip


def valid_calls(published, net, endpoint_id: str, group_id: str) -> list[tuple[str, str, dict]]:
    """(version, action, parameters) of calls that succeed as they are; the parameters after
    the first key are the ones to spoil, and `None` values are tried only spoiled."""
    vpc1, vpc2 = net.vswitches["VPC1"], net.vswitches["VPC2"]
    g, k = seed.ZONE_G, seed.ZONE_K
    return [
        ("2022-04-30", "CreateLoadBalancer", {
            "AddressType": "Intranet", "VpcId": net.vpcs["VPC2"],
            "ZoneMappings.1.ZoneId": g, "ZoneMappings.1.VSwitchId": vpc2[g],
            "ZoneMappings.2.ZoneId": k, "ZoneMappings.2.VSwitchId": vpc2[k],
            "ZoneMappings.1.PrivateIPv4Address": None,
        }),
        ("2022-04-30", "CreateServerGroup", {
            "ServerGroupName": "junk-group", "VpcId": net.vpcs["VPC2"],
            "HealthCheckConfig.HealthCheckInterval": "10",
            "HealthCheckConfig.HealthCheckConnectPort": "0",
            "HealthCheckConfig.HealthCheckType": "HTTP",
            "HealthCheckConfig.HealthCheckUrl": "/",
            "ConnectionDrainTimeout": "10",
        }),
        ("2022-04-30", "AddServersToServerGroup", {
            "ServerGroupId": group_id, "Servers.1.ServerId": "192.168.2.7",
            "Servers.1.ServerType": "Ip", "Servers.1.Port": "8080", "Servers.1.Weight": "50",
            "Servers.1.ServerIp": None,
        }),
        ("2022-04-30", "CreateListener", {
            "LoadBalancerId": published.load_balancer_id, "ListenerProtocol": "TCP",
            "ListenerPort": "8080", "ServerGroupId": published.server_group_id,
            "IdleTimeout": "900", "ProxyProtocolV2Config": '{"Ppv2VpcIdEnabled": true}',
            "StartPort": None,
        }),
        ("2020-04-15", "CreateVpcEndpoint", {
            "VpcId": net.vpcs["VPC1"], "ServiceId": published.service_id,
            "SecurityGroupId.1": net.security_groups["sg-vpc1"],
            "Zone.1.ZoneId": g, "Zone.1.VSwitchId": vpc1[g], "Zone.1.ip": None,
            "EndpointName": "junk", "RegionId": REGION,
        }),
        ("2020-04-15", "AddUserToVpcEndpointService", {
            "ServiceId": published.service_id, "UserId": "2222222222222222", "UserARN": None,
            "RegionId": REGION,
        }),
        ("2020-04-15", "UpdateVpcEndpointServiceAttribute", {
            "ServiceId": published.service_id, "ConnectBandwidth": "200",
            "AutoAcceptEnabled": "false", "RegionId": REGION,
        }),
        ("2020-04-15", "EnableVpcEndpointConnection", {
            "ServiceId": published.service_id, "EndpointId": endpoint_id, "Bandwidth": "1024",
            "RegionId": REGION,
        }),
        ("2020-04-15", "ListVpcEndpointConnections", {
            "ServiceId": published.service_id, "EndpointOwnerId": UID_A, "MaxResults": "10",
            "RegionId": REGION,
        }),
        ("2014-05-26", "DescribeInstances", {
            "RegionId": "cn-hangzhou", "InstanceIds": json.dumps([net.instances["ECS03"]]),
            "PageSize": "10",
        }),
        ("2015-04-01", "AssumeRole", {
            "RoleArn": f"acs:ram::{UID_A}:role/portal-provisioner",
            "RoleSessionName": "junk", "DurationSeconds": "900",
        }),
    ]  # fmt: skip


READS_AFTERWARDS = [
    ("2020-04-15", "ListVpcEndpointServiceUsers", "ServiceId"),
    ("2020-04-15", "ListVpcEndpointServiceUsers", "ServiceId", {"UserListType": "UserARNs"}),
    ("2020-04-15", "ListVpcEndpointConnections", "ServiceId"),
    ("2020-04-15", "ListVpcEndpoints", None),
    ("2020-04-15", "GetVpcEndpointServiceAttribute", "ServiceId"),
    ("2022-04-30", "ListLoadBalancers", None),
    ("2022-04-30", "ListServerGroups", None),
    ("2022-04-30", "ListServerGroupServers", None),
    ("2022-04-30", "ListListeners", None),
    ("2022-04-30", "ListAsynJobs", None),
    ("2016-04-28", "DescribeVSwitches", None),
]


def test_one_junk_parameter_in_a_valid_call_never_causes_a_server_error(sim, account_a, net_a):
    published = seed.publish(account_a, net_a)
    endpoint_id = account_a.privatelink.create_vpc_endpoint(
        seed.endpoint_request(net_a, published.service_id)
    ).body.endpoint_id
    group_id = seed.create_server_group(account_a, net_a, name="junk-target")
    client = OpenApiClient(config(sim, *ACCOUNT_A))
    products = {product.version: product for product in PRODUCTS.values()}
    calls = 0
    for version, action, params in valid_calls(published, net_a, endpoint_id, group_id):
        product = products[version]
        base = {name: value for name, value in params.items() if value is not None}
        signed_call(client, product, action, base)  # valid as it is
        for name in list(params)[1:]:
            for value in JUNK:
                query = dict(base)
                if value is None:
                    query.pop(name, None)
                else:
                    query[name] = value
                try:
                    signed_call(client, product, action, query)
                except ClientException as refused:
                    assert 400 <= refused.status_code < 500, (action, name, value, refused)
                calls += 1
    assert calls > 1000
    # What the calls stored must not break the calls that read it back.
    for version, action, id_name, *extra in READS_AFTERWARDS:
        query = {id_name: published.service_id} if id_name else {}
        if version == "2020-04-15":
            query["RegionId"] = REGION  # every PrivateLink operation requires it
        signed_call(client, products[version], action, query | (extra[0] if extra else {}))
    stats = json.loads(raw(sim, "GET", "/_sim/stats")[2])
    assert "InternalError" not in stats["errors"], stats["errors"]
