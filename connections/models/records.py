"""What every record a workflow carries has: its state, its chain of tasks, its last error.

State fields change only through `connections.states`; nothing else writes `state`.
"""

from __future__ import annotations

import hashlib
import uuid

from django.conf import settings
from django.db import models


class WorkflowRecord(models.Model):
    """What services and requests share: a uuid for client tokens, workflow bookkeeping, errors.

    `progress` names the last workflow step that finished, so a retry resumes after it.
    `task_token` names the current task chain and `task_hop` counts its messages: a message from
    an older chain, or an older hop of this one, stops (connections/workflows/runner.py).
    `task_deliveries` counts the deliveries of the current hop since a step last finished, so a
    message that kills its worker every time fails the record instead of circling for ever.
    `task_due_at` is when the chain's next message should run (or, while one runs, by when it
    will have finished): a chain well past it lost its message, and the reconciler resumes it.
    `generation` changes the client tokens when a dead cloud resource must be made anew.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    progress = models.CharField(max_length=64, blank=True)
    task_token = models.CharField(max_length=64, blank=True)
    task_hop = models.PositiveIntegerField(default=0)
    # Deliveries of the current hop's message since its last finished step: more than one means
    # a worker died running that step.
    task_deliveries = models.PositiveIntegerField(default=0)
    task_due_at = models.DateTimeField(null=True, blank=True)
    generation = models.PositiveIntegerField(default=0)
    # The phase a failed record resumes when retried.
    failed_phase = models.CharField(max_length=32, blank=True)
    last_error_code = models.CharField(max_length=128, blank=True)
    last_error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def client_token(self, step: str) -> str:
        """The ClientToken of a cloud create: the same for every delivery of the same step.

        It names this installation too: another portal sharing the account (or one started on a
        copy of this database) must never be handed this record's resources by the cloud's
        idempotency."""
        material = f"{settings.PORTAL_INSTALLATION_ID}:{self.uuid.hex}:{self.generation}:{step}"
        return f"plp-{hashlib.sha256(material.encode()).hexdigest()[:48]}"
