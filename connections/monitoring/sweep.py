"""The health sweep: after step 6 the portal keeps telling the truth about every connection.

Beat runs it every PROBE_INTERVAL_SECONDS on the `probes` queue (connections.sweep_health). One
sweep reads the cloud account by account and service by service, never request by request:

- per account: who the credentials are (STS, so a mis-keyed account is reported, not taken for an
  account whose endpoints all vanished), its endpoints (ListVpcEndpoints, paged); in an account
  that publishes services, also the connections to its endpoint services
  (ListVpcEndpointConnections, paged, with each zone's status), its endpoint services
  (ListVpcEndpointServices), load balancers, listeners and servers (monitoring/provider_drift.py);
- per available service: its backends' health (GetListenerHealthStatus), and for a service other
  accounts use, its whitelist (ListVpcEndpointServiceUsers);
- the data plane: every connected endpoint probed (one batch of addresses, a pool of connects).

An account that cannot be read (bad credentials, throttling) is reported on its row and leaves
everything that depends on it as it was; the others are swept as usual. Then:

- each connected request gets its health (monitoring/rules.py); a change is an event with its
  reason, and a point of its history;
- drift is followed, never silently: an endpoint deleted outside the portal makes the request
  revoking (the revoke workflow finishes the rest), a connection disabled outside it makes it
  failed with the cloud's word for it;
- findings are recorded for the owners (models.Finding): a connection the portal does not manage,
  a whitelisted account no live request needs, an endpoint with the portal's tags and no request.

A sweep holds a lease (models.SweepLease): one still running when the next is due is not
started twice; one that died gives its lease up after LEASE_SECONDS.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from connections import actions
from connections.choices import (
    ListenerProtocol,
    RequestState,
    ServiceState,
)
from connections.cloud.dataplane import Unreachable
from connections.models import (
    AccessRequest,
    CloudAccount,
    Event,
    HealthSample,
    PublishedService,
    ServiceBackend,
    SweepLease,
)
from connections.monitoring import provider_drift, readings
from connections.monitoring.findings import record_findings
from connections.monitoring.probes import probe_many
from connections.monitoring.rules import (
    SAMPLE_EVERY,
    Verdict,
    request_verdict,
    service_verdict,
)
from connections.states import InvalidTransition

logger = logging.getLogger(__name__)

LEASE_NAME = "health"
# What a health event says when every check passes again.
HEALTHY_AGAIN = gettext_noop("every check passes")
# A sweep that has not finished in this long is taken to have died.
LEASE_SECONDS = 600
UPDATE_CHUNK = 2000
DISCONNECTED = ("Disconnecting", "Disconnected")


@dataclass
class SweepReport:
    skipped: bool = False
    accounts: int = 0
    unreadable_accounts: list[str] = field(default_factory=list)
    services: int = 0
    requests: int = 0
    probes: int = 0
    health_changes: int = 0
    drift: list[str] = field(default_factory=list)
    findings: int = 0
    # Seconds spent reading the cloud, probing, and judging and writing (the lease shows them).
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    @contextmanager
    def timed(self, phase: str):
        started = time.monotonic()
        try:
            yield
        finally:
            spent = time.monotonic() - started
            self.seconds[phase] = round(self.seconds.get(phase, 0.0) + spent, 3)


# --- the lease ---------------------------------------------------------------------------------


def _claim_lease(now) -> bool:
    SweepLease.objects.get_or_create(name=LEASE_NAME)
    free = Q(held_until__isnull=True) | Q(held_until__lt=now)
    claimed = SweepLease.objects.filter(free, name=LEASE_NAME).update(
        held_until=now + timedelta(seconds=LEASE_SECONDS), last_started=now
    )
    return claimed == 1


def _release_lease(report: SweepReport) -> None:
    SweepLease.objects.filter(name=LEASE_NAME).update(
        held_until=None, last_finished=timezone.now(), last_report=report.as_dict()
    )


def sweep() -> SweepReport:
    """One sweep over every account, service and connected request."""
    now = timezone.now()
    if not _claim_lease(now):
        return SweepReport(skipped=True)
    report = SweepReport()
    try:
        _sweep(now, report)
    finally:
        _release_lease(report)
    return report


# What the sweep reads of each connected request (thousands of rows: no more than it needs).
REQUEST_FIELDS = (
    "state", "health", "health_reason", "health_sampled_at", "endpoint_id", "endpoint_domain",
    "service__account_id", "service__listener_port", "service__listener_protocol",
    "vpc__vpc_id", "vpc__account_id",
)  # fmt: skip


def _sweep(now, report: SweepReport) -> None:
    with report.timed("cloud"):
        services = list(
            PublishedService.objects.filter(state=ServiceState.AVAILABLE)
            .select_related("account")
            .prefetch_related("backends__instance", "zones")
        )
        providers = {service.account_id for service in services}
        views = {
            account.pk: readings.read_account(account, provider=account.pk in providers)
            for account in CloudAccount.objects.all()
        }
        drifts = {
            s.pk: provider_drift.read(s, views[s.account_id])
            for s in services
            if not views[s.account_id].error
        }
        backends = {
            s.pk: readings.backends(s, views[s.account_id], drifts.get(s.pk)) for s in services
        }
        whitelists = readings.whitelists(services, views)
    report.accounts, report.services = len(views), len(services)
    report.unreadable_accounts = sorted(v.account.name for v in views.values() if v.error)
    with report.timed("write"):
        _record_account_errors(views.values(), now)
        _write_service_health(services, views, backends, now)
        report.drift.extend(provider_drift.follow(list(drifts.values())))
        connected = (
            AccessRequest.objects.filter(state=RequestState.CONNECTED)
            .select_related("service", "vpc")
            .only(*REQUEST_FIELDS)
        )
        readable = [r for r in connected if readings.views_of(r, views) is not None]
    report.requests = len(readable)
    verdicts, drift = _judge_requests(readable, views, backends, report)
    with report.timed("write"):
        _follow_drift(drift, report)
        _write_request_health(verdicts, now, report)
        report.findings = record_findings(views, services, whitelists, drifts, now)


# --- judging -----------------------------------------------------------------------------------


def _judge_requests(requests, views, backends, report: SweepReport):
    """(request, verdict, probe latency) for each request still connected in the cloud, and
    (request, what happened) for each the cloud changed behind the portal's back."""
    judged, drift, to_probe = [], [], []
    for access_request in requests:
        consumer, provider = readings.views_of(access_request, views)
        endpoint = consumer.endpoints.get(access_request.endpoint_id)
        connection = provider.connections.get(access_request.endpoint_id)
        # A connected request's endpoint and connection are only ever taken down by a verb,
        # which moves the request out of connected first: anyone else's doing is drift.
        if endpoint is None or endpoint.get("EndpointStatus") == "Deleting":
            status = endpoint["EndpointStatus"] if endpoint else ""
            drift.append((access_request, "deleted", status))
        elif (connection or {}).get("ConnectionStatus") in DISCONNECTED:
            drift.append((access_request, "disconnected", connection["ConnectionStatus"]))
        else:
            judged.append((access_request, connection))
            # A UDP or TLS listener has no probe yet: its health is the cloud's word alone.
            connected = (connection or {}).get("ConnectionStatus") == "Connected"
            if connected and access_request.service.listener_protocol == ListenerProtocol.TCP:
                to_probe.append(access_request)
    with report.timed("probes"):
        probes = _probe(to_probe)
    report.probes = len(probes)
    verdicts = []
    for access_request, connection in judged:
        connection = connection or {}
        zones = {z.get("ZoneId"): z.get("ZoneStatus") for z in connection.get("Zones") or []}
        service_backends = backends.get(access_request.service_id)
        probe = probes.get(access_request.pk)
        verdict = request_verdict(
            connection.get("ConnectionStatus"),
            zones,
            service_backends[0] if service_backends else None,
            probe.error if probe is not None and not probe.ok else None,
        )
        latency = probe.latency_ms if probe is not None and probe.ok else None
        verdicts.append((access_request, verdict, latency))
    return verdicts, drift


def _probe(requests: list[AccessRequest]) -> dict:
    """The data-plane probe of each connected endpoint, when the portal can reach endpoints."""
    if not (settings.CLOUD_ENDPOINT or settings.PROBES_RUN_IN_VPC):
        return {}
    targets = [
        (r.endpoint_domain, r.service.listener_port, r.vpc.vpc_id, r.service.listener_protocol)
        for r in requests
    ]
    try:
        results = probe_many(targets)
    except Unreachable as unreachable:
        # The address book is away, not the endpoints: judge them on the cloud's word alone.
        logger.warning("health sweep: no data-plane probes this time: %s", unreachable)
        return {}
    return {r.pk: result for r, result in zip(requests, results, strict=True)}


# --- writing what was found --------------------------------------------------------------------


def _record_account_errors(views: Iterable[readings.AccountView], now) -> None:
    """What the sweep could not read, on each account (its admin page and the API show it)."""
    for view in views:
        error = view.error or "; ".join(view.warnings)
        if view.account.sweep_error != error or view.account.swept_at is None:
            CloudAccount.objects.filter(pk=view.account.pk).update(sweep_error=error, swept_at=now)


def _write_service_health(services, views, backends, now) -> None:
    changed_backends, events = [], []
    for service in services:
        view, service_backends = views[service.account_id], backends.get(service.pk)
        if view.error or service_backends is None:
            continue
        backends_health, unhealthy = service_backends
        for backend in service.backends.all() if unhealthy is not None else ():
            reason = unhealthy.get((backend.instance.instance_id, backend.port))
            if (backend.healthy, backend.health_reason) == (reason is None, reason or ""):
                continue
            # Its owners' timeline says which backend changed; the first check of a healthy
            # one is no news.
            if not (backend.healthy is None and reason is None):
                name = backend.instance.name or backend.instance.instance_id
                events.append(
                    Event(
                        service=service,
                        verb="backend unhealthy" if reason else "backend healthy",
                        detail=f"{name}:{backend.port}" + (f": {reason}" if reason else ""),
                    )
                )
            backend.healthy, backend.health_reason = reason is None, reason or ""
            changed_backends.append(backend)
        attributes = view.endpoint_services.get(service.endpoint_service_id) or {}
        verdict = service_verdict(attributes.get("ServiceStatus"), backends_health)
        if unhealthy is None and backends_health is not None:
            verdict = backends_health  # changed outside the portal (provider_drift)
        fields = {"health_checked_at": now}
        if (service.health, service.health_reason) != (verdict.health, verdict.reason):
            fields.update(health=verdict.health, health_reason=verdict.reason)
            events.append(
                Event(
                    service=service,
                    verb=f"health {verdict.health}",
                    detail=verdict.reason or HEALTHY_AGAIN,
                )
            )
        PublishedService.objects.filter(pk=service.pk).update(**fields)
    ServiceBackend.objects.bulk_update(changed_backends, ["healthy", "health_reason"])
    Event.objects.bulk_create(events)


def _write_request_health(verdicts, now, report: SweepReport) -> None:
    """Every checked request: when, and the probe's latency. A change of health: the new
    health and reason, an event, a point of history; and a point every SAMPLE_EVERY between.
    Written in a handful of statements whatever the number of requests (grouped by value)."""
    by_health: dict[Verdict, list[int]] = {}
    sampled, samples, events = [], [], []
    for access_request, verdict, latency in verdicts:
        health_changed = (access_request.health, access_request.health_reason) != (
            verdict.health,
            verdict.reason,
        )
        sample_due = (
            access_request.health_sampled_at is None
            or now - access_request.health_sampled_at >= SAMPLE_EVERY
        )
        if health_changed:
            by_health.setdefault(verdict, []).append(access_request.pk)
            events.append(
                Event(
                    access_request=access_request,
                    verb=f"health {verdict.health}",
                    detail=verdict.reason or HEALTHY_AGAIN,
                )
            )
        if health_changed or sample_due:
            sampled.append(access_request.pk)
            samples.append(
                HealthSample(access_request=access_request, at=now, health=verdict.health,
                             latency_ms=latency)
            )  # fmt: skip
    report.health_changes = len(events)
    requests = AccessRequest.objects
    with transaction.atomic():
        for verdict, pks in by_health.items():
            # A change of health is a change of the request: what follows `updated_at` shows it.
            for chunk in _chunks(pks):
                requests.filter(pk__in=chunk).update(
                    health=verdict.health, health_reason=verdict.reason, updated_at=now
                )
        for chunk in _chunks(sampled):
            requests.filter(pk__in=chunk).update(health_sampled_at=now)
        Event.objects.bulk_create(events, batch_size=UPDATE_CHUNK)
        HealthSample.objects.bulk_create(samples, batch_size=UPDATE_CHUNK)
        _record_checks([(r.pk, latency) for r, _verdict, latency in verdicts], now)


def _record_checks(checked: list[tuple[int, float | None]], now) -> None:
    """health_checked_at = now and probe_latency_ms = each one's, for every checked request.

    One UPDATE … FROM (VALUES …) per chunk: every row has its own latency, and Django's
    bulk_update would build a CASE of every row for every row (seconds for 10,000). The cast:
    PostgreSQL types a VALUES column of nothing but NULLs (no request probed) as text."""
    table = connection.ops.quote_name(AccessRequest._meta.db_table)
    for chunk in _chunks(checked):
        rows = ", ".join(["(%s, %s)"] * len(chunk))
        values = [value for pair in chunk for value in pair]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET health_checked_at = %s, "  # noqa: S608 - names from the model, values bound
                "probe_latency_ms = CAST(v.column2 AS double precision) "
                f"FROM (VALUES {rows}) AS v WHERE {table}.id = v.column1",
                [now, *values],
            )


def _chunks(items: list) -> Iterable[list]:
    for start in range(0, len(items), UPDATE_CHUNK):
        yield items[start : start + UPDATE_CHUNK]


def _follow_drift(drift, report: SweepReport) -> None:
    """The cloud changed a connected request behind the portal's back: the request follows,
    with the cloud's word for what it found (an endpoint `Deleting` or gone, a connection
    `Disconnected`)."""
    for access_request, what, cloud_word in drift:
        try:
            with transaction.atomic():
                if what == "deleted":
                    actions.begin_revoke(
                        access_request,
                        verb="endpoint deleted outside the portal",
                        detail=f"{access_request.endpoint_id} is "
                        + (cloud_word if cloud_word else "gone from the cloud"),
                    )
                else:
                    actions.fail_disconnected(access_request, cloud_word)
        except InvalidTransition:
            continue  # someone revoked it at this very moment: their outcome stands
        report.drift.append(f"request {access_request.pk}: {what}")
