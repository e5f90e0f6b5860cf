"""The guarded transition: allowed moves only, a lost race detected, the event in the same write."""

import pytest

from connections import actions, states
from connections.choices import RequestState, Role, ServiceState
from connections.models import AccessRequest, Event
from connections.states import (
    REQUEST_WORKFLOWS,
    SERVICE_WORKFLOWS,
    InvalidTransition,
    LostRace,
    transition,
)
from connections.workflows.registry import IN_FLIGHT, WORKFLOWS
from tests.factories import AccessRequestFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_an_allowed_transition_writes_state_fields_and_event():
    access_request = AccessRequestFactory(state=RequestState.PENDING_APPROVAL)
    user = UserFactory()

    event = transition(
        access_request, RequestState.CONNECTING, verb="approve", actor=user, endpoint_id="ep-1"
    )

    stored = AccessRequest.objects.get(pk=access_request.pk)
    assert (stored.state, stored.endpoint_id) == ("connecting", "ep-1")
    assert (event.actor, event.verb, event.from_state, event.to_state) == (
        user,
        "approve",
        "pending_approval",
        "connecting",
    )


def test_a_transition_not_in_the_map_is_refused_and_nothing_is_written():
    access_request = AccessRequestFactory(state=RequestState.CONNECTED)

    with pytest.raises(InvalidTransition):
        transition(access_request, RequestState.PENDING_APPROVAL, verb="oops")

    assert AccessRequest.objects.get(pk=access_request.pk).state == RequestState.CONNECTED
    assert not Event.objects.exists()


def test_a_stale_copy_loses_the_race_instead_of_overwriting():
    access_request = AccessRequestFactory(state=RequestState.PENDING_APPROVAL)
    stale_copy = AccessRequest.objects.get(pk=access_request.pk)
    transition(access_request, RequestState.REVOKING, verb="revoke")

    with pytest.raises(LostRace):
        transition(stale_copy, RequestState.CONNECTING, verb="approve")

    assert AccessRequest.objects.get(pk=access_request.pk).state == RequestState.REVOKING
    assert list(Event.objects.values_list("verb", flat=True)) == ["revoke"]


@pytest.mark.parametrize("state", sorted(set(RequestState) - {RequestState.PENDING_APPROVAL}))
@pytest.mark.parametrize("verb", ["approve", "reject"])
def test_a_decision_is_refused_unless_the_request_awaits_one(state, verb):
    owner = MembershipFactory(role=Role.OWNER).user
    access_request = AccessRequestFactory(
        state=state, service__owner_team=owner.memberships.get().team, endpoint_id="ep-1"
    )

    with pytest.raises(InvalidTransition):
        if verb == "approve":
            actions.approve_request(owner, access_request)
        else:
            actions.reject_request(owner, access_request, reason="no")

    assert AccessRequest.objects.get(pk=access_request.pk).state == state
    assert not Event.objects.exists()


@pytest.mark.parametrize("state", sorted(set(RequestState) - {RequestState.FAILED}))
def test_retry_is_refused_unless_something_failed(state):
    member = MembershipFactory().user
    access_request = AccessRequestFactory(state=state, consumer_team=member.memberships.get().team)

    with pytest.raises(InvalidTransition):
        actions.retry_request(member, access_request)

    assert AccessRequest.objects.get(pk=access_request.pk).state == state


def test_events_are_append_only():
    access_request = AccessRequestFactory(state=RequestState.PENDING_APPROVAL)
    event = transition(access_request, RequestState.REVOKING, verb="revoke")

    event.detail = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        event.save()


# --- which workflow carries which state (written once, in choices) ---------------------------


def test_every_state_a_worker_moves_on_has_the_one_workflow_that_runs_in_it():
    # States that wait for a person (approval, a retry) or are over have no workflow of their own.
    waiting = {RequestState.PENDING_APPROVAL, RequestState.CONNECTED, RequestState.FAILED}
    assert set(REQUEST_WORKFLOWS) == set(RequestState) - waiting - {"revoked", "rejected"}
    assert set(SERVICE_WORKFLOWS) == {ServiceState.PROVISIONING, ServiceState.RETIRING}
    for (model, state), workflow in IN_FLIGHT.items():
        assert workflow.model is model
        # It runs in that state, or moves the record there first (a submitted request).
        assert state in workflow.running_states or state == RequestState.SUBMITTED
    for workflow in WORKFLOWS.values():
        if workflow.failed_state is None:
            continue  # works on a record whose state stays (a clean-up, new settings)
        for state in workflow.running_states:
            assert IN_FLIGHT[(workflow.model, state)] is workflow


@pytest.mark.parametrize(
    ("state", "failed_phase", "plan"),
    [
        (RequestState.FAILED, "provision", ("provision", RequestState.PROVISIONING)),
        (RequestState.FAILED, "connect", ("connect", RequestState.CONNECTING)),
        (RequestState.FAILED, "revoke", ("revoke", RequestState.REVOKING)),
        (RequestState.REJECTED, "cleanup", ("cleanup", None)),
        (RequestState.REVOKED, "cleanup", ("cleanup", None)),
        (RequestState.FAILED, "", None),
        (RequestState.CONNECTED, "provision", None),
        (RequestState.REVOKED, "", None),
    ],
)
def test_a_retry_resumes_the_failed_workflow_in_its_state(state, failed_phase, plan):
    access_request = AccessRequestFactory(state=state, failed_phase=failed_phase)

    assert states.retry_plan(access_request) == plan
