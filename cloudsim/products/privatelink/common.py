"""What PrivateLink's operations share: names, lookups, paging and the connection's statuses.

Statuses (the API reference's response fields):
- endpoint service `ServiceStatus`: Creating → Active; Pending while it is being changed;
  Deleting → gone;
- endpoint `EndpointStatus`: Creating → Active; Pending while a zone is added or removed;
  Deleting → gone;
- `ConnectionStatus`: Disconnected while the endpoint is made and while it waits for the
  provider ("After you create an endpoint that is associated with the endpoint service, the
  endpoint connection is in the Disconnected state", the console guide "Manage endpoint
  connections"); Connecting → Connected once accepted (at once with auto-accept);
  Disconnecting → Disconnected when rejected; Pending while the connection is being changed
  (a bandwidth change: "Pending: 修改中", the API reference); Deleting with its endpoint;
  ServiceDeleted once the service is gone;
- each endpoint zone's `ZoneStatus` (ListVpcEndpointZones): Creating → Wait ("waiting to be
  connected") → Connecting → Connected; Disconnecting → Disconnected; Deleting → gone.
"""

from __future__ import annotations

from typing import Any

from cloudsim.products.base import Context, NetworkCodes, Product, page
from cloudsim.store import Record, Store

PRODUCT = Product("privatelink", "2020-04-15", "privatelink")

SERVICE = "vpcendpointservice"
ENDPOINT = "vpcendpoint"
SERVICE_NOT_FOUND = "EndpointServiceNotFound"
ENDPOINT_NOT_FOUND = "EndpointNotFound"
CONNECTION_NOT_FOUND = "EndpointConnectionNotFound"
CONCURRENT = "ConcurrentCallNotSupported"

# The List… operations' MaxResults: the SDK's models and the API reference say 1 to 50 (default
# 50); the metadata's schemas allow up to 1,000. The stricter reading is kept.
PAGE_LIMIT = 50
PAGE_DEFAULT = 50

# CreateVpcEndpoint's and AddZoneToVpcEndpoint's metadata: VpcNotFound, VSwitchNotFound, and
# EndpointServiceNotSupportedZone for a zone the service (or PrivateLink) does not offer.
NETWORK = NetworkCodes(
    vpc_not_found=("VpcNotFound", 400),
    vswitch_not_found=("VSwitchNotFound", 400),
    vswitch_zone_mismatch=("VSwitchNotFound", 400),
    zone_not_supported=("EndpointServiceNotSupportedZone", 400),
)

SERVICE_LINKED_ROLE = ("privatelink.aliyuncs.com", "AliyunServiceRoleForPrivatelink")


def service_of(ctx: Context) -> Record:
    return ctx.owned(SERVICE, ctx.params.req("ServiceId"), SERVICE_NOT_FOUND, "endpoint service")


def endpoint_of(ctx: Context) -> Record:
    return ctx.owned(ENDPOINT, ctx.params.req("EndpointId"), ENDPOINT_NOT_FOUND, "endpoint")


def service_zones(service: Record) -> list[str]:
    return sorted({resource["ZoneId"] for resource in service["Resources"]})


def may_use(service: Record, uid: str) -> bool:
    """The owner, and the accounts on the service's whitelist (by UID or by ARN)."""
    if uid == service["_owner"] or uid in service["Users"]:
        return True
    return any(arn.split(":")[3] in (uid, "*") for arn in service["UserARNs"])


def paged(ctx: Context, items: list[Any], key: str, total_as_text: bool) -> dict[str, Any]:
    """A page of a List… answer. Some models type TotalCount as a string (the SDK's models):
    ListVpcEndpointConnections, ListVpcEndpointServiceUsers, ListVpcEndpointServicesByEndUser."""
    rows, paging = page(ctx, items, PAGE_LIMIT, PAGE_DEFAULT)
    total: Any = str(len(items)) if total_as_text else len(items)
    return {key: rows, "TotalCount": total, **paging}


def set_connection(store: Store, endpoint: Record, status: str, zone_status: str) -> None:
    """The connection's status, and every zone's that is not being removed."""
    endpoint["ConnectionStatus"] = status
    endpoint["_modified"] = store.iso()
    for zone in endpoint["Zones"]:
        if zone["ZoneStatus"] != "Deleting":
            zone["ZoneStatus"] = zone_status


def tags_of(record: Record) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in record.get("Tags", {}).items()]


def pick(record: Record, fields: tuple[str, ...]) -> dict[str, Any]:
    return {field: record[field] for field in fields if field in record}


def locked(record: Record, field: str) -> bool:
    return record.get(field) == "FinancialLocked"


def describe(ctx: Context) -> str:
    """Who is calling, for messages."""
    return ctx.identity.arn
