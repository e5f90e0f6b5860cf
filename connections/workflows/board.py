"""Endpoint statuses read in batches: requests waiting in one account share its list calls.

A step waiting on an endpoint (to be Active, Connected, or gone) reads it here. A step that has
not waited yet reads the endpoint itself (GetVpcEndpointAttribute): the portal holds nothing
newer than the call that just changed it. A read after a wait needs only a view of the account
taken after the step's previous read: the account's latest listing (ListVpcEndpoints, paged,
kept in the cache for every worker) when it is newer, and otherwise a new listing, which every
other waiting request of the account then reads too. The calls made while endpoints wait so
grow with accounts and with the reads of one request, not with the requests waiting: 500
waiting requests in one account cost about the list calls one of them would.

Two workers that find the listing old at the same moment may both list: at most one listing
per worker thread, and no lock to wait on. An endpoint the listing does not hold (gone) is read
on its own, so that "not found" is the cloud's answer about that endpoint, not a list's.
"""

from __future__ import annotations

import time

from django.core.cache import cache

from connections.workflows.runner import Context
from portal import outages

# What the waiting steps read of an endpoint; the rest of a listing is not kept.
FIELDS = ("EndpointId", "EndpointStatus", "ConnectionStatus", "EndpointDomain")
# A listing older than any waiting step's previous read is of no use; this only bounds the
# cache's memory once nothing waits.
LISTING_SECONDS = 60


def _key(ctx: Context) -> str:
    return f"cloud-board:endpoints:{ctx.cloud.account.pk}"


def endpoint(ctx: Context, endpoint_id: str) -> dict:
    """The endpoint's status, connection status and domain, no older than the step's last read
    (CloudNotFound when the cloud has no such endpoint)."""
    if ctx.read_since is None:
        return ctx.cloud.privatelink.get_endpoint(endpoint_id)
    try:
        return _from_listing(ctx, endpoint_id)
    except outages.OUTAGE_ERRORS as exc:
        # Without the cache, each request reads its own endpoint, as before the board.
        outages.proceed_without("Sharing an account's endpoint listing", exc)
        return ctx.cloud.privatelink.get_endpoint(endpoint_id)


def _from_listing(ctx: Context, endpoint_id: str) -> dict:
    listing = cache.get(_key(ctx))
    if listing is None or listing["taken_at"] <= ctx.read_since:
        # Taken from the moment the call starts: it shows nothing older than that.
        taken_at = time.time()
        endpoints = {
            found["EndpointId"]: {field: found.get(field) for field in FIELDS}
            for found in ctx.cloud.privatelink.all_endpoints()
        }
        listing = {"taken_at": taken_at, "endpoints": endpoints}
        cache.set(_key(ctx), listing, LISTING_SECONDS)
    found = listing["endpoints"].get(endpoint_id)
    return found if found is not None else ctx.cloud.privatelink.get_endpoint(endpoint_id)
