"""Live regions (pages/live.py): what a poll costs when nothing changed, a change that reaches the
page even when committed while it was drawn, regions that stop, a sign-in that ran out."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from connections.choices import RequestState
from connections.models import AccessRequest
from connections.pages import live
from connections.pages import requests as requests_pages
from tests.connections.pages.support import pending, poll, signed_in_as

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("where", "fragment", "who"),
    [
        ("/", "rows", "consumer"),
        ("/requests/", "rows", "consumer"),
        ("/requests/{request}/", "live", "consumer"),
        ("/services/{service}/", "live", "provider"),
        ("/approvals/", "rows", "provider"),
        ("/approvals/count/", "count", "provider"),
    ],
)
def test_a_poll_that_finds_nothing_changed_costs_one_query_and_an_empty_answer(
    world, where, fragment, who, django_assert_num_queries
):
    access_request = pending(world)
    client = signed_in_as(world, who)
    url = f"{where.format(request=access_request.pk, service=world.service.pk)}?fragment={fragment}"
    first = poll(client, url)
    version = re.search(r'"X-Portal-Version": "([0-9a-f]+)"', first.content.decode()).group(1)
    poll(client, url, version)  # the session is in the cache from here on

    with django_assert_num_queries(1):
        unchanged = poll(client, url, version)

    assert unchanged.status_code == 204 and unchanged.content == b""
    # The approval, as states.transition writes it: the state and the time of the change.
    AccessRequest.objects.filter(pk=access_request.pk).update(
        state=RequestState.CONNECTING, updated_at=timezone.now()
    )
    changed = poll(client, url, version)
    assert changed.status_code == 200 and b"X-Portal-Version" in changed.content


def test_a_state_change_reaches_the_request_page_s_region(world):
    access_request = pending(world)
    client = signed_in_as(world, "consumer")
    url = f"/requests/{access_request.pk}/?fragment=live"
    version = live.request_version(access_request.pk, world.users["consumer"].pk)

    AccessRequest.objects.filter(pk=access_request.pk).update(state=RequestState.CONNECTED)
    region = poll(client, url, version).content.decode()

    assert '<span class="badge badge-green" id="request-state">Connected</span>' in region
    assert "<html" not in region


def test_a_change_committed_while_the_page_is_drawn_reaches_the_next_poll(world, monkeypatch):
    access_request = pending(world)
    client = signed_in_as(world, "consumer")
    url = f"/requests/{access_request.pk}/?fragment=live"
    read_the_request = requests_pages._request_for

    def worker_commits_first(user, pk):
        # The worker's commit lands while the page is being drawn: after the page took its
        # version, before it read the request.
        AccessRequest.objects.filter(pk=pk).update(state=RequestState.CONNECTED)
        return read_the_request(user, pk)

    monkeypatch.setattr(requests_pages, "_request_for", worker_commits_first)
    drawn = poll(client, url).content.decode()
    monkeypatch.undo()
    version = re.search(r'"X-Portal-Version": "([0-9a-f]+)"', drawn).group(1)

    # The page carries a version from before the change, so the next poll draws it again.
    assert version != live.request_version(access_request.pk, world.users["consumer"].pk)
    assert poll(client, url, version).status_code == 200


def test_a_region_of_a_request_that_ended_stops_polling(world):
    access_request = world.make_request(state=RequestState.REVOKED)

    page = signed_in_as(world, "consumer").get(f"/requests/{access_request.pk}/").content.decode()

    assert 'id="request-live">' in page  # no hx-trigger on it


def test_a_poll_after_the_sign_in_ran_out_sends_the_browser_to_sign_in(world):
    response = poll(Client(), "/requests/?fragment=rows")

    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/accounts/login/")


def test_a_poll_of_a_request_that_vanished_says_so_in_place(world):
    response = poll(signed_in_as(world, "consumer"), "/requests/999999/?fragment=live")

    assert response.status_code == 200
    assert "This no longer exists, or you may no longer see it." in response.content.decode()
