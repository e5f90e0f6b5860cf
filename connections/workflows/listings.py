"""Cloud statuses read in batches: records waiting in one account share its list calls.

A step waiting on a resource (an endpoint to be Active, Connected or gone; a load balancer, a
listener or an endpoint service to be Active, Running or gone) reads it here. A step that has
not waited yet reads the resource itself (Get…Attribute): the portal holds nothing newer than
the call that just changed it. A read after a wait needs only a view of the account taken after
the step's previous read, and after its operation is typically done (workflows/timing.py): the
account's latest listing of that kind (List…, paged, kept in the cache for every worker) when it
is newer, and otherwise a new listing, which every other waiting record of the account then
reads too. The calls made while resources wait so grow with accounts and with the reads of one
record, not with the records waiting: 500 waiting requests in one account cost about the list
calls one of them would. Server groups and their servers are read one by one: those reads
already name the group, and a service waits on one group.

Endpoints are as many as the requests, and PrivateLink lists 50 a page (at most 1,000 list
calls a minute): a listing of an account's every endpoint would cost a call for each 50 of them,
each time. A step waiting for an endpoint to leave a status (Creating, Connecting, Deleting)
reads a listing of only the account's endpoints in that status (`still`), which costs a call
for each 50 of those; one no longer in it is read on its own, once.

Two workers that find the listing old at the same moment may both list: at most one listing
per worker thread, and no lock to wait on. A resource the listing does not hold (gone, or no
longer in the status listed) is read on its own, so that "not found" is the cloud's answer
about that resource, not a list's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache

from connections.cloud import CloudSession
from connections.workflows.definition import Context
from portal import outages

# A listing older than any waiting step's previous read is of no use; this only bounds the
# cache's memory once nothing waits.
LISTING_SECONDS = 60


@dataclass(frozen=True)
class Kind:
    """A kind of resource the waiting steps read: how to list an account's, how to read one,
    and what of each the steps read (the rest of a listing is not kept)."""

    name: str
    id_field: str
    fields: tuple[str, ...]
    list_all: Callable[..., list[dict]]  # (session, **filters): filters by the fields below
    read_one: Callable[[CloudSession, str], dict]
    # The fields a listing can be narrowed to one value of (the List… operation's filters).
    filters: frozenset[str] = frozenset()


ENDPOINTS = Kind(
    "endpoints",
    "EndpointId",
    ("EndpointId", "EndpointStatus", "ConnectionStatus", "EndpointDomain"),
    lambda cloud, **filters: cloud.privatelink.all_endpoints(**filters),
    lambda cloud, endpoint_id: cloud.privatelink.get_endpoint(endpoint_id),
    frozenset({"EndpointStatus", "ConnectionStatus"}),
)
ENDPOINT_SERVICES = Kind(
    "endpoint-services",
    "ServiceId",
    ("ServiceId", "ServiceStatus"),
    lambda cloud: cloud.privatelink.all_endpoint_services(),
    lambda cloud, service_id: cloud.privatelink.get_endpoint_service(service_id),
)
LISTENERS = Kind(
    "listeners",
    "ListenerId",
    ("ListenerId", "ListenerStatus"),
    lambda cloud: cloud.nlb.all_listeners(),
    lambda cloud, listener_id: cloud.nlb.get_listener(listener_id),
)
LOAD_BALANCERS = Kind(
    "load-balancers",
    "LoadBalancerId",
    ("LoadBalancerId", "LoadBalancerStatus"),
    lambda cloud: cloud.nlb.all_load_balancers(),
    lambda cloud, nlb_id: cloud.nlb.get_load_balancer(nlb_id),
)


def _key(ctx: Context, kind: Kind, still: tuple[str, str] | None) -> str:
    narrowed = f":{still[0]}={still[1]}" if still else ""
    return f"cloud-board:{kind.name}:{ctx.cloud.account.pk}{narrowed}"


def read(ctx: Context, kind: Kind, resource_id: str, still: tuple[str, str] | None = None) -> dict:
    """The resource's fields the steps read, no older than the step's last read (CloudNotFound
    when the cloud has no such resource). `still`: (field, value) the step waits to see change,
    e.g. ("EndpointStatus", "Creating"), for a kind whose listing can be narrowed to it."""
    if still is not None and still[0] not in kind.filters:
        raise ValueError(f"{kind.name} cannot be listed by {still[0]}")
    ctx.seen_at = None  # a read of its own is true when it is made
    if ctx.read_since is None:
        return kind.read_one(ctx.cloud, resource_id)
    try:
        return _from_listing(ctx, kind, resource_id, still)
    except outages.OUTAGE_ERRORS as exc:
        # Without the cache, each record reads its own resource: no listing is shared.
        outages.proceed_without(f"Sharing an account's listing of {kind.name}", exc)
        return kind.read_one(ctx.cloud, resource_id)


def _from_listing(
    ctx: Context, kind: Kind, resource_id: str, still: tuple[str, str] | None
) -> dict:
    key = _key(ctx, kind, still)
    listing = cache.get(key)
    # Newer than the step's last read, and than when its operation is typically done: an older
    # listing would most likely show the resource still changing, and cost the step a wait.
    needed_after = max(ctx.read_since, ctx.expected_at or 0.0)
    if listing is None or listing["taken_at"] <= needed_after:
        # Taken from the moment the call starts: it shows nothing older than that.
        taken_at = time.time()
        resources = {
            found[kind.id_field]: {field: found.get(field) for field in kind.fields}
            for found in kind.list_all(ctx.cloud, **dict([still] if still else []))
        }
        listing = {"taken_at": taken_at, "resources": resources}
        cache.set(key, listing, LISTING_SECONDS)
    found = listing["resources"].get(resource_id)
    if found is None:
        return kind.read_one(ctx.cloud, resource_id)
    # True when the listing was taken, maybe a while before this step ran: a wait is timed
    # by that, not by when the step read it.
    ctx.seen_at = listing["taken_at"]
    return found
