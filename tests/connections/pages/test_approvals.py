"""The approval queue (pages/approvals.py) and the decisions on a request's page: one or several
at once, a reason to reject, Enter that rejects, only owners decide."""

from __future__ import annotations

import re

import pytest

from connections.choices import RequestState
from connections.models import AccessRequest
from tests.connections.pages.support import pending, poll, signed_in_as

pytestmark = pytest.mark.django_db


def test_approving_a_connected_request_says_it_is_not_possible_now(world):
    access_request = world.make_request(state=RequestState.CONNECTED)

    response = signed_in_as(world, "provider").post(
        f"/requests/{access_request.pk}/approve/", follow=True
    )

    assert "Not possible now: the access request is connected." in response.content.decode()


def test_reject_needs_a_reason(world):
    access_request = pending(world)

    response = signed_in_as(world, "provider").post(
        f"/requests/{access_request.pk}/reject/", {"reason": ""}, follow=True
    )

    assert "Give a reason for the rejection." in response.content.decode()
    access_request.refresh_from_db()
    assert access_request.state == RequestState.PENDING_APPROVAL


def test_the_queue_approves_and_rejects_several_at_once(world):
    first = pending(world)
    second = world.make_request("partner", "VPC3", state=RequestState.PENDING_APPROVAL)
    client = signed_in_as(world, "provider")

    page = client.get("/approvals/").content.decode()
    response = client.post(
        "/approvals/decide/",
        {"decision": "reject", "selected": [first.pk, second.pk], "reason": "Not now."},
        follow=True,
    )

    assert f"#{first.pk}" in page and f"#{second.pk}" in page
    assert "Rejected 2 requests." in response.content.decode()
    assert set(
        AccessRequest.objects.filter(pk__in=[first.pk, second.pk]).values_list(
            "state", "decision_reason"
        )
    ) == {(RequestState.REJECTED, "Not now.")}
    assert "Nothing waits for your decision." in client.get("/approvals/").content.decode()


def test_a_member_cannot_decide_through_the_queue_either(world):
    access_request = pending(world)

    response = signed_in_as(world, "consumer").post(
        "/approvals/decide/", {"decision": "approve", "selected": [access_request.pk]}, follow=True
    )

    access_request.refresh_from_db()
    assert access_request.state == RequestState.PENDING_APPROVAL
    assert f"#{access_request.pk}: Only owners of Platform may approve." in (
        response.content.decode()
    )


def test_enter_in_the_queues_reason_box_rejects_rather_than_approves(world):
    pending(world)

    page = signed_in_as(world, "provider").get("/approvals/").content.decode()

    decide_form = page[
        page.index('id="decide-form"') : page.index("</form>", page.index('id="decide-form"'))
    ]
    own_buttons = re.findall(r'<button type="submit" name="decision" value="(\w+)"', decide_form)
    assert own_buttons == ["reject", "approve"]  # the first is what Enter presses


def test_a_rows_buttons_bring_back_the_queue_not_its_poll(world):
    pending(world)

    rows = poll(signed_in_as(world, "provider"), "/approvals/?fragment=rows").content.decode()

    assert 'name="next" value="/approvals/"' in rows
