"""Which worker holds a chain's next message, and whether it is alive: a lost chain told apart
from a late one.

A chain past its due time (`task_due_at`) may be lost (the broker never took its message, or
the worker holding it was killed) or only late (its worker is busy with a burst, and the due
message waits its turn). Restarting a late chain runs it twice and writes a `restarted` event
for nothing, so the reconciler (workflows/reconcile.py) asks here first:

- each worker notes, when it receives a workflow's message (a countdown it will keep, or one to
  run now), that it holds that hop of that chain: a cache entry, written by the worker's main
  process without touching the database, and removed once the hop has run;
- each worker says it is alive every HEARTBEAT_SECONDS; it is taken for dead ALIVE_FOR seconds
  after its last word (killed, or cut off);
- a chain past due is lost when nobody holds its hop, or its holder is dead. A message still in
  the broker's queue is not taken for lost: the reconciler's own message is queued behind it
  and comes after it is received.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid

from celery import bootsteps
from celery.signals import task_postrun, task_received, worker_ready
from django.core.cache import cache

from connections.workflows.registry import TASK_NAMES
from portal import outages

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 3
ALIVE_FOR = 12
# Longer than any countdown a chain schedules (workflows/timing.py: a minute at most, or the
# cloud's retry-after).
HELD_FOR = 3600


def hold_key(task_name: str, record_id: int, token: str, hop: int) -> str:
    return f"chain-held:{task_name}:{record_id}:{token}:{hop}"


def _alive_key(worker: str) -> str:
    return f"worker-alive:{worker}"


def hold(task_name: str, record_id: int, token: str, hop: int, worker: str) -> None:
    cache.set(hold_key(task_name, record_id, token, hop), worker, HELD_FOR)


def say_alive(worker: str) -> None:
    cache.set(_alive_key(worker), True, ALIVE_FOR)


# This worker's name in the holds: new at each start (a supervisor's restart under the same
# host name and pid, as in a container, is another worker) and at each new connection to the
# broker (Celery drops the countdowns it kept when the connection is lost, so what it held
# before is not held any more).
_identity = {"name": ""}


def new_identity() -> str:
    _identity["name"] = f"{socket.gethostname()}:{uuid.uuid4().hex[:12]}"
    return _identity["name"]


def this_worker() -> str:
    return _identity["name"] or new_identity()


def release(task_name: str, record_id: int, token: str, hop: int) -> None:
    cache.delete(hold_key(task_name, record_id, token, hop))


def unattended(holds: dict[str, tuple]) -> set:
    """Of {hold key: record}, the records that no live worker holds."""
    holders = cache.get_many(list(holds))
    if not holders:
        return set(holds.values())
    alive = cache.get_many([_alive_key(worker) for worker in set(holders.values())])
    return {
        record
        for key, record in holds.items()
        if key not in holders or _alive_key(holders[key]) not in alive
    }


# --- in the worker ---


def _chain_message(name: str, args, kwargs) -> tuple | None:
    """(task name, record id, token, hop) of a workflow's message, else None."""
    if name not in TASK_NAMES or not args or len(args) < 2:
        return None
    return TASK_NAMES[name], args[0], args[1], (kwargs or {}).get("hop", 0)


def note_held(sender=None, request=None, **_) -> None:
    message = request and _chain_message(request.name, request.args, request.kwargs)
    if not message:
        return
    try:
        hold(*message, this_worker())
    except outages.OUTAGE_ERRORS as exc:
        # Unnoted, the chain is judged by its due time alone: at worst restarted once.
        outages.proceed_without("Noting a held message", exc)


def release_held(sender=None, args=None, kwargs=None, **_) -> None:
    """A hop that ran holds nothing any more, whether it re-scheduled, finished or failed."""
    message = sender is not None and _chain_message(sender.name, args, kwargs)
    if not message:
        return
    try:
        release(*message)
    except outages.OUTAGE_ERRORS as exc:
        outages.proceed_without("Releasing a held message", exc)


class NewIdentityOnConnect(bootsteps.StartStopStep):
    """A step of the worker's consumer, started at each connection to the broker (added by
    `wire`): the holds noted under the previous connection lapse with it."""

    def start(self, consumer) -> None:
        new_identity()


def start_heartbeat(sender=None, **_) -> None:
    def beat() -> None:
        while True:
            try:
                say_alive(this_worker())  # the identity of the moment
            except Exception:
                logger.warning("worker heartbeat not written", exc_info=True)
            time.sleep(HEARTBEAT_SECONDS)  # a period, not a wait for something

    threading.Thread(target=beat, name="portal-heartbeat", daemon=True).start()


def wire(app) -> None:
    """Hook the holds and the heartbeat into `app`'s workers. Called once the apps are loaded
    (connections/apps.py), in every process: only a worker ever sends these signals or builds a
    consumer."""
    app.steps["consumer"].add(NewIdentityOnConnect)
    task_received.connect(note_held, dispatch_uid="portal-note-held")
    task_postrun.connect(release_held, dispatch_uid="portal-release-held")
    worker_ready.connect(start_heartbeat, dispatch_uid="portal-heartbeat")
