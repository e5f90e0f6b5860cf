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
    assert "ok   Account A (1111111111111111" in out
    assert (
        "FAIL Account B (2222222222222222, Access key (stored encrypted)): credentials refused"
        in out
    )
    assert "not-the-secret" not in out


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
