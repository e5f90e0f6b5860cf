"""Scenario files: the demo scenario's content, stable ids, and errors that name file and line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from alibabacloud_vpc20160428 import models as vpc_models

from cloudsim import scenario
from cloudsim.scenario import ScenarioError
from cloudsim.server import CloudSim
from tests.cloudsim.support import REGION, clients_for

ROOT = Path(__file__).resolve().parents[2]

BASE = """\
region: cn-hangzhou
zones:
  - id: cn-hangzhou-g
  - id: cn-hangzhou-k
accounts:
  - name: A
    uid: "1111111111111111"
    access_keys:
      - {id: k, secret: s}
    vpcs:
      - name: V
        cidr: 10.0.0.0/16
        vswitches:
          - {name: vsw-g, cidr: 10.0.1.0/24, zone: cn-hangzhou-g}
        security_groups:
          - {name: sg}
        instances:
          - {name: web, vswitch: vsw-g, ip: 10.0.1.5, web: {port: 80, body: hi}}
"""


def with_line(number: int, text: str) -> str:
    lines = BASE.splitlines()
    lines[number - 1] = text
    return "\n".join(lines) + "\n"


def test_the_base_of_these_cases_is_valid(tmp_path):
    path = tmp_path / "scenario.yaml"
    path.write_text(BASE)
    loaded = scenario.load(path)
    assert loaded.accounts[0].vpcs[0].instances[0].web == scenario.WebServer(80, "hi")


@pytest.mark.parametrize(
    ("line", "text", "message"),
    [
        (14, "          - {name: vsw-g, cidr: 10.0.1.0/24, zone: cn-hangzhou-z}",
         "vswitch 'vsw-g' names unknown zone 'cn-hangzhou-z'"),
        (14, "          - {name: vsw-g, cidr: 10.1.0.0/24, zone: cn-hangzhou-g}",
         "vswitch 'vsw-g' CIDR 10.1.0.0/24 is outside VPC 10.0.0.0/16"),
        (12, "        cidr: 10.0.0.0/33", "is not a CIDR block"),
        (18, "          - {name: web, vswitch: vsw-g, ip: 10.0.2.5}",
         "instance 'web' IP 10.0.2.5 is not a host of vswitch 'vsw-g'"),
        (18, "          - {name: web, vswitch: nope, ip: 10.0.1.5}",
         "instance 'web' names unknown vswitch 'nope'"),
        (18, "          - {name: web, vswitch: vsw-g, ip: 10.0.1.5, web: {port: 70000, body: x}}",
         "web port must be between 1 and 65535"),
        (18, "          - {name: web, vswitch: vsw-g, ip: 10.0.1.5, security_groups: [nope]}",
         "instance 'web' names unknown security group 'nope'"),
        (7, '    uid: "123"', "uid '123' must be 16 digits"),
        (12, "        colour: blue", "a VPC has unknown key 'colour'"),
        (3, "  - id: eu-west-1a", "zone 'eu-west-1a' is not in region 'cn-hangzhou'"),
        (9, "\t  - {id: k, secret: s}", "not valid YAML"),
        (9, "      - {id: k}", "an access key lacks the required key 'secret'"),
    ],
)  # fmt: skip
def test_errors_name_the_file_and_the_line(tmp_path, line, text, message):
    path = tmp_path / "scenario.yaml"
    path.write_text(with_line(line, text))
    with pytest.raises(ScenarioError) as error:
        scenario.load(path)
    text_of_error = str(error.value)
    assert text_of_error.startswith(f"{path}:{line}: "), text_of_error
    assert message in text_of_error


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ("[team, apps]", "tags of VPC 'V' must be a mapping of keys to values"),
        ("{team: [apps]}", "value of tag 'team' must be"),
    ],
)
def test_vpc_tags_are_a_mapping_of_text(tmp_path, tags, message):
    path = tmp_path / "tags.yaml"
    path.write_text(
        BASE.replace("cidr: 10.0.0.0/16\n", f"cidr: 10.0.0.0/16\n        tags: {tags}\n")
    )
    with pytest.raises(ScenarioError) as error:
        scenario.load(path)
    assert str(error.value).startswith(f"{path}:13: ")
    assert message in str(error.value)


def test_vpc_tags_reach_describe_vpcs_and_can_be_changed(tmp_path):
    path = tmp_path / "tagged.yaml"
    path.write_text(
        BASE.replace("cidr: 10.0.0.0/16\n", "cidr: 10.0.0.0/16\n        tags: {team: apps}\n")
    )
    with CloudSim(scenario=path, delay_scale=0) as sim:
        client = clients_for(sim, "k", "s").vpc

        def vpc():
            answer = client.describe_vpcs(vpc_models.DescribeVpcsRequest(region_id=REGION))
            [found] = answer.body.vpcs.vpc
            return found.vpc_id, {tag.key: tag.value for tag in found.tags.tag}

        vpc_id, tags = vpc()
        assert tags == {"team": "apps"}
        client.tag_resources(
            vpc_models.TagResourcesRequest(
                region_id=REGION,
                resource_type="VPC",
                resource_id=[vpc_id],
                tag=[vpc_models.TagResourcesRequestTag(key="team", value="platform")],
            )
        )
        assert vpc()[1] == {"team": "platform"}


def test_delays_must_name_known_operations(tmp_path):
    path = tmp_path / "delays.yaml"
    path.write_text(BASE.replace("zones:\n", "delays:\n  CreateEverything: 1\nzones:\n", 1))
    with pytest.raises(ScenarioError) as error:
        scenario.load(path)
    assert str(error.value).startswith(
        f"{path}:3: delays names unknown operation 'CreateEverything'"
    )


def test_roles_must_trust_known_accounts(tmp_path):
    path = tmp_path / "roles.yaml"
    path.write_text(
        BASE.replace(
            "    vpcs:\n",
            '    roles:\n      - {name: r, trusted_accounts: ["9999999999999999"]}\n    vpcs:\n',
        )
    )
    with pytest.raises(ScenarioError) as error:
        scenario.load(path)
    assert str(error.value).startswith(f"{path}:11: role 'r' trusts unknown account")


def test_the_demo_scenario_is_the_designs():
    demo = scenario.load()
    assert demo.region == "cn-hangzhou"
    assert [z.id for z in demo.zones] == ["cn-hangzhou-g", "cn-hangzhou-h", "cn-hangzhou-k"]
    a, b = demo.accounts
    assert (a.uid, a.access_keys[0].id, a.access_keys[0].secret) == (
        "1111111111111111",
        "demo-a-key",
        "demo-a-secret",
    )
    assert (b.uid, b.access_keys[0].id) == ("2222222222222222", "demo-b-key")
    networks = {
        vpc.name: (vpc.cidr, sorted((v.cidr, v.zone) for v in vpc.vswitches))
        for account in demo.accounts
        for vpc in account.vpcs
    }
    assert networks["VPC1"] == (
        "10.0.0.0/8",
        [("10.0.23.0/24", "cn-hangzhou-g"), ("10.0.24.0/24", "cn-hangzhou-k"),
         ("10.0.25.0/24", "cn-hangzhou-h")],
    )  # fmt: skip
    assert networks["VPC2"][0] == "192.168.0.0/16"
    assert networks["VPC3"][0] == "172.16.0.0/16"
    instances = {i.name: i for vpc in a.vpcs for i in vpc.instances}
    assert {name: (i.ip, i.zone) for name, i in instances.items()} == {
        "ECS01": ("10.0.23.68", "cn-hangzhou-g"),
        "ECS02": ("10.0.24.227", "cn-hangzhou-k"),
        "ECS03": ("192.168.2.190", "cn-hangzhou-g"),
        "ECS04": ("192.168.4.20", "cn-hangzhou-k"),
    }
    assert instances["ECS03"].web == scenario.WebServer(80, "Hello World ! This is ECS03.")
    assert instances["ECS04"].web == scenario.WebServer(80, "Hello World ! This is ECS04.")
    assert instances["ECS01"].web is None
    assert [g.name for g in b.vpcs[0].security_groups] == ["sg-vpc3"]


def test_ids_are_stable_and_shaped_like_the_clouds():
    first, second = scenario.load(), scenario.load()
    for one, two in zip(first.accounts, second.accounts, strict=True):
        for vpc_one, vpc_two in zip(one.vpcs, two.vpcs, strict=True):
            assert vpc_one == vpc_two
            assert re.fullmatch(r"vpc-bp1[a-z0-9]{18}", vpc_one.id)
            assert all(re.fullmatch(r"vsw-bp1[a-z0-9]{18}", v.id) for v in vpc_one.vswitches)
            assert all(re.fullmatch(r"sg-bp1[a-z0-9]{18}", g.id) for g in vpc_one.security_groups)
            assert all(re.fullmatch(r"i-bp1[a-z0-9]{18}", i.id) for i in vpc_one.instances)


def test_the_check_command_reports_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(with_line(14, "          - {name: vsw-g, cidr: 10.0.1.0/24, zone: nowhere}"))
    result = subprocess.run(
        [sys.executable, "-m", "cloudsim", "check", str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert f"{path}:14: vswitch 'vsw-g' names unknown zone 'nowhere'" in result.stderr
    good = subprocess.run(
        [sys.executable, "-m", "cloudsim", "check", str(ROOT / "cloudsim/scenarios/default.yaml")],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert good.returncode == 0, good.stderr
