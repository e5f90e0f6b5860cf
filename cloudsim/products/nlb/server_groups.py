"""Server groups and their servers (seed step 2).

Statuses: a group is Creating → Available, Configuring while its servers or settings change;
a server is Adding → Available, Configuring while changed, Removing → gone. Rules, from the API
reference and the metadata (cloudsim/metadata/nlb.json):
- A group changes only while Available (`IncorrectStatus.serverGroup`; the Terraform provider
  retries it), and is deleted only once no listener forwards to it (`ResourceInUse.ServerGroup`:
  "a server group can be deleted when no listener uses it").
- `PreserveClientIpEnabled` defaults to true for an IPv4 group ("true (default)", the API
  reference of CreateServerGroup).
- A server must exist (`ResourceNotFound.Ecs`, HTTP 404) in the group's VPC (`Mismatch.VpcId`),
  once per port (`DuplicatedParam.Server`); removing an unknown one:
  `ResourceNotFound.BackendServer`.
"""

from __future__ import annotations

from typing import Any

from cloudsim import ids
from cloudsim.errors import ApiError, invalid
from cloudsim.params import Params, to_bool, to_int, to_ip
from cloudsim.products.base import (
    Context,
    in_any,
    matches_tags,
    require,
    resource_group,
    tag_list,
    vpc_for,
)
from cloudsim.products.nlb.common import (
    LSN,
    NETWORK,
    PRODUCT,
    SERVER_NOT_FOUND,
    SG,
    job,
    paged,
    server_group_of,
    sync_listeners,
)
from cloudsim.store import Record, Store, effect

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
_HEALTH_TEXTS = (
    "HealthCheckUrl", "HealthCheckDomain", "HttpCheckMethod", "HealthCheckReq", "HealthCheckExp",
    "HealthCheckHttpVersion",
)  # fmt: skip
GROUP_FIELDS = (
    "AddressIPVersion", "AliUid", "AnyPortEnabled", "ConnectionDrainEnabled",
    "ConnectionDrainTimeout", "HealthCheck", "IpVersionAffinityMode", "PreserveClientIpEnabled",
    "Protocol", "RegionId", "ResourceGroupId", "Scheduler", "ServerGroupId", "ServerGroupName",
    "ServerGroupStatus", "ServerGroupType", "VpcId",
)  # fmt: skip
SERVER_FIELDS = (
    "Description", "Port", "ServerGroupId", "ServerId", "ServerIp", "ServerType", "Status",
    "Weight", "ZoneId",
)  # fmt: skip


def _require_available(group: Record) -> None:
    require(
        group, "ServerGroupStatus", ("Available",), "IncorrectStatus.serverGroup", "server group"
    )


def _health_config(params: Params, base: dict[str, Any]) -> dict[str, Any]:
    config = dict(base)
    for key, value in params.obj("HealthCheckConfig").items():
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
        elif key in _HEALTH_TEXTS:
            if len(value) > 256:
                raise invalid(name, "longer than 256 characters")
            config[key] = value
        else:
            raise invalid(name, "unknown health check field")
    if config["HealthCheckType"] == "HTTP" and not str(config["HealthCheckUrl"]).startswith("/"):
        raise ApiError("IlleagalParam.healthCheckUrl", "An HTTP check path starts with '/'.")
    return config


def _name(params: Params, required: bool) -> str | None:
    name = params.text("ServerGroupName", required=required, max_len=128)
    if name is not None and len(name) < 2:
        raise ApiError("IllegalParam.ServerGroupName", "A name has 2 to 128 characters.")
    return name


@PRODUCT.action("CreateServerGroup", write=True)
def create_server_group(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    name = _name(p, required=True)
    group_type = p.text("ServerGroupType", default="Instance", choices=("Instance", "Ip"))
    protocol = p.text("Protocol", default="TCP", choices=("TCP", "UDP", "TCPSSL", "TCP_UDP"))
    scheduler = p.text(
        "Scheduler", default="Wrr", choices=("Wrr", "Rr", "Sch", "Tch", "Qch", "Wlc")
    )
    vpc = vpc_for(ctx, NETWORK, p.req("VpcId"))
    health = _health_config(p, HEALTH_DEFAULTS)
    drain = p.boolean("ConnectionDrainEnabled", False)
    drain_timeout = p.integer("ConnectionDrainTimeout", default=10)
    if drain_timeout is not None and not 0 <= drain_timeout <= 900:
        raise ApiError("IllegalParam.ConnectionDrainTimeout", "0 to 900 seconds.")
    ip_version = p.text("AddressIPVersion", default="ipv4", choices=("ipv4", "DualStack"))
    preserve = p.boolean("PreserveClientIpEnabled", ip_version == "ipv4")
    any_port = p.boolean("AnyPortEnabled", False)
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
    ctx.store.hide_until_consistent(record)
    delay = ctx.store.delay("CreateServerGroup")
    ctx.store.schedule(record, [(delay, "set", {"ServerGroupStatus": "Available"})])
    return {"ServerGroupId": group_id, "JobId": job(ctx, delay)}


def _group_view(ctx: Context, group: Record) -> dict[str, Any]:
    view = {field: group[field] for field in GROUP_FIELDS}
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
    wanted_ids, names = p.items("ServerGroupIds"), p.items("ServerGroupNames")
    vpc_id, group_type = p.text("VpcId"), p.text("ServerGroupType")
    tags = p.tags()
    found = [
        _group_view(ctx, group)
        for group in ctx.listed(SG)
        if (not wanted_ids or group["_id"] in wanted_ids)
        and (not names or group["ServerGroupName"] in names)
        and vpc_id in (None, group["VpcId"])
        and group_type in (None, group["ServerGroupType"])
        and (not tags or matches_tags(group, tags))
    ]
    return paged(ctx, found, "ServerGroups")


@PRODUCT.action("UpdateServerGroupAttribute", write=True)
def update_server_group_attribute(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    group = server_group_of(ctx, p.req("ServerGroupId"))
    _require_available(group)
    changes: dict[str, Any] = {"HealthCheck": _health_config(p, group["HealthCheck"])}
    name = _name(p, required=False)
    if name is not None:
        changes["ServerGroupName"] = name
    scheduler = p.text("Scheduler", choices=("Wrr", "Rr", "Sch", "Tch", "Qch", "Wlc"))
    if scheduler is not None:
        changes["Scheduler"] = scheduler
    preserve = p.boolean("PreserveClientIpEnabled")
    if preserve is not None:
        changes["PreserveClientIpEnabled"] = preserve
    ctx.dry_run_passes()
    delay = ctx.store.delay("UpdateServerGroupAttribute")
    group.update(changes, ServerGroupStatus="Configuring")
    ctx.store.schedule(group, [(delay, "nlb.group_ready", None)])
    return {"ServerGroupId": group["_id"], "JobId": job(ctx, delay)}


@PRODUCT.action("DeleteServerGroup", write=True)
def delete_server_group(ctx: Context) -> dict[str, Any]:
    group = server_group_of(ctx, ctx.params.req("ServerGroupId"))
    users = [
        lsn["ListenerId"] for lsn in ctx.store.all(LSN) if lsn["ServerGroupId"] == group["_id"]
    ]
    if users:
        raise ApiError(
            "ResourceInUse.ServerGroup",
            f"The server group {group['_id']} is used by listeners: {', '.join(users)}.",
        )
    _require_available(group)
    ctx.dry_run_passes()
    delay = ctx.store.delay("DeleteServerGroup")
    group["ServerGroupStatus"] = "Deleting"
    ctx.store.schedule(group, [(delay, "delete", None)])
    return {"JobId": job(ctx, delay)}


@effect("nlb.group_ready")
def _group_ready(store: Store, group: Record, _: Any) -> None:
    """Servers finish adding or removing; the group is Available; listeners follow."""
    for key, server in list(group["Servers"].items()):
        if server["Status"] == "Removing":
            del group["Servers"][key]
        elif server["Status"] in ("Adding", "Configuring"):
            server["Status"] = "Available"
    group["ServerGroupStatus"] = "Available"
    sync_listeners(store, group["_id"])


# -- servers --------------------------------------------------------------------------------------


def _servers_param(ctx: Context, group: Record, for_add: bool) -> list[dict[str, Any]]:
    entries = ctx.params.objects("Servers")
    if len(entries) > 200:
        raise invalid("Servers", "at most 200 servers per call")
    servers = []
    for position, entry in enumerate(entries, start=1):
        where = f"Servers.{position}"
        server_id = entry.get("ServerId") or ""
        if not server_id:
            raise ApiError(f"MissingParam.{where}.ServerId", f"{where}.ServerId is mandatory.")
        server_type = entry.get("ServerType") or ("Ecs" if for_add else "")
        if for_add and server_type not in ("Ecs", "Eni", "Eci", "Ip"):
            raise invalid(f"{where}.ServerType", f"{server_type!r} is not Ecs, Eni, Eci or Ip")
        if "Port" in entry and entry["Port"] != "":
            port = to_int(f"{where}.Port", entry["Port"], 0, 65535)
        elif group["AnyPortEnabled"]:
            port = 0
        else:
            raise ApiError(f"MissingParam.{where}.Port", f"{where}.Port is mandatory.")
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
            raise ApiError(
                "ResourceNotFound.Ecs",
                f"The ECS instance {server['ServerId']!r} does not exist.",
                404,
            )
        if instance["VpcId"] != group["VpcId"]:
            raise ApiError(
                "Mismatch.VpcId",
                f"{server['ServerId']} ({where}) is in {instance['VpcId']}, the server group in "
                f"{group['VpcId']}.",
            )
        return {"ServerIp": instance["PrivateIpAddress"], "ZoneId": instance["ZoneId"]}
    address = entry.get("ServerIp") or (server["ServerId"] if server["ServerType"] == "Ip" else "")
    if not address:
        raise ApiError(f"MissingParam.{where}.ServerIp", f"{where}.ServerIp is mandatory.")
    name = f"{where}.ServerIp" if entry.get("ServerIp") else f"{where}.ServerId"
    return {"ServerIp": to_ip(name, address), "ZoneId": ""}


def _reconfigure(ctx: Context, group: Record, operation: str) -> dict[str, Any]:
    delay = ctx.store.delay(operation)
    group["ServerGroupStatus"] = "Configuring"
    ctx.store.schedule(group, [(delay, "nlb.group_ready", None)])
    return {"ServerGroupId": group["_id"], "JobId": job(ctx, delay)}


def _existing(group: Record, servers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for server in servers:
        current = group["Servers"].get(f"{server['ServerId']}:{server['Port']}")
        if current is None:
            raise ApiError(
                SERVER_NOT_FOUND,
                f"The backend server {server['ServerId']}:{server['Port']} is not in "
                f"{group['_id']}.",
                404,
            )
        found.append(current)
    return found


@PRODUCT.action("AddServersToServerGroup", write=True)
def add_servers_to_server_group(ctx: Context) -> dict[str, Any]:
    group = server_group_of(ctx, ctx.params.req("ServerGroupId"))
    _require_available(group)
    servers = _servers_param(ctx, group, for_add=True)
    keys = set()
    for server in servers:
        key = f"{server['ServerId']}:{server['Port']}"
        if key in group["Servers"] or key in keys:
            raise ApiError(
                "DuplicatedParam.Server",
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


@PRODUCT.action("RemoveServersFromServerGroup", write=True)
def remove_servers_from_server_group(ctx: Context) -> dict[str, Any]:
    group = server_group_of(ctx, ctx.params.req("ServerGroupId"))
    _require_available(group)
    current = _existing(group, _servers_param(ctx, group, for_add=False))
    ctx.dry_run_passes()
    for server in current:
        server["Status"] = "Removing"
    # Traffic stops at once; the record lingers as Removing until the job is done.
    sync_listeners(ctx.store, group["_id"])
    return _reconfigure(ctx, group, "RemoveServersFromServerGroup")


@PRODUCT.action("UpdateServerGroupServersAttribute", write=True)
def update_server_group_servers_attribute(ctx: Context) -> dict[str, Any]:
    group = server_group_of(ctx, ctx.params.req("ServerGroupId"))
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
    groups = [server_group_of(ctx, group_id)] if group_id is not None else ctx.listed(SG)
    server_ids, server_ips = p.items("ServerIds"), p.items("ServerIps")
    servers = [
        {field: server[field] for field in SERVER_FIELDS}
        for group in groups
        for server in group["Servers"].values()
        if in_any(server["ServerId"], server_ids) and in_any(server["ServerIp"], server_ips)
    ]
    return paged(ctx, servers, "Servers")
