"""Listeners (seed step 3), their backends' health, and the jobs of every asynchronous write.

Statuses: Provisioning → Running; Stopping → Stopped; Starting → Running; Configuring →
Running (or Stopped); Deleting → gone. Rules, from the API reference and the metadata:
- CreateListener needs an Active load balancer (`IncorrectStatus.loadbalancer`) that no other
  change holds (`Conflict.Lock`), a server group of its VPC (`Mismatch.VpcId`) and protocol
  (`Mismatch.Protocol`), and a free port (`Conflict.Port`).
- DeleteListener, StopListener, StartListener need a listener that is not changing
  (`IncorrectStatus.listener`).
- GetListenerHealthStatus lists only the servers that are not healthy, each with a Status:
  Initial ("health checks are configured but no result yet"), Unhealthy, Unused ("the server's
  weight is 0"), Unavailable ("health checks are not enabled"), and a Reason for the unhealthy;
  its servers are paged (MaxResults 1 to 100, default 20; the API reference).
"""

from __future__ import annotations

from typing import Any

from cloudsim import ids
from cloudsim.errors import ApiError, invalid
from cloudsim.params import decode_token, encode_token, load_json, page_size
from cloudsim.products.base import Context, matches_tags, require, tag_list
from cloudsim.products.nlb.common import (
    JOB,
    LSN,
    NOT_FOUND_STATUS,
    PAGE_DEFAULT,
    PAGE_LIMIT,
    PRODUCT,
    SG,
    hold_load_balancer,
    job,
    listener_of,
    load_balancer_of,
    paged,
    server_group_of,
)
from cloudsim.store import Record, Store, effect

LISTENER_FIELDS = (
    "AlpnEnabled", "AlpnPolicy", "CaCertificateIds", "CaEnabled", "CertificateIds", "Cps",
    "EndPort", "IdleTimeout", "ListenerDescription", "ListenerId", "ListenerPort",
    "ListenerProtocol", "ListenerStatus", "LoadBalancerId", "Mss", "ProxyProtocolEnabled",
    "ProxyProtocolV2Config", "RegionId", "SecSensorEnabled", "SecurityPolicyId", "ServerGroupId",
    "StartPort",
)  # fmt: skip
# The protocols a listener forwards to a server group of each protocol.
_COMPATIBLE = {"TCP": ("TCP", "TCP_UDP"), "UDP": ("UDP", "TCP_UDP"), "TCPSSL": ("TCP",)}


@PRODUCT.action("CreateListener", write=True)
def create_listener(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    lb = load_balancer_of(ctx, p.req("LoadBalancerId"))
    protocol = p.req("ListenerProtocol", choices=("TCP", "UDP", "TCPSSL"))
    start_port = p.integer("StartPort", low=0, high=65535)
    end_port = p.integer("EndPort", low=0, high=65535)
    port = p.integer("ListenerPort", default=0)
    assert port is not None
    any_port = start_port is not None or end_port is not None
    if not (0 if any_port else 1) <= port <= 65535:
        raise ApiError("IllegalParam.Port", f"ListenerPort {port} is not a port.")
    group = server_group_of(ctx, p.req("ServerGroupId"))
    idle = p.integer("IdleTimeout", default=900)
    if idle is not None and not 1 <= idle <= 3600:
        raise ApiError("IllegalParam.IdleTimeout", "IdleTimeout is 1 to 3600 seconds.")
    description = p.text("ListenerDescription", default="")
    proxy_protocol = p.boolean("ProxyProtocolEnabled", False)
    ppv2 = _proxy_protocol_v2(p.text("ProxyProtocolV2Config", max_len=2000))
    tags = p.tags()
    if lb["LoadBalancerStatus"] != "Active":
        raise ApiError(
            "IncorrectStatus.loadbalancer",
            f"The load balancer {lb['_id']} is {lb['LoadBalancerStatus']}.",
        )
    # CreateListener's metadata has no IncorrectStatus.serverGroup: a group that cannot take a
    # listener yet is an IllegalParam.ServerGroupId.
    require(
        group,
        "ServerGroupStatus",
        ("Available", "Configuring"),
        "IllegalParam.ServerGroupId",
        "server group",
    )
    if group["VpcId"] != lb["VpcId"]:
        raise ApiError(
            "Mismatch.VpcId",
            f"{group['_id']} is in {group['VpcId']}, the load balancer in {lb['VpcId']}.",
        )
    if group["Protocol"] not in _COMPATIBLE[protocol]:
        raise ApiError(
            "Mismatch.Protocol",
            f"A {protocol} listener cannot forward to {group['_id']}, a {group['Protocol']} group.",
        )
    for other in ctx.store.all(LSN):
        if (
            other["LoadBalancerId"] == lb["_id"]
            and other["ListenerPort"] == port
            and other["ListenerProtocol"] == protocol
        ):
            raise ApiError(
                "Conflict.Port",
                f"The load balancer {lb['_id']} already listens on {protocol} {port} "
                f"({other['ListenerId']}).",
            )
    ctx.dry_run_passes()
    hold_load_balancer(ctx, lb["_id"], "CreateListener")
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
    ctx.store.hide_until_consistent(record)
    delay = ctx.store.delay("CreateListener")
    ctx.store.schedule(record, [(delay, "nlb.listener_status", "Running")])
    return {"ListenerId": listener_id, "JobId": job(ctx, delay)}


def _proxy_protocol_v2(text: str | None) -> dict[str, bool]:
    config = {
        "Ppv2PrivateLinkEpIdEnabled": False,
        "Ppv2PrivateLinkEpsIdEnabled": False,
        "Ppv2VpcIdEnabled": False,
    }
    if text:
        given = load_json("ProxyProtocolV2Config", text)
        if not isinstance(given, dict) or not set(given) <= set(config):
            raise invalid(
                "ProxyProtocolV2Config", f"expected a JSON object with {', '.join(config)}"
            )
        config.update({key: bool(value) for key, value in given.items()})
    return config


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


def _view(listener: Record, tag_keys: tuple[str, str]) -> dict[str, Any]:
    view = {field: listener[field] for field in LISTENER_FIELDS}
    view["Tags"] = tag_list(listener, *tag_keys)
    return view


@PRODUCT.action("GetListenerAttribute")
def get_listener_attribute(ctx: Context) -> dict[str, Any]:
    return _view(listener_of(ctx, ctx.params.req("ListenerId")), ("TagKey", "TagValue"))


@PRODUCT.action("ListListeners")
def list_listeners(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    wanted_ids, balancers = p.items("ListenerIds"), p.items("LoadBalancerIds")
    protocol = p.text("ListenerProtocol")
    tags = p.tags()
    found = [
        _view(listener, ("Key", "Value"))
        for listener in ctx.listed(LSN)
        if (not wanted_ids or listener["_id"] in wanted_ids)
        and (not balancers or listener["LoadBalancerId"] in balancers)
        and protocol in (None, listener["ListenerProtocol"])
        and (not tags or matches_tags(listener, tags))
    ]
    return paged(ctx, found, "Listeners")


def _transition(
    ctx: Context, allowed: tuple[str, ...], during: str, after: str, operation: str
) -> dict[str, Any]:
    listener = listener_of(ctx, ctx.params.req("ListenerId"))
    require(listener, "ListenerStatus", allowed, "IncorrectStatus.listener", "listener")
    ctx.dry_run_passes()
    if operation == "DeleteListener":
        hold_load_balancer(ctx, listener["LoadBalancerId"], operation)
    delay = ctx.store.delay(operation)
    listener["ListenerStatus"] = during
    if ctx.store.network is not None and during in ("Stopping", "Deleting"):
        ctx.store.network.remove_listener(listener["_id"])
    effect_name = "nlb.listener_gone" if during == "Deleting" else "nlb.listener_status"
    ctx.store.schedule(listener, [(delay, effect_name, after)])
    return {"JobId": job(ctx, delay)}


@PRODUCT.action("DeleteListener", write=True)
def delete_listener(ctx: Context) -> dict[str, Any]:
    return _transition(ctx, ("Running", "Stopped"), "Deleting", "", "DeleteListener")


@PRODUCT.action("StopListener", write=True)
def stop_listener(ctx: Context) -> dict[str, Any]:
    return _transition(ctx, ("Running",), "Stopping", "Stopped", "StopListener")


@PRODUCT.action("StartListener", write=True)
def start_listener(ctx: Context) -> dict[str, Any]:
    return _transition(ctx, ("Stopped",), "Starting", "Running", "StartListener")


@PRODUCT.action("UpdateListenerAttribute", write=True)
def update_listener_attribute(ctx: Context) -> dict[str, Any]:
    p = ctx.params
    listener = listener_of(ctx, p.req("ListenerId"))
    require(
        listener, "ListenerStatus", ("Running", "Stopped"), "IncorrectStatus.listener", "listener"
    )
    changes: dict[str, Any] = {}
    group_id = p.text("ServerGroupId")
    if group_id is not None:
        group = server_group_of(ctx, group_id)
        lb = ctx.store.get("loadbalancer", listener["LoadBalancerId"])
        if lb is not None and group["VpcId"] != lb["VpcId"]:
            raise ApiError("Mismatch.VpcId", f"{group_id} is not in the load balancer's VPC.")
        changes["ServerGroupId"] = group_id
    idle = p.integer("IdleTimeout")
    if idle is not None:
        if not 1 <= idle <= 3600:
            raise ApiError("IllegalParam.IdleTimeout", "IdleTimeout is 1 to 3600 seconds.")
        changes["IdleTimeout"] = idle
    description = p.text("ListenerDescription")
    if description is not None:
        changes["ListenerDescription"] = description
    ctx.dry_run_passes()
    delay = ctx.store.delay("UpdateListenerAttribute")
    after = listener["ListenerStatus"]
    listener.update(changes, ListenerStatus="Configuring")
    ctx.store.schedule(listener, [(delay, "nlb.listener_status", after)])
    return {"JobId": job(ctx, delay)}


# -- health ---------------------------------------------------------------------------------------


@PRODUCT.action("GetListenerHealthStatus")
def get_listener_health_status(ctx: Context) -> dict[str, Any]:
    listener = listener_of(ctx, ctx.params.req("ListenerId"))
    group = ctx.store.get(SG, listener["ServerGroupId"])
    non_normal: list[tuple[str, dict[str, Any]]] = []
    enabled = True
    if group is not None:
        enabled = bool(group["HealthCheck"]["HealthCheckEnabled"])
        health = {}
        if ctx.store.network is not None and listener["ListenerStatus"] == "Running":
            health = ctx.store.network.backend_health(listener["_id"])
        for server in group["Servers"].values():
            entry = _non_normal(server, enabled, health)
            if entry is not None:
                non_normal.append((group["_id"], entry))
    size = page_size(ctx.params, PAGE_DEFAULT, PAGE_LIMIT)
    token = ctx.params.text("NextToken")
    start = decode_token(token) if token else 0
    shown = non_normal[start : start + size]
    next_token = encode_token(start + size) if start + size < len(non_normal) else ""
    infos = []
    if group is not None:
        infos.append(
            {
                "ServerGroupId": group["_id"],
                "HeathCheckEnabled": enabled,  # sic: the model spells it so
                "NonNormalServers": [entry for _, entry in shown],
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
        "TotalCount": len(non_normal),
        "MaxResults": size,
        "NextToken": next_token,
    }


def _non_normal(server: dict[str, Any], enabled: bool, health: dict) -> dict[str, Any] | None:
    """How the health API shows a server that is not healthy; None for a healthy one."""
    if server["Status"] == "Removing":
        return None
    reason = None
    if not enabled:
        status = "Unavailable"
    elif server.get("Weight", 100) == 0:
        status = "Unused"
    elif server["Status"] != "Available":
        status = "Initial"
    else:
        state = health.get((server["ServerId"], server["Port"]))
        status, reason = ("Initial", None) if state is None else (state.status, state.reason_code)
    if status == "Healthy":
        return None
    entry: dict[str, Any] = {
        "ServerId": server["ServerId"],
        "ServerIp": server["ServerIp"],
        "Port": server["Port"],
        "Status": status,
    }
    if reason:
        entry["Reason"] = {"ReasonCode": reason}
    return entry


# -- jobs -----------------------------------------------------------------------------------------


@PRODUCT.action("GetJobStatus")
def get_job_status(ctx: Context) -> dict[str, Any]:
    record = ctx.owned(
        JOB, ctx.params.req("JobId"), "ResourceNotFound.JobId", "job", NOT_FOUND_STATUS
    )
    return {"Status": record["Status"]}


@PRODUCT.action("ListAsynJobs")
def list_asyn_jobs(ctx: Context) -> dict[str, Any]:
    wanted = ctx.params.items("JobIds")
    jobs = [r for r in ctx.store.owned(JOB, ctx.uid) if not wanted or r["JobId"] in wanted]
    return {
        "Jobs": [{"Id": r["JobId"], "Status": r["Status"]} for r in jobs],
        "TotalCount": str(len(jobs)),
    }
