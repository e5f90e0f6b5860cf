"""The verbs of the portal, the only entry points for the UI and the API.

Each verb checks permission (`policies`), validates before any cloud call (pre-flight), records
the intent and its event in one transaction, and enqueues the workflow on commit. Refusals are
`PermissionDenied`, `ValidationError` (with a stable code per check, which the API exposes), or
`InvalidTransition` (the object's state does not allow the verb).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from connections import policies
from connections.choices import (
    REQUEST_LIVE,
    REQUEST_REVOCABLE,
    ListenerProtocol,
    RequestState,
    ServiceState,
)
from connections.models import (
    AccessRequest,
    Instance,
    PublishedService,
    RequestZone,
    SecurityGroup,
    ServiceBackend,
    ServiceZone,
    Team,
    Vpc,
    VSwitch,
)
from connections.states import InvalidTransition, record_event, transition
from connections.workflows import start_workflow
from connections.workflows.access import CLEANUP, CONNECT, PROVISION, REVOKE
from connections.workflows.service import PUBLISH, RETIRE

# An NLB needs two zones at least; the seed's service uses G and K.
MIN_SERVICE_ZONES = 2
# Service names become cloud resource names (plp-<name>): a DNS-label-like slug.
SERVICE_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


@dataclass(frozen=True)
class ZoneChoice:
    zone_id: str
    vswitch: VSwitch


@dataclass(frozen=True)
class BackendChoice:
    instance: Instance
    port: int
    weight: int = 100


class Problems:
    """Collects every failed check, so a person sees all of them at once."""

    def __init__(self):
        self.errors: dict[str, list[ValidationError]] = {}

    def add(self, field: str, code: str, message: str) -> None:
        self.errors.setdefault(field, []).append(ValidationError(message, code=code))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def _names(items: Iterable[str]) -> str:
    return ", ".join(sorted(items)) or "none"


def _check_zones(problems: Problems, vpc: Vpc, zones: Sequence[ZoneChoice]) -> None:
    seen = set()
    for choice in zones:
        if choice.zone_id in seen:
            problems.add("zones", "duplicate_zone", f"Zone {choice.zone_id} is chosen twice.")
        seen.add(choice.zone_id)
        if not choice.vswitch.present:
            problems.add(
                "zones",
                "vswitch_gone",
                f"vSwitch {choice.vswitch.vswitch_id} no longer exists in the cloud.",
            )
        if choice.vswitch.vpc_id != vpc.pk:
            problems.add(
                "zones",
                "vswitch_not_in_vpc",
                f"vSwitch {choice.vswitch.vswitch_id} is not in VPC {vpc.vpc_id}.",
            )
        elif choice.vswitch.zone_id != choice.zone_id:
            problems.add(
                "zones",
                "vswitch_not_in_zone",
                f"vSwitch {choice.vswitch.vswitch_id} is in zone {choice.vswitch.zone_id}, "
                f"not {choice.zone_id}.",
            )


# --- publish and retire ---------------------------------------------------------------------------


def publish_service(
    user,
    *,
    team: Team,
    name: str,
    vpc: Vpc,
    zones: Sequence[ZoneChoice],
    backends: Sequence[BackendChoice],
    listener_port: int,
    listener_protocol: str = ListenerProtocol.TCP,
    description: str = "",
    auto_accept: bool = False,
    trusted_teams: Iterable[Team] = (),
    connection_limit: int | None = None,
) -> PublishedService:
    """Publish a service (seed steps 1–4): record it, then let the publish workflow build it."""
    policies.require_publisher(user, team)
    problems = Problems()
    if not SERVICE_NAME.fullmatch(name or ""):
        problems.add(
            "name",
            "invalid_name",
            "Use 1–63 lower-case letters, digits and hyphens, "
            "starting and ending with a letter or digit.",
        )
    if not policies.team_uses_account(team, vpc.account):
        problems.add(
            "vpc", "account_not_allowed", f"{team} may not use the cloud account of {vpc}."
        )
    if PublishedService.objects.filter(name=name).exclude(state=ServiceState.RETIRED).exists():
        problems.add("name", "duplicate_name", f"A service named {name} already exists.")
    if len(zones) < MIN_SERVICE_ZONES:
        problems.add(
            "zones",
            "too_few_zones",
            f"Choose at least {MIN_SERVICE_ZONES} zones: an NLB spans two or more.",
        )
    _check_zones(problems, vpc, zones)
    if not backends:
        problems.add("backends", "backend_required", "Add at least one backend server.")
    seen = set()
    for backend in backends:
        if not backend.instance.present:
            problems.add(
                "backends",
                "instance_gone",
                f"Instance {backend.instance} no longer exists in the cloud.",
            )
        if backend.instance.vpc_id != vpc.pk:
            problems.add(
                "backends",
                "instance_not_in_vpc",
                f"Instance {backend.instance} is not in VPC {vpc.vpc_id}.",
            )
        if not 1 <= backend.port <= 65535:
            problems.add(
                "backends", "invalid_port", f"Port {backend.port} is not between 1 and 65535."
            )
        if not 0 <= backend.weight <= 100:
            problems.add(
                "backends", "invalid_weight", f"Weight {backend.weight} is not between 0 and 100."
            )
        if (backend.instance.pk, backend.port) in seen:
            problems.add(
                "backends",
                "duplicate_backend",
                f"{backend.instance}:{backend.port} is listed twice.",
            )
        seen.add((backend.instance.pk, backend.port))
    if not 1 <= listener_port <= 65535:
        problems.add(
            "listener_port", "invalid_port", f"Port {listener_port} is not between 1 and 65535."
        )
    if listener_protocol not in ListenerProtocol.values:
        problems.add(
            "listener_protocol",
            "invalid_protocol",
            f"Protocol must be one of {_names(ListenerProtocol.values)}.",
        )
    if connection_limit is not None and connection_limit < 1:
        problems.add(
            "connection_limit", "invalid_limit", "The connection limit must be at least 1."
        )
    problems.raise_if_any()

    with transaction.atomic():
        try:
            with transaction.atomic():
                service = PublishedService.objects.create(
                    owner_team=team,
                    created_by=user,
                    name=name,
                    description=description,
                    account=vpc.account,
                    vpc=vpc,
                    listener_protocol=listener_protocol,
                    listener_port=listener_port,
                    auto_accept=auto_accept,
                    connection_limit=connection_limit,
                )
        except IntegrityError as exc:
            # The database's unique guard: another publish of this name got in first.
            raise ValidationError(
                {
                    "name": [
                        ValidationError(
                            f"A service named {name} already exists.", code="duplicate_name"
                        )
                    ]
                }
            ) from exc
        ServiceZone.objects.bulk_create(
            ServiceZone(service=service, zone_id=choice.zone_id, vswitch=choice.vswitch)
            for choice in zones
        )
        ServiceBackend.objects.bulk_create(
            ServiceBackend(service=service, instance=b.instance, port=b.port, weight=b.weight)
            for b in backends
        )
        service.trusted_teams.set(trusted_teams)
        record_event(
            service, "publish requested", actor=user, to_state=service.state, detail=f"in {vpc}"
        )
        start_workflow(PUBLISH, service)
    return service


def retire_service(user, service: PublishedService, *, force: bool = False) -> PublishedService:
    """Tear a service down. Refused while connections are live, unless forced: then revoke them."""
    policies.require(
        policies.can_manage_service(user, service),
        f"Only owners of {service.owner_team} may retire it.",
    )
    with transaction.atomic():
        service = PublishedService.objects.select_for_update().get(pk=service.pk)
        live = list(service.requests.filter(state__in=REQUEST_LIVE).select_for_update())
        if live and not force:
            raise ValidationError(
                f"{len(live)} access request(s) are still live: "
                "revoke them first, or retire with force.",
                code="service_has_live_requests",
            )
        transition(
            service,
            ServiceState.RETIRING,
            verb="retire",
            actor=user,
            detail="forced" if force else "",
        )
        for access_request in live:
            if access_request.state in REQUEST_REVOCABLE:
                transition(
                    access_request,
                    RequestState.REVOKING,
                    verb="revoke",
                    actor=user,
                    detail="service retired",
                )
                start_workflow(REVOKE, access_request)
        start_workflow(RETIRE, service)
    return service


def retry_service(user, service: PublishedService) -> PublishedService:
    """Resume a failed publish or retire at the step that failed."""
    policies.require(
        policies.can_manage_service(user, service),
        f"Only owners of {service.owner_team} may retry it.",
    )
    resume = {
        PUBLISH.name: (ServiceState.PROVISIONING, PUBLISH),
        RETIRE.name: (ServiceState.RETIRING, RETIRE),
    }
    if service.state != ServiceState.FAILED or service.failed_phase not in resume:
        raise InvalidTransition(service, "retry")
    to_state, workflow = resume[service.failed_phase]
    with transaction.atomic():
        transition(service, to_state, verb="retry", actor=user, detail=f"resuming {workflow.name}")
        start_workflow(workflow, service, resume=True)
    return service


# --- requests -------------------------------------------------------------------------------------


def request_access(
    user,
    *,
    service: PublishedService,
    team: Team,
    vpc: Vpc,
    security_groups: Sequence[SecurityGroup],
    zones: Sequence[ZoneChoice],
    justification: str,
    expires_at: datetime | None = None,
) -> AccessRequest:
    """Ask for an endpoint to `service` in `vpc` (seed step 5), after every pre-flight check."""
    policies.require_requester(user, team)
    with transaction.atomic():
        # Locked: the connection limit and the duplicate check must not race another request.
        service = PublishedService.objects.select_for_update().get(pk=service.pk)
        problems = Problems()
        if service.state != ServiceState.AVAILABLE:
            problems.add(
                "service",
                "service_unavailable",
                f"{service} is {service.get_state_display().lower()}, not available.",
            )
        if not policies.team_uses_account(team, vpc.account):
            problems.add(
                "vpc",
                "account_not_allowed",
                f"{team} may not use the cloud account of {vpc}.",
            )
        if not vpc.present:
            problems.add("vpc", "vpc_gone", f"{vpc} no longer exists in the cloud.")
        if not zones:
            problems.add("zones", "zone_required", "Choose at least one zone and its vSwitch.")
        offered = set(service.zone_ids)
        not_offered = sorted({choice.zone_id for choice in zones} - offered)
        if not_offered:
            problems.add(
                "zones",
                "zone_not_offered",
                f"{service} is not offered in {_names(not_offered)}; "
                f"it is offered in {_names(offered)}.",
            )
        _check_zones(problems, vpc, zones)
        if not security_groups:
            problems.add(
                "security_groups", "security_group_required", "Choose at least one security group."
            )
        if vpc.account.region != service.account.region:
            problems.add(
                "vpc",
                "region_mismatch",
                f"{vpc} is in {vpc.account.region}; {service} is in {service.account.region}.",
            )
        for group in security_groups:
            if not group.present:
                problems.add(
                    "security_groups",
                    "security_group_gone",
                    f"Security group {group.security_group_id} no longer exists in the cloud.",
                )
            if group.vpc_id != vpc.pk:
                problems.add(
                    "security_groups",
                    "security_group_not_in_vpc",
                    f"Security group {group.security_group_id} is not in VPC {vpc.vpc_id}.",
                )
        if not justification.strip():
            problems.add(
                "justification", "justification_required", "Say why the team needs access."
            )
        if expires_at is not None and expires_at <= timezone.now():
            problems.add("expires_at", "expiry_in_past", "The expiry must be in the future.")
        live = service.requests.filter(state__in=REQUEST_LIVE)
        if live.filter(vpc=vpc).exists():
            problems.add(
                "vpc", "duplicate_request", f"{vpc} already has a live request for {service}."
            )
        if service.connection_limit is not None and live.count() >= service.connection_limit:
            problems.add(
                "service",
                "connection_limit_reached",
                f"{service} accepts at most {service.connection_limit} connections; all are taken.",
            )
        problems.raise_if_any()

        try:
            with transaction.atomic():
                access_request = AccessRequest.objects.create(
                    service=service,
                    consumer_team=team,
                    requester=user,
                    vpc=vpc,
                    justification=justification.strip(),
                    expires_at=expires_at,
                )
        except IntegrityError as exc:
            # The database's unique guard: another request for this VPC got in first.
            raise ValidationError(
                {
                    "vpc": [
                        ValidationError(
                            f"{vpc} already has a live request for {service}.",
                            code="duplicate_request",
                        )
                    ]
                }
            ) from exc
        access_request.security_groups.set(security_groups)
        RequestZone.objects.bulk_create(
            RequestZone(access_request=access_request, zone_id=c.zone_id, vswitch=c.vswitch)
            for c in zones
        )
        record_event(
            access_request,
            "requested",
            actor=user,
            to_state=access_request.state,
            detail=justification.strip()[:500],
        )
        start_workflow(PROVISION, access_request)
    return access_request


def _locked(access_request: AccessRequest) -> AccessRequest:
    return (
        AccessRequest.objects.select_for_update()
        .select_related("service")
        .get(pk=access_request.pk)
    )


def approve_request(user, access_request: AccessRequest) -> AccessRequest:
    """Step 6: the provider accepts the endpoint's connection (only one that waits for it)."""
    policies.require(
        policies.can_decide(user, access_request),
        f"Only owners of {access_request.service.owner_team} may approve.",
    )
    with transaction.atomic():
        access_request = _locked(access_request)
        # The map also lets a workflow go on to connecting; a person approves only what waits.
        if access_request.state != RequestState.PENDING_APPROVAL:
            raise InvalidTransition(access_request, RequestState.CONNECTING)
        transition(access_request, RequestState.CONNECTING, verb="approve", actor=user)
        start_workflow(CONNECT, access_request)
    return access_request


def reject_request(user, access_request: AccessRequest, *, reason: str) -> AccessRequest:
    """Step 6, declined: the request ends; the endpoint is disconnected and deleted after."""
    policies.require(
        policies.can_decide(user, access_request),
        f"Only owners of {access_request.service.owner_team} may reject.",
    )
    if not reason.strip():
        raise ValidationError(
            {
                "reason": [
                    ValidationError("Give a reason for the rejection.", code="reason_required")
                ]
            }
        )
    with transaction.atomic():
        access_request = _locked(access_request)
        transition(
            access_request,
            RequestState.REJECTED,
            verb="reject",
            actor=user,
            detail=reason.strip(),
            decision_reason=reason.strip(),
            closed_at=timezone.now(),
        )
        start_workflow(CLEANUP, access_request)
    return access_request


def revoke_request(user, access_request: AccessRequest) -> AccessRequest:
    """Either side ends access: the endpoint is deleted, then the request is revoked."""
    policies.require(
        policies.can_revoke(user, access_request),
        "Only the requesting team or the service's owners may revoke.",
    )
    with transaction.atomic():
        access_request = _locked(access_request)
        if access_request.state not in REQUEST_REVOCABLE:
            raise InvalidTransition(access_request, RequestState.REVOKING)
        transition(access_request, RequestState.REVOKING, verb="revoke", actor=user)
        start_workflow(REVOKE, access_request)
    return access_request


def retry_request(user, access_request: AccessRequest) -> AccessRequest:
    """Resume a failed request at the step that failed, or finish a clean-up that failed."""
    policies.require(
        policies.can_retry_request(user, access_request),
        "Only the requesting team or the service's owners may retry.",
    )
    resume = {
        PROVISION.name: (RequestState.PROVISIONING, PROVISION),
        CONNECT.name: (RequestState.CONNECTING, CONNECT),
        REVOKE.name: (RequestState.REVOKING, REVOKE),
    }
    with transaction.atomic():
        access_request = _locked(access_request)
        if access_request.state == RequestState.FAILED and access_request.failed_phase in resume:
            to_state, workflow = resume[access_request.failed_phase]
            transition(
                access_request,
                to_state,
                verb="retry",
                actor=user,
                detail=f"resuming {workflow.name}",
            )
            start_workflow(workflow, access_request, resume=True)
        elif (
            access_request.failed_phase == CLEANUP.name
            and access_request.state in CLEANUP.running_states
        ):
            record_event(access_request, "retry", actor=user, detail="resuming clean-up")
            start_workflow(CLEANUP, access_request, resume=True)
        else:
            raise InvalidTransition(access_request, "retry")
    return access_request


def expire_due_requests() -> int:
    """Revoke the requests whose expiry has passed (beat runs this every minute)."""
    expired = 0
    due = AccessRequest.objects.filter(expires_at__lte=timezone.now(), state__in=REQUEST_REVOCABLE)
    for request_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            access_request = AccessRequest.objects.select_for_update().get(pk=request_id)
            if access_request.state not in REQUEST_REVOCABLE:
                continue  # revoked by someone else since the query
            transition(
                access_request,
                RequestState.REVOKING,
                verb="expired",
                detail=f"expired at {access_request.expires_at:%Y-%m-%d %H:%M %Z}",
            )
            start_workflow(REVOKE, access_request)
            expired += 1
    return expired
