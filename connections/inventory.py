"""Mirror an account's network inventory (zones, VPCs, vSwitches, security groups, instances).

Forms and pre-flight checks read the mirror, never the cloud, so a page never waits on an API.
Things the cloud no longer lists are kept with `present=False`: requests may still refer to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from connections.cloud import CloudSession
from connections.models import CloudAccount, Instance, SecurityGroup, Vpc, VSwitch, Zone


@dataclass
class SyncSummary:
    zones: int = 0
    vpcs: int = 0
    vswitches: int = 0
    security_groups: int = 0
    instances: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in vars(self).items())


def sync_account(account: CloudAccount) -> SyncSummary:
    """Read everything first, then write in one transaction: a failed read changes nothing."""
    cloud = CloudSession(account)
    zones = cloud.vpc.zones()
    vpcs = list(cloud.vpc.vpcs())
    vswitches = list(cloud.vpc.vswitches())
    groups = list(cloud.ecs.security_groups())
    instances = list(cloud.ecs.instances())
    summary = SyncSummary()
    with transaction.atomic():
        for zone in zones:
            Zone.objects.update_or_create(
                account=account,
                zone_id=zone["ZoneId"],
                defaults={"local_name": zone.get("LocalName") or ""},
            )
            summary.zones += 1
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
            summary.vpcs += 1
        Vpc.objects.filter(account=account).exclude(vpc_id__in=vpc_rows).update(present=False)

        seen = set()
        for vswitch in vswitches:
            if vswitch.get("VpcId") not in vpc_rows:
                continue
            VSwitch.objects.update_or_create(
                vswitch_id=vswitch["VSwitchId"],
                defaults={
                    "vpc": vpc_rows[vswitch["VpcId"]],
                    "name": vswitch.get("VSwitchName") or "",
                    "zone_id": vswitch.get("ZoneId") or "",
                    "cidr": vswitch.get("CidrBlock") or "",
                    "present": True,
                },
            )
            seen.add(vswitch["VSwitchId"])
        VSwitch.objects.filter(vpc__account=account).exclude(vswitch_id__in=seen).update(
            present=False
        )
        summary.vswitches = len(seen)

        seen = set()
        for group in groups:
            if group.get("VpcId") not in vpc_rows:
                continue
            SecurityGroup.objects.update_or_create(
                security_group_id=group["SecurityGroupId"],
                defaults={
                    "vpc": vpc_rows[group["VpcId"]],
                    "name": group.get("SecurityGroupName") or "",
                    "present": True,
                },
            )
            seen.add(group["SecurityGroupId"])
        SecurityGroup.objects.filter(vpc__account=account).exclude(
            security_group_id__in=seen
        ).update(present=False)
        summary.security_groups = len(seen)

        seen = set()
        for instance in instances:
            network = instance.get("VpcAttributes") or {}
            if network.get("VpcId") not in vpc_rows:
                continue
            addresses = (network.get("PrivateIpAddress") or {}).get("IpAddress") or []
            Instance.objects.update_or_create(
                instance_id=instance["InstanceId"],
                defaults={
                    "vpc": vpc_rows[network["VpcId"]],
                    "name": instance.get("InstanceName") or "",
                    "zone_id": instance.get("ZoneId") or "",
                    "private_ip": addresses[0] if addresses else "",
                    "status": instance.get("Status") or "",
                    "present": True,
                },
            )
            seen.add(instance["InstanceId"])
        Instance.objects.filter(vpc__account=account).exclude(instance_id__in=seen).update(
            present=False
        )
        summary.instances = len(seen)

        CloudAccount.objects.filter(pk=account.pk).update(inventory_synced_at=timezone.now())
    return summary
