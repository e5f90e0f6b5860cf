"""Health and findings over the API: a request's health, reason, latency and history; a
service's health and its backends'; findings for the owners, and their clean-up."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from connections.choices import Health, RequestState
from connections.models import Finding, HealthSample
from connections.monitoring.rules import compact_history
from tests.connections.api.support import api_test_settings, assert_problem, build_api_world

pytestmark = pytest.mark.django_db

FINDINGS = "/api/v1/findings/"


@pytest.fixture(autouse=True)
def _settings(settings):
    api_test_settings(settings)


@pytest.fixture
def api():
    return build_api_world()


def connected_request(api, **fields):
    return api.make_request(
        state=RequestState.CONNECTED, endpoint_id="ep-1", endpoint_domain="ep-1.example", **fields
    )


def test_a_requests_answer_carries_its_health_reason_latency_and_last_day(api):
    now = timezone.now()
    access_request = connected_request(
        api,
        health=Health.DEGRADED,
        health_reason="1 of 2 backends are unhealthy.",
        health_checked_at=now,
        probe_latency_ms=1.5,
    )
    HealthSample.objects.bulk_create(
        HealthSample(access_request=access_request, at=at, health=health)
        for at, health in [
            (now - timedelta(days=2), Health.DOWN),
            (now - timedelta(hours=2), Health.HEALTHY),
            (now, Health.DEGRADED),
        ]
    )

    body = api.client("consumer").get(f"/api/v1/access-requests/{access_request.pk}/").json()

    assert (body["health"], body["health_reason"], body["probe_latency_ms"]) == (
        "degraded",
        "1 of 2 backends are unhealthy.",
        1.5,
    )
    # The last day, newest first; older points are a link away.
    assert [p["health"] for p in body["health_history"]] == ["degraded", "healthy"]
    history = api.client("consumer").get(body["links"]["health_history"]).json()
    assert [p["health"] for p in history["results"]] == ["degraded", "healthy", "down"]


def test_the_health_history_of_a_request_one_may_not_see_is_a_404(api):
    access_request = connected_request(api)
    response = api.client("loner").get(
        f"/api/v1/access-requests/{access_request.pk}/health-history/"
    )
    assert_problem(response, 404, "not_found")


def test_a_services_health_is_for_everyone_and_its_backends_health_for_its_owners(api):
    backend = api.service.backends.create(
        instance=api.vpcs["VPC2"].instances.get(name="ECS03"),
        port=80,
        healthy=False,
        health_reason="CONNECT_FAILED",
    )
    type(api.service).objects.filter(pk=api.service.pk).update(
        health=Health.DOWN, health_reason="No backend is healthy."
    )

    owner = api.client("provider").get(f"/api/v1/services/{api.service.pk}/").json()
    catalog = api.client("consumer").get("/api/v1/services/").json()["results"][0]

    assert (catalog["health"], catalog["health_reason"]) == ("down", "No backend is healthy.")
    assert catalog["backends"] is None and "findings" not in catalog["links"]
    assert owner["backends"][0]["instance_id"] == backend.instance.instance_id
    assert (owner["backends"][0]["healthy"], owner["backends"][0]["health_reason"]) == (
        False,
        "CONNECT_FAILED",
    )
    assert owner["links"]["findings"].endswith(f"{FINDINGS}?service={api.service.pk}")


def finding(api, **fields) -> Finding:
    values = {
        "kind": Finding.Kind.ORPHAN_ENDPOINT,
        "account": api.vpcs["VPC1"].account,
        "service": api.service,
        "resource_id": "ep-orphan",
        "made_by_portal": True,
        "last_seen": timezone.now(),
    }
    values.update(fields)
    return Finding.objects.create(**values)


def test_findings_are_shown_to_the_owners_of_their_service_and_to_platform_admins(api):
    orphan = finding(api)
    nobodys = finding(api, service=None, resource_id="ep-elsewhere")
    finding(api, resource_id="ep-gone", resolved_at=timezone.now())

    def ids(who, query=""):
        return {f["id"] for f in api.client(who).get(FINDINGS + query).json()["results"]}

    assert ids("provider") == {orphan.pk}
    assert ids("admin") == {orphan.pk, nobodys.pk}
    assert ids("platform_member") == ids("consumer") == ids("partner") == set()
    assert len(ids("admin", "?state=resolved")) == 1
    assert len(ids("admin", "?state=open&state=resolved")) == 3


def test_an_owner_cleans_up_an_orphan_and_a_second_click_is_a_conflict(api):
    orphan = finding(api)
    client = api.client("provider")
    listed = client.get(FINDINGS).json()["results"][0]
    assert listed["cleanable"] and listed["links"]["clean_up"].endswith(
        f"{FINDINGS}{orphan.pk}/clean-up/"
    )

    with mock.patch("connections.actions._enqueue_clean_up") as enqueue:
        with mock.patch("django.db.transaction.on_commit", side_effect=lambda f, robust: f()):
            response = client.post(f"{FINDINGS}{orphan.pk}/clean-up/")
        again = client.post(f"{FINDINGS}{orphan.pk}/clean-up/")

    assert response.status_code == 202, response.content
    assert response.json()["state"] == "cleaning" and "clean_up" not in response.json()["links"]
    enqueue.assert_called_once_with(orphan.pk)
    assert_problem(again, 409, "invalid_transition")


def test_what_the_portal_did_not_make_cannot_be_cleaned_up(api):
    unmanaged = finding(api, kind=Finding.Kind.UNMANAGED_CONNECTION, made_by_portal=False)

    listed = api.client("provider").get(FINDINGS).json()["results"][0]
    response = api.client("provider").post(f"{FINDINGS}{unmanaged.pk}/clean-up/")

    assert not listed["cleanable"] and "clean_up" not in listed["links"]
    assert_problem(response, 409, "invalid_transition")


def test_only_platform_admins_clean_up_what_no_service_accounts_for(api):
    nobodys = finding(api, service=None)
    assert_problem(
        api.client("provider").post(f"{FINDINGS}{nobodys.pk}/clean-up/"), 404, "not_found"
    )


def test_history_older_than_a_day_is_folded_into_the_worst_of_each_hour_and_dropped_after_30_days(
    api,
):
    access_request = connected_request(api)
    now = timezone.now().replace(minute=30, second=0, microsecond=0)
    two_days_ago = now - timedelta(days=2)
    points = [
        (two_days_ago - timedelta(minutes=20), Health.HEALTHY, 1.0),
        (two_days_ago - timedelta(minutes=10), Health.DEGRADED, 3.0),
        (two_days_ago + timedelta(minutes=35), Health.HEALTHY, 2.0),  # the next hour
        (now - timedelta(days=31), Health.DOWN, None),
        (now - timedelta(hours=1), Health.HEALTHY, 1.0),
    ]
    HealthSample.objects.bulk_create(
        HealthSample(access_request=access_request, at=at, health=health, latency_ms=latency)
        for at, health, latency in points
    )

    folded, dropped = compact_history(now)

    assert (folded, dropped) == (3, 1)
    left = list(HealthSample.objects.order_by("at").values_list("health", "latency_ms", "hourly"))
    assert left == [
        (Health.DEGRADED, 3.0, True),  # :10 and :20 (healthy, degraded): the worst
        (Health.HEALTHY, 2.0, True),
        (Health.HEALTHY, 1.0, False),  # within the day: as it was
    ]
    # Folding again changes nothing: an hour is folded once.
    assert compact_history(now) == (0, 0)
