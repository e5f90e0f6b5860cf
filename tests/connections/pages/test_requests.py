"""A request's form and page (pages/requests.py, pages/forms.py): every check beside its field at
once, zones that follow the VPC, who sees a connection test's answer, the approval step."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from connections.choices import RequestState
from connections.models import AccessRequest, ConnectionTest, Event
from connections.models.access import NO_HTTP_ANSWER
from connections.pages import live
from tests.connections.pages.support import form_data, pending, signed_in_as
from tests.factories import VpcFactory

pytestmark = pytest.mark.django_db


def test_the_form_shows_the_zone_the_service_does_not_offer_disabled_with_the_reason(world):
    page = signed_in_as(world, "consumer").get(f"/services/{world.service.pk}/request/").content
    page = page.decode()

    assert 'id="zone-off-cn-hangzhou-h" disabled' in page
    assert "nginx-hangzhou is not offered in this zone." in page
    assert 'name="zone_cn-hangzhou-g"' in page and 'name="zone_cn-hangzhou-k"' in page


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
    before = live.request_version(access_request.pk, world.users["consumer"].pk)
    test = ConnectionTest.objects.create(access_request=access_request)
    asked = live.request_version(access_request.pk, world.users["consumer"].pk)
    ConnectionTest.objects.filter(pk=test.pk).update(finished_at=timezone.now(), ok=True)

    assert (
        len({before, asked, live.request_version(access_request.pk, world.users["consumer"].pk)})
        == 3
    )


def test_only_those_who_may_test_see_a_tests_answer(world):
    access_request = world.make_request(state=RequestState.CONNECTED)
    url = f"/requests/{access_request.pk}/test/"

    assert signed_in_as(world, "consumer").get(url).status_code == 200
    assert signed_in_as(world, "platform_member").get(url).status_code == 404


@pytest.mark.parametrize(
    ("ok", "answer", "health", "outcome", "words"),
    [
        (True, "HTTP 200 OK: Hello World ! This is ECS03", "healthy", "answered", "Connected"),
        (True, NO_HTTP_ANSWER, "down", "unanswered", "None of the service's backends is healthy"),
        (True, NO_HTTP_ANSWER, "healthy", "unanswered", "may not speak HTTP"),
        (False, "", "down", "failed", "Failed"),
    ],
)
def test_a_test_s_answer_says_what_answered_in_words_and_colour(
    world, ok, answer, health, outcome, words
):
    """Reached but unanswered is a warning, never "Connected" in green."""
    access_request = world.make_request(state=RequestState.CONNECTED, health=health)
    ConnectionTest.objects.create(
        access_request=access_request, finished_at=timezone.now(), ok=ok, answer=answer,
        target="ep.example:80", latency_ms=1.5, error="" if ok else "TCP connect failed.",
    )  # fmt: skip

    page = signed_in_as(world, "consumer").get(f"/requests/{access_request.pk}/test/")

    result = re.search(r'<div class="test-result (\w+)".*?</div>', page.content.decode(), re.S)
    assert result.group(1) == outcome
    assert words in result.group(0)
    assert ("Connected</strong>" in result.group(0)) == (outcome == "answered")


@pytest.mark.parametrize(
    ("state", "verb", "step"),
    [
        (RequestState.PENDING_APPROVAL, None, 'aria-current="step">Approval</li>'),
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


@pytest.mark.parametrize(
    ("fields", "steps"),
    [
        (
            {"state": RequestState.REVOKED, "connected_at": timezone.now()},
            ["done:Submitted", "done:Provisioning", "done:Approved", "done:Connecting",
             "done:Connected", "ended:Revoked"],
        ),
        (
            {"state": RequestState.REJECTED},
            ["done:Submitted", "done:Provisioning", "ended:Rejected"],
        ),
        (
            {"state": RequestState.REVOKING},
            ["done:Submitted", "done:Provisioning", "current:Revoking"],
        ),
    ],
)  # fmt: skip
def test_the_steps_follow_the_path_a_closed_request_took(world, fields, steps):
    access_request = world.make_request(**fields)

    page = signed_in_as(world, "consumer").get(f"/requests/{access_request.pk}/").content.decode()

    shown = re.findall(r'<li class="(\w+)"[^>]*>([^<]+)</li>', page.split('class="steps"')[1])
    assert [f"{mark}:{label}" for mark, label in shown[: len(steps) + 1]] == steps


@pytest.mark.parametrize("state", [RequestState.REVOKED, RequestState.REJECTED])
def test_a_closed_request_offers_nothing_that_is_gone_and_asks_again_with_its_values(world, state):
    access_request = world.make_request(
        state=state,
        endpoint_id="ep-gone",
        endpoint_domain="ep-gone.privatelink.example",
        endpoint_deleted_at=timezone.now(),
    )
    access_request.zones.update(status="Connected", eni_ip="10.0.0.9", zone_domain="z.example")
    client = signed_in_as(world, "consumer")

    page = client.get(f"/requests/{access_request.pk}/").content.decode()

    for gone in ("curl-command", "copy-command", "ep-gone.privatelink.example", "10.0.0.9",
                 "z.example", "action-test"):  # fmt: skip
        assert gone not in page, gone
    assert "Its endpoint was deleted at" in page
    again = re.search(r'id="request-again" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    form = client.get(again).content.decode()
    assert "The storefront calls nginx." in form
    vpc_select = form.split('name="vpc"')[1].split("</select>")[0]
    vpc = re.search(r'<option value="(\d+)" selected[ >]', vpc_select).group(1)
    assert int(vpc) == access_request.vpc_id


def test_a_live_request_still_shows_its_endpoint_and_zones(world):
    access_request = world.make_request(
        state=RequestState.CONNECTED, endpoint_id="ep-1", endpoint_domain="ep-1.example"
    )
    access_request.zones.update(eni_ip="10.0.0.9")

    page = signed_in_as(world, "consumer").get(f"/requests/{access_request.pk}/").content.decode()

    assert "curl-command" in page and "10.0.0.9" in page and "request-again" not in page
