"""Every cloud operation the portal calls, who calls it, and what each of its error codes means.

This table is the one place for three facts that must not drift apart:
- which operations the portal calls (a call of any other is refused: base.ProductApi.call), and so
  which RAM actions each account role needs (connections/cloud/ram.py prints the policies);
- what the cloud's codes mean to the portal, per operation, in the cloud's own spelling (the
  OpenAPI metadata's, checked by tests/connections/cloud/test_operations.py against the lists
  cloudsim keeps in cloudsim/metadata/): retry the same call later, wait for the account's or the
  resource's earlier change to finish, or treat the resource as gone;
- what a person is told to do about a code (GUIDANCE), instead of the code alone.

Codes every operation may answer (throttling, a busy or failing service, credentials) are in
connections/cloud/errors.py.

Sources for the per-operation codes: Alibaba's OpenAPI metadata of each operation (its error
codes), the API reference's text (the "does not support concurrent calls" rules, which the
Terraform provider's retry lists spell `ConcurrentCallNotSupported`), and the Terraform alicloud
provider's retry lists (resource_alicloud_privatelink_*.go, resource_alicloud_nlb_*.go).

Longer than the ~450 lines a module here is kept to, on purpose: a table read as one, a row per
operation, whose point is that nothing about an operation lives anywhere else.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Role(enum.Enum):
    """What an account does for the portal: publishes services, or requests access to them."""

    PROVIDER = "provider"
    CONSUMER = "consumer"


BOTH = frozenset(Role)
PROVIDER = frozenset({Role.PROVIDER})
CONSUMER = frozenset({Role.CONSUMER})


@dataclass(frozen=True)
class Operation:
    product: str  # the RAM namespace: privatelink, nlb, vpc, ecs, sts
    name: str
    roles: frozenset[Role]
    # The same call may succeed later: a resource still changing state.
    retry: frozenset[str] = frozenset()
    # Another change of the same account or resource is under way: wait for it, as long as it
    # takes (the cloud's "does not support concurrent calls" rules). Not an error streak.
    busy: frozenset[str] = frozenset()
    # The resource the call names does not exist (any more).
    gone: frozenset[str] = frozenset()
    # A write: check_cloud proves the permission with DryRun (or placeholder ids).
    write: bool = False
    # No RAM authorisation is needed to call it (STS GetCallerIdentity).
    unauthenticated: bool = False
    # Placeholder parameters that make a permission check of a write harmless: ids that name
    # nothing, plus DryRun where the operation takes it.
    check_params: dict = field(default_factory=dict, hash=False, compare=False)
    dry_run: bool = True

    @property
    def ram_action(self) -> str:
        return f"{self.product}:{self.name}"

    @property
    def rate_limit(self) -> tuple[int, float] | None:
        """(calls, seconds): the most calls one account may make in a period (RATE_LIMITS)."""
        return RATE_LIMITS.get((self.product, self.name))


def _codes(*codes: str) -> frozenset[str]:
    return frozenset(codes)


# Ids that no resource has: a permission check of a write stops at "not found" after RAM.
PLACEHOLDER = "portal-permission-check"

_NLB_BUSY = _codes("Conflict.Lock")
_LB_CHANGING = _codes(
    "IncorrectStatus.loadbalancer",
    "ResourceInConfiguring.loadbalancer",
    "ResourceInCreating.loadbalancer",
)
_LB_GONE = _codes("ResourceNotFound.loadBalancer")
_SG_GONE = _codes("ResourceNotFound.serverGroup")
_LSN_GONE = _codes("ResourceNotFound.listener", "ResourceNotFound.loadBalancer")
_PL_BUSY = _codes("ConcurrentCallNotSupported")
_SERVICE_GONE = _codes("EndpointServiceNotFound")
_ENDPOINT_GONE = _codes("EndpointNotFound")

OPERATIONS: tuple[Operation, ...] = (
    # --- who the credentials are; STS sessions ---
    Operation("sts", "GetCallerIdentity", BOTH, unauthenticated=True),
    Operation("sts", "AssumeRole", frozenset()),  # the base account's, named by its role ARN
    # --- the inventory each account mirrors (inventory.py) ---
    Operation("vpc", "DescribeZones", BOTH),
    Operation("vpc", "DescribeVpcs", BOTH),
    Operation("vpc", "DescribeVSwitches", BOTH),
    Operation("ecs", "DescribeInstances", BOTH),
    Operation("ecs", "DescribeSecurityGroups", BOTH),
    Operation("nlb", "DescribeZones", BOTH),
    Operation("privatelink", "DescribeZones", BOTH),
    Operation("privatelink", "CheckProductOpen", PROVIDER),
    # --- publish and retire (workflows/service.py, retire.py): the provider's account ---
    Operation(
        "nlb",
        "CreateLoadBalancer",
        PROVIDER,
        write=True,
        check_params={
            "AddressType": "Intranet",
            "VpcId": f"vpc-{PLACEHOLDER}",
            "ZoneMappings": [
                {"ZoneId": "placeholder-a", "VSwitchId": f"vsw-{PLACEHOLDER}-a"},
                {"ZoneId": "placeholder-b", "VSwitchId": f"vsw-{PLACEHOLDER}-b"},
            ],
        },
    ),
    Operation("nlb", "GetLoadBalancerAttribute", PROVIDER, gone=_LB_GONE),
    Operation("nlb", "ListLoadBalancers", PROVIDER),
    Operation(
        "nlb",
        "DeleteLoadBalancer",
        PROVIDER,
        retry=_LB_CHANGING,
        busy=_NLB_BUSY,
        gone=_LB_GONE,
        write=True,
        check_params={"LoadBalancerId": f"nlb-{PLACEHOLDER}"},
    ),
    Operation(
        "nlb",
        "CreateServerGroup",
        PROVIDER,
        write=True,
        check_params={"ServerGroupName": PLACEHOLDER, "VpcId": f"vpc-{PLACEHOLDER}"},
    ),
    Operation("nlb", "ListServerGroups", PROVIDER),
    Operation(
        "nlb",
        "AddServersToServerGroup",
        PROVIDER,
        retry=_codes("IncorrectStatus.serverGroup"),
        busy=_NLB_BUSY,
        gone=_SG_GONE,
        write=True,
        dry_run=True,
        check_params={
            "ServerGroupId": f"sgp-{PLACEHOLDER}",
            "Servers": [{"ServerId": f"i-{PLACEHOLDER}", "ServerType": "Ecs", "Port": 80}],
        },
    ),
    Operation("nlb", "ListServerGroupServers", PROVIDER, gone=_SG_GONE),
    Operation(
        "nlb",
        "DeleteServerGroup",
        PROVIDER,
        retry=_codes("IncorrectStatus.serverGroup"),
        busy=_NLB_BUSY,
        gone=_SG_GONE,
        write=True,
        check_params={"ServerGroupId": f"sgp-{PLACEHOLDER}"},
    ),
    Operation(
        "nlb",
        "CreateListener",
        PROVIDER,
        retry=_codes("IncorrectStatus.loadbalancer"),
        busy=_NLB_BUSY,
        write=True,
        check_params={
            "LoadBalancerId": f"nlb-{PLACEHOLDER}",
            "ServerGroupId": f"sgp-{PLACEHOLDER}",
            "ListenerProtocol": "TCP",
            "ListenerPort": 80,
        },
    ),
    Operation("nlb", "GetListenerAttribute", PROVIDER, gone=_LSN_GONE),
    Operation("nlb", "ListListeners", PROVIDER),
    Operation("nlb", "GetListenerHealthStatus", PROVIDER, gone=_LSN_GONE),
    Operation(
        "nlb",
        "DeleteListener",
        PROVIDER,
        retry=_codes("IncorrectStatus.listener", "IncorrectStatus.loadbalancer"),
        busy=_NLB_BUSY,
        gone=_LSN_GONE,
        write=True,
        check_params={"ListenerId": f"lsn-{PLACEHOLDER}"},
    ),
    Operation(
        "privatelink",
        "CreateVpcEndpointService",
        PROVIDER,
        write=True,
        check_params={
            "ServiceResourceType": "nlb",
            "Resource": [{"ResourceId": f"nlb-{PLACEHOLDER}", "ResourceType": "nlb"}],
        },
    ),
    Operation("privatelink", "GetVpcEndpointServiceAttribute", PROVIDER, gone=_SERVICE_GONE),
    Operation("privatelink", "ListVpcEndpointServices", PROVIDER),
    Operation(
        "privatelink",
        "UpdateVpcEndpointServiceAttribute",
        PROVIDER,
        # Not Active: an earlier change of the service is still being applied.
        retry=_codes("EndpointServiceOperationDenied"),
        busy=_PL_BUSY,
        gone=_SERVICE_GONE,
        write=True,
        check_params={"ServiceId": f"epsrv-{PLACEHOLDER}"},
    ),
    Operation(
        "privatelink",
        "DetachResourceFromVpcEndpointService",
        PROVIDER,
        retry=_codes("EndpointServiceOperationDenied"),
        busy=_PL_BUSY,
        gone=_codes("EndpointServiceNotFound", "EndpointServiceResourceNotFound"),
        write=True,
        check_params={
            "ServiceId": f"epsrv-{PLACEHOLDER}",
            "ResourceId": f"nlb-{PLACEHOLDER}",
            "ResourceType": "nlb",
        },
    ),
    Operation("privatelink", "ListVpcEndpointServiceResources", PROVIDER, gone=_SERVICE_GONE),
    Operation(
        "privatelink",
        "DeleteVpcEndpointService",
        PROVIDER,
        # Connections still disconnecting, endpoints still being made, resources still being
        # detached: each goes away by itself once the steps before it have run.
        retry=_codes(
            "EndpointServiceOperationDenied",
            "EndpointServiceConnectionDependence",
            "DeleteFailedDueToEndpointExist",
            "EndpointServiceDependenceViolation",
        ),
        busy=_PL_BUSY,
        gone=_SERVICE_GONE,
        write=True,
        check_params={"ServiceId": f"epsrv-{PLACEHOLDER}"},
    ),
    # --- the whitelist and the connections: the provider's side of a request ---
    Operation(
        "privatelink",
        "AddUserToVpcEndpointService",
        PROVIDER,
        retry=_codes("EndpointServiceOperationDenied"),
        busy=_PL_BUSY,
        write=True,
        check_params={"ServiceId": f"epsrv-{PLACEHOLDER}", "UserId": "1"},
    ),
    Operation(
        "privatelink",
        "RemoveUserFromVpcEndpointService",
        PROVIDER,
        retry=_codes("EndpointServiceOperationDenied"),
        busy=_PL_BUSY,
        gone=_SERVICE_GONE,
        write=True,
        check_params={"ServiceId": f"epsrv-{PLACEHOLDER}", "UserId": "1"},
    ),
    Operation("privatelink", "ListVpcEndpointServiceUsers", PROVIDER, gone=_SERVICE_GONE),
    Operation(
        "privatelink",
        "EnableVpcEndpointConnection",
        PROVIDER,
        retry=_codes("EndpointConnectionOperationDenied", "EndpointOperationDenied"),
        busy=_PL_BUSY,
        gone=_codes("EndpointConnectionNotFound"),
        write=True,
        check_params={"ServiceId": f"epsrv-{PLACEHOLDER}", "EndpointId": f"ep-{PLACEHOLDER}"},
    ),
    Operation("privatelink", "ListVpcEndpointConnections", PROVIDER, gone=_SERVICE_GONE),
    # --- endpoints: the consumer's side ---
    Operation(
        "privatelink",
        "CreateVpcEndpoint",
        CONSUMER,
        # The service is changing (an owner switched auto-accept): it is Active again soon.
        retry=_codes("IncorrectStatus.VpcEndpointService"),
        write=True,
        check_params={
            "VpcId": f"vpc-{PLACEHOLDER}",
            "ServiceId": f"epsrv-{PLACEHOLDER}",
            "SecurityGroupId": [f"sg-{PLACEHOLDER}"],
            "Zone": [{"ZoneId": "placeholder-a", "VSwitchId": f"vsw-{PLACEHOLDER}"}],
        },
    ),
    Operation("privatelink", "GetVpcEndpointAttribute", CONSUMER, gone=_ENDPOINT_GONE),
    # Every account's endpoints are listed by the health sweep (orphans the portal made).
    Operation("privatelink", "ListVpcEndpoints", BOTH),
    Operation("privatelink", "ListVpcEndpointZones", CONSUMER, gone=_ENDPOINT_GONE),
    Operation(
        "privatelink",
        "RemoveZoneFromVpcEndpoint",
        CONSUMER,
        # The endpoint is Pending while another zone goes (one zone change at a time), or its
        # connection is changing.
        retry=_codes("EndpointOperationDenied", "EndpointConnectionOperationDenied"),
        gone=_codes("EndpointZoneNotFound", "EndpointNotFound"),
        write=True,
        check_params={"EndpointId": f"ep-{PLACEHOLDER}", "ZoneId": "placeholder-a"},
    ),
    Operation(
        "privatelink",
        "DeleteVpcEndpoint",
        CONSUMER,
        # Zones still being removed, or the endpoint still changing.
        retry=_codes("EndpointOperationDenied", "EndpointDependenceViolation"),
        gone=_ENDPOINT_GONE,
        write=True,
        check_params={"EndpointId": f"ep-{PLACEHOLDER}"},
    ),
)

BY_NAME: dict[tuple[str, str], Operation] = {(op.product, op.name): op for op in OPERATIONS}

# The documented rate limits, per account (the main account), region and API, as (calls,
# seconds): the products' "API rate limits" pages (PrivateLink: api-privatelink-2020-04-15-quota;
# NLB: api-nlb-2022-04-30-quota). The portal paces its calls to them (pacing.py); the cloud
# answers Throttling.User beyond them. How the cloud counts inside a period is not documented:
# the portal reads "200 in 60 s" as at most 200 in any 60 s, the stricter reading. Two of
# PrivateLink's are not on its page (GetVpcEndpointAttribute, DetachResourceFromVpcEndpointService):
# given the page's figure for its other reads and writes until a real account says otherwise.
# VPC, ECS and STS calls (the inventory, a few a sync) are not paced.
_PL_WRITE, _PL_READ = (200, 60.0), (1000, 60.0)
_NLB_WRITE, _NLB_READ = (200, 60.0), (20, 1.0)
RATE_LIMITS: dict[tuple[str, str], tuple[int, float]] = {
    **{
        ("privatelink", name): _PL_WRITE
        for name in (
            "CreateVpcEndpointService", "UpdateVpcEndpointServiceAttribute",
            "DetachResourceFromVpcEndpointService", "DeleteVpcEndpointService",
            "AddUserToVpcEndpointService", "RemoveUserFromVpcEndpointService",
            "EnableVpcEndpointConnection", "CreateVpcEndpoint", "RemoveZoneFromVpcEndpoint",
            "DeleteVpcEndpoint",
        )
    },
    **{
        ("privatelink", name): _PL_READ
        for name in (
            "DescribeZones", "GetVpcEndpointServiceAttribute", "ListVpcEndpointServices",
            "ListVpcEndpointServiceResources", "ListVpcEndpointConnections",
            "GetVpcEndpointAttribute", "ListVpcEndpoints", "ListVpcEndpointZones",
        )
    },
    ("privatelink", "ListVpcEndpointServiceUsers"): (3000, 60.0),
    ("privatelink", "CheckProductOpen"): (500, 60.0),
    **{
        ("nlb", name): _NLB_WRITE
        for name in (
            "CreateLoadBalancer", "DeleteLoadBalancer", "CreateServerGroup",
            "AddServersToServerGroup", "DeleteServerGroup", "CreateListener", "DeleteListener",
        )
    },
    **{
        ("nlb", name): _NLB_READ
        for name in (
            "DescribeZones", "GetLoadBalancerAttribute", "ListLoadBalancers", "ListServerGroups",
            "ListServerGroupServers", "GetListenerAttribute", "ListListeners",
        )
    },
    ("nlb", "GetListenerHealthStatus"): (10, 1.0),
}  # fmt: skip

# The service-linked roles the products create on an account's first use, and who needs them:
# AliyunServiceRoleForNlb ("creating an NLB instance automatically creates the
# AliyunServiceRoleForNlb role", CreateLoadBalancer's API reference) and
# AliyunServiceRoleForPrivatelink ("created when you create an endpoint").
SERVICE_LINKED_ROLES: dict[Role, tuple[str, ...]] = {
    Role.PROVIDER: ("nlb.aliyuncs.com",),
    Role.CONSUMER: ("privatelink.aliyuncs.com",),
}


def operation(product: str, name: str) -> Operation:
    """The portal's entry for an operation; a KeyError names one it does not call."""
    return BY_NAME[(product, name)]


# What a person is told for a code that asks them, or an operator, to act: the cloud's own
# message follows it. {action} is the operation's RAM action, {missing} the action RAM refused.
GUIDANCE: dict[str, str] = {
    "Forbidden.RAM": (
        "The cloud account's RAM policy does not allow {missing}. Add it to the policy of the "
        "portal's credentials (`manage.py ram_policy` prints what the portal needs)."
    ),
    "Forbidden.NoPermission": (
        "The cloud account's RAM policy does not allow {missing}. Add it to the policy of the "
        "portal's credentials (`manage.py ram_policy` prints what the portal needs)."
    ),
    "NoPermission": (
        "The cloud account's RAM policy does not allow {missing}. Add it to the policy of the "
        "portal's credentials (`manage.py ram_policy` prints what the portal needs)."
    ),
    "NeedOpenProduct": (
        "PrivateLink is not activated in this cloud account. Activate it in the PrivateLink "
        "console (or OpenPrivateLinkService), then retry."
    ),
    "OperationDenied.DeletionProtectionEnabled": (
        "The load balancer has deletion protection on (set outside the portal). Turn it off in "
        "the NLB console (or UpdateLoadBalancerProtection), then retry."
    ),
    "OperationDenied.EndpointProtected": (
        "The endpoint is under managed protection: only the identity that created it may "
        "change or delete it. Ask its creator to delete it, or turn the protection off."
    ),
    "EndpointProtected": (
        "The endpoint is protected: only the identity that created it may change or delete it."
    ),
    "EndpointLocked": (
        "The endpoint is locked by the cloud (usually an overdue payment of its account). "
        "Settle the account's payments, then retry."
    ),
    "EndpointServiceLocked": (
        "The endpoint service is locked by the cloud (usually an overdue payment of its "
        "account). Settle the account's payments, then retry."
    ),
    "OperationDenied.FinancialLocked": (
        "The load balancer is locked for an overdue payment. Settle the account's payments, "
        "then retry."
    ),
    "OperationDenied.SecurityLocked": (
        "The load balancer is locked for a security reason. Contact Alibaba Cloud support."
    ),
    "OperationDenied.RelatedResourceLocked": (
        "The load balancer is locked because a related resource is. Unlock that resource, then "
        "retry."
    ),
    "OperationDenied.ServiceLinkedRoleNotExist": (
        "NLB's service-linked role (AliyunServiceRoleForNlb) does not exist and the portal may "
        "not create it. Allow ram:CreateServiceLinkedRole for nlb.aliyuncs.com (`manage.py "
        "ram_policy provider`), or create the role once in the console."
    ),
    "CheckServiceLinkRoleError": (
        "PrivateLink's service-linked role (AliyunServiceRoleForPrivatelink) does not exist "
        "and the portal may not create it. Allow ram:CreateServiceLinkedRole for "
        "privatelink.aliyuncs.com (`manage.py ram_policy consumer`), or create the role once "
        "in the console."
    ),
    "UnauthorizedZone": (
        "NLB is not offered in one of the chosen zones. Choose zones NLB supports (the publish "
        "wizard lists them after an inventory sync)."
    ),
    "EndpointServiceNotSupportedZone": (
        "One of the chosen zones is not offered by the service (or by PrivateLink). Choose "
        "among the zones the service offers."
    ),
    "EndpointServiceNotAuthorized": (
        "The requesting account is not on the service's whitelist. Retry: the portal adds it "
        "before it creates the endpoint."
    ),
}
