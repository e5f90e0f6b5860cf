"""Workflows: the cloud work behind each verb, run step by step by Celery tasks."""

import uuid

from celery import current_app  # the portal's app (portal/celery.py), not imported from the domain
from django.db import transaction
from django.utils import timezone

from portal import outages


def start_workflow(
    workflow, record, *, resume: bool = False, keep_deliveries: bool = False
) -> None:
    """Give `record` a new task chain and enqueue its first task once the transaction commits.

    The new token makes any older chain for the record stop at its next hop. Enqueued on commit
    so that the worker never reads a row, or a state, that is not yet (or never) committed.
    `resume` keeps `progress`, so a retry starts at the step that failed; `keep_deliveries` keeps
    counting the deliveries of the step in progress (a restarted chain whose step killed its
    worker is still caught by runner.MAX_DELIVERIES). If the broker cannot
    take the message, the commit stands (the person's request is answered as usual) and, the
    chain being due now, the reconciler starts it again once the broker is back
    (workflows/reconcile.py).
    """
    token = uuid.uuid4().hex
    now = timezone.now()
    fields = {
        "task_token": token,
        "task_hop": 0,
        "task_due_at": now,
        "updated_at": now,
    }
    if not keep_deliveries:
        fields["task_deliveries"] = 0
    if not resume:
        fields["progress"] = ""
    type(record).objects.filter(pk=record.pk).update(**fields)
    for name, value in fields.items():
        setattr(record, name, value)
    task_name, record_id = workflow.task_name, record.pk

    def enqueue() -> None:
        try:
            current_app.send_task(task_name, args=(record_id, token), kwargs={"hop": 0})
        except outages.OUTAGE_ERRORS as exc:
            # Expected while the broker restarts: the reconciler starts the chain once it is back.
            outages.proceed_without(f"Sending {task_name} for record {record_id}", exc)

    transaction.on_commit(enqueue, robust=True)
