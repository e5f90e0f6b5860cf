"""Pre-flight checks: what a verb verifies against the mirrored inventory before any cloud call.

One function per thing checked. Each adds what it finds to a `Problems` under the field it is
about, with a stable code (the API shows it, the pages put the message beside the field), so a
verb runs all of its checks and reports every failure at once, and a form or a wizard step can run
the checks of its own fields alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from connections import policies
from connections.choices import REQUEST_LIVE, ListenerProtocol, ServiceState
from connections.models import Instance, VSwitch

# An NLB needs two zones at least; the seed's service uses G and K.
MIN_SERVICE_ZONES = 2
# Service names become cloud resource names (plp-<name>): a DNS-label-like slug.
SERVICE_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


@dataclass(frozen=True)
class ZoneChoice:
    """A zone and the vSwitch chosen in it."""

    zone_id: str
    vswitch: VSwitch


@dataclass(frozen=True)
class BackendChoice:
    """A backend server of a service: an instance, a port and a weight."""

    instance: Instance
    port: int
    weight: int = 100


class Problems:
    """Collects every failed check, so a person sees all of them at once."""

    def __init__(self):
        self.errors: dict[str, list[ValidationError]] = {}

    def add(self, field: str, code: str, message: str) -> None:
        self.errors.setdefault(field, []).append(ValidationError(message, code=code))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def names(items: Iterable[str]) -> str:
    return ", ".join(sorted(items)) or "none"


# --- the VPC and what is chosen in it ------------------------------------------------------------


def vpc_of_team(problems: Problems, user, team, vpc) -> None:
    """The team's own VPC, still in the cloud."""
    if not policies.may_use_vpc(user, team, vpc):
        problems.add(
            "vpc",
            "vpc_not_owned",
            f"{vpc} is not a VPC of {team}: a team uses its own VPCs only (a platform admin "
            "assigns them).",
        )
    if not vpc.present:
        problems.add("vpc", "vpc_gone", f"{vpc} no longer exists in the cloud.")


def vswitches_match(problems: Problems, vpc, zones: Sequence[ZoneChoice]) -> None:
    """One vSwitch per zone, each of this VPC, in its zone, and still in the cloud."""
    seen = set()
    for choice in zones:
        if choice.zone_id in seen:
            problems.add("zones", "duplicate_zone", f"Zone {choice.zone_id} is chosen twice.")
        seen.add(choice.zone_id)
        if not choice.vswitch.present:
            problems.add(
                "zones",
                "vswitch_gone",
                f"vSwitch {choice.vswitch.vswitch_id} no longer exists in the cloud.",
            )
        if choice.vswitch.vpc_id != vpc.pk:
            problems.add(
                "zones",
                "vswitch_not_in_vpc",
                f"vSwitch {choice.vswitch.vswitch_id} is not in VPC {vpc.vpc_id}.",
            )
        elif choice.vswitch.zone_id != choice.zone_id:
            problems.add(
                "zones",
                "vswitch_not_in_zone",
                f"vSwitch {choice.vswitch.vswitch_id} is in zone {choice.vswitch.zone_id}, "
                f"not {choice.zone_id}.",
            )


def security_groups_in_vpc(problems: Problems, vpc, groups: Sequence) -> None:
    if not groups:
        problems.add(
            "security_groups", "security_group_required", "Choose at least one security group."
        )
    for group in groups:
        if not group.present:
            problems.add(
                "security_groups",
                "security_group_gone",
                f"Security group {group.security_group_id} no longer exists in the cloud.",
            )
        if group.vpc_id != vpc.pk:
            problems.add(
                "security_groups",
                "security_group_not_in_vpc",
                f"Security group {group.security_group_id} is not in VPC {vpc.vpc_id}.",
            )


# --- requesting access ---------------------------------------------------------------------------


def service_available(problems: Problems, service) -> None:
    if service.state != ServiceState.AVAILABLE:
        problems.add(
            "service",
            "service_unavailable",
            f"{service} is {service.get_state_display().lower()}, not available.",
        )


def zones_offered(problems: Problems, service, zones: Sequence[ZoneChoice]) -> None:
    """The seed's rule: an endpoint's zones are a subset of the service's."""
    if not zones:
        problems.add("zones", "zone_required", "Choose at least one zone and its vSwitch.")
    offered = set(service.zone_ids)
    not_offered = sorted({choice.zone_id for choice in zones} - offered)
    if not_offered:
        problems.add(
            "zones",
            "zone_not_offered",
            f"{service} is not offered in {names(not_offered)}; it is offered in {names(offered)}.",
        )


def same_region(problems: Problems, service, vpc) -> None:
    if vpc.account.region != service.account.region:
        problems.add(
            "vpc",
            "region_mismatch",
            f"{vpc} is in {vpc.account.region}; {service} is in {service.account.region}.",
        )


def justification_given(problems: Problems, justification: str) -> None:
    if not justification.strip():
        problems.add("justification", "justification_required", "Say why the team needs access.")


def expiry_in_future(problems: Problems, expires_at: datetime | None) -> None:
    if expires_at is not None and expires_at <= timezone.now():
        problems.add("expires_at", "expiry_in_past", "The expiry must be in the future.")


def no_live_request(problems: Problems, service, vpc) -> None:
    """One endpoint per service and VPC (the database guards it too)."""
    if service.requests.filter(state__in=REQUEST_LIVE, vpc=vpc).exists():
        problems.add("vpc", "duplicate_request", f"{vpc} already has a live request for {service}.")


def below_connection_limit(problems: Problems, service) -> None:
    limit = service.connection_limit
    if limit is not None and service.requests.filter(state__in=REQUEST_LIVE).count() >= limit:
        problems.add(
            "service",
            "connection_limit_reached",
            f"{service} accepts at most {limit} connections; all are taken.",
        )


# --- publishing ----------------------------------------------------------------------------------


def service_name(problems: Problems, name: str, taken: bool) -> None:
    """A slug that can name cloud resources, not used by a live service (`taken`)."""
    if not SERVICE_NAME.fullmatch(name or ""):
        problems.add(
            "name",
            "invalid_name",
            "Use 1–63 lower-case letters, digits and hyphens, "
            "starting and ending with a letter or digit.",
        )
    if taken:
        problems.add("name", "duplicate_name", f"A service named {name} already exists.")


def enough_zones(problems: Problems, zones: Sequence[ZoneChoice]) -> None:
    if len(zones) < MIN_SERVICE_ZONES:
        problems.add(
            "zones",
            "too_few_zones",
            f"Choose at least {MIN_SERVICE_ZONES} zones: an NLB spans two or more.",
        )


def backends_in_vpc(problems: Problems, vpc, backends: Sequence[BackendChoice]) -> None:
    """At least one; each an instance of this VPC still in the cloud, on a port, once."""
    if not backends:
        problems.add("backends", "backend_required", "Add at least one backend server.")
    seen = set()
    for backend in backends:
        if not backend.instance.present:
            problems.add(
                "backends",
                "instance_gone",
                f"Instance {backend.instance} no longer exists in the cloud.",
            )
        if backend.instance.vpc_id != vpc.pk:
            problems.add(
                "backends",
                "instance_not_in_vpc",
                f"Instance {backend.instance} is not in VPC {vpc.vpc_id}.",
            )
        if not 1 <= backend.port <= 65535:
            problems.add(
                "backends", "invalid_port", f"Port {backend.port} is not between 1 and 65535."
            )
        if not 0 <= backend.weight <= 100:
            problems.add(
                "backends", "invalid_weight", f"Weight {backend.weight} is not between 0 and 100."
            )
        if (backend.instance.pk, backend.port) in seen:
            problems.add(
                "backends",
                "duplicate_backend",
                f"{backend.instance}:{backend.port} is listed twice.",
            )
        seen.add((backend.instance.pk, backend.port))


def listener(problems: Problems, port: int, protocol: str) -> None:
    if not 1 <= port <= 65535:
        problems.add("listener_port", "invalid_port", f"Port {port} is not between 1 and 65535.")
    if protocol not in ListenerProtocol.values:
        problems.add(
            "listener_protocol",
            "invalid_protocol",
            f"Protocol must be one of {names(ListenerProtocol.values)}.",
        )


def connection_limit_value(problems: Problems, limit: int | None) -> None:
    if limit is not None and limit < 1:
        problems.add(
            "connection_limit", "invalid_limit", "The connection limit must be at least 1."
        )
