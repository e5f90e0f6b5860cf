"""Health and findings in the browser's pages: the catalog's health column, a service's health
and its backends', its findings with "Clean up" for its owners, a request's health card and its
last 24 hours; and the live regions follow each of them."""

from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from connections.choices import Health, RequestState
from connections.models import AccessRequest, Finding, HealthSample, PublishedService
from connections.pages import live
from tests.connections.pages.support import poll, signed_in_as

pytestmark = pytest.mark.django_db


def down(service: PublishedService) -> None:
    PublishedService.objects.filter(pk=service.pk).update(
        health=Health.DOWN, health_reason="No backend is healthy.", health_checked_at=timezone.now()
    )


def test_the_catalog_says_when_a_service_is_down_and_its_poll_follows(world):
    client = signed_in_as(world, "consumer")
    url = "/?fragment=rows"
    first = client.get("/").content.decode()
    shown = first.split('"X-Portal-Version": "')[1].split('"')[0]
    assert "Unknown" in first

    down(world.service)

    region = poll(client, url, shown)
    assert region.status_code == 200
    rows = region.content.decode()
    assert (
        '<span class="badge badge-red">Down</span><br><small>No backend is healthy.</small>' in rows
    )


def finding(world, **fields) -> Finding:
    values = {
        "kind": Finding.Kind.ORPHAN_ENDPOINT,
        "account": world.vpcs["VPC1"].account,
        "service": world.service,
        "resource_id": "ep-orphan",
        "made_by_portal": True,
        "detail": "in VPC vpc-vpc1, made for request 1234, which this portal does not have",
        "last_seen": timezone.now(),
    }
    values.update(fields)
    return Finding.objects.create(**values)


def test_a_services_owners_see_its_backends_health_and_findings_and_others_do_not(world):
    backend = world.service.backends.create(
        instance=world.vpcs["VPC2"].instances.get(name="ECS03"),
        port=80,
        healthy=False,
        health_reason="CONNECT_FAILED",
    )
    down(world.service)
    orphan = finding(world)
    finding(world, kind=Finding.Kind.UNMANAGED_CONNECTION, resource_id="ep-console",
            made_by_portal=False)  # fmt: skip
    url = f"/services/{world.service.pk}/"

    owner = signed_in_as(world, "provider").get(url).content.decode()
    consumer = signed_in_as(world, "consumer").get(url).content.decode()

    assert "No backend is healthy." in owner and "No backend is healthy." in consumer
    # The cloud's reason in words, its code kept for whoever looks it up.
    assert '<small title="CONNECT_FAILED">refuses connections</small>' in owner
    assert backend.instance.private_ip in owner
    assert "Found in the cloud" in owner and "ep-console" in owner
    assert f"/services/{world.service.pk}/findings/{orphan.pk}/clean-up/" in owner
    assert owner.count(">Clean up</button>") == 1  # the unmanaged one is not the portal's
    assert "Not made by the portal" in owner
    for private in ("CONNECT_FAILED", "Found in the cloud", "ep-orphan"):
        assert private not in consumer


def test_an_owner_cleans_up_from_the_service_page_and_a_consumer_cannot(world):
    orphan = finding(world)
    url = f"/services/{world.service.pk}/findings/{orphan.pk}/clean-up/"

    refused = signed_in_as(world, "consumer").post(url)
    assert refused.status_code == 404
    with (
        mock.patch("connections.actions._enqueue_clean_up") as enqueue,
        mock.patch("django.db.transaction.on_commit", side_effect=lambda f, robust: f()),
    ):
        done = signed_in_as(world, "provider").post(url, follow=True)

    enqueue.assert_called_once_with(orphan.pk)
    page = done.content.decode()
    assert "Cleaning up ep-orphan" in page
    assert '<span class="badge badge-blue">Cleaning up</span>' in page


def test_a_findings_arrival_redraws_the_service_page(world):
    client = signed_in_as(world, "provider")
    version = live.service_version(world.service.pk)
    assert poll(client, f"/services/{world.service.pk}/?fragment=live", version).status_code == 204

    orphan = finding(world)
    assert live.service_version(world.service.pk) != version
    version = live.service_version(world.service.pk)
    Finding.objects.filter(pk=orphan.pk).update(cleaning=True)
    assert live.service_version(world.service.pk) != version


def test_a_requests_page_shows_its_health_reason_latency_and_last_day(world):
    now = timezone.now()
    access_request = world.make_request(
        state=RequestState.CONNECTED,
        endpoint_id="ep-1",
        endpoint_domain="ep-1.example",
        health=Health.DEGRADED,
        health_reason="1 of 2 backends are unhealthy.",
        health_checked_at=now,
        probe_latency_ms=0.84,
        connected_at=now - timedelta(hours=5),
    )
    # Both points of three hours ago sit mid-hour, so they share an hour whatever the clock says.
    three_hours_ago = now.replace(minute=30, second=0, microsecond=0) - timedelta(hours=3)
    HealthSample.objects.bulk_create(
        [
            HealthSample(access_request=access_request, at=three_hours_ago, health="down"),
            HealthSample(access_request=access_request, at=three_hours_ago - timedelta(minutes=1),
                         health="healthy"),
            HealthSample(access_request=access_request, at=now, health="degraded"),
        ]
    )  # fmt: skip

    page = signed_in_as(world, "consumer").get(f"/requests/{access_request.pk}/").content.decode()

    # The counts are the reason's values, marked as data for translators.
    reason = (
        '<span translate="no">1</span> of <span translate="no">2</span> backends are unhealthy.'
    )
    assert reason in page and "0.8 ms" in page
    strip = page.split('class="health-strip"')[1].split("</ol>")[0]
    hours = strip.count('class="hour ')
    assert hours == 24
    # The hour three hours ago shows its worst (down), this hour degraded, the rest unprobed;
    # the hours before it was connected, five hours ago, are neither.
    assert strip.count("badge-red") == 1 and strip.count("badge-yellow") == 1
    assert strip.count("badge-none") == 18 and "not connected yet" in strip
    assert strip.count("badge-grey") == 4


def test_a_change_of_health_redraws_the_request_page(world):
    access_request = world.make_request(state=RequestState.CONNECTED, endpoint_id="ep-1")
    version = live.request_version(access_request.pk, world.users["consumer"].pk)

    AccessRequest.objects.filter(pk=access_request.pk).update(health=Health.DOWN)

    assert live.request_version(access_request.pk, world.users["consumer"].pk) != version


def test_a_request_that_is_down_shows_no_probe_latency(world):
    access_request = world.make_request(
        state=RequestState.CONNECTED,
        health=Health.DOWN,
        health_checked_at=timezone.now(),
        probe_latency_ms=2.4,
    )

    page = signed_in_as(world, "consumer").get(f"/requests/{access_request.pk}/").content.decode()

    assert "2.4 ms" not in page
    assert re.search(r"Probe latency</dt><dd>—</dd>", page)
