"""The demo scenario in the portal (docs/design.md, "Demo scenario"): teams, logins, cloud accounts
read from cloudsim's scenario file, and the seed's service `nginx-hangzhou`.

Used by `manage.py load_demo` and by the tests, so both build the same world. Every function is
idempotent: running it again changes nothing that is already there.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from connections.actions import publish_service
from connections.choices import CredentialSource, Role, ServiceState
from connections.inventory import SyncSummary, sync_account
from connections.models import (
    CloudAccount,
    Instance,
    Membership,
    PublishedService,
    Team,
    Vpc,
    VSwitch,
)
from connections.preflight import BackendChoice, ZoneChoice

DEFAULT_SCENARIO = Path(settings.BASE_DIR) / "cloudsim" / "scenarios" / "default.yaml"
DEMO_PASSWORD = "demo"  # noqa: S105 - the documented demo login; load_demo refuses without DEBUG

TEAMS = {"platform": "Platform", "apps": "Apps", "partners": "Partners"}
# username → (team slug, role, first name)
PEOPLE = {
    "provider": ("platform", Role.OWNER, "Priya"),
    "consumer": ("apps", Role.MEMBER, "Carlos"),
    "partner": ("partners", Role.MEMBER, "Pat"),
}
# The scenario tags each VPC with the slug of the team that owns it (VPC1 apps, VPC2 platform,
# VPC3 partners): the demo assigns VPCs the way platform teams label their networks.
TEAM_TAG = "team"

SEED_SERVICE = "nginx-hangzhou"
# The seed's two zones, where its service and the requests to it have their vSwitches.
SEED_ZONES = ("cn-hangzhou-g", "cn-hangzhou-k")
SEED_PROVIDER_UID = "1111111111111111"


def logins() -> list[tuple[str, str]]:
    """The demo logins that exist here, with who each is: the sign-in page lists them in demo
    mode (DEBUG), where load_demo made them."""
    who = {
        "provider": _("Platform team owner: publishes nginx-hangzhou, approves requests"),
        "consumer": _("Apps team member: requests access from VPC1"),
        "partner": _("Partners team member: requests access from VPC3, in account B"),
        "admin": _("platform admin: everything, and the Django admin"),
    }
    existing = set(
        get_user_model().objects.filter(username__in=who).values_list("username", flat=True)
    )
    return [(username, text) for username, text in who.items() if username in existing]


def create_people() -> dict[str, object]:
    """The demo teams and logins, password `demo`; `admin` is a platform admin."""
    user_model = get_user_model()
    teams = {
        slug: Team.objects.get_or_create(slug=slug, defaults={"name": name})[0]
        for slug, name in TEAMS.items()
    }
    users = {}
    for username, (team_slug, role, first_name) in PEOPLE.items():
        users[username] = _user(user_model, username, first_name=first_name)
        Membership.objects.get_or_create(
            team=teams[team_slug], user=users[username], defaults={"role": role}
        )
    users["admin"] = _user(user_model, "admin", first_name="Ada", is_staff=True, is_superuser=True)
    return users


def _user(user_model, username: str, **fields):
    user, created = user_model.objects.get_or_create(username=username, defaults=fields)
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def scenario_accounts(path: Path = DEFAULT_SCENARIO) -> list[dict]:
    """Name, UID and first access key of each account in a cloudsim scenario file."""
    data = yaml.safe_load(Path(path).read_text())
    accounts = []
    for account in data.get("accounts") or []:
        key = (account.get("access_keys") or [{}])[0]
        accounts.append(
            {
                "name": account["name"],
                "uid": str(account["uid"]),
                "key_id": key.get("id", ""),
                "secret": key.get("secret", ""),
            }
        )
    return accounts


def create_accounts(
    path: Path = DEFAULT_SCENARIO, region: str | None = None
) -> dict[str, CloudAccount]:
    """A CloudAccount per scenario account, with its static key."""
    accounts = {}
    for entry in scenario_accounts(path):
        account, _ = CloudAccount.objects.get_or_create(
            uid=entry["uid"],
            defaults={
                "name": f"Account {entry['name']}",
                "region": region or settings.CLOUD_REGION,
            },
        )
        account.credential_source = CredentialSource.ACCESS_KEY
        account.access_key_id = entry["key_id"]
        account.access_key_secret = entry["secret"]
        account.save()
        accounts[entry["name"]] = account
    return accounts


def sync_inventory(account: CloudAccount) -> SyncSummary:
    """Mirror the account's inventory, its VPCs assigned to teams by the scenario's team tags."""
    return sync_account(account, team_tag=TEAM_TAG)


def publish_seed_service(provider) -> PublishedService | None:
    """Publish `nginx-hangzhou` as in the seed: VPC2 over zones G and K, ECS03 and ECS04 on port
    80 at weight 100, TCP listener on 80. Needs the inventory synced; None if it already exists."""
    if (
        PublishedService.objects.filter(name=SEED_SERVICE)
        .exclude(state=ServiceState.RETIRED)
        .exists()
    ):
        return None
    # VPC names are unique only within an account: the seed's VPC2 is account A's.
    vpc = Vpc.objects.get(name="VPC2", account__uid=SEED_PROVIDER_UID)
    zones = [
        ZoneChoice(vswitch.zone_id, vswitch)
        for vswitch in VSwitch.objects.filter(vpc=vpc, zone_id__in=SEED_ZONES)
    ]
    backends = [
        BackendChoice(instance, 80, 100)
        for instance in Instance.objects.filter(vpc=vpc, name__in=["ECS03", "ECS04"])
    ]
    return publish_service(
        provider,
        team=Team.objects.get(slug="platform"),
        name=SEED_SERVICE,
        description="nginx on ECS03 and ECS04 in VPC2, behind an internal load balancer.",
        vpc=vpc,
        zones=zones,
        backends=backends,
        listener_port=80,
    )
