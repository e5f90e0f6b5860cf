"""What the pages show of a workflow comes from the workflow: a stage names a step it has, and a
failed request's page marks the step its failed workflow runs in."""

from connections.choices import RequestState
from connections.pages.requests import FAILED_AT
from connections.states import REQUEST_WORKFLOWS
from connections.workflows.registry import WORKFLOWS


def test_every_stage_ends_at_a_step_of_its_workflow_in_order():
    for workflow in WORKFLOWS.values():
        names = [step.name for step in workflow.steps]
        last_steps = [last for _label, last in workflow.stages]
        assert set(last_steps) <= set(names), workflow.name
        assert [names.index(last) for last in last_steps] == sorted(
            names.index(last) for last in last_steps
        ), workflow.name


def test_a_failed_request_is_marked_at_the_state_its_workflow_runs_in():
    assert {
        REQUEST_WORKFLOWS[RequestState.PROVISIONING]: RequestState.PROVISIONING,
        REQUEST_WORKFLOWS[RequestState.CONNECTING]: RequestState.CONNECTING,
    } == FAILED_AT
    assert REQUEST_WORKFLOWS[RequestState.REVOKING] not in FAILED_AT
