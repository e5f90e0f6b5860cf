"""Locks the cloud puts on resources, which still look Active: an overdue account's, a security
lock. Set through the control API (`POST /_sim/locks`), as the cloud sets them, never by a call.

- PrivateLink: an endpoint's `EndpointBusinessStatus` and an endpoint service's
  `ServiceBusinessStatus` are Normal or FinancialLocked (GetVpcEndpointAttribute,
  GetVpcEndpointServiceAttribute in the API reference). A locked endpoint refuses the operations
  whose metadata lists `EndpointLocked` (zones, security groups, its attributes); a locked
  service refuses UpdateVpcEndpointServiceAttribute with `EndpointServiceLocked`.
- NLB: a locked load balancer's `LoadBalancerBusinessStatus` is Abnormal and its
  `OperationLocks` name the lock (SecurityLocked, RelatedResourceLocked, FinancialLocked,
  ResidualLocked) and reason (GetLoadBalancerAttribute). Only a ResidualLocked one may be deleted
  (the NLB instance overview: "Residual locked … We recommend that you release the NLB
  instance"); DeleteLoadBalancer refuses the others with `OperationDenied.<lock>` (the
  metadata's `OperationDenied.%s`; the suffix is cloudsim's).
"""

from __future__ import annotations

from cloudsim.store import Record, Store

LOCK_TYPES = ("FinancialLocked", "SecurityLocked", "RelatedResourceLocked", "ResidualLocked")
_REASONS = {
    "FinancialLocked": "The account has overdue payments.",
    "SecurityLocked": "Locked for a security reason.",
    "RelatedResourceLocked": "A related resource is locked.",
    "ResidualLocked": "The instance is left over from an earlier release.",
}


def _find(store: Store, resource_id: str) -> Record | None:
    for kind in ("loadbalancer", "vpcendpoint", "vpcendpointservice"):
        record = store.get(kind, resource_id)
        if record is not None:
            return record
    return None


def lock(store: Store, resource_id: str, lock_type: str) -> bool:
    record = _find(store, resource_id)
    if record is None:
        return False
    if record["_kind"] == "loadbalancer":
        record["LoadBalancerBusinessStatus"] = "Abnormal"
        record["OperationLocks"] = [{"LockType": lock_type, "LockReason": _REASONS[lock_type]}]
    elif record["_kind"] == "vpcendpoint":
        record["EndpointBusinessStatus"] = "FinancialLocked"
    else:
        record["ServiceBusinessStatus"] = "FinancialLocked"
    return True


def unlock(store: Store, resource_id: str) -> bool:
    record = _find(store, resource_id)
    if record is None:
        return False
    if record["_kind"] == "loadbalancer":
        record["LoadBalancerBusinessStatus"] = "Normal"
        record["OperationLocks"] = []
    elif record["_kind"] == "vpcendpoint":
        record["EndpointBusinessStatus"] = "Normal"
    else:
        record["ServiceBusinessStatus"] = "Normal"
    return True


def load_balancer_lock(record: Record) -> str | None:
    """The lock type of a locked load balancer, None when it is not locked."""
    locks = record.get("OperationLocks") or []
    return locks[0]["LockType"] if locks else None
