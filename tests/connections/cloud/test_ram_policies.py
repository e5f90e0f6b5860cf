"""The least-privilege RAM policies `manage.py ram_policy` prints are enough for the whole
journey, through a real worker (the journey: tests/connections/cloud/ram_journey.py)."""

import json

import pytest
from django.core.management import call_command

from tests.connections.cloud import ram_journey
from tests.connections.conftest import WORKFLOW_TIMEOUT, wait_until
from tests.connections.monitoring.test_sweep import sweep_through_worker


def settle_with_worker(record, done):
    def fresh_and_done():
        record.refresh_from_db()
        return done(record)

    wait_until(fresh_and_done, timeout=WORKFLOW_TIMEOUT, what=f"{record} to settle")
    return record


@pytest.mark.worker
def test_the_whole_journey_runs_under_the_generated_policies(world):
    ram_journey.use_ram_users(world, ram_journey.policies())

    outcome = ram_journey.run(world, settle_with_worker, sweep_through_worker)

    assert outcome.stages == ram_journey.JOURNEY, outcome.messages
    assert outcome.checks and not [line for line in outcome.checks if "FAIL" in line]
    # The products' service-linked roles were created on first use, as the policies allow.
    state = world.cloudsim.control("GET", "state")
    assert state["accounts"]["1111111111111111"]["service_linked_roles"] == [
        "nlb.aliyuncs.com",
        "privatelink.aliyuncs.com",
    ]


def test_ram_policy_prints_each_roles_document(capsys):
    call_command("ram_policy", "consumer")
    consumer = json.loads(capsys.readouterr().out)
    actions = consumer["Statement"][0]["Action"]
    assert "privatelink:CreateVpcEndpoint" in actions
    assert "privatelink:RemoveZoneFromVpcEndpoint" in actions
    # Nothing of the provider's side.
    assert not [action for action in actions if action.startswith("nlb:Create")]
    assert "privatelink:CreateVpcEndpointService" not in actions
    linked = consumer["Statement"][1]
    assert linked["Action"] == "ram:CreateServiceLinkedRole"
    assert linked["Condition"] == {
        "StringEquals": {"ram:ServiceName": ["privatelink.aliyuncs.com"]}
    }

    call_command("ram_policy", "provider", "consumer")
    both = json.loads(capsys.readouterr().out)
    assert set(actions) < set(both["Statement"][0]["Action"])
    assert both["Statement"][1]["Condition"]["StringEquals"]["ram:ServiceName"] == [
        "nlb.aliyuncs.com",
        "privatelink.aliyuncs.com",
    ]
