"""The verbs of the portal, the only entry points for the UI and the API.

Each verb checks permission (`policies`), validates before any cloud call (pre-flight), records
the intent and its event in one transaction, and enqueues the workflow on commit. Refusals are
`PermissionDenied`, `ValidationError` (with a stable code per check, which the API exposes), or
`InvalidTransition` (the object's state does not allow the verb).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from celery import current_app
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from connections import policies, preflight, states
from connections.choices import ListenerProtocol, RequestState, ServiceState
from connections.models import (
    AccessRequest,
    ConnectionTest,
    Finding,
    PublishedService,
    RequestZone,
    SecurityGroup,
    ServiceBackend,
    ServiceZone,
    Team,
    Vpc,
)
from connections.preflight import BackendChoice, Problems, ZoneChoice
from connections.states import (
    REQUEST_DECIDABLE,
    REQUEST_LIVE,
    REQUEST_REVOCABLE,
    InvalidTransition,
    record_event,
    transition,
)
from connections.workflows import start_workflow
from connections.workflows.provision import CONNECT, PROVISION
from connections.workflows.registry import WORKFLOWS
from connections.workflows.retire import RETIRE
from connections.workflows.service import CONFIGURE, PUBLISH
from connections.workflows.teardown import CLEANUP, REVOKE

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
    problems = preflight.publish_problems(
        user,
        team=team,
        name=name,
        vpc=vpc,
        zones=zones,
        backends=backends,
        listener_port=listener_port,
        listener_protocol=listener_protocol,
        connection_limit=connection_limit,
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
    policies.require(user, "retire", service)
    with transaction.atomic():
        service = PublishedService.objects.select_for_update().get(pk=service.pk)
        live = list(service.requests.filter(state__in=REQUEST_LIVE).select_for_update())
        if live and not force:
            raise ValidationError(
                ngettext(
                    "%(count)d access request is still live: "
                    "revoke it first, or retire with force.",
                    "%(count)d access requests are still live: "
                    "revoke them first, or retire with force.",
                    len(live),
                )
                % {"count": len(live)},
                code="service_has_live_requests",
            )
        transition(
            service,
            ServiceState.RETIRING,
            verb="retire",
            actor=user,
            detail=gettext_noop("forced") if force else "",
        )
        for access_request in live:
            if access_request.state in REQUEST_REVOCABLE:
                begin_revoke(
                    access_request,
                    verb="revoke",
                    actor=user,
                    detail=gettext_noop("service retired"),
                )
        start_workflow(RETIRE, service)
    return service


def retry_service(user, service: PublishedService) -> PublishedService:
    """Resume a failed publish or retire at the step that failed, or re-apply settings that
    could not be applied."""
    policies.require(user, "retry", service)
    with transaction.atomic():
        service = PublishedService.objects.select_for_update().get(pk=service.pk)
        _resume(user, service)
    return service


def update_service_settings(
    user,
    service: PublishedService,
    *,
    auto_accept: bool,
    trusted_teams: Iterable[Team],
    connection_limit: int | None,
) -> PublishedService:
    """An owner changes who is let in without a decision, and how many may connect. A change of
    auto-accept is applied to the endpoint service by a worker (the configure workflow)."""
    policies.require(user, "configure", service)
    problems = Problems()
    preflight.connection_limit_value(problems, connection_limit)
    problems.raise_if_any()
    trusted = sorted(set(trusted_teams), key=lambda team: team.name)
    with transaction.atomic():
        service = PublishedService.objects.select_for_update().get(pk=service.pk)
        if not states.state_allows("configure", service):
            raise InvalidTransition(service, "configure")
        changes = []
        if service.auto_accept != auto_accept:
            changes.append(f"auto-accept {'on' if auto_accept else 'off'}")
        if service.connection_limit != connection_limit:
            changes.append(f"connection limit {connection_limit or 'none'}")
        if set(service.trusted_teams.all()) != set(trusted):
            changes.append(f"trusted teams: {', '.join(t.name for t in trusted) or 'none'}")
        if not changes:
            return service
        apply_in_cloud = service.auto_accept != auto_accept
        PublishedService.objects.filter(pk=service.pk).update(
            auto_accept=auto_accept, connection_limit=connection_limit, updated_at=timezone.now()
        )
        service.auto_accept, service.connection_limit = auto_accept, connection_limit
        service.trusted_teams.set(trusted)
        record_event(service, "settings changed", actor=user, detail="; ".join(changes))
        if apply_in_cloud:
            start_workflow(CONFIGURE, service)
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
        problems = preflight.request_problems(
            user,
            service=service,
            team=team,
            vpc=vpc,
            security_groups=security_groups,
            zones=zones,
            justification=justification,
            expires_at=expires_at,
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
    policies.require(user, "approve", access_request)
    with transaction.atomic():
        access_request = _locked(access_request)
        # The map also lets a workflow go on to connecting; a person approves only what waits.
        if access_request.state not in REQUEST_DECIDABLE:
            raise InvalidTransition(access_request, RequestState.CONNECTING)
        transition(access_request, RequestState.CONNECTING, verb="approve", actor=user)
        start_workflow(CONNECT, access_request)
    return access_request


def reject_request(user, access_request: AccessRequest, *, reason: str) -> AccessRequest:
    """Step 6, declined: the request ends; the endpoint is disconnected and deleted after."""
    policies.require(user, "reject", access_request)
    if not reason.strip():
        raise ValidationError(
            {
                "reason": [
                    ValidationError(_("Give a reason for the rejection."), code="reason_required")
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
    policies.require(user, "revoke", access_request)
    with transaction.atomic():
        access_request = _locked(access_request)
        if access_request.state not in REQUEST_REVOCABLE:
            raise InvalidTransition(access_request, RequestState.REVOKING)
        begin_revoke(access_request, verb="revoke", actor=user)
    return access_request


def begin_revoke(access_request: AccessRequest, *, verb: str, actor=None, detail: str = "") -> None:
    """The revoke itself, without the permission check: revoking, and the workflow that deletes
    the endpoint enqueued on commit. For a verb that has checked, and for what the system
    decides alone (expiry, an endpoint deleted outside the portal). Called in the caller's
    transaction, on a row it has locked or read in it."""
    transition(access_request, RequestState.REVOKING, verb=verb, actor=actor, detail=detail)
    start_workflow(REVOKE, access_request)


def fail_disconnected(access_request: AccessRequest, cloud_word: str) -> None:
    """A connected request whose connection the service's side disabled outside the portal:
    failed, with the cloud's word for it; Retry connects it again from the start."""
    transition(
        access_request,
        RequestState.FAILED,
        verb="connection disabled outside the portal",
        detail=f"the service's side lists the connection as {cloud_word}",
        last_error_code=cloud_word,
        last_error_message=(
            f"The connection is {cloud_word}: it was disabled outside the portal. "
            "Retry to connect it again."
        ),
        failed_phase=CONNECT.name,
        # The connect workflow ran to its end once: a retry runs all of it again.
        progress="",
    )


def retry_request(user, access_request: AccessRequest) -> AccessRequest:
    """Resume a failed request at the step that failed, or finish a clean-up that failed."""
    policies.require(user, "retry", access_request)
    with transaction.atomic():
        access_request = _locked(access_request)
        _resume(user, access_request)
    return access_request


def amend_request(
    user,
    access_request: AccessRequest,
    *,
    security_groups: Sequence[SecurityGroup],
    zones: Sequence[ZoneChoice],
) -> AccessRequest:
    """Choose a failed request's vSwitches and security groups again, then resume it: what the
    cloud refused (a full vSwitch, a zone, a group) is changed before the retry, not after."""
    policies.require(user, "amend", access_request)
    with transaction.atomic():
        access_request = _locked(access_request)
        if not states.state_allows("amend", access_request):
            raise InvalidTransition(access_request, "amend")
        preflight.amend_problems(
            user, access_request, security_groups=security_groups, zones=zones
        ).raise_if_any()
        access_request.security_groups.set(security_groups)
        access_request.zones.all().delete()
        RequestZone.objects.bulk_create(
            RequestZone(access_request=access_request, zone_id=c.zone_id, vswitch=c.vswitch)
            for c in zones
        )
        # A new ClientToken for the endpoint: a create the cloud finished before the failure
        # (its answer lost) must not be handed back with the old choices; the sweep finds it.
        access_request.generation += 1
        access_request.save(update_fields=["generation"])
        chosen = ", ".join(f"{c.zone_id}: {c.vswitch.vswitch_id}" for c in zones)
        groups = ", ".join(g.security_group_id for g in security_groups)
        record_event(access_request, "changed", actor=user, detail=f"{chosen}; {groups}")
        _resume(user, access_request)
    return access_request


def _resume(user, record: PublishedService | AccessRequest) -> None:
    """Start the workflow a retry of `record` resumes (states.retry_plan), in its state."""
    plan = states.retry_plan(record)
    if plan is None:
        raise InvalidTransition(record, "retry")
    workflow, to_state = WORKFLOWS[plan[0]], plan[1]
    if workflow in (PUBLISH, PROVISION, CONNECT):
        # Building again in a VPC: it must still be the team's (a platform admin, or a tag, may
        # have given it to another team since). Tearing down needs no such check.
        team = record.owner_team if workflow is PUBLISH else record.consumer_team
        problems = Problems()
        preflight.vpc_of_team(problems, user, team, record.vpc)
        problems.raise_if_any()
    detail = f"resuming {workflow.name}"
    if to_state is None:  # work that leaves the state as it is (a clean-up, new settings)
        record_event(record, "retry", actor=user, detail=detail)
    else:
        transition(record, to_state, verb="retry", actor=user, detail=detail)
    start_workflow(workflow, record, resume=True)


def test_connection(user, access_request: AccessRequest) -> ConnectionTest:
    """Seed step 7, by a worker: connect through the endpoint and keep what answers."""
    policies.require(user, "test", access_request)
    if not states.state_allows("test", access_request):
        raise InvalidTransition(access_request, "test")
    with transaction.atomic():
        test = ConnectionTest.objects.create(access_request=access_request, requested_by=user)
        transaction.on_commit(lambda: _enqueue_probe(test.pk), robust=True)
    return test


def _enqueue_probe(test_id: int) -> None:
    current_app.send_task("connections.test_connection", args=(test_id,))


def clean_up_finding(user, finding: Finding) -> Finding:
    """Remove what the health sweep found and the portal made (monitoring/findings.py), by a
    worker; the finding shows `cleaning` until it is done."""
    policies.require(user, "clean_up", finding)
    if not states.state_allows("clean_up", finding):
        raise InvalidTransition(finding, "clean_up")
    with transaction.atomic():
        # Claimed by a conditional update: two clicks at once start one clean-up.
        claimed = Finding.objects.filter(
            pk=finding.pk, cleaning=False, resolved_at__isnull=True
        ).update(cleaning=True, clean_up_error="")
        if not claimed:
            raise InvalidTransition(finding, "clean_up")
        transaction.on_commit(lambda: _enqueue_clean_up(finding.pk), robust=True)
    finding.cleaning, finding.clean_up_error = True, ""
    return finding


def _enqueue_clean_up(finding_id: int) -> None:
    current_app.send_task("connections.clean_up_finding", args=(finding_id,))


def expire_due_requests() -> int:
    """Revoke the requests whose expiry has passed (beat runs this every minute)."""
    expired = 0
    due = AccessRequest.objects.filter(expires_at__lte=timezone.now(), state__in=REQUEST_REVOCABLE)
    for request_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            access_request = AccessRequest.objects.select_for_update().get(pk=request_id)
            if access_request.state not in REQUEST_REVOCABLE:
                continue  # revoked by someone else since the query
            begin_revoke(
                access_request,
                verb="expired",
                detail=f"expired at {access_request.expires_at:%Y-%m-%d %H:%M %Z}",
            )
            expired += 1
    return expired
