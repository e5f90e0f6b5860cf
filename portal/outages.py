"""Outages of what the web process leans on besides the database: the cache and the broker.

While Redis (the cache, and the broker in production) or the embedded broker's folder is out
of reach, a request that needs it is answered 503 with Retry-After, never 500: the API's
exception handler (connections/api/errors.py) and the site's handler500 (portal/errors.py) both
ask `is_outage`.
Rate limits let requests through while their counts are out of reach (a limit that cannot count
is not a reason to refuse work), and a workflow whose first message the broker did not take is
started by the reconciler once it is back (connections/workflows/reconcile.py).
"""

from __future__ import annotations

import logging

from kombu.exceptions import ChannelError, OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# kombu's OperationalError: the broker's connection failed (Redis); ChannelError: the embedded
# broker could not write its folder (portal/broker.py). Redis errors come from the cache.
OUTAGE_ERRORS = (OperationalError, ChannelError, RedisConnectionError, RedisTimeoutError)
# Seconds a client is told to wait: a restart of Redis or of the broker takes a few.
RETRY_AFTER_SECONDS = 5


def is_outage(exc: BaseException | None) -> bool:
    """Is `exc` (or what it was raised from) the cache or the broker being out of reach? Only
    explicit causes (`raise ... from`, as kombu wraps Redis's errors): a bug met while handling
    an outage is still a bug."""
    while exc is not None:
        if isinstance(exc, OUTAGE_ERRORS):
            return True
        exc = exc.__cause__
    return False


def proceed_without(what: str, exc: BaseException) -> None:
    """Log that `what` was skipped because the cache or broker is out of reach."""
    logger.warning("%s skipped: %s is out of reach (%s)", what, _service(exc), exc)


def _service(exc: BaseException) -> str:
    return "the broker" if isinstance(exc, OperationalError | ChannelError) else "the cache"
