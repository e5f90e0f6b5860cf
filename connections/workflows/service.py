"""Publish a service (seed steps 1–4): NLB → server group → backends → listener → endpoint
service; and apply an owner's new settings to an available one. Retiring it: retire.py."""

from __future__ import annotations

import hashlib

from django.utils.translation import gettext_lazy, gettext_noop

from connections.choices import SERVICE_TAG_KEY, ServiceState
from connections.cloud import CloudNotFound
from connections.models import PublishedService
from connections.states import CONFIGURE_WORKFLOW, SERVICE_WORKFLOWS
from connections.workflows import listings
from connections.workflows.definition import NO_ERROR, Context, Step, StepFailed, Wait, Workflow
from connections.workflows.steps import (
    not_visible_yet,
    portal_tags,
)


class ServiceWorkflow(Workflow):
    model = PublishedService
    failed_state = ServiceState.FAILED
    related = ("account",)

    def account_of(self, record):
        return record.account


def _tags(ctx: Context) -> list[dict]:
    return portal_tags(SERVICE_TAG_KEY, ctx.record)


def _discard(ctx: Context, field: str, what: str, status: str) -> None:
    """A resource the cloud gave up on: forget it, so that a retry makes a new one."""
    resource_id = getattr(ctx.record, field)
    ctx.remember(
        verb=f"discarded {what}",
        detail=f"{resource_id} is {status}",
        progress="",
        generation=ctx.record.generation + 1,
        **{field: ""},
    )
    raise StepFailed(
        f"{what.title().replace(' ', '')}.{status}",
        f"The {what} {resource_id} is {status}; retry to create a new one.",
    )


# --- publish -------------------------------------------------------------------------------------


def create_load_balancer(ctx: Context) -> Wait | None:
    service = ctx.record
    if service.nlb_id:
        return None
    zones = [
        (zone.zone_id, zone.vswitch.vswitch_id) for zone in service.zones.select_related("vswitch")
    ]
    result = ctx.cloud.nlb.create_load_balancer(
        name=f"plp-{service.name}",
        vpc_id=service.vpc.vpc_id,
        zones=zones,
        tags=_tags(ctx),
        client_token=service.client_token("nlb"),
    )
    # CreateLoadBalancer answers `LoadbalancerId`, lower-case b (docs/cloud-api.md).
    nlb_id = result["LoadbalancerId"]
    ctx.remember(
        nlb_id=nlb_id,
        verb="created load balancer",
        detail=f"CreateLoadBalancer → {nlb_id}",
        cloud_request_id=result.request_id,
    )
    return None


def load_balancer_active(ctx: Context) -> Wait | None:
    nlb_id = ctx.record.nlb_id
    try:
        status = listings.read(ctx, listings.LOAD_BALANCERS, nlb_id).get("LoadBalancerStatus")
    except CloudNotFound:
        status = "Deleted"
        waiting = not_visible_yet(ctx, "load balancer", nlb_id, "CreateLoadBalancer")
        if waiting is not None:
            return waiting
    if status == "Active":
        return None
    if status in ("CreateFailed", "Deleting", "Deleted"):
        _discard(ctx, "nlb_id", "load balancer", status)
    return Wait(f"load balancer {status}", operation="CreateLoadBalancer")


def create_server_group(ctx: Context) -> Wait | None:
    service = ctx.record
    if service.server_group_id:
        return None
    result = ctx.cloud.nlb.create_server_group(
        name=f"plp-{service.name}",
        vpc_id=service.vpc.vpc_id,
        protocol=service.listener_protocol,
        tags=_tags(ctx),
        client_token=service.client_token("server-group"),
    )
    group_id = result["ServerGroupId"]
    ctx.remember(
        server_group_id=group_id,
        verb="created server group",
        detail=f"CreateServerGroup → {group_id}",
        cloud_request_id=result.request_id,
    )
    return None


def server_group_available(ctx: Context) -> Wait | None:
    group_id = ctx.record.server_group_id
    group = ctx.cloud.nlb.get_server_group(group_id)
    if group is None:
        waiting = not_visible_yet(ctx, "server group", group_id, "CreateServerGroup")
        if waiting is not None:
            return waiting
        _discard(ctx, "server_group_id", "server group", "Deleted")
    status = group.get("ServerGroupStatus")
    if status == "Available":
        return None
    return Wait(f"server group {status}", operation="CreateServerGroup")


def add_backends(ctx: Context) -> Wait | None:
    service = ctx.record
    present = {
        (s["ServerId"], int(s["Port"])) for s in ctx.cloud.nlb.list_servers(service.server_group_id)
    }
    missing = [
        (backend.instance.instance_id, backend.port, backend.weight)
        for backend in service.backends.select_related("instance")
        if (backend.instance.instance_id, backend.port) not in present
    ]
    if not missing:
        return None
    # The token names this exact set: a later call for other servers is a different request.
    fingerprint = hashlib.sha256(repr(sorted(missing)).encode()).hexdigest()[:12]
    result = ctx.cloud.nlb.add_servers(
        service.server_group_id,
        missing,
        client_token=service.client_token(f"servers-{fingerprint}"),
    )
    added = ", ".join(f"{server}:{port} w{weight}" for server, port, weight in missing)
    ctx.event("added backends", f"AddServersToServerGroup {added}", result.request_id)
    return None


def backends_available(ctx: Context) -> Wait | None:
    servers = ctx.cloud.nlb.list_servers(ctx.record.server_group_id)
    busy = [s["ServerId"] for s in servers if s.get("Status") != "Available"]
    if not busy:
        return None
    return Wait(f"backends {', '.join(busy)} being added", operation="AddServersToServerGroup")


def create_listener(ctx: Context) -> Wait | None:
    service = ctx.record
    if service.listener_id:
        return None
    result = ctx.cloud.nlb.create_listener(
        nlb_id=service.nlb_id,
        server_group_id=service.server_group_id,
        protocol=service.listener_protocol,
        port=service.listener_port,
        tags=_tags(ctx),
        client_token=service.client_token("listener"),
    )
    listener_id = result["ListenerId"]
    port = f"{service.listener_protocol}:{service.listener_port}"
    ctx.remember(
        listener_id=listener_id,
        verb="created listener",
        detail=f"CreateListener {port} → {listener_id}",
        cloud_request_id=result.request_id,
    )
    return None


def listener_running(ctx: Context) -> Wait | None:
    listener_id = ctx.record.listener_id
    try:
        status = listings.read(ctx, listings.LISTENERS, listener_id).get("ListenerStatus")
    except CloudNotFound:
        status = "Deleted"
        waiting = not_visible_yet(ctx, "listener", listener_id, "CreateListener")
        if waiting is not None:
            return waiting
    if status in ("Deleting", "Deleted"):
        _discard(ctx, "listener_id", "listener", status)
    return None if status == "Running" else Wait(f"listener {status}", operation="CreateListener")


def create_endpoint_service(ctx: Context) -> Wait | None:
    service = ctx.record
    if service.endpoint_service_id:
        return None
    result = ctx.cloud.privatelink.create_endpoint_service(
        nlb_id=service.nlb_id,
        zones=service.zone_ids,
        auto_accept=service.auto_accept,
        description=service.description,
        tags=_tags(ctx),
        client_token=service.client_token("endpoint-service"),
    )
    service_id = result["ServiceId"]
    ctx.remember(
        endpoint_service_id=service_id,
        endpoint_service_name=result.get("ServiceName") or "",
        verb="created endpoint service",
        detail=f"CreateVpcEndpointService → {service_id}",
        cloud_request_id=result.request_id,
    )
    return None


def endpoint_service_active(ctx: Context) -> Wait | None:
    service_id = ctx.record.endpoint_service_id
    try:
        status = listings.read(ctx, listings.ENDPOINT_SERVICES, service_id).get("ServiceStatus")
    except CloudNotFound:
        status = "Deleting"
        waiting = not_visible_yet(ctx, "endpoint service", service_id, "CreateVpcEndpointService")
        if waiting is not None:
            return waiting
    if status == "Deleting":
        _discard(ctx, "endpoint_service_id", "endpoint service", status)
    if status == "Active":
        return None
    return Wait(f"endpoint service {status}", operation="CreateVpcEndpointService")


def mark_available(ctx: Context) -> Wait | None:
    ctx.finish(
        ServiceState.AVAILABLE,
        verb="published",
        detail=gettext_noop("load balancer, listener and endpoint service ready"),
    )
    return None


class PublishWorkflow(ServiceWorkflow):
    name = SERVICE_WORKFLOWS[ServiceState.PROVISIONING]
    former_task_name = "connections.publish_service"
    running_states = frozenset({ServiceState.PROVISIONING})
    steps = [
        Step("create_load_balancer", create_load_balancer),
        Step("load_balancer_active", load_balancer_active),
        Step("create_server_group", create_server_group),
        Step("server_group_available", server_group_available),
        Step("add_backends", add_backends),
        Step("backends_available", backends_available),
        Step("create_listener", create_listener),
        Step("listener_running", listener_running),
        Step("create_endpoint_service", create_endpoint_service),
        Step("endpoint_service_active", endpoint_service_active),
        Step("mark_available", mark_available),
    ]
    # The seed's console steps 1–4.
    stages = (
        (gettext_lazy("1. Load balancer"), "load_balancer_active"),
        (gettext_lazy("2. Server group and backends"), "backends_available"),
        (gettext_lazy("3. Listener"), "listener_running"),
        (gettext_lazy("4. Endpoint service"), "endpoint_service_active"),
    )


# --- configure (settings changed on an available service) ---------------------------------------


def auto_accept_applied(ctx: Context) -> Wait | None:
    """The cloud accepts endpoints by itself exactly when the portal says the service does: an
    endpoint service left auto-accepting would connect endpoints no owner approved."""
    service, api = ctx.record, ctx.cloud.privatelink
    attributes = api.get_endpoint_service(service.endpoint_service_id)
    if attributes.get("ServiceStatus") != "Active":
        return Wait(
            f"endpoint service {attributes.get('ServiceStatus')}",
            operation="UpdateVpcEndpointServiceAttribute",
        )
    if bool(attributes.get("AutoAcceptEnabled")) == service.auto_accept:
        return None
    result = api.update_endpoint_service(
        service.endpoint_service_id, auto_accept=service.auto_accept
    )
    state = "on" if service.auto_accept else "off"
    ctx.event(
        "changed auto-accept", f"UpdateVpcEndpointServiceAttribute {state}", result.request_id
    )
    return None


def configured(ctx: Context) -> Wait | None:
    if ctx.record.failed_phase == ConfigureWorkflow.name:
        ctx.remember(verb="configured", detail=gettext_noop("after an earlier failure"), **NO_ERROR)
    return None


class ConfigureWorkflow(ServiceWorkflow):
    """Applies an owner's change of settings in the cloud; the service stays available, and a
    failure is recorded on it (with Retry) without taking it down."""

    name = CONFIGURE_WORKFLOW
    former_task_name = "connections.configure_service"

    def applying(self, service) -> bool:
        """An owner's change of settings not yet applied to the cloud, or whose application
        failed: the portal's settings are ahead of the cloud's. (A chain clears `progress` when
        it starts; the last step's name is written when it ends.)"""
        unfinished = ["", *(step.name for step in self.steps[:-1])]
        return service.progress in unfinished or service.failed_phase == self.name

    running_states = frozenset({ServiceState.AVAILABLE})
    failed_state = None
    steps = [
        Step("auto_accept_applied", auto_accept_applied),
        # Named apart from publish's step of the same work: the reconciler tells them apart.
        Step("settings_active", endpoint_service_active),
        Step("configured", configured),
    ]


PUBLISH = PublishWorkflow()
CONFIGURE = ConfigureWorkflow()
