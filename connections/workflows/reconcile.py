"""Resume task chains whose message was lost, within a minute, so no record is stuck.

A chain stops when its message is lost: the broker was away when a verb committed or a hop
re-scheduled, a worker was killed holding a message it had not run (a countdown it kept, or a
hop it was running), or the broker itself lost it. Each chain keeps on its record when its
next message is due (`task_due_at`: the countdown's end, or while a hop runs, by when it will
have finished: runner.HOP_RUNNING_SECONDS). A chain GRACE past it that no live worker holds
(workflows/liveness.py) has lost its message; one held by a busy worker is only late. Beat runs
this every 10 s (settings.CELERY_BEAT_SCHEDULE) on the provisioning queue, and judges as of
when beat sent it: the messages queued ahead of it have been received (and noted as held) by
the time it runs, and those sent after it are not yet due by that measure, however long a
backlog makes them wait. A resumed
chain gets a new token, so its old message, if it ever comes (Redis redelivers a killed
worker's messages only after the visibility timeout), stops at once.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from connections.choices import ServiceState
from connections.models import AccessRequest, PublishedService
from connections.states import REQUEST_TERMINAL, record_event
from connections.workflows import liveness, start_workflow
from connections.workflows.registry import IN_FLIGHT
from connections.workflows.service import CONFIGURE
from connections.workflows.teardown import CLEANUP
from portal import outages

# With beat every 10 s, a lost chain is resumed at most 15 s after its message was due.
GRACE = timedelta(seconds=5)
# A chain this far past due is restarted even if a live worker holds it (a bug, or a hung call).
ABANDONED_AFTER = timedelta(minutes=10)


def restart_stalled_chains(now=None) -> int:
    """Resume every lost chain at its record's last finished step; returns how many."""
    now = now or timezone.now()
    cutoff = now - GRACE
    restarted = 0
    for (model, state), workflow in IN_FLIGHT.items():
        stalled = model.objects.filter(state=state, task_due_at__lt=cutoff)
        restarted += _restart(stalled, workflow, now)
    # A closed request whose endpoint clean-up stopped; one that failed waits for a person.
    leftovers = AccessRequest.objects.filter(
        state__in=REQUEST_TERMINAL,
        endpoint_id__gt="",
        endpoint_deleted_at__isnull=True,
        task_due_at__lt=cutoff,
    ).exclude(failed_phase=CLEANUP.name)
    restarted += _restart(leftovers, CLEANUP, now)
    # An available service whose new settings were not applied to the cloud yet: a configure
    # chain started (progress cleared) and stopped before its last step.
    unfinished = ["", *(step.name for step in CONFIGURE.steps[:-1])]
    unconfigured = PublishedService.objects.filter(
        state=ServiceState.AVAILABLE, progress__in=unfinished, task_due_at__lt=cutoff
    ).exclude(failed_phase=CONFIGURE.name)
    return restarted + _restart(unconfigured, CONFIGURE, now)


def _lost(stalled: QuerySet, workflow, now) -> set[tuple[int, str, int]]:
    """Of the chains past due, those no live worker holds (workflows/liveness.py), and those
    past due for so long that even a live holder has dropped them."""
    rows = list(stalled.values_list("pk", "task_token", "task_hop", "task_due_at"))
    if not rows:  # the usual case: no question for the cache, no warning while it is away
        return set()
    holds = {
        liveness.hold_key(workflow.task_name, pk, token, hop): (pk, token, hop)
        for pk, token, hop, _ in rows
    }
    abandoned = {(pk, token, hop) for pk, token, hop, due in rows if due < now - ABANDONED_AFTER}
    try:
        return liveness.unattended(holds) | abandoned
    except outages.OUTAGE_ERRORS as exc:
        # Who holds what is unknown: only the abandoned are surely lost.
        outages.proceed_without("Telling lost chains from late ones", exc)
        return abandoned


def _restart(stalled: QuerySet, workflow, now) -> int:
    restarted = 0
    for pk, token, hop in sorted(_lost(stalled, workflow, now)):
        with transaction.atomic():
            # The same filters and the same chain again, under the row lock: skip a record that
            # moved on meanwhile.
            record = (
                stalled.select_for_update().filter(pk=pk, task_token=token, task_hop=hop).first()
            )
            if record is None:
                continue
            record_event(record, "restarted", detail=f"its task was lost; resuming {workflow.name}")
            # Its deliveries keep counting: a step that kills its worker each time fails in the
            # end (runner.MAX_DELIVERIES) instead of being restarted every few seconds for ever.
            start_workflow(workflow, record, resume=True, keep_deliveries=True)
            restarted += 1
    return restarted
