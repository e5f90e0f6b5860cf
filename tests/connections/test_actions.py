"""The verbs (connections/actions.py): who may call them, what they record and enqueue, and only
after the commit; nothing reaches the cloud from a web request. (Their pre-flight checks:
test_preflight.py.)"""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from connections import actions
from connections.choices import RequestState, ServiceState
from connections.models import AccessRequest, Event
from connections.states import InvalidTransition
from portal.celery import app as celery_app
from tests.connections.verbs import publish, refusal
from tests.factories import (
    AccessRequestFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_tasks(monkeypatch):
    """What the verbs hand to the broker (the broker itself is not what these tests are about)."""
    sent = []

    def send_task(name, args, kwargs):
        sent.append((name, args, kwargs))

    monkeypatch.setattr(celery_app, "send_task", send_task)
    return sent


def test_a_valid_request_is_recorded_with_its_event_and_enqueued_on_commit(
    setup, django_capture_on_commit_callbacks, sent_tasks
):
    with django_capture_on_commit_callbacks(execute=True):
        access_request = setup.request()
        assert sent_tasks == []  # nothing leaves before the commit

    assert access_request.state == RequestState.SUBMITTED
    assert sorted(z.zone_id for z in access_request.zones.all()) == [
        "cn-hangzhou-g",
        "cn-hangzhou-k",
    ]
    assert list(access_request.security_groups.all()) == [setup.security_group]
    assert [e.verb for e in access_request.events.all()] == ["requested"]
    token = access_request.task_token
    assert sent_tasks == [
        ("connections.workflow.provision", (access_request.pk, token), {"hop": 0})
    ]


def test_only_team_members_may_request(setup):
    outsider = UserFactory(username="outsider")

    with pytest.raises(PermissionDenied):
        setup.request(user=outsider)


# --- decisions ---------------------------------------------------------------------------------


def pending(setup) -> AccessRequest:
    return AccessRequestFactory(
        service=setup.service,
        vpc=setup.vpc,
        consumer_team=setup.consumer_team,
        state=RequestState.PENDING_APPROVAL,
        endpoint_id="ep-test",
    )


def test_only_the_services_owners_may_approve(setup):
    access_request = pending(setup)

    with pytest.raises(PermissionDenied):
        actions.approve_request(setup.consumer, access_request)

    approved = actions.approve_request(setup.owner, access_request)
    assert approved.state == RequestState.CONNECTING
    event = approved.events.get(verb="approve")
    assert (event.actor, event.from_state, event.to_state) == (
        setup.owner,
        "pending_approval",
        "connecting",
    )


def test_reject_needs_a_reason(setup):
    access_request = pending(setup)

    found = refusal(lambda: actions.reject_request(setup.owner, access_request, reason=" "))

    assert found["reason"] == [("reason_required", "Give a reason for the rejection.")]
    access_request.refresh_from_db()
    assert access_request.state == RequestState.PENDING_APPROVAL


def test_approving_twice_is_a_conflict_not_a_second_approval(setup):
    access_request = pending(setup)
    actions.approve_request(setup.owner, access_request)

    with pytest.raises(InvalidTransition):
        actions.approve_request(setup.owner, access_request)

    assert Event.objects.filter(access_request=access_request, verb="approve").count() == 1


def test_either_side_may_revoke_but_nobody_else(setup):
    first = pending(setup)
    actions.revoke_request(setup.consumer, first)
    first.refresh_from_db()
    assert first.state == RequestState.REVOKING

    second = AccessRequestFactory(
        service=setup.service, consumer_team=setup.consumer_team, state="connected"
    )
    actions.revoke_request(setup.owner, second)
    second.refresh_from_db()
    assert second.state == RequestState.REVOKING

    third = AccessRequestFactory(
        service=setup.service, consumer_team=setup.consumer_team, state="connected"
    )
    with pytest.raises(PermissionDenied):
        actions.revoke_request(UserFactory(username="stranger"), third)


def test_revoking_a_closed_request_is_a_conflict(setup):
    closed = AccessRequestFactory(service=setup.service, state=RequestState.REVOKED)
    with pytest.raises(InvalidTransition):
        actions.revoke_request(setup.owner, closed)


def test_retire_is_refused_while_requests_are_live(setup):
    pending(setup)

    with pytest.raises(ValidationError) as caught:
        actions.retire_service(setup.owner, setup.service)

    assert caught.value.code == "service_has_live_requests"
    setup.service.refresh_from_db()
    assert setup.service.state == ServiceState.AVAILABLE


# --- publish -----------------------------------------------------------------------------------


def test_publish_records_the_service_and_enqueues_the_workflow(
    setup, provider_vpc, django_capture_on_commit_callbacks, sent_tasks
):
    with django_capture_on_commit_callbacks(execute=True):
        service = publish(setup, provider_vpc)

    assert service.state == ServiceState.PROVISIONING
    assert service.zone_ids == ["cn-hangzhou-g", "cn-hangzhou-k"]
    assert service.backends.count() == 1
    assert sent_tasks == [
        ("connections.workflow.publish", (service.pk, service.task_token), {"hop": 0})
    ]


def test_only_owners_publish(setup, provider_vpc):
    member = MembershipFactory(team=setup.owner_team, user=UserFactory(username="member")).user

    with pytest.raises(PermissionDenied):
        publish(setup, provider_vpc, user=member)


def test_expired_requests_are_revoked_by_the_system(setup, django_capture_on_commit_callbacks):
    past = timezone.now() - timedelta(minutes=1)
    due = AccessRequestFactory(service=setup.service, state=RequestState.CONNECTED, expires_at=past)
    later = AccessRequestFactory(
        service=setup.service,
        state=RequestState.CONNECTED,
        expires_at=timezone.now() + timedelta(days=1),
    )
    closed = AccessRequestFactory(
        service=setup.service, state=RequestState.REVOKED, expires_at=past
    )

    with django_capture_on_commit_callbacks() as callbacks:
        assert actions.expire_due_requests() == 1

    states = {r.pk: r.state for r in AccessRequest.objects.all()}
    assert states == {due.pk: "revoking", later.pk: "connected", closed.pk: "revoked"}
    event = Event.objects.get(access_request=due, verb="expired")
    assert event.actor is None and event.actor_label == "system"
    assert len(callbacks) == 1


def _failed_creating_its_endpoint(setup, **fields) -> AccessRequest:
    return AccessRequestFactory(
        service=setup.service,
        vpc=setup.vpc,
        consumer_team=setup.consumer_team,
        state=RequestState.FAILED,
        failed_phase="provision",
        **fields,
    )


def test_changing_a_failed_requests_choices_is_the_requesting_teams_alone(setup, sent_tasks):
    access_request = _failed_creating_its_endpoint(setup)

    with pytest.raises(PermissionDenied):
        actions.amend_request(
            setup.owner, access_request, security_groups=[setup.security_group], zones=[]
        )
    changed = actions.amend_request(
        setup.consumer,
        access_request,
        security_groups=[setup.security_group],
        zones=setup.zones("k"),
    )
    assert changed.state == RequestState.PROVISIONING
    assert [z.zone_id for z in changed.zones.all()] == ["cn-hangzhou-k"]


def test_a_failed_request_whose_endpoint_exists_keeps_its_choices(setup):
    access_request = _failed_creating_its_endpoint(setup, endpoint_id="ep-made")

    with pytest.raises(InvalidTransition):
        actions.amend_request(
            setup.consumer,
            access_request,
            security_groups=[setup.security_group],
            zones=setup.zones("k"),
        )
    access_request.refresh_from_db()
    assert access_request.state == RequestState.FAILED


def test_a_change_is_checked_as_a_new_requests_choices_are(setup):
    access_request = _failed_creating_its_endpoint(setup)

    found = refusal(
        lambda: actions.amend_request(
            setup.consumer, access_request, security_groups=[], zones=setup.zones("h")
        )
    )

    assert {"zone_not_offered", "security_group_required"} <= {
        code for errors in found.values() for code, _ in errors
    }
