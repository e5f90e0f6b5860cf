"""Endpoints (seed step 5): made in the consumer's VPC, one ENI per zone, and torn down zone by
zone.

Rules, from each operation's API reference (its description in Alibaba's metadata) unless said
otherwise; codes from the metadata (cloudsim/metadata/privatelink.json):
- CreateVpcEndpoint needs the endpoint service Active (`IncorrectStatus.VpcEndpointService`;
  `EndpointServiceDeleted` while it is deleted), the caller's account on its whitelist
  (`EndpointServiceNotAuthorized`, HTTP 400), zones the service offers
  (`EndpointServiceNotSupportedZone`: the seed's zone-subset rule), each zone once
  (`EndpointZoneDuplicated`), the caller's VPC, vSwitches and security groups (`VpcNotFound`,
  `VSwitchNotFound`, `SecurityGroupNotFound`), at least one security group
  (`EndpointMustContainSecurityGroup`), free addresses (`EniIpUnavailable`,
  `ResourceNotEnough.VSwitchIp`), and PrivateLink's service-linked role, which the first
  endpoint of an account creates if its caller may (`CheckServiceLinkRoleError`; the role is
  AliyunServiceRoleForPrivatelink, "created when you create an endpoint").
- DeleteVpcEndpoint: "Before you delete an endpoint, delete the zones added to it"
  (`EndpointDependenceViolation`). Zones go one at a time: RemoveZoneFromVpcEndpoint and
  AddZoneToVpcEndpoint are asynchronous and "do not support concurrent … for the same
  endpoint": the endpoint is Pending while a zone changes, and another change meanwhile is
  refused with `EndpointOperationDenied`. Whether an endpoint's last zone may be removed, no
  source says; cloudsim allows it, since the delete needs it.
- An endpoint created with ProtectedEnabled may be changed or deleted only by the identity that
  created it, through STS (`OperationDenied.EndpointProtected`; "only the same user as at
  creation may modify or delete the endpoint through STS").
- A financially locked endpoint refuses the operations whose metadata lists `EndpointLocked`.
"""

from __future__ import annotations

from typing import Any

from cloudsim import ids
from cloudsim.errors import ApiError, invalid, missing, not_found
from cloudsim.params import to_ipv4
from cloudsim.products.base import (
    Context,
    check_zone,
    matches_tags,
    require,
    resource_group,
    vpc_for,
    vswitch_for,
)
from cloudsim.products.privatelink.common import (
    ENDPOINT,
    NETWORK,
    PRODUCT,
    SERVICE,
    SERVICE_LINKED_ROLE,
    SERVICE_NOT_FOUND,
    endpoint_of,
    locked,
    may_use,
    paged,
    pick,
    service_zones,
    set_connection,
    tags_of,
)
from cloudsim.store import Record, Store, effect

CREATED_FIELDS = (
    "AddressIpVersion", "Bandwidth", "ConnectionStatus", "CreateTime", "CrossRegionBandwidth",
    "EndpointBusinessStatus", "EndpointDescription", "EndpointDomain", "EndpointId",
    "EndpointName", "EndpointStatus", "ServiceId", "ServiceName", "ServiceRegionId", "VpcId",
    "ZoneAffinityEnabled",
)  # fmt: skip
LISTED_FIELDS = (
    *CREATED_FIELDS, "EndpointType", "PolicyDocument", "ProtectedEnabled", "RegionId",
    "ResourceGroupId", "ResourceOwner",
)  # fmt: skip
ZONE_FIELDS = (
    "EniId", "EniIp", "RegionId", "VSwitchId", "ZoneDomain", "ZoneId", "ZoneIpv6Address",
    "ZoneStatus",
)  # fmt: skip


def _security_groups(ctx: Context, vpc_id: str) -> list[str]:
    groups = ctx.params.items("SecurityGroupId")
    if not groups:
        raise ApiError(
            "EndpointMustContainSecurityGroup", "An endpoint needs at least one security group."
        )
    if len(groups) > 10:
        raise invalid("SecurityGroupId", "at most 10 security groups")
    for position, group_id in enumerate(groups, start=1):
        _security_group(ctx, group_id, f"SecurityGroupId.{position}", vpc_id)
    return groups


def _security_group(ctx: Context, group_id: str, where: str, vpc_id: str) -> Record:
    group = ctx.store.get("securitygroup", group_id, owner=ctx.uid)
    if group is None or group["VpcId"] != vpc_id:
        place = "does not exist" if group is None else f"is not in {vpc_id}"
        raise ApiError(
            "SecurityGroupNotFound", f"The security group {group_id!r} ({where}) {place}."
        )
    return group


def _target_service(ctx: Context) -> Record:
    service_id, name = ctx.params.text("ServiceId"), ctx.params.text("ServiceName")
    if service_id is None and name is None:
        raise missing("ServiceId")
    if service_id is not None:
        service = ctx.store.get(SERVICE, service_id)
    else:
        service = next((s for s in ctx.store.all(SERVICE) if s["ServiceName"] == name), None)
    if service is None or not ctx.store.visible(service):
        raise not_found(SERVICE_NOT_FOUND, "endpoint service", service_id or name or "")
    if not may_use(service, ctx.uid):
        raise ApiError(
            "EndpointServiceNotAuthorized",
            f"Account {ctx.uid} is not on the whitelist of endpoint service "
            f"{service['ServiceId']}; its owner must call AddUserToVpcEndpointService first.",
        )
    if service["ServiceStatus"] == "Deleting":
        raise ApiError(
            "EndpointServiceDeleted", f"The endpoint service {service['ServiceId']} is deleted."
        )
    if service["ServiceStatus"] != "Active":
        raise ApiError(
            "IncorrectStatus.VpcEndpointService",
            f"The endpoint service {service['ServiceId']} is {service['ServiceStatus']}; "
            "endpoints can be created while it is Active.",
        )
    return service


def _zone_entry(
    ctx: Context, service: Record, vpc_id: str, zone_id: str, vsw_id: str, where: str
) -> Record:
    """The vSwitch of a zone the endpoint asks for, checked against the service's zones."""
    check_zone(ctx, NETWORK, zone_id, f"{where}.ZoneId")
    offered = service_zones(service)
    if zone_id not in offered:
        raise ApiError(
            "EndpointServiceNotSupportedZone",
            f"Zone {zone_id} ({where}.ZoneId) is not offered by endpoint service "
            f"{service['ServiceId']}; it offers {', '.join(offered) or 'no zones'}. "
            "An endpoint's zones must be a subset of its service's zones.",
        )
    return vswitch_for(ctx, NETWORK, vsw_id, f"{where}.VSwitchId", vpc_id, zone_id)


def _new_zone(ctx: Context, endpoint: Record, zone_id: str, vswitch: Record, wanted: str | None):
    address = ctx.store.allocate_ip(endpoint, vswitch, wanted)
    if address is None:
        if wanted:
            raise ApiError(
                "EniIpUnavailable", f"{wanted} is not a free address of {vswitch['VSwitchId']}."
            )
        raise ApiError("ResourceNotEnough.VSwitchIp", f"{vswitch['VSwitchId']} is full.")
    domain_tail = f"{endpoint['ServiceId']}.{ctx.region}.privatelink.aliyuncs.com"
    return {
        "ZoneId": zone_id,
        "VSwitchId": vswitch["VSwitchId"],
        "EniId": ids.new("eni", 20),
        "EniIp": address,
        "ZoneDomain": f"{endpoint['EndpointId']}-{zone_id}.{domain_tail}",
        "ZoneStatus": "Creating",
        "RegionId": ctx.region,
        "ZoneIpv6Address": "",
    }


def _protection(ctx: Context, endpoint: Record) -> None:
    """An endpoint under managed protection answers only the identity that made it, via STS."""
    owner = endpoint.get("_protected_for")
    if owner and owner != ctx.identity.principal_id:
        raise ApiError(
            "OperationDenied.EndpointProtected",
            f"The endpoint {endpoint['_id']} is protected: only the identity that created it, "
            "through STS, may change or delete it.",
        )


def _changeable(ctx: Context, endpoint: Record) -> None:
    """What every change of an endpoint needs: not locked, not protected from the caller, Active
    (not Creating, Deleting, or Pending while another zone change runs)."""
    if locked(endpoint, "EndpointBusinessStatus"):
        raise ApiError("EndpointLocked", f"The endpoint {endpoint['_id']} is locked.")
    _protection(ctx, endpoint)
    require(endpoint, "EndpointStatus", ("Active",), "EndpointOperationDenied", "endpoint")


# -- create, read -------------------------------------------------------------------------------


@PRODUCT.action("CreateVpcEndpoint", write=True)
def create_vpc_endpoint(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    endpoint_type = p.text("EndpointType", default="Interface", choices=("Interface",))
    vpc = vpc_for(ctx, NETWORK, p.req("VpcId"))
    name = p.text("EndpointName", default="", max_len=128)
    description = p.text("EndpointDescription", default="")
    affinity = p.boolean("ZoneAffinityEnabled", False)
    protected = p.boolean("ProtectedEnabled", False)
    groups = _security_groups(ctx, vpc["VpcId"])
    zone_entries = p.objects("Zone")
    if not zone_entries:
        raise missing("Zone.1.ZoneId")
    service = _target_service(ctx)
    zones = []
    for position, entry in enumerate(zone_entries, start=1):
        where = f"Zone.{position}"
        zone_id, vsw_id = entry.get("ZoneId") or "", entry.get("VSwitchId") or ""
        if not zone_id:
            raise missing(f"{where}.ZoneId")
        if not vsw_id:
            raise missing(f"{where}.VSwitchId")
        if any(zone_id == z[0] for z in zones):
            raise ApiError("EndpointZoneDuplicated", f"Zone {zone_id} is listed twice ({where}).")
        vswitch = _zone_entry(ctx, service, vpc["VpcId"], zone_id, vsw_id, where)
        wanted = entry.get("ip") or None
        if wanted is not None:
            wanted = to_ipv4(f"{where}.ip", wanted)
        zones.append((zone_id, vswitch, wanted))
    tags = p.tags()
    linked_role, role_name = SERVICE_LINKED_ROLE
    create_role = ctx.may_create_service_linked_role(
        linked_role, role_name, "CheckServiceLinkRoleError"
    )
    ctx.dry_run_passes()
    if create_role:
        ctx.create_service_linked_role(linked_role)

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
        "_modified": ctx.now(),
        "SecurityGroupIds": groups,
        "Zones": [],
        "Tags": tags,
    }
    if protected and ctx.identity.identity_type == "AssumedRoleUser":
        record["_protected_for"] = ctx.identity.principal_id
    elif protected:
        record["_protected_for"] = "(an STS session)"  # nobody can match it but through STS
    for zone_id, vswitch, wanted_ip in zones:
        try:
            record["Zones"].append(_new_zone(ctx, record, zone_id, vswitch, wanted_ip))
        except ApiError:
            ctx.store.release_all_ips(record)
            raise
    ctx.store.create(ENDPOINT, endpoint_id, ctx.uid, record)
    ctx.store.hide_until_consistent(record)
    ctx.store.schedule(record, [(ctx.store.delay("CreateVpcEndpoint"), "pl.endpoint_ready", None)])
    return pick(record, CREATED_FIELDS)


@effect("pl.endpoint_ready")
def _endpoint_ready(store: Store, endpoint: Record, _: Any) -> None:
    endpoint["EndpointStatus"] = "Active"
    service = store.get(SERVICE, endpoint["ServiceId"])
    if service is None:
        endpoint["ConnectionStatus"] = "ServiceDeleted"
        return
    if service["AutoAcceptEnabled"]:
        set_connection(store, endpoint, "Connecting", "Connecting")
        store.schedule(
            endpoint, [(store.delay("EnableVpcEndpointConnection"), "pl.connection", "Connected")]
        )
    else:
        # Waiting for the provider: the connection Disconnected, its zones Wait.
        set_connection(store, endpoint, "Disconnected", "Wait")


@effect("pl.connection")
def _connection(store: Store, endpoint: Record, status: str) -> None:
    set_connection(store, endpoint, status, status)


@effect("pl.endpoint_gone")
def _endpoint_gone(store: Store, endpoint: Record, _: Any) -> None:
    store.delete(ENDPOINT, endpoint["_id"])


@PRODUCT.action("GetVpcEndpointAttribute")
def get_vpc_endpoint_attribute(ctx: Context) -> dict[str, Any]:
    endpoint = endpoint_of(ctx)
    service = ctx.store.get(SERVICE, endpoint["ServiceId"])
    return pick(endpoint, LISTED_FIELDS) | {
        "Payer": service["Payer"] if service else "Endpoint",
        "ZonePrivateIpAddressCount": endpoint["ZonePrivateIpAddressCount"],
    }


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
        candidates = [one] if one is not None and ctx.store.visible(one) else []
    else:
        candidates = ctx.listed(ENDPOINT)
    found = [
        pick(endpoint, LISTED_FIELDS) | {"Tags": tags_of(endpoint)}
        for endpoint in candidates
        if all(endpoint[key] == value for key, value in wanted.items())
        and (not tags or matches_tags(endpoint, tags))
    ]
    return paged(ctx, found, "Endpoints", total_as_text=False)


@PRODUCT.action("UpdateVpcEndpointAttribute", write=True)
def update_vpc_endpoint_attribute(ctx: Context) -> dict[str, Any]:
    endpoint = endpoint_of(ctx)
    changes: dict[str, Any] = {}
    for key in ("EndpointName", "EndpointDescription"):
        value = ctx.params.text(key)
        if value is not None:
            changes[key] = value
    affinity = ctx.params.boolean("ZoneAffinityEnabled")
    if affinity is not None:
        changes["ZoneAffinityEnabled"] = affinity
    _changeable(ctx, endpoint)
    ctx.dry_run_passes()
    endpoint.update(changes)
    return {}


# -- zones --------------------------------------------------------------------------------------


@PRODUCT.action("ListVpcEndpointZones")
def list_vpc_endpoint_zones(ctx: Context) -> dict[str, Any]:
    endpoint = endpoint_of(ctx)
    return paged(
        ctx, [pick(zone, ZONE_FIELDS) for zone in endpoint["Zones"]], "Zones", total_as_text=False
    )


@PRODUCT.action("AddZoneToVpcEndpoint", write=True)
def add_zone(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    endpoint = endpoint_of(ctx)
    zone_id, vsw_id = p.req("ZoneId"), p.req("VSwitchId")
    _changeable(ctx, endpoint)
    service = ctx.store.get(SERVICE, endpoint["ServiceId"])
    if service is None or service["ServiceStatus"] == "Deleting":
        raise ApiError(
            "EndpointServiceDeleted", f"The endpoint service {endpoint['ServiceId']} is deleted."
        )
    if any(zone["ZoneId"] == zone_id for zone in endpoint["Zones"]):
        raise ApiError("EndpointZoneDuplicated", f"The endpoint is already in zone {zone_id}.")
    vswitch = _zone_entry(ctx, service, endpoint["VpcId"], zone_id, vsw_id, "Zone")
    wanted = p.text("ip")
    if wanted is not None:
        wanted = to_ipv4("ip", wanted)
    ctx.dry_run_passes()
    endpoint["Zones"].append(_new_zone(ctx, endpoint, zone_id, vswitch, wanted))
    endpoint["EndpointStatus"] = "Pending"
    ctx.store.schedule(
        endpoint, [(ctx.store.delay("AddZoneToVpcEndpoint"), "pl.zone_added", zone_id)]
    )
    return {}


@effect("pl.zone_added")
def _zone_added(store: Store, endpoint: Record, zone_id: str) -> None:
    # The new zone joins the connection as it stands.
    status = {"Connected": "Connected", "Disconnected": "Wait"}.get(
        endpoint["ConnectionStatus"], endpoint["ConnectionStatus"]
    )
    for zone in endpoint["Zones"]:
        if zone["ZoneId"] == zone_id:
            zone["ZoneStatus"] = status
    endpoint["EndpointStatus"] = "Active"


@PRODUCT.action("RemoveZoneFromVpcEndpoint", write=True)
def remove_zone(ctx: Context) -> dict[str, Any]:
    endpoint = endpoint_of(ctx)
    zone_id = ctx.params.req("ZoneId")
    zone = next((z for z in endpoint["Zones"] if z["ZoneId"] == zone_id), None)
    if zone is None:
        raise not_found("EndpointZoneNotFound", "endpoint zone", zone_id)
    _changeable(ctx, endpoint)
    if endpoint["ConnectionStatus"] in ("Connecting", "Disconnecting", "Pending"):
        raise ApiError(
            "EndpointConnectionOperationDenied",
            f"The connection of {endpoint['_id']} is {endpoint['ConnectionStatus']}; remove the "
            "zone once it has settled.",
        )
    ctx.dry_run_passes()
    zone["ZoneStatus"] = "Deleting"
    endpoint["EndpointStatus"] = "Pending"
    ctx.store.schedule(
        endpoint, [(ctx.store.delay("RemoveZoneFromVpcEndpoint"), "pl.zone_removed", zone_id)]
    )
    return {}


@effect("pl.zone_removed")
def _zone_removed(store: Store, endpoint: Record, zone_id: str) -> None:
    for zone in [z for z in endpoint["Zones"] if z["ZoneId"] == zone_id]:
        endpoint["Zones"].remove(zone)
        store.release_ip(endpoint, zone["VSwitchId"], zone["EniIp"])
    endpoint["EndpointStatus"] = "Active"


# -- security groups ----------------------------------------------------------------------------


@PRODUCT.action("ListVpcEndpointSecurityGroups")
def list_vpc_endpoint_security_groups(ctx: Context) -> dict[str, Any]:
    endpoint = endpoint_of(ctx)
    rows = [
        {"SecurityGroupId": group, "SecurityGroupStatus": "Attached"}
        for group in endpoint["SecurityGroupIds"]
    ]
    return paged(ctx, rows, "SecurityGroups", total_as_text=False)


def _security_group_change(ctx: Context, attach: bool) -> dict[str, Any]:
    endpoint = endpoint_of(ctx)
    group_id = ctx.params.req("SecurityGroupId")
    _security_group(ctx, group_id, "SecurityGroupId", endpoint["VpcId"])
    _changeable(ctx, endpoint)
    groups = endpoint["SecurityGroupIds"]
    if attach and group_id in groups:
        raise ApiError("SecurityGroupExist", f"{group_id} is already attached.")
    if not attach and group_id in groups and len(groups) == 1:
        raise ApiError(
            "EndpointMustContainSecurityGroup", "An endpoint keeps at least one security group."
        )
    ctx.dry_run_passes()
    if attach:
        groups.append(group_id)
    elif group_id in groups:
        groups.remove(group_id)
    return {}


@PRODUCT.action("AttachSecurityGroupToVpcEndpoint", write=True)
def attach_security_group(ctx: Context) -> dict[str, Any]:
    return _security_group_change(ctx, attach=True)


@PRODUCT.action("DetachSecurityGroupFromVpcEndpoint", write=True)
def detach_security_group(ctx: Context) -> dict[str, Any]:
    return _security_group_change(ctx, attach=False)


# -- delete ---------------------------------------------------------------------------------------


@PRODUCT.action("DeleteVpcEndpoint", write=True)
def delete_vpc_endpoint(ctx: Context) -> dict[str, Any]:
    endpoint = endpoint_of(ctx)
    _protection(ctx, endpoint)
    if endpoint["EndpointStatus"] == "Deleting":
        ctx.dry_run_passes()
        return {}
    require(endpoint, "EndpointStatus", ("Active",), "EndpointOperationDenied", "endpoint")
    if endpoint["Zones"]:
        raise ApiError(
            "EndpointDependenceViolation",
            f"The endpoint {endpoint['_id']} has zones: "
            f"{', '.join(zone['ZoneId'] for zone in endpoint['Zones'])}. Remove them "
            "(RemoveZoneFromVpcEndpoint) first.",
        )
    ctx.dry_run_passes()
    ctx.store.cancel(endpoint)
    endpoint["EndpointStatus"] = "Deleting"
    endpoint["ConnectionStatus"] = "Deleting"
    ctx.store.schedule(endpoint, [(ctx.store.delay("DeleteVpcEndpoint"), "pl.endpoint_gone", None)])
    return {}
