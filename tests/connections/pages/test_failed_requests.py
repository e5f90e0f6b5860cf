"""A failed request's page (pages/requests.py, connections/failures.py): the cause in words, who
can fix it, and, while nothing was made in the cloud, its choices changed before the retry."""

from __future__ import annotations

import pytest

from connections.choices import RequestState
from connections.models import Event
from tests.connections.pages.support import signed_in_as
from tests.factories import VSwitchFactory

pytestmark = pytest.mark.django_db

FULL = "vsw-vpc1-g is full. Choose another vSwitch in cn-hangzhou-g."


def failed(world, code: str = "ResourceNotEnough.VSwitchIp", **fields):
    return world.make_request(
        state=RequestState.FAILED,
        failed_phase="provision",
        last_error_code=code,
        last_error_message=FULL,
        **fields,
    )


def test_the_cause_is_said_in_words_with_who_can_fix_it_and_the_code_after(world):
    access_request = failed(world)
    page = signed_in_as(world, "consumer").get(f"/requests/{access_request.pk}/").content.decode()

    failure = page[page.index('id="failure"') :]
    assert failure.index("What went wrong") < failure.index("The cloud's code")
    assert FULL in failure
    assert "Your team: change the vSwitches or security groups below, then retry." in failure
    assert 'id="amend"' in page


@pytest.mark.parametrize(
    ("code", "who"),
    [
        ("Forbidden.RAM", "The platform team"),
        ("EndpointServiceLocked", "The owners of Platform"),
        ("ServiceUnavailable", "Retry first"),
    ],
)
def test_who_can_fix_it_follows_the_cloud_code(world, code, who):
    access_request = failed(world, code=code)
    page = signed_in_as(world, "consumer").get(f"/requests/{access_request.pk}/").content.decode()
    assert f"<strong>Who can fix it:</strong> {who}" in page


def test_the_team_changes_a_full_vswitch_and_the_request_resumes_with_it(world):
    access_request = failed(world)
    vpc = world.vpcs["VPC1"]
    roomy = VSwitchFactory(vpc=vpc, zone_id="cn-hangzhou-g", vswitch_id="vsw-vpc1-g2")
    generation = access_request.generation

    response = signed_in_as(world, "consumer").post(
        f"/requests/{access_request.pk}/amend/",
        {"zone_cn-hangzhou-g": roomy.pk, "security_groups": [vpc.security_groups.get().pk]},
    )

    assert response.status_code == 302
    access_request.refresh_from_db()
    assert access_request.state == RequestState.PROVISIONING
    assert {z.zone_id: z.vswitch.vswitch_id for z in access_request.zones.all()} == {
        "cn-hangzhou-g": "vsw-vpc1-g2"
    }
    assert access_request.generation == generation + 1  # a new ClientToken for the endpoint
    changed = Event.objects.get(access_request=access_request, verb="changed")
    assert "cn-hangzhou-g: vsw-vpc1-g2" in changed.detail


def test_a_change_that_fails_its_checks_shows_beside_its_field_and_changes_nothing(world):
    access_request = failed(world)

    response = signed_in_as(world, "consumer").post(f"/requests/{access_request.pk}/amend/", {})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose at least one zone and its vSwitch." in page
    assert "Choose at least one security group." in page
    access_request.refresh_from_db()
    assert access_request.state == RequestState.FAILED
    assert access_request.zones.count() == 2


def test_no_change_is_offered_once_the_endpoint_exists(world):
    made = failed(world, endpoint_id="ep-made")
    page = signed_in_as(world, "consumer").get(f"/requests/{made.pk}/").content.decode()
    assert 'id="amend"' not in page
    assert "withdraw it and request again" in page
    response = signed_in_as(world, "consumer").post(f"/requests/{made.pk}/amend/", {}, follow=True)
    assert "Not possible now" in response.content.decode()


def test_the_services_owners_may_retry_but_not_change_the_teams_choices(world):
    access_request = failed(world)
    provider = signed_in_as(world, "provider")
    page = provider.get(f"/requests/{access_request.pk}/").content.decode()
    assert 'id="amend"' not in page and 'id="action-retry"' in page

    response = provider.post(f"/requests/{access_request.pk}/amend/", {}, follow=True)
    assert "Only the requesting team may change its request." in response.content.decode()
    access_request.refresh_from_db()
    assert access_request.state == RequestState.FAILED


@pytest.mark.parametrize("posted", ["9" * 30, "²", "-1"])
def test_an_id_that_names_no_row_is_refused_beside_its_field_not_queried(world, posted):
    access_request = failed(world)

    response = signed_in_as(world, "consumer").post(
        f"/requests/{access_request.pk}/amend/",
        {"zone_cn-hangzhou-g": posted, "security_groups": [posted]},
    )

    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()
