"""Changes made outside the portal to what a published service is built from, noticed by the
health sweep as it notices the consumer's side: never silently.

Per available service, from its account's listings (the sweep reads them once per account,
paged: load balancers, listeners, servers of every server group, endpoint services) and one
read of the service's resources (ListVpcEndpointServiceResources):

- the load balancer, its listener or the endpoint service deleted: the service fails, what is
  gone is forgotten, and Retry publishes it again (steps 1–4 skip what still exists);
- the listener stopped: the service is down until someone starts it again;
- the load balancer detached from the endpoint service (in some zones or all): degraded or down;
- a backend removed from the server group: counted as an unhealthy backend, named for the
  owners;
- auto-accept switched: the portal follows the cloud (an owner may have changed it in the
  console; the portal's own changes go through the configure workflow), and says so.

Each change is an event on the service's timeline and a finding for its owners
(Finding.Kind.SERVICE_CHANGED), resolved once the cloud agrees with the portal again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from connections.choices import Health, ServiceState
from connections.cloud import CloudError
from connections.models import Event, PublishedService
from connections.monitoring.rules import Verdict
from connections.states import InvalidTransition, transition
from connections.workflows.service import CONFIGURE

# What the sweep notes of a change made outside the portal, written in English where it is stored
# (a service's health reason, its timeline) and said again in the reader's language on the pages
# (connections/stored_sentences.py).
LOAD_BALANCER_DELETED = gettext_noop("The load balancer %(id)s was deleted outside the portal.")
LISTENER_DELETED = gettext_noop("The listener %(id)s was deleted outside the portal.")
LISTENER_STOPPED = gettext_noop(
    "The listener %(id)s was stopped outside the portal: start it again."
)
ENDPOINT_SERVICE_DELETED = gettext_noop(
    "The endpoint service %(id)s was deleted outside the portal."
)
AUTO_ACCEPT_SWITCHED = gettext_noop("Auto-accept was switched %(state)s outside the portal.")
LOAD_BALANCER_DETACHED = gettext_noop(
    "The load balancer was detached from the endpoint service outside the portal in %(zones)s."
)
BACKEND_REMOVED = gettext_noop(
    "Backend %(backend)s was removed from the server group outside the portal."
)
NOTES = (
    LOAD_BALANCER_DELETED, LISTENER_DELETED, LISTENER_STOPPED, ENDPOINT_SERVICE_DELETED,
    AUTO_ACCEPT_SWITCHED, LOAD_BALANCER_DETACHED, BACKEND_REMOVED,
)  # fmt: skip


@dataclass(frozen=True)
class Change:
    """One thing about a service that the cloud no longer agrees with."""

    resource_id: str
    detail: str
    # What it does to the service: "gone" fails it (forgetting `forget`), "down"/"degraded"
    # set its health, "note" only reports.
    effect: str
    forget: tuple[str, ...] = ()


@dataclass
class ServiceDrift:
    service: PublishedService
    changes: list[Change] = field(default_factory=list)
    auto_accept: bool | None = None  # the cloud's, when it differs from the portal's
    removed_backends: set[tuple[str, int]] = field(default_factory=set)

    def verdict(self) -> Verdict | None:
        """The health these changes leave the service in (None: they do not affect it)."""
        for effect in ("gone", "down", "degraded"):
            found = [c.detail for c in self.changes if c.effect == effect]
            if found:
                health = Health.DEGRADED if effect == "degraded" else Health.DOWN
                return Verdict(health, " ".join(found))
        return None


def read(service: PublishedService, view) -> ServiceDrift:
    """Compare a service with what the sweep read of its account (`view`: readings.AccountView).
    A service whose owners' change of settings is still being applied (or failed to be) is
    not compared on those settings: the portal's value is the one on its way to the cloud."""
    drift = ServiceDrift(service)
    lb = view.load_balancers.get(service.nlb_id) if service.nlb_id else None
    if service.nlb_id and lb is None:
        drift.changes.append(
            Change(
                service.nlb_id,
                _(LOAD_BALANCER_DELETED) % {"id": service.nlb_id},
                "gone",
                ("nlb_id", "listener_id", "endpoint_service_id", "endpoint_service_name"),
            )
        )
        return drift
    _listener(drift, view)
    _endpoint_service(drift, view)
    _backends(drift, view)
    return drift


def _listener(drift: ServiceDrift, view) -> None:
    service = drift.service
    listener = view.listeners.get(service.listener_id) if service.listener_id else None
    if service.listener_id and listener is None:
        drift.changes.append(
            Change(
                service.listener_id,
                _(LISTENER_DELETED) % {"id": service.listener_id},
                "gone",
                ("listener_id",),
            )
        )
    elif listener is not None and listener.get("ListenerStatus") in ("Stopping", "Stopped"):
        drift.changes.append(
            Change(
                service.listener_id,
                _(LISTENER_STOPPED) % {"id": service.listener_id},
                "down",
            )
        )


def _endpoint_service(drift: ServiceDrift, view) -> None:
    service = drift.service
    if not service.endpoint_service_id:
        return
    attributes = view.endpoint_services.get(service.endpoint_service_id)
    if attributes is None:
        drift.changes.append(
            Change(
                service.endpoint_service_id,
                _(ENDPOINT_SERVICE_DELETED) % {"id": service.endpoint_service_id},
                "gone",
                ("endpoint_service_id", "endpoint_service_name"),
            )
        )
        return
    cloud_auto_accept = bool(attributes.get("AutoAcceptEnabled"))
    if cloud_auto_accept != service.auto_accept and not CONFIGURE.applying(service):
        drift.auto_accept = cloud_auto_accept
        drift.changes.append(
            Change(
                service.endpoint_service_id,
                _(AUTO_ACCEPT_SWITCHED) % {"state": _("on") if cloud_auto_accept else _("off")},
                "note",
            )
        )
    try:
        resources = view.session.privatelink.service_resources(service.endpoint_service_id)
    except CloudError as error:
        # Read again at the next sweep; the account says what could not be read.
        view.warnings.append(f"resources of {service.name}: {error.code}: {error.message}")
        return
    served = {r.get("ZoneId") for r in resources if r.get("ResourceId") == service.nlb_id}
    missing = sorted(set(service.zone_ids) - served)
    if missing:
        drift.changes.append(
            Change(
                f"{service.endpoint_service_id}:{service.nlb_id}",
                _(LOAD_BALANCER_DETACHED) % {"zones": ", ".join(missing)},
                "down" if not served else "degraded",
            )
        )


def _backends(drift: ServiceDrift, view) -> None:
    service = drift.service
    if not service.server_group_id or service.server_group_id not in view.servers:
        return
    present = {
        (server.get("ServerId"), int(server.get("Port") or 0))
        for server in view.servers[service.server_group_id]
        if server.get("Status") != "Removing"
    }
    for backend in service.backends.all():
        key = (backend.instance.instance_id, backend.port)
        if key not in present:
            drift.removed_backends.add(key)
            name = backend.instance.name or backend.instance.instance_id
            drift.changes.append(
                Change(
                    f"{service.server_group_id}:{key[0]}:{key[1]}",
                    _(BACKEND_REMOVED) % {"backend": f"{name}:{backend.port}"},
                    "note",
                )
            )


# --- acting on what was found ---------------------------------------------------------------------


def follow(drifts: list[ServiceDrift]) -> list[str]:
    """Fail the services whose resources are gone, follow auto-accept; returns what was done."""
    done = []
    for drift in drifts:
        gone = [change for change in drift.changes if change.effect == "gone"]
        if gone:
            forget = {name: "" for change in gone for name in change.forget}
            detail = " ".join(change.detail for change in gone)
            try:
                with transaction.atomic():
                    transition(
                        drift.service,
                        ServiceState.FAILED,
                        verb="changed outside the portal",
                        detail=detail,
                        last_error_code="DeletedOutsidePortal",
                        last_error_message=detail + " " + _("Retry to publish it again."),
                        failed_phase="publish",
                        progress="",
                        generation=drift.service.generation + 1,
                        **forget,
                    )
            except InvalidTransition:
                continue  # retired or changed at this very moment: that outcome stands
            done.append(f"service {drift.service.pk}: failed ({detail})")
        elif drift.auto_accept is not None:
            PublishedService.objects.filter(pk=drift.service.pk).update(
                auto_accept=drift.auto_accept
            )
            Event.objects.create(
                service=drift.service,
                verb="auto-accept changed outside the portal",
                detail=gettext_noop("on") if drift.auto_accept else gettext_noop("off"),
            )
            done.append(f"service {drift.service.pk}: auto-accept {drift.auto_accept}")
    return done
