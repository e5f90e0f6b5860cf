"""VPC 2016-04-28: the scenario's networks, read-only but for their tags.

DescribeVpcs, DescribeVSwitches and DescribeZones, paged by PageNumber/PageSize; TagResources,
UntagResources and ListTagResources on VPCs (ResourceType `VPC`), as a platform team labels its
networks.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from cloudsim import ids
from cloudsim.params import page_number
from cloudsim.products import tagging
from cloudsim.products.base import Context, Product, resource_group, tag_list
from cloudsim.store import Record

PRODUCT = Product("vpc", "2016-04-28", "vpc")
tagging.register(
    PRODUCT,
    {"VPC": ("vpc", "InvalidVpcId.NotFound")},
    page_limit=50,
    with_total=False,
    list_wrapper="TagResource",
)
SCENARIO_TIME = "2024-01-01T00:00:00Z"


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


@PRODUCT.action("DescribeVpcs")
def describe_vpcs(ctx: Context) -> dict[str, Any]:
    wanted_ids = _split(ctx.params.text("VpcId", max_len=2000))
    name = ctx.params.text("VpcName")
    is_default = ctx.params.boolean("IsDefault")
    vpcs = [
        vpc
        for vpc in ctx.store.owned("vpc", ctx.uid)
        if (not wanted_ids or vpc["VpcId"] in wanted_ids)
        and (name is None or vpc["VpcName"] == name)
        and is_default in (None, False)
    ]
    page, number, size = page_number(vpcs, ctx.params)
    return {
        "Vpcs": {"Vpc": [_vpc(ctx, vpc) for vpc in page]},
        "TotalCount": len(vpcs),
        "PageNumber": number,
        "PageSize": size,
    }


def _vpc(ctx: Context, vpc: Record) -> dict[str, Any]:
    return {
        "VpcId": vpc["VpcId"],
        "VpcName": vpc["VpcName"],
        "CidrBlock": vpc["CidrBlock"],
        "Status": "Available",
        "RegionId": ctx.region,
        "OwnerId": int(vpc["_owner"]),
        "IsDefault": False,
        "Description": "",
        "CreationTime": SCENARIO_TIME,
        "VRouterId": ids.stable("vrt", vpc["VpcId"]),
        "VSwitchIds": {"VSwitchId": list(vpc["VSwitchIds"])},
        "ResourceGroupId": resource_group(vpc["_owner"]),
        "Tags": {"Tag": tag_list(vpc)},
    }


@PRODUCT.action("DescribeVSwitches")
def describe_vswitches(ctx: Context) -> dict[str, Any]:
    vpc_id = ctx.params.text("VpcId")
    wanted_ids = _split(ctx.params.text("VSwitchId", max_len=2000))
    zone_id = ctx.params.text("ZoneId")
    name = ctx.params.text("VSwitchName")
    vswitches = [
        vsw
        for vsw in ctx.store.owned("vswitch", ctx.uid)
        if (vpc_id is None or vsw["VpcId"] == vpc_id)
        and (not wanted_ids or vsw["VSwitchId"] in wanted_ids)
        and (zone_id is None or vsw["ZoneId"] == zone_id)
        and (name is None or vsw["VSwitchName"] == name)
    ]
    page, number, size = page_number(vswitches, ctx.params)
    return {
        "VSwitches": {"VSwitch": [_vswitch(ctx, vsw) for vsw in page]},
        "TotalCount": len(vswitches),
        "PageNumber": number,
        "PageSize": size,
    }


def _vswitch(ctx: Context, vsw: Record) -> dict[str, Any]:
    network = ipaddress.ip_network(vsw["CidrBlock"])
    used = ctx.store.used_ip_count(vsw["VSwitchId"])
    return {
        "VSwitchId": vsw["VSwitchId"],
        "VSwitchName": vsw["VSwitchName"],
        "VpcId": vsw["VpcId"],
        "ZoneId": vsw["ZoneId"],
        "CidrBlock": vsw["CidrBlock"],
        "Status": "Available",
        "IsDefault": False,
        "Description": "",
        "OwnerId": int(vsw["_owner"]),
        "CreationTime": SCENARIO_TIME,
        "AvailableIpAddressCount": max(network.num_addresses - 4 - used, 0),
        "ResourceGroupId": resource_group(vsw["_owner"]),
    }


@PRODUCT.action("DescribeZones")
def describe_zones(ctx: Context) -> dict[str, Any]:
    return {
        "Zones": {
            "Zone": [
                {"ZoneId": zone.id, "LocalName": zone.name, "ZoneType": "AvailabilityZone"}
                for zone in ctx.store.scenario.zones
            ]
        }
    }
