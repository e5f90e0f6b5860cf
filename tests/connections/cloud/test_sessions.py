"""The cloud adapter against cloudsim: credentials (key, STS role), error translation, tags."""

import pytest

from connections.choices import CredentialSource
from connections.cloud import (
    CloudInvalidInput,
    CloudNotAuthorised,
    CloudNotFound,
    CloudSession,
    RetryableCloudError,
    forget_sessions,
)
from connections.cloud import credentials as credentials_module
from connections.models import CloudAccount

pytestmark = pytest.mark.django_db


@pytest.fixture
def cloud(cloudsim):
    cloudsim.reset()
    forget_sessions()
    return cloudsim


@pytest.fixture
def account_a(cloud):
    account = CloudAccount(name="A", uid="1111111111111111", access_key_id="demo-a-key")
    account.access_key_secret = "demo-a-secret"
    account.save()
    return account


def test_a_static_key_reaches_its_own_account(account_a):
    identity = CloudSession(account_a).sts.caller_identity()

    assert identity["AccountId"] == "1111111111111111"
    assert identity.request_id


def test_a_wrong_secret_is_not_authorised_and_says_nothing_of_the_secret(account_a):
    account_a.access_key_secret = "wrong-secret"

    with pytest.raises(CloudNotAuthorised) as caught:
        CloudSession(account_a).sts.caller_identity()

    assert caught.value.code == "SignatureDoesNotMatch"
    assert "wrong-secret" not in str(caught.value)


def test_a_ram_role_is_assumed_through_sts_and_the_session_is_reused(cloud, account_a):
    role_account = CloudAccount.objects.create(
        name="B",
        uid="2222222222222222",
        credential_source=CredentialSource.RAM_ROLE,
        role_arn="acs:ram::2222222222222222:role/portal-provisioner",
        assume_from=account_a,
    )

    first = CloudSession(role_account).sts.caller_identity()
    vpcs = [vpc["VpcName"] for vpc in CloudSession(role_account).vpc.vpcs()]

    assert first["AccountId"] == "2222222222222222"
    assert vpcs == ["VPC3"]
    assert cloud.stats()["calls"]["AssumeRole"] == 1
    assert len(credentials_module._sessions) == 1
    assert "demo" not in repr(next(iter(credentials_module._sessions.values())))


def test_throttling_with_retry_after_is_retryable_with_its_wait(cloud, account_a):
    cloud.control(
        "POST",
        "faults",
        {"kind": "throttle", "action": "DescribeVpcs", "count": 1, "retry_after_ms": 1500},
    )

    with pytest.raises(RetryableCloudError) as caught:
        list(CloudSession(account_a).vpc.vpcs())

    assert caught.value.code == "Throttling.User"
    assert caught.value.retry_after == pytest.approx(1.5)


def test_a_5xx_and_a_dropped_connection_are_retryable(cloud, account_a):
    api = CloudSession(account_a).vpc
    cloud.control("POST", "faults", {"kind": "unavailable", "action": "DescribeVpcs", "count": 1})
    with pytest.raises(RetryableCloudError) as unavailable:
        list(api.vpcs())
    cloud.control("POST", "faults", {"kind": "drop", "action": "DescribeVpcs", "count": 1})
    with pytest.raises(RetryableCloudError) as dropped:
        list(api.vpcs())

    assert unavailable.value.code == "ServiceUnavailable"
    assert dropped.value.code == "NetworkError"


def test_unknown_resources_are_not_found_and_bad_input_is_invalid(account_a):
    api = CloudSession(account_a).privatelink

    with pytest.raises(CloudNotFound) as missing:
        api.get_endpoint("ep-doesnotexist0000000")
    with pytest.raises(CloudInvalidInput) as invalid:
        api.create_endpoint(
            name="x",
            vpc_id="",
            service_id="",
            security_group_ids=[],
            zones=[],
            tags=[],
            client_token="t",
        )

    assert missing.value.code == "EndpointNotFound"
    assert invalid.value.message
