"""NLB 2022-04-30: load balancers, server groups, servers, listeners and their jobs.

Statuses follow docs/cloud-api.md: load balancers Provisioning → Active (Configuring while updated,
Deleting → gone), server groups Creating → Available (Configuring while their servers change),
servers Adding → Available and Removing → gone, listeners Provisioning → Running (Stopping →
Stopped, Starting → Running, Configuring → Running, Deleting → gone). Every asynchronous write
answers a JobId whose GetJobStatus goes Processing → Succeeded with the resource.

cloudsim's conventions where no source names the code:
- an operation on a resource in a transitional state: `IncorrectStatus.loadBalancer`,
  `IncorrectStatus.serverGroup`, `IncorrectStatus.listener` (HTTP 400, retryable);
- a dependency that will not go away by itself: `ResourceInUse.loadBalancer` (an NLB that still has
  listeners or backs an endpoint service), `ResourceInUse.serverGroup` (a server group a listener
  forwards to); one that is already being deleted makes the refusal retryable instead:
  `IncorrectStatus.loadBalancer` (listeners or endpoint services still Deleting),
  `IncorrectStatus.serverGroup` (listeners still Deleting);
- a listener port already taken on the NLB: `ResourceAlreadyExist.listener`;
- a server already in the group on that port: `ResourceAlreadyExist.BackendServer`.
"""

from __future__ import annotations

from typing import Any

from cloudsim import ids
from cloudsim.errors import ApiError, invalid, missing, not_found
from cloudsim.params import Params, load_json, paginate, to_bool, to_int, to_ip, to_ipv4
from cloudsim.products import tagging
from cloudsim.products.base import (
    Context,
    Product,
    check_zone,
    in_any,
    matches_tags,
    public,
    require,
    resource_group,
    tag_list,
    vpc_for,
    vswitch_for,
)
from cloudsim.store import Record, Store, effect

PRODUCT = Product("nlb", "2022-04-30", "nlb")

LB = "loadbalancer"
SG = "servergroup"
LSN = "listener"
JOB = "job"

LB_NOT_FOUND = "ResourceNotFound.loadBalancer"
SG_NOT_FOUND = "ResourceNotFound.serverGroup"
LSN_NOT_FOUND = "ResourceNotFound.listener"
SERVER_NOT_FOUND = "ResourceNotFound.BackendServer"
PAGE_LIMIT = 100

HEALTH_DEFAULTS: dict[str, Any] = {
    "HealthCheckEnabled": True,
    "HealthCheckType": "TCP",
    "HealthCheckConnectPort": 0,
    "HealthyThreshold": 2,
    "UnhealthyThreshold": 2,
    "HealthCheckConnectTimeout": 5,
    "HealthCheckInterval": 10,
    "HealthCheckDomain": "$SERVER_IP",
    "HealthCheckUrl": "/",
    "HealthCheckHttpCode": ["http_2xx", "http_3xx"],
    "HttpCheckMethod": "GET",
    "HealthCheckHttpVersion": "HTTP1.1",
    "HealthCheckReq": "",
    "HealthCheckExp": "",
}
_HEALTH_INTS = {
    "HealthCheckConnectPort": (0, 65535),
    "HealthyThreshold": (2, 10),
    "UnhealthyThreshold": (2, 10),
    "HealthCheckConnectTimeout": (1, 300),
    "HealthCheckInterval": (1, 50),
}

tagging.register(
    PRODUCT,
    {
        "loadbalancer": (LB, LB_NOT_FOUND),
        "servergroup": (SG, SG_NOT_FOUND),
        "listener": (LSN, LSN_NOT_FOUND),
    },
    page_limit=PAGE_LIMIT,
    with_total=True,
)


# -- shared ---------------------------------------------------------------------------------------


def _job(ctx: Context, delay: float) -> str:
    """A job that succeeds together with the transition it stands for."""
    job_id = ids.job_id()
    job = ctx.store.create(JOB, job_id, ctx.uid, {"JobId": job_id, "Status": "Processing"})
    ctx.store.schedule(job, [(delay, "nlb.job_done", None)])
    return job_id


@effect("nlb.job_done")
def _job_done(store: Store, job: Record, _: Any) -> None:
    job["Status"] = "Succeeded"
    store.expire(job)  # GetJobStatus knows it for the retention (24 h), then NotFound


def _sync_listeners(store: Store, group_id: str) -> None:
    if store.network is None:
        return
    for listener in store.all(LSN):
        if listener["ServerGroupId"] == group_id:
            store.network.sync_listener(listener)


def _require_available(group: Record) -> None:
    """A server group changes only while Available (not Creating, Configuring or Deleting)."""
    require(
        group, "ServerGroupStatus", ("Available",), "IncorrectStatus.serverGroup", "server group"
    )


def _filtered(ctx: Context, kind: str, id_param: str, extra: dict[str, Any]) -> list[Record]:
    wanted_ids = ctx.params.items(id_param)
    tags = ctx.params.tags()
    found = []
    for record in ctx.store.owned(kind, ctx.uid):
        if wanted_ids and record["_id"] not in wanted_ids:
            continue
        if tags and not matches_tags(record, tags):
            continue
        if any(not in_any(record.get(field), values) for field, values in extra.items()):
            continue
        found.append(record)
    return found


def _page(ctx: Context, items: list[Any], key: str) -> dict[str, Any]:
    page, next_token, size = paginate(items, ctx.params, default=20, limit=PAGE_LIMIT)
    return {key: page, "TotalCount": len(items), "MaxResults": size, "NextToken": next_token or ""}


# -- load balancers -------------------------------------------------------------------------------


@PRODUCT.action("CreateLoadBalancer", write=True)
def create_load_balancer(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    address_type = p.req("AddressType", choices=("Internet", "Intranet"))
    ip_version = p.text("AddressIpVersion", default="ipv4", choices=("ipv4", "DualStack"))
    lb_type = p.text("LoadBalancerType", default="Network", choices=("Network",))
    name = p.text("LoadBalancerName", max_len=128)
    if name is not None and len(name) < 2:
        raise invalid("LoadBalancerName", "2 to 128 characters")
    vpc = vpc_for(ctx, p.req("VpcId"))
    mappings = p.objects("ZoneMappings")
    if not mappings:
        raise missing("ZoneMappings.1.ZoneId")
    if len(mappings) < 2:
        raise invalid("ZoneMappings", "an NLB is deployed in at least two zones")
    zones = []
    seen: set[str] = set()
    for position, mapping in enumerate(mappings, start=1):
        where = f"ZoneMappings.{position}"
        zone_id = mapping.get("ZoneId") or ""
        vsw_id = mapping.get("VSwitchId") or ""
        if not zone_id:
            raise missing(f"{where}.ZoneId")
        if not vsw_id:
            raise missing(f"{where}.VSwitchId")
        check_zone(ctx, zone_id, f"{where}.ZoneId")
        if zone_id in seen:
            raise invalid(f"{where}.ZoneId", f"zone {zone_id} is listed twice")
        seen.add(zone_id)
        vswitch = vswitch_for(ctx, vsw_id, f"{where}.VSwitchId", vpc["VpcId"], zone_id)
        wanted = mapping.get("PrivateIPv4Address") or None
        if wanted is not None:
            wanted = to_ipv4(f"{where}.PrivateIPv4Address", wanted)
        zones.append((zone_id, vswitch, wanted, where))
    tags = p.tags()
    ctx.dry_run_passes()

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
    for zone_id, vswitch, wanted_ip, where in zones:
        address = ctx.store.allocate_ip(record, vswitch, wanted_ip)
        if address is None:
            ctx.store.release_all_ips(record)
            if wanted_ip:
                raise invalid(
                    f"{where}.PrivateIPv4Address",
                    f"{wanted_ip} is not a free address of {vswitch['VSwitchId']}",
                )
            raise ApiError("InvalidVSwitchId.IpNotEnough", f"{vswitch['VSwitchId']} is full.")
        record["ZoneMappings"].append(
            {
                "ZoneId": zone_id,
                "VSwitchId": vswitch["VSwitchId"],
                "Status": "Active",
                "LoadBalancerAddresses": [
                    {
                        "EniId": ids.new("eni", 20),
                        "PrivateIPv4Address": address,
                        "PrivateIPv4HcStatus": "Healthy",
                        "AllocationId": "",
                        "PublicIPv4Address": "",
                        "Ipv6Address": "",
                    }
                ],
            }
        )
    ctx.store.create(LB, lb_id, ctx.uid, record)
    ctx.store.schedule(
        record, [(ctx.store.delay("CreateLoadBalancer"), "set", {"LoadBalancerStatus": "Active"})]
    )
    return {"LoadbalancerId": lb_id, "OrderId": int(ids.stable_digits(15, lb_id))}


def _view(record: Record, tag_keys: tuple[str, str]) -> dict[str, Any]:
    """A load balancer or a listener as Get… (TagKey/TagValue) or List… (Key/Value) shows it."""
    view = public(record)
    view["Tags"] = tag_list(record, *tag_keys)
    return view


@PRODUCT.action("GetLoadBalancerAttribute")
def get_load_balancer_attribute(ctx: Context) -> dict[str, Any]:
    record = ctx.owned(LB, ctx.params.req("LoadBalancerId"), LB_NOT_FOUND, "load balancer")
    return _view(record, ("TagKey", "TagValue"))


@PRODUCT.action("ListLoadBalancers")
def list_load_balancers(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    found = _filtered(
        ctx,
        LB,
        "LoadBalancerIds",
        {
            "LoadBalancerName": p.items("LoadBalancerNames"),
            "VpcId": p.items("VpcIds"),
            "LoadBalancerStatus": [v for v in [p.text("LoadBalancerStatus")] if v],
            "AddressType": [v for v in [p.text("AddressType")] if v],
            "DNSName": [v for v in [p.text("DNSName")] if v],
        },
    )
    zone_id = p.text("ZoneId")
    if zone_id:
        found = [lb for lb in found if any(z["ZoneId"] == zone_id for z in lb["ZoneMappings"])]
    views = [_view(lb, ("Key", "Value")) for lb in found]
    return _page(ctx, views, "LoadBalancers")


@PRODUCT.action("UpdateLoadBalancerAttribute", write=True)
def update_load_balancer_attribute(ctx: Context) -> dict[str, Any]:
    record = ctx.owned(LB, ctx.params.req("LoadBalancerId"), LB_NOT_FOUND, "load balancer")
    require(
        record, "LoadBalancerStatus", ("Active",), "IncorrectStatus.loadBalancer", "load balancer"
    )
    changes: dict[str, Any] = {}
    name = ctx.params.text("LoadBalancerName", max_len=128)
    if name is not None:
        changes["LoadBalancerName"] = name
    cross_zone = ctx.params.boolean("CrossZoneEnabled")
    if cross_zone is not None:
        changes["CrossZoneEnabled"] = cross_zone
    ctx.dry_run_passes()
    delay = ctx.store.delay("UpdateLoadBalancerAttribute")
    record.update(changes, LoadBalancerStatus="Configuring")
    ctx.store.schedule(record, [(delay, "set", {"LoadBalancerStatus": "Active"})])
    return {"JobId": _job(ctx, delay)}


@PRODUCT.action("DeleteLoadBalancer", write=True)
def delete_load_balancer(ctx: Context) -> dict[str, Any]:
    record = ctx.owned(LB, ctx.params.req("LoadBalancerId"), LB_NOT_FOUND, "load balancer")
    require(
        record,
        "LoadBalancerStatus",
        ("Active", "Inactive", "CreateFailed"),
        "IncorrectStatus.loadBalancer",
        "load balancer",
    )
    # Dependants that will go away by themselves make the refusal retryable (IncorrectStatus);
    # live ones will not (ResourceInUse), as for DeleteServerGroup.
    listeners = [lsn for lsn in ctx.store.all(LSN) if lsn["LoadBalancerId"] == record["_id"]]
    services = [
        service
        for service in ctx.store.all("vpcendpointservice")
        if any(res["ResourceId"] == record["_id"] for res in service["Resources"])
    ]
    live_listeners = [lsn["ListenerId"] for lsn in listeners if lsn["ListenerStatus"] != "Deleting"]
    if live_listeners:
        raise ApiError(
            "ResourceInUse.loadBalancer",
            f"The load balancer {record['_id']} still has listeners: {', '.join(live_listeners)}.",
        )
    live_services = [s["ServiceId"] for s in services if s["ServiceStatus"] != "Deleting"]
    if live_services:
        raise ApiError(
            "ResourceInUse.loadBalancer",
            f"The load balancer {record['_id']} backs endpoint services: "
            f"{', '.join(live_services)}.",
        )
    leaving = [lsn["ListenerId"] for lsn in listeners] + [s["ServiceId"] for s in services]
    if leaving:
        raise ApiError(
            "IncorrectStatus.loadBalancer",
            f"The load balancer {record['_id']} waits for {', '.join(leaving)} to be deleted.",
        )
    ctx.dry_run_passes()
    delay = ctx.store.delay("DeleteLoadBalancer")
    record["LoadBalancerStatus"] = "Deleting"
    ctx.store.schedule(record, [(delay, "delete", None)])
    return {"JobId": _job(ctx, delay)}


@PRODUCT.action("DescribeZones")
def describe_zones(ctx: Context) -> dict[str, Any]:
    return {"Zones": [{"ZoneId": z.id, "LocalName": z.name} for z in ctx.store.scenario.zones]}


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


# -- jobs -----------------------------------------------------------------------------------------


@PRODUCT.action("GetJobStatus")
def get_job_status(ctx: Context) -> dict[str, Any]:
    job = ctx.owned(JOB, ctx.params.req("JobId"), "ResourceNotFound.job", "job")
    return {"Status": job["Status"]}


@PRODUCT.action("ListAsynJobs")
def list_asyn_jobs(ctx: Context) -> dict[str, Any]:
    wanted = ctx.params.items("JobIds")
    jobs = [job for job in ctx.store.owned(JOB, ctx.uid) if not wanted or job["JobId"] in wanted]
    return {
        "Jobs": [{"Id": job["JobId"], "Status": job["Status"]} for job in jobs],
        "TotalCount": str(len(jobs)),
    }


# -- server groups --------------------------------------------------------------------------------


def _health_config(params: Params, base: dict[str, Any]) -> dict[str, Any]:
    given = params.obj("HealthCheckConfig")
    config = dict(base)
    for key, value in given.items():
        name = f"HealthCheckConfig.{key}"
        if key == "HealthCheckEnabled":
            config[key] = to_bool(name, value)
        elif key in _HEALTH_INTS:
            config[key] = to_int(name, value, *_HEALTH_INTS[key])
        elif key == "HealthCheckType":
            if value.upper() not in ("TCP", "HTTP", "UDP"):
                raise invalid(name, f"{value!r} is not one of TCP, HTTP, UDP")
            config[key] = value.upper()
        elif key.startswith("HealthCheckHttpCode."):
            config["HealthCheckHttpCode"] = params.items("HealthCheckConfig.HealthCheckHttpCode")
        elif key in (
            "HealthCheckUrl",
            "HealthCheckDomain",
            "HttpCheckMethod",
            "HealthCheckReq",
            "HealthCheckExp",
            "HealthCheckHttpVersion",
        ):
            if len(value) > 256:
                raise invalid(name, "longer than 256 characters")
            config[key] = value
        else:
            raise invalid(name, "unknown health check field")
    if config["HealthCheckType"] == "HTTP" and not str(config["HealthCheckUrl"]).startswith("/"):
        raise invalid("HealthCheckConfig.HealthCheckUrl", "an HTTP check path starts with '/'")
    return config


@PRODUCT.action("CreateServerGroup", write=True)
def create_server_group(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    name = p.req("ServerGroupName", max_len=128)
    if len(name) < 2:
        raise invalid("ServerGroupName", "2 to 128 characters")
    group_type = p.text("ServerGroupType", default="Instance", choices=("Instance", "Ip"))
    protocol = p.text("Protocol", default="TCP", choices=("TCP", "UDP", "TCPSSL", "TCP_UDP"))
    scheduler = p.text(
        "Scheduler", default="Wrr", choices=("Wrr", "Rr", "Sch", "Tch", "Qch", "Wlc")
    )
    vpc = vpc_for(ctx, p.req("VpcId"))
    health = _health_config(p, HEALTH_DEFAULTS)
    drain = p.boolean("ConnectionDrainEnabled", False)
    drain_timeout = p.integer("ConnectionDrainTimeout", default=10, low=0, high=900)
    preserve = p.boolean("PreserveClientIpEnabled", False)
    any_port = p.boolean("AnyPortEnabled", False)
    ip_version = p.text("AddressIPVersion", default="ipv4", choices=("ipv4", "DualStack"))
    tags = p.tags()
    ctx.dry_run_passes()
    group_id = ids.new("sgp", 18)
    record = ctx.store.create(
        SG,
        group_id,
        ctx.uid,
        {
            "ServerGroupId": group_id,
            "ServerGroupName": name,
            "ServerGroupStatus": "Creating",
            "ServerGroupType": group_type,
            "Protocol": protocol,
            "Scheduler": scheduler,
            "VpcId": vpc["VpcId"],
            "AddressIPVersion": ip_version,
            "AnyPortEnabled": any_port,
            "ConnectionDrainEnabled": drain,
            "ConnectionDrainTimeout": drain_timeout,
            "PreserveClientIpEnabled": preserve,
            "IpVersionAffinityMode": "",
            "HealthCheck": health,
            "RegionId": ctx.region,
            "ResourceGroupId": resource_group(ctx.uid),
            "AliUid": int(ctx.uid),
            "Servers": {},
            "Tags": tags,
        },
    )
    delay = ctx.store.delay("CreateServerGroup")
    ctx.store.schedule(record, [(delay, "set", {"ServerGroupStatus": "Available"})])
    return {"ServerGroupId": group_id, "JobId": _job(ctx, delay)}


def _group_view(ctx: Context, group: Record) -> dict[str, Any]:
    view = public(group)
    del view["Servers"]
    view["ServerCount"] = len(group["Servers"])
    view["Tags"] = tag_list(group)
    view["RelatedLoadBalancerIds"] = sorted(
        {
            lsn["LoadBalancerId"]
            for lsn in ctx.store.all(LSN)
            if lsn["ServerGroupId"] == group["_id"]
        }
    )
    return view


@PRODUCT.action("ListServerGroups")
def list_server_groups(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    found = _filtered(
        ctx,
        SG,
        "ServerGroupIds",
        {
            "ServerGroupName": p.items("ServerGroupNames"),
            "VpcId": [v for v in [p.text("VpcId")] if v],
            "ServerGroupType": [v for v in [p.text("ServerGroupType")] if v],
        },
    )
    return _page(ctx, [_group_view(ctx, group) for group in found], "ServerGroups")


@PRODUCT.action("UpdateServerGroupAttribute", write=True)
def update_server_group_attribute(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    group = ctx.owned(SG, p.req("ServerGroupId"), SG_NOT_FOUND, "server group")
    _require_available(group)
    changes: dict[str, Any] = {"HealthCheck": _health_config(p, group["HealthCheck"])}
    name = p.text("ServerGroupName", max_len=128)
    if name is not None:
        changes["ServerGroupName"] = name
    scheduler = p.text("Scheduler", choices=("Wrr", "Rr", "Sch", "Tch", "Qch", "Wlc"))
    if scheduler is not None:
        changes["Scheduler"] = scheduler
    ctx.dry_run_passes()
    delay = ctx.store.delay("UpdateServerGroupAttribute")
    group.update(changes, ServerGroupStatus="Configuring")
    ctx.store.schedule(group, [(delay, "nlb.group_ready", None)])
    return {"JobId": _job(ctx, delay)}


@PRODUCT.action("DeleteServerGroup", write=True)
def delete_server_group(ctx: Context) -> dict[str, Any]:
    group = ctx.owned(SG, ctx.params.req("ServerGroupId"), SG_NOT_FOUND, "server group")
    users = [lsn for lsn in ctx.store.all(LSN) if lsn["ServerGroupId"] == group["_id"]]
    if any(lsn["ListenerStatus"] != "Deleting" for lsn in users):
        raise ApiError(
            "ResourceInUse.serverGroup",
            f"The server group {group['_id']} is used by listeners: "
            f"{', '.join(lsn['ListenerId'] for lsn in users)}.",
        )
    if users:
        raise ApiError(
            "IncorrectStatus.serverGroup",
            f"The server group {group['_id']} waits for its listeners to be deleted.",
        )
    _require_available(group)
    ctx.dry_run_passes()
    delay = ctx.store.delay("DeleteServerGroup")
    group["ServerGroupStatus"] = "Deleting"
    ctx.store.schedule(group, [(delay, "delete", None)])
    return {"JobId": _job(ctx, delay)}


@effect("nlb.group_ready")
def _group_ready(store: Store, group: Record, _: Any) -> None:
    """Servers finish adding or removing; the group is Available; listeners follow."""
    for key, server in list(group["Servers"].items()):
        if server["Status"] == "Removing":
            del group["Servers"][key]
        elif server["Status"] in ("Adding", "Configuring"):
            server["Status"] = "Available"
    group["ServerGroupStatus"] = "Available"
    _sync_listeners(store, group["_id"])


def _servers_param(ctx: Context, group: Record, for_add: bool) -> list[dict[str, Any]]:
    entries = ctx.params.objects("Servers")
    if not entries:
        raise missing("Servers.1.ServerId")
    if len(entries) > 200:
        raise invalid("Servers", "at most 200 servers per call")
    servers = []
    for position, entry in enumerate(entries, start=1):
        where = f"Servers.{position}"
        server_id = entry.get("ServerId") or ""
        if not server_id:
            raise missing(f"{where}.ServerId")
        server_type = entry.get("ServerType") or ("Ecs" if for_add else "")
        if for_add and server_type not in ("Ecs", "Eni", "Eci", "Ip"):
            raise invalid(f"{where}.ServerType", f"{server_type!r} is not Ecs, Eni, Eci or Ip")
        if "Port" in entry and entry["Port"] != "":
            port = to_int(f"{where}.Port", entry["Port"], 0, 65535)
        elif group["AnyPortEnabled"]:
            port = 0
        else:
            raise missing(f"{where}.Port")
        server: dict[str, Any] = {"ServerId": server_id, "ServerType": server_type, "Port": port}
        if for_add:
            server["Weight"] = to_int(f"{where}.Weight", entry.get("Weight") or "100", 0, 100)
            server["Description"] = entry.get("Description", "")
            server.update(_locate_server(ctx, group, server, entry, where))
        elif "Weight" in entry:
            server["Weight"] = to_int(f"{where}.Weight", entry["Weight"], 0, 100)
        servers.append(server)
    return servers


def _locate_server(
    ctx: Context, group: Record, server: dict[str, Any], entry: dict[str, str], where: str
) -> dict[str, Any]:
    if server["ServerType"] == "Ecs":
        instance = ctx.store.get("instance", server["ServerId"], owner=ctx.uid)
        if instance is None:
            raise not_found(SERVER_NOT_FOUND, "backend server", server["ServerId"])
        if instance["VpcId"] != group["VpcId"]:
            raise invalid(
                f"{where}.ServerId",
                f"{server['ServerId']} is in {instance['VpcId']}, the server group in "
                f"{group['VpcId']}",
            )
        return {"ServerIp": instance["PrivateIpAddress"], "ZoneId": instance["ZoneId"]}
    address = entry.get("ServerIp") or (server["ServerId"] if server["ServerType"] == "Ip" else "")
    if not address:
        raise missing(f"{where}.ServerIp")
    name = f"{where}.ServerIp" if entry.get("ServerIp") else f"{where}.ServerId"
    return {"ServerIp": to_ip(name, address), "ZoneId": ""}


@PRODUCT.action("AddServersToServerGroup", write=True)
def add_servers_to_server_group(ctx: Context) -> dict[str, Any]:
    group = ctx.owned(SG, ctx.params.req("ServerGroupId"), SG_NOT_FOUND, "server group")
    _require_available(group)
    servers = _servers_param(ctx, group, for_add=True)
    keys = set()
    for server in servers:
        key = f"{server['ServerId']}:{server['Port']}"
        if key in group["Servers"] or key in keys:
            raise ApiError(
                "ResourceAlreadyExist.BackendServer",
                f"The server {server['ServerId']} is already in {group['_id']} on port "
                f"{server['Port']}.",
            )
        keys.add(key)
    ctx.dry_run_passes()
    for server in servers:
        server["ServerGroupId"] = group["_id"]
        server["Status"] = "Adding"
        group["Servers"][f"{server['ServerId']}:{server['Port']}"] = server
    return _reconfigure(ctx, group, "AddServersToServerGroup")


def _reconfigure(ctx: Context, group: Record, operation: str) -> dict[str, Any]:
    delay = ctx.store.delay(operation)
    group["ServerGroupStatus"] = "Configuring"
    ctx.store.schedule(group, [(delay, "nlb.group_ready", None)])
    return {"ServerGroupId": group["_id"], "JobId": _job(ctx, delay)}


def _existing(group: Record, servers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for server in servers:
        current = group["Servers"].get(f"{server['ServerId']}:{server['Port']}")
        if current is None:
            raise not_found(
                SERVER_NOT_FOUND, "backend server", f"{server['ServerId']}:{server['Port']}"
            )
        found.append(current)
    return found


@PRODUCT.action("RemoveServersFromServerGroup", write=True)
def remove_servers_from_server_group(ctx: Context) -> dict[str, Any]:
    group = ctx.owned(SG, ctx.params.req("ServerGroupId"), SG_NOT_FOUND, "server group")
    _require_available(group)
    current = _existing(group, _servers_param(ctx, group, for_add=False))
    ctx.dry_run_passes()
    for server in current:
        server["Status"] = "Removing"
    # Traffic stops at once; the record lingers as Removing until the job is done.
    _sync_listeners(ctx.store, group["_id"])
    return _reconfigure(ctx, group, "RemoveServersFromServerGroup")


@PRODUCT.action("UpdateServerGroupServersAttribute", write=True)
def update_server_group_servers_attribute(ctx: Context) -> dict[str, Any]:
    group = ctx.owned(SG, ctx.params.req("ServerGroupId"), SG_NOT_FOUND, "server group")
    _require_available(group)
    wanted = _servers_param(ctx, group, for_add=False)
    current = _existing(group, wanted)
    ctx.dry_run_passes()
    for server, change in zip(current, wanted, strict=True):
        if "Weight" in change:
            server["Weight"] = change["Weight"]
        server["Status"] = "Configuring"
    return _reconfigure(ctx, group, "UpdateServerGroupServersAttribute")


@PRODUCT.action("ListServerGroupServers")
def list_server_group_servers(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    group_id = p.text("ServerGroupId")
    if group_id is not None:
        groups = [ctx.owned(SG, group_id, SG_NOT_FOUND, "server group")]
    else:
        groups = ctx.store.owned(SG, ctx.uid)
    server_ids, server_ips = p.items("ServerIds"), p.items("ServerIps")
    servers = [
        dict(server)
        for group in groups
        for server in group["Servers"].values()
        if in_any(server["ServerId"], server_ids) and in_any(server["ServerIp"], server_ips)
    ]
    return _page(ctx, servers, "Servers")


# -- listeners ------------------------------------------------------------------------------------


@PRODUCT.action("CreateListener", write=True)
def create_listener(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    lb = ctx.owned(LB, p.req("LoadBalancerId"), LB_NOT_FOUND, "load balancer")
    protocol = p.req("ListenerProtocol", choices=("TCP", "UDP", "TCPSSL"))
    start_port = p.integer("StartPort", low=0, high=65535)
    end_port = p.integer("EndPort", low=0, high=65535)
    if start_port is None and end_port is None:
        port = p.integer("ListenerPort", required=True, low=1, high=65535)
    else:
        port = p.integer("ListenerPort", default=0, low=0, high=65535)
    assert port is not None
    group = ctx.owned(SG, p.req("ServerGroupId"), SG_NOT_FOUND, "server group")
    idle = p.integer("IdleTimeout", default=900, low=1, high=3600)
    description = p.text("ListenerDescription", default="")
    proxy_protocol = p.boolean("ProxyProtocolEnabled", False)
    ppv2_text = p.text("ProxyProtocolV2Config", max_len=2000)
    ppv2 = {
        "Ppv2PrivateLinkEpIdEnabled": False,
        "Ppv2PrivateLinkEpsIdEnabled": False,
        "Ppv2VpcIdEnabled": False,
    }
    if ppv2_text:
        given = load_json("ProxyProtocolV2Config", ppv2_text)
        if not isinstance(given, dict) or not set(given) <= set(ppv2):
            raise invalid("ProxyProtocolV2Config", f"expected a JSON object with {', '.join(ppv2)}")
        ppv2.update({key: bool(value) for key, value in given.items()})
    tags = p.tags()
    require(lb, "LoadBalancerStatus", ("Active",), "IncorrectStatus.loadBalancer", "load balancer")
    require(
        group,
        "ServerGroupStatus",
        ("Available", "Configuring"),
        "IncorrectStatus.serverGroup",
        "server group",
    )
    if group["VpcId"] != lb["VpcId"]:
        raise invalid(
            "ServerGroupId",
            f"{group['_id']} is in {group['VpcId']}, the load balancer in {lb['VpcId']}",
        )
    for other in ctx.store.all(LSN):
        if (
            other["LoadBalancerId"] == lb["_id"]
            and other["ListenerPort"] == port
            and other["ListenerProtocol"] == protocol
        ):
            raise ApiError(
                "ResourceAlreadyExist.listener",
                f"The load balancer {lb['_id']} already listens on {protocol} {port} "
                f"({other['ListenerId']}).",
            )
    ctx.dry_run_passes()
    listener_id = ids.new("lsn", 20)
    record = ctx.store.create(
        LSN,
        listener_id,
        ctx.uid,
        {
            "ListenerId": listener_id,
            "LoadBalancerId": lb["_id"],
            "ListenerProtocol": protocol,
            "ListenerPort": port,
            "StartPort": str(start_port or 0),
            "EndPort": str(end_port or 0),
            "ServerGroupId": group["_id"],
            "ListenerStatus": "Provisioning",
            "ListenerDescription": description,
            "IdleTimeout": idle,
            "ProxyProtocolEnabled": proxy_protocol,
            "ProxyProtocolV2Config": ppv2,
            "SecSensorEnabled": False,
            "AlpnEnabled": False,
            "AlpnPolicy": "",
            "CaEnabled": False,
            "CaCertificateIds": [],
            "CertificateIds": [],
            "SecurityPolicyId": "",
            "Cps": 0,
            "Mss": 0,
            "RegionId": ctx.region,
            "Tags": tags,
        },
    )
    delay = ctx.store.delay("CreateListener")
    ctx.store.schedule(record, [(delay, "nlb.listener_status", "Running")])
    return {"ListenerId": listener_id, "JobId": _job(ctx, delay)}


@effect("nlb.listener_status")
def _listener_status(store: Store, listener: Record, status: str) -> None:
    listener["ListenerStatus"] = status
    if store.network is not None:
        store.network.sync_listener(listener)


@effect("nlb.listener_gone")
def _listener_gone(store: Store, listener: Record, _: Any) -> None:
    store.delete(LSN, listener["_id"])
    if store.network is not None:
        store.network.remove_listener(listener["_id"])


@PRODUCT.action("GetListenerAttribute")
def get_listener_attribute(ctx: Context) -> dict[str, Any]:
    record = ctx.owned(LSN, ctx.params.req("ListenerId"), LSN_NOT_FOUND, "listener")
    return _view(record, ("TagKey", "TagValue"))


@PRODUCT.action("ListListeners")
def list_listeners(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    found = _filtered(
        ctx,
        LSN,
        "ListenerIds",
        {
            "LoadBalancerId": p.items("LoadBalancerIds"),
            "ListenerProtocol": [v for v in [p.text("ListenerProtocol")] if v],
        },
    )
    return _page(ctx, [_view(lsn, ("Key", "Value")) for lsn in found], "Listeners")


def _listener_transition(
    ctx: Context, allowed: tuple[str, ...], during: str, after: str, operation: str
) -> dict[str, Any]:
    listener = ctx.owned(LSN, ctx.params.req("ListenerId"), LSN_NOT_FOUND, "listener")
    require(listener, "ListenerStatus", allowed, "IncorrectStatus.listener", "listener")
    ctx.dry_run_passes()
    delay = ctx.store.delay(operation)
    listener["ListenerStatus"] = during
    if ctx.store.network is not None and during in ("Stopping", "Deleting"):
        ctx.store.network.remove_listener(listener["_id"])
    effect_name = "nlb.listener_gone" if during == "Deleting" else "nlb.listener_status"
    ctx.store.schedule(listener, [(delay, effect_name, after)])
    return {"JobId": _job(ctx, delay)}


@PRODUCT.action("DeleteListener", write=True)
def delete_listener(ctx: Context) -> dict[str, Any]:
    return _listener_transition(ctx, ("Running", "Stopped"), "Deleting", "", "DeleteListener")


@PRODUCT.action("StopListener", write=True)
def stop_listener(ctx: Context) -> dict[str, Any]:
    return _listener_transition(ctx, ("Running",), "Stopping", "Stopped", "StopListener")


@PRODUCT.action("StartListener", write=True)
def start_listener(ctx: Context) -> dict[str, Any]:
    return _listener_transition(ctx, ("Stopped",), "Starting", "Running", "StartListener")


@PRODUCT.action("UpdateListenerAttribute", write=True)
def update_listener_attribute(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    listener = ctx.owned(LSN, p.req("ListenerId"), LSN_NOT_FOUND, "listener")
    require(
        listener, "ListenerStatus", ("Running", "Stopped"), "IncorrectStatus.listener", "listener"
    )
    changes: dict[str, Any] = {}
    group_id = p.text("ServerGroupId")
    if group_id is not None:
        group = ctx.owned(SG, group_id, SG_NOT_FOUND, "server group")
        lb = ctx.store.get(LB, listener["LoadBalancerId"])
        if lb is not None and group["VpcId"] != lb["VpcId"]:
            raise invalid("ServerGroupId", f"{group_id} is not in the load balancer's VPC")
        changes["ServerGroupId"] = group_id
    idle = p.integer("IdleTimeout", low=1, high=3600)
    if idle is not None:
        changes["IdleTimeout"] = idle
    description = p.text("ListenerDescription")
    if description is not None:
        changes["ListenerDescription"] = description
    ctx.dry_run_passes()
    delay = ctx.store.delay("UpdateListenerAttribute")
    after = listener["ListenerStatus"]
    listener.update(changes, ListenerStatus="Configuring")
    ctx.store.schedule(listener, [(delay, "nlb.listener_status", after)])
    return {"JobId": _job(ctx, delay)}


@PRODUCT.action("GetListenerHealthStatus")
def get_listener_health_status(ctx: Context) -> dict[str, Any]:
    listener = ctx.owned(LSN, ctx.params.req("ListenerId"), LSN_NOT_FOUND, "listener")
    group = ctx.store.get(SG, listener["ServerGroupId"])
    infos = []
    if group is not None:
        enabled = bool(group["HealthCheck"]["HealthCheckEnabled"])
        health = {}
        if ctx.store.network is not None and listener["ListenerStatus"] == "Running":
            health = ctx.store.network.backend_health(listener["_id"])
        non_normal = []
        for server in group["Servers"].values():
            if server["Status"] == "Removing" or not enabled:
                continue
            status, reason = "Initial", None
            if server["Status"] == "Available":
                state = health.get((server["ServerId"], server["Port"]))
                if state is not None:
                    status, reason = state.status, state.reason_code
            if status == "Healthy":
                continue
            entry: dict[str, Any] = {
                "ServerId": server["ServerId"],
                "ServerIp": server["ServerIp"],
                "Port": server["Port"],
                "Status": status,
            }
            if reason:
                entry["Reason"] = {"ReasonCode": reason}
            non_normal.append(entry)
        infos.append(
            {
                "ServerGroupId": group["_id"],
                "HeathCheckEnabled": enabled,
                "NonNormalServers": non_normal,
            }
        )
    return {
        "ListenerHealthStatus": [
            {
                "ListenerId": listener["_id"],
                "ListenerPort": listener["ListenerPort"],
                "ListenerProtocol": listener["ListenerProtocol"],
                "ServerGroupInfos": infos,
            }
        ],
        "TotalCount": 1,
        "MaxResults": 20,
        "NextToken": "",
    }
