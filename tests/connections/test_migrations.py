"""Migrations that move data: VPC ownership from what teams used before (0004)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("connections", "0003_workflow_hops_and_protected_events")]
AFTER = [("connections", "0004_vpc_owners_and_delivery_counts")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def latest_afterwards():
    """Every other test needs the schema of today's models: migrate forward again at the end."""
    yield
    executor = MigrationExecutor(connection)
    migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_vpcs_go_to_the_team_that_used_them_and_the_doubtful_ones_are_listed(capsys):
    old = migrate(BEFORE)
    Team = old.get_model("connections", "Team")
    CloudAccount = old.get_model("connections", "CloudAccount")
    Vpc = old.get_model("connections", "Vpc")
    VSwitch = old.get_model("connections", "VSwitch")
    PublishedService = old.get_model("connections", "PublishedService")
    AccessRequest = old.get_model("connections", "AccessRequest")
    platform = Team.objects.create(name="Platform", slug="platform")
    apps = Team.objects.create(name="Apps", slug="apps")
    shared = CloudAccount.objects.create(name="A", uid="1111111111111111")
    shared.teams.set([platform, apps])
    solo = CloudAccount.objects.create(name="B", uid="2222222222222222")
    solo.teams.set([apps])
    provider_vpc = Vpc.objects.create(account=shared, vpc_id="vpc-2", name="VPC2")
    consumer_vpc = Vpc.objects.create(account=shared, vpc_id="vpc-1", name="VPC1")
    Vpc.objects.create(account=shared, vpc_id="vpc-9", name="VPC9")
    Vpc.objects.create(account=solo, vpc_id="vpc-3", name="VPC3")
    service = PublishedService.objects.create(
        owner_team=platform, name="nginx", account=shared, vpc=provider_vpc, listener_port=80
    )
    VSwitch.objects.create(vpc=consumer_vpc, vswitch_id="vsw-1", zone_id="cn-hangzhou-g")
    AccessRequest.objects.create(
        service=service, consumer_team=apps, vpc=consumer_vpc, justification="history"
    )

    new = migrate(AFTER)

    owners = {
        vpc.name: vpc.team.slug if vpc.team else None
        for vpc in new.get_model("connections", "Vpc").objects.select_related("team")
    }
    assert owners == {"VPC1": "apps", "VPC2": "platform", "VPC3": "apps", "VPC9": None}
    out = capsys.readouterr().out
    assert "vpc-9 (VPC9, account A)" in out and "Django admin" in out
    assert "vpc-1" not in out


@pytest.mark.django_db(transaction=True)
def test_going_back_lets_every_owning_team_use_its_accounts_again():
    new = migrate(AFTER)
    Team = new.get_model("connections", "Team")
    CloudAccount = new.get_model("connections", "CloudAccount")
    Vpc = new.get_model("connections", "Vpc")
    apps = Team.objects.create(name="Apps", slug="apps")
    account = CloudAccount.objects.create(name="A", uid="1111111111111111")
    Vpc.objects.create(account=account, team=apps, vpc_id="vpc-1", name="VPC1")

    old = migrate(BEFORE)

    teams = old.get_model("connections", "CloudAccount").objects.get(uid=account.uid).teams
    assert list(teams.values_list("slug", flat=True)) == ["apps"]
