"""The portal's calls paced to the cloud's documented rate limits, across all its processes.

Each product documents how many calls of each operation one account may make a second or a
minute (operations.RATE_LIMITS). 500 requests at once would send 500 CreateVpcEndpoint in a few
seconds, and the cloud would refuse all but 200 (Throttling.User): the refused ones would come
back at random, and their retries count against the quota too. So each call first takes a turn
here: a call that would go over the limit is not sent, and its caller is told how long until one
may (a workflow step waits that long, as for a busy resource: runner.py).

The count is kept in the cache, which every worker shares: for each account, region and
operation, the calls of each tenth of the period (a bucket). A call is let through when its own
bucket and the ten before it (all the calls of at most one period and a tenth back) hold no more
than the limit, so no period anywhere holds more: the stricter reading of "200 in 60 s" (at most
200 in any 60 s). A call counts itself first and takes itself back when it is over: two that
race both see each other, and at worst both wait. Without the cache (Redis restarting), calls go
unpaced, as they did before; the cloud's own refusals are then waited out the same way.
"""

from __future__ import annotations

import math
import time

from django.core.cache import cache

from connections.cloud.operations import Operation
from portal import outages

BUCKETS = 10
# The pacer's clock (a test stops it).
clock = time.time


def wait_for_turn(account_uid: str, region: str, operation: Operation) -> float:
    """0 when the call may be made now (it is counted); otherwise the seconds until one may."""
    limit = operation.rate_limit
    if limit is None:
        return 0.0
    calls, period = limit
    width = period / BUCKETS
    now = clock()
    current = int(now // width)
    prefix = f"cloud-pace:{account_uid}:{region}:{operation.product}:{operation.name}:"
    # Kept well past the last window that holds them: a count must not vanish early.
    lifetime = math.ceil(2 * period) + 5
    try:
        key = f"{prefix}{current}"
        cache.add(key, 0, lifetime)
        mine = cache.incr(key)
        earlier_keys = [f"{prefix}{bucket}" for bucket in range(current - BUCKETS, current)]
        found = cache.get_many(earlier_keys)
        earlier = [found.get(k, 0) for k in earlier_keys]
        if mine + sum(earlier) <= calls:
            return 0.0
        cache.decr(key)
        # The calls turned away in this tenth take their turns in the order they came: the
        # n-th waits for n of the counted calls to leave, where all waiting for the first one
        # would come back together and all but a few be turned away again.
        waiting_key = f"{prefix}waiting:{current}"
        cache.add(waiting_key, 0, lifetime)
        place = cache.incr(waiting_key)
    except (ValueError, *outages.OUTAGE_ERRORS) as exc:
        # ValueError: the bucket expired between add and incr (a stalled process); let it go.
        outages.proceed_without(f"Pacing {operation.name}", exc)
        return 0.0
    excess = mine + sum(earlier) - calls + place - 1
    return _seconds_until_room(now, current, width, earlier, excess)


def _seconds_until_room(
    now: float, current: int, width: float, earlier: list[int], excess: int
) -> float:
    """How long until `excess` of the counted calls have left the window of a call made then.

    Bucket b is in the window of calls made in buckets b … b + BUCKETS, so it leaves it when
    bucket b + BUCKETS + 1 begins. The oldest buckets leave first."""
    leaving = 0
    for offset, count in enumerate(earlier):
        leaving += count
        if leaving >= excess:
            bucket = current - BUCKETS + offset
            return (bucket + BUCKETS + 1) * width - now
    return (current + BUCKETS + 1) * width - now
