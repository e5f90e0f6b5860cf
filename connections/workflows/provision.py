"""A request's way up: its endpoint (seed step 5), then its connection accepted (step 6).
Tearing it down on revoke or reject: teardown.py; the account's whitelisting: whitelist.py."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from connections.choices import REQUEST_TAG_KEY, RequestState
from connections.cloud import CloudNotFound
from connections.models import AccessRequest
from connections.states import (
    REQUEST_TERMINAL,
    REQUEST_WORKFLOWS,
    transition,
)
from connections.workflows import listings, start_workflow
from connections.workflows.access import CREATING, AccessWorkflow
from connections.workflows.definition import Context, Step, StepFailed, Wait
from connections.workflows.steps import (
    not_visible_yet,
    portal_tags,
)
from connections.workflows.teardown import CLEANUP
from connections.workflows.whitelist import whitelist_consumer_account

# --- provision (step 5) --------------------------------------------------------------------------


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
        verb, detail = AUTO_ACCEPTED, gettext_noop("the service accepts every endpoint")
    elif service.trusted_teams.filter(pk=record.consumer_team_id).exists():
        verb, detail = AUTO_APPROVED, f"{record.consumer_team} is trusted"
    else:
        ctx.finish(
            RequestState.PENDING_APPROVAL,
            verb="awaiting approval",
            detail=gettext_noop("endpoint ready"),
        )
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
                detail=gettext_noop("the work has started"),
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


PROVISION = ProvisionWorkflow()


CONNECT = ConnectWorkflow()
