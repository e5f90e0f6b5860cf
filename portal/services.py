"""Site-wide actions: the web side of a worker round trip."""

from django.db import transaction

from portal.models import WorkerPing
from portal.tasks import answer_ping


def send_ping() -> WorkerPing:
    """Record a ping and enqueue its answer once the row is committed.

    Enqueued on commit: a worker must never look for a row that a rolled-back or not yet
    committed transaction holds.
    """
    with transaction.atomic():
        ping = WorkerPing.objects.create()
        transaction.on_commit(lambda: answer_ping.delay(ping.pk))
    return ping
