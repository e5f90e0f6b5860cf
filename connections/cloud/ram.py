"""The least-privilege RAM policies the portal's credentials need, derived from the operations
the portal calls (connections/cloud/operations.py): nothing here lists an action by hand.

One policy per account role: a provider account publishes services (NLB, the endpoint service
side of PrivateLink), a consumer account requests access (endpoints). An account that does both
(the demo's account A) is given both. Each policy also lets the credentials create the product's
service-linked role on first use (ram:CreateServiceLinkedRole, limited by `ram:ServiceName` as
Alibaba's system policy AliyunNLBFullAccess limits it).

Resources are "*": the portal creates its resources, so their ids are not known in advance, and
the actions are already the smallest set the workflows, the sweep and the inventory call.
"""

from __future__ import annotations

from collections.abc import Iterable

from connections.cloud.operations import OPERATIONS, SERVICE_LINKED_ROLES, Role


def actions_for(roles: Iterable[Role]) -> list[str]:
    """The RAM actions an account in `roles` needs, sorted."""
    wanted = set(roles)
    return sorted(
        {op.ram_action for op in OPERATIONS if op.roles & wanted and not op.unauthenticated}
    )


def policy_for(roles: Iterable[Role]) -> dict:
    """The RAM policy document for an account in `roles`."""
    roles = set(roles)
    statements: list[dict] = [{"Effect": "Allow", "Action": actions_for(roles), "Resource": "*"}]
    services = sorted({service for role in roles for service in SERVICE_LINKED_ROLES[role]})
    if services:
        statements.append(
            {
                "Effect": "Allow",
                "Action": "ram:CreateServiceLinkedRole",
                "Resource": "*",
                "Condition": {"StringEquals": {"ram:ServiceName": services}},
            }
        )
    return {"Version": "1", "Statement": statements}
