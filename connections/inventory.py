"""Mirror an account's network inventory (zones, VPCs, vSwitches, security groups, instances).

Zones carry which of NLB and PrivateLink are offered in them (each product's DescribeZones), so
that the forms offer only zones a service or an endpoint can use.

Forms and pre-flight checks read the mirror, never the cloud, so a page never waits on an API.
Things the cloud no longer lists are kept with `present=False`: requests may still refer to them.

Before anything is read, the credentials must prove (STS) that they belong to the account: the
mirror decides which account, and through VPC ownership which team, a network belongs to.

VPC ownership: a platform admin assigns a VPC to a team (Django admin). With a team tag key set
(settings.INVENTORY_TEAM_TAG, e.g. `team`), a VPC that carries that tag is assigned to the team
whose slug is its value, the way platform teams label their networks: an unassigned VPC, or one
an earlier tag assigned. A platform admin's assignment stands whatever the tags say (the sync
reports the disagreement): whoever may tag resources in a shared account must not be able to
take a network an admin gave to another team. A VPC without the tag keeps its assignment, and a
value that names no team changes nothing (the sync says so).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connections.cloud import CloudSession
from connections.models import CloudAccount, Instance, SecurityGroup, Team, Vpc, VSwitch, Zone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mirror:
    """How one kind of cloud item maps onto a model row inside a VPC."""

    model: type
    id_field: str
    cloud_id: str
    vpc_of: Callable[[dict], str | None]
    fields: Callable[[dict], dict]


def _first_private_ip(instance: dict) -> str:
    addresses = ((instance.get("VpcAttributes") or {}).get("PrivateIpAddress") or {}).get(
        "IpAddress"
    ) or []
    return addresses[0] if addresses else ""


MIRRORS = {
    "vswitches": Mirror(
        VSwitch,
        "vswitch_id",
        "VSwitchId",
        vpc_of=lambda item: item.get("VpcId"),
        fields=lambda item: {
            "name": item.get("VSwitchName") or "",
            "zone_id": item.get("ZoneId") or "",
            "cidr": item.get("CidrBlock") or "",
        },
    ),
    "security_groups": Mirror(
        SecurityGroup,
        "security_group_id",
        "SecurityGroupId",
        vpc_of=lambda item: item.get("VpcId"),
        fields=lambda item: {"name": item.get("SecurityGroupName") or ""},
    ),
    "instances": Mirror(
        Instance,
        "instance_id",
        "InstanceId",
        vpc_of=lambda item: (item.get("VpcAttributes") or {}).get("VpcId"),
        fields=lambda item: {
            "name": item.get("InstanceName") or "",
            "zone_id": item.get("ZoneId") or "",
            "private_ip": _first_private_ip(item),
            "status": item.get("Status") or "",
        },
    ),
}


@dataclass
class SyncSummary:
    counts: dict[str, int] = field(default_factory=dict)
    # What an operator should look at: tags naming unknown teams, VPCs moved to another team.
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        counts = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in self.counts.items())
        return "; ".join([counts, *self.notes])


def _tag(item: dict, key: str) -> str | None:
    tags = (item.get("Tags") or {}).get("Tag") or []
    return next((tag.get("Value") for tag in tags if tag.get("Key") == key), None)


def sync_account(account: CloudAccount, *, team_tag: str | None = None) -> SyncSummary:
    """Read everything first, then write in one transaction: a failed read changes nothing.

    `team_tag` is the tag key that assigns VPCs to teams (default: settings.INVENTORY_TEAM_TAG).
    Raises CloudAccountMismatch, before reading anything, when the credentials are another
    account's.
    """
    team_tag = settings.INVENTORY_TEAM_TAG if team_tag is None else team_tag
    cloud = CloudSession(account, patient=True)
    cloud.verify_account()
    zones = cloud.vpc.zones()
    nlb_zones, privatelink_zones = set(cloud.nlb.zones()), set(cloud.privatelink.zones())
    vpcs = list(cloud.vpc.vpcs())
    items = {
        "vswitches": list(cloud.vpc.vswitches()),
        "security_groups": list(cloud.ecs.security_groups()),
        "instances": list(cloud.ecs.instances()),
    }
    summary = SyncSummary()
    with transaction.atomic():
        # Locked: two syncs of one account at once would race in update_or_create.
        CloudAccount.objects.select_for_update().get(pk=account.pk)
        for zone in zones:
            Zone.objects.update_or_create(
                account=account,
                zone_id=zone["ZoneId"],
                defaults={
                    "local_name": zone.get("LocalName") or "",
                    "nlb_offered": zone["ZoneId"] in nlb_zones,
                    "privatelink_offered": zone["ZoneId"] in privatelink_zones,
                },
            )
        summary.counts["zones"] = len(zones)
        vpc_rows, assigned = {}, 0
        for vpc in vpcs:
            vpc_rows[vpc["VpcId"]], _ = Vpc.objects.update_or_create(
                vpc_id=vpc["VpcId"],
                defaults={
                    "account": account,
                    "name": vpc.get("VpcName") or "",
                    "cidr": vpc.get("CidrBlock") or "",
                    "present": True,
                },
            )
            if team_tag:
                row, slug = vpc_rows[vpc["VpcId"]], _tag(vpc, team_tag)
                assigned += _assign_from_tag(row, slug, team_tag, summary)
        Vpc.objects.filter(account=account).exclude(vpc_id__in=vpc_rows).update(present=False)
        summary.counts["vpcs"] = len(vpc_rows)
        if assigned:
            summary.notes.append(f"{assigned} VPC(s) assigned to a team by their {team_tag} tag")
        for name, mirror in MIRRORS.items():
            summary.counts[name] = _mirror(account, mirror, items[name], vpc_rows)
        CloudAccount.objects.filter(pk=account.pk).update(inventory_synced_at=timezone.now())
    return summary


def _assign_from_tag(vpc: Vpc, slug: str | None, tag_key: str, summary: SyncSummary) -> bool:
    """Give `vpc` to the team its tag names; True when that changed its team."""
    if not slug:
        return False
    team = Team.objects.filter(slug=slug).first()
    if team is None:
        summary.notes.append(f"{vpc} is tagged {tag_key}={slug}, but no team has that slug")
        return False
    if vpc.team_id == team.pk:
        return False
    if vpc.team_assigned_by == "admin":
        summary.notes.append(
            f"{vpc} is tagged {tag_key}={slug}, but a platform admin gave it to {vpc.team}: "
            "the admin's choice stands"
        )
        return False
    if vpc.team_id is not None:
        # Ownership decides who may use a network: a change is worth a line in the log.
        logger.warning("VPC %s moves from team %s to %s by its tag", vpc.vpc_id, vpc.team, team)
        summary.notes.append(f"{vpc} moved from {vpc.team} to {team} by its tag")
    vpc.team, vpc.team_assigned_by = team, "tag"
    vpc.save(update_fields=["team", "team_assigned_by"])
    return True


def _mirror(
    account: CloudAccount, mirror: Mirror, items: list[dict], vpc_rows: dict[str, Vpc]
) -> int:
    seen = set()
    for item in items:
        vpc = vpc_rows.get(mirror.vpc_of(item))
        if vpc is None:
            continue  # outside the account's VPCs (classic network, or listed mid-change)
        mirror.model.objects.update_or_create(
            **{mirror.id_field: item[mirror.cloud_id]},
            defaults={"vpc": vpc, "present": True, **mirror.fields(item)},
        )
        seen.add(item[mirror.cloud_id])
    stale = mirror.model.objects.filter(vpc__account=account).exclude(
        **{f"{mirror.id_field}__in": seen}
    )
    stale.update(present=False)
    return len(seen)
