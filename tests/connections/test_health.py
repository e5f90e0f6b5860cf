"""The health sweep, through the real worker, the real SDKs and cloudsim's data plane: backends
going down and up, drift in the cloud, findings and their clean-up, an unreadable account."""

import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from connections import services
from connections.choices import (
    INSTALLATION_TAG_KEY,
    MANAGED_BY_TAG,
    REQUEST_TAG_KEY,
    Health,
    RequestState,
)
from connections.cloud import CloudSession
from connections.models import AccessRequest, CloudAccount, Finding, HealthSample, SweepLease
from connections.states import InvalidTransition
from portal.celery import app as celery_app
from tests.connections.conftest import wait_for_state, wait_until
from tests.connections.test_workflows import request_from, verbs
from tests.console import Console

pytestmark = pytest.mark.worker


def sweep_through_worker() -> dict:
    """Ask the worker for a sweep, as beat does, and return its report once it has finished."""
    lease = SweepLease.objects.filter(name="health").first()
    before = lease.last_finished if lease else None
    celery_app.send_task("connections.probe_sweep")

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

    services.retry_request(world.consumer, connected)
    wait_for_state(connected, RequestState.CONNECTED)


def endpoint_to(world, service, *, tags: list[dict]) -> str:
    """An endpoint made straight in the cloud, as someone at the console would."""
    vpc = world.vpc("VPC1")
    zones = world.zones("VPC1", "g")
    api = CloudSession(vpc.account).privatelink
    result = api.create_endpoint(
        name="made-outside",
        vpc_id=vpc.vpc_id,
        service_id=service.endpoint_service_id,
        security_group_ids=[group.security_group_id for group in world.security_groups("VPC1")],
        zones=[(zone.zone_id, zone.vswitch.vswitch_id) for zone in zones],
        tags=tags,
        client_token=uuid.uuid4().hex,
    )
    return result["EndpointId"]


def orphan_tags() -> list[dict]:
    """This portal's tags, naming a request it does not have."""
    tags = {
        MANAGED_BY_TAG[0]: MANAGED_BY_TAG[1],
        INSTALLATION_TAG_KEY: settings.PORTAL_INSTALLATION_ID,
        REQUEST_TAG_KEY: uuid.uuid4().hex,
    }
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def test_an_orphan_and_an_unmanaged_connection_are_reported_and_only_the_orphan_is_cleaned_up(
    world, seed_service
):
    orphan_id = endpoint_to(world, seed_service, tags=orphan_tags())
    console_id = endpoint_to(world, seed_service, tags=[])

    sweep_through_worker()

    found = {f.kind: f for f in Finding.objects.open()}
    assert set(found) == {Finding.Kind.ORPHAN_ENDPOINT, Finding.Kind.UNMANAGED_CONNECTION}
    orphan, unmanaged = (
        found[Finding.Kind.ORPHAN_ENDPOINT],
        found[Finding.Kind.UNMANAGED_CONNECTION],
    )
    assert (orphan.resource_id, unmanaged.resource_id) == (orphan_id, console_id)
    assert orphan.service == unmanaged.service == seed_service
    assert orphan.cleanable and not unmanaged.cleanable
    # The service's owners see them; the consumer does not.
    assert set(Finding.objects.visible_to(world.provider)) == {orphan, unmanaged}
    assert not Finding.objects.visible_to(world.consumer).exists()
    with pytest.raises(InvalidTransition):
        services.clean_up_finding(world.provider, unmanaged)

    services.clean_up_finding(world.provider, orphan)

    wait_until(lambda: Finding.objects.get(pk=orphan.pk).resolved_at, what="the orphan's clean-up")
    api = CloudSession(world.vpc("VPC1").account).privatelink
    gone = api.find_endpoint(orphan_id)
    assert gone is None or gone["EndpointStatus"] == "Deleting"
    assert api.find_endpoint(console_id)["EndpointStatus"] != "Deleting"
    assert "orphan endpoint deleted" in verbs(seed_service)

    sweep_through_worker()
    assert list(Finding.objects.open()) == [unmanaged]


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

    task_id = celery_app.send_task("connections.probe_sweep").id

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


def test_a_whitelisting_left_behind_is_reported_and_only_the_portals_own_is_withdrawn(
    world, seed_service
):
    provider_api = CloudSession(seed_service.account).privatelink
    partner_uid = world.accounts["B"].uid
    partner = request_from(world, seed_service, user="partner", team="partners", vpc="VPC3")
    wait_for_state(partner, RequestState.PENDING_APPROVAL)
    # The revoke cannot take the account off the whitelist: it ends failed, the entry stays.
    world.cloudsim.control(
        "POST",
        "faults",
        {"kind": "error", "action": "RemoveUserFromVpcEndpointService", "count": 1,
         "code": "Forbidden.RAM", "status": 403, "message": "not allowed"},
    )  # fmt: skip
    services.revoke_request(world.partner, partner)
    wait_for_state(partner, RequestState.FAILED)
    # And someone whitelisted another account at the console.
    provider_api.add_user(seed_service.endpoint_service_id, "1999999999999999", client_token="x")

    sweep_through_worker()

    stale = {f.resource_id: f for f in Finding.objects.open()}
    ours = stale[f"{seed_service.pk}:{partner_uid}"]
    theirs = stale[f"{seed_service.pk}:1999999999999999"]
    assert ours.kind == theirs.kind == Finding.Kind.STALE_WHITELIST
    assert ours.cleanable and not theirs.cleanable
    with pytest.raises(InvalidTransition):
        services.clean_up_finding(world.provider, theirs)
    with pytest.raises(PermissionDenied):
        services.clean_up_finding(world.partner, ours)

    services.clean_up_finding(world.provider, ours)

    wait_until(lambda: Finding.objects.get(pk=ours.pk).resolved_at, what="the clean-up")
    assert set(provider_api.list_users(seed_service.endpoint_service_id)) == {"1999999999999999"}
    assert "withdrew stale whitelisting" in verbs(seed_service)
