"""Restart task chains that stopped without finishing, so no record is stuck for good.

A chain stops when its message is lost: the broker refused it at commit, a re-schedule failed,
or a worker died between two hops with nothing to redeliver. A live chain touches its record's
`updated_at` at every hop (at most a minute apart: workflows/timing.py), so a record in flight that
has not changed for STALLED_AFTER has no chain left. Beat runs this every two minutes.
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

STALLED_AFTER = timedelta(minutes=10)


def restart_stalled_chains(now=None) -> int:
    """Resume every stalled record at its last finished step; returns how many were restarted."""
    cutoff = (now or timezone.now()) - STALLED_AFTER
    restarted = 0
    for (model, state), workflow in IN_FLIGHT.items():
        stalled = model.objects.filter(state=state, updated_at__lt=cutoff)
        restarted += _restart(stalled, workflow, cutoff)
    # A closed request whose endpoint clean-up stopped; one that failed waits for a person.
    leftovers = AccessRequest.objects.filter(
        state__in=REQUEST_TERMINAL,
        endpoint_id__gt="",
        endpoint_deleted_at__isnull=True,
        updated_at__lt=cutoff,
    ).exclude(failed_phase=CLEANUP.name)
    restarted += _restart(leftovers, CLEANUP, cutoff)
    # An available service whose new settings were not applied to the cloud yet: a configure
    # chain started (progress cleared) and stopped before its last step.
    unfinished = ["", *(step.name for step in CONFIGURE.steps[:-1])]
    unconfigured = PublishedService.objects.filter(
        state=ServiceState.AVAILABLE, progress__in=unfinished, updated_at__lt=cutoff
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
