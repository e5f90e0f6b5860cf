"""Site-wide tasks."""

from celery import shared_task
from django.utils import timezone

from portal.models import WorkerPing


@shared_task(name="portal.answer_ping", bind=True)
def answer_ping(self, ping_id: int) -> None:
    """Mark a ping as answered by this worker; a redelivered message answers it once only."""
    WorkerPing.objects.filter(pk=ping_id, answered_at__isnull=True).update(
        answered_at=timezone.now(), answered_by=self.request.hostname or ""
    )
