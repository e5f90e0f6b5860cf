"""Accounts and authentication: both signatures, STS sessions, RAM allow lists, isolation."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_nlb20220430 import models as nlb_models
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_vpc20160428 import models as vpc_models
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.auth.credentials import StsTokenCredential
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest

from cloudsim import scenario
from cloudsim.server import CloudSim
from tests.cloudsim import seed
from tests.cloudsim.support import (
    ACCOUNT_A,
    ACCOUNT_B,
    REGION,
    UID_A,
    UID_B,
    acs3_headers,
    clients_for,
    control,
    raw,
    rpc_params,
    rpc_query,
)

ROLE_IN_A = f"acs:ram::{UID_A}:role/portal-provisioner"


def vpc_names(clients) -> list[str]:
    body = clients.vpc.describe_vpcs(vpc_models.DescribeVpcsRequest(region_id=REGION)).body
    return sorted(vpc.vpc_name for vpc in body.vpcs.vpc)


def assume(clients, arn: str = ROLE_IN_A, duration: int = 900, name: str = "provisioning"):
    return clients.sts.assume_role(
        sts_models.AssumeRoleRequest(
            role_arn=arn, role_session_name=name, duration_seconds=duration
        )
    ).body


def test_each_account_sees_its_own_network(account_a, account_b):
    assert vpc_names(account_a) == ["VPC1", "VPC2"]
    assert vpc_names(account_b) == ["VPC3"]
    groups = account_b.ecs.describe_security_groups(
        ecs_models.DescribeSecurityGroupsRequest(region_id=REGION)
    ).body.security_groups.security_group
    assert [g.security_group_name for g in groups] == ["sg-vpc3"]


def test_a_wrong_secret_is_refused(sim):
    clients = clients_for(sim, ACCOUNT_A[0], "not-the-secret")
    with pytest.raises(ClientException) as refused:
        vpc_names(clients)
    assert refused.value.code == "SignatureDoesNotMatch"
    assert refused.value.status_code == 400


def test_an_unknown_access_key_is_refused(sim):
    with pytest.raises(ClientException) as refused:
        vpc_names(clients_for(sim, "no-such-key", "whatever"))
    assert refused.value.code == "InvalidAccessKeyId.NotFound"
    assert refused.value.status_code == 404


def test_another_accounts_resources_stay_invisible(account_a, account_b, net_a):
    lb_id = seed.create_load_balancer(account_a, net_a)
    with pytest.raises(ClientException) as refused:
        account_b.nlb.get_load_balancer_attribute(
            nlb_models.GetLoadBalancerAttributeRequest(load_balancer_id=lb_id)
        )
    assert refused.value.code == "ResourceNotFound.loadBalancer"
    listed = account_b.nlb.list_load_balancers(nlb_models.ListLoadBalancersRequest()).body
    assert listed.total_count == 0
    # Nor can B build on A's VPC.
    with pytest.raises(ClientException) as refused:
        account_b.nlb.create_server_group(
            nlb_models.CreateServerGroupRequest(server_group_name="x-y", vpc_id=net_a.vpcs["VPC2"])
        )
    assert refused.value.code == "ResourceNotFound.Vpc"
    assert refused.value.status_code == 404


def test_sts_credentials_act_in_the_role_account_until_they_expire(sim, account_b):
    credentials = assume(account_b).credentials
    assert credentials.access_key_id.startswith("STS.")
    session = clients_for(
        sim, credentials.access_key_id, credentials.access_key_secret, credentials.security_token
    )
    identity = session.sts.get_caller_identity().body
    assert identity.account_id == UID_A
    assert identity.identity_type == "AssumedRoleUser"
    assert identity.arn == f"acs:ram::{UID_A}:role/portal-provisioner/provisioning"
    assert vpc_names(session) == ["VPC1", "VPC2"]

    assert control(sim, "POST", "clock", {"advance": 901})[0] == 200
    with pytest.raises(ClientException) as refused:
        vpc_names(session)
    assert refused.value.code == "InvalidSecurityToken.Expired"


def test_a_token_must_match_its_access_key(sim, account_b):
    first = assume(account_b, name="first").credentials
    second = assume(account_b, name="second").credentials
    mixed = clients_for(sim, first.access_key_id, first.access_key_secret, second.security_token)
    with pytest.raises(ClientException) as refused:
        vpc_names(mixed)
    assert refused.value.code == "InvalidSecurityToken.MismatchWithAccessKey"
    garbled = clients_for(sim, first.access_key_id, first.access_key_secret, "CAISnot-a-token")
    with pytest.raises(ClientException) as refused:
        vpc_names(garbled)
    assert refused.value.code == "InvalidSecurityToken.Malformed"
    permanent_with_token = clients_for(sim, *ACCOUNT_A, token=first.security_token)
    with pytest.raises(ClientException) as refused:
        vpc_names(permanent_with_token)
    assert refused.value.code == "InvalidSecurityToken.MismatchWithAccessKey"


def test_assume_role_checks_the_role_and_the_duration(account_b):
    with pytest.raises(ClientException) as refused:
        assume(account_b, arn=f"acs:ram::{UID_A}:role/no-such-role")
    assert refused.value.code == "EntityNotExist.Role"
    with pytest.raises(ClientException) as refused:
        assume(account_b, arn="arn:aws:iam::123:role/x")
    assert refused.value.code == "InvalidParameter.RoleArn"
    with pytest.raises(ClientException) as refused:
        assume(account_b, duration=60)
    assert refused.value.code == "InvalidParameter"
    assert "DurationSeconds" in refused.value.message


RESTRICTED = """
region: cn-hangzhou
zones: [{id: cn-hangzhou-g}]
accounts:
  - name: owner
    uid: "3333333333333333"
    access_keys:
      - {id: reader-key, secret: reader-secret, user: reader, allow: ["vpc:Describe*"]}
    roles:
      - {name: closed-role}
    vpcs:
      - {name: V, cidr: 10.0.0.0/16}
  - name: stranger
    uid: "4444444444444444"
    access_keys: [{id: stranger-key, secret: stranger-secret}]
"""


def test_roles_trust_only_named_accounts_and_keys_only_allowed_actions():
    with CloudSim(scenario.parse(RESTRICTED, "restricted.yaml"), delay_scale=0) as sim:
        stranger = clients_for(sim, "stranger-key", "stranger-secret")
        with pytest.raises(ClientException) as refused:
            assume(stranger, arn="acs:ram::3333333333333333:role/closed-role")
        assert refused.value.code == "NoPermission"
        assert refused.value.status_code == 403

        reader = clients_for(sim, "reader-key", "reader-secret")
        assert vpc_names(reader) == ["V"]
        assert reader.sts.get_caller_identity().body.identity_type == "RAMUser"
        with pytest.raises(ClientException) as refused:
            reader.nlb.list_load_balancers(nlb_models.ListLoadBalancersRequest())
        assert refused.value.code == "Forbidden.RAM"
        assert refused.value.status_code == 403


def core_request(sim, action: str, version: str, method: str = "POST") -> CommonRequest:
    request = CommonRequest(domain=sim.endpoint, version=version, action_name=action)
    request.set_protocol_type("http")
    request.set_method(method)
    return request


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_the_older_hmac_sha1_signature(sim, method):
    client = AcsClient(*ACCOUNT_B, REGION)
    request = core_request(sim, "DescribeVpcs", "2016-04-28", method)
    request.add_query_param("RegionId", REGION)
    request.add_query_param("VpcName", "VPC3")
    answer = json.loads(client.do_action_with_exception(request))
    assert [vpc["VpcName"] for vpc in answer["Vpcs"]["Vpc"]] == ["VPC3"]

    # Parameters in the form body are signed too (Terraform's and the core SDK's POSTs).
    request = core_request(sim, "ListLoadBalancers", "2022-04-30", method)
    if method == "POST":
        request.add_body_params("MaxResults", "5")
    else:
        request.add_query_param("MaxResults", "5")
    assert json.loads(client.do_action_with_exception(request))["MaxResults"] == 5

    wrong = AcsClient(ACCOUNT_B[0], "wrong-secret", REGION)
    with pytest.raises(ServerException) as refused:
        wrong.do_action_with_exception(core_request(sim, "DescribeVpcs", "2016-04-28", method))
    assert refused.value.get_error_code() == "SignatureDoesNotMatch"
    assert refused.value.get_http_status() == 400


def test_the_older_signature_with_sts_credentials(sim, account_b):
    credentials = assume(account_b).credentials
    client = AcsClient(
        region_id=REGION,
        credential=StsTokenCredential(
            credentials.access_key_id,
            credentials.access_key_secret,
            credentials.security_token,
        ),
    )
    answer = json.loads(
        client.do_action_with_exception(core_request(sim, "GetCallerIdentity", "2015-04-01"))
    )
    assert answer["AccountId"] == UID_A
    assert answer["IdentityType"] == "AssumedRoleUser"


def test_b_may_assume_as_in_the_demo_and_a_may_assume_into_b(sim, account_a):
    credentials = assume(account_a, arn=f"acs:ram::{UID_B}:role/portal-provisioner").credentials
    session = clients_for(
        sim, credentials.access_key_id, credentials.access_key_secret, credentials.security_token
    )
    assert vpc_names(session) == ["VPC3"]


def test_an_sts_token_never_appears_in_an_error_body(sim, account_b):
    credentials = assume(account_b).credentials
    token, key = credentials.security_token, credentials.access_key_id
    bodies = []

    # The older signature with a wrong secret: the message shows the string to sign, which
    # holds every parameter, the token among them.
    for method in ("GET", "POST"):
        params = rpc_params("DescribeVpcs", "2016-04-28", key, SecurityToken=token)
        query = rpc_query(method, params, "not-the-secret")
        if method == "GET":
            status, _, body = raw(sim, "GET", "/?" + query)
        else:
            form = {"Content-Type": "application/x-www-form-urlencoded"}
            status, _, body = raw(sim, "POST", "/", query.encode(), form)
        assert status == 400
        refusal = json.loads(body)
        assert refusal["Code"] == "SignatureDoesNotMatch"
        assert refusal["Message"].startswith(
            f"Specified signature does not match our calculation. "
            f"The server string to sign is: {method}&%2F&"
        )
        # Masked, not dropped: the string to sign still shows where the token went.
        assert "SecurityToken%3D%252A%252A%252A" in refusal["Message"]
        bodies.append(body)
    # ACS3 with a wrong secret; then the right key with another session's token, and expired.
    headers = acs3_headers(
        sim, "DescribeVpcs", "2016-04-28", key, "not-the-secret", b"", token=token
    )
    bodies.append(raw(sim, "POST", "/", b"", headers)[2])
    other = assume(account_b, name="other").credentials
    headers = acs3_headers(
        sim, "DescribeVpcs", "2016-04-28", key, credentials.access_key_secret, b"",
        token=other.security_token,
    )  # fmt: skip
    bodies.append(raw(sim, "POST", "/", b"", headers)[2])
    control(sim, "POST", "clock", {"advance": 3600})
    headers = acs3_headers(
        sim, "DescribeVpcs", "2016-04-28", key, credentials.access_key_secret, b"", token=token
    )
    bodies.append(raw(sim, "POST", "/", b"", headers)[2])

    codes = [json.loads(body)["Code"] for body in bodies]
    assert codes == [
        "SignatureDoesNotMatch",
        "SignatureDoesNotMatch",
        "SignatureDoesNotMatch",
        "InvalidSecurityToken.MismatchWithAccessKey",
        "InvalidSecurityToken.Expired",
    ]
    for body in bodies:
        for secret in (token, other.security_token, credentials.access_key_secret):
            assert secret.encode() not in body
            assert quote(secret, safe="").encode() not in body


def test_the_access_log_masks_the_sts_token(account_b, caplog):
    credentials = assume(account_b).credentials
    with CloudSim(delay_scale=0, access_log=True) as sim, caplog.at_level("INFO", "werkzeug"):
        params = rpc_params(
            "DescribeVpcs", "2016-04-28", credentials.access_key_id,
            SecurityToken=credentials.security_token,
        )  # fmt: skip
        raw(sim, "GET", "/?" + rpc_query("GET", params, "whatever"))
    assert "SecurityToken=***" in caplog.text
    assert credentials.security_token not in caplog.text
    assert quote(credentials.security_token, safe="~") not in caplog.text
