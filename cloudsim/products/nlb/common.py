"""What NLB's operations share: names, not-found codes, jobs, paging, the load balancer's lock.

Codes are spelled as Alibaba's NLB metadata spells them (cloudsim/metadata/nlb.json), which is
not always as one would guess: `ResourceNotFound.loadBalancer` (capital B, HTTP 404) but
`IncorrectStatus.loadbalancer`, `ResourceInConfiguring.loadbalancer` and
`ResourceInCreating.loadbalancer` (lower-case b, HTTP 400); `ResourceInUse.ServerGroup` (capital
S) but `IncorrectStatus.serverGroup`. Not-found is HTTP 404 throughout.

Every asynchronous write answers a JobId; GetJobStatus says Processing, then Succeeded once the
change it stands for is done ("poll GetJobStatus", the API reference).
"""

from __future__ import annotations

from typing import Any

from cloudsim import ids
from cloudsim.errors import ApiError
from cloudsim.products.base import Context, NetworkCodes, Product, page
from cloudsim.store import Record, Store, effect

# A ClientToken reused with other parameters: IdempotenceSignatureMismatch (the metadata).
PRODUCT = Product("nlb", "2022-04-30", "nlb", token_mismatch_code="IdempotenceSignatureMismatch")  # noqa: S106 - an error code

LB = "loadbalancer"
SG = "servergroup"
LSN = "listener"
JOB = "job"

LB_NOT_FOUND = "ResourceNotFound.loadBalancer"
SG_NOT_FOUND = "ResourceNotFound.serverGroup"
LSN_NOT_FOUND = "ResourceNotFound.listener"
SERVER_NOT_FOUND = "ResourceNotFound.BackendServer"
NOT_FOUND_STATUS = 404

# The List… operations' MaxResults: "Valid values: 1 to 100. Default value: 20" (the SDK's
# models and the API reference).
PAGE_LIMIT = 100
PAGE_DEFAULT = 20

# CreateLoadBalancer's metadata: ResourceNotFound.Vpc and ResourceNotFound.VSwitch (HTTP 404),
# Mismatch.ZoneIdAndVswitchId, and UnauthorizedZone (HTTP 403) for a zone NLB is not offered in.
NETWORK = NetworkCodes(
    vpc_not_found=("ResourceNotFound.Vpc", 404),
    vswitch_not_found=("ResourceNotFound.VSwitch", 404),
    vswitch_zone_mismatch=("Mismatch.ZoneIdAndVswitchId", 400),
    zone_not_supported=("UnauthorizedZone", 403),
)


def load_balancer_of(ctx: Context, lb_id: str) -> Record:
    return ctx.owned(LB, lb_id, LB_NOT_FOUND, "load balancer", NOT_FOUND_STATUS)


def server_group_of(ctx: Context, group_id: str) -> Record:
    return ctx.owned(SG, group_id, SG_NOT_FOUND, "server group", NOT_FOUND_STATUS)


def listener_of(ctx: Context, listener_id: str) -> Record:
    return ctx.owned(LSN, listener_id, LSN_NOT_FOUND, "listener", NOT_FOUND_STATUS)


def paged(ctx: Context, items: list[Any], key: str) -> dict[str, Any]:
    rows, paging = page(ctx, items, PAGE_LIMIT, PAGE_DEFAULT)
    return {key: rows, "TotalCount": len(items), **paging}


def job(ctx: Context, delay: float) -> str:
    """A job that succeeds together with the change it stands for."""
    job_id = ids.job_id()
    record = ctx.store.create(JOB, job_id, ctx.uid, {"JobId": job_id, "Status": "Processing"})
    ctx.store.schedule(record, [(delay, "nlb.job_done", None)])
    return job_id


@effect("nlb.job_done")
def _job_done(store: Store, record: Record, _: Any) -> None:
    record["Status"] = "Succeeded"
    store.expire(record)  # GetJobStatus knows it for the retention (24 h), then NotFound


def hold_load_balancer(ctx: Context, lb_id: str, operation: str) -> None:
    """One change of a load balancer and its listeners at a time: another one while this one's
    job runs is refused with `Conflict.Lock` (listed for DeleteLoadBalancer, CreateListener,
    DeleteListener and UpdateLoadBalancerProtection; the Terraform provider retries it)."""
    ctx.exclusive(f"nlb-lock:{lb_id}", operation, "Conflict.Lock", f"A change of {lb_id}")


def require_load_balancer_settled(record: Record) -> None:
    """A load balancer being created or changed refuses other changes, each state with its
    own code (the metadata of DeleteLoadBalancer and UpdateLoadBalancerProtection)."""
    status = record["LoadBalancerStatus"]
    if status == "Active":
        return
    code = {
        "Provisioning": "ResourceInCreating.loadbalancer",
        "Configuring": "ResourceInConfiguring.loadbalancer",
    }.get(status, "IncorrectStatus.loadbalancer")
    raise ApiError(code, f"The load balancer {record['_id']} is {status}.")


def sync_listeners(store: Store, group_id: str) -> None:
    if store.network is None:
        return
    for listener in store.all(LSN):
        if listener["ServerGroupId"] == group_id:
            store.network.sync_listener(listener)
