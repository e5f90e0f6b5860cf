"""PrivateLink 2020-04-15: endpoint services (provider side), endpoints and their connections.

Statuses follow docs/cloud-api.md. An endpoint service goes Creating → Active (Pending while it is
modified, Deleting → gone). An endpoint goes Creating → Active (Deleting → gone); its connection
is Disconnected while the endpoint is created, then either Pending (waiting for
EnableVpcEndpointConnection) or, with auto-accept, Connecting → Connected at once. Enable moves
Pending/Disconnected → Connecting → Connected; Disable moves it → Disconnecting → Disconnected.
Each endpoint zone (ListVpcEndpointZones) follows: Creating → Wait (or Connecting) → Connected,
Disconnecting → Disconnected, Deleting.

cloudsim's conventions where no source names the code:
- **zone rule** (the seed: an endpoint's zones must be a subset of its service's zones):
  `EndpointZoneNotSupported`, HTTP 400, and the message names the zones the service offers;
- an account outside the service's whitelist creating an endpoint: `Forbidden.NotInWhitelist`,
  HTTP 403 (the service stays invisible to it in ListVpcEndpointServicesByEndUser);
- wrong state: `EndpointServiceOperationDenied` (service), `EndpointOperationDenied` (endpoint),
  `EndpointConnectionOperationDenied` (connection), all HTTP 400 and retryable;
- a vSwitch outside the VPC or zone: `InvalidVSwitchId.VpcMismatch` or
  `InvalidVSwitchId.ZoneMismatch`;
  a security group outside the VPC: `InvalidSecurityGroupId.VpcMismatch`;
- DeleteVpcEndpointService while an endpoint's connection is Pending, Connecting, Connected,
  Disconnecting or Deleting: `EndpointServiceConnectionDependence`.
Enable on a connection already Connecting/Connected and Disable on one already Disconnected
succeed without change, so a redelivered task never fails on its own earlier success.
"""

from __future__ import annotations

import re
from typing import Any

from cloudsim import ids
from cloudsim.errors import ApiError, invalid, missing, not_found, wrong_state
from cloudsim.params import paginate, to_ipv4
from cloudsim.products import tagging
from cloudsim.products.base import (
    Context,
    Product,
    check_zone,
    matches_tags,
    public,
    require,
    resource_group,
    tag_list,
    vpc_for,
    vswitch_for,
)
from cloudsim.store import Record, Store, effect

PRODUCT = Product("privatelink", "2020-04-15", "privatelink")

SERVICE = "vpcendpointservice"
ENDPOINT = "vpcendpoint"
SERVICE_NOT_FOUND = "EndpointServiceNotFound"
ENDPOINT_NOT_FOUND = "EndpointNotFound"
PAGE_LIMIT = 1000
# Connection statuses that keep an endpoint service from being deleted.
_DEPENDENT = ("Pending", "Connecting", "Connected", "Disconnecting", "Deleting")

tagging.register(
    PRODUCT,
    {
        "vpcendpoint": (ENDPOINT, ENDPOINT_NOT_FOUND),
        "vpcendpointservice": (SERVICE, SERVICE_NOT_FOUND),
    },
    page_limit=50,
    with_total=False,
)


# -- shared ---------------------------------------------------------------------------------------


def _service(ctx: Context) -> Record:
    return ctx.owned(SERVICE, ctx.params.req("ServiceId"), SERVICE_NOT_FOUND, "endpoint service")


def _endpoint(ctx: Context) -> Record:
    return ctx.owned(ENDPOINT, ctx.params.req("EndpointId"), ENDPOINT_NOT_FOUND, "endpoint")


def _service_zones(service: Record) -> list[str]:
    return sorted({resource["ZoneId"] for resource in service["Resources"]})


def may_use(service: Record, uid: str) -> bool:
    """The owner, and the accounts on the service's whitelist (by UID or by ARN)."""
    if uid == service["_owner"] or uid in service["Users"]:
        return True
    return any(arn.split(":")[3] in (uid, "*") for arn in service["UserARNs"])


def _page(ctx: Context, items: list[Any], key: str, total_as_text: bool) -> dict[str, Any]:
    page, next_token, size = paginate(items, ctx.params, default=50, limit=PAGE_LIMIT)
    total: Any = str(len(items)) if total_as_text else len(items)
    return {key: page, "TotalCount": total, "MaxResults": size, "NextToken": next_token or ""}


def _set_connection(store: Store, endpoint: Record, status: str) -> None:
    zone_status = {
        "Connecting": "Connecting",
        "Connected": "Connected",
        "Pending": "Wait",
        "Disconnecting": "Disconnecting",
        "Disconnected": "Disconnected",
        "Deleting": "Deleting",
    }
    endpoint["ConnectionStatus"] = status
    endpoint["ModifiedTime"] = store.iso()
    for zone in endpoint["Zones"]:
        zone["ZoneStatus"] = zone_status.get(status, zone["ZoneStatus"])


# -- endpoint services ----------------------------------------------------------------------------


def _settle(ctx: Context, service: Record, during: str, operation: str) -> None:
    """The service is `during` (Creating, Pending) now, and Active after the operation's delay."""
    service["ServiceStatus"] = during
    ctx.store.schedule(service, [(ctx.store.delay(operation), "set", {"ServiceStatus": "Active"})])


def _service_resources(ctx: Context, entries: list[dict[str, str]], prefix: str) -> list[dict]:
    resources = []
    for position, entry in enumerate(entries, start=1):
        where = f"{prefix}.{position}" if prefix == "Resource" else prefix
        resource_id = entry.get("ResourceId") or ""
        if not resource_id:
            raise missing(f"{where}.ResourceId" if prefix == "Resource" else "ResourceId")
        resource_type = (entry.get("ResourceType") or "").lower()
        if resource_type != "nlb":
            raise invalid(
                f"{where}.ResourceType" if prefix == "Resource" else "ResourceType",
                f"{entry.get('ResourceType')!r}: cloudsim serves nlb resources",
            )
        lb = ctx.store.get("loadbalancer", resource_id, owner=ctx.uid)
        if lb is None:
            raise not_found("ResourceNotFound.loadBalancer", "load balancer", resource_id)
        if lb["LoadBalancerStatus"] in ("Deleting", "CreateFailed"):
            raise wrong_state(
                "IncorrectStatus.loadBalancer",
                "load balancer",
                resource_id,
                lb["LoadBalancerStatus"],
                "Active",
            )
        if lb["AddressType"] != "Intranet":
            raise invalid(where, f"{resource_id} is an Internet NLB; a service needs Intranet")
        for other in ctx.store.all(SERVICE):
            if any(res["ResourceId"] == resource_id for res in other["Resources"]):
                raise ApiError(
                    "EndpointServiceResourceAlreadyExist",
                    f"The load balancer {resource_id} already backs {other['ServiceId']}.",
                )
        zone_id = entry.get("ZoneId") or None
        mappings = lb["ZoneMappings"]
        if zone_id is not None:
            mappings = [m for m in mappings if m["ZoneId"] == zone_id]
            if not mappings:
                raise invalid(
                    f"{where}.ZoneId" if prefix == "Resource" else "ZoneId",
                    f"{resource_id} is not deployed in {zone_id}",
                )
        for mapping in mappings:
            resources.append(
                {
                    "ResourceId": resource_id,
                    "ResourceType": "nlb",
                    "ZoneId": mapping["ZoneId"],
                    "VSwitchId": mapping["VSwitchId"],
                    "VpcId": lb["VpcId"],
                    "Ip": mapping["LoadBalancerAddresses"][0]["PrivateIPv4Address"],
                }
            )
    return resources


@PRODUCT.action("CreateVpcEndpointService", write=True)
def create_vpc_endpoint_service(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    entries = p.objects("Resource")
    # Without ServiceResourceType the resources say what they are.
    implied = (entries[0].get("ResourceType") or "slb").lower() if entries else "slb"
    resource_type = p.text("ServiceResourceType", default=implied, choices=("slb", "alb", "nlb"))
    for entry in entries:
        entry.setdefault("ResourceType", resource_type)
    resources = _service_resources(ctx, entries, "Resource")
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
    _settle(ctx, record, "Creating", "CreateVpcEndpointService")
    return _service_view(record) | {"ServiceStatus": "Creating"}


def _service_view(service: Record) -> dict[str, Any]:
    view = public(service)
    for internal in ("Resources", "Users", "UserARNs"):
        view.pop(internal)
    view["Zones"] = _service_zones(service)
    view["Tags"] = tag_list(service)
    return view


@PRODUCT.action("GetVpcEndpointServiceAttribute")
def get_vpc_endpoint_service_attribute(ctx: Context) -> dict[str, Any]:
    return _service_view(_service(ctx))


@PRODUCT.action("ListVpcEndpointServices")
def list_vpc_endpoint_services(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    service_id, name = p.text("ServiceId"), p.text("ServiceName")
    status, resource_id = p.text("ServiceStatus"), p.text("ResourceId")
    auto_accept = p.boolean("AutoAcceptEnabled")
    resource_type = p.text("ServiceResourceType")
    tags = p.tags()
    found = [
        service
        for service in ctx.store.owned(SERVICE, ctx.uid)
        if service_id in (None, service["ServiceId"])
        and name in (None, service["ServiceName"])
        and status in (None, service["ServiceStatus"])
        and auto_accept in (None, service["AutoAcceptEnabled"])
        and resource_type in (None, service["ServiceResourceType"])
        and (
            resource_id is None or any(r["ResourceId"] == resource_id for r in service["Resources"])
        )
        and (not tags or matches_tags(service, tags))
    ]
    body = _page(ctx, [_service_view(service) for service in found], "Services", False)
    return body


@PRODUCT.action("UpdateVpcEndpointServiceAttribute", write=True)
def update_vpc_endpoint_service_attribute(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    service = _service(ctx)
    require(
        service, "ServiceStatus", ("Active",), "EndpointServiceOperationDenied", "endpoint service"
    )
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
    service.update(changes)
    _settle(ctx, service, "Pending", "UpdateVpcEndpointServiceAttribute")
    return {}


@PRODUCT.action("AttachResourceToVpcEndpointService", write=True)
def attach_resource(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    service = _service(ctx)
    entry = {
        "ResourceId": p.req("ResourceId"),
        "ResourceType": p.req("ResourceType"),
        "ZoneId": p.text("ZoneId") or "",
    }
    require(
        service, "ServiceStatus", ("Active",), "EndpointServiceOperationDenied", "endpoint service"
    )
    resources = _service_resources(ctx, [entry], "")
    ctx.dry_run_passes()
    service["Resources"].extend(resources)
    _settle(ctx, service, "Pending", "AttachResourceToVpcEndpointService")
    return {}


@PRODUCT.action("DetachResourceFromVpcEndpointService", write=True)
def detach_resource(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    service = _service(ctx)
    resource_id = p.req("ResourceId")
    p.req("ResourceType")
    zone_id = p.text("ZoneId")
    require(
        service, "ServiceStatus", ("Active",), "EndpointServiceOperationDenied", "endpoint service"
    )
    keep = [
        r
        for r in service["Resources"]
        if not (r["ResourceId"] == resource_id and zone_id in (None, r["ZoneId"]))
    ]
    if len(keep) == len(service["Resources"]):
        raise not_found("EndpointServiceResourceNotFound", "service resource", resource_id)
    ctx.dry_run_passes()
    service["Resources"] = keep
    _settle(ctx, service, "Pending", "DetachResourceFromVpcEndpointService")
    return {}


@PRODUCT.action("ListVpcEndpointServiceResources")
def list_vpc_endpoint_service_resources(ctx: Context) -> dict[str, Any]:
    service = _service(ctx)
    rows = []
    for resource in service["Resources"]:
        related = sum(
            1
            for endpoint in ctx.store.all(ENDPOINT)
            if endpoint["ServiceId"] == service["_id"]
            and any(zone["ZoneId"] == resource["ZoneId"] for zone in endpoint["Zones"])
        )
        rows.append(
            resource
            | {
                "RegionId": ctx.region,
                "RelatedEndpointCount": related,
                "RelatedDeprecatedEndpointCount": 0,
                "AutoAllocatedEnabled": False,
                "ResourceSupportIPv6": False,
            }
        )
    body = _page(ctx, rows, "Resources", False)
    del body["TotalCount"]
    return body


def _user_params(ctx: Context) -> tuple[str | None, str | None]:
    user_id = ctx.params.text("UserId")
    user_arn = ctx.params.text("UserARN", max_len=512)
    if user_id is None and user_arn is None:
        raise missing("UserId")
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
    service = _service(ctx)
    user_id, user_arn = _user_params(ctx)
    require(
        service, "ServiceStatus", ("Active",), "EndpointServiceOperationDenied", "endpoint service"
    )
    ctx.dry_run_passes()
    if user_id is not None and user_id not in service["Users"]:
        service["Users"].append(user_id)
    if user_arn is not None and user_arn not in service["UserARNs"]:
        service["UserARNs"].append(user_arn)
    return {}


@PRODUCT.action("RemoveUserFromVpcEndpointService", write=True)
def remove_user(ctx: Context) -> dict[str, Any]:
    service = _service(ctx)
    user_id, user_arn = _user_params(ctx)
    require(
        service, "ServiceStatus", ("Active",), "EndpointServiceOperationDenied", "endpoint service"
    )
    ctx.dry_run_passes()
    if user_id in service["Users"]:
        service["Users"].remove(user_id)
    if user_arn in service["UserARNs"]:
        service["UserARNs"].remove(user_arn)
    return {}


@PRODUCT.action("ListVpcEndpointServiceUsers")
def list_users(ctx: Context) -> dict[str, Any]:
    service = _service(ctx)
    list_type = ctx.params.text("UserListType", default="Users", choices=("Users", "UserARNs"))
    wanted = ctx.params.text("UserId")
    if list_type == "UserARNs":
        rows: list[dict[str, Any]] = [{"UserARN": arn} for arn in service["UserARNs"]]
    else:
        rows = [{"UserId": int(uid)} for uid in service["Users"] if wanted in (None, uid)]
    body = _page(ctx, rows, list_type, True)
    body.setdefault("Users", [])
    body.setdefault("UserARNs", [])
    return body


@PRODUCT.action("DeleteVpcEndpointService", write=True)
def delete_vpc_endpoint_service(ctx: Context) -> dict[str, Any]:
    service = _service(ctx)
    require(
        service, "ServiceStatus", ("Active",), "EndpointServiceOperationDenied", "endpoint service"
    )
    dependents = [
        endpoint["EndpointId"]
        for endpoint in ctx.store.all(ENDPOINT)
        if endpoint["ServiceId"] == service["_id"] and endpoint["ConnectionStatus"] in _DEPENDENT
    ]
    if dependents:
        raise ApiError(
            "EndpointServiceConnectionDependence",
            f"You cannot delete EndpointService {service['_id']} with Endpoint connected: "
            f"{', '.join(dependents)}.",
        )
    ctx.dry_run_passes()
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


@PRODUCT.action("ListVpcEndpointServicesByEndUser")
def list_services_by_end_user(ctx: Context) -> dict[str, Any]:
    service_id, name = ctx.params.text("ServiceId"), ctx.params.text("ServiceName")
    service_type = ctx.params.text("ServiceType")
    tags = ctx.params.tags()
    rows = []
    for service in ctx.store.all(SERVICE):
        if service["ServiceStatus"] in ("Creating", "Deleting") or not may_use(service, ctx.uid):
            continue
        if service_id not in (None, service["ServiceId"]) or name not in (
            None,
            service["ServiceName"],
        ):
            continue
        if service_type not in (None, service["ServiceType"]):
            continue
        if tags and not matches_tags(service, tags):
            continue
        rows.append(
            {
                key: service[key]
                for key in (
                    "ServiceId",
                    "ServiceName",
                    "ServiceDomain",
                    "ServiceType",
                    "ServiceResourceType",
                    "AutoAcceptEnabled",
                    "ZoneAffinityEnabled",
                    "Payer",
                    "ServiceSupportIPv6",
                    "AddressIpVersion",
                    "ResourceGroupId",
                )
            }
            | {
                "Zones": _service_zones(service),
                "Tags": tag_list(service),
                "VpcEndpointPolicySupported": False,
            }
        )
    return _page(ctx, rows, "Services", True)


# -- endpoints ------------------------------------------------------------------------------------


def _security_groups(ctx: Context, vpc_id: str, required: bool) -> list[str]:
    groups = ctx.params.items("SecurityGroupId")
    if required and not groups:
        raise missing("SecurityGroupId.1")
    if len(groups) > 10:
        raise invalid("SecurityGroupId", "at most 10 security groups")
    for position, group_id in enumerate(groups, start=1):
        group = ctx.store.get("securitygroup", group_id, owner=ctx.uid)
        if group is None:
            raise ApiError(
                "InvalidSecurityGroupId.NotFound",
                f"The security group {group_id!r} (SecurityGroupId.{position}) does not exist.",
            )
        if group["VpcId"] != vpc_id:
            raise ApiError(
                "InvalidSecurityGroupId.VpcMismatch",
                f"The security group {group_id!r} (SecurityGroupId.{position}) belongs to "
                f"{group['VpcId']}, not to {vpc_id}.",
            )
    return groups


def _target_service(ctx: Context) -> Record:
    service_id, name = ctx.params.text("ServiceId"), ctx.params.text("ServiceName")
    if service_id is None and name is None:
        raise missing("ServiceId")
    service = None
    if service_id is not None:
        service = ctx.store.get(SERVICE, service_id)
    else:
        service = next((s for s in ctx.store.all(SERVICE) if s["ServiceName"] == name), None)
    if service is None or service["ServiceStatus"] == "Deleting":
        raise not_found(SERVICE_NOT_FOUND, "endpoint service", service_id or name or "")
    if not may_use(service, ctx.uid):
        raise ApiError(
            "Forbidden.NotInWhitelist",
            f"Account {ctx.uid} is not on the whitelist of endpoint service "
            f"{service['ServiceId']}; its owner must call AddUserToVpcEndpointService first.",
            status=403,
        )
    return service


@PRODUCT.action("CreateVpcEndpoint", write=True)
def create_vpc_endpoint(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    endpoint_type = p.text("EndpointType", default="Interface", choices=("Interface",))
    vpc = vpc_for(ctx, p.req("VpcId"))
    name = p.text("EndpointName", default="", max_len=128)
    description = p.text("EndpointDescription", default="")
    affinity = p.boolean("ZoneAffinityEnabled", False)
    protected = p.boolean("ProtectedEnabled", False)
    groups = _security_groups(ctx, vpc["VpcId"], required=True)
    zone_entries = p.objects("Zone")
    if not zone_entries:
        raise missing("Zone.1.ZoneId")
    zones = []
    for position, entry in enumerate(zone_entries, start=1):
        where = f"Zone.{position}"
        zone_id, vsw_id = entry.get("ZoneId") or "", entry.get("VSwitchId") or ""
        if not zone_id:
            raise missing(f"{where}.ZoneId")
        if not vsw_id:
            raise missing(f"{where}.VSwitchId")
        check_zone(ctx, zone_id, f"{where}.ZoneId")
        if any(zone_id == z[0] for z in zones):
            raise invalid(f"{where}.ZoneId", f"zone {zone_id} is listed twice")
        vswitch = vswitch_for(ctx, vsw_id, f"{where}.VSwitchId", vpc["VpcId"], zone_id)
        wanted = entry.get("ip") or None
        if wanted is not None:
            wanted = to_ipv4(f"{where}.ip", wanted)
        zones.append((zone_id, vswitch, wanted, where))
    tags = p.tags()
    service = _target_service(ctx)
    require(
        service,
        "ServiceStatus",
        ("Active", "Pending"),
        "EndpointServiceOperationDenied",
        "endpoint service",
    )
    offered = _service_zones(service)
    for zone_id, _, _, where in zones:
        if zone_id not in offered:
            raise ApiError(
                "EndpointZoneNotSupported",
                f"Zone {zone_id} ({where}.ZoneId) is not offered by endpoint service "
                f"{service['ServiceId']}; it offers {', '.join(offered) or 'no zones'}. "
                "An endpoint's zones must be a subset of its service's zones.",
            )
    ctx.dry_run_passes()

    endpoint_id = ids.new("ep", 20)
    domain_tail = f"{service['ServiceId']}.{ctx.region}.privatelink.aliyuncs.com"
    record: Record = {
        "EndpointId": endpoint_id,
        "EndpointName": name,
        "EndpointDescription": description,
        "EndpointDomain": f"{endpoint_id}.{domain_tail}",
        "EndpointStatus": "Creating",
        "ConnectionStatus": "Disconnected",
        "EndpointBusinessStatus": "Normal",
        "EndpointType": endpoint_type,
        "VpcId": vpc["VpcId"],
        "ServiceId": service["ServiceId"],
        "ServiceName": service["ServiceName"],
        "ServiceRegionId": ctx.region,
        "RegionId": ctx.region,
        "Bandwidth": service["ConnectBandwidth"],
        "CrossRegionBandwidth": 0,
        "ZoneAffinityEnabled": affinity,
        "ProtectedEnabled": protected,
        "AddressIpVersion": "IPv4",
        "ResourceOwner": service["_owner"] == ctx.uid,
        "ResourceGroupId": resource_group(ctx.uid),
        "PolicyDocument": "",
        "ZonePrivateIpAddressCount": 1,
        "CreateTime": ctx.now(),
        "ModifiedTime": ctx.now(),
        "SecurityGroupIds": groups,
        "Zones": [],
        "Tags": tags,
    }
    for zone_id, vswitch, wanted_ip, where in zones:
        address = ctx.store.allocate_ip(record, vswitch, wanted_ip)
        if address is None:
            ctx.store.release_all_ips(record)
            if wanted_ip:
                raise invalid(
                    f"{where}.ip", f"{wanted_ip} is not a free address of {vswitch['VSwitchId']}"
                )
            raise ApiError("InvalidVSwitchId.IpNotEnough", f"{vswitch['VSwitchId']} is full.")
        record["Zones"].append(
            {
                "ZoneId": zone_id,
                "VSwitchId": vswitch["VSwitchId"],
                "EniId": ids.new("eni", 20),
                "EniIp": address,
                "ZoneDomain": f"{endpoint_id}-{zone_id}.{domain_tail}",
                "ZoneStatus": "Creating",
                "RegionId": ctx.region,
                "ZoneIpv6Address": "",
            }
        )
    ctx.store.create(ENDPOINT, endpoint_id, ctx.uid, record)
    ctx.store.schedule(record, [(ctx.store.delay("CreateVpcEndpoint"), "pl.endpoint_ready", None)])
    return {
        key: record[key]
        for key in (
            "EndpointId",
            "EndpointName",
            "EndpointDescription",
            "EndpointDomain",
            "EndpointStatus",
            "ConnectionStatus",
            "EndpointBusinessStatus",
            "VpcId",
            "ServiceId",
            "ServiceName",
            "ServiceRegionId",
            "Bandwidth",
            "CrossRegionBandwidth",
            "ZoneAffinityEnabled",
            "AddressIpVersion",
            "CreateTime",
        )
    }


@effect("pl.endpoint_ready")
def _endpoint_ready(store: Store, endpoint: Record, _: Any) -> None:
    endpoint["EndpointStatus"] = "Active"
    service = store.get(SERVICE, endpoint["ServiceId"])
    if service is None:
        endpoint["ConnectionStatus"] = "ServiceDeleted"
        return
    if service["AutoAcceptEnabled"]:
        _set_connection(store, endpoint, "Connecting")
        store.schedule(
            endpoint, [(store.delay("EnableVpcEndpointConnection"), "pl.connection", "Connected")]
        )
    else:
        _set_connection(store, endpoint, "Pending")


@effect("pl.connection")
def _connection(store: Store, endpoint: Record, status: str) -> None:
    _set_connection(store, endpoint, status)


@effect("pl.endpoint_gone")
def _endpoint_gone(store: Store, endpoint: Record, _: Any) -> None:
    store.delete(ENDPOINT, endpoint["_id"])


def _endpoint_view(endpoint: Record) -> dict[str, Any]:
    view = public(endpoint)
    view.pop("Zones")
    view["Tags"] = tag_list(endpoint)
    return view


@PRODUCT.action("GetVpcEndpointAttribute")
def get_vpc_endpoint_attribute(ctx: Context) -> dict[str, Any]:
    endpoint = _endpoint(ctx)
    view = _endpoint_view(endpoint)
    service = ctx.store.get(SERVICE, endpoint["ServiceId"])
    view["Payer"] = service["Payer"] if service else "Endpoint"
    return view


@PRODUCT.action("ListVpcEndpoints")
def list_vpc_endpoints(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    filters = {
        "EndpointId": p.text("EndpointId"),
        "EndpointName": p.text("EndpointName"),
        "EndpointStatus": p.text("EndpointStatus"),
        "ConnectionStatus": p.text("ConnectionStatus"),
        "VpcId": p.text("VpcId"),
        "ServiceName": p.text("ServiceName"),
        "EndpointType": p.text("EndpointType"),
    }
    wanted = {key: value for key, value in filters.items() if value is not None}
    tags = p.tags()
    if "EndpointId" in wanted:
        # One endpoint asked for by id: no need to walk the account's endpoints.
        one = ctx.store.get(ENDPOINT, wanted["EndpointId"], owner=ctx.uid)
        candidates = [one] if one is not None else []
    else:
        candidates = ctx.store.owned(ENDPOINT, ctx.uid)
    found = [
        _endpoint_view(endpoint)
        for endpoint in candidates
        if all(endpoint[key] == value for key, value in wanted.items())
        and (not tags or matches_tags(endpoint, tags))
    ]
    return _page(ctx, found, "Endpoints", False)


@PRODUCT.action("UpdateVpcEndpointAttribute", write=True)
def update_vpc_endpoint_attribute(ctx: Context) -> dict[str, Any]:
    endpoint = _endpoint(ctx)
    changes: dict[str, Any] = {}
    for key in ("EndpointName", "EndpointDescription"):
        value = ctx.params.text(key)
        if value is not None:
            changes[key] = value
    affinity = ctx.params.boolean("ZoneAffinityEnabled")
    if affinity is not None:
        changes["ZoneAffinityEnabled"] = affinity
    require(endpoint, "EndpointStatus", ("Active",), "EndpointOperationDenied", "endpoint")
    ctx.dry_run_passes()
    endpoint.update(changes)
    return {}


@PRODUCT.action("ListVpcEndpointZones")
def list_vpc_endpoint_zones(ctx: Context) -> dict[str, Any]:
    endpoint = _endpoint(ctx)
    return _page(ctx, [dict(zone) for zone in endpoint["Zones"]], "Zones", False)


@PRODUCT.action("ListVpcEndpointSecurityGroups")
def list_vpc_endpoint_security_groups(ctx: Context) -> dict[str, Any]:
    endpoint = _endpoint(ctx)
    rows = [
        {"SecurityGroupId": group, "SecurityGroupStatus": "Attached"}
        for group in endpoint["SecurityGroupIds"]
    ]
    return _page(ctx, rows, "SecurityGroups", False)


def _security_group_change(ctx: Context, attach: bool) -> dict[str, Any]:
    endpoint = _endpoint(ctx)
    group_id = ctx.params.req("SecurityGroupId")
    group = ctx.store.get("securitygroup", group_id, owner=ctx.uid)
    if group is None:
        raise ApiError(
            "InvalidSecurityGroupId.NotFound", f"The security group {group_id!r} does not exist."
        )
    if group["VpcId"] != endpoint["VpcId"]:
        raise ApiError(
            "InvalidSecurityGroupId.VpcMismatch",
            f"The security group {group_id!r} is not in the endpoint's VPC {endpoint['VpcId']}.",
        )
    require(endpoint, "EndpointStatus", ("Active",), "EndpointOperationDenied", "endpoint")
    groups = endpoint["SecurityGroupIds"]
    if not attach and group_id in groups and len(groups) == 1:
        raise ApiError("EndpointOperationDenied", "An endpoint keeps at least one security group.")
    ctx.dry_run_passes()
    if attach and group_id not in groups:
        groups.append(group_id)
    if not attach and group_id in groups:
        groups.remove(group_id)
    return {}


@PRODUCT.action("AttachSecurityGroupToVpcEndpoint", write=True)
def attach_security_group(ctx: Context) -> dict[str, Any]:
    return _security_group_change(ctx, attach=True)


@PRODUCT.action("DetachSecurityGroupFromVpcEndpoint", write=True)
def detach_security_group(ctx: Context) -> dict[str, Any]:
    return _security_group_change(ctx, attach=False)


@PRODUCT.action("DeleteVpcEndpoint", write=True)
def delete_vpc_endpoint(ctx: Context) -> dict[str, Any]:
    endpoint = _endpoint(ctx)
    if endpoint["EndpointStatus"] == "Deleting":
        ctx.dry_run_passes()
        return {}
    require(endpoint, "EndpointStatus", ("Active",), "EndpointOperationDenied", "endpoint")
    ctx.dry_run_passes()
    ctx.store.cancel(endpoint)
    endpoint["EndpointStatus"] = "Deleting"
    _set_connection(ctx.store, endpoint, "Deleting")
    ctx.store.schedule(endpoint, [(ctx.store.delay("DeleteVpcEndpoint"), "pl.endpoint_gone", None)])
    return {}


# -- connections (the provider's side) ------------------------------------------------------------


def _connection_target(ctx: Context) -> tuple[Record, Record]:
    service = _service(ctx)
    endpoint_id = ctx.params.req("EndpointId")
    endpoint = ctx.store.get(ENDPOINT, endpoint_id)
    if endpoint is None or endpoint["ServiceId"] != service["_id"]:
        raise not_found(ENDPOINT_NOT_FOUND, "endpoint", endpoint_id)
    return service, endpoint


@PRODUCT.action("EnableVpcEndpointConnection", write=True)
def enable_connection(ctx: Context) -> dict[str, Any]:
    _, endpoint = _connection_target(ctx)
    bandwidth = ctx.params.integer("Bandwidth", low=100, high=10240)
    require(endpoint, "EndpointStatus", ("Active",), "EndpointOperationDenied", "endpoint")
    require(
        endpoint,
        "ConnectionStatus",
        ("Pending", "Disconnected", "Connecting", "Connected"),
        "EndpointConnectionOperationDenied",
        "endpoint connection",
    )
    ctx.dry_run_passes()
    if bandwidth is not None:
        endpoint["Bandwidth"] = bandwidth
    if endpoint["ConnectionStatus"] in ("Pending", "Disconnected"):
        ctx.store.cancel(endpoint)
        _set_connection(ctx.store, endpoint, "Connecting")
        ctx.store.schedule(
            endpoint,
            [(ctx.store.delay("EnableVpcEndpointConnection"), "pl.connection", "Connected")],
        )
    return {}


@PRODUCT.action("DisableVpcEndpointConnection", write=True)
def disable_connection(ctx: Context) -> dict[str, Any]:
    _, endpoint = _connection_target(ctx)
    require(endpoint, "EndpointStatus", ("Active",), "EndpointOperationDenied", "endpoint")
    require(
        endpoint,
        "ConnectionStatus",
        ("Pending", "Connecting", "Connected", "Disconnected"),
        "EndpointConnectionOperationDenied",
        "endpoint connection",
    )
    ctx.dry_run_passes()
    if endpoint["ConnectionStatus"] != "Disconnected":
        ctx.store.cancel(endpoint)
        _set_connection(ctx.store, endpoint, "Disconnecting")
        ctx.store.schedule(
            endpoint,
            [(ctx.store.delay("DisableVpcEndpointConnection"), "pl.connection", "Disconnected")],
        )
    return {}


@PRODUCT.action("UpdateVpcEndpointConnectionAttribute", write=True)
def update_connection_attribute(ctx: Context) -> dict[str, Any]:
    _, endpoint = _connection_target(ctx)
    bandwidth = ctx.params.integer("Bandwidth", required=True, low=100, high=10240)
    ctx.dry_run_passes()
    endpoint["Bandwidth"] = bandwidth
    return {}


@PRODUCT.action("ListVpcEndpointConnections")
def list_vpc_endpoint_connections(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    service_id = p.text("ServiceId")
    if service_id is not None:
        services = {service_id: _service(ctx)}
    else:
        services = {s["_id"]: s for s in ctx.store.owned(SERVICE, ctx.uid)}
    endpoint_id, status = p.text("EndpointId"), p.text("ConnectionStatus")
    owner = p.integer("EndpointOwnerId", low=0)
    rows = []
    for endpoint in ctx.store.all(ENDPOINT):
        service = services.get(endpoint["ServiceId"])
        if service is None or endpoint_id not in (None, endpoint["EndpointId"]):
            continue
        if status not in (None, endpoint["ConnectionStatus"]):
            continue
        if owner is not None and int(endpoint["_owner"]) != owner:
            continue
        zone_resource = {r["ZoneId"]: r["ResourceId"] for r in service["Resources"]}
        rows.append(
            {
                "EndpointId": endpoint["EndpointId"],
                "EndpointOwnerId": int(endpoint["_owner"]),
                "EndpointVpcId": endpoint["VpcId"],
                "EndpointRegionId": ctx.region,
                "ServiceId": service["_id"],
                "ServiceRegionId": ctx.region,
                "ConnectionStatus": endpoint["ConnectionStatus"],
                "Bandwidth": endpoint["Bandwidth"],
                "ModifiedTime": endpoint["ModifiedTime"],
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
                    }
                    for zone in endpoint["Zones"]
                ],
            }
        )
    return _page(ctx, rows, "Connections", True)


@PRODUCT.action("DescribeZones")
def describe_zones(ctx: Context) -> dict[str, Any]:
    return {
        "Zones": [
            {"ZoneId": z.id, "LocalName": z.name, "ZoneState": "Available"}
            for z in ctx.store.scenario.zones
        ]
    }


@PRODUCT.action("DescribeRegions")
def describe_regions(ctx: Context) -> dict[str, Any]:
    return {
        "Regions": [
            {
                "RegionId": ctx.region,
                "LocalName": ctx.region,
                "RegionEndpoint": PRODUCT.host(ctx.region),
                "RegionBusinessStatus": "Normal",
            }
        ]
    }
