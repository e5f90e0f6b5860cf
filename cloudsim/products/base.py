"""What every product module shares: the operation registry, the call context, small helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cloudsim import ids
from cloudsim.auth import Identity
from cloudsim.errors import ApiError, dry_run, not_found, wrong_state
from cloudsim.params import Params
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

    def owned(self, kind: str, rid: str | None, code: str, what: str) -> Record:
        """A resource of the caller's account, or the product's not-found refusal."""
        record = self.store.get(kind, rid, owner=self.uid)
        if record is None:
            raise not_found(code, what, rid or "")
        return record

    def now(self) -> str:
        return self.store.iso()


def public(record: Record) -> dict[str, Any]:
    """The record without cloudsim's bookkeeping (keys starting with `_`)."""
    return {key: value for key, value in record.items() if not key.startswith("_")}


def require(record: Record, field: str, allowed: tuple[str, ...], code: str, what: str) -> None:
    """Refuse with `code` unless the record's `field` is one of `allowed`."""
    if record[field] not in allowed:
        raise wrong_state(code, what, record["_id"], record[field], " or ".join(allowed))


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


def vswitch_for(ctx: Context, vsw_id: str, where: str, vpc_id: str, zone_id: str) -> Record:
    """The caller's vSwitch `vsw_id`, which must sit in `vpc_id` and `zone_id`."""
    vswitch = ctx.store.get("vswitch", vsw_id, owner=ctx.uid)
    if vswitch is None:
        raise ApiError(
            "InvalidVSwitchId.NotFound", f"The vSwitch {vsw_id!r} ({where}) does not exist."
        )
    if vswitch["VpcId"] != vpc_id:
        raise ApiError(
            "InvalidVSwitchId.VpcMismatch",
            f"The vSwitch {vsw_id!r} ({where}) belongs to {vswitch['VpcId']}, not to {vpc_id}.",
        )
    if vswitch["ZoneId"] != zone_id:
        raise ApiError(
            "InvalidVSwitchId.ZoneMismatch",
            f"The vSwitch {vsw_id!r} ({where}) is in zone {vswitch['ZoneId']}, not in {zone_id}.",
        )
    return vswitch


def vpc_for(ctx: Context, vpc_id: str) -> Record:
    vpc = ctx.store.get("vpc", vpc_id, owner=ctx.uid)
    if vpc is None:
        raise ApiError("InvalidVpcId.NotFound", f"The VPC {vpc_id!r} does not exist.")
    return vpc


def check_zone(ctx: Context, zone_id: str, where: str) -> None:
    if zone_id not in {zone.id for zone in ctx.store.scenario.zones}:
        raise ApiError(
            "InvalidZoneId.NotFound",
            f"The zone {zone_id!r} ({where}) does not exist in region {ctx.region}.",
        )
