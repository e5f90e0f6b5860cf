"""Workflows: the cloud work behind each verb, run step by step by Celery tasks."""

import uuid

from django.db import transaction


def start_workflow(workflow, record, *, resume: bool = False) -> None:
    """Give `record` a new task chain and enqueue its first task once the transaction commits.

    The new token makes any older chain for the record stop at its next step. Enqueued on commit
    so that the worker never reads a row, or a state, that is not yet (or never) committed.
    `resume` keeps `progress`, so a retry starts at the step that failed.
    """
    token = uuid.uuid4().hex
    fields = {"task_token": token} if resume else {"task_token": token, "progress": ""}
    type(record).objects.filter(pk=record.pk).update(**fields)
    for name, value in fields.items():
        setattr(record, name, value)
    task, record_id = workflow.task, record.pk
    transaction.on_commit(lambda: task.apply_async(args=(record_id, token)))
