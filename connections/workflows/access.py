"""An access request's cloud work: the endpoint (seed step 5), the connection (step 6), and
tearing it down on revoke or reject."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from connections.choices import MANAGED_BY_TAG, REQUEST_TAG_KEY, REQUEST_TERMINAL, RequestState
from connections.cloud import CloudNotFound
from connections.models import AccessRequest
from connections.states import transition
from connections.workflows.runner import Context, Step, StepFailed, Wait, Workflow


def request_tags(access_request: AccessRequest) -> list[dict]:
    return [
        {"Key": MANAGED_BY_TAG[0], "Value": MANAGED_BY_TAG[1]},
        {"Key": REQUEST_TAG_KEY, "Value": str(access_request.pk)},
    ]


class AccessWorkflow(Workflow):
    model = AccessRequest

    def account_of(self, record):
        return record.vpc.account

    def fail(self, ctx: Context, code: str, message: str, cloud_request_id: str) -> None:
        transition(
            ctx.record,
            RequestState.FAILED,
            verb="failed",
            detail=f"{self.name}: {code}: {message}",
            cloud_request_id=cloud_request_id,
            failed_phase=self.name,
            last_error_code=code,
            last_error_message=message,
        )


# --- shared steps ---------------------------------------------------------------------------------


def endpoint_gone(ctx: Context) -> Wait | None:
    """Delete the endpoint (if one was made) and wait until the cloud no longer knows it."""
    record = ctx.record
    record.refresh_from_db(fields=["endpoint_id", "endpoint_deleted_at"])
    if not record.endpoint_id or record.endpoint_deleted_at:
        return None
    api = ctx.cloud.privatelink
    try:
        status = api.get_endpoint(record.endpoint_id).get("EndpointStatus")
        if status != "Deleting":
            result = api.delete_endpoint(record.endpoint_id)
            ctx.event(
                "deleting endpoint", f"DeleteVpcEndpoint {record.endpoint_id}", result.request_id
            )
    except CloudNotFound:
        ctx.save(endpoint_deleted_at=timezone.now())
        ctx.event("endpoint deleted", record.endpoint_id)
        return None
    return Wait("endpoint deleting")


# --- provision (step 5) ---------------------------------------------------------------------------


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
        tags=request_tags(record),
        client_token=record.client_token("endpoint"),
    )
    endpoint_id = result["EndpointId"]
    # The row is locked so that a revoke cannot finish between our id and our look at the state.
    with transaction.atomic():
        state = (
            AccessRequest.objects.select_for_update()
            .values_list("state", flat=True)
            .get(pk=record.pk)
        )
        ctx.save(endpoint_id=endpoint_id, endpoint_domain=result.get("EndpointDomain") or "")
        ctx.event("created endpoint", f"CreateVpcEndpoint → {endpoint_id}", result.request_id)
        if state in REQUEST_TERMINAL:
            # Revoked while the endpoint was being made: nobody else will delete it.
            transaction.on_commit(lambda: start_cleanup(record.pk))
    return None


def endpoint_active(ctx: Context) -> Wait | None:
    attributes = ctx.cloud.privatelink.get_endpoint(ctx.record.endpoint_id)
    status = attributes.get("EndpointStatus")
    if status == "Active":
        if attributes.get("EndpointDomain"):
            ctx.save(endpoint_domain=attributes["EndpointDomain"])
        return None
    if status == "Deleting":
        raise StepFailed(
            "EndpointDeleting", f"The endpoint {ctx.record.endpoint_id} is being deleted."
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
        transition(
            record,
            RequestState.CONNECTING,
            verb="auto-accepted",
            detail="the service accepts every endpoint",
        )
        start_workflow_on_commit(CONNECT, record)
    elif service.trusted_teams.filter(pk=record.consumer_team_id).exists():
        transition(
            record,
            RequestState.CONNECTING,
            verb="auto-approved",
            detail=f"{record.consumer_team} is trusted",
        )
        start_workflow_on_commit(CONNECT, record)
    else:
        transition(
            record, RequestState.PENDING_APPROVAL, verb="awaiting approval", detail="endpoint ready"
        )
    return None


class ProvisionWorkflow(AccessWorkflow):
    name = "provision"
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
            )

    @property
    def task(self):
        from connections.tasks import provision_request

        return provision_request


# --- connect (step 6) -----------------------------------------------------------------------------


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
    transition(
        ctx.record,
        RequestState.CONNECTED,
        verb="connected",
        detail=ctx.record.endpoint_domain,
        connected_at=timezone.now(),
        last_error_code="",
        last_error_message="",
    )
    return None


class ConnectWorkflow(AccessWorkflow):
    name = "connect"
    running_states = frozenset({RequestState.CONNECTING})
    steps = [
        Step("accept_connection", accept_connection),
        Step("connection_connected", connection_connected),
        Step("refresh_zones", record_zones),
        Step("mark_connected", mark_connected),
    ]

    @property
    def task(self):
        from connections.tasks import connect_request

        return connect_request


# --- revoke ---------------------------------------------------------------------------------------


def mark_revoked(ctx: Context) -> Wait | None:
    # Locked: a provision step that made an endpoint while we tore down records it under the
    # same lock, so either we see its id here or it sees `revoked` and cleans up after itself.
    with transaction.atomic():
        record = AccessRequest.objects.select_for_update().get(pk=ctx.record.pk)
        if record.endpoint_id and not record.endpoint_deleted_at:
            return Wait("an endpoint appeared while revoking")
        transition(
            ctx.record,
            RequestState.REVOKED,
            verb="revoked",
            detail="endpoint gone",
            closed_at=timezone.now(),
        )
    return None


class RevokeWorkflow(AccessWorkflow):
    name = "revoke"
    running_states = frozenset({RequestState.REVOKING})
    steps = [Step("endpoint_gone", endpoint_gone), Step("mark_revoked", mark_revoked)]

    @property
    def task(self):
        from connections.tasks import revoke_request

        return revoke_request


# --- clean up after reject (or an endpoint made after a revoke) -----------------------------------


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
    running_states = REQUEST_TERMINAL
    steps = [Step("reject_connection", reject_connection), Step("endpoint_gone", endpoint_gone)]

    def fail(self, ctx: Context, code: str, message: str, cloud_request_id: str) -> None:
        ctx.save(last_error_code=code, last_error_message=message, failed_phase=self.name)
        ctx.event("cleanup failed", f"{code}: {message}", cloud_request_id)

    @property
    def task(self):
        from connections.tasks import clean_up_request

        return clean_up_request


PROVISION = ProvisionWorkflow()
CONNECT = ConnectWorkflow()
REVOKE = RevokeWorkflow()
CLEANUP = CleanupWorkflow()


def start_workflow_on_commit(workflow: Workflow, record) -> None:
    from connections.workflows import start_workflow

    start_workflow(workflow, record)


def start_cleanup(request_id: int) -> None:
    from connections.workflows import start_workflow

    with transaction.atomic():
        record = AccessRequest.objects.select_for_update().get(pk=request_id)
        start_workflow(CLEANUP, record)
