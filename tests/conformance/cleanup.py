"""Deleting what the conformance tests made, in the order the cloud requires: endpoints (zones
first), endpoint services (resources detached first), listeners, server groups, load balancers.
Only resources the tests made, or that carry the suite's tag, are ever deleted."""

from __future__ import annotations

from dataclasses import dataclass, field

from alibabacloud_tea_openapi.exceptions import AlibabaCloudException

from tests.conformance.target import TAG_KEY, Target

# Seconds each deletion may take before the clean-up gives up on it (the cloud's own times are
# minutes at most; the Terraform provider allows 5 to 11).
DELETE_TIMEOUT = 15 * 60
ORDER = ("endpoint", "service", "listener", "server_group", "load_balancer")
NOT_FOUND = {
    "EndpointNotFound",
    "EndpointServiceNotFound",
    "ResourceNotFound.listener",
    "ResourceNotFound.serverGroup",
    "ResourceNotFound.loadBalancer",
}


@dataclass
class Made:
    target: Target
    resources: dict[str, list[str]] = field(default_factory=dict)

    def add(self, kind: str, resource_id: str) -> str:
        self.resources.setdefault(kind, []).append(resource_id)
        return resource_id

    def delete_all(self) -> None:
        problems = []
        for kind in ORDER:
            for resource_id in reversed(self.resources.get(kind, [])):
                try:
                    DELETE[kind](self.target, resource_id)
                except (AlibabaCloudException, AssertionError) as error:
                    problems.append(f"{kind} {resource_id}: {error}")
        if problems:
            raise AssertionError("the clean-up left resources behind: " + "; ".join(problems))


def _gone(target: Target, product: str, action: str, **params) -> bool:
    try:
        target.call(product, action, **params)
    except AlibabaCloudException as error:
        if error.code in NOT_FOUND:
            return True
        raise
    return False


def delete_endpoint(target: Target, endpoint_id: str) -> None:
    def zones():
        return target.call("privatelink", "ListVpcEndpointZones", EndpointId=endpoint_id)["Zones"]

    def zone_removed():
        try:
            remaining = zones()
        except AlibabaCloudException as error:
            if error.code in NOT_FOUND:
                return "gone"
            raise
        status = target.call("privatelink", "GetVpcEndpointAttribute", EndpointId=endpoint_id)
        if not remaining or status["EndpointStatus"] != "Active":
            return not remaining and "done"
        if not any(z["ZoneStatus"] == "Deleting" for z in remaining):
            target.call(
                "privatelink",
                "RemoveZoneFromVpcEndpoint",
                EndpointId=endpoint_id,
                ZoneId=remaining[0]["ZoneId"],
            )
        return False

    if target.wait(f"the zones of {endpoint_id}", zone_removed, DELETE_TIMEOUT) == "gone":
        return
    target.call("privatelink", "DeleteVpcEndpoint", EndpointId=endpoint_id)
    target.wait(
        f"{endpoint_id} deleted",
        lambda: _gone(target, "privatelink", "GetVpcEndpointAttribute", EndpointId=endpoint_id),
        DELETE_TIMEOUT,
    )


def delete_service(target: Target, service_id: str) -> None:
    def detached():
        try:
            resources = target.call(
                "privatelink", "ListVpcEndpointServiceResources", ServiceId=service_id
            )["Resources"]
            status = target.call(
                "privatelink", "GetVpcEndpointServiceAttribute", ServiceId=service_id
            )["ServiceStatus"]
        except AlibabaCloudException as error:
            if error.code in NOT_FOUND:
                return "gone"
            raise
        if resources and status == "Active":
            target.call(
                "privatelink",
                "DetachResourceFromVpcEndpointService",
                ServiceId=service_id,
                ResourceId=resources[0]["ResourceId"],
                ResourceType=resources[0]["ResourceType"],
            )
        return not resources and status == "Active" and "done"

    if target.wait(f"the resources of {service_id}", detached, DELETE_TIMEOUT) == "gone":
        return
    target.call("privatelink", "DeleteVpcEndpointService", ServiceId=service_id)
    target.wait(
        f"{service_id} deleted",
        lambda: _gone(
            target, "privatelink", "GetVpcEndpointServiceAttribute", ServiceId=service_id
        ),
        DELETE_TIMEOUT,
    )


def _delete_nlb_resource(target: Target, action: str, read: str, key: str, rid: str) -> None:
    def settled():
        try:
            target.call("nlb", action, **{key: rid})
        except AlibabaCloudException as error:
            if error.code in NOT_FOUND:
                return True
            if error.code.startswith(("IncorrectStatus", "ResourceIn", "Conflict.Lock")):
                return False  # still changing: try again
            raise
        return True

    target.wait(f"{rid} delete accepted", settled, DELETE_TIMEOUT)
    target.wait(f"{rid} deleted", lambda: _gone(target, "nlb", read, **{key: rid}), DELETE_TIMEOUT)


def delete_listener(target: Target, listener_id: str) -> None:
    _delete_nlb_resource(
        target, "DeleteListener", "GetListenerAttribute", "ListenerId", listener_id
    )


def delete_server_group(target: Target, group_id: str) -> None:
    def gone():
        groups = target.call("nlb", "ListServerGroups", ServerGroupIds=[group_id])
        return not groups.get("ServerGroups")

    def accepted():
        try:
            target.call("nlb", "DeleteServerGroup", ServerGroupId=group_id)
        except AlibabaCloudException as error:
            if error.code in NOT_FOUND:
                return True
            if error.code.startswith(("IncorrectStatus", "Conflict.Lock")):
                return False
            raise
        return True

    target.wait(f"{group_id} delete accepted", accepted, DELETE_TIMEOUT)
    target.wait(f"{group_id} deleted", gone, DELETE_TIMEOUT)


def delete_load_balancer(target: Target, nlb_id: str) -> None:
    try:
        target.call(
            "nlb",
            "UpdateLoadBalancerProtection",
            LoadBalancerId=nlb_id,
            DeletionProtectionEnabled=False,
        )
    except AlibabaCloudException as error:
        if error.code in NOT_FOUND:
            return
    _delete_nlb_resource(
        target, "DeleteLoadBalancer", "GetLoadBalancerAttribute", "LoadBalancerId", nlb_id
    )


DELETE = {
    "endpoint": delete_endpoint,
    "service": delete_service,
    "listener": delete_listener,
    "server_group": delete_server_group,
    "load_balancer": delete_load_balancer,
}


def everything_tagged(target: Target) -> None:
    """Delete what carries the suite's tag, whatever run made it (one that was interrupted)."""
    tag = [{"Key": TAG_KEY, "Value": ""}]
    made = Made(target)
    lists = (
        ("endpoint", "privatelink", "ListVpcEndpoints", "Endpoints", "EndpointId"),
        ("service", "privatelink", "ListVpcEndpointServices", "Services", "ServiceId"),
        ("listener", "nlb", "ListListeners", "Listeners", "ListenerId"),
        ("server_group", "nlb", "ListServerGroups", "ServerGroups", "ServerGroupId"),
        ("load_balancer", "nlb", "ListLoadBalancers", "LoadBalancers", "LoadBalancerId"),
    )
    for kind, product, action, key, id_key in lists:
        for item in target.call(product, action, Tag=tag).get(key) or []:
            made.add(kind, item[id_key])
    made.delete_all()
