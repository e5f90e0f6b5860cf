"""`?wait_for=<state>`: hold a read until a request reaches a state, without a busy loop.

The database is polled with one indexed one-column query every POLL_INTERVAL seconds; nothing else
is held or closed. The wait ends at the state, at the timeout, or at once when the state can no
longer come without a person acting (a failed request needs a retry; a revoked one is over).

A wait holds a web server thread for its length, so each person may hold only
API_MAX_WAITS_PER_USER at once (`waiting_slot`), and no wait outlasts MAX_TIMEOUT, which stays
below gunicorn's worker timeout (gunicorn.conf.py).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from connections.api.problem_types import Problem
from connections.choices import RequestState
from connections.models import AccessRequest
from connections.states import REQUEST_TRANSITIONS

MAX_TIMEOUT = 60.0
DEFAULT_TIMEOUT = 30.0
POLL_INTERVAL = 0.25
# A slot outlives its wait by this much (the re-read and the answer after the wait).
SLOT_GRACE_SECONDS = 30


@contextmanager
def waiting_slot(user) -> Iterator[None]:
    """One of the user's API_MAX_WAITS_PER_USER slots for the length of a wait, or `too_many_waits`.

    Each slot is a cache key of its own, taken with `add` (atomic on Redis) and given back with
    `delete`: unlike a shared counter, nothing can drift, and a slot whose process died expires
    soon after the longest wait could have ended. The slots live in the shared cache, so they
    hold across web server processes.
    """
    for number in range(settings.API_MAX_WAITS_PER_USER):
        key = f"api-wait-{user.pk}-{number}"
        if cache.add(key, True, timeout=MAX_TIMEOUT + SLOT_GRACE_SECONDS):
            break
    else:
        raise Problem("too_many_waits")
    try:
        yield
    finally:
        cache.delete(key)


@dataclass(frozen=True)
class WaitOutcome:
    """How a wait ended: `reached`, `timeout`, `unreachable` (never from here) or `failed`."""

    wait_for: str
    outcome: str
    state: str
    waited_seconds: float
    detail: str

    @property
    def reached(self) -> bool:
        return self.outcome == "reached"


def reachable_states(state: str) -> frozenset[str]:
    """States that can follow `state` without a person's retry (no edges out of `failed`)."""
    seen, queue = set(), deque([state])
    while queue:
        current = queue.popleft()
        if current == RequestState.FAILED:
            continue
        for following in REQUEST_TRANSITIONS[current]:
            if following not in seen:
                seen.add(following)
                queue.append(following)
    return frozenset(seen)


def _verdict(state: str, target: str) -> str | None:
    if state == target:
        return "reached"
    if state == RequestState.FAILED:
        return "failed"
    if target not in reachable_states(state):
        return "unreachable"
    return None


def _detail(outcome: str, state: str, target: str, timeout: float) -> str:
    with translation.override("en"):  # the API answers in English (connections/choices.py)
        label, wanted = str(RequestState(state).label), str(RequestState(target).label)
    label, wanted = label.lower(), wanted.lower()
    return {
        "reached": f"The request is {wanted}.",
        "failed": f"The request failed: it needs a retry before it can be {wanted}.",
        "unreachable": f"The request is {label}: it can never become {wanted}.",
        "timeout": f"The request is still {label} after {timeout:g} s.",
    }[outcome]


def wait_for_state(
    pk: int,
    target: str,
    timeout: float,
    *,
    poll_interval: float = POLL_INTERVAL,
    clock=time.monotonic,
    sleep=time.sleep,
) -> WaitOutcome:
    """Poll the request's state until `target`, a dead end, or `timeout` seconds (at most 60)."""
    timeout = min(max(timeout, 0.0), MAX_TIMEOUT)
    started = clock()
    deadline = started + timeout
    while True:
        state = AccessRequest.objects.filter(pk=pk).values_list("state", flat=True).first()
        outcome = _verdict(state, target)
        remaining = deadline - clock()
        if outcome is None and remaining <= 0:
            outcome = "timeout"
        if outcome is not None:
            return WaitOutcome(
                wait_for=target,
                outcome=outcome,
                state=state,
                waited_seconds=round(clock() - started, 3),
                detail=_detail(outcome, state, target, timeout),
            )
        # Never past the deadline: the last sleep is only what is left of the timeout.
        sleep(min(poll_interval, remaining))
