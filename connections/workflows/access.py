"""An access request's cloud work: the endpoint (seed step 5), the connection (step 6), and
tearing it down on revoke or reject."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from connections.choices import REQUEST_LIVE, REQUEST_TAG_KEY, REQUEST_TERMINAL, RequestState
from connections.cloud import CloudNotFound
from connections.models import AccessRequest, PublishedService
from connections.states import transition
from connections.workflows import start_workflow
from connections.workflows.runner import Context, Step, StepFailed, Wait, Workflow
from connections.workflows.steps import adopt_tagged, ensure_gone, portal_tags, verify_account


class AccessWorkflow(Workflow):
    model = AccessRequest
    failed_state = RequestState.FAILED

    def account_of(self, record):
        return record.vpc.account


# --- shared steps --------------------------------------------------------------------------------


def accounts_verified(ctx: Context) -> Wait | None:
    verify_account(ctx.cloud)
    if ctx.provider_cloud is not ctx.cloud:
        verify_account(ctx.provider_cloud)
    return None


def untracked_endpoint_found(ctx: Context) -> Wait | None:
    api = ctx.cloud.privatelink
    adopt_tagged(ctx, "endpoint_id", "endpoint", api.tagged_endpoints, REQUEST_TAG_KEY)
    return None


def endpoint_gone(ctx: Context) -> Wait | None:
    """Delete the endpoint (if one was made) and wait until the cloud no longer knows it."""
    record = ctx.record
    record.refresh_from_db(fields=["endpoint_id", "endpoint_deleted_at"])
    endpoint_id, api = record.endpoint_id, ctx.cloud.privatelink
    if not endpoint_id or record.endpoint_deleted_at:
        return None
    outcome = ensure_gone(
        ctx,
        "endpoint",
        endpoint_id,
        read_status=lambda: api.get_endpoint(endpoint_id).get("EndpointStatus"),
        delete=lambda: api.delete_endpoint(endpoint_id),
        busy=frozenset({"Creating"}),
    )
    if outcome is None:
        ctx.save(endpoint_deleted_at=timezone.now(), verb="endpoint deleted", detail=endpoint_id)
    return outcome


def whitelist_withdrawn(ctx: Context) -> Wait | None:
    """Take the consumer's account off the service's whitelist once it has no live request left.

    Under the service's row lock, which `request_access` also takes: a new request from the same
    account either exists already (and the account stays) or comes after, and whitelists again.
    """
    record = ctx.record
    if not record.is_cross_account or not record.service.endpoint_service_id:
        return None
    uid = record.vpc.account.uid
    with transaction.atomic():
        service = PublishedService.objects.select_for_update().get(pk=record.service_id)
        others = service.requests.filter(state__in=REQUEST_LIVE, vpc__account__uid=uid).exclude(
            pk=record.pk
        )
        if others.exists():
            return None
        api = ctx.provider_cloud.privatelink
        if uid not in api.list_users(service.endpoint_service_id):
            return None
        result = api.remove_user(service.endpoint_service_id, uid)
        ctx.event(
            "withdrew whitelisting", f"RemoveUserFromVpcEndpointService {uid}", result.request_id
        )
    return None


# --- provision (step 5) --------------------------------------------------------------------------


def whitelist_consumer_account(ctx: Context) -> Wait | None:
    """Another account may only create an endpoint to a service that whitelists it."""
    record = ctx.record
    if not record.is_cross_account:
        return None
    service_id, uid = record.service.endpoint_service_id, record.vpc.account.uid
    api = ctx.provider_cloud.privatelink
    if uid in api.list_users(service_id):
        return None
    result = api.add_user(service_id, uid, client_token=record.client_token("whitelist"))
    ctx.event("whitelisted account", f"AddUserToVpcEndpointService {uid}", result.request_id)
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
        tags=portal_tags(REQUEST_TAG_KEY, record.pk),
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
        ctx.save(
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
    attributes = ctx.cloud.privatelink.get_endpoint(record.endpoint_id)
    status = attributes.get("EndpointStatus")
    if status == "Active":
        if attributes.get("EndpointDomain"):
            ctx.save(endpoint_domain=attributes["EndpointDomain"])
        return None
    if status == "Deleting":
        # Someone deleted it in the console: forget it, so that a retry makes a new one.
        ctx.save(
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
    return Wait(f"endpoint {status}")


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


def await_decision(ctx: Context) -> Wait | None:
    """Auto-accepting services and trusted teams go straight on; everyone else waits for step 6."""
    record = ctx.record
    service = record.service
    if service.auto_accept:
        verb, detail = "auto-accepted", "the service accepts every endpoint"
    elif service.trusted_teams.filter(pk=record.consumer_team_id).exists():
        verb, detail = "auto-approved", f"{record.consumer_team} is trusted"
    else:
        ctx.transition(
            RequestState.PENDING_APPROVAL, verb="awaiting approval", detail="endpoint ready"
        )
        return None
    # One commit: the state and the chain that carries it on, or neither.
    with transaction.atomic():
        ctx.transition(RequestState.CONNECTING, verb=verb, detail=detail)
        start_workflow(CONNECT, record)
    return None


class ProvisionWorkflow(AccessWorkflow):
    name = "provision"
    task_name = "connections.provision_request"
    running_states = frozenset({RequestState.PROVISIONING})
    steps = [
        Step("whitelist_consumer_account", whitelist_consumer_account),
        Step("create_endpoint", create_endpoint),
        Step("endpoint_active", endpoint_active),
        Step("record_zones", record_zones),
        Step("await_decision", await_decision),
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
    record = ctx.record
    api = ctx.provider_cloud.privatelink
    connection = api.get_connection(record.service.endpoint_service_id, record.endpoint_id)
    if connection is None:
        return Wait("connection not listed yet")
    if connection.get("ConnectionStatus") in ("Connected", "Connecting"):
        return None
    result = api.enable_connection(record.service.endpoint_service_id, record.endpoint_id)
    ctx.event(
        "accepted connection",
        f"EnableVpcEndpointConnection {record.endpoint_id}",
        result.request_id,
    )
    return None


def connection_connected(ctx: Context) -> Wait | None:
    status = ctx.cloud.privatelink.get_endpoint(ctx.record.endpoint_id).get("ConnectionStatus")
    return None if status == "Connected" else Wait(f"connection {status}")


def mark_connected(ctx: Context) -> Wait | None:
    ctx.transition(
        RequestState.CONNECTED,
        verb="connected",
        detail=ctx.record.endpoint_domain,
        connected_at=timezone.now(),
        last_error_code="",
        last_error_message="",
        failed_phase="",
    )
    return None


class ConnectWorkflow(AccessWorkflow):
    name = "connect"
    task_name = "connections.connect_request"
    running_states = frozenset({RequestState.CONNECTING})
    steps = [
        Step("accept_connection", accept_connection),
        Step("connection_connected", connection_connected),
        Step("refresh_zones", record_zones),
        Step("mark_connected", mark_connected),
    ]


# --- revoke --------------------------------------------------------------------------------------


def mark_revoked(ctx: Context) -> Wait | None:
    # Locked: a provision step that made an endpoint while we tore down records it under the
    # same lock, so either we see its id here (and delete it too) or it sees `revoked` and
    # cleans up after itself.
    with transaction.atomic():
        AccessRequest.objects.select_for_update().only("pk").get(pk=ctx.record.pk)
        outcome = endpoint_gone(ctx)
        if outcome is not None:
            return outcome
        ctx.transition(
            RequestState.REVOKED, verb="revoked", detail="endpoint gone", closed_at=timezone.now()
        )
    return None


class RevokeWorkflow(AccessWorkflow):
    name = "revoke"
    task_name = "connections.revoke_request"
    running_states = frozenset({RequestState.REVOKING})
    steps = [
        Step("accounts_verified", accounts_verified),
        Step("untracked_endpoint_found", untracked_endpoint_found),
        Step("endpoint_gone", endpoint_gone),
        Step("whitelist_withdrawn", whitelist_withdrawn),
        Step("mark_revoked", mark_revoked),
    ]


# --- clean up after reject (or an endpoint made after a revoke) ----------------------------------


def reject_connection(ctx: Context) -> Wait | None:
    record = ctx.record
    if (
        record.state != RequestState.REJECTED
        or not record.endpoint_id
        or record.endpoint_deleted_at
    ):
        return None
    try:
        result = ctx.provider_cloud.privatelink.disable_connection(
            record.service.endpoint_service_id, record.endpoint_id
        )
    except CloudNotFound:
        return None
    ctx.event(
        "rejected connection",
        f"DisableVpcEndpointConnection {record.endpoint_id}",
        result.request_id,
    )
    return None


class CleanupWorkflow(AccessWorkflow):
    """Runs on a request that is already over (rejected, revoked): its state no longer changes."""

    name = "cleanup"
    task_name = "connections.clean_up_request"
    running_states = REQUEST_TERMINAL
    failed_state = None
    steps = [
        Step("accounts_verified", accounts_verified),
        Step("untracked_endpoint_found", untracked_endpoint_found),
        Step("reject_connection", reject_connection),
        Step("endpoint_gone", endpoint_gone),
        Step("whitelist_withdrawn", whitelist_withdrawn),
    ]


PROVISION = ProvisionWorkflow()
CONNECT = ConnectWorkflow()
REVOKE = RevokeWorkflow()
CLEANUP = CleanupWorkflow()
