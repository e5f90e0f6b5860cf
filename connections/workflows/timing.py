"""When a waiting step reads the cloud again: soon after the operation is due, not much more often.

A step that waits on a cloud operation names it (`Wait(..., operation="CreateVpcEndpoint")`).
Its first read comes when the operation typically finishes; after that, reads come every 4% of
the time waited so far, never closer than MIN_INTERVAL nor further apart than MAX_INTERVAL: a
status is seen within a few percent of the moment it changed, and a slow operation is not
polled faster as it gets slower. The typical time of each operation is learnt from the waits
that finished (an exponentially weighted mean, shared by the workers through the cache); an
operation never seen is read from the start at that pace (some twenty reads for a 2 s
operation, once). A wait that names no operation (another record, a lock) backs off from 0.5 s
to 15 s.

The cloud's own `x-acs-retry-after` always wins when it asks for longer. Without the cache
(Redis restarting), waits read as for an operation never seen, and learn nothing.
"""

from __future__ import annotations

import random

from django.core.cache import cache

from portal import outages

MIN_INTERVAL_SECONDS = 0.05
MAX_INTERVAL_SECONDS = 5.0
# However long an operation typically takes, a waiting chain shows it is alive this often
# (connections/workflows/reconcile.py restarts a chain that has not for minutes).
LONGEST_FIRST_READ_SECONDS = 60.0
# Of the time waited so far: how late a read may be at most, as a share of the wait.
LATENESS = 0.04
# How much one observation moves the typical time.
LEARNING_RATE = 0.3
# Unnamed waits: about 0.5 s, doubling to about 15 s.
FIRST_WAIT_SECONDS = 0.5
LONGEST_WAIT_SECONDS = 15.0
CACHE_SECONDS = 7 * 24 * 3600


def _key(operation: str) -> str:
    return f"cloud-timing:{operation}"


def typical_seconds(operation: str) -> float:
    try:
        return cache.get(_key(operation), 0.0)
    except outages.OUTAGE_ERRORS as exc:
        # Read from the start, as for an operation never seen.
        outages.proceed_without(f"Reading the typical time of {operation}", exc)
        return 0.0


def observed(operation: str, seconds: float, not_yet_at: float | None) -> None:
    """A wait on `operation` was seen over `seconds` after it began, and was still going at
    `not_yet_at` (the read before): move its typical time towards when it really ended.

    Between two close reads, it ended halfway. After a long gap it ended somewhere between the
    two reads, and the gap says nothing of where: the typical time moves only as far as the
    reads prove. Up to the read before, which found it still going (the cloud got slower);
    down to a little before this read, when this read came before the typical time's end (the
    first read, at the typical time, found it done: aim a little earlier, so the estimate does
    not only ever grow by each read's lateness). A read late for the worker's own reasons (a
    burst queued ahead of it) so teaches nothing: it would have held up the requests after."""
    gap = seconds - (not_yet_at or 0.0)
    close = gap <= max(2 * MIN_INTERVAL_SECONDS, 2 * LATENESS * seconds)
    try:
        typical = cache.get(_key(operation))
        if close:
            ended = seconds - gap / 2
        else:
            before_this_read = seconds * (1 - LATENESS)
            ended = (
                before_this_read
                if typical is None
                else min(max(typical, not_yet_at or 0.0), before_this_read)
            )
        learnt = ended if typical is None else typical + LEARNING_RATE * (ended - typical)
        cache.set(_key(operation), learnt, CACHE_SECONDS)
    except outages.OUTAGE_ERRORS as exc:
        outages.proceed_without(f"Learning the typical time of {operation}", exc)


def next_read(operation: str | None, waited: float, waits: int) -> float:
    """Seconds until the next read of a step that has waited `waited` seconds (`waits` times)."""
    if operation is None:
        base = min(LONGEST_WAIT_SECONDS, FIRST_WAIT_SECONDS * 2 ** max(0, waits - 1))
        return base * random.uniform(0.8, 1.2)  # many waiting records spread out
    # A little after the typical end: most first reads then find it done.
    due_in = typical_seconds(operation) * (1 + LATENESS / 2) - waited
    if due_in > MIN_INTERVAL_SECONDS:
        return min(due_in, LONGEST_FIRST_READ_SECONDS)
    return min(MAX_INTERVAL_SECONDS, max(MIN_INTERVAL_SECONDS, LATENESS * waited))
