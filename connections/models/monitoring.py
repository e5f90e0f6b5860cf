"""What the health sweep keeps: health history, findings, and the sweep's lease."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from connections import policies
from connections.choices import Health
from connections.models.access import AccessRequest
from connections.models.network import CloudAccount
from connections.models.published import PublishedService


class HealthSample(models.Model):
    """A point of a request's health history: at every change, and every few minutes between;
    after a day only one an hour is kept (the worst of that hour), and nothing after 30 days
    (connections/monitoring/rules.py)."""

    access_request = models.ForeignKey(
        AccessRequest, on_delete=models.CASCADE, related_name="health_samples"
    )
    at = models.DateTimeField()
    health = models.CharField(max_length=10, choices=Health.choices)
    latency_ms = models.FloatField(null=True, blank=True)
    hourly = models.BooleanField(default=False, help_text="Stands for a whole hour.")

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["access_request", "-at"], name="sample_request_newest")]

    def __str__(self) -> str:
        return f"{self.access_request_id} {self.health} at {self.at:%Y-%m-%d %H:%M}"


class FindingQuerySet(models.QuerySet):
    def visible_to(self, user) -> FindingQuerySet:
        return self.filter(policies.findings_q(user))

    def open(self) -> FindingQuerySet:
        return self.filter(resolved_at__isnull=True)


class Finding(models.Model):
    """Something the health sweep found in the cloud that the portal's records do not account
    for: reported, never acted on silently. The owners of the service it concerns (platform
    admins for an account-wide one) see it; `clean up` only ever removes what the portal made."""

    class Kind(models.TextChoices):
        UNMANAGED_CONNECTION = "unmanaged_connection", _("Connection the portal does not manage")
        STALE_WHITELIST = (
            "stale_whitelist",
            _("An account allowed to connect that no live request needs"),
        )
        ORPHAN_ENDPOINT = "orphan_endpoint", _("Endpoint made by the portal with no request")
        SERVICE_CHANGED = "service_changed", _("Service changed outside the portal")

    kind = models.CharField(max_length=30, choices=Kind.choices)
    account = models.ForeignKey(CloudAccount, on_delete=models.CASCADE, related_name="findings")
    service = models.ForeignKey(
        PublishedService, null=True, blank=True, on_delete=models.CASCADE, related_name="findings"
    )
    resource_id = models.CharField(max_length=128, help_text="Endpoint id, or account UID.")
    detail = models.TextField(blank=True)
    # The portal made it (its tags say so, or its own request whitelisted the account): only
    # then may a clean-up remove it.
    made_by_portal = models.BooleanField(default=False)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField()
    # Set when a sweep no longer finds it, or when it was cleaned up.
    resolved_at = models.DateTimeField(null=True, blank=True)
    cleaning = models.BooleanField(default=False, help_text="A clean-up is under way.")
    clean_up_error = models.TextField(blank=True, help_text="Why the last clean-up failed.")

    OPEN, CLEANING, RESOLVED = "open", _("cleaning"), "resolved"

    objects = FindingQuerySet.as_manager()

    class Meta:
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "account", "resource_id"],
                condition=Q(resolved_at__isnull=True),
                name="one_open_finding_per_resource",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.resource_id}"

    @property
    def cleanable(self) -> bool:
        return self.made_by_portal and self.kind in (
            self.Kind.STALE_WHITELIST,
            self.Kind.ORPHAN_ENDPOINT,
        )

    @property
    def state(self) -> str:
        if self.resolved_at is not None:
            return self.RESOLVED
        return self.CLEANING if self.cleaning else self.OPEN

    def get_state_display(self) -> str:
        return {
            self.OPEN: gettext("open"),
            self.CLEANING: gettext("being cleaned up"),
            self.RESOLVED: gettext("resolved"),
        }[self.state]


class SweepLease(models.Model):
    """Who is sweeping now: a sweep still running when the next is due is not started twice.
    Taken by a conditional update; one that died is given up when `held_until` passes."""

    name = models.CharField(max_length=50, unique=True)
    held_until = models.DateTimeField(null=True, blank=True)
    last_started = models.DateTimeField(null=True, blank=True)
    last_finished = models.DateTimeField(null=True, blank=True)
    last_report = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return self.name
