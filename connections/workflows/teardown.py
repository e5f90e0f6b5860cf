"""Tearing a request's endpoint down: revoke, and the clean-up after a reject (or of an endpoint
made after a revoke). The endpoint's zones go first, one at a time, then the endpoint, then the
account's whitelisting (each API reference's "before you delete" rules; docs/cloud-api.md)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from connections.choices import REQUEST_TAG_KEY, RequestState
from connections.cloud import CloudNotFound
from connections.models import AccessRequest
from connections.states import (
    CLEANUP_WORKFLOW,
    REQUEST_TERMINAL,
)
from connections.workflows import listings
from connections.workflows.access import DELETING, REVOKE_PHASE, AccessWorkflow
from connections.workflows.definition import NO_ERROR, Context, Step, Wait
from connections.workflows.steps import (
    adopt_tagged,
    verify_account,
)
from connections.workflows.whitelist import whitelist_withdrawn


def account_verified(ctx: Context) -> Wait | None:
    verify_account(ctx.cloud)
    return None


def provider_account_verified(ctx: Context) -> Wait | None:
    if ctx.provider_cloud is not ctx.cloud:
        verify_account(ctx.provider_cloud)
    return None


# Before any teardown, at every start (a retry may follow a change of credentials).
ACCOUNTS_VERIFIED = [
    Step("account_verified", account_verified, always=True),
    Step("provider_account_verified", provider_account_verified, always=True, provider_side=True),
]


def untracked_endpoint_found(ctx: Context) -> Wait | None:
    api = ctx.cloud.privatelink
    adopt_tagged(ctx, "endpoint_id", "endpoint", api.tagged_endpoints, REQUEST_TAG_KEY)
    return None


def endpoint_gone(ctx: Context) -> Wait | None:
    """Take the endpoint (if one was made) down in the order the cloud requires, and wait until
    the cloud no longer knows it: its zones first, one at a time ("Before you delete an
    endpoint, delete the zones added to it"; a zone change at a time per endpoint), then the
    endpoint. Each call waits for the cloud to confirm the one before."""
    record = ctx.record
    record.refresh_from_db(fields=["endpoint_id", "endpoint_deleted_at"])
    endpoint_id, api = record.endpoint_id, ctx.cloud.privatelink
    if not endpoint_id or record.endpoint_deleted_at:
        return None
    try:
        status = listings.read(ctx, listings.ENDPOINTS, endpoint_id, still=DELETING).get(
            "EndpointStatus"
        )
        if status == "Creating":
            return Wait(f"endpoint {endpoint_id} is Creating; deleting it after")
        if status != "Deleting":
            outcome = _zones_removed(ctx, endpoint_id, status)
            if outcome is not None:
                return outcome
            result = api.delete_endpoint(endpoint_id)
            ctx.event("deleting endpoint", endpoint_id, result.request_id)
        return Wait(f"endpoint {endpoint_id} deleting", operation="DeleteVpcEndpoint")
    except CloudNotFound:
        ctx.remember(
            endpoint_deleted_at=timezone.now(), verb="endpoint deleted", detail=endpoint_id
        )
        return None


def _zones_removed(ctx: Context, endpoint_id: str, status: str | None) -> Wait | None:
    """None once the endpoint has no zone left; otherwise remove the next one and wait."""
    api = ctx.cloud.privatelink
    zones = api.list_endpoint_zones(endpoint_id)
    if not zones:
        return None
    leaving = [zone["ZoneId"] for zone in zones if zone.get("ZoneStatus") == "Deleting"]
    if leaving or status == "Pending":
        what = f"zone {', '.join(leaving)}" if leaving else "a zone change"
        return Wait(
            f"endpoint {endpoint_id}: {what} under way", operation="RemoveZoneFromVpcEndpoint"
        )
    zone_id = zones[0]["ZoneId"]
    result = api.remove_zone(endpoint_id, zone_id)
    ctx.event("removing endpoint zone", f"{endpoint_id} {zone_id}", result.request_id)
    return Wait(
        f"endpoint {endpoint_id}: zone {zone_id} being removed",
        operation="RemoveZoneFromVpcEndpoint",
    )


def mark_revoked(ctx: Context) -> Wait | None:
    """Revoked once no endpoint is left. A provision step that made an endpoint while we tore
    down records its id under the row lock taken here, so either we see that id (and come back
    to delete it: never under the lock, which no cloud call may hold) or it sees `revoked` and
    cleans up after itself."""
    outcome = endpoint_gone(ctx)
    if outcome is not None:
        return outcome
    with transaction.atomic():
        late = (
            AccessRequest.objects.select_for_update()
            .filter(pk=ctx.record.pk, endpoint_id__gt="", endpoint_deleted_at__isnull=True)
            .exists()
        )
        if late:
            return Wait("an endpoint was recorded meanwhile; deleting it")
        ctx.finish(
            RequestState.REVOKED,
            verb="revoked",
            detail=gettext_noop("endpoint gone"),
            closed_at=timezone.now(),
        )
    return None


class RevokeWorkflow(AccessWorkflow):
    name = REVOKE_PHASE
    former_task_name = "connections.revoke_request"
    running_states = frozenset({RequestState.REVOKING})
    steps = [
        *ACCOUNTS_VERIFIED,
        Step("untracked_endpoint_found", untracked_endpoint_found),
        Step("endpoint_gone", endpoint_gone),
        Step("whitelist_withdrawn", whitelist_withdrawn, provider_side=True),
        Step("mark_revoked", mark_revoked),
    ]


def clean_up_finished(ctx: Context) -> Wait | None:
    """A clean-up that failed before and now went through leaves no error behind."""
    if ctx.record.failed_phase == CleanupWorkflow.name:
        ctx.remember(verb="cleaned up", detail=gettext_noop("after an earlier failure"), **NO_ERROR)
    return None


class CleanupWorkflow(AccessWorkflow):
    """Runs on a request that is already over (rejected, revoked): its state no longer changes."""

    name = CLEANUP_WORKFLOW
    former_task_name = "connections.clean_up_request"
    running_states = REQUEST_TERMINAL
    failed_state = None
    steps = [
        *ACCOUNTS_VERIFIED,
        Step("untracked_endpoint_found", untracked_endpoint_found),
        # No DisableVpcEndpointConnection first: a connection waiting for the provider is
        # Disconnected already, and deleting the endpoint ends one accepted meanwhile too.
        Step("endpoint_gone", endpoint_gone),
        Step("whitelist_withdrawn", whitelist_withdrawn, provider_side=True),
        Step("clean_up_finished", clean_up_finished),
    ]


REVOKE = RevokeWorkflow()


CLEANUP = CleanupWorkflow()
