"""What one health sweep reads of the cloud (monitoring/sweep.py): each account as one view —
its endpoints, and where it publishes services its connections, endpoint services, load
balancers, listeners and servers — then each service's backends and whitelist."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from connections.cloud import CloudError, CloudSession
from connections.models import (
    AccessRequest,
    CloudAccount,
    PublishedService,
)
from connections.monitoring import provider_drift
from connections.monitoring.rules import (
    Verdict,
    backends_verdict,
)

logger = logging.getLogger(__name__)


@dataclass
class AccountView:
    """One account as the sweep read it; `error` says why it could not be read."""

    account: CloudAccount
    session: CloudSession
    endpoints: dict[str, dict] = field(default_factory=dict)
    connections: dict[str, dict] = field(default_factory=dict)
    endpoint_services: dict[str, dict] = field(default_factory=dict)
    # Read only in accounts that host available services (connections/monitoring/provider_drift.py).
    load_balancers: dict[str, dict] = field(default_factory=dict)
    listeners: dict[str, dict] = field(default_factory=dict)
    servers: dict[str, list[dict]] = field(default_factory=dict)  # by server group id
    error: str = ""
    # What could not be read of one service or another (the account itself could be read).
    warnings: list[str] = field(default_factory=list)


def read_account(account: CloudAccount, *, provider: bool) -> AccountView:
    view = AccountView(account, CloudSession(account, patient=True))
    try:
        view.session.verify_account()
        api = view.session.privatelink
        view.endpoints = {e["EndpointId"]: e for e in api.all_endpoints()}
        # The provider's side, only where services are published: a consumer account's
        # credentials need not list endpoint services or load balancers (cloud/ram.py).
        if provider:
            view.connections = {c["EndpointId"]: c for c in api.all_connections()}
            view.endpoint_services = {s["ServiceId"]: s for s in api.all_endpoint_services()}
            nlb = view.session.nlb
            view.load_balancers = {lb["LoadBalancerId"]: lb for lb in nlb.all_load_balancers()}
            view.listeners = {lsn["ListenerId"]: lsn for lsn in nlb.all_listeners()}
            for server in nlb.all_servers():
                view.servers.setdefault(server.get("ServerGroupId"), []).append(server)
    except CloudError as error:
        logger.warning("health sweep: cannot read %s: %s", account, error)
        view.error = f"{error.code}: {error.message}"
    return view


# Health API statuses that are no verdict on a backend: weight 0 ("Unused": it takes no
# traffic on purpose) and health checks turned off ("Unavailable").
NOT_JUDGED = ("Unused", "Unavailable")


def backends(
    service: PublishedService, view: AccountView, drift: provider_drift.ServiceDrift | None
) -> tuple[Verdict | None, dict | None] | None:
    """The service's backends as its listener's health checks see them: (the verdict, and
    (instance id, port) → the reason of each unhealthy one); None when it cannot be read. A
    backend removed from the server group outside the portal counts as unhealthy."""
    if view.error or not service.listener_id:
        return None
    changed = drift.verdict() if drift else None
    if changed is not None:
        # Built from something changed outside the portal: that is its health, and its
        # requests'; its backends are judged again once it is whole.
        return changed, None
    try:
        servers = view.session.nlb.unhealthy_servers(service.listener_id)
    except CloudError as error:
        logger.warning("health sweep: cannot read the backends of %s: %s", service, error)
        view.warnings.append(f"backends of {service.name}: {error.code}: {error.message}")
        return None
    unhealthy = {
        (server.get("ServerId"), int(server.get("Port") or 0)): (
            (server.get("Reason") or {}).get("ReasonCode") or server.get("Status") or "Unhealthy"
        )
        for server in servers
        if server.get("Status") not in NOT_JUDGED
    }
    for key in drift.removed_backends if drift else ():
        unhealthy[key] = "RemovedOutsidePortal"
    backends = service.backends.all()
    down = sum((b.instance.instance_id, b.port) in unhealthy for b in backends)
    return backends_verdict(len(backends), down), unhealthy


def whitelists(services, views) -> dict[int, list[str]]:
    """The accounts on each service's whitelist, for the services whose list could be read."""
    found = {}
    for service in services:
        view = views[service.account_id]
        if view.error or not service.endpoint_service_id:
            continue
        try:
            found[service.pk] = view.session.privatelink.list_users(service.endpoint_service_id)
        except CloudError as error:
            logger.warning("health sweep: cannot read the whitelist of %s: %s", service, error)
            view.warnings.append(f"whitelist of {service.name}: {error.code}: {error.message}")
    return found


def views_of(access_request: AccessRequest, views) -> tuple[AccountView, AccountView] | None:
    """(the consumer's account, the provider's), when both could be read."""
    consumer = views.get(access_request.vpc.account_id)
    provider = views.get(access_request.service.account_id)
    if consumer is None or provider is None or consumer.error or provider.error:
        return None
    return consumer, provider
