"""Pieces that several workflows' steps share: tags, account checks, and tearing a resource down."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings

from connections.choices import INSTALLATION_TAG_KEY, MANAGED_BY_TAG
from connections.cloud import CloudAccountMismatch, CloudNotFound, CloudSession
from connections.cloud.base import CloudResult
from connections.workflows.definition import Context, StepFailed, Wait


def record_tags(key: str, record) -> dict[str, str]:
    """The tags that name what the portal made for `record`: this installation and the record's
    uuid (a row id repeats in another portal's database; a uuid does not, and the installation
    tells apart a second portal started on a copy of this database)."""
    return {INSTALLATION_TAG_KEY: settings.PORTAL_INSTALLATION_ID, key: record.uuid.hex}


def portal_tags(key: str, record) -> list[dict]:
    """Tags on everything the portal creates: who manages it, and for which service or request."""
    tags = {MANAGED_BY_TAG[0]: MANAGED_BY_TAG[1], **record_tags(key, record)}
    return [{"Key": tag_key, "Value": value} for tag_key, value in tags.items()]


def verify_account(session: CloudSession) -> None:
    """Refuse to tear down with credentials of another account (CloudSession.verify_account)."""
    try:
        session.verify_account()
    except CloudAccountMismatch as mismatch:
        raise StepFailed(mismatch.code, f"{mismatch.message} Nothing was deleted.") from mismatch


# How long a resource just created may still be "not found" by reads: the cloud's reads are
# eventually consistent right after a create (ECS's "eventual consistency of OpenAPI resources";
# the Terraform provider's waits let 20 reads in a row find nothing, about three minutes, before
# they give up on a new PrivateLink resource). Past it, not found means gone.
READ_AFTER_CREATE_GRACE_SECONDS = 180


def not_visible_yet(ctx: Context, what: str, resource_id: str, operation: str) -> Wait | None:
    """A resource the step made is not found by reads: a Wait while that may be the cloud's
    eventual consistency; None once it has lasted too long (the caller forgets the resource,
    so that a retry makes a new one)."""
    if ctx.waited_seconds() < READ_AFTER_CREATE_GRACE_SECONDS:
        return Wait(f"{what} {resource_id} not visible yet", operation=operation)
    return None


def ensure_gone(
    ctx: Context,
    what: str,
    resource_id: str,
    *,
    read_status: Callable[[], str | None],
    delete: Callable[[], CloudResult],
    busy: frozenset[str],
    gone: frozenset[str] = frozenset({"Deleted"}),
    operation: str | None = None,
) -> Wait | None:
    """Delete a resource and wait until the cloud no longer has it.

    `read_status` answers its status (None or CloudNotFound: gone). A resource that is still
    being created or changed (`busy`) cannot be deleted yet, so the step waits for it first;
    one already "Deleting" is only waited for. `operation`: the delete's name, which says
    when to look again (workflows/timing.py).
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
    return Wait(f"{what} {resource_id} deleting", operation=operation)


def adopt_tagged(
    ctx: Context, field: str, what: str, find: Callable[[dict[str, str]], list[str]], key: str
) -> None:
    """Before a teardown: recover the id of a resource made but never recorded.

    A create whose answer was lost (and whose retries ran out) leaves the record without the id,
    though the cloud made the resource; the tags the portal put on it find it again. Only this
    installation's tags for this record's uuid: never another portal's resource.
    """
    if getattr(ctx.record, field):
        return
    found = find(record_tags(key, ctx.record))
    if len(found) > 1:
        raise StepFailed(
            "AmbiguousTag", f"{len(found)} {what}s carry this record's tag: {', '.join(found)}."
        )
    if found:
        ctx.remember(verb=f"found {what}", detail=f"{found[0]} by its tag", **{field: found[0]})
