"""Publish (seed steps 1–4) and retire a service: NLB → server group → backends → listener →
endpoint service, and back down in dependency order."""

from __future__ import annotations

from django.db.models import Q

from connections.choices import MANAGED_BY_TAG, REQUEST_LIVE, SERVICE_TAG_KEY, ServiceState
from connections.cloud import CloudNotFound
from connections.models import PublishedService
from connections.states import transition
from connections.workflows.runner import Context, Step, StepFailed, Wait, Workflow


def service_tags(service: PublishedService) -> list[dict]:
    return [
        {"Key": MANAGED_BY_TAG[0], "Value": MANAGED_BY_TAG[1]},
        {"Key": SERVICE_TAG_KEY, "Value": str(service.pk)},
    ]


class ServiceWorkflow(Workflow):
    model = PublishedService

    def account_of(self, record):
        return record.account

    def fail(self, ctx: Context, code: str, message: str, cloud_request_id: str) -> None:
        transition(
            ctx.record,
            ServiceState.FAILED,
            verb="failed",
            detail=f"{self.name}: {code}: {message}",
            cloud_request_id=cloud_request_id,
            failed_phase=self.name,
            last_error_code=code,
            last_error_message=message,
        )


# --- publish --------------------------------------------------------------------------------------


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
        tags=service_tags(service),
        client_token=service.client_token("nlb"),
    )
    # CreateLoadBalancer answers `LoadbalancerId`, lower-case b (CLOUD-API.md).
    ctx.save(nlb_id=result["LoadbalancerId"])
    ctx.event("created load balancer", f"CreateLoadBalancer → {service.nlb_id}", result.request_id)
    return None


def load_balancer_active(ctx: Context) -> Wait | None:
    status = ctx.cloud.nlb.get_load_balancer(ctx.record.nlb_id).get("LoadBalancerStatus")
    if status == "Active":
        return None
    if status in ("CreateFailed", "Deleting", "Deleted"):
        raise StepFailed(
            f"LoadBalancer.{status}", f"The load balancer {ctx.record.nlb_id} is {status}."
        )
    return Wait(f"load balancer {status}")


def create_server_group(ctx: Context) -> Wait | None:
    service = ctx.record
    if service.server_group_id:
        return None
    result = ctx.cloud.nlb.create_server_group(
        name=f"plp-{service.name}",
        vpc_id=service.vpc.vpc_id,
        protocol=service.listener_protocol,
        tags=service_tags(service),
        client_token=service.client_token("server-group"),
    )
    ctx.save(server_group_id=result["ServerGroupId"])
    ctx.event(
        "created server group", f"CreateServerGroup → {service.server_group_id}", result.request_id
    )
    return None


def server_group_available(ctx: Context) -> Wait | None:
    group = ctx.cloud.nlb.get_server_group(ctx.record.server_group_id)
    status = group.get("ServerGroupStatus") if group else "not listed yet"
    return None if status == "Available" else Wait(f"server group {status}")


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
    result = ctx.cloud.nlb.add_servers(
        service.server_group_id, missing, client_token=service.client_token("servers")
    )
    added = ", ".join(f"{server}:{port} w{weight}" for server, port, weight in missing)
    ctx.event("added backends", f"AddServersToServerGroup {added}", result.request_id)
    return None


def backends_available(ctx: Context) -> Wait | None:
    servers = ctx.cloud.nlb.list_servers(ctx.record.server_group_id)
    busy = [s["ServerId"] for s in servers if s.get("Status") != "Available"]
    return Wait(f"backends {', '.join(busy)} being added") if busy else None


def create_listener(ctx: Context) -> Wait | None:
    service = ctx.record
    if service.listener_id:
        return None
    result = ctx.cloud.nlb.create_listener(
        nlb_id=service.nlb_id,
        server_group_id=service.server_group_id,
        protocol=service.listener_protocol,
        port=service.listener_port,
        tags=service_tags(service),
        client_token=service.client_token("listener"),
    )
    ctx.save(listener_id=result["ListenerId"])
    port = f"{service.listener_protocol}:{service.listener_port}"
    detail = f"CreateListener {port} → {service.listener_id}"
    ctx.event("created listener", detail, result.request_id)
    return None


def listener_running(ctx: Context) -> Wait | None:
    status = ctx.cloud.nlb.get_listener(ctx.record.listener_id).get("ListenerStatus")
    return None if status == "Running" else Wait(f"listener {status}")


def create_endpoint_service(ctx: Context) -> Wait | None:
    service = ctx.record
    if service.endpoint_service_id:
        return None
    result = ctx.cloud.privatelink.create_endpoint_service(
        nlb_id=service.nlb_id,
        zones=service.zone_ids,
        auto_accept=service.auto_accept,
        description=service.description,
        tags=service_tags(service),
        client_token=service.client_token("endpoint-service"),
    )
    ctx.save(
        endpoint_service_id=result["ServiceId"],
        endpoint_service_name=result.get("ServiceName") or "",
    )
    detail = f"CreateVpcEndpointService → {service.endpoint_service_id}"
    ctx.event("created endpoint service", detail, result.request_id)
    return None


def endpoint_service_active(ctx: Context) -> Wait | None:
    status = ctx.cloud.privatelink.get_endpoint_service(ctx.record.endpoint_service_id).get(
        "ServiceStatus"
    )
    return None if status == "Active" else Wait(f"endpoint service {status}")


def mark_available(ctx: Context) -> Wait | None:
    transition(
        ctx.record,
        ServiceState.AVAILABLE,
        verb="published",
        detail="steps 1–4 done",
        last_error_code="",
    )
    return None


class PublishWorkflow(ServiceWorkflow):
    name = "publish"
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

    @property
    def task(self):
        from connections.tasks import publish_service

        return publish_service


# --- retire ---------------------------------------------------------------------------------------


def requests_closed(ctx: Context) -> Wait | None:
    """The endpoint service can only go once no endpoint is connected to it."""
    open_requests = ctx.record.requests.filter(
        Q(state__in=REQUEST_LIVE) | Q(endpoint_id__gt="", endpoint_deleted_at__isnull=True)
    ).count()
    return Wait(f"{open_requests} connection(s) still being closed") if open_requests else None


def endpoint_service_gone(ctx: Context) -> Wait | None:
    service_id = ctx.record.endpoint_service_id
    if not service_id:
        return None
    api = ctx.cloud.privatelink
    try:
        status = api.get_endpoint_service(service_id).get("ServiceStatus")
        if status != "Deleting":
            result = api.delete_endpoint_service(service_id)
            ctx.event(
                "deleting endpoint service",
                f"DeleteVpcEndpointService {service_id}",
                result.request_id,
            )
    except CloudNotFound:
        return None
    return Wait("endpoint service deleting")


def listener_gone(ctx: Context) -> Wait | None:
    listener_id = ctx.record.listener_id
    if not listener_id:
        return None
    api = ctx.cloud.nlb
    try:
        status = api.get_listener(listener_id).get("ListenerStatus")
        if status == "Deleted":
            return None
        if status != "Deleting":
            result = api.delete_listener(
                listener_id, client_token=ctx.record.client_token("delete-listener")
            )
            ctx.event("deleting listener", f"DeleteListener {listener_id}", result.request_id)
    except CloudNotFound:
        return None
    return Wait("listener deleting")


def server_group_gone(ctx: Context) -> Wait | None:
    group_id = ctx.record.server_group_id
    if not group_id:
        return None
    api = ctx.cloud.nlb
    group = api.get_server_group(group_id)
    if group is None:
        return None
    if group.get("ServerGroupStatus") != "Deleting":
        try:
            result = api.delete_server_group(
                group_id, client_token=ctx.record.client_token("delete-sgp")
            )
        except CloudNotFound:
            return None
        ctx.event("deleting server group", f"DeleteServerGroup {group_id}", result.request_id)
    return Wait("server group deleting")


def load_balancer_gone(ctx: Context) -> Wait | None:
    nlb_id = ctx.record.nlb_id
    if not nlb_id:
        return None
    api = ctx.cloud.nlb
    try:
        status = api.get_load_balancer(nlb_id).get("LoadBalancerStatus")
        if status == "Deleted":
            return None
        if status != "Deleting":
            result = api.delete_load_balancer(
                nlb_id, client_token=ctx.record.client_token("delete-nlb")
            )
            ctx.event("deleting load balancer", f"DeleteLoadBalancer {nlb_id}", result.request_id)
    except CloudNotFound:
        return None
    return Wait("load balancer deleting")


def mark_retired(ctx: Context) -> Wait | None:
    transition(ctx.record, ServiceState.RETIRED, verb="retired", detail="everything torn down")
    return None


class RetireWorkflow(ServiceWorkflow):
    name = "retire"
    running_states = frozenset({ServiceState.RETIRING})
    steps = [
        Step("requests_closed", requests_closed),
        Step("endpoint_service_gone", endpoint_service_gone),
        Step("listener_gone", listener_gone),
        Step("server_group_gone", server_group_gone),
        Step("load_balancer_gone", load_balancer_gone),
        Step("mark_retired", mark_retired),
    ]

    @property
    def task(self):
        from connections.tasks import retire_service

        return retire_service


PUBLISH = PublishWorkflow()
RETIRE = RetireWorkflow()
