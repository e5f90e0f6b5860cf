"""The portal's records: teams, cloud accounts and their inventory, services, requests, events.

State fields change only through `connections.states`; nothing else writes `state`.
"""

from __future__ import annotations

import hashlib
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Prefetch, Q
from django.utils.translation import gettext

from connections import crypto, policies
from connections.choices import (
    HEALTH_BADGES,
    REQUEST_BADGES,
    REQUEST_LIVE,
    SERVICE_BADGES,
    SERVICE_TERMINAL,
    CredentialSource,
    Health,
    ListenerProtocol,
    RequestState,
    Role,
    ServiceState,
)
from connections.json_lists import related_json_list

# Row ids are 64-bit (DEFAULT_AUTO_FIELD is BigAutoField): input above this is refused, not queried.
MAX_ROW_ID = 2**63 - 1


class Team(models.Model):
    """A group of people that owns services and VPCs' use, and requests access as one."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="teams"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A person in a team, with a role that decides what they may do for it."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


class CloudAccount(models.Model):
    """An Alibaba Cloud account the portal works in, and how it authenticates there.

    The access key secret is stored encrypted (`connections.crypto`) and never displayed.
    A RAM role is assumed with the credentials of `assume_from`, or of the default chain.
    """

    name = models.CharField(max_length=100, unique=True)
    uid = models.CharField("account UID", max_length=32, unique=True)
    region = models.CharField(max_length=32, default="cn-hangzhou")
    credential_source = models.CharField(
        max_length=20, choices=CredentialSource.choices, default=CredentialSource.ACCESS_KEY
    )
    access_key_id = models.CharField(max_length=128, blank=True)
    access_key_secret_encrypted = models.TextField(blank=True, editable=False)
    role_arn = models.CharField("RAM role ARN", max_length=256, blank=True)
    assume_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="Account whose credentials assume the role; empty: the default credential chain.",
    )
    inventory_synced_at = models.DateTimeField(null=True, blank=True)
    # What the last health sweep could not read in this account (credentials, throttling…).
    sweep_error = models.TextField(blank=True)
    swept_at = models.DateTimeField(null=True, blank=True)
    # The last run of the access checks (connections/cloud_check.py): one {status, what,
    # detail} per check, run by a worker when an admin asks for it.
    access_check = models.JSONField(default=list, blank=True)
    access_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.uid})"

    @property
    def access_key_secret(self) -> str:
        return (
            crypto.decrypt(self.access_key_secret_encrypted)
            if self.access_key_secret_encrypted
            else ""
        )

    @access_key_secret.setter
    def access_key_secret(self, value: str) -> None:
        self.access_key_secret_encrypted = crypto.encrypt(value) if value else ""


class Zone(models.Model):
    """A zone of an account's region, as DescribeZones lists it, and whether NLB and
    PrivateLink are offered in it (each product's own DescribeZones: each supports a subset of
    the region's zones)."""

    account = models.ForeignKey(CloudAccount, on_delete=models.CASCADE, related_name="zones")
    zone_id = models.CharField(max_length=64)
    local_name = models.CharField(max_length=100, blank=True)
    nlb_offered = models.BooleanField(default=True)
    privatelink_offered = models.BooleanField(default=True)

    class Meta:
        ordering = ["zone_id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "zone_id"], name="one_zone_per_account")
        ]

    def __str__(self) -> str:
        return self.zone_id


class VpcQuerySet(models.QuerySet):
    def usable_by(self, user) -> VpcQuerySet:
        """The VPCs the person's teams own (gone ones included: a choice of one is refused as
        gone, not as unknown); platform admins: all of them."""
        return self.filter(policies.vpcs_q(user))


class Vpc(models.Model):
    """A VPC mirrored from an account by the inventory sync, owned by at most one team.

    The team (assigned by a platform admin, or from a cloud tag at sync: connections/inventory.py)
    is the only one that may use the VPC and everything in it; unassigned, only platform admins
    may. Sharing a cloud account does not share networks.
    """

    account = models.ForeignKey(CloudAccount, on_delete=models.CASCADE, related_name="vpcs")
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="vpcs",
        help_text="The team that uses this VPC and what is in it. Empty: platform admins only.",
    )
    # Who gave it to its team: a platform admin's choice stands; a cloud tag's may be changed by
    # the tag (connections/inventory.py).
    team_assigned_by = models.CharField(
        max_length=10, choices=[("admin", "platform admin"), ("tag", "cloud tag")], blank=True
    )
    vpc_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=128, blank=True)
    cidr = models.CharField(max_length=64, blank=True)
    # False once a sync no longer finds it; kept because requests and services refer to it.
    present = models.BooleanField(default=True)

    objects = VpcQuerySet.as_manager()

    class Meta:
        ordering = ["account__name", "name", "vpc_id"]
        verbose_name = "VPC"

    def __str__(self) -> str:
        return f"{self.name} ({self.vpc_id})" if self.name else self.vpc_id


class InVpcQuerySet(models.QuerySet):
    """What lives in a VPC (vSwitches, security groups, instances) belongs to the VPC's team."""

    def usable_by(self, user) -> InVpcQuerySet:
        return self.filter(policies.vpcs_q(user, "vpc__"))


class VSwitch(models.Model):
    """A vSwitch of a mirrored VPC, in one zone."""

    vpc = models.ForeignKey(Vpc, on_delete=models.CASCADE, related_name="vswitches")
    vswitch_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=128, blank=True)
    zone_id = models.CharField(max_length=64)
    cidr = models.CharField(max_length=64, blank=True)
    present = models.BooleanField(default=True)

    objects = InVpcQuerySet.as_manager()

    class Meta:
        ordering = ["zone_id", "vswitch_id"]
        verbose_name = "vSwitch"
        verbose_name_plural = "vSwitches"

    def __str__(self) -> str:
        label = self.name or self.vswitch_id
        return f"{label} ({self.zone_id}, {self.cidr})"


class SecurityGroup(models.Model):
    """A security group of a mirrored VPC."""

    vpc = models.ForeignKey(Vpc, on_delete=models.CASCADE, related_name="security_groups")
    security_group_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=128, blank=True)
    present = models.BooleanField(default=True)

    objects = InVpcQuerySet.as_manager()

    class Meta:
        ordering = ["name", "security_group_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.security_group_id})" if self.name else self.security_group_id


class Instance(models.Model):
    """An ECS instance of a mirrored VPC: a candidate backend of a published service."""

    vpc = models.ForeignKey(Vpc, on_delete=models.CASCADE, related_name="instances")
    instance_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=128, blank=True)
    zone_id = models.CharField(max_length=64, blank=True)
    private_ip = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=32, blank=True)
    present = models.BooleanField(default=True)

    objects = InVpcQuerySet.as_manager()

    class Meta:
        ordering = ["name", "instance_id"]

    def __str__(self) -> str:
        return (
            f"{self.name} ({self.instance_id}, {self.private_ip})"
            if self.name
            else self.instance_id
        )


class WorkflowRecord(models.Model):
    """What services and requests share: a uuid for client tokens, workflow bookkeeping, errors.

    `progress` names the last workflow step that finished, so a retry resumes after it.
    `task_token` names the current task chain and `task_hop` counts its messages: a message from
    an older chain, or an older hop of this one, stops (connections/workflows/runner.py).
    `task_deliveries` counts the deliveries of the current hop since a step last finished, so a
    message that kills its worker every time fails the record instead of circling for ever.
    `task_due_at` is when the chain's next message should run (or, while one runs, by when it
    will have finished): a chain well past it lost its message, and the reconciler resumes it.
    `generation` changes the client tokens when a dead cloud resource must be made anew.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    progress = models.CharField(max_length=64, blank=True)
    task_token = models.CharField(max_length=64, blank=True)
    task_hop = models.PositiveIntegerField(default=0)
    # Deliveries of the current hop's message since its last finished step: more than one means
    # a worker died running that step.
    task_deliveries = models.PositiveIntegerField(default=0)
    task_due_at = models.DateTimeField(null=True, blank=True)
    generation = models.PositiveIntegerField(default=0)
    # The phase a failed record resumes when retried.
    failed_phase = models.CharField(max_length=32, blank=True)
    last_error_code = models.CharField(max_length=128, blank=True)
    last_error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def client_token(self, step: str) -> str:
        """The ClientToken of a cloud create: the same for every delivery of the same step.

        It names this installation too: another portal sharing the account (or one started on a
        copy of this database) must never be handed this record's resources by the cloud's
        idempotency."""
        material = f"{settings.PORTAL_INSTALLATION_ID}:{self.uuid.hex}:{self.generation}:{step}"
        return f"plp-{hashlib.sha256(material.encode()).hexdigest()[:48]}"


class PublishedServiceQuerySet(models.QuerySet):
    def for_catalog(self) -> PublishedServiceQuerySet:
        """What a row of the catalog page shows: the owning team and the zones."""
        return self.select_related("owner_team").prefetch_related(
            Prefetch("zones", ServiceZone.objects.only("service_id", "zone_id"))
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
    # Kept by the health sweep (connections/sweep.py): its backends and its endpoint service.
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
    # The data-plane probe's connect time, kept with each history sample (connections/sweep.py).
    probe_latency_ms = models.FloatField(null=True, blank=True)
    health_sampled_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    endpoint_id = models.CharField(max_length=64, blank=True)
    endpoint_domain = models.CharField(max_length=255, blank=True)
    endpoint_deleted_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Set while this closed request takes its account off the service's whitelist: a new request
    # from that account waits to whitelist it again until then (workflows/access.py).
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


class HealthSample(models.Model):
    """A point of a request's health history: at every change, and every few minutes between;
    after a day only one an hour is kept (the worst of that hour), and nothing after 30 days
    (connections/health.py)."""

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
        UNMANAGED_CONNECTION = "unmanaged_connection", "Connection the portal does not manage"
        STALE_WHITELIST = "stale_whitelist", "Whitelisted account no live request needs"
        ORPHAN_ENDPOINT = "orphan_endpoint", "Endpoint made by the portal with no request"
        SERVICE_CHANGED = "service_changed", "Service changed outside the portal"

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

    OPEN, CLEANING, RESOLVED = "open", "cleaning", "resolved"

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


class EventQuerySet(models.QuerySet):
    def visible_to(self, user) -> EventQuerySet:
        return self.filter(policies.events_q(user))


class Event(models.Model):
    """One line of the append-only timeline and audit trail: who did what to which object.

    The actor is a person, or nobody for the system (workers). A transition records its from
    and to states; a cloud step records the cloud's request id for support cases.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    verb = models.CharField(max_length=64)
    # PROTECT: the audit trail outlives nothing it describes; an admin cannot delete it away.
    service = models.ForeignKey(
        PublishedService, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    access_request = models.ForeignKey(
        AccessRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    detail = models.TextField(blank=True)
    cloud_request_id = models.CharField(max_length=128, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.verb}"

    def save(self, *args, **kwargs):
        # Append-only: an event once written is history.
        if self.pk is not None:
            raise ValueError("events are append-only")
        super().save(*args, **kwargs)

    @property
    def actor_label(self) -> str:
        return self.actor.get_username() if self.actor_id else "system"

    @property
    def to_state_label(self) -> str:
        """The state the event led to, as the pages name it."""
        states = RequestState if self.access_request_id else ServiceState
        return states(self.to_state).label if self.to_state in states.values else self.to_state


class ApiToken(models.Model):
    """A person's key for the REST API. Only a SHA-256 of the key is stored: the key itself is
    shown once, when issued. `prefix` is the key's first characters, to tell tokens apart."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class IdempotencyRecord(models.Model):
    """The first answer to a POST sent with an `Idempotency-Key`, replayed for a retry of it.

    `fingerprint` hashes the method, path and body: the same key with another request is
    refused. A row without `response_status` is a request still running (or one that died).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="one_idempotency_record_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.user}, {self.response_status or 'running'})"
