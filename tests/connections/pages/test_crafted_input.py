"""Whatever a person (or a script) puts in a page's query string or form, the answer is a page or
a 4xx, never a 500: every page's GET parameters and every form's fields, fuzzed."""

import base64
from urllib.parse import urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connections.choices import RequestState
from connections.models import AccessRequest
from connections.pages import live
from tests.connections.pages.support import pending, signed_in_as

pytestmark = pytest.mark.django_db

# What people and scripts type: digits of every script, huge numbers, base64-ish cursors, NULs,
# markup, very long text.
TEXT = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"[0-9²³¹٣]{1,30}", fullmatch=True),
    st.integers().map(str),
    st.binary(max_size=30).map(lambda raw: base64.b64encode(raw).decode()),
    st.sampled_from(
        ["cD0yMDI2LTAxLTAx", "cj0xJnA9eA==", "bz05OTk5OTk5OTk5OTk5OTk5OTk5", "\x00", ""]
    ),
)


def _cursor(query: str) -> str:
    return base64.b64encode(query.encode()).decode()


# A cursor as DRF writes one (base64 of its offset, direction and position), with any of the
# three edited.
CURSOR = st.one_of(
    TEXT,
    st.text(max_size=30).map(lambda position: _cursor(urlencode({"p": position}))),
    st.tuples(st.integers(-5, 10**20), st.sampled_from(["0", "1", "x"]), st.text(max_size=30)).map(
        lambda parts: _cursor(urlencode(dict(zip("orp", map(str, parts), strict=True))))
    ),
)


PAGES = {
    "/": ["q", "state", "health", "owner_team", "cursor", "fragment"],
    "/requests/": ["state", "health", "service", "team", "vpc", "cursor", "fragment"],
    "/approvals/": ["service", "cursor", "fragment"],
    "/services/{service}/": ["fragment"],
    "/services/{service}/request/": ["vpc", "team", "justification"],
    "/services/{service}/request/zones/": ["vpc", "team"],
    "/requests/{request}/": ["fragment"],
    "/services/publish/": ["new"],
}
# Each form, posted by someone who may use it: (path, who, its fields).
FORMS = {
    "request access": (
        "/services/{service}/request/", "consumer",
        ["team", "vpc", "zone_cn-hangzhou-g", "zone_cn-hangzhou-k", "security_groups",
         "justification", "expires_at", "action"],
    ),
    "change a failed request": (
        "/requests/{failed}/amend/", "partner",
        ["zone_cn-hangzhou-g", "zone_cn-hangzhou-k", "security_groups"],
    ),
    "reject": ("/requests/{request}/reject/", "provider", ["reason", "next"]),
    "revoke": ("/requests/{request}/revoke/", "consumer", ["confirm", "next"]),
    "settings": (
        "/services/{service}/settings/", "provider",
        ["auto_accept", "trusted_teams", "connection_limit"],
    ),
    "retire": ("/services/{service}/retire/", "provider", ["confirm_name", "force"]),
    "profile": ("/profile/", "consumer", ["time_zone", "language"]),
}  # fmt: skip
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize("path", PAGES)
@given(data=st.data())
@FUZZ
def test_no_query_string_makes_a_page_fail(world, path, data):
    names = data.draw(st.sets(st.sampled_from(PAGES[path])))
    query = {name: data.draw(CURSOR if name == "cursor" else TEXT) for name in names}
    url = path.format(service=world.service.pk, request=world.request_pk)
    for htmx in (False, True):
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        response = world.owner_client.get(url, query, **headers)
        assert response.status_code < 500, (url, query, htmx)


@pytest.mark.parametrize("path", ["/", "/requests/", "/approvals/"])
@pytest.mark.parametrize("position", ["x", "2026-13-45", "2026-01-01", "\x00", "9" * 40])
def test_a_cursor_whose_position_was_edited_shows_the_first_page(world, path, position):
    response = world.owner_client.get(path, {"cursor": _cursor(urlencode({"p": position}))})

    assert response.status_code == 200


@given(selected=st.lists(TEXT, max_size=5), decision=TEXT | st.sampled_from(["approve", "reject"]))
@FUZZ
def test_no_ticked_value_makes_the_queue_fail(world, selected, decision):
    response = world.owner_client.post(
        "/approvals/decide/", {"selected": selected, "decision": decision, "reason": "no"}
    )
    assert response.status_code < 500, (selected, decision)


@pytest.mark.parametrize("form", FORMS)
@given(data=st.data())
@FUZZ
def test_no_form_field_makes_a_form_fail(world, form, data):
    path, who, fields = FORMS[form]
    names = data.draw(st.sets(st.sampled_from(fields)))
    posted = {name: data.draw(TEXT) for name in names}
    url = path.format(service=world.service.pk, request=world.request_pk, failed=world.failed_pk)
    response = signed_in_as(world, who).post(url, posted)
    assert response.status_code < 500, (url, posted)


@pytest.fixture
def world(world):
    world.request_pk = pending(world).pk
    # The partners' request, failed before its endpoint was made: its choices may change.
    failed = world.make_request(
        "partner", vpc="VPC3", state=RequestState.FAILED, failed_phase="provision"
    )
    world.failed_pk = failed.pk
    world.owner_client = signed_in_as(world, "provider")
    return world


def test_a_poll_tells_an_outsider_nothing_of_a_request_it_may_not_see(world):
    """The fingerprint of what a request's page shows is compared only for those who may see it:
    an outsider who sends the right one gets the page's answer for outsiders, not 204."""
    access_request = AccessRequest.objects.get(pk=world.request_pk)
    insider = live.request_version(access_request.pk, world.users["provider"].pk)
    outsider = signed_in_as(world, "other_owner")

    response = outsider.get(
        f"/requests/{access_request.pk}/",
        {"fragment": "live"},
        HTTP_HX_REQUEST="true",
        HTTP_X_PORTAL_VERSION=insider,
    )

    assert response.status_code != 204
    assert live.request_version(access_request.pk, world.users["other_owner"].pk) is None
    assert Client().get(f"/requests/{access_request.pk}/").status_code == 302
