"""What every product module shares: the operation registry, the call context, small helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cloudsim import ids
from cloudsim.auth import Identity
from cloudsim.errors import ApiError, dry_run, not_found, wrong_state
from cloudsim.params import Params, paginate
from cloudsim.store import Record, Store

Handler = Callable[["Context"], dict[str, Any]]


@dataclass(frozen=True)
class Operation:
    name: str
    handler: Handler
    # Writes honour ClientToken (the first response is replayed) and DryRun.
    write: bool


@dataclass
class Product:
    """One API product and version: its operations, keyed by action name."""

    name: str
    version: str
    host_prefix: str
    operations: dict[str, Operation] = field(default_factory=dict)
    regional: bool = True
    # The code a ClientToken reused with other parameters is refused with; None: the first
    # answer is replayed whatever the parameters (no source says how the product answers).
    token_mismatch_code: str | None = None

    def action(self, name: str, *, write: bool = False) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.operations[name] = Operation(name, handler, write)
            return handler

        return register

    def host(self, region: str) -> str:
        if self.regional:
            return f"{self.host_prefix}.{region}.aliyuncs.com"
        return f"{self.host_prefix}.aliyuncs.com"


@dataclass
class Context:
    """One authenticated call, as a handler sees it. The store lock is held throughout."""

    store: Store
    identity: Identity
    params: Params
    product: Product
    action: str
    request_id: str

    @property
    def uid(self) -> str:
        return self.identity.uid

    @property
    def region(self) -> str:
        return self.store.scenario.region

    def dry_run_passes(self) -> None:
        """Called by writes once every check has passed and before anything changes."""
        if self.params.boolean("DryRun", False):
            raise dry_run()

    def owned(self, kind: str, rid: str | None, code: str, what: str, status: int = 400) -> Record:
        """A resource of the caller's account, or the product's not-found refusal (also for one
        created so lately that reads do not find it yet: store.hide_until_consistent)."""
        record = self.store.get(kind, rid, owner=self.uid)
        if record is None or not self.store.visible(record):
            raise not_found(code, what, rid or "", status)
        return record

    def listed(self, kind: str) -> list[Record]:
        """The caller's resources of `kind` that reads find."""
        return [record for record in self.store.owned(kind, self.uid) if self.store.visible(record)]

    def exclusive(self, scope: str, operation: str, code: str, what: str) -> None:
        """Refuse with `code` while an earlier call in `scope` is still under way (the cloud's
        "does not support concurrent …" rules); otherwise hold `scope` for as long as this
        call's change takes. Called once every check, the dry run's included, has passed."""
        if not self.store.claim(scope, self.store.delay(operation)):
            raise ApiError(code, f"{what} is still in progress; try again later.")

    def may_create_service_linked_role(self, service: str, role: str, code: str) -> bool:
        """Whether the account has the product's service-linked role, or this caller may create
        it (ram:CreateServiceLinkedRole for `service`); refuses with `code` otherwise. True
        when the role must be created (by `create_service_linked_role`, after the dry run)."""
        if service in self.store.account(self.uid)["service_linked_roles"]:
            return False
        if not self.identity.may("ram:CreateServiceLinkedRole", {"ram:ServiceName": service}):
            raise ApiError(
                code,
                f"The service-linked role {role} does not exist, and {self.identity.arn} may not "
                f"create it: allow ram:CreateServiceLinkedRole for {service}.",
            )
        return True

    def create_service_linked_role(self, service: str) -> None:
        self.store.account(self.uid)["service_linked_roles"].append(service)

    def now(self) -> str:
        return self.store.iso()


def public(record: Record) -> dict[str, Any]:
    """The record without cloudsim's bookkeeping (keys starting with `_`)."""
    return {key: value for key, value in record.items() if not key.startswith("_")}


def require(record: Record, field: str, allowed: tuple[str, ...], code: str, what: str) -> None:
    """Refuse with `code` unless the record's `field` is one of `allowed`."""
    if record[field] not in allowed:
        raise wrong_state(code, what, record["_id"], record[field], " or ".join(allowed))


def page(ctx: Context, items: list, limit: int, default: int) -> tuple[list, dict[str, Any]]:
    """A MaxResults/NextToken page of `items` and the paging fields of the answer."""
    rows, next_token, size = paginate(items, ctx.params, default=default, limit=limit)
    return rows, {"MaxResults": size, "NextToken": next_token or ""}


def tag_list(record: Record, key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in record.get("Tags", {}).items()]


def matches_tags(record: Record, wanted: dict[str, str]) -> bool:
    tags = record.get("Tags", {})
    return all(k in tags and (v == "" or tags[k] == v) for k, v in wanted.items())


def resource_group(uid: str) -> str:
    return ids.stable("rg", uid, "default").replace("rg-bp1", "rg-acfm")


def in_any(value: Any, wanted: Iterable[Any]) -> bool:
    wanted = list(wanted)
    return not wanted or value in wanted


@dataclass(frozen=True)
class NetworkCodes:
    """How a product words its refusals of a network it is given (each product's metadata)."""

    vpc_not_found: tuple[str, int]
    vswitch_not_found: tuple[str, int]
    # A vSwitch that exists but in another zone than the one named with it.
    vswitch_zone_mismatch: tuple[str, int]
    # A zone outside the region, or one where the product is not offered.
    zone_not_supported: tuple[str, int]


def vswitch_for(
    ctx: Context, codes: NetworkCodes, vsw_id: str, where: str, vpc_id: str, zone_id: str
) -> Record:
    """The caller's vSwitch `vsw_id`, which must sit in `vpc_id` and `zone_id`."""
    vswitch = ctx.store.get("vswitch", vsw_id, owner=ctx.uid)
    if vswitch is None or vswitch["VpcId"] != vpc_id:
        code, status = codes.vswitch_not_found
        place = "does not exist" if vswitch is None else f"is not in {vpc_id}"
        raise ApiError(code, f"The vSwitch {vsw_id!r} ({where}) {place}.", status)
    if vswitch["ZoneId"] != zone_id:
        code, status = codes.vswitch_zone_mismatch
        raise ApiError(
            code,
            f"The vSwitch {vsw_id!r} ({where}) is in zone {vswitch['ZoneId']}, not in {zone_id}.",
            status,
        )
    return vswitch


def vpc_for(ctx: Context, codes: NetworkCodes, vpc_id: str) -> Record:
    vpc = ctx.store.get("vpc", vpc_id, owner=ctx.uid)
    if vpc is None:
        code, status = codes.vpc_not_found
        raise ApiError(code, f"The VPC {vpc_id!r} does not exist.", status)
    return vpc


def product_zones(ctx: Context) -> list[Any]:
    """The region's zones where the calling product may be deployed (its DescribeZones)."""
    return [
        zone
        for zone in ctx.store.scenario.zones
        if ctx.store.zone_offers(zone.id, ctx.product.name)
    ]


def check_zone(ctx: Context, codes: NetworkCodes, zone_id: str, where: str) -> None:
    offered = [zone.id for zone in product_zones(ctx)]
    if zone_id not in offered:
        code, status = codes.zone_not_supported
        raise ApiError(
            code,
            f"The zone {zone_id!r} ({where}) does not support {ctx.product.name} in region "
            f"{ctx.region} (it supports {', '.join(offered) or 'no zone'}).",
            status,
        )
