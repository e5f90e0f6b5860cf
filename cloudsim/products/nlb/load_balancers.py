"""Load balancers (seed step 1), their protection, and the zones NLB is offered in.

Statuses: Provisioning → Active (Configuring while changed, Deleting → gone). Rules, from the API
reference and the metadata (cloudsim/metadata/nlb.json):
- CreateLoadBalancer needs zones where NLB is offered (`UnauthorizedZone`, HTTP 403; NLB's
  DescribeZones lists them: "Queries zones in a region that supports NLB"), two of them at
  least (`InvalidZones`), each once (`OperationFailed.DuplicateZones.`, trailing dot and all),
  vSwitches of the VPC in those zones (`ResourceNotFound.VSwitch`, HTTP 404;
  `Mismatch.ZoneIdAndVswitchId`), free addresses (`ResourceInUse.IP`,
  `ResourceNotEnough.VSwitchIp`), and NLB's service-linked role, which the first load balancer
  of an account creates if its caller may (`OperationDenied.ServiceLinkedRoleNotExist`; "creating
  an NLB instance automatically creates the AliyunServiceRoleForNlb role").
- DeleteLoadBalancer refuses one being created (`ResourceInCreating.loadbalancer`), changed
  (`ResourceInConfiguring.loadbalancer`) or deleted (`IncorrectStatus.loadbalancer`), one with
  deletion protection (`OperationDenied.DeletionProtectionEnabled`), one locked other than
  ResidualLocked (`OperationDenied.<lock>`, see locks.py), and one whose listeners or job are
  still changing (`Conflict.Lock`). Whether it cascades to listeners and endpoint services, no
  source says: cloudsim refuses while a listener (`OperationDenied.ListenerExists`) or an
  endpoint service (`OperationDenied.AssociatedWithEndpointService`) still uses it, the stricter
  reading (the suffixes are cloudsim's; the metadata documents `OperationDenied.%s`).
- UpdateLoadBalancerProtection sets deletion protection and modification protection
  (`ConsoleProtection` only blocks the console: "cannot modify the instance in the console, but
  can through the API").
"""

from __future__ import annotations

from typing import Any

from cloudsim import ids
from cloudsim.errors import ApiError
from cloudsim.params import to_ipv4
from cloudsim.products.base import (
    Context,
    check_zone,
    matches_tags,
    product_zones,
    resource_group,
    tag_list,
    vpc_for,
    vswitch_for,
)
from cloudsim.products.locks import load_balancer_lock
from cloudsim.products.nlb.common import (
    LB,
    LSN,
    NETWORK,
    PRODUCT,
    hold_load_balancer,
    job,
    load_balancer_of,
    paged,
    require_load_balancer_settled,
)
from cloudsim.store import Record

SERVICE_LINKED_ROLE = ("nlb.aliyuncs.com", "AliyunServiceRoleForNlb")
# What ListLoadBalancers shows of each (its model has no Cps); GetLoadBalancerAttribute adds it.
LISTED_FIELDS = (
    "AddressIpVersion", "AddressType", "BandwidthPackageId", "CreateTime", "CrossZoneEnabled",
    "DNSName", "DeletionProtectionConfig", "Ipv6AddressType", "LoadBalancerBillingConfig",
    "LoadBalancerBusinessStatus", "LoadBalancerId", "LoadBalancerName", "LoadBalancerStatus",
    "LoadBalancerType", "ModificationProtectionConfig", "OperationLocks", "RegionId",
    "ResourceGroupId", "SecurityGroupIds", "VpcId", "ZoneMappings",
)  # fmt: skip


def _missing(name: str) -> ApiError:
    return ApiError(f"MissingParam.{name}", f"The parameter {name} is mandatory.")


def _zone_mappings(ctx: Context, vpc_id: str) -> list[tuple[str, Record, str | None, str]]:
    mappings = ctx.params.objects("ZoneMappings")
    if len(mappings) < 2:
        raise ApiError("InvalidZones", "An NLB is deployed in at least two zones.")
    zones = []
    seen: set[str] = set()
    for position, mapping in enumerate(mappings, start=1):
        where = f"ZoneMappings.{position}"
        zone_id = mapping.get("ZoneId") or ""
        vsw_id = mapping.get("VSwitchId") or ""
        if not zone_id:
            raise _missing(f"{where}.ZoneId")
        if not vsw_id:
            raise _missing(f"{where}.VSwitchId")
        check_zone(ctx, NETWORK, zone_id, f"{where}.ZoneId")
        if zone_id in seen:
            raise ApiError("OperationFailed.DuplicateZones.", f"Zone {zone_id} is listed twice.")
        seen.add(zone_id)
        vswitch = vswitch_for(ctx, NETWORK, vsw_id, f"{where}.VSwitchId", vpc_id, zone_id)
        wanted = mapping.get("PrivateIPv4Address") or None
        if wanted is not None:
            wanted = to_ipv4(f"{where}.PrivateIPv4Address", wanted)
        zones.append((zone_id, vswitch, wanted, where))
    return zones


def _address(ctx: Context, record: Record, vswitch: Record, wanted: str | None) -> str:
    address = ctx.store.allocate_ip(record, vswitch, wanted)
    if address is not None:
        return address
    ctx.store.release_all_ips(record)
    if wanted:
        raise ApiError("ResourceInUse.IP", f"{wanted} is not a free address of {vswitch['_id']}.")
    raise ApiError("ResourceNotEnough.VSwitchIp", f"{vswitch['_id']} is full.")


@PRODUCT.action("CreateLoadBalancer", write=True)
def create_load_balancer(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    address_type = p.req("AddressType", choices=("Internet", "Intranet"))
    ip_version = p.text("AddressIpVersion", default="ipv4", choices=("ipv4", "DualStack"))
    lb_type = p.text("LoadBalancerType", default="Network", choices=("Network",))
    name = p.text("LoadBalancerName", max_len=128)
    if name is not None and len(name) < 2:
        raise ApiError("IllegalParam.loadBalancerName", "A name has 2 to 128 characters.")
    vpc = vpc_for(ctx, NETWORK, p.req("VpcId"))
    zones = _zone_mappings(ctx, vpc["VpcId"])
    tags = p.tags()
    linked_role, role_name = SERVICE_LINKED_ROLE
    create_role = ctx.may_create_service_linked_role(
        linked_role, role_name, "OperationDenied.ServiceLinkedRoleNotExist"
    )
    ctx.dry_run_passes()
    if create_role:
        ctx.create_service_linked_role(linked_role)

    lb_id = ids.new("nlb", 20)
    record: Record = {
        "LoadBalancerId": lb_id,
        "LoadBalancerName": name or "",
        "LoadBalancerStatus": "Provisioning",
        "LoadBalancerBusinessStatus": "Normal",
        "LoadBalancerType": lb_type,
        "AddressType": address_type,
        "AddressIpVersion": ip_version,
        "Ipv6AddressType": "",
        "VpcId": vpc["VpcId"],
        "DNSName": f"{lb_id}.{ctx.region}.nlb.aliyuncsslb.com",
        "CreateTime": ctx.now(),
        "CrossZoneEnabled": True,
        "Cps": 0,
        "BandwidthPackageId": "",
        "RegionId": ctx.region,
        "ResourceGroupId": resource_group(ctx.uid),
        "SecurityGroupIds": [],
        "DeletionProtectionConfig": {"Enabled": False, "EnabledTime": "", "Reason": ""},
        "ModificationProtectionConfig": {
            "Status": "NonProtection",
            "EnabledTime": "",
            "Reason": "",
        },
        "LoadBalancerBillingConfig": {"PayType": "PostPay"},
        "OperationLocks": [],
        "ZoneMappings": [],
        "Tags": tags,
    }
    for zone_id, vswitch, wanted_ip, _ in zones:
        record["ZoneMappings"].append(
            {
                "ZoneId": zone_id,
                "VSwitchId": vswitch["VSwitchId"],
                "Status": "Active",
                "LoadBalancerAddresses": [
                    {
                        "EniId": ids.new("eni", 20),
                        "PrivateIPv4Address": _address(ctx, record, vswitch, wanted_ip),
                        "PrivateIPv4HcStatus": "Healthy",
                        "AllocationId": "",
                        "PublicIPv4Address": "",
                        "Ipv6Address": "",
                    }
                ],
            }
        )
    ctx.store.create(LB, lb_id, ctx.uid, record)
    ctx.store.hide_until_consistent(record)
    ctx.store.schedule(
        record, [(ctx.store.delay("CreateLoadBalancer"), "set", {"LoadBalancerStatus": "Active"})]
    )
    return {"LoadbalancerId": lb_id, "OrderId": int(ids.stable_digits(15, lb_id))}


def _view(record: Record, fields: tuple[str, ...], tag_keys: tuple[str, str]) -> dict[str, Any]:
    view = {field: record[field] for field in fields}
    view["Tags"] = tag_list(record, *tag_keys)
    return view


@PRODUCT.action("GetLoadBalancerAttribute")
def get_load_balancer_attribute(ctx: Context) -> dict[str, Any]:
    record = load_balancer_of(ctx, ctx.params.req("LoadBalancerId"))
    return _view(record, (*LISTED_FIELDS, "Cps"), ("TagKey", "TagValue"))


@PRODUCT.action("ListLoadBalancers")
def list_load_balancers(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    wanted_ids = p.items("LoadBalancerIds")
    names, vpcs = p.items("LoadBalancerNames"), p.items("VpcIds")
    status, address_type = p.text("LoadBalancerStatus"), p.text("AddressType")
    business, zone_id, dns = (
        p.text("LoadBalancerBusinessStatus"),
        p.text("ZoneId"),
        p.text("DNSName"),
    )
    tags = p.tags()
    found = [
        _view(lb, LISTED_FIELDS, ("Key", "Value"))
        for lb in ctx.listed(LB)
        if (not wanted_ids or lb["_id"] in wanted_ids)
        and (not names or lb["LoadBalancerName"] in names)
        and (not vpcs or lb["VpcId"] in vpcs)
        and status in (None, lb["LoadBalancerStatus"])
        and address_type in (None, lb["AddressType"])
        and business in (None, lb["LoadBalancerBusinessStatus"])
        and dns in (None, lb["DNSName"])
        and (zone_id is None or any(z["ZoneId"] == zone_id for z in lb["ZoneMappings"]))
        and (not tags or matches_tags(lb, tags))
    ]
    return paged(ctx, found, "LoadBalancers")


@PRODUCT.action("UpdateLoadBalancerAttribute", write=True)
def update_load_balancer_attribute(ctx: Context) -> dict[str, Any]:
    record = load_balancer_of(ctx, ctx.params.req("LoadBalancerId"))
    if record["LoadBalancerStatus"] != "Active":
        raise ApiError(
            "ResourceInConfiguring.loadbalancer",
            f"The load balancer {record['_id']} is {record['LoadBalancerStatus']}.",
        )
    changes: dict[str, Any] = {}
    name = ctx.params.text("LoadBalancerName", max_len=128)
    if name is not None:
        if len(name) < 2:
            raise ApiError("IllegalParam.loadBalancerName", "A name has 2 to 128 characters.")
        changes["LoadBalancerName"] = name
    cross_zone = ctx.params.boolean("CrossZoneEnabled")
    if cross_zone is not None:
        changes["CrossZoneEnabled"] = cross_zone
    ctx.dry_run_passes()
    delay = ctx.store.delay("UpdateLoadBalancerAttribute")
    record.update(changes, LoadBalancerStatus="Configuring")
    ctx.store.schedule(record, [(delay, "set", {"LoadBalancerStatus": "Active"})])
    return {"JobId": job(ctx, delay)}


@PRODUCT.action("UpdateLoadBalancerProtection", write=True)
def update_load_balancer_protection(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    record = load_balancer_of(ctx, p.req("LoadBalancerId"))
    require_load_balancer_settled(record)
    deletion = p.boolean("DeletionProtectionEnabled")
    deletion_reason = p.text("DeletionProtectionReason", default="")
    modification = p.text(
        "ModificationProtectionStatus", choices=("NonProtection", "ConsoleProtection")
    )
    modification_reason = p.text("ModificationProtectionReason", default="")
    for name, reason in (
        ("deletionProtectionReason", deletion_reason),
        ("modificationProtectionReason", modification_reason),
    ):
        if reason and not 2 <= len(reason) <= 128:
            raise ApiError(f"IllegalParam.{name}", "A reason has 2 to 128 characters.")
    ctx.dry_run_passes()
    hold_load_balancer(ctx, record["_id"], "UpdateLoadBalancerProtection")
    if deletion is not None:
        record["DeletionProtectionConfig"] = {
            "Enabled": deletion,
            "EnabledTime": ctx.now() if deletion else "",
            "Reason": deletion_reason if deletion else "",
        }
    if modification is not None:
        protected = modification == "ConsoleProtection"
        record["ModificationProtectionConfig"] = {
            "Status": modification,
            "EnabledTime": ctx.now() if protected else "",
            "Reason": modification_reason if protected else "",
        }
    return {}


@PRODUCT.action("DeleteLoadBalancer", write=True)
def delete_load_balancer(ctx: Context) -> dict[str, Any]:
    record = load_balancer_of(ctx, ctx.params.req("LoadBalancerId"))
    require_load_balancer_settled(record)
    if record["DeletionProtectionConfig"]["Enabled"]:
        raise ApiError(
            "OperationDenied.DeletionProtectionEnabled",
            f"The operation is not allowed because of DeletionProtectionEnabled: turn off the "
            f"deletion protection of {record['_id']} first (UpdateLoadBalancerProtection).",
        )
    lock = load_balancer_lock(record)
    if lock is not None and lock != "ResidualLocked":
        raise ApiError(
            f"OperationDenied.{lock}",
            f"The load balancer {record['_id']} is locked ({lock}) and cannot be deleted.",
        )
    listeners = [
        lsn["ListenerId"] for lsn in ctx.store.all(LSN) if lsn["LoadBalancerId"] == record["_id"]
    ]
    if listeners:
        raise ApiError(
            "OperationDenied.ListenerExists",
            f"The load balancer {record['_id']} still has listeners: {', '.join(listeners)}.",
        )
    services = [
        service["ServiceId"]
        for service in ctx.store.all("vpcendpointservice")
        if any(res["ResourceId"] == record["_id"] for res in service["Resources"])
    ]
    if services:
        raise ApiError(
            "OperationDenied.AssociatedWithEndpointService",
            f"The load balancer {record['_id']} serves endpoint services: {', '.join(services)}.",
        )
    ctx.dry_run_passes()
    hold_load_balancer(ctx, record["_id"], "DeleteLoadBalancer")
    delay = ctx.store.delay("DeleteLoadBalancer")
    record["LoadBalancerStatus"] = "Deleting"
    ctx.store.schedule(record, [(delay, "delete", None)])
    return {"JobId": job(ctx, delay)}


# -- where NLB is offered -------------------------------------------------------------------------


@PRODUCT.action("DescribeZones")
def describe_zones(ctx: Context) -> dict[str, Any]:
    return {"Zones": [{"ZoneId": z.id, "LocalName": z.name} for z in product_zones(ctx)]}


@PRODUCT.action("DescribeRegions")
def describe_regions(ctx: Context) -> dict[str, Any]:
    return {
        "Regions": [
            {
                "RegionId": ctx.region,
                "LocalName": ctx.region,
                "RegionEndpoint": PRODUCT.host(ctx.region),
            }
        ]
    }
