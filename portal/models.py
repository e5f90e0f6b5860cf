"""Site-wide records that belong to no domain object."""

from django.db import models


class WorkerPing(models.Model):
    """A round trip through the broker: written by the web side, answered by a Celery worker.

    `manage.py ping_worker` and the wiring tests use it to prove that a task enqueued after a
    commit really reaches a worker on the configured broker and writes back to the database.
    """

    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"ping {self.pk} ({'answered' if self.answered_at else 'waiting'})"
