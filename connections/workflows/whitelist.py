"""The consumer's account on the service's whitelist: put there before its endpoint is made
(cross-account requests only), taken off once the account has no live request left to the
service. The health sweep asks the same questions (monitoring/findings.py)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from connections.choices import RequestState
from connections.models import AccessRequest, PublishedService
from connections.states import (
    REQUEST_LIVE,
    REQUEST_WORKFLOWS,
)
from connections.workflows.definition import Context, Wait

# A closed request's hold on its account's whitelisting, while it takes the account off: longer
# than a cloud call may take (base.READ_TIMEOUT_MS), so it only outlives a worker that died.
WITHDRAWAL_HOLD = timedelta(minutes=5)


# The event that says the portal put an account on a whitelist: the health sweep's proof that a
# whitelist entry is the portal's to take off (connections/monitoring/findings.py).
WHITELISTED = "whitelisted account"


def requests_needing_whitelisting():
    """Live requests, which need their account on their service's whitelist: not those being
    revoked, whose endpoints are already going. (The health sweep asks it too.)"""
    return (
        AccessRequest.objects.filter(state__in=REQUEST_LIVE)
        .exclude(state=RequestState.REVOKING)
        .exclude(state=RequestState.FAILED, failed_phase=REQUEST_WORKFLOWS[RequestState.REVOKING])
    )


def whitelist_consumer_account(ctx: Context) -> Wait | None:
    """Another account may only create an endpoint to a service that whitelists it."""
    record = ctx.record
    if not record.is_cross_account:
        return None
    service_id, uid = record.service.endpoint_service_id, record.vpc.account.uid
    withdrawing = AccessRequest.objects.filter(
        service_id=record.service_id,
        vpc__account__uid=uid,
        withdrawing_whitelist_until__gt=timezone.now(),
    )
    if withdrawing.exists():
        return Wait(f"account {uid} is being taken off the whitelist; whitelisting it after")
    api = ctx.provider_cloud.privatelink
    if uid in api.list_users(service_id):
        return None
    result = api.add_user(service_id, uid, client_token=record.client_token("whitelist"))
    ctx.event(WHITELISTED, f"AddUserToVpcEndpointService {uid}", result.request_id)
    return None


def whitelist_withdrawn(ctx: Context) -> Wait | None:
    """Take the consumer's account off the service's whitelist once it has no live request left.

    Decided under the service's row lock, which `request_access` also takes: a new request from
    the same account either exists already (and the account stays) or comes after, and then
    waits to whitelist the account until this step is done (`withdrawing_whitelist_until`). The
    cloud calls run after the lock is released: no row lock is held across a cloud call.
    """
    record = ctx.record
    if not record.is_cross_account or not record.service.endpoint_service_id:
        return None
    uid = record.vpc.account.uid
    with transaction.atomic():
        PublishedService.objects.select_for_update().only("pk").get(pk=record.service_id)
        needing = requests_needing_whitelisting().filter(
            service_id=record.service_id, vpc__account__uid=uid
        )
        if needing.exclude(pk=record.pk).exists():
            return None
        ctx.remember(withdrawing_whitelist_until=timezone.now() + WITHDRAWAL_HOLD)
    try:
        api = ctx.provider_cloud.privatelink
        service_id = record.service.endpoint_service_id
        if uid in api.list_users(service_id):
            result = api.remove_user(service_id, uid)
            ctx.event(
                "withdrew whitelisting",
                f"RemoveUserFromVpcEndpointService {uid}",
                result.request_id,
            )
    finally:
        ctx.remember(withdrawing_whitelist_until=None)
    return None
