"""The brokers' transports, each with a fix for a way kombu's own makes a worker exit.

The embedded broker (`portalfs://`): kombu's file-system transport, with messages that appear
whole. kombu's own `_put` creates the message file and then writes it, so a worker polling the
folder can pick up an empty or half-written file between the two, fail to decode it and stop
("Unrecoverable error: JSONDecodeError"). Here a message is written under a name the reader
ignores and renamed into place; a rename within one folder is atomic, so a reader sees either
nothing or the whole message. And a worker's wait on the folder is cut in short slices, so it
stops within a second of Ctrl-C.

Redis (`portalredis://`, what settings make of REDIS_URL): kombu's Redis transport, riding out
a restart of Redis. When the connection drops, Celery closes it before reconnecting; closing
the channel first hands back the messages the worker holds unacknowledged (acks_late, and the
countdowns it keeps), and by then kombu has dropped the connection's settings, so building a
Redis client fails with AttributeError("'NoneType' object has no attribute 'hostname'"), which
Celery takes for an unrecoverable error: the worker exits. Here that hand-back fails with
Redis's own connection error instead, which Celery ignores while closing, and the worker
reconnects. The messages stay in Redis's unacknowledged set (redelivered after the visibility
timeout); the chains they carried are resumed sooner by the reconciler
(connections/workflows/reconcile.py), and a late redelivery finds a newer chain and stops.
"""

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem, redis
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps
from redis.exceptions import ConnectionError as RedisConnectionError

SCHEME = "portalfs"
REDIS_SCHEME = "portalredis"


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        # The name kombu's reader looks for: "<ms>_<uuid>.<queue>.msg", oldest first.
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # "….msg.partial" does not match any queue's "<queue>.msg", so the reader skips it.
        partial = f"{final}.partial"
        try:
            with open(partial, "wb") as message:
                message.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add message {name!r} to the broker folder") from exc


# The longest a worker waits on the folder before it looks up again. Celery's loop for a
# polling transport drains with a 2-second timeout and notices a shutdown only between drains:
# Ctrl-C under `make run` waited up to twice that for an idle worker, and honcho kills at 5 s.
DRAIN_SLICE_SECONDS = 0.25


class Transport(filesystem.Transport):
    Channel = Channel

    def drain_events(self, connection, timeout=None):
        # None (wait for a message) is no loop's: kept as asked.
        sliced = timeout if timeout is None else min(timeout, DRAIN_SLICE_SECONDS)
        return super().drain_events(connection, timeout=sliced)


class RedisChannel(redis.Channel):
    def _connparams(self, asynchronous=False):
        if self.connection.client is None:  # the connection is being closed (see above)
            raise RedisConnectionError("The broker connection is closed.")
        return super()._connparams(asynchronous)


class RedisTransport(redis.Transport):
    Channel = RedisChannel


def redis_broker_url(redis_url: str) -> str:
    """REDIS_URL (redis:// or rediss://) as the URL of the transport above."""
    scheme, rest = redis_url.split("://", 1)
    return f"{REDIS_SCHEME}{scheme.removeprefix('redis')}://{rest}"


TRANSPORT_ALIASES[SCHEME] = f"{__name__}:Transport"
TRANSPORT_ALIASES[REDIS_SCHEME] = f"{__name__}:RedisTransport"
TRANSPORT_ALIASES[f"{REDIS_SCHEME}s"] = f"{__name__}:RedisTransport"
