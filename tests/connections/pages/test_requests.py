"""A request's form and page (pages/requests.py, pages/forms.py): every check beside its field at
once, zones that follow the VPC, who sees a connection test's answer, the approval step."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from connections.choices import RequestState
from connections.models import AccessRequest, Event
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
