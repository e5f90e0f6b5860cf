"""Endpoint connections: the provider's view of the endpoints made to its services, and its
answer to each (seed step 6).

Rules, from each operation's API reference unless said otherwise; codes from the metadata:
- An endpoint that is not connected to the named service: `EndpointConnectionNotFound`.
- EnableVpcEndpointConnection accepts a Disconnected connection (one waiting, or one rejected
  before) of an Active endpoint: Connecting, then Connected. It needs a service resource in the
  endpoint's zones (`OperationDenied.NoAvailableServiceResource`). DisableVpcEndpointConnection
  takes a Connecting or Connected one to Disconnecting, then Disconnected. Another status is
  refused with `EndpointConnectionOperationDenied` (the Terraform provider retries it: it means
  "not now"), an endpoint that is not Active with `EndpointOperationDenied`.
- None of the three changes may overlap another of its kind in the same account ("does not
  support … concurrently within one Alibaba Cloud account"): `ConcurrentCallNotSupported`
  (cloudsim/metadata/additions.json), for as long as the change takes.
- UpdateVpcEndpointConnectionAttribute changes a Connected connection's bandwidth; the
  connection is Pending ("being modified") meanwhile.
"""

from __future__ import annotations

from typing import Any

from cloudsim.errors import ApiError
from cloudsim.products.base import Context, require
from cloudsim.products.privatelink.common import (
    CONCURRENT,
    CONNECTION_NOT_FOUND,
    ENDPOINT,
    PRODUCT,
    SERVICE,
    paged,
    service_of,
    service_zones,
    set_connection,
)
from cloudsim.store import Record


def _connection(ctx: Context) -> tuple[Record, Record]:
    service = service_of(ctx)
    endpoint_id = ctx.params.req("EndpointId")
    endpoint = ctx.store.get(ENDPOINT, endpoint_id)
    if endpoint is None or endpoint["ServiceId"] != service["_id"]:
        raise ApiError(
            CONNECTION_NOT_FOUND,
            f"The endpoint {endpoint_id!r} has no connection to {service['_id']}.",
        )
    return service, endpoint


def _connection_is(
    endpoint: Record,
    allowed: tuple[str, ...],
    endpoint_code: str = "EndpointConnectionOperationDenied",
) -> None:
    """The endpoint Active and its connection in one of `allowed`. An endpoint that is not
    Active is refused with `endpoint_code`: EnableVpcEndpointConnection's metadata lists
    EndpointOperationDenied, the other connection operations only
    EndpointConnectionOperationDenied."""
    require(endpoint, "EndpointStatus", ("Active",), endpoint_code, "endpoint")
    require(
        endpoint,
        "ConnectionStatus",
        allowed,
        "EndpointConnectionOperationDenied",
        "endpoint connection",
    )


def _one_at_a_time(ctx: Context, operation: str, what: str) -> None:
    ctx.exclusive(
        f"{operation}:{ctx.uid}", operation, CONCURRENT, f"Another {what} of account {ctx.uid}"
    )


@PRODUCT.action("EnableVpcEndpointConnection", write=True)
def enable_connection(ctx: Context) -> dict[str, Any]:
    service, endpoint = _connection(ctx)
    bandwidth = ctx.params.integer("Bandwidth", low=100, high=10240)
    _connection_is(endpoint, ("Disconnected",), "EndpointOperationDenied")
    offered = set(service_zones(service))
    if not any(zone["ZoneId"] in offered for zone in endpoint["Zones"]):
        raise ApiError(
            "OperationDenied.NoAvailableServiceResource",
            f"The endpoint service {service['_id']} has no resource in the zones of "
            f"{endpoint['_id']}.",
        )
    ctx.dry_run_passes()
    _one_at_a_time(ctx, "EnableVpcEndpointConnection", "acceptance of an endpoint connection")
    if bandwidth is not None:
        endpoint["Bandwidth"] = bandwidth
    ctx.store.cancel(endpoint)
    set_connection(ctx.store, endpoint, "Connecting", "Connecting")
    ctx.store.schedule(
        endpoint, [(ctx.store.delay("EnableVpcEndpointConnection"), "pl.connection", "Connected")]
    )
    return {}


@PRODUCT.action("DisableVpcEndpointConnection", write=True)
def disable_connection(ctx: Context) -> dict[str, Any]:
    _, endpoint = _connection(ctx)
    _connection_is(endpoint, ("Connecting", "Connected"))
    ctx.dry_run_passes()
    _one_at_a_time(ctx, "DisableVpcEndpointConnection", "rejection of an endpoint connection")
    ctx.store.cancel(endpoint)
    set_connection(ctx.store, endpoint, "Disconnecting", "Disconnecting")
    ctx.store.schedule(
        endpoint,
        [(ctx.store.delay("DisableVpcEndpointConnection"), "pl.connection", "Disconnected")],
    )
    return {}


@PRODUCT.action("UpdateVpcEndpointConnectionAttribute", write=True)
def update_connection_attribute(ctx: Context) -> dict[str, Any]:
    _, endpoint = _connection(ctx)
    bandwidth = ctx.params.integer("Bandwidth", required=True, low=100, high=10240)
    _connection_is(endpoint, ("Connected",))
    ctx.dry_run_passes()
    _one_at_a_time(ctx, "UpdateVpcEndpointConnectionAttribute", "change of a connection")
    endpoint["Bandwidth"] = bandwidth
    endpoint["ConnectionStatus"] = "Pending"
    ctx.store.schedule(
        endpoint,
        [
            (
                ctx.store.delay("UpdateVpcEndpointConnectionAttribute"),
                "set",
                {"ConnectionStatus": "Connected"},
            )
        ],
    )
    return {}


@PRODUCT.action("ListVpcEndpointConnections")
def list_vpc_endpoint_connections(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    service_id = p.text("ServiceId")
    if service_id is not None:
        services = {service_id: service_of(ctx)}
    else:
        services = {s["_id"]: s for s in ctx.listed(SERVICE)}
    endpoint_id, status = p.text("EndpointId"), p.text("ConnectionStatus")
    owner = p.integer("EndpointOwnerId", low=0)
    rows = []
    for endpoint in ctx.store.all(ENDPOINT):
        service = services.get(endpoint["ServiceId"])
        if service is None or endpoint_id not in (None, endpoint["EndpointId"]):
            continue
        if status not in (None, endpoint["ConnectionStatus"]) or not ctx.store.visible(endpoint):
            continue
        if owner is not None and int(endpoint["_owner"]) != owner:
            continue
        rows.append(_row(ctx, service, endpoint))
    return paged(ctx, rows, "Connections", total_as_text=True)


def _row(ctx: Context, service: Record, endpoint: Record) -> dict[str, Any]:
    zone_resource = {r["ZoneId"]: r["ResourceId"] for r in service["Resources"]}
    return {
        "EndpointId": endpoint["EndpointId"],
        "EndpointOwnerId": int(endpoint["_owner"]),
        "EndpointVpcId": endpoint["VpcId"],
        "EndpointRegionId": ctx.region,
        "ServiceId": service["_id"],
        "ServiceRegionId": ctx.region,
        "ConnectionStatus": endpoint["ConnectionStatus"],
        "Bandwidth": endpoint["Bandwidth"],
        "ModifiedTime": endpoint.get("_modified") or endpoint["CreateTime"],
        "ResourceOwner": endpoint["_owner"] == service["_owner"],
        "ResourceGroupId": service["ResourceGroupId"],
        "TrafficControlMode": "Normal",
        "Zones": [
            {
                "ZoneId": zone["ZoneId"],
                "VSwitchId": zone["VSwitchId"],
                "EniId": zone["EniId"],
                "ZoneDomain": zone["ZoneDomain"],
                "ZoneStatus": zone["ZoneStatus"],
                "ResourceId": zone_resource.get(zone["ZoneId"], ""),
                "ReplacedEniId": "",
                "ReplacedResourceId": "",
            }
            for zone in endpoint["Zones"]
        ],
    }
