"""Every page, for every role: who gets which answer (200, 302, 403, 404 as the policies say), what
a refused verb shows, the header, text shown as text, no inline script or style. (Each page's own
behaviour: the file named after its module.)

Roles as in api/test_roles.py: anonymous; a member of Apps (the consumer); a member of Platform,
the service's team, who does not own it; the service's owner; the owner of another team's
services (Partners); a platform admin. Nothing here reaches a cloud or a broker: the tests run in
a transaction that never commits, so no workflow is ever enqueued.
"""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from connections.choices import RequestState
from connections.models import AccessRequest, PublishedService
from tests.connections.pages.support import ROLES, pending, signed_in_as
from tests.factories import AccessRequestFactory

pytestmark = pytest.mark.django_db


# (path with {service} / {request}) → status per role, in ROLES' order.
PAGES = {
    "catalog": ("/", [302, 200, 200, 200, 200, 200]),
    "service": ("/services/{service}/", [302, 200, 200, 200, 200, 200]),
    "request form": ("/services/{service}/request/", [302, 200, 200, 200, 200, 200]),
    "publish wizard": ("/services/publish/", [302, 403, 403, 200, 200, 200]),
    "my requests": ("/requests/", [302, 200, 200, 200, 200, 200]),
    "a request": ("/requests/{request}/", [302, 200, 200, 200, 404, 200]),
    "approval queue": ("/approvals/", [302, 403, 403, 200, 200, 200]),
    "a service that is not there": ("/services/999999/", [302, 404, 404, 404, 404, 404]),
    "a request that is not there": ("/requests/999999/", [302, 404, 404, 404, 404, 404]),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("where", PAGES)
def test_each_role_gets_its_answer_on_each_page(world, where, role):
    path, statuses = PAGES[where]
    access_request = pending(world)
    url = path.format(service=world.service.pk, request=access_request.pk)

    response = signed_in_as(world, role).get(url)

    expected = statuses[ROLES.index(role)]
    assert response.status_code == expected, response.content[:300]
    if expected == 302:
        assert response["Location"].startswith("/accounts/login/")
    if expected in (403, 404):
        # The site's own page, with a message a person can act on.
        assert b"Back to the catalog" in response.content


def test_another_team_s_request_is_the_portal_s_own_404_even_in_debug(world, settings):
    """`make run` runs with DEBUG on: Django's technical 404 would list every URL pattern."""
    settings.DEBUG = True
    access_request = pending(world)

    response = signed_in_as(world, "other_owner").get(f"/requests/{access_request.pk}/")

    page = response.content.decode()
    assert response.status_code == 404
    assert "This request does not exist, or you may no longer see it." in page
    assert "URLconf" not in page and "api/v1/" not in page


def test_the_breadcrumb_leads_back_the_way_each_side_came(world):
    access_request = pending(world)
    url = f"/requests/{access_request.pk}/"

    consumer = signed_in_as(world, "consumer").get(url).content.decode()
    provider = signed_in_as(world, "provider").get(url).content.decode()
    service = signed_in_as(world, "consumer").get(f"/services/{world.service.pk}/").content.decode()

    crumb = re.compile(r'<nav aria-label="Breadcrumb">(.*?)</nav>', re.S)
    assert "My team's requests" in crumb.search(consumer).group(1)
    assert "My team's requests" not in crumb.search(provider).group(1)
    assert f">{world.service.name}</a> / #{access_request.pk}" in crumb.search(provider).group(1)
    name = f'<span translate="no">{world.service.name}</span>'
    assert f"Catalog</a> / {name}</p>" in crumb.search(service).group(1)


def test_a_request_that_vanished_says_so(world):
    response = signed_in_as(world, "consumer").get("/requests/999999/")

    assert "This request does not exist, or you may no longer see it." in response.content.decode()


# action → the state it leads to, and the roles that may do it (the others get a message).
ACTIONS = {
    "approve": (RequestState.CONNECTING, {"provider", "admin"}),
    "reject": (RequestState.REJECTED, {"provider", "admin"}),
    "revoke": (RequestState.REVOKING, {"consumer", "provider", "admin"}),
}


@pytest.mark.parametrize("role", ROLES[1:])
@pytest.mark.parametrize("action", ACTIONS)
def test_a_refused_verb_shows_its_message_on_the_page(world, action, role):
    access_request = pending(world)
    to_state, allowed = ACTIONS[action]
    client = signed_in_as(world, role)

    response = client.post(
        f"/requests/{access_request.pk}/{action}/",
        {"reason": "Not this quarter.", "confirm": "yes"},
        follow=True,
    )

    access_request.refresh_from_db()
    if role == "other_owner":  # may not even see it
        assert response.status_code == 404
        return
    assert response.status_code == 200
    page = response.content.decode()
    if role in allowed:
        assert access_request.state == to_state
        assert 'class="message message-success"' in page
    else:
        assert access_request.state == RequestState.PENDING_APPROVAL
        assert re.search(r'class="message message-error">[^<]*may', page), page


def test_a_revoke_that_was_not_confirmed_revokes_nothing_and_says_what_it_would_break(world):
    access_request = world.make_request(state=RequestState.CONNECTED, connected_at=timezone.now())
    client = signed_in_as(world, "consumer")
    page = client.get(f"/requests/{access_request.pk}/").content.decode()
    assert 'id="revoke-confirm" required' in page
    # Apart from the main actions: after the state card's actions, in a card of its own.
    assert page.index('id="action-revoke"') > page.index('id="details-title"')

    response = client.post(f"/requests/{access_request.pk}/revoke/", follow=True)

    access_request.refresh_from_db()
    assert access_request.state == RequestState.CONNECTED
    assert "Nothing was revoked: tick the box to confirm." in response.content.decode()
    assert "machines in VPC1" in response.content.decode()


def test_the_header_shows_teams_roles_and_the_live_count_for_owners(world):
    pending(world)

    consumer = signed_in_as(world, "consumer").get("/").content.decode()
    provider = signed_in_as(world, "provider").get("/").content.decode()

    assert '<span translate="no">Apps</span> <span' in consumer and "(member)" in consumer
    assert "Approvals" not in consumer
    assert '<span translate="no">Platform</span> <span' in provider and "(owner)" in provider
    assert re.search(r'id="awaiting-count"[^>]*>1 waiting</span>', provider, re.S)


# --- the request form ------------------------------------------------------------------------


def test_text_people_typed_shows_as_text(world):
    script = "<script>alert('x')</script>"
    access_request = world.make_request(state=RequestState.PENDING_APPROVAL)
    AccessRequest.objects.filter(pk=access_request.pk).update(justification=script)
    PublishedService.objects.filter(pk=world.service.pk).update(description=script)

    pages = [
        signed_in_as(world, "provider").get(url).content.decode()
        for url in ("/", f"/services/{world.service.pk}/", f"/requests/{access_request.pk}/")
    ] + [signed_in_as(world, "provider").get("/approvals/").content.decode()]

    for page in pages:
        assert script not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in pages[1]


# --- the service page --------------------------------------------------------------------------


# --- live regions ------------------------------------------------------------------------------


# --- lists: queries that do not grow, pages, filters -------------------------------------------


# --- the publish wizard ------------------------------------------------------------------------


# --- Content-Security-Policy -------------------------------------------------------------------

INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.I)


@pytest.mark.parametrize("where", [p for p, _ in PAGES.values()] + ["/accounts/login/"])
def test_pages_run_no_inline_script_or_style_under_a_strict_policy(world, where):
    access_request = pending(world)
    url = where.format(service=world.service.pk, request=access_request.pk)

    response = signed_in_as(world, "provider").get(url)

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe" not in policy
    assert not INLINE.findall(response.content.decode())


# --- forms that keep their promise, pages that follow their record ----------------------------


@pytest.mark.parametrize(
    ("waiting", "shown"), [(0, "none waiting"), (100, "100 waiting"), (101, "100+ waiting")]
)
def test_the_header_counts_to_a_hundred(world, waiting, shown):
    for _ in range(waiting):
        AccessRequestFactory(
            service=world.service, consumer_team=world.teams["apps"], state="pending_approval"
        )

    page = signed_in_as(world, "provider").get("/requests/").content.decode()

    assert re.search(rf'id="awaiting-count"[^>]*>{re.escape(shown)}</span>', page, re.S)
