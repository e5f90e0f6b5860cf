"""The pages, for every role: who gets which answer (200, 302, 403, 404 as the policies say), what
a refused verb shows, what a poll costs, and query counts that do not grow with the rows.

Roles as in test_api_roles: anonymous; a member of Apps (the consumer); a member of Platform,
the service's team, who does not own it; the service's owner; the owner of another team's
services (Partners); a platform admin. Nothing here reaches a cloud or a broker: the tests run in
a transaction that never commits, so no workflow is ever enqueued.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from connections.choices import RequestState, ServiceState
from connections.models import AccessRequest, Event, PublishedService
from connections.pages import live
from connections.pages import requests as requests_pages
from tests.api.support import api_test_settings, build_api_world
from tests.factories import AccessRequestFactory, PublishedServiceFactory, VpcFactory

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "consumer", "platform_member", "provider", "other_owner", "admin"]


@pytest.fixture(autouse=True)
def _settings(settings):
    api_test_settings(settings)


@pytest.fixture
def world():
    return build_api_world()


def signed_in_as(world, role: str) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(world.users[role])
    return client


def pending(world) -> AccessRequest:
    return world.make_request(state=RequestState.PENDING_APPROVAL)


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
        f"/requests/{access_request.pk}/{action}/", {"reason": "Not this quarter."}, follow=True
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


def test_the_header_shows_teams_roles_and_the_live_count_for_owners(world):
    pending(world)

    consumer = signed_in_as(world, "consumer").get("/").content.decode()
    provider = signed_in_as(world, "provider").get("/").content.decode()

    assert "Apps <span" in consumer and "(member)" in consumer
    assert "Approvals" not in consumer
    assert "Platform <span" in provider and "(owner)" in provider
    assert re.search(r'id="awaiting-count"[^>]*>1 waiting</span>', provider, re.S)


# --- the request form ------------------------------------------------------------------------


def test_the_form_shows_the_zone_the_service_does_not_offer_disabled_with_the_reason(world):
    page = signed_in_as(world, "consumer").get(f"/services/{world.service.pk}/request/").content
    page = page.decode()

    assert 'id="zone-off-cn-hangzhou-h" disabled' in page
    assert "nginx-hangzhou is not offered in this zone." in page
    assert 'name="zone_cn-hangzhou-g"' in page and 'name="zone_cn-hangzhou-k"' in page


def form_data(world, **overrides) -> dict:
    vpc = world.vpcs["VPC1"]
    data = {
        "team": world.teams["apps"].pk,
        "vpc": vpc.pk,
        "zone_cn-hangzhou-g": vpc.vswitches.get(zone_id="cn-hangzhou-g").pk,
        "zone_cn-hangzhou-k": vpc.vswitches.get(zone_id="cn-hangzhou-k").pk,
        "security_groups": [vpc.security_groups.get().pk],
        "justification": "The storefront calls nginx.",
        "action": "submit",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_every_failed_check_shows_beside_its_field_at_once(world):
    response = signed_in_as(world, "consumer").post(
        f"/services/{world.service.pk}/request/",
        form_data(
            world,
            **{"zone_cn-hangzhou-g": None, "zone_cn-hangzhou-k": None},
            security_groups=None,
            justification="   ",
        ),
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert not AccessRequest.objects.exists()
    assert "Choose at least one zone and its vSwitch." in page
    assert "Choose at least one security group." in page
    assert "Say why the team needs access." in page  # the blank justification, beside it


def test_check_runs_every_check_without_submitting(world):
    response = signed_in_as(world, "consumer").post(
        f"/services/{world.service.pk}/request/", form_data(world, action="check")
    )

    assert "Every check passes: submit to request access." in response.content.decode()
    assert not AccessRequest.objects.exists()


def test_submitting_records_the_request_and_shows_it(world):
    response = signed_in_as(world, "consumer").post(
        f"/services/{world.service.pk}/request/", form_data(world)
    )

    access_request = AccessRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/requests/{access_request.pk}/"
    assert access_request.consumer_team == world.teams["apps"]
    assert [z.zone_id for z in access_request.zones.all()] == ["cn-hangzhou-g", "cn-hangzhou-k"]


def test_a_second_request_for_the_same_vpc_is_refused_on_the_form(world):
    pending(world)

    response = signed_in_as(world, "consumer").post(
        f"/services/{world.service.pk}/request/", form_data(world)
    )

    assert "already has a live request for nginx-hangzhou" in response.content.decode()
    assert AccessRequest.objects.count() == 1


def test_the_zones_follow_the_chosen_vpc(world):
    second = VpcFactory(account=world.vpcs["VPC1"].account, team=world.teams["apps"], name="VPC9")
    from tests.factories import VSwitchFactory

    VSwitchFactory(vpc=second, zone_id="cn-hangzhou-k", vswitch_id="vsw-vpc9-k")

    response = signed_in_as(world, "consumer").get(
        f"/services/{world.service.pk}/request/zones/", {"vpc": second.pk, "team": ""}
    )

    page = response.content.decode()
    assert 'id="zones"' in page and "<html" not in page  # the partial alone
    assert "vsw-vpc9-k" in page and "vsw-vpc1-k" not in page
    assert "The VPC has no vSwitch in this zone." in page  # zone G, offered, but not in VPC9


def test_a_person_in_no_team_is_told_why_there_is_no_form(world):
    response = signed_in_as(world, "loner").get(f"/services/{world.service.pk}/request/")

    assert response.status_code == 403
    assert "Only members of a team may request access" in response.content.decode()


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


def test_owners_see_backends_connections_settings_and_timeline_others_do_not(world):
    world.service.backends.create(instance=world.vpcs["VPC2"].instances.get(name="ECS03"), port=80)
    Event.objects.create(service=world.service, verb="created load balancer", detail="nlb-secret")

    owner = signed_in_as(world, "provider").get(f"/services/{world.service.pk}/").content.decode()
    member = signed_in_as(world, "platform_member").get(f"/services/{world.service.pk}/").content
    member = member.decode()

    for text in ("Backends", "ECS03", "Connections", "Settings", "nlb-secret", "Retire"):
        assert text in owner
        assert text not in member
    assert "Request access" in member


def test_the_owner_changes_settings_and_a_member_may_not(world):
    url = f"/services/{world.service.pk}/settings/"
    data = {"auto_accept": "", "trusted_teams": [world.teams["apps"].pk], "connection_limit": "5"}

    refused = signed_in_as(world, "platform_member").post(url, data, follow=True).content.decode()
    saved = signed_in_as(world, "provider").post(url, data, follow=True).content.decode()

    world.service.refresh_from_db()
    assert "Only owners of Platform may change its settings." in refused
    assert "Settings saved." in saved
    assert world.service.connection_limit == 5
    assert list(world.service.trusted_teams.values_list("slug", flat=True)) == ["apps"]
    assert world.service.events.get(verb="settings changed").detail == (
        "connection limit 5; trusted teams: Apps"
    )


def test_retiring_with_live_requests_says_what_to_do(world):
    pending(world)

    response = signed_in_as(world, "provider").post(
        f"/services/{world.service.pk}/retire/", {}, follow=True
    )

    assert "1 access request is still live: revoke it first, or retire with force." in (
        response.content.decode()
    )
    world.service.refresh_from_db()
    assert world.service.state == ServiceState.AVAILABLE


# --- live regions ------------------------------------------------------------------------------


def poll(client: Client, url: str, version: str = ""):
    return client.get(url, HTTP_HX_REQUEST="true", HTTP_X_PORTAL_VERSION=version)


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
    version = live.request_version(access_request.pk)

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
    assert version != live.request_version(access_request.pk)
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


# --- lists: queries that do not grow, pages, filters -------------------------------------------

LIST_PAGES = {"catalog": "/", "my requests": "/requests/", "approval queue": "/approvals/"}


def add_rows(world, count: int) -> None:
    for _ in range(count):
        service = PublishedServiceFactory(owner_team=world.teams["platform"])
        AccessRequestFactory(
            service=service,
            consumer_team=world.teams["apps"],
            vpc=world.vpcs["VPC1"],
            state=RequestState.PENDING_APPROVAL,
        )


@pytest.mark.parametrize("where", LIST_PAGES)
def test_list_pages_cost_the_same_queries_for_5_rows_as_for_20(
    world, where, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in_as(world, "admin")
    add_rows(world, 5)
    client.get(LIST_PAGES[where])
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST_PAGES[where]).status_code == 200
    add_rows(world, 15)

    with django_assert_max_num_queries(len(few)):
        response = client.get(LIST_PAGES[where])

    assert response.status_code == 200
    assert len(few) <= 12


def test_lists_page_by_cursor(world):
    add_rows(world, 30)
    client = signed_in_as(world, "consumer")

    first = client.get("/requests/").content.decode()
    next_url = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = client.get(next_url).content.decode()

    ids_first = set(re.findall(r'href="/requests/(\d+)/"', first))
    ids_second = set(re.findall(r'href="/requests/(\d+)/"', second))
    assert len(ids_first) == 25 and len(ids_second) == 5 and not ids_first & ids_second
    assert "fragment=" not in next_url


def test_an_empty_filter_field_means_any(world):
    world.make_request(state=RequestState.PENDING_APPROVAL)
    client = signed_in_as(world, "consumer")

    page = client.get("/requests/", {"state": "", "health": ""}).content.decode()
    api = world.client("consumer").get("/api/v1/access-requests/?state=&health=")

    assert "nginx-hangzhou" in page
    assert api.status_code == 200 and len(api.json()["results"]) == 1


# --- the publish wizard ------------------------------------------------------------------------


def test_the_wizard_checks_each_step_then_publishes(world):
    client = signed_in_as(world, "provider")
    url = "/services/publish/"
    vpc2 = world.vpcs["VPC2"]

    def step(name: str, data: dict):
        payload = {"publish_wizard-current_step": name}
        payload.update({f"{name}-{key}": value for key, value in data.items()})
        return client.post(url, payload)

    assert client.get(url).status_code == 200
    taken = step("basics", {"team": world.teams["platform"].pk, "name": "nginx-hangzhou",
                            "vpc": vpc2.pk})  # fmt: skip
    assert "A service named nginx-hangzhou already exists." in taken.content.decode()
    step("basics", {"team": world.teams["platform"].pk, "name": "orders-api", "vpc": vpc2.pk})
    one_zone = step("zones", {"zone_cn-hangzhou-g": vpc2.vswitches.get(zone_id="cn-hangzhou-g").pk})
    assert "Choose at least 2 zones" in one_zone.content.decode()
    step("zones", {f"zone_{z}": vpc2.vswitches.get(zone_id=z).pk
                   for z in ("cn-hangzhou-g", "cn-hangzhou-k")})  # fmt: skip
    ecs03 = vpc2.instances.get(name="ECS03").instance_id
    step("backends", {f"use_{ecs03}": "on", f"port_{ecs03}": 80, f"weight_{ecs03}": 100})
    review = step("listener", {"protocol": "TCP", "port": 80, "connection_limit": ""})
    assert "orders-api" in review.content.decode() and "Publish" in review.content.decode()

    done = step("review", {})

    service = PublishedService.objects.get(name="orders-api")
    assert done.status_code == 302 and done["Location"] == f"/services/{service.pk}/"
    assert service.state == ServiceState.PROVISIONING
    assert [b.instance.instance_id for b in service.backends.all()] == [ecs03]


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


def test_the_wizards_review_without_its_first_step_starts_over_instead_of_failing(world):
    response = signed_in_as(world, "provider").post(
        "/services/publish/", {"publish_wizard-current_step": "review"}
    )

    assert response.status_code == 200
    assert re.search(
        r'class="current" aria-current="step">1\. Service and VPC', (response.content.decode())
    )


def test_enter_in_the_queues_reason_box_rejects_rather_than_approves(world):
    pending(world)

    page = signed_in_as(world, "provider").get("/approvals/").content.decode()

    decide_form = page[
        page.index('id="decide-form"') : page.index("</form>", page.index('id="decide-form"'))
    ]
    own_buttons = re.findall(r'<button type="submit" name="decision" value="(\w+)"', decide_form)
    assert own_buttons == ["reject", "approve"]  # the first is what Enter presses


def test_a_vpc_change_redraws_the_zones_with_their_preselection_and_no_errors(world):
    vpc1 = world.vpcs["VPC1"]

    page = (
        signed_in_as(world, "consumer")
        .get(f"/services/{world.service.pk}/request/zones/", {"vpc": vpc1.pk, "team": ""})
        .content.decode()
    )

    g = vpc1.vswitches.get(zone_id="cn-hangzhou-g").pk
    assert re.search(rf'<option value="{g}" selected>', page)
    assert "errorlist" not in page and "aria-invalid" not in page
    assert re.search(r'value="\d+"[^>]*checked', page)  # VPC1's only security group


def test_a_connection_test_changes_what_the_request_page_shows(world):
    from connections.models import ConnectionTest

    access_request = world.make_request(state=RequestState.CONNECTED)
    before = live.request_version(access_request.pk)
    test = ConnectionTest.objects.create(access_request=access_request)
    asked = live.request_version(access_request.pk)
    ConnectionTest.objects.filter(pk=test.pk).update(finished_at=timezone.now(), ok=True)

    assert len({before, asked, live.request_version(access_request.pk)}) == 3


def test_a_service_that_changed_state_reloads_its_page(world):
    client = signed_in_as(world, "provider")
    url = f"/services/{world.service.pk}/?fragment=live&shown=provisioning"

    response = poll(client, url)

    assert response["HX-Refresh"] == "true"
    assert "HX-Refresh" not in poll(client, url.replace("provisioning", "available"))


def test_only_those_who_may_test_see_a_tests_answer(world):
    access_request = world.make_request(state=RequestState.CONNECTED)
    url = f"/requests/{access_request.pk}/test/"

    assert signed_in_as(world, "consumer").get(url).status_code == 200
    assert signed_in_as(world, "platform_member").get(url).status_code == 404


def test_a_rows_buttons_bring_back_the_queue_not_its_poll(world):
    pending(world)

    rows = poll(signed_in_as(world, "provider"), "/approvals/?fragment=rows").content.decode()

    assert 'name="next" value="/approvals/"' in rows


@pytest.mark.parametrize(("waiting", "shown"), [(100, "100 waiting"), (101, "100+ waiting")])
def test_the_header_counts_to_a_hundred(world, waiting, shown):
    for _ in range(waiting):
        AccessRequestFactory(
            service=world.service, consumer_team=world.teams["apps"], state="pending_approval"
        )

    page = signed_in_as(world, "provider").get("/requests/").content.decode()

    assert re.search(rf'id="awaiting-count"[^>]*>{re.escape(shown)}</span>', page, re.S)


def test_a_name_taken_meanwhile_is_caught_at_the_review(world):
    client = signed_in_as(world, "provider")
    vpc2 = world.vpcs["VPC2"]

    def step(name: str, data: dict):
        payload = {"publish_wizard-current_step": name}
        payload.update({f"{name}-{key}": value for key, value in data.items()})
        return client.post("/services/publish/", payload)

    client.get("/services/publish/")
    step("basics", {"team": world.teams["platform"].pk, "name": "orders-api", "vpc": vpc2.pk})
    step("zones", {f"zone_{z}": vpc2.vswitches.get(zone_id=z).pk
                   for z in ("cn-hangzhou-g", "cn-hangzhou-k")})  # fmt: skip
    ecs03 = vpc2.instances.get(name="ECS03").instance_id
    step("backends", {f"use_{ecs03}": "on", f"port_{ecs03}": 80, f"weight_{ecs03}": 100})
    PublishedServiceFactory(name="orders-api", owner_team=world.teams["apps"])  # someone else

    review = step("listener", {"protocol": "TCP", "port": 80, "connection_limit": ""})
    published = step("review", {})

    assert review.status_code == published.status_code == 200
    assert "The first step&#x27;s answers no longer hold: go back to step 1." in (
        published.content.decode()
    )
    assert PublishedService.objects.filter(name="orders-api").count() == 1


@pytest.mark.parametrize(
    ("state", "verb", "step"),
    [
        (RequestState.PENDING_APPROVAL, None, 'aria-current="step">Awaiting approval</li>'),
        (RequestState.CONNECTED, "approve", '<li class="done">Approved</li>'),
        (RequestState.CONNECTED, "auto-approved", '<li class="done">Approved automatically</li>'),
        (RequestState.CONNECTING, "auto-accepted", '<li class="done">Approved automatically</li>'),
    ],
)  # fmt: skip
def test_the_approval_step_says_whether_a_person_approved(world, state, verb, step):
    access_request = world.make_request(state=state)
    if verb:
        Event.objects.create(access_request=access_request, verb=verb, to_state="connecting")

    page = signed_in_as(world, "consumer").get(f"/requests/{access_request.pk}/").content.decode()

    steps = page.split('<ol class="steps"')[1].split("</ol>")[0]
    assert step in steps
