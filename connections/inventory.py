"""Mirror an account's network inventory (zones, VPCs, vSwitches, security groups, instances).

Forms and pre-flight checks read the mirror, never the cloud, so a page never waits on an API.
Things the cloud no longer lists are kept with `present=False`: requests may still refer to them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from connections.cloud import CloudSession
from connections.models import CloudAccount, Instance, SecurityGroup, Vpc, VSwitch, Zone


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

    def __str__(self) -> str:
        return ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in self.counts.items())


def sync_account(account: CloudAccount) -> SyncSummary:
    """Read everything first, then write in one transaction: a failed read changes nothing."""
    cloud = CloudSession(account)
    zones = cloud.vpc.zones()
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
                defaults={"local_name": zone.get("LocalName") or ""},
            )
        summary.counts["zones"] = len(zones)
        vpc_rows = {}
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
        Vpc.objects.filter(account=account).exclude(vpc_id__in=vpc_rows).update(present=False)
        summary.counts["vpcs"] = len(vpc_rows)
        for name, mirror in MIRRORS.items():
            summary.counts[name] = _mirror(account, mirror, items[name], vpc_rows)
        CloudAccount.objects.filter(pk=account.pk).update(inventory_synced_at=timezone.now())
    return summary


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
