"""Endpoint services (seed step 4): their service resources, their whitelist, their teardown.

Rules, each from the operation's API reference (its description in Alibaba's metadata) unless
said otherwise; the codes are the metadata's (cloudsim/metadata/privatelink.json):
- CreateVpcEndpointService needs PrivateLink activated in the account (`NeedOpenProduct`), and
  each resource an existing intranet load balancer (`LoadBalancerNotFound`,
  `LoadBalancerNotSupportPrivateLink`) in a zone PrivateLink supports
  (`EndpointServiceNotSupportedZone`), of the service's resource type (`Mismatch.ResourceType`).
- Changes need the service Active ("make sure that the endpoint service is in the Active
  state"): `EndpointServiceOperationDenied`; a financially locked one refuses attribute changes
  with `EndpointServiceLocked`.
- No concurrent calls (`ConcurrentCallNotSupported`, cloudsim/metadata/additions.json): attribute
  changes, deletions and whitelist additions per account; resource attachments, detachments and
  whitelist removals per service. A call holds its scope while its change is under way.
- Resources are detached asynchronously: a detached resource stays listed by
  ListVpcEndpointServiceResources until the change is done.
- DeleteVpcEndpointService: "disconnect the endpoint connections and remove the service
  resources first": `EndpointServiceConnectionDependence` while an endpoint's connection is
  Connecting, Connected, Disconnecting or Pending, `DeleteFailedDueToEndpointExist` while an
  endpoint is still being created (it would connect), `EndpointServiceDependenceViolation` while
  a resource is attached. Endpoints left Disconnected outlive the service as ServiceDeleted (the
  ConnectionStatus value the API reference documents for them).
"""

from __future__ import annotations

import re
from typing import Any

from cloudsim import ids
from cloudsim.errors import ApiError, invalid, not_found
from cloudsim.products.base import Context, check_zone, matches_tags, require, resource_group
from cloudsim.products.privatelink.common import (
    CONCURRENT,
    ENDPOINT,
    NETWORK,
    PRODUCT,
    SERVICE,
    locked,
    may_use,
    paged,
    pick,
    service_of,
    service_zones,
    tags_of,
)
from cloudsim.store import Record, Store, effect

# The service's fields as GetVpcEndpointServiceAttribute and ListVpcEndpointServices show them.
SERVICE_FIELDS = (
    "AddressIpVersion", "AutoAcceptEnabled", "ConnectBandwidth", "CreateTime", "MaxBandwidth",
    "MinBandwidth", "Payer", "RegionId", "ResourceGroupId", "ServiceBusinessStatus",
    "ServiceDescription", "ServiceDomain", "ServiceId", "ServiceName", "ServiceResourceType",
    "ServiceStatus", "ServiceSupportIPv6", "ServiceType", "SupportedRegionSet",
    "ZoneAffinityEnabled",
)  # fmt: skip
# What CreateVpcEndpointService answers (its response model).
CREATED_FIELDS = (
    "AddressIpVersion", "AutoAcceptEnabled", "CreateTime", "ResourceGroupId",
    "ServiceBusinessStatus", "ServiceDescription", "ServiceDomain", "ServiceId", "ServiceName",
    "ServiceStatus", "ServiceSupportIPv6", "SupportedRegionSet", "ZoneAffinityEnabled",
)  # fmt: skip
# Connection statuses that keep a service (DeleteVpcEndpointService) or a resource
# (DetachResourceFromVpcEndpointService) in use.
IN_USE = ("Pending", "Connecting", "Connected", "Disconnecting")


def _settle(ctx: Context, service: Record, during: str, operation: str) -> None:
    """The service is `during` (Creating, Pending) now, and Active after the operation's delay."""
    service["ServiceStatus"] = during
    ctx.store.schedule(service, [(ctx.store.delay(operation), "set", {"ServiceStatus": "Active"})])


def _require_active(service: Record) -> None:
    require(
        service, "ServiceStatus", ("Active",), "EndpointServiceOperationDenied", "endpoint service"
    )


def _resources(ctx: Context, entries: list[dict[str, str]], resource_type: str) -> list[dict]:
    """The service resources `entries` name: one per zone of each load balancer."""
    resources = []
    for position, entry in enumerate(entries, start=1):
        where = f"Resource.{position}"
        resource_id = entry.get("ResourceId") or ""
        if not resource_id:
            raise ApiError("MissingParam.ResourceId", f"{where}.ResourceId is mandatory.")
        given_type = (entry.get("ResourceType") or resource_type).lower()
        if given_type != resource_type:
            raise ApiError(
                "Mismatch.ResourceType",
                f"{where}.ResourceType {given_type!r} is not the service's {resource_type!r}.",
            )
        if given_type != "nlb":
            raise ApiError(
                "LoadBalancerNotSupportPrivateLink",
                f"{where}: cloudsim serves endpoint services of NLB resources only.",
            )
        resources.extend(_load_balancer_zones(ctx, resource_id, entry.get("ZoneId") or "", where))
    return resources


def _load_balancer_zones(ctx: Context, nlb_id: str, zone_id: str, where: str) -> list[dict]:
    lb = ctx.store.get("loadbalancer", nlb_id, owner=ctx.uid)
    if lb is None or lb["LoadBalancerStatus"] in ("Deleting", "CreateFailed"):
        raise ApiError("LoadBalancerNotFound", f"The load balancer {nlb_id!r} does not exist.")
    if lb["AddressType"] != "Intranet" or lb["LoadBalancerStatus"] != "Active":
        raise ApiError(
            "LoadBalancerNotSupportPrivateLink",
            f"The load balancer {nlb_id} is an {lb['AddressType']} NLB, "
            f"{lb['LoadBalancerStatus']}: an endpoint service needs an Active intranet NLB.",
        )
    for other in ctx.store.all(SERVICE):
        if any(res["ResourceId"] == nlb_id for res in other["Resources"]):
            raise ApiError(
                "EndpointServiceResourceExist",
                f"The load balancer {nlb_id} already backs endpoint service {other['ServiceId']}.",
            )
    mappings = lb["ZoneMappings"]
    if zone_id:
        mappings = [m for m in mappings if m["ZoneId"] == zone_id]
        if not mappings:
            raise invalid(f"{where}.ZoneId", f"{nlb_id} is not deployed in {zone_id}")
    resources = []
    for mapping in mappings:
        check_zone(ctx, NETWORK, mapping["ZoneId"], f"{where}.ZoneId")
        resources.append(
            {
                "ResourceId": nlb_id,
                "ResourceType": "nlb",
                "ZoneId": mapping["ZoneId"],
                "VSwitchId": mapping["VSwitchId"],
                "VpcId": lb["VpcId"],
                "Ip": mapping["LoadBalancerAddresses"][0]["PrivateIPv4Address"],
            }
        )
    return resources


# -- the service ----------------------------------------------------------------------------------


@PRODUCT.action("CreateVpcEndpointService", write=True)
def create_vpc_endpoint_service(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    if not ctx.store.account(ctx.uid)["privatelink_activated"]:
        raise ApiError(
            "NeedOpenProduct",
            "The product is not activated. Activate PrivateLink (OpenPrivateLinkService, or the "
            "console) before you create an endpoint service.",
        )
    entries = p.objects("Resource")
    # Without ServiceResourceType the resources say what they are.
    implied = (entries[0].get("ResourceType") or "slb").lower() if entries else "slb"
    resource_type = p.text("ServiceResourceType", default=implied, choices=("slb", "alb", "nlb"))
    resources = _resources(ctx, entries, resource_type)
    auto_accept = p.boolean("AutoAcceptEnabled", False)
    affinity = p.boolean("ZoneAffinityEnabled", False)
    description = p.text("ServiceDescription", default="")
    payer = p.text("Payer", default="Endpoint", choices=("Endpoint", "EndpointService"))
    ip_version = p.text("AddressIpVersion", default="IPv4", choices=("IPv4", "DualStack"))
    tags = p.tags()
    ctx.dry_run_passes()
    service_id = ids.new("epsrv", 20)
    record = ctx.store.create(
        SERVICE,
        service_id,
        ctx.uid,
        {
            "ServiceId": service_id,
            "ServiceName": f"com.aliyuncs.privatelink.{ctx.region}.{service_id}",
            "ServiceDomain": f"{service_id}.{ctx.region}.privatelink.aliyuncs.com",
            "ServiceDescription": description,
            "ServiceStatus": "Creating",
            "ServiceBusinessStatus": "Normal",
            "ServiceType": "Interface",
            "ServiceResourceType": resource_type,
            "AutoAcceptEnabled": auto_accept,
            "ZoneAffinityEnabled": affinity,
            "Payer": payer,
            "ConnectBandwidth": 3072,
            "MinBandwidth": 100,
            "MaxBandwidth": 10240,
            "AddressIpVersion": ip_version,
            "ServiceSupportIPv6": False,
            "CreateTime": ctx.now(),
            "RegionId": ctx.region,
            "ResourceGroupId": resource_group(ctx.uid),
            "SupportedRegionSet": [],
            "Resources": resources,
            "Users": [],
            "UserARNs": [],
            "Tags": tags,
        },
    )
    ctx.store.hide_until_consistent(record)
    _settle(ctx, record, "Creating", "CreateVpcEndpointService")
    return pick(record, CREATED_FIELDS)


@PRODUCT.action("GetVpcEndpointServiceAttribute")
def get_vpc_endpoint_service_attribute(ctx: Context) -> dict[str, Any]:
    service = service_of(ctx)
    return pick(service, SERVICE_FIELDS) | {"Zones": service_zones(service)}


@PRODUCT.action("ListVpcEndpointServices")
def list_vpc_endpoint_services(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    service_id, name = p.text("ServiceId"), p.text("ServiceName")
    status, resource_id = p.text("ServiceStatus"), p.text("ResourceId")
    business = p.text("ServiceBusinessStatus")
    auto_accept = p.boolean("AutoAcceptEnabled")
    resource_type = p.text("ServiceResourceType")
    tags = p.tags()
    found = [
        pick(service, SERVICE_FIELDS) | {"Tags": tags_of(service)}
        for service in ctx.listed(SERVICE)
        if service_id in (None, service["ServiceId"])
        and name in (None, service["ServiceName"])
        and status in (None, service["ServiceStatus"])
        and business in (None, service["ServiceBusinessStatus"])
        and auto_accept in (None, service["AutoAcceptEnabled"])
        and resource_type in (None, service["ServiceResourceType"])
        and (
            resource_id is None or any(r["ResourceId"] == resource_id for r in service["Resources"])
        )
        and (not tags or matches_tags(service, tags))
    ]
    return paged(ctx, found, "Services", total_as_text=False)


@PRODUCT.action("UpdateVpcEndpointServiceAttribute", write=True)
def update_vpc_endpoint_service_attribute(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    service = service_of(ctx)
    if locked(service, "ServiceBusinessStatus"):
        raise ApiError("EndpointServiceLocked", f"The endpoint service {service['_id']} is locked.")
    _require_active(service)
    changes: dict[str, Any] = {}
    for key in ("AutoAcceptEnabled", "ZoneAffinityEnabled", "ServiceSupportIPv6"):
        value = p.boolean(key)
        if value is not None:
            changes[key] = value
    bandwidth = p.integer("ConnectBandwidth", low=100, high=10240)
    if bandwidth is not None:
        changes["ConnectBandwidth"] = bandwidth
    description = p.text("ServiceDescription")
    if description is not None:
        changes["ServiceDescription"] = description
    ctx.dry_run_passes()
    ctx.exclusive(
        f"service-change:{ctx.uid}",
        "UpdateVpcEndpointServiceAttribute",
        CONCURRENT,
        f"Another change of an endpoint service of account {ctx.uid}",
    )
    service.update(changes)
    _settle(ctx, service, "Pending", "UpdateVpcEndpointServiceAttribute")
    return {}


@PRODUCT.action("DeleteVpcEndpointService", write=True)
def delete_vpc_endpoint_service(ctx: Context) -> dict[str, Any]:
    service = service_of(ctx)
    _require_active(service)
    endpoints = [e for e in ctx.store.all(ENDPOINT) if e["ServiceId"] == service["_id"]]
    connected = [e["EndpointId"] for e in endpoints if e["ConnectionStatus"] in IN_USE]
    if connected:
        raise ApiError(
            "EndpointServiceConnectionDependence",
            f"You cannot delete EndpointService {service['_id']} with Endpoint connected: "
            f"{', '.join(connected)}. Reject or disconnect them first.",
        )
    creating = [e["EndpointId"] for e in endpoints if e["EndpointStatus"] == "Creating"]
    if creating:
        raise ApiError(
            "DeleteFailedDueToEndpointExist",
            f"The endpoint service {service['_id']} has endpoints being created: "
            f"{', '.join(creating)}.",
        )
    if service["Resources"]:
        attached = sorted({r["ResourceId"] for r in service["Resources"]})
        raise ApiError(
            "EndpointServiceDependenceViolation",
            f"The endpoint service {service['_id']} still has service resources: "
            f"{', '.join(attached)}. Detach them (DetachResourceFromVpcEndpointService) first.",
        )
    ctx.dry_run_passes()
    ctx.exclusive(
        f"service-delete:{ctx.uid}",
        "DeleteVpcEndpointService",
        CONCURRENT,
        f"Another deletion of an endpoint service of account {ctx.uid}",
    )
    service["ServiceStatus"] = "Deleting"
    ctx.store.schedule(
        service, [(ctx.store.delay("DeleteVpcEndpointService"), "pl.service_gone", None)]
    )
    return {}


@effect("pl.service_gone")
def _service_gone(store: Store, service: Record, _: Any) -> None:
    store.delete(SERVICE, service["_id"])
    for endpoint in store.all(ENDPOINT):
        if endpoint["ServiceId"] == service["_id"]:
            endpoint["ConnectionStatus"] = "ServiceDeleted"


# -- its resources --------------------------------------------------------------------------------


@PRODUCT.action("AttachResourceToVpcEndpointService", write=True)
def attach_resource(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    service = service_of(ctx)
    _require_active(service)
    entry = {
        "ResourceId": p.req("ResourceId"),
        "ResourceType": p.req("ResourceType"),
        "ZoneId": p.text("ZoneId") or "",
    }
    resources = _resources(ctx, [entry], service["ServiceResourceType"])
    ctx.dry_run_passes()
    ctx.exclusive(
        f"service-resources:{service['_id']}",
        "AttachResourceToVpcEndpointService",
        CONCURRENT,
        f"Another change of the resources of {service['_id']}",
    )
    service["Resources"].extend(resources)
    _settle(ctx, service, "Pending", "AttachResourceToVpcEndpointService")
    return {}


@PRODUCT.action("DetachResourceFromVpcEndpointService", write=True)
def detach_resource(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    service = service_of(ctx)
    resource_id = p.req("ResourceId")
    zone_id = p.text("ZoneId")
    _require_active(service)
    leaving = [
        r
        for r in service["Resources"]
        if r["ResourceId"] == resource_id
        and zone_id in (None, r["ZoneId"])
        and not r.get("_detaching")
    ]
    if not leaving:
        raise not_found("EndpointServiceResourceNotFound", "service resource", resource_id)
    zones = {r["ZoneId"] for r in leaving}
    using = [
        endpoint["EndpointId"]
        for endpoint in ctx.store.all(ENDPOINT)
        if endpoint["ServiceId"] == service["_id"]
        and endpoint["ConnectionStatus"] in IN_USE
        and any(zone["ZoneId"] in zones for zone in endpoint["Zones"])
    ]
    if using:
        raise ApiError(
            "EndpointServiceConnectionDependence",
            f"The resource {resource_id} serves connected endpoints: {', '.join(using)}.",
        )
    ctx.dry_run_passes()
    ctx.exclusive(
        f"service-resources:{service['_id']}",
        "DetachResourceFromVpcEndpointService",
        CONCURRENT,
        f"Another change of the resources of {service['_id']}",
    )
    for resource in leaving:
        resource["_detaching"] = True
    delay = ctx.store.delay("DetachResourceFromVpcEndpointService")
    service["ServiceStatus"] = "Pending"
    ctx.store.schedule(service, [(delay, "pl.resources_detached", None)])
    return {}


@effect("pl.resources_detached")
def _resources_detached(store: Store, service: Record, _: Any) -> None:
    service["Resources"] = [r for r in service["Resources"] if not r.get("_detaching")]
    service["ServiceStatus"] = "Active"


@PRODUCT.action("ListVpcEndpointServiceResources")
def list_vpc_endpoint_service_resources(ctx: Context) -> dict[str, Any]:
    service = service_of(ctx)
    endpoints = [e for e in ctx.store.all(ENDPOINT) if e["ServiceId"] == service["_id"]]
    rows = []
    for resource in service["Resources"]:
        related = sum(
            1 for e in endpoints if any(z["ZoneId"] == resource["ZoneId"] for z in e["Zones"])
        )
        rows.append(
            {key: value for key, value in resource.items() if not key.startswith("_")}
            | {
                "RegionId": ctx.region,
                "RelatedEndpointCount": related,
                "RelatedDeprecatedEndpointCount": 0,
                "AutoAllocatedEnabled": False,
                "ResourceSupportIPv6": False,
            }
        )
    body = paged(ctx, rows, "Resources", total_as_text=False)
    del body["TotalCount"]  # not in the model
    return body


# -- its whitelist --------------------------------------------------------------------------------


def _user_params(ctx: Context) -> tuple[str | None, str | None]:
    user_id = ctx.params.text("UserId")
    user_arn = ctx.params.text("UserARN", max_len=512)
    if user_id is None and user_arn is None:
        raise ApiError("MissingParam.UserArn", "Give UserId or UserARN.")
    if user_id is not None and user_arn is not None:
        raise ApiError("Mismatch.UserIdAndUserArn", "Give UserId or UserARN, not both.")
    # Not str.isdigit(): it accepts "²", which int() (ListVpcEndpointServiceUsers) refuses.
    if user_id is not None and not re.fullmatch(r"[0-9]{1,20}", user_id):
        raise invalid("UserId", f"{user_id!r} is not an account ID")
    if user_arn is not None:
        parts = user_arn.split(":")
        if len(parts) < 5 or parts[0] != "acs" or parts[1] != "ram":
            raise invalid("UserARN", f"{user_arn!r} is not a RAM ARN such as acs:ram:*:<uid>:*")
    return user_id, user_arn


@PRODUCT.action("AddUserToVpcEndpointService", write=True)
def add_user(ctx: Context) -> dict[str, Any]:
    service = service_of(ctx)
    user_id, user_arn = _user_params(ctx)
    _require_active(service)
    ctx.dry_run_passes()
    ctx.exclusive(
        f"whitelist-add:{ctx.uid}",
        "AddUserToVpcEndpointService",
        CONCURRENT,
        f"Another addition to a whitelist of account {ctx.uid}",
    )
    if user_id is not None and user_id not in service["Users"]:
        service["Users"].append(user_id)
    if user_arn is not None and user_arn not in service["UserARNs"]:
        service["UserARNs"].append(user_arn)
    return {}


@PRODUCT.action("RemoveUserFromVpcEndpointService", write=True)
def remove_user(ctx: Context) -> dict[str, Any]:
    service = service_of(ctx)
    user_id, user_arn = _user_params(ctx)
    _require_active(service)
    ctx.dry_run_passes()
    ctx.exclusive(
        f"whitelist-remove:{service['_id']}",
        "RemoveUserFromVpcEndpointService",
        CONCURRENT,
        f"Another removal from the whitelist of {service['_id']}",
    )
    if user_id in service["Users"]:
        service["Users"].remove(user_id)
    if user_arn in service["UserARNs"]:
        service["UserARNs"].remove(user_arn)
    return {}


@PRODUCT.action("ListVpcEndpointServiceUsers")
def list_users(ctx: Context) -> dict[str, Any]:
    service = service_of(ctx)
    list_type = ctx.params.text("UserListType", default="Users", choices=("Users", "UserARNs"))
    wanted = ctx.params.text("UserId")
    if list_type == "UserARNs":
        rows: list[dict[str, Any]] = [{"UserARN": arn} for arn in service["UserARNs"]]
    else:
        rows = [{"UserId": int(uid)} for uid in service["Users"] if wanted in (None, uid)]
    body = paged(ctx, rows, list_type, total_as_text=True)
    body.setdefault("Users", [])
    body.setdefault("UserARNs", [])
    return body


# -- what a consumer sees -------------------------------------------------------------------------

BY_END_USER_FIELDS = (
    "AddressIpVersion", "AutoAcceptEnabled", "Payer", "ResourceGroupId", "ServiceDomain",
    "ServiceId", "ServiceName", "ServiceResourceType", "ServiceSupportIPv6", "ServiceType",
    "ZoneAffinityEnabled",
)  # fmt: skip


@PRODUCT.action("ListVpcEndpointServicesByEndUser")
def list_services_by_end_user(ctx: Context) -> dict[str, Any]:
    service_id, name = ctx.params.text("ServiceId"), ctx.params.text("ServiceName")
    service_type = ctx.params.text("ServiceType")
    tags = ctx.params.tags()
    rows = [
        pick(service, BY_END_USER_FIELDS)
        | {
            "Zones": service_zones(service),
            "Tags": tags_of(service),
            "VpcEndpointPolicySupported": False,
        }
        for service in ctx.store.all(SERVICE)
        if service["ServiceStatus"] not in ("Creating", "Deleting")
        and ctx.store.visible(service)
        and may_use(service, ctx.uid)
        and service_id in (None, service["ServiceId"])
        and name in (None, service["ServiceName"])
        and service_type in (None, service["ServiceType"])
        and (not tags or matches_tags(service, tags))
    ]
    return paged(ctx, rows, "Services", total_as_text=True)
