"""Pieces that several workflows' steps share: tags, account checks, and tearing a resource down."""

from __future__ import annotations

from collections.abc import Callable

from connections.choices import MANAGED_BY_TAG
from connections.cloud import CloudNotFound, CloudSession
from connections.cloud.base import CloudResult
from connections.workflows.runner import Context, StepFailed, Wait


def portal_tags(key: str, record_id: int) -> list[dict]:
    """Tags on everything the portal creates: who manages it, and for which service or request."""
    return [
        {"Key": MANAGED_BY_TAG[0], "Value": MANAGED_BY_TAG[1]},
        {"Key": key, "Value": str(record_id)},
    ]


def verify_account(session: CloudSession) -> None:
    """Refuse to tear down with credentials of another account.

    Teardown counts "not found" as done; with another account's credentials everything is "not
    found", and a revoke or retire would report success while leaving every resource behind.
    """
    identity = session.sts.caller_identity()
    uid = str(identity.get("AccountId", ""))
    if uid != session.account.uid:
        raise StepFailed(
            "AccountMismatch",
            f"The credentials of {session.account.name} belong to account {uid or 'unknown'}, "
            f"not {session.account.uid}; nothing was deleted.",
        )


def ensure_gone(
    ctx: Context,
    what: str,
    resource_id: str,
    *,
    read_status: Callable[[], str | None],
    delete: Callable[[], CloudResult],
    busy: frozenset[str],
    gone: frozenset[str] = frozenset({"Deleted"}),
) -> Wait | None:
    """Delete a resource and wait until the cloud no longer has it.

    `read_status` answers its status (None or CloudNotFound: gone). A resource that is still
    being created or changed (`busy`) cannot be deleted yet, so the step waits for it first;
    one already "Deleting" is only waited for.
    """
    try:
        status = read_status()
    except CloudNotFound:
        return None
    if status is None or status in gone:
        return None
    if status in busy:
        return Wait(f"{what} {resource_id} is {status}; deleting it after")
    if status != "Deleting":
        try:
            result = delete()
        except CloudNotFound:
            return None
        ctx.event(f"deleting {what}", resource_id, result.request_id)
    return Wait(f"{what} {resource_id} deleting")


def adopt_tagged(
    ctx: Context, field: str, what: str, find: Callable[[str, str], list[str]], key: str
) -> None:
    """Before a teardown: recover the id of a resource made but never recorded.

    A create whose answer was lost (and whose retries ran out) leaves the record without the id,
    though the cloud made the resource; the tag the portal put on it finds it again.
    """
    if getattr(ctx.record, field):
        return
    found = find(key, str(ctx.record.pk))
    if len(found) > 1:
        raise StepFailed(
            "AmbiguousTag", f"{len(found)} {what}s carry this record's tag: {', '.join(found)}."
        )
    if found:
        ctx.save(verb=f"found {what}", detail=f"{found[0]} by its tag", **{field: found[0]})
