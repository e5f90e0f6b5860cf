"""Published services: the endpoint service behind an internal NLB, its zones and backends.

State fields change only through `connections.states`; nothing else writes `state`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Prefetch, Q
from django.utils.translation import gettext_lazy

from connections import policies
from connections.choices import (
    HEALTH_BADGES,
    SERVICE_BADGES,
    Health,
    ListenerProtocol,
    ServiceState,
)
from connections.json_lists import related_json_list
from connections.models.network import CloudAccount, Instance, Vpc, VSwitch
from connections.models.records import WorkflowRecord
from connections.models.teams import Team
from connections.states import SERVICE_TERMINAL

# The columns the catalog page reads of a service: its template, its rows' fingerprint, and what
# policies.allowed_actions reads to offer "Request access" (the state; a retry's failed phase).
CATALOG_COLUMNS = (
    "id", "name", "description", "owner_team_id", "listener_protocol", "listener_port",
    "auto_accept", "state", "failed_phase", "health", "health_reason", "updated_at",
)  # fmt: skip


class PublishedServiceQuerySet(models.QuerySet):
    def for_catalog(self) -> PublishedServiceQuerySet:
        """What a row of the catalog page shows, and nothing else: its own columns, the owning
        team's name (`owner_team_name`) and the zones (`zone_ids_list`, a JSON list) inside the
        row, so a page is one query with one model object per row."""
        return self.only(*CATALOG_COLUMNS).annotate(
            owner_team_name=F("owner_team__name"),
            zone_ids_list=related_json_list(
                ServiceZone.objects.all(), "service", ["zone_id"], ["zone_id"]
            ),
        )

    def with_details(self) -> PublishedServiceQuerySet:
        """What the API's catalog shows: team, VPC, zones with their vSwitches, trusted teams."""
        return self.select_related("owner_team", "vpc").prefetch_related(
            Prefetch("zones", ServiceZone.objects.select_related("vswitch")), "trusted_teams"
        )

    def with_row_relations(self) -> PublishedServiceQuerySet:
        """What a row of the API's catalog shows of other tables, inside the row itself, so a
        page is one query with one model object per row: the owning team (`owner_team_slug`,
        `owner_team_name`), the VPC's cloud id (`vpc_cloud_id`), and the zones (`zone_list`:
        [zone, vSwitch id]) and trusted teams (`trusted_team_list`: [id, slug, name], by name)
        as JSON lists, None where there are none."""
        return self.annotate(
            owner_team_slug=F("owner_team__slug"),
            owner_team_name=F("owner_team__name"),
            vpc_cloud_id=F("vpc__vpc_id"),
            zone_list=related_json_list(
                ServiceZone.objects.all(), "service", ["zone_id", "vswitch__vswitch_id"],
                ["zone_id"],
            ),
            trusted_team_list=related_json_list(
                PublishedService.trusted_teams.through.objects.all(), "publishedservice",
                ["team_id", "team__slug", "team__name"],
                [*(f"team__{name}" for name in Team._meta.ordering), "team_id"],
            ),
        )  # fmt: skip

    def with_backend_lists(self) -> PublishedServiceQuerySet:
        """Each row's backends as a JSON list too (`backend_list`: [instance id, name, private
        IP, port, weight, healthy, health reason], as ordered): for a person who sees every
        row's owner fields (policies.sees_every_owner_field), so no row's are read in vain."""
        return self.annotate(
            backend_list=related_json_list(
                ServiceBackend.objects.all(), "service",
                ["instance__instance_id", "instance__name", "instance__private_ip", "port",
                 "weight", "healthy", "health_reason"],
                ServiceBackend._meta.ordering,
            )
        )  # fmt: skip

    def with_owner_details(self, user) -> PublishedServiceQuerySet:
        """Also the backends, which only owners see (policies.sees_owner_fields): fetched for
        the services `user` owns, not for every row of a catalog page."""
        backends = ServiceBackend.objects.filter(policies.owner_fields_q(user, "service__"))
        return self.with_details().prefetch_related(
            Prefetch("backends", backends.select_related("instance"))
        )


class PublishedService(WorkflowRecord):
    """A provider team's service behind an internal NLB, offered through an endpoint service."""

    owner_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="services")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.SlugField(max_length=64)
    description = models.TextField(blank=True)
    account = models.ForeignKey(CloudAccount, on_delete=models.PROTECT, related_name="services")
    vpc = models.ForeignKey(Vpc, on_delete=models.PROTECT, related_name="services")
    listener_protocol = models.CharField(
        max_length=8, choices=ListenerProtocol.choices, default="TCP"
    )
    listener_port = models.PositiveIntegerField()
    auto_accept = models.BooleanField(default=False)
    trusted_teams = models.ManyToManyField(
        Team,
        blank=True,
        related_name="trusted_by_services",
        help_text="Their requests are approved at once.",
    )
    connection_limit = models.PositiveIntegerField(null=True, blank=True)
    state = models.CharField(
        max_length=20, choices=ServiceState.choices, default=ServiceState.PROVISIONING
    )
    nlb_id = models.CharField(max_length=64, blank=True)
    server_group_id = models.CharField(max_length=64, blank=True)
    listener_id = models.CharField(max_length=64, blank=True)
    endpoint_service_id = models.CharField(max_length=64, blank=True)
    endpoint_service_name = models.CharField(max_length=256, blank=True)
    # Kept by the health sweep (monitoring/sweep.py): its backends and its endpoint service.
    health = models.CharField(max_length=10, choices=Health.choices, default=Health.UNKNOWN)
    health_reason = models.CharField(max_length=500, blank=True)
    health_checked_at = models.DateTimeField(null=True, blank=True)

    objects = PublishedServiceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        # The catalog's pages, by name (its cursor is the name, then the id).
        indexes = [
            models.Index(fields=["name", "id"], name="service_by_name"),
            # The reconciler, every 10 s: the chains of a state past their due time.
            models.Index(fields=["state", "task_due_at"], name="service_state_due"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                condition=~Q(state__in=list(SERVICE_TERMINAL)),
                name="one_live_service_per_name",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def badge(self) -> str:
        return SERVICE_BADGES[self.state]

    @property
    def zone_ids(self) -> list[str]:
        return [zone.zone_id for zone in self.zones.all()]

    @property
    def health_badge(self) -> str:
        return HEALTH_BADGES[self.health]


class ServiceZone(models.Model):
    """A zone a service is deployed in, and the vSwitch its NLB uses there."""

    service = models.ForeignKey(PublishedService, on_delete=models.CASCADE, related_name="zones")
    zone_id = models.CharField(max_length=64)
    vswitch = models.ForeignKey(VSwitch, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["zone_id"]
        constraints = [
            models.UniqueConstraint(fields=["service", "zone_id"], name="one_service_zone")
        ]

    def __str__(self) -> str:
        return self.zone_id


# Why a backend fails its health checks, in words: NLB's Reason.ReasonCode values
# (GetListenerHealthStatus in the NLB API reference), and the sweep's own for a backend taken out
# of the server group outside the portal.
BACKEND_REASON_WORDS = {
    "CONNECT_TIMEOUT": gettext_lazy("does not accept connections in time"),
    "CONNECT_FAILED": gettext_lazy("refuses connections"),
    "RECV_RESPONSE_FAILED": gettext_lazy("does not answer the health check"),
    "RECV_RESPONSE_TIMEOUT": gettext_lazy("does not answer the health check in time"),
    "SEND_REQUEST_FAILED": gettext_lazy("cannot be sent the health check"),
    "SEND_REQUEST_TIMEOUT": gettext_lazy("cannot be sent the health check in time"),
    "RESPONSE_MISMATCH": gettext_lazy("answers the health check with an unexpected status"),
    "RemovedOutsidePortal": gettext_lazy("was removed from the server group outside the portal"),
}


class ServiceBackend(models.Model):
    """A backend server of a service's server group (step 2): an instance, a port, a weight."""

    service = models.ForeignKey(PublishedService, on_delete=models.CASCADE, related_name="backends")
    instance = models.ForeignKey(Instance, on_delete=models.PROTECT, related_name="+")
    port = models.PositiveIntegerField()
    weight = models.PositiveSmallIntegerField(default=100)
    # As the load balancer's health checks last saw it (None: not checked yet).
    healthy = models.BooleanField(null=True)
    health_reason = models.CharField(max_length=100, blank=True)

    class Meta:
        # The id last: instances may share a (blank) name, and every reader of a service's
        # backends (a list's JSON, a detail's prefetch) must see one order.
        ordering = ["instance__name", "port", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "instance", "port"], name="one_backend_per_port"
            )
        ]

    def __str__(self) -> str:
        return f"{self.instance.name or self.instance.instance_id}:{self.port} w{self.weight}"

    @property
    def reason_words(self) -> str:
        """Why it is unhealthy as a person reads it; a code not known here is shown as it came."""
        return str(BACKEND_REASON_WORDS.get(self.health_reason, self.health_reason))
