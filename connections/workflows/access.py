"""An access request's cloud work: the endpoint (seed step 5), the connection (step 6), and
tearing it down on revoke or reject."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from connections.choices import REQUEST_TAG_KEY, RequestState
from connections.cloud import CloudNotFound
from connections.models import AccessRequest, PublishedService
from connections.states import (
    CLEANUP_WORKFLOW,
    REQUEST_LIVE,
    REQUEST_TERMINAL,
    REQUEST_WORKFLOWS,
    record_event,
    transition,
)
from connections.workflows import listings, start_workflow
from connections.workflows.runner import NO_ERROR, Context, Step, StepFailed, Wait, Workflow
from connections.workflows.steps import (
    adopt_tagged,
    not_visible_yet,
    portal_tags,
    verify_account,
)

REVOKE_PHASE = REQUEST_WORKFLOWS[RequestState.REVOKING]
# What waiting steps wait to see an endpoint leave (workflows/listings.py reads only those).
CREATING, DELETING = ("EndpointStatus", "Creating"), ("EndpointStatus", "Deleting")


class AccessWorkflow(Workflow):
    model = AccessRequest
    failed_state = RequestState.FAILED
    related = ("vpc__account", "service__account")

    def account_of(self, record):
        return record.vpc.account

    def shown_error(self, ctx: Context, code: str, message: str) -> str:
        """A failure on the service's side is the service's owners' to read in full (on the
        service's timeline); the requesting team gets its code."""
        if ctx.step is None or not ctx.step.provider_side:
            return message
        record_event(
            ctx.record.service,
            "request failed",
            detail=f"request {ctx.record.pk}, {ctx.step.name}: {code}: {message}",
        )
        return (
            f"The service's side refused this ({code}); its owners see the details on the "
            "service's timeline."
        )


# --- shared steps --------------------------------------------------------------------------------


def account_verified(ctx: Context) -> Wait | None:
    verify_account(ctx.cloud)
    return None


def provider_account_verified(ctx: Context) -> Wait | None:
    if ctx.provider_cloud is not ctx.cloud:
        verify_account(ctx.provider_cloud)
    return None


# Before any teardown, at every start (a retry may follow a change of credentials).
ACCOUNTS_VERIFIED = [
    Step("account_verified", account_verified, always=True),
    Step("provider_account_verified", provider_account_verified, always=True, provider_side=True),
]


def untracked_endpoint_found(ctx: Context) -> Wait | None:
    api = ctx.cloud.privatelink
    adopt_tagged(ctx, "endpoint_id", "endpoint", api.tagged_endpoints, REQUEST_TAG_KEY)
    return None


def endpoint_gone(ctx: Context) -> Wait | None:
    """Take the endpoint (if one was made) down in the order the cloud requires, and wait until
    the cloud no longer knows it: its zones first, one at a time ("Before you delete an
    endpoint, delete the zones added to it"; a zone change at a time per endpoint), then the
    endpoint. Each call waits for the cloud to confirm the one before."""
    record = ctx.record
    record.refresh_from_db(fields=["endpoint_id", "endpoint_deleted_at"])
    endpoint_id, api = record.endpoint_id, ctx.cloud.privatelink
    if not endpoint_id or record.endpoint_deleted_at:
        return None
    try:
        status = listings.read(ctx, listings.ENDPOINTS, endpoint_id, still=DELETING).get(
            "EndpointStatus"
        )
        if status == "Creating":
            return Wait(f"endpoint {endpoint_id} is Creating; deleting it after")
        if status != "Deleting":
            outcome = _zones_removed(ctx, endpoint_id, status)
            if outcome is not None:
                return outcome
            result = api.delete_endpoint(endpoint_id)
            ctx.event("deleting endpoint", endpoint_id, result.request_id)
        return Wait(f"endpoint {endpoint_id} deleting", operation="DeleteVpcEndpoint")
    except CloudNotFound:
        ctx.remember(
            endpoint_deleted_at=timezone.now(), verb="endpoint deleted", detail=endpoint_id
        )
        return None


def _zones_removed(ctx: Context, endpoint_id: str, status: str | None) -> Wait | None:
    """None once the endpoint has no zone left; otherwise remove the next one and wait."""
    api = ctx.cloud.privatelink
    zones = api.list_endpoint_zones(endpoint_id)
    if not zones:
        return None
    leaving = [zone["ZoneId"] for zone in zones if zone.get("ZoneStatus") == "Deleting"]
    if leaving or status == "Pending":
        what = f"zone {', '.join(leaving)}" if leaving else "a zone change"
        return Wait(
            f"endpoint {endpoint_id}: {what} under way", operation="RemoveZoneFromVpcEndpoint"
        )
    zone_id = zones[0]["ZoneId"]
    result = api.remove_zone(endpoint_id, zone_id)
    ctx.event("removing endpoint zone", f"{endpoint_id} {zone_id}", result.request_id)
    return Wait(
        f"endpoint {endpoint_id}: zone {zone_id} being removed",
        operation="RemoveZoneFromVpcEndpoint",
    )


# A closed request's hold on its account's whitelisting, while it takes the account off: longer
# than a cloud call may take (base.READ_TIMEOUT_MS), so it only outlives a worker that died.
WITHDRAWAL_HOLD = timedelta(minutes=5)
# The event that says the portal put an account on a whitelist: the health sweep's proof that a
# whitelist entry is the portal's to take off (connections/monitoring/findings.py).
WHITELISTED = "whitelisted account"


def requests_needing_whitelisting():
    """Live requests, which need their account on their service's whitelist: not those being
    revoked, whose endpoints are already going. (The health sweep asks it too.)"""
    return (
        AccessRequest.objects.filter(state__in=REQUEST_LIVE)
        .exclude(state=RequestState.REVOKING)
        .exclude(state=RequestState.FAILED, failed_phase=REVOKE_PHASE)
    )


def whitelist_withdrawn(ctx: Context) -> Wait | None:
    """Take the consumer's account off the service's whitelist once it has no live request left.

    Decided under the service's row lock, which `request_access` also takes: a new request from
    the same account either exists already (and the account stays) or comes after, and then
    waits to whitelist the account until this step is done (`withdrawing_whitelist_until`). The
    cloud calls run after the lock is released: no row lock is held across a cloud call.
    """
    record = ctx.record
    if not record.is_cross_account or not record.service.endpoint_service_id:
        return None
    uid = record.vpc.account.uid
    with transaction.atomic():
        PublishedService.objects.select_for_update().only("pk").get(pk=record.service_id)
        needing = requests_needing_whitelisting().filter(
            service_id=record.service_id, vpc__account__uid=uid
        )
        if needing.exclude(pk=record.pk).exists():
            return None
        ctx.remember(withdrawing_whitelist_until=timezone.now() + WITHDRAWAL_HOLD)
    try:
        api = ctx.provider_cloud.privatelink
        service_id = record.service.endpoint_service_id
        if uid in api.list_users(service_id):
            result = api.remove_user(service_id, uid)
            ctx.event(
                "withdrew whitelisting",
                f"RemoveUserFromVpcEndpointService {uid}",
                result.request_id,
            )
    finally:
        ctx.remember(withdrawing_whitelist_until=None)
    return None


# --- provision (step 5) --------------------------------------------------------------------------


def whitelist_consumer_account(ctx: Context) -> Wait | None:
    """Another account may only create an endpoint to a service that whitelists it."""
    record = ctx.record
    if not record.is_cross_account:
        return None
    service_id, uid = record.service.endpoint_service_id, record.vpc.account.uid
    withdrawing = AccessRequest.objects.filter(
        service_id=record.service_id,
        vpc__account__uid=uid,
        withdrawing_whitelist_until__gt=timezone.now(),
    )
    if withdrawing.exists():
        return Wait(f"account {uid} is being taken off the whitelist; whitelisting it after")
    api = ctx.provider_cloud.privatelink
    if uid in api.list_users(service_id):
        return None
    result = api.add_user(service_id, uid, client_token=record.client_token("whitelist"))
    ctx.event(WHITELISTED, f"AddUserToVpcEndpointService {uid}", result.request_id)
    return None


def create_endpoint(ctx: Context) -> Wait | None:
    record = ctx.record
    if record.endpoint_id:
        return None
    zones = [
        (zone.zone_id, zone.vswitch.vswitch_id) for zone in record.zones.select_related("vswitch")
    ]
    result = ctx.cloud.privatelink.create_endpoint(
        name=f"plp-request-{record.pk}",
        vpc_id=record.vpc.vpc_id,
        service_id=record.service.endpoint_service_id,
        security_group_ids=[sg.security_group_id for sg in record.security_groups.all()],
        zones=zones,
        tags=portal_tags(REQUEST_TAG_KEY, record),
        client_token=record.client_token("endpoint"),
    )
    endpoint_id = result["EndpointId"]
    # Locked: a revoke that finishes between our id and our look at the state is the one case
    # where nobody else would delete this endpoint.
    with transaction.atomic():
        state = (
            AccessRequest.objects.select_for_update()
            .values_list("state", flat=True)
            .get(pk=record.pk)
        )
        ctx.remember(
            endpoint_id=endpoint_id,
            endpoint_domain=result.get("EndpointDomain") or "",
            verb="created endpoint",
            detail=f"CreateVpcEndpoint → {endpoint_id}",
            cloud_request_id=result.request_id,
        )
        if state in REQUEST_TERMINAL:
            start_workflow(CLEANUP, record)
    return None


def endpoint_active(ctx: Context) -> Wait | None:
    record = ctx.record
    try:
        attributes = listings.read(ctx, listings.ENDPOINTS, record.endpoint_id, still=CREATING)
    except CloudNotFound:
        waiting = not_visible_yet(ctx, "endpoint", record.endpoint_id, "CreateVpcEndpoint")
        if waiting is not None:
            return waiting
        attributes = {"EndpointStatus": "Deleting"}  # gone: made again on a retry, as below
    status = attributes.get("EndpointStatus")
    if status == "Active":
        if attributes.get("EndpointDomain"):
            ctx.remember(endpoint_domain=attributes["EndpointDomain"])
        return None
    if status == "Deleting":
        # Someone deleted it in the console: forget it, so that a retry makes a new one.
        ctx.remember(
            verb="discarded endpoint",
            detail=f"{record.endpoint_id} is being deleted",
            endpoint_id="",
            endpoint_domain="",
            progress="",
            generation=record.generation + 1,
        )
        raise StepFailed(
            "EndpointDeleting",
            "The endpoint is being deleted outside the portal; retry to create a new one.",
        )
    return Wait(f"endpoint {status}", operation="CreateVpcEndpoint")


def record_zones(ctx: Context) -> Wait | None:
    """Keep the step-7 addresses: each zone's domain, ENI and IP."""
    answered = {
        zone["ZoneId"]: zone
        for zone in ctx.cloud.privatelink.list_endpoint_zones(ctx.record.endpoint_id)
    }
    for zone in ctx.record.zones.all():
        cloud_zone = answered.get(zone.zone_id)
        if cloud_zone is None:
            continue
        zone.status = cloud_zone.get("ZoneStatus") or ""
        zone.eni_id = cloud_zone.get("EniId") or ""
        zone.eni_ip = cloud_zone.get("EniIp") or ""
        zone.zone_domain = cloud_zone.get("ZoneDomain") or ""
        zone.save(update_fields=["status", "eni_id", "eni_ip", "zone_domain"])
    return None


# The events of a request that went on without a person's approval (the request page says so).
AUTO_ACCEPTED, AUTO_APPROVED = "auto-accepted", "auto-approved"


def accept_or_await_approval(ctx: Context) -> Wait | None:
    """Auto-accepting services and trusted teams go straight on; everyone else waits for step 6."""
    record = ctx.record
    service = record.service
    if service.auto_accept:
        verb, detail = AUTO_ACCEPTED, "the service accepts every endpoint"
    elif service.trusted_teams.filter(pk=record.consumer_team_id).exists():
        verb, detail = AUTO_APPROVED, f"{record.consumer_team} is trusted"
    else:
        ctx.finish(RequestState.PENDING_APPROVAL, verb="awaiting approval", detail="endpoint ready")
        return None
    # One commit: the state and the chain that carries it on, or neither.
    with transaction.atomic():
        ctx.finish(RequestState.CONNECTING, verb=verb, detail=detail)
        start_workflow(CONNECT, record)
    return None


class ProvisionWorkflow(AccessWorkflow):
    name = REQUEST_WORKFLOWS[RequestState.PROVISIONING]
    former_task_name = "connections.provision_request"
    running_states = frozenset({RequestState.PROVISIONING})
    steps = [
        Step("whitelist_consumer_account", whitelist_consumer_account, provider_side=True),
        Step("create_endpoint", create_endpoint),
        Step("endpoint_active", endpoint_active, waits_for="CreateVpcEndpoint"),
        Step("record_zones", record_zones),
        Step("await_decision", accept_or_await_approval),
    ]

    def prepare(self, record) -> None:
        if record.state == RequestState.SUBMITTED:
            transition(
                record,
                RequestState.PROVISIONING,
                verb="provisioning",
                detail="a worker took the request",
                task_token=record.task_token,
            )


# --- connect (step 6) ----------------------------------------------------------------------------


def accept_connection(ctx: Context) -> Wait | None:
    """Step 6: accept the endpoint's connection, which waits as Disconnected (the console
    guide: "After you create an endpoint …, the endpoint connection is in the Disconnected
    state"). One accepted or being accepted already is left as it is."""
    record = ctx.record
    api = ctx.provider_cloud.privatelink
    connection = api.get_connection(record.service.endpoint_service_id, record.endpoint_id)
    if connection is None:
        return Wait("connection not listed yet", operation="EnableVpcEndpointConnection")
    status = connection.get("ConnectionStatus")
    if status in ("Connected", "Connecting"):
        return None
    if status != "Disconnected":
        return Wait(f"connection {status}", operation="EnableVpcEndpointConnection")
    result = api.enable_connection(record.service.endpoint_service_id, record.endpoint_id)
    ctx.event(
        "accepted connection",
        f"EnableVpcEndpointConnection {record.endpoint_id}",
        result.request_id,
    )
    return None


def connection_connected(ctx: Context) -> Wait | None:
    status = listings.read(
        ctx, listings.ENDPOINTS, ctx.record.endpoint_id, still=("ConnectionStatus", "Connecting")
    ).get("ConnectionStatus")
    if status == "Connected":
        return None
    return Wait(f"connection {status}", operation="EnableVpcEndpointConnection")


def mark_connected(ctx: Context) -> Wait | None:
    ctx.finish(
        RequestState.CONNECTED,
        verb="connected",
        detail=ctx.record.endpoint_domain,
        connected_at=timezone.now(),
    )
    return None


class ConnectWorkflow(AccessWorkflow):
    name = REQUEST_WORKFLOWS[RequestState.CONNECTING]
    former_task_name = "connections.connect_request"
    running_states = frozenset({RequestState.CONNECTING})
    steps = [
        Step("accept_connection", accept_connection, provider_side=True),
        Step("connection_connected", connection_connected),
        Step("refresh_zones", record_zones),
        Step("mark_connected", mark_connected),
    ]


# --- revoke --------------------------------------------------------------------------------------


def mark_revoked(ctx: Context) -> Wait | None:
    """Revoked once no endpoint is left. A provision step that made an endpoint while we tore
    down records its id under the row lock taken here, so either we see that id (and come back
    to delete it: never under the lock, which no cloud call may hold) or it sees `revoked` and
    cleans up after itself."""
    outcome = endpoint_gone(ctx)
    if outcome is not None:
        return outcome
    with transaction.atomic():
        late = (
            AccessRequest.objects.select_for_update()
            .filter(pk=ctx.record.pk, endpoint_id__gt="", endpoint_deleted_at__isnull=True)
            .exists()
        )
        if late:
            return Wait("an endpoint was recorded meanwhile; deleting it")
        ctx.finish(
            RequestState.REVOKED, verb="revoked", detail="endpoint gone", closed_at=timezone.now()
        )
    return None


class RevokeWorkflow(AccessWorkflow):
    name = REVOKE_PHASE
    former_task_name = "connections.revoke_request"
    running_states = frozenset({RequestState.REVOKING})
    steps = [
        *ACCOUNTS_VERIFIED,
        Step("untracked_endpoint_found", untracked_endpoint_found),
        Step("endpoint_gone", endpoint_gone),
        Step("whitelist_withdrawn", whitelist_withdrawn, provider_side=True),
        Step("mark_revoked", mark_revoked),
    ]


# --- clean up after reject (or an endpoint made after a revoke) ----------------------------------


def clean_up_finished(ctx: Context) -> Wait | None:
    """A clean-up that failed before and now went through leaves no error behind."""
    if ctx.record.failed_phase == CleanupWorkflow.name:
        ctx.remember(verb="cleaned up", detail="after an earlier failure", **NO_ERROR)
    return None


class CleanupWorkflow(AccessWorkflow):
    """Runs on a request that is already over (rejected, revoked): its state no longer changes."""

    name = CLEANUP_WORKFLOW
    former_task_name = "connections.clean_up_request"
    running_states = REQUEST_TERMINAL
    failed_state = None
    steps = [
        *ACCOUNTS_VERIFIED,
        Step("untracked_endpoint_found", untracked_endpoint_found),
        # No DisableVpcEndpointConnection first: a connection waiting for the provider is
        # Disconnected already, and deleting the endpoint ends one accepted meanwhile too.
        Step("endpoint_gone", endpoint_gone),
        Step("whitelist_withdrawn", whitelist_withdrawn, provider_side=True),
        Step("clean_up_finished", clean_up_finished),
    ]


PROVISION = ProvisionWorkflow()
CONNECT = ConnectWorkflow()
REVOKE = RevokeWorkflow()
CLEANUP = CleanupWorkflow()
