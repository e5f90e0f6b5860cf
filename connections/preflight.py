"""Pre-flight checks: what a verb verifies against the mirrored inventory before any cloud call.

One function per thing checked (its messages marked for translation: the pages and the API
answer in the person's language). Each adds what it finds to a `Problems` under the field it is
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
from django.utils.translation import gettext as _

from connections import policies
from connections.choices import ListenerProtocol, ServiceState
from connections.models import Instance, PublishedService, VSwitch, Zone
from connections.states import REQUEST_LIVE

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
            _(
                "%(vpc)s is not a VPC of %(team)s: a team uses its own VPCs only (a platform "
                "admin assigns them)."
            )
            % {"vpc": vpc, "team": team},
        )
    if not vpc.present:
        problems.add("vpc", "vpc_gone", _("%(vpc)s no longer exists in the cloud.") % {"vpc": vpc})


def vswitches_match(problems: Problems, vpc, zones: Sequence[ZoneChoice]) -> None:
    """One vSwitch per zone, each of this VPC, in its zone, and still in the cloud."""
    seen = set()
    for choice in zones:
        if choice.zone_id in seen:
            problems.add(
                "zones",
                "duplicate_zone",
                _("Zone %(zone)s is chosen twice.") % {"zone": choice.zone_id},
            )
        seen.add(choice.zone_id)
        if not choice.vswitch.present:
            problems.add(
                "zones",
                "vswitch_gone",
                _("vSwitch %(vswitch)s no longer exists in the cloud.")
                % {"vswitch": choice.vswitch.vswitch_id},
            )
        if choice.vswitch.vpc_id != vpc.pk:
            problems.add(
                "zones",
                "vswitch_not_in_vpc",
                _("vSwitch %(vswitch)s is not in VPC %(vpc)s.")
                % {"vswitch": choice.vswitch.vswitch_id, "vpc": vpc.vpc_id},
            )
        elif choice.vswitch.zone_id != choice.zone_id:
            problems.add(
                "zones",
                "vswitch_not_in_zone",
                _("vSwitch %(vswitch)s is in zone %(its_zone)s, not %(zone)s.")
                % {
                    "vswitch": choice.vswitch.vswitch_id,
                    "its_zone": choice.vswitch.zone_id,
                    "zone": choice.zone_id,
                },
            )


def security_groups_in_vpc(problems: Problems, vpc, groups: Sequence) -> None:
    if not groups:
        problems.add(
            "security_groups",
            "security_group_required",
            _("Choose at least one security group."),
        )
    for group in groups:
        if not group.present:
            problems.add(
                "security_groups",
                "security_group_gone",
                _("Security group %(group)s no longer exists in the cloud.")
                % {"group": group.security_group_id},
            )
        if group.vpc_id != vpc.pk:
            problems.add(
                "security_groups",
                "security_group_not_in_vpc",
                _("Security group %(group)s is not in VPC %(vpc)s.")
                % {"group": group.security_group_id, "vpc": vpc.vpc_id},
            )


# --- requesting access ---------------------------------------------------------------------------


def service_available(problems: Problems, service) -> None:
    if service.state != ServiceState.AVAILABLE:
        problems.add(
            "service",
            "service_unavailable",
            _("%(service)s is %(state)s, not available.")
            % {"service": service, "state": service.get_state_display().lower()},
        )


def products_missing(zone: Zone, *, nlb: bool) -> list[str]:
    """The products a zone does not offer, of those a service (an NLB and PrivateLink) or an
    endpoint (PrivateLink) needs there."""
    missing = ["NLB"] if nlb and not zone.nlb_offered else []
    return missing + ([] if zone.privatelink_offered else ["PrivateLink"])


def unsupported_zones(vpc, *, nlb: bool) -> dict[str, str]:
    """Zone id → why it cannot be chosen, for the zones of `vpc`'s account that do not offer
    what is needed there (the forms show these instead of a choice)."""
    found = {}
    for zone in Zone.objects.filter(account_id=vpc.account_id):
        missing = products_missing(zone, nlb=nlb)
        if missing:
            found[zone.zone_id] = _("%(products)s is not offered in this zone.") % {
                "products": " and ".join(missing)
            }
    return found


def zones_supported(problems: Problems, vpc, zones: Sequence[ZoneChoice], *, nlb: bool) -> None:
    """Each chosen zone offers what will be deployed in it (NLB's and PrivateLink's
    DescribeZones, mirrored by the inventory sync): the cloud refuses the others
    (UnauthorizedZone, EndpointServiceNotSupportedZone)."""
    if vpc is None:
        return  # vpc_of_team says what is wrong with the VPC
    mirrored = {
        zone.zone_id: zone
        for zone in Zone.objects.filter(
            account_id=vpc.account_id, zone_id__in=[choice.zone_id for choice in zones]
        )
    }
    for choice in zones:
        zone = mirrored.get(choice.zone_id)
        missing = products_missing(zone, nlb=nlb) if zone is not None else []
        if missing:
            problems.add(
                "zones",
                "zone_not_supported",
                _("%(products)s is not offered in zone %(zone)s; choose another zone.")
                % {"products": " and ".join(missing), "zone": choice.zone_id},
            )


def zones_offered(problems: Problems, service, zones: Sequence[ZoneChoice]) -> None:
    """The seed's rule: an endpoint's zones are a subset of the service's."""
    if not zones:
        problems.add("zones", "zone_required", _("Choose at least one zone and its vSwitch."))
    offered = set(service.zone_ids)
    not_offered = sorted({choice.zone_id for choice in zones} - offered)
    if not_offered:
        problems.add(
            "zones",
            "zone_not_offered",
            _("%(service)s is not offered in %(zones)s; it is offered in %(offered)s.")
            % {"service": service, "zones": names(not_offered), "offered": names(offered)},
        )


def same_region(problems: Problems, service, vpc) -> None:
    if vpc.account.region != service.account.region:
        problems.add(
            "vpc",
            "region_mismatch",
            _("%(vpc)s is in %(vpc_region)s; %(service)s is in %(region)s.")
            % {
                "vpc": vpc,
                "vpc_region": vpc.account.region,
                "service": service,
                "region": service.account.region,
            },
        )


def justification_given(problems: Problems, justification: str) -> None:
    if not justification.strip():
        problems.add("justification", "justification_required", _("Say why the team needs access."))


def expiry_in_future(problems: Problems, expires_at: datetime | None) -> None:
    if expires_at is not None and expires_at <= timezone.now():
        problems.add("expires_at", "expiry_in_past", _("The expiry must be in the future."))


def no_live_request(problems: Problems, service, vpc) -> None:
    """One endpoint per service and VPC (the database guards it too)."""
    if service.requests.filter(state__in=REQUEST_LIVE, vpc=vpc).exists():
        problems.add(
            "vpc",
            "duplicate_request",
            _("%(vpc)s already has a live request for %(service)s.")
            % {"vpc": vpc, "service": service},
        )


def below_connection_limit(problems: Problems, service) -> None:
    limit = service.connection_limit
    if limit is not None and service.requests.filter(state__in=REQUEST_LIVE).count() >= limit:
        problems.add(
            "service",
            "connection_limit_reached",
            _("%(service)s accepts at most %(limit)d connections; all are taken.")
            % {"service": service, "limit": limit},
        )


# --- publishing ----------------------------------------------------------------------------------


def service_name(problems: Problems, name: str, taken: bool) -> None:
    """A slug that can name cloud resources, not used by a live service (`taken`)."""
    if not SERVICE_NAME.fullmatch(name or ""):
        problems.add(
            "name",
            "invalid_name",
            _(
                "Use 1–63 lower-case letters, digits and hyphens, "
                "starting and ending with a letter or digit."
            ),
        )
    if taken:
        problems.add(
            "name", "duplicate_name", _("A service named %(name)s already exists.") % {"name": name}
        )


def enough_zones(problems: Problems, zones: Sequence[ZoneChoice]) -> None:
    if len(zones) < MIN_SERVICE_ZONES:
        problems.add(
            "zones",
            "too_few_zones",
            _("Choose at least %(count)d zones: an NLB spans two or more.")
            % {"count": MIN_SERVICE_ZONES},
        )


def backends_in_vpc(problems: Problems, vpc, backends: Sequence[BackendChoice]) -> None:
    """At least one; each an instance of this VPC still in the cloud, on a port, once."""
    if not backends:
        problems.add("backends", "backend_required", _("Add at least one backend server."))
    seen = set()
    for backend in backends:
        if not backend.instance.present:
            problems.add(
                "backends",
                "instance_gone",
                _("Instance %(instance)s no longer exists in the cloud.")
                % {"instance": backend.instance},
            )
        if backend.instance.vpc_id != vpc.pk:
            problems.add(
                "backends",
                "instance_not_in_vpc",
                _("Instance %(instance)s is not in VPC %(vpc)s.")
                % {"instance": backend.instance, "vpc": vpc.vpc_id},
            )
        if not 1 <= backend.port <= 65535:
            problems.add(
                "backends",
                "invalid_port",
                _("Port %(port)d is not between 1 and 65535.") % {"port": backend.port},
            )
        if not 0 <= backend.weight <= 100:
            problems.add(
                "backends",
                "invalid_weight",
                _("Weight %(weight)d is not between 0 and 100.") % {"weight": backend.weight},
            )
        if (backend.instance.pk, backend.port) in seen:
            problems.add(
                "backends",
                "duplicate_backend",
                _("%(instance)s:%(port)d is listed twice.")
                % {"instance": backend.instance, "port": backend.port},
            )
        seen.add((backend.instance.pk, backend.port))


def listener(problems: Problems, port: int, protocol: str) -> None:
    if not 1 <= port <= 65535:
        problems.add(
            "listener_port",
            "invalid_port",
            _("Port %(port)d is not between 1 and 65535.") % {"port": port},
        )
    if protocol not in ListenerProtocol.values:
        problems.add(
            "listener_protocol",
            "invalid_protocol",
            _("Protocol must be one of %(protocols)s.")
            % {"protocols": names(ListenerProtocol.values)},
        )


def connection_limit_value(problems: Problems, limit: int | None) -> None:
    if limit is not None and limit < 1:
        problems.add(
            "connection_limit", "invalid_limit", _("The connection limit must be at least 1.")
        )


# --- every check of a verb, for the verb and for a form's "Check" button -------------------------


def request_problems(
    user,
    *,
    service,
    team,
    vpc,
    security_groups: Sequence,
    zones: Sequence[ZoneChoice],
    justification: str,
    expires_at: datetime | None = None,
) -> Problems:
    """Everything `actions.request_access` checks before it records a request."""
    problems = Problems()
    service_available(problems, service)
    vpc_of_team(problems, user, team, vpc)
    same_region(problems, service, vpc)
    zones_offered(problems, service, zones)
    zones_supported(problems, vpc, zones, nlb=False)
    vswitches_match(problems, vpc, zones)
    security_groups_in_vpc(problems, vpc, security_groups)
    justification_given(problems, justification)
    expiry_in_future(problems, expires_at)
    no_live_request(problems, service, vpc)
    below_connection_limit(problems, service)
    return problems


def amend_problems(user, access_request, *, security_groups: Sequence, zones: Sequence[ZoneChoice]):
    """Everything `actions.amend_request` checks: the new choices, as a new request's are."""
    problems = Problems()
    vpc = access_request.vpc
    vpc_of_team(problems, user, access_request.consumer_team, vpc)
    zones_offered(problems, access_request.service, zones)
    zones_supported(problems, vpc, zones, nlb=False)
    vswitches_match(problems, vpc, zones)
    security_groups_in_vpc(problems, vpc, security_groups)
    return problems


def publish_problems(
    user,
    *,
    team,
    name: str,
    vpc,
    zones: Sequence[ZoneChoice],
    backends: Sequence[BackendChoice],
    listener_port: int,
    listener_protocol: str,
    connection_limit: int | None,
) -> Problems:
    """Everything `actions.publish_service` checks before it records a service."""
    problems = Problems()
    service_name(problems, name, taken=name_taken(name))
    vpc_of_team(problems, user, team, vpc)
    enough_zones(problems, zones)
    zones_supported(problems, vpc, zones, nlb=True)
    vswitches_match(problems, vpc, zones)
    backends_in_vpc(problems, vpc, backends)
    listener(problems, listener_port, listener_protocol)
    connection_limit_value(problems, connection_limit)
    return problems


def name_taken(name: str) -> bool:
    """A live service has this name already (a retired one's name is free again)."""
    return PublishedService.objects.filter(name=name).exclude(state=ServiceState.RETIRED).exists()
