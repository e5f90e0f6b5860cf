"""ECS 2014-05-26: the scenario's instances and security groups, read-only."""

from __future__ import annotations

from typing import Any

from cloudsim.params import page_number, paginate
from cloudsim.products.base import Context, Product, resource_group
from cloudsim.products.vpc import SCENARIO_TIME
from cloudsim.store import Record

PRODUCT = Product("ecs", "2014-05-26", "ecs")


def _page(ctx: Context, items: list) -> tuple[list, dict[str, Any]]:
    """ECS pages either by PageNumber/PageSize or, when NextToken/MaxResults is given, by token."""
    if "MaxResults" in ctx.params or "NextToken" in ctx.params:
        page, next_token, size = paginate(items, ctx.params, default=10, limit=100)
        return page, {"NextToken": next_token or "", "PageSize": size}
    page, number, size = page_number(items, ctx.params, limit=100)
    return page, {"PageNumber": number, "PageSize": size}


@PRODUCT.action("DescribeInstances")
def describe_instances(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    instance_ids = p.json_list("InstanceIds")
    addresses = p.json_list("PrivateIpAddresses")
    vpc_id, vsw_id, zone_id = p.text("VpcId"), p.text("VSwitchId"), p.text("ZoneId")
    name, group, status = p.text("InstanceName"), p.text("SecurityGroupId"), p.text("Status")
    instances = [
        inst
        for inst in ctx.store.owned("instance", ctx.uid)
        if (not instance_ids or inst["InstanceId"] in instance_ids)
        and (not addresses or inst["PrivateIpAddress"] in addresses)
        and vpc_id in (None, inst["VpcId"])
        and vsw_id in (None, inst["VSwitchId"])
        and zone_id in (None, inst["ZoneId"])
        and name in (None, inst["InstanceName"])
        and (group is None or group in inst["SecurityGroupIds"])
        and status in (None, inst["Status"])
    ]
    page, paging = _page(ctx, instances)
    return {
        "Instances": {"Instance": [_instance(ctx, inst) for inst in page]},
        "TotalCount": len(instances),
        **paging,
    }


def _instance(ctx: Context, inst: Record) -> dict[str, Any]:
    return {
        "InstanceId": inst["InstanceId"],
        "InstanceName": inst["InstanceName"],
        "HostName": inst["InstanceName"].lower(),
        "Description": "",
        "Status": inst["Status"],
        "RegionId": ctx.region,
        "ZoneId": inst["ZoneId"],
        "InstanceType": inst["InstanceType"],
        "InstanceNetworkType": "vpc",
        "Cpu": 2,
        "Memory": 8192,
        "OSType": "linux",
        "OSName": "Alibaba Cloud Linux 3",
        "ImageId": "aliyun_3_x64_20G_alibase_20240101.vhd",
        "CreationTime": SCENARIO_TIME,
        "VpcAttributes": {
            "VpcId": inst["VpcId"],
            "VSwitchId": inst["VSwitchId"],
            "PrivateIpAddress": {"IpAddress": [inst["PrivateIpAddress"]]},
            "NatIpAddress": "",
        },
        "SecurityGroupIds": {"SecurityGroupId": list(inst["SecurityGroupIds"])},
        "InnerIpAddress": {"IpAddress": []},
        "PublicIpAddress": {"IpAddress": []},
        "ResourceGroupId": resource_group(inst["_owner"]),
    }


@PRODUCT.action("DescribeSecurityGroups")
def describe_security_groups(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    wanted = p.json_list("SecurityGroupIds")
    single = p.text("SecurityGroupId")
    if single:
        wanted.append(single)
    vpc_id, name = p.text("VpcId"), p.text("SecurityGroupName")
    groups = [
        group
        for group in ctx.store.owned("securitygroup", ctx.uid)
        if (not wanted or group["SecurityGroupId"] in wanted)
        and vpc_id in (None, group["VpcId"])
        and name in (None, group["SecurityGroupName"])
    ]
    page, paging = _page(ctx, groups)
    instances = ctx.store.owned("instance", ctx.uid)
    return {
        "RegionId": ctx.region,
        "SecurityGroups": {
            "SecurityGroup": [
                {
                    "SecurityGroupId": group["SecurityGroupId"],
                    "SecurityGroupName": group["SecurityGroupName"],
                    "Description": group["Description"],
                    "VpcId": group["VpcId"],
                    "SecurityGroupType": "normal",
                    "ServiceManaged": False,
                    "CreationTime": SCENARIO_TIME,
                    "EcsCount": sum(
                        group["SecurityGroupId"] in inst["SecurityGroupIds"] for inst in instances
                    ),
                    "ResourceGroupId": resource_group(group["_owner"]),
                }
                for group in page
            ]
        },
        "TotalCount": len(groups),
        **paging,
    }
