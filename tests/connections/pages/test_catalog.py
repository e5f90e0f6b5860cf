"""The catalog and a service's page (pages/catalog.py): what owners see and change, retiring with
live requests, a page that reloads when its service changes state."""

from __future__ import annotations

import pytest

from connections.choices import ServiceState
from connections.models import Event, Instance, PublishedService, ServiceBackend
from tests.connections.pages.support import pending, poll, signed_in_as
from tests.factories import PublishedServiceFactory

pytestmark = pytest.mark.django_db


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
        f"/services/{world.service.pk}/retire/", {"confirm_name": world.service.name}, follow=True
    )

    assert "1 access request is still live: revoke it first, or retire with force." in (
        response.content.decode()
    )
    world.service.refresh_from_db()
    assert world.service.state == ServiceState.AVAILABLE


@pytest.mark.parametrize("typed", ["", "nginx", "NGINX-HANGZHOU"])
def test_retire_asks_for_the_service_s_name_and_without_it_retires_nothing(world, typed):
    response = signed_in_as(world, "provider").post(
        f"/services/{world.service.pk}/retire/", {"confirm_name": typed}, follow=True
    )

    assert "Nothing was retired: type the service&#x27;s name, nginx-hangzhou, to confirm." in (
        response.content.decode()
    )
    world.service.refresh_from_db()
    assert world.service.state == ServiceState.AVAILABLE


def test_a_service_that_changed_state_reloads_its_page(world):
    client = signed_in_as(world, "provider")
    url = f"/services/{world.service.pk}/?fragment=live&shown=provisioning"

    response = poll(client, url)

    assert response["HX-Refresh"] == "true"
    assert "HX-Refresh" not in poll(client, url.replace("provisioning", "available"))


def test_a_retired_service_s_backends_are_not_called_healthy(world):
    ecs03 = Instance.objects.get(instance_id="i-ecs03")
    ServiceBackend.objects.create(service=world.service, instance=ecs03, port=80, healthy=True)
    PublishedService.objects.filter(pk=world.service.pk).update(state=ServiceState.RETIRED)

    page = signed_in_as(world, "provider").get(f"/services/{world.service.pk}/").content.decode()

    backends = page.split('id="backends-title"')[1].split("</section>")[0]
    assert "No longer served" in backends and "Healthy" not in backends


def test_the_service_page_links_the_person_s_live_access_and_leads_with_the_owners_business(world):
    access_request = pending(world)

    consumer = (
        signed_in_as(world, "consumer").get(f"/services/{world.service.pk}/").content.decode()
    )
    provider = (
        signed_in_as(world, "provider").get(f"/services/{world.service.pk}/").content.decode()
    )

    mine = consumer.split('id="my-access"')[1].split("</p>")[0]
    assert f'href="/requests/{access_request.pk}/"' in mine and "Pending approval" in mine
    assert 'class="button secondary" id="action-request-access"' in consumer
    assert "Request access from another VPC" in consumer
    assert 'id="my-access"' not in provider
    assert 'class="button secondary" id="action-request-access"' in provider


def test_a_failed_publish_shows_its_error_and_retry_at_the_step_that_failed(world):
    PublishedService.objects.filter(pk=world.service.pk).update(
        state=ServiceState.FAILED,
        failed_phase="publish",
        progress="create_load_balancer",
        last_error_code="Forbidden.RAM",
        last_error_message="The RAM policy does not allow nlb:CreateListener.",
    )
    url = f"/services/{world.service.pk}/"

    page = signed_in_as(world, "provider").get(url).content.decode()

    progress = page.split('id="progress-title"')[1].split("</section>")[0]
    assert '<li class="failed" aria-current="step">' in progress
    cause = "The RAM policy does not allow nlb:CreateListener."
    assert f'What went wrong:</strong> <span translate="no">{cause}</span>' in progress
    assert "Who can fix it:</strong> The platform team" in progress
    assert 'id="service-retry"' in progress
    backends = page.split('id="backends-title"')[1].split("</section>")[0]
    assert "What went wrong" not in backends and "service-retry" not in backends
    # Another team's member sees that it failed, not the cloud's words about the account.
    member = signed_in_as(world, "platform_member").get(url).content.decode()
    assert "nlb:CreateListener" not in member


def test_retired_services_are_out_of_the_way_but_a_filter_away(world):
    PublishedServiceFactory(name="old-billing", owner_team=world.teams["platform"],
                            state=ServiceState.RETIRED)  # fmt: skip
    client = signed_in_as(world, "consumer")

    assert "old-billing" not in client.get("/").content.decode()
    retired = client.get("/?state=retired").content.decode()
    assert "old-billing" in retired and "nginx-hangzhou" not in retired
