"""The conformance tests' cloud: a real test account when its credentials are in the environment
(tests/conformance/target.py says which variables), cloudsim otherwise."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from cloudsim.server import CloudSim
from tests.conformance import cleanup
from tests.conformance.target import Target, real_account_given

SCENARIO_KEY = ("demo-a-key", "demo-a-secret")


@pytest.fixture(scope="session")
def target() -> Iterator[Target]:
    if real_account_given():
        target = Target(
            key=os.environ["CONFORMANCE_ACCESS_KEY_ID"],
            secret=os.environ["CONFORMANCE_ACCESS_KEY_SECRET"],
            region=os.environ.get("CONFORMANCE_REGION", "cn-hangzhou"),
            endpoint=None,
            vpc_id=os.environ.get("CONFORMANCE_VPC_ID", ""),
            real=True,
            may_create=os.environ.get("CONFORMANCE_CREATE") == "1",
        )
        # What an interrupted run left behind, by the tag that marks it as this suite's.
        cleanup.everything_tagged(target)
        yield target
        return
    # cloudsim with no delays: what is proven is the rules, not the timing.
    with CloudSim(delay_scale=0) as sim:
        target = Target(
            key=SCENARIO_KEY[0],
            secret=SCENARIO_KEY[1],
            region=sim.scenario.region,
            endpoint=sim.endpoint,
            vpc_id=next(v.id for a in sim.scenario.accounts for v in a.vpcs if v.name == "VPC2"),
            real=False,
            may_create=True,
        )
        yield target


@pytest.fixture
def creating(target: Target) -> Iterator[cleanup.Made]:
    """For a test that creates resources: skipped on a real account unless allowed; whatever
    it made is deleted afterwards, whether it passed or not."""
    if not target.may_create:
        pytest.skip("creates resources: set CONFORMANCE_CREATE=1 to allow it")
    made = cleanup.Made(target)
    try:
        yield made
    finally:
        made.delete_all()


@pytest.fixture
def network(target: Target) -> dict:
    """The test VPC's vSwitches in zones NLB offers (two at least) and a security group."""
    if not target.vpc_id:
        pytest.skip("set CONFORMANCE_VPC_ID to a VPC of the test account")
    nlb_zones = {z["ZoneId"] for z in target.call("nlb", "DescribeZones").get("Zones") or []}
    vswitches = (
        target.call("vpc", "DescribeVSwitches", VpcId=target.vpc_id, PageSize=50)
        .get("VSwitches", {})
        .get("VSwitch", [])
    )
    by_zone = {}
    for vswitch in vswitches:
        if vswitch["ZoneId"] in nlb_zones:
            by_zone.setdefault(vswitch["ZoneId"], vswitch["VSwitchId"])
    groups = (
        target.call("ecs", "DescribeSecurityGroups", VpcId=target.vpc_id, MaxResults=10)
        .get("SecurityGroups", {})
        .get("SecurityGroup", [])
    )
    if len(by_zone) < 2 or not groups:
        pytest.skip(f"{target.vpc_id} needs vSwitches in two NLB zones and a security group")
    zones = sorted(by_zone.items())[:2]
    return {"zones": zones, "security_group": groups[0]["SecurityGroupId"]}
