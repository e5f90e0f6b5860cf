"""Resume task chains whose message was lost, within a minute, so no record is stuck.

A chain stops when its message is lost: the broker was away when a verb committed or a hop
re-scheduled, a worker was killed holding a message it had not run (a countdown it kept, or a
hop it was running), or the broker itself lost it. Each chain keeps on its record when its
next message is due (`task_due_at`: the countdown's end, or while a hop runs, by when it will
have finished: runner.HOP_RUNNING_SECONDS), so a chain GRACE past it has no message left. Beat
runs this every 15 s (settings.CELERY_BEAT_SCHEDULE) on the provisioning queue,
behind the messages sent before it: a chain waiting in a backlog has been picked up by then and
is not taken for lost. A resumed chain gets a new token, so its old message, if it ever comes
(Redis redelivers a killed worker's messages only after the visibility timeout), stops at once.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from connections.choices import REQUEST_TERMINAL, ServiceState
from connections.models import AccessRequest, PublishedService
from connections.states import record_event
from connections.workflows import start_workflow
from connections.workflows.access import CLEANUP
from connections.workflows.registry import IN_FLIGHT
from connections.workflows.service import CONFIGURE

# With beat's 15 s, a lost chain is resumed at most 25 s after its message was due.
GRACE = timedelta(seconds=10)


def restart_stalled_chains(now=None) -> int:
    """Resume every stalled record at its last finished step; returns how many were restarted."""
    cutoff = (now or timezone.now()) - GRACE
    restarted = 0
    for (model, state), workflow in IN_FLIGHT.items():
        stalled = model.objects.filter(state=state, task_due_at__lt=cutoff)
        restarted += _restart(stalled, workflow, cutoff)
    # A closed request whose endpoint clean-up stopped; one that failed waits for a person.
    leftovers = AccessRequest.objects.filter(
        state__in=REQUEST_TERMINAL,
        endpoint_id__gt="",
        endpoint_deleted_at__isnull=True,
        task_due_at__lt=cutoff,
    ).exclude(failed_phase=CLEANUP.name)
    restarted += _restart(leftovers, CLEANUP, cutoff)
    # An available service whose new settings were not applied to the cloud yet: a configure
    # chain started (progress cleared) and stopped before its last step.
    unfinished = ["", *(step.name for step in CONFIGURE.steps[:-1])]
    unconfigured = PublishedService.objects.filter(
        state=ServiceState.AVAILABLE, progress__in=unfinished, task_due_at__lt=cutoff
    ).exclude(failed_phase=CONFIGURE.name)
    return restarted + _restart(unconfigured, CONFIGURE, cutoff)


def _restart(stalled: QuerySet, workflow, cutoff) -> int:
    restarted = 0
    for pk in stalled.values_list("pk", flat=True):
        with transaction.atomic():
            # The same filters again, under the row lock: skip a record that moved meanwhile.
            record = stalled.select_for_update().filter(pk=pk).first()
            if record is None:
                continue
            record_event(
                record, "restarted", detail=f"no progress for a while; resuming {workflow.name}"
            )
            # Its deliveries keep counting: a step that kills its worker each time fails in the
            # end (runner.MAX_DELIVERIES) instead of being restarted every few minutes for ever.
            start_workflow(workflow, record, resume=True, keep_deliveries=True)
            restarted += 1
    return restarted
