"""The health sweep, through the real worker, the real SDKs and cloudsim's data plane: backends
going down and up, drift in the cloud, an unreadable account, one sweep at a time. (What it
finds and cleans up: test_findings.py.)"""

from datetime import timedelta

import pytest
from django.utils import timezone

from connections import actions
from connections.choices import (
    Health,
    RequestState,
)
from connections.models import AccessRequest, CloudAccount, HealthSample, SweepLease
from portal.celery import app as celery_app
from tests.connections.conftest import wait_for_state, wait_until
from tests.connections.workflows.test_workflows import request_from, verbs
from tests.console import Console

pytestmark = pytest.mark.worker


def sweep_through_worker() -> dict:
    """Ask the worker for a sweep, as beat does, and return its report once it has finished."""
    lease = SweepLease.objects.filter(name="health").first()
    before = lease.last_finished if lease else None
    celery_app.send_task("connections.sweep_health")

    def finished():
        lease = SweepLease.objects.filter(name="health", held_until__isnull=True).first()
        if lease and lease.last_finished and lease.last_finished != before:
            return lease.last_report or {"empty": True}
        return None

    return wait_until(finished, what="a sweep")


def health_after_sweep(access_request: AccessRequest, health: str) -> AccessRequest:
    """Sweep until the request has `health`: the load balancer's checks take a round or two."""

    def reached():
        sweep_through_worker()
        access_request.refresh_from_db()
        return access_request.health == health

    wait_until(reached, what=f"{access_request} {health}")
    return access_request


@pytest.fixture
def connected(world, seed_service) -> AccessRequest:
    seed_service.trusted_teams.add(world.team("apps"))
    return wait_for_state(request_from(world, seed_service), RequestState.CONNECTED)


def health_events(access_request: AccessRequest) -> list[tuple[str, str]]:
    return [
        (event.verb, event.detail)
        for event in access_request.events.filter(verb__startswith="health ")
    ]


def test_backends_stopping_and_starting_turn_a_request_degraded_down_and_healthy(world, connected):
    cloudsim = world.cloudsim
    health_after_sweep(connected, Health.HEALTHY)
    assert connected.probe_latency_ms is not None and connected.health_reason == ""

    cloudsim.control("POST", "instances/ECS03/web/stop", {})
    health_after_sweep(connected, Health.DEGRADED)
    assert connected.health_reason == "1 of 2 backends are unhealthy."
    service = connected.service
    service.refresh_from_db()
    assert service.health == Health.DEGRADED
    assert {b.instance.name: b.healthy for b in service.backends.all()} == {
        "ECS03": False,
        "ECS04": True,
    }

    cloudsim.control("POST", "instances/ECS04/web/stop", {})
    health_after_sweep(connected, Health.DOWN)
    assert connected.health_reason == "No backend is healthy."

    cloudsim.control("POST", "instances/ECS03/web/start", {})
    cloudsim.control("POST", "instances/ECS04/web/start", {})
    health_after_sweep(connected, Health.HEALTHY)

    events = health_events(connected)
    assert events[:3] == [
        ("health healthy", "every check passes"),
        ("health degraded", "1 of 2 backends are unhealthy."),
        ("health down", "No backend is healthy."),
    ]
    # Two separate starts: a sweep may see one backend healthy a check round before the other.
    recovered = [("health healthy", "every check passes")]
    halfway = [("health degraded", "1 of 2 backends are unhealthy.")]
    assert events[3:] in (recovered, halfway + recovered)
    # Every change is a point of the history.
    samples = list(
        HealthSample.objects.filter(access_request=connected)
        .order_by("at")
        .values_list("health", flat=True)
    )
    assert samples[:3] == [Health.HEALTHY, Health.DEGRADED, Health.DOWN]
    assert samples[3:] in ([Health.HEALTHY], [Health.DEGRADED, Health.HEALTHY])
    assert len(samples) == len(events)  # the same changes, the optional halfway one included


def test_an_endpoint_deleted_in_the_cloud_makes_the_request_revoked(world, connected):
    Console(connected.vpc.account).delete_endpoint(connected.endpoint_id)

    report = sweep_through_worker()

    assert report["drift"] == [f"request {connected.pk}: deleted"]
    wait_for_state(connected, RequestState.REVOKED)
    assert "endpoint deleted outside the portal" in verbs(connected)


def test_a_connection_disabled_in_the_cloud_fails_the_request_and_a_retry_connects_it(
    world, connected
):
    service = connected.service
    Console(service.account).call(
        "privatelink",
        "DisableVpcEndpointConnection",
        ServiceId=service.endpoint_service_id,
        EndpointId=connected.endpoint_id,
    )

    sweep_through_worker()

    connected.refresh_from_db()
    assert connected.state == RequestState.FAILED
    assert connected.last_error_code in ("Disconnecting", "Disconnected")
    assert connected.health == Health.UNKNOWN  # not connected: the error says why
    assert "connection disabled outside the portal" in verbs(connected)

    actions.retry_request(world.consumer, connected)
    wait_for_state(connected, RequestState.CONNECTED)


def test_an_account_with_bad_credentials_is_reported_while_the_others_are_swept(world, connected):
    broken = CloudAccount.objects.exclude(pk=connected.vpc.account_id).first()
    broken.access_key_secret = "not-the-secret"
    broken.save()

    report = sweep_through_worker()

    assert report["unreadable_accounts"] == [broken.name]
    broken.refresh_from_db()
    assert broken.sweep_error and "not-the-secret" not in broken.sweep_error
    connected.refresh_from_db()
    assert connected.health == Health.HEALTHY and connected.health_checked_at is not None
    account = connected.vpc.account
    account.refresh_from_db()
    assert account.sweep_error == ""


def test_a_sweep_still_running_is_not_started_twice(world):
    held_until = timezone.now() + timedelta(minutes=5)
    SweepLease.objects.update_or_create(name="health", defaults={"held_until": held_until})
    calls_before = world.cloudsim.stats()["calls"]

    task_id = celery_app.send_task("connections.sweep_health").id

    # The worker logs each task's outcome: this one's is a skip.
    line = wait_until(
        lambda: next(
            (ln for ln in world.worker.log().splitlines() if f"[{task_id}] succeeded" in ln), None
        ),
        what="the sweep's outcome",
    )
    assert "'skipped': True" in line
    assert world.cloudsim.stats()["calls"] == calls_before
    assert SweepLease.objects.get(name="health").held_until == held_until


def test_a_sweep_sent_under_the_previous_release_s_name_still_runs(world):
    """Beat of the previous release sends `connections.probe_sweep` (README, "Upgrading")."""
    before = SweepLease.objects.filter(name="health").values_list("last_finished", flat=True)
    before = before.first()
    celery_app.send_task("connections.probe_sweep")

    wait_until(
        lambda: (
            SweepLease.objects.filter(name="health", held_until__isnull=True)
            .exclude(last_finished=before)
            .exclude(last_finished__isnull=True)
            .exists()
        ),
        what="a sweep sent under its former name",
    )
