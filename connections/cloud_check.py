"""Before the portal is trusted with a cloud account: can its credentials do everything the
workflows will ask, and is the account ready? One line per permission or prerequisite, with
what to do about a failure. `manage.py check_cloud` prints them; the cloud account's admin page
shows the last run (a worker runs it: the admin never waits on the cloud).

Checked, in order: who the credentials are (STS); that PrivateLink is activated (a provider
account); the zones NLB and PrivateLink offer, against the account's mirrored zones; then every
operation the account's roles call (connections/cloud/operations.py), made harmless: writes
with DryRun and ids that name nothing, reads of a single placeholder or of the account's lists.
RAM decides before the operation looks at its parameters, so an answer other than a RAM refusal
("not found" for the placeholder, "DryRunOperation") proves the permission.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from connections.cloud import (
    CloudAccountMismatch,
    CloudError,
    CloudNotAuthorised,
    CloudSession,
    RetryableCloudError,
)
from connections.cloud.errors import RAM_DENIALS
from connections.cloud.operations import OPERATIONS, PLACEHOLDER, Operation, Role
from connections.models import CloudAccount, VSwitch, Zone

OK, FAIL, WARN = "ok", "FAIL", "warn"
# Reads that need an id: a placeholder one (the answer is "not found", after RAM).
READ_PLACEHOLDERS = {
    "GetLoadBalancerAttribute": {"LoadBalancerId": f"nlb-{PLACEHOLDER}"},
    "GetListenerAttribute": {"ListenerId": f"lsn-{PLACEHOLDER}"},
    "GetListenerHealthStatus": {"ListenerId": f"lsn-{PLACEHOLDER}"},
    "ListServerGroupServers": {"ServerGroupId": f"sgp-{PLACEHOLDER}"},
    "GetVpcEndpointServiceAttribute": {"ServiceId": f"epsrv-{PLACEHOLDER}"},
    "ListVpcEndpointServiceResources": {"ServiceId": f"epsrv-{PLACEHOLDER}"},
    "ListVpcEndpointServiceUsers": {"ServiceId": f"epsrv-{PLACEHOLDER}"},
    "GetVpcEndpointAttribute": {"EndpointId": f"ep-{PLACEHOLDER}"},
    "ListVpcEndpointZones": {"EndpointId": f"ep-{PLACEHOLDER}"},
}
# Needed by the role, but checked above by what they answer (or an STS session's).
NOT_PROBED = {
    ("sts", "GetCallerIdentity"),
    ("sts", "AssumeRole"),
    ("privatelink", "CheckProductOpen"),
    ("nlb", "DescribeZones"),
    ("privatelink", "DescribeZones"),
}


@dataclass(frozen=True)
class Line:
    status: str  # OK, FAIL or WARN
    what: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.status:<4} {self.what}" + (f": {self.detail}" if self.detail else "")


def check(account: CloudAccount, roles: set[Role]) -> list[Line]:
    """Every check of `account` for `roles`; stops after the credentials when they fail."""
    session = CloudSession(account, patient=True)
    lines = [_identity(session)]
    if lines[0].status == FAIL:
        return lines
    if Role.PROVIDER in roles:
        lines.append(_activation(session))
    lines.extend(_zones(session, account, roles))
    for operation in OPERATIONS:
        if operation.roles & roles and (operation.product, operation.name) not in NOT_PROBED:
            lines.append(_permission(session, operation))
    if Role.PROVIDER in roles:
        lines.append(_load_balancer_dry_run(session, account))
    return lines


def as_data(lines: list[Line]) -> list[dict]:
    return [asdict(line) for line in lines]


def _identity(session: CloudSession) -> Line:
    try:
        session.verify_account()
    except CloudAccountMismatch as error:
        return Line(FAIL, "credentials", f"{error.message} Store this account's own keys.")
    except CloudError as error:
        return Line(FAIL, "credentials", f"{error.code}: {error.message}")
    return Line(OK, "credentials", f"account {session.account.uid}")


def _activation(session: CloudSession) -> Line:
    try:
        activated = session.privatelink.is_activated()
    except CloudError as error:
        return _failure("PrivateLink activated", "privatelink:CheckProductOpen", error)
    if activated:
        return Line(OK, "PrivateLink activated")
    return Line(
        FAIL,
        "PrivateLink activated",
        "not activated: activate PrivateLink in its console (or OpenPrivateLinkService) before "
        "publishing a service from this account",
    )


def _zones(session: CloudSession, account: CloudAccount, roles: set[Role]) -> list[Line]:
    """The zones each product offers (the inventory sync reads both, whatever the role)."""
    mirrored = sorted(account.zones.values_list("zone_id", flat=True))
    products = [
        ("NLB zones", "nlb", session.nlb.zones),
        ("PrivateLink zones", "privatelink", session.privatelink.zones),
    ]
    lines = []
    for what, product, read in products:
        try:
            offered = sorted(read())
        except CloudError as error:
            lines.append(_failure(what, f"{product}:DescribeZones", error))
            continue
        absent = [zone for zone in mirrored if zone not in offered]
        detail = ", ".join(offered) or "none"
        if absent:
            detail += f" (not offered in {', '.join(absent)}: the forms leave those out)"
        lines.append(Line(OK if offered else FAIL, what, detail))
    return lines


def _permission(session: CloudSession, operation: Operation) -> Line:
    api = getattr(session, operation.product)
    params = (
        dict(operation.check_params)
        if operation.write
        else dict(READ_PLACEHOLDERS.get(operation.name, {}))
    )
    if operation.write and operation.dry_run:
        params["DryRun"] = True
    try:
        api.call(operation.name, **params)
    except CloudNotAuthorised as error:
        return _failure(operation.ram_action, operation.ram_action, error)
    except RetryableCloudError as error:
        return Line(WARN, operation.ram_action, f"could not check now ({error.code}); run again")
    except CloudError as error:
        # The operation answered about the placeholder: RAM let the call through.
        return Line(OK, operation.ram_action, f"allowed ({error.code} for the check's placeholder)")
    return Line(OK, operation.ram_action, "allowed")


def _load_balancer_dry_run(session: CloudSession, account: CloudAccount) -> Line:
    """A DryRun CreateLoadBalancer in a real VPC of the account: it goes as far as the cloud
    checks a real publish (NLB's service-linked role included: the first load balancer of an
    account creates it, if the credentials may)."""
    what = "DryRun CreateLoadBalancer"
    vswitches = {}
    for vswitch in VSwitch.objects.filter(
        vpc__account=account,
        present=True,
        zone_id__in=Zone.objects.filter(account=account, nlb_offered=True).values("zone_id"),
    ).order_by("vpc_id", "zone_id"):
        vswitches.setdefault(vswitch.vpc.vpc_id, {}).setdefault(vswitch.zone_id, vswitch.vswitch_id)
    vpc_id = next((vpc for vpc, zones in vswitches.items() if len(zones) >= 2), None)
    if vpc_id is None:
        return Line(WARN, what, "no VPC with vSwitches in two NLB zones to try it in (sync first)")
    zones = sorted(vswitches[vpc_id].items())[:2]
    try:
        session.nlb.dry_run_create_load_balancer(vpc_id=vpc_id, zones=zones)
    except CloudNotAuthorised as error:
        return _failure(what, "nlb:CreateLoadBalancer", error)
    except CloudError as error:
        if error.code == "DryRunOperation":
            return Line(OK, what, f"would succeed in {vpc_id}")
        return Line(FAIL, what, f"{error.code}: {error.message}")
    return Line(OK, what, f"would succeed in {vpc_id}")


def _failure(what: str, action: str, error: CloudError) -> Line:
    if error.code in RAM_DENIALS:
        return Line(
            FAIL,
            what,
            f"the RAM policy does not allow {action}: add it (`manage.py ram_policy` prints "
            "the policy the portal needs)",
        )
    if isinstance(error, CloudNotAuthorised):
        return Line(FAIL, what, f"credentials refused ({error.code})")
    return Line(FAIL, what, f"{error.code}: {error.message}")
