"""Access requests: a team's endpoint to a published service, its zones and its connection
tests.

State fields change only through `connections.states`; nothing else writes `state`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Prefetch, Q
from django.utils.translation import gettext_lazy

from connections import policies
from connections.choices import HEALTH_BADGES, REQUEST_BADGES, Health, RequestState
from connections.json_lists import related_json_list
from connections.models.network import CloudAccount, SecurityGroup, Vpc, VSwitch
from connections.models.published import PublishedService
from connections.models.records import WorkflowRecord
from connections.models.teams import Team
from connections.states import REQUEST_LIVE


class AccessRequestQuerySet(models.QuerySet):
    def visible_to(self, user) -> AccessRequestQuerySet:
        """The person's teams' requests and the requests to their teams' services."""
        return self.filter(policies.requests_q(user))

    def awaiting_decision_by(self, user) -> AccessRequestQuerySet:
        """The approval queue: requests waiting for step 6 on services the person manages."""
        return self.filter(policies.approval_queue_q(user.pk))

    def for_list(self) -> AccessRequestQuerySet:
        """What a row of the pages' lists shows: service, team, requester, VPC and account,
        the zones' names."""
        return self.select_related(
            "service", "consumer_team", "requester", "vpc__account"
        ).prefetch_related(
            Prefetch("zones", RequestZone.objects.only("access_request_id", "zone_id"))
        )

    def with_row_relations(self) -> AccessRequestQuerySet:
        """What a request shows of other tables in the API, read in the row's own query: its
        service, teams, requester, VPC and account (joined), and its zones (`zone_list`: [zone,
        vSwitch id, status, ENI id, ENI IP, zone domain], by zone) and security groups
        (`security_group_list`: [group id], by id) as JSON lists, None where there are none.
        A page so costs one query and one model object per row (bench/api_lists.py)."""
        return self.select_related(
            "service", "consumer_team", "requester", "vpc__account"
        ).annotate(
            zone_list=related_json_list(
                RequestZone.objects.all(), "access_request",
                ["zone_id", "vswitch__vswitch_id", "status", "eni_id", "eni_ip", "zone_domain"],
                ["zone_id"],
            ),
            security_group_list=related_json_list(
                AccessRequest.security_groups.through.objects.all(), "accessrequest",
                ["securitygroup__security_group_id"], ["securitygroup__security_group_id"],
            ),
        )  # fmt: skip

    def with_details(self) -> AccessRequestQuerySet:
        """What a request shows in full (its page, the API): service, teams, requester, VPC and
        account, zones with their vSwitches, security groups."""
        return self.select_related(
            "service", "consumer_team", "requester", "vpc__account"
        ).prefetch_related(
            Prefetch("zones", RequestZone.objects.select_related("vswitch")),
            Prefetch("security_groups", SecurityGroup.objects.order_by("security_group_id")),
        )


class AccessRequest(WorkflowRecord):
    """A consumer team's request for an endpoint to a service from one of its VPCs (steps 5–6)."""

    service = models.ForeignKey(PublishedService, on_delete=models.PROTECT, related_name="requests")
    consumer_team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="access_requests"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    vpc = models.ForeignKey(Vpc, on_delete=models.PROTECT, related_name="access_requests")
    security_groups = models.ManyToManyField(SecurityGroup, related_name="+")
    justification = models.TextField()
    expires_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(
        max_length=20, choices=RequestState.choices, default=RequestState.SUBMITTED
    )
    health = models.CharField(max_length=10, choices=Health.choices, default=Health.UNKNOWN)
    health_reason = models.CharField(max_length=500, blank=True)
    health_checked_at = models.DateTimeField(null=True, blank=True)
    # The data-plane probe's connect time, kept with each history sample (monitoring/sweep.py).
    probe_latency_ms = models.FloatField(null=True, blank=True)
    health_sampled_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    endpoint_id = models.CharField(max_length=64, blank=True)
    endpoint_domain = models.CharField(max_length=255, blank=True)
    endpoint_deleted_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Set while this closed request takes its account off the service's whitelist: a new request
    # from that account waits to whitelist it again until then (workflows/whitelist.py).
    withdrawing_whitelist_until = models.DateTimeField(null=True, blank=True)

    objects = AccessRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The lists, newest first: a team's requests, and the requests to a service.
            models.Index(
                fields=["consumer_team", "-created_at", "-id"], name="request_team_newest"
            ),
            models.Index(fields=["service", "-created_at", "-id"], name="request_service_newest"),
            models.Index(fields=["state", "service"], name="request_state_service"),
            # The approval queue, oldest first.
            models.Index(fields=["state", "created_at", "id"], name="request_state_oldest"),
            # The API's list, newest first: a page reads the index until it has its rows, so a
            # page costs the same at 100,000 requests as at 10,000 (bench/api_lists.py;
            # policies.requests_q keeps the visibility test a plain condition on each row).
            models.Index(fields=["-created_at", "-id"], name="request_newest"),
            # The reconciler, every 10 s: the chains of a state past their due time.
            models.Index(fields=["state", "task_due_at"], name="request_state_due"),
        ]
        constraints = [
            # The database's own guard against two live requests racing past the pre-flight check.
            models.UniqueConstraint(
                fields=["service", "vpc"],
                condition=Q(state__in=sorted(REQUEST_LIVE)),
                name="one_live_request_per_service_and_vpc",
            )
        ]

    def __str__(self) -> str:
        return f"request {self.pk}: {self.consumer_team} → {self.service}"

    @property
    def badge(self) -> str:
        return REQUEST_BADGES[self.state]

    @property
    def health_badge(self) -> str:
        return HEALTH_BADGES[self.health]

    @property
    def account(self) -> CloudAccount:
        return self.vpc.account

    @property
    def is_cross_account(self) -> bool:
        return self.vpc.account_id != self.service.account_id


# An endpoint zone's status in words (the cloud's ZoneStatus values, ListVpcEndpointZones in the
# PrivateLink API reference): "Wait" is the cloud's word for a connection not yet accepted.
ZONE_STATUS_WORDS = {
    "Creating": gettext_lazy("Being created"),
    "Wait": gettext_lazy("Waiting for approval"),
    "Connecting": gettext_lazy("Connecting"),
    "Connected": gettext_lazy("Connected"),
    "Disconnecting": gettext_lazy("Disconnecting"),
    "Disconnected": gettext_lazy("Disconnected"),
    "Deleting": gettext_lazy("Being deleted"),
}


class RequestZone(models.Model):
    """A zone of a request's endpoint: the chosen vSwitch, then the cloud's ENI and domain."""

    access_request = models.ForeignKey(
        AccessRequest, on_delete=models.CASCADE, related_name="zones"
    )
    zone_id = models.CharField(max_length=64)
    vswitch = models.ForeignKey(VSwitch, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=32, blank=True)
    eni_id = models.CharField(max_length=64, blank=True)
    eni_ip = models.CharField(max_length=64, blank=True)
    zone_domain = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["zone_id"]
        constraints = [
            models.UniqueConstraint(fields=["access_request", "zone_id"], name="one_request_zone")
        ]

    def __str__(self) -> str:
        return self.zone_id

    @property
    def status_words(self) -> str:
        """The status as a person reads it; one the portal does not know is shown as it came."""
        return str(ZONE_STATUS_WORDS.get(self.status, self.status)) or "—"


# What a connection test keeps as its answer when the TCP connect went through but nothing
# answered the GET behind it: the endpoint is there, the service is not (no healthy backend, or
# one that does not speak HTTP).
NO_HTTP_ANSWER = "Connected over TCP; the service did not answer HTTP."


class ConnectionTest(models.Model):
    """A person's "Test connection" of a connected request (seed step 7), run by a worker: a TCP
    connect, and an HTTP GET where the service answers HTTP, through the endpoint's domain."""

    access_request = models.ForeignKey(
        AccessRequest, on_delete=models.CASCADE, related_name="connection_tests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    target = models.CharField(max_length=300, blank=True, help_text="host:port tested")
    ok = models.BooleanField(null=True)
    latency_ms = models.FloatField(null=True, blank=True)
    answer = models.TextField(blank=True, help_text="The start of what the service answered.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"test of request {self.access_request_id} at {self.created_at:%H:%M:%S}"

    @property
    def running(self) -> bool:
        return self.finished_at is None

    @property
    def outcome(self) -> str:
        """What the test found, as the page tells it: running; answered (the service answered
        through the endpoint); unanswered (the endpoint took the connection but the service did
        not answer: a warning, not a success); failed (no connection)."""
        if self.running:
            return "running"
        if not self.ok:
            return "failed"
        return "unanswered" if self.answer in ("", NO_HTTP_ANSWER) else "answered"
