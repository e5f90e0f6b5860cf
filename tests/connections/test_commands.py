"""Management commands: load_demo, sync_inventory and check_cloud, against cloudsim."""

import pytest
from django.core.management import CommandError, call_command

from connections.choices import ServiceState
from connections.models import CloudAccount, PublishedService, Team, Vpc
from tests.connections.conftest import wait_for_state


@pytest.fixture
def cloud(cloudsim):
    from connections.cloud import forget_sessions

    cloudsim.reset()
    forget_sessions()
    return cloudsim


@pytest.mark.worker
def test_load_demo_builds_the_world_and_publishes_the_seed_service(
    transactional_db, cloud, celery_worker_process, settings, capsys
):
    settings.DEBUG = True

    call_command("load_demo")
    call_command("load_demo")  # a second run changes nothing

    assert sorted(Team.objects.values_list("name", flat=True)) == ["Apps", "Partners", "Platform"]
    assert sorted(CloudAccount.objects.values_list("uid", flat=True)) == [
        "1111111111111111",
        "2222222222222222",
    ]
    assert sorted(Vpc.objects.values_list("name", flat=True)) == ["VPC1", "VPC2", "VPC3"]
    service = PublishedService.objects.get(name="nginx-hangzhou")
    wait_for_state(service, ServiceState.AVAILABLE)
    assert service.zone_ids == ["cn-hangzhou-g", "cn-hangzhou-k"]
    assert sorted(service.backends.values_list("instance__name", "port", "weight")) == [
        ("ECS03", 80, 100),
        ("ECS04", 80, 100),
    ]
    assert "demo logins" in capsys.readouterr().out


def test_load_demo_refuses_without_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="needs DEBUG"):
        call_command("load_demo")


@pytest.fixture
def accounts(db, cloud):
    good = CloudAccount(name="Account A", uid="1111111111111111", access_key_id="demo-a-key")
    good.access_key_secret = "demo-a-secret"
    good.save()
    bad = CloudAccount(name="Account B", uid="2222222222222222", access_key_id="demo-b-key")
    bad.access_key_secret = "not-the-secret"
    bad.save()
    return good, bad


def test_check_cloud_reports_each_account_plainly(accounts, capsys):
    with pytest.raises(CommandError, match="1 account"):
        call_command("check_cloud")

    out = capsys.readouterr().out
    a_part, _, b_part = out.partition("Account B")
    # Account A: one line per prerequisite and per permission, each passing.
    assert "ok   credentials: account 1111111111111111" in a_part
    assert "ok   PrivateLink activated" in a_part
    assert "ok   NLB zones: cn-hangzhou-g, cn-hangzhou-h, cn-hangzhou-k" in a_part
    for action in ("nlb:CreateLoadBalancer", "privatelink:CreateVpcEndpoint", "vpc:DescribeVpcs"):
        assert f"ok   {action}: allowed" in a_part
    assert "FAIL" not in a_part
    # Account B's secret is wrong: said once, and nothing else is tried.
    assert "FAIL credentials: SignatureDoesNotMatch" in b_part
    assert "nlb:" not in b_part
    assert "not-the-secret" not in out


def test_check_cloud_checks_one_account_for_one_role(accounts, capsys):
    call_command("check_cloud", "1111111111111111", "--role", "consumer")

    out = capsys.readouterr().out
    assert "Account B" not in out
    assert "ok   privatelink:CreateVpcEndpoint: allowed" in out
    # A consumer account needs neither NLB's writes nor PrivateLink's activation.
    assert "nlb:CreateLoadBalancer" not in out
    assert "PrivateLink activated" not in out


def test_sync_inventory_mirrors_a_named_account(accounts, capsys):
    call_command("sync_inventory", "Account A")

    assert sorted(Vpc.objects.values_list("name", flat=True)) == ["VPC1", "VPC2"]
    assert (
        "Account A: 3 zones, 2 vpcs, 5 vswitches, 2 security groups, 4 instances"
        in capsys.readouterr().out
    )


def test_sync_inventory_refuses_an_unknown_account(accounts):
    with pytest.raises(CommandError, match="no cloud account named Account Z"):
        call_command("sync_inventory", "Account Z")
