"""The inventory sync against cloudsim through the SDKs: who owns a VPC (a platform admin, or the
team its cloud tag names), and nothing mirrored with another account's credentials."""

import pytest

from connections import demo
from connections.cloud import CloudAccountMismatch, forget_sessions
from connections.inventory import sync_account
from connections.models import CloudAccount, Team, Vpc
from tests.console import Console

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts(cloudsim):
    cloudsim.reset()
    forget_sessions()
    demo.create_people()
    return demo.create_accounts()


def owners() -> dict[str, str | None]:
    return {vpc.name: vpc.team.slug if vpc.team else None for vpc in Vpc.objects.all()}


def tag_vpc(account: CloudAccount, vpc_name: str, key: str, value: str) -> None:
    """What a platform team does in the console: label its network."""
    vpc = Vpc.objects.get(name=vpc_name)
    Console(account).call(
        "vpc",
        "TagResources",
        RegionId=account.region,
        ResourceType="VPC",
        ResourceId=[vpc.vpc_id],
        Tag=[{"Key": key, "Value": value}],
    )


def test_the_team_tag_assigns_each_vpc_to_its_team(accounts):
    for account in accounts.values():
        summary = sync_account(account, team_tag="team")
        assert "assigned to a team by their team tag" in str(summary)

    assert owners() == {"VPC1": "apps", "VPC2": "platform", "VPC3": "partners"}


def test_without_a_team_tag_only_a_platform_admin_assigns(accounts):
    sync_account(accounts["A"], team_tag="")
    assert owners() == {"VPC1": None, "VPC2": None}
    Vpc.objects.filter(name="VPC1").update(team=Team.objects.get(slug="platform"))

    sync_account(accounts["A"], team_tag="")

    assert owners() == {"VPC1": "platform", "VPC2": None}  # the admin's choice stands


def test_a_retagged_vpc_moves_and_the_sync_says_so(accounts):
    sync_account(accounts["A"], team_tag="team")
    tag_vpc(accounts["A"], "VPC1", "team", "platform")

    summary = str(sync_account(accounts["A"], team_tag="team"))

    assert owners()["VPC1"] == "platform"
    assert "VPC1" in summary and "moved from Apps to Platform by its tag" in summary


def test_a_tag_naming_no_team_changes_nothing_and_says_so(accounts):
    sync_account(accounts["A"], team_tag="team")
    tag_vpc(accounts["A"], "VPC1", "team", "ghosts")

    summary = str(sync_account(accounts["A"], team_tag="team"))

    assert owners()["VPC1"] == "apps"
    assert "is tagged team=ghosts, but no team has that slug" in summary


def test_another_accounts_credentials_mirror_nothing(accounts):
    for account in accounts.values():
        demo.sync_inventory(account)
    before = {vpc.vpc_id: (vpc.account_id, vpc.team_id, vpc.present) for vpc in Vpc.objects.all()}
    mis_keyed = accounts["A"]
    mis_keyed.access_key_id, mis_keyed.access_key_secret = "demo-b-key", "demo-b-secret"
    mis_keyed.save()

    with pytest.raises(CloudAccountMismatch) as refused:
        sync_account(mis_keyed, team_tag="team")

    assert "belong to account 2222222222222222, not 1111111111111111" in refused.value.message
    after = {vpc.vpc_id: (vpc.account_id, vpc.team_id, vpc.present) for vpc in Vpc.objects.all()}
    assert after == before


def test_a_platform_admins_assignment_stands_against_a_tag(accounts, admin_client, settings):
    settings.SECURE_SSL_REDIRECT = False
    sync_account(accounts["A"], team_tag="team")
    vpc1 = Vpc.objects.get(name="VPC1")
    platform = Team.objects.get(slug="platform")
    # A platform admin gives VPC1 to Platform in the admin's list.
    response = admin_client.post(
        "/admin/connections/vpc/",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(vpc1.pk),
            "form-0-team": str(platform.pk),
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.content[:500]

    summary = str(sync_account(accounts["A"], team_tag="team"))  # VPC1 is still tagged apps

    assert owners()["VPC1"] == "platform"
    assert "is tagged team=apps, but a platform admin gave it to Platform" in summary
