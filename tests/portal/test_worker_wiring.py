"""The web → broker → worker → database round trip, with a real worker on the configured broker."""

import time

import pytest
from django.db import transaction
from kombu import Queue

from portal.celery import app as celery_app
from portal.models import WorkerPing
from portal.services import send_ping
from portal.tasks import answer_ping


def queued_messages(queue_name: str) -> int:
    with celery_app.connection_for_read() as conn:
        return conn.default_channel.queue_declare(queue=queue_name).message_count


def wait_for_answer(ping_id: int, timeout: float = 30) -> WorkerPing:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ping = WorkerPing.objects.get(pk=ping_id)
        if ping.answered_at:
            return ping
        time.sleep(0.1)
    raise AssertionError(f"ping {ping_id} was not answered within {timeout}s")


def test_the_app_is_not_in_eager_mode():
    assert not celery_app.conf.task_always_eager
    assert celery_app.conf.task_acks_late and celery_app.conf.task_reject_on_worker_lost
    assert celery_app.conf.worker_prefetch_multiplier == 1
    assert celery_app.conf.accept_content == ["json"]


# A queue no worker consumes, so whatever is enqueued on it stays countable on the broker.
UNCONSUMED_QUEUE = "wiring-check"


def enqueue_ping_on_commit(ping: WorkerPing) -> None:
    transaction.on_commit(lambda: answer_ping.apply_async((ping.pk,), queue=UNCONSUMED_QUEUE))


@pytest.mark.django_db(transaction=True)
def test_rolled_back_transaction_enqueues_nothing():
    with celery_app.connection_for_write() as conn:
        Queue(UNCONSUMED_QUEUE).bind(conn.default_channel).purge()

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        enqueue_ping_on_commit(WorkerPing.objects.create())
        raise Abort

    assert queued_messages(UNCONSUMED_QUEUE) == 0
    assert not WorkerPing.objects.exists()

    # The same code, committed, does put a message on the broker.
    with transaction.atomic():
        enqueue_ping_on_commit(WorkerPing.objects.create())
    assert queued_messages(UNCONSUMED_QUEUE) == 1
    with celery_app.connection_for_write() as conn:
        Queue(UNCONSUMED_QUEUE).bind(conn.default_channel).purge()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_committed_task_runs_in_a_real_worker_and_writes_to_the_database(celery_worker_process):
    ping = send_ping()

    answered = wait_for_answer(ping.pk)

    assert answered.answered_by.startswith(celery_worker_process.hostname)
    assert "portal.answer_ping[" in celery_worker_process.log()
