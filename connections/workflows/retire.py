"""Retire a service: its resources torn down in the order the cloud requires: connections
closed, the service's resources detached, the endpoint service, the listener, the server group,
the load balancer (each API reference's "before you delete" rules; docs/cloud-api.md)."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_noop

from connections.choices import SERVICE_TAG_KEY, ServiceState
from connections.cloud import CloudNotFound
from connections.states import REQUEST_LIVE, SERVICE_WORKFLOWS
from connections.workflows import listings
from connections.workflows.definition import Context, Step, StepFailed, Wait
from connections.workflows.service import ServiceWorkflow
from connections.workflows.steps import adopt_tagged, ensure_gone, verify_account


def account_verified(ctx: Context) -> Wait | None:
    verify_account(ctx.cloud)
    return None


def untracked_resources_found(ctx: Context) -> Wait | None:
    nlb, privatelink = ctx.cloud.nlb, ctx.cloud.privatelink
    adopt_tagged(
        ctx,
        "endpoint_service_id",
        "endpoint service",
        privatelink.tagged_endpoint_services,
        SERVICE_TAG_KEY,
    )
    adopt_tagged(ctx, "listener_id", "listener", nlb.tagged_listeners, SERVICE_TAG_KEY)
    adopt_tagged(ctx, "server_group_id", "server group", nlb.tagged_server_groups, SERVICE_TAG_KEY)
    adopt_tagged(ctx, "nlb_id", "load balancer", nlb.tagged_load_balancers, SERVICE_TAG_KEY)
    return None


def requests_closed(ctx: Context) -> Wait | None:
    """The endpoint service can only go once no endpoint is connected to it."""
    still_open = ctx.record.requests.filter(
        Q(state__in=REQUEST_LIVE) | Q(endpoint_id__gt="", endpoint_deleted_at__isnull=True)
    ).values_list("pk", flat=True)
    if not still_open:
        return None
    return Wait(f"access requests {', '.join(map(str, sorted(still_open)))} still being closed")


# Connection statuses that keep a service resource and the service in use (the API reference of
# DetachResourceFromVpcEndpointService and DeleteVpcEndpointService).
CONNECTION_IN_USE = ("Connecting", "Connected", "Disconnecting", "Pending")


def connections_closed(ctx: Context) -> Wait | None:
    """No endpoint may still be connected ("disconnect the endpoint connections first"). The
    portal's own are closed by now (requests_closed); one it does not manage is someone else's
    to end, so the retire stops and says whose."""
    service_id = ctx.record.endpoint_service_id
    if not service_id:
        return None
    try:
        connections = ctx.cloud.privatelink.service_connections(service_id)
    except CloudNotFound:
        return None
    live = [c for c in connections if c.get("ConnectionStatus") in CONNECTION_IN_USE]
    if not live:
        return None
    known = set(
        ctx.record.requests.filter(endpoint_id__in=[c.get("EndpointId") for c in live]).values_list(
            "endpoint_id", flat=True
        )
    )
    foreign = [c for c in live if c.get("EndpointId") not in known]
    if foreign:
        described = ", ".join(
            f"{c.get('EndpointId')} (account {c.get('EndpointOwnerId')}, "
            f"{c.get('ConnectionStatus')})"
            for c in foreign
        )
        raise StepFailed(
            "EndpointServiceConnectionDependence",
            f"Endpoints the portal does not manage are still connected: {described}. Reject "
            "their connections in the PrivateLink console (or ask their owners to delete "
            "them), then retry.",
        )
    return Wait("connections still closing", operation="DisableVpcEndpointConnection")


def resources_detached(ctx: Context) -> Wait | None:
    """The service's load balancer detached from it ("remove the service resources first"),
    and the cloud's list of its resources empty again: one detachment at a time, each waited
    for (the service is Pending meanwhile)."""
    service_id, api = ctx.record.endpoint_service_id, ctx.cloud.privatelink
    if not service_id:
        return None
    try:
        resources = api.service_resources(service_id)
        if not resources:
            return None
        status = listings.read(ctx, listings.ENDPOINT_SERVICES, service_id).get("ServiceStatus")
        if status != "Active":
            return Wait(
                f"endpoint service {service_id} is {status}",
                operation="DetachResourceFromVpcEndpointService",
            )
        resource_id = resources[0]["ResourceId"]
        result = api.detach_resource(service_id, resource_id)
    except CloudNotFound:
        return None
    ctx.event("detaching service resource", f"{service_id}: {resource_id}", result.request_id)
    return Wait(
        f"{resource_id} being detached from {service_id}",
        operation="DetachResourceFromVpcEndpointService",
    )


def endpoint_service_gone(ctx: Context) -> Wait | None:
    service_id, api = ctx.record.endpoint_service_id, ctx.cloud.privatelink
    if not service_id:
        return None
    return ensure_gone(
        ctx,
        "endpoint service",
        service_id,
        read_status=lambda: listings.read(ctx, listings.ENDPOINT_SERVICES, service_id).get(
            "ServiceStatus"
        ),
        delete=lambda: api.delete_endpoint_service(service_id),
        busy=frozenset({"Creating", "Pending"}),
        operation="DeleteVpcEndpointService",
    )


def listener_gone(ctx: Context) -> Wait | None:
    listener_id, api = ctx.record.listener_id, ctx.cloud.nlb
    if not listener_id:
        return None
    return ensure_gone(
        ctx,
        "listener",
        listener_id,
        read_status=lambda: listings.read(ctx, listings.LISTENERS, listener_id).get(
            "ListenerStatus"
        ),
        delete=lambda: api.delete_listener(
            listener_id, client_token=ctx.record.client_token("delete-listener")
        ),
        busy=frozenset({"Provisioning", "Configuring", "Starting", "Stopping"}),
        operation="DeleteListener",
    )


def server_group_gone(ctx: Context) -> Wait | None:
    group_id, api = ctx.record.server_group_id, ctx.cloud.nlb
    if not group_id:
        return None
    return ensure_gone(
        ctx,
        "server group",
        group_id,
        read_status=lambda: (api.get_server_group(group_id) or {}).get("ServerGroupStatus"),
        delete=lambda: api.delete_server_group(
            group_id, client_token=ctx.record.client_token("delete-sgp")
        ),
        busy=frozenset({"Creating", "Configuring"}),
        operation="DeleteServerGroup",
    )


def load_balancer_gone(ctx: Context) -> Wait | None:
    nlb_id, api = ctx.record.nlb_id, ctx.cloud.nlb
    if not nlb_id:
        return None
    return ensure_gone(
        ctx,
        "load balancer",
        nlb_id,
        read_status=lambda: listings.read(ctx, listings.LOAD_BALANCERS, nlb_id).get(
            "LoadBalancerStatus"
        ),
        delete=lambda: api.delete_load_balancer(
            nlb_id, client_token=ctx.record.client_token("delete-nlb")
        ),
        busy=frozenset({"Provisioning", "Configuring"}),
        operation="DeleteLoadBalancer",
    )


def mark_retired(ctx: Context) -> Wait | None:
    ctx.finish(ServiceState.RETIRED, verb="retired", detail=gettext_noop("everything torn down"))
    return None


class RetireWorkflow(ServiceWorkflow):
    name = SERVICE_WORKFLOWS[ServiceState.RETIRING]
    former_task_name = "connections.retire_service"
    running_states = frozenset({ServiceState.RETIRING})
    steps = [
        Step("account_verified", account_verified, always=True),
        Step("untracked_resources_found", untracked_resources_found),
        Step("requests_closed", requests_closed),
        Step("connections_closed", connections_closed),
        Step("resources_detached", resources_detached),
        Step("endpoint_service_gone", endpoint_service_gone),
        Step("listener_gone", listener_gone),
        Step("server_group_gone", server_group_gone),
        Step("load_balancer_gone", load_balancer_gone),
        Step("mark_retired", mark_retired),
    ]


RETIRE = RetireWorkflow()
