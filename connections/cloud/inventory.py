"""VPC 2016-04-28 and ECS 2014-05-26 reads: the inventory the portal mirrors per account."""

from collections.abc import Iterator

from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as EcsClient
from alibabacloud_vpc20160428 import models as vpc_models
from alibabacloud_vpc20160428.client import Client as VpcClient

from connections.cloud.base import ProductApi

PAGE_SIZE = 50


class VpcApi(ProductApi):
    client_class = VpcClient
    models = vpc_models
    host = "vpc.{region}.aliyuncs.com"
    product = "vpc"

    def zones(self) -> list[dict]:
        result = self.call("DescribeZones", RegionId=self.region)
        return (result.get("Zones") or {}).get("Zone") or []

    def vpcs(self) -> Iterator[dict]:
        yield from self._pages("DescribeVpcs", "Vpcs", "Vpc")

    def vswitches(self) -> Iterator[dict]:
        yield from self._pages("DescribeVSwitches", "VSwitches", "VSwitch")

    def _pages(self, action: str, outer: str, inner: str) -> Iterator[dict]:
        page = 1
        while True:
            result = self.call(action, RegionId=self.region, PageNumber=page, PageSize=PAGE_SIZE)
            items = (result.get(outer) or {}).get(inner) or []
            yield from items
            if not items or page * PAGE_SIZE >= int(result.get("TotalCount") or 0):
                return
            page += 1


class EcsApi(ProductApi):
    client_class = EcsClient
    models = ecs_models
    host = "ecs.{region}.aliyuncs.com"
    product = "ecs"

    def instances(self) -> Iterator[dict]:
        yield from self._pages("DescribeInstances", "Instances", "Instance")

    def security_groups(self) -> Iterator[dict]:
        yield from self._pages("DescribeSecurityGroups", "SecurityGroups", "SecurityGroup")

    def _pages(self, action: str, outer: str, inner: str) -> Iterator[dict]:
        token = None
        while True:
            result = self.call(action, RegionId=self.region, MaxResults=100, NextToken=token)
            yield from (result.get(outer) or {}).get(inner) or []
            token = result.get("NextToken")
            if not token:
                return
