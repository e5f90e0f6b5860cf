"""What health a request and a service are in, from what the sweep saw; and their history.

Pure rules, apart from the history's upkeep: monitoring/sweep.py gathers the observations (the
provider's view of each connection, the load balancer's health checks, the data-plane probe) and
writes what these functions decide.

A connected request is
- down: its connection is not Connected, no backend of the service is healthy, or the probe
  through its endpoint fails;
- degraded: a zone of its endpoint is not Connected, or some backend is unhealthy;
- healthy otherwise; unknown when it is not connected, or has not been probed.
A service is down when its endpoint service is not Active or none of its backends is healthy,
degraded when some are not, healthy otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case, IntegerField, Max, Min, Value, When
from django.db.models.functions import TruncHour
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from connections.choices import HEALTH_BADGES, Health
from connections.models import HealthSample

# The reasons a verdict gives, written in English where the sweep stores them (the API returns
# them so) and said again in the reader's language on the pages (connections/stored_sentences.py).
NO_HEALTHY_BACKEND = gettext_noop("No backend is healthy.")
SOME_UNHEALTHY_BACKENDS = gettext_noop("%(unhealthy)s of %(total)s backends are unhealthy.")
NO_CONNECTION = gettext_noop("The cloud lists no connection for the endpoint.")
CONNECTION_IS = gettext_noop("The connection is %(status)s.")
PROBE_FAILED = gettext_noop("The probe failed: %(error)s")
ZONES_NOT_CONNECTED = gettext_noop("Zones not connected: %(zones)s.")
ENDPOINT_SERVICE_IS = gettext_noop("The endpoint service is %(status)s.")
REASONS = (
    NO_HEALTHY_BACKEND, SOME_UNHEALTHY_BACKENDS, NO_CONNECTION, CONNECTION_IS, PROBE_FAILED,
    ZONES_NOT_CONNECTED, ENDPOINT_SERVICE_IS,
)  # fmt: skip

# Between changes, a request's history keeps a point this often (every change is kept too).
SAMPLE_EVERY = timedelta(minutes=5)
FULL_RESOLUTION_FOR = timedelta(days=1)
KEPT_FOR = timedelta(days=30)
# Worst first: an hour's point stands for the worst health seen in it.
SEVERITY = {Health.DOWN: 3, Health.DEGRADED: 2, Health.UNKNOWN: 1, Health.HEALTHY: 0}


@dataclass(frozen=True)
class Verdict:
    health: str
    reason: str = ""


def backends_verdict(total: int, unhealthy: int) -> Verdict | None:
    """None when every backend is healthy. Counted, not named: consumers read this reason, and
    which instances serve a service is its owners' business (they see each backend's health)."""
    if total and unhealthy >= total:
        return Verdict(Health.DOWN, _(NO_HEALTHY_BACKEND))
    if unhealthy:
        return Verdict(
            Health.DEGRADED,
            _(SOME_UNHEALTHY_BACKENDS) % {"unhealthy": unhealthy, "total": total},
        )
    return None


def request_verdict(
    connection_status: str | None,
    zones: dict[str, str],
    backends: Verdict | None,
    probe_error: str | None,
) -> Verdict:
    """A connected request's health: its connection and zones (the provider's view), the
    service's backends, and the probe through its endpoint (None: not probed)."""
    if connection_status is None:
        return Verdict(Health.DOWN, _(NO_CONNECTION))
    if connection_status != "Connected":
        reason = _(CONNECTION_IS) % {"status": connection_status}
        return Verdict(Health.DOWN, reason)
    if backends is not None and backends.health == Health.DOWN:
        return backends
    if probe_error:
        return Verdict(Health.DOWN, _(PROBE_FAILED) % {"error": probe_error})
    down_zones = sorted(zone for zone, status in zones.items() if status != "Connected")
    if down_zones:
        return Verdict(
            Health.DEGRADED,
            _(ZONES_NOT_CONNECTED)
            % {"zones": ", ".join(f"{zone} ({zones[zone]})" for zone in down_zones)},
        )
    if backends is not None:
        return backends
    return Verdict(Health.HEALTHY)


def service_verdict(endpoint_service_status: str | None, backends: Verdict | None) -> Verdict:
    if endpoint_service_status not in (None, "Active"):
        return Verdict(
            Health.DOWN,
            _(ENDPOINT_SERVICE_IS) % {"status": endpoint_service_status},
        )
    return backends or Verdict(Health.HEALTHY)


# --- history -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hour:
    """An hour of a request's health as its page draws it: the worst seen, None when unprobed."""

    start: datetime
    health: str | None
    # Wholly before the connection was made: nothing could be probed, and a grey bar there
    # would read as an hour of unknown health.
    before: bool = False

    @property
    def badge(self) -> str:
        if self.before:
            return "none"
        return HEALTH_BADGES[self.health] if self.health else HEALTH_BADGES[Health.UNKNOWN]

    @property
    def label(self) -> str:
        if self.before:
            return _("not connected yet")
        return Health(self.health).label if self.health else _("not probed")


def last_day_by_hour(access_request, now=None) -> list[Hour]:
    """The last 24 hours, oldest first, each the worst health its points show (one query)."""
    now = now or timezone.now()
    first = (now - FULL_RESOLUTION_FOR).replace(minute=0, second=0, microsecond=0) + timedelta(
        hours=1
    )
    worst: dict[datetime, str] = {}
    points = access_request.health_samples.filter(at__gte=first).values_list("at", "health")
    for at, health in points:
        hour = at.replace(minute=0, second=0, microsecond=0)
        if hour not in worst or SEVERITY[health] > SEVERITY[worst[hour]]:
            worst[hour] = health
    hours = [first + timedelta(hours=n) for n in range(24)]
    since = access_request.connected_at or access_request.created_at
    return [
        Hour(start, worst.get(start), before=start + timedelta(hours=1) <= since) for start in hours
    ]


def compact_history(now=None) -> tuple[int, int]:
    """Keep a day at full resolution, then one point an hour (the worst), for 30 days.

    Returns (points folded into hourly ones, points dropped for age)."""
    now = now or timezone.now()
    dropped, _ = HealthSample.objects.filter(at__lt=now - KEPT_FOR).delete()
    # Whole hours only: an hour is folded once, into one point.
    cutoff = (now - FULL_RESOLUTION_FOR).replace(minute=0, second=0, microsecond=0)
    old = HealthSample.objects.filter(at__lt=cutoff, hourly=False)
    severity = Case(
        *(When(health=health, then=Value(rank)) for health, rank in SEVERITY.items()),
        output_field=IntegerField(),
    )
    hours = (
        old.annotate(hour=TruncHour("at"), rank=severity)
        .values("access_request_id", "hour")
        .annotate(worst=Max("rank"), latency=Max("latency_ms"), first=Min("at"))
    )
    by_rank = {rank: health for health, rank in SEVERITY.items()}
    hourly = [
        HealthSample(
            access_request_id=hour["access_request_id"],
            at=hour["hour"],
            health=by_rank[hour["worst"]],
            latency_ms=hour["latency"],
            hourly=True,
        )
        for hour in hours
    ]
    folded, _ = old.delete()
    HealthSample.objects.bulk_create(hourly, batch_size=2000)
    return folded, dropped
