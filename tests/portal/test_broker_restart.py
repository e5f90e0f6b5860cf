"""A worker rides out a restart of its Redis broker while it holds messages, and works on after.

Unfixed kombu makes such a worker exit ("Unrecoverable error: AttributeError('NoneType' object
has no attribute 'hostname')", portal/broker.py); the messages it held are not lost work: their
chains are resumed by the reconciler (tests/connections/workflows/test_recovery.py).
"""

import time

import pytest

from portal.broker import redis_broker_url
from portal.celery import app as celery_app
from portal.models import WorkerPing
from tests.conftest import WorkerProcess

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def ping(connection, countdown: float = 0) -> WorkerPing:
    row = WorkerPing.objects.create()
    celery_app.send_task(
        "portal.answer_ping", args=(row.pk,), countdown=countdown, connection=connection
    )
    return row


def wait_for(condition, what: str, worker: WorkerProcess, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline or worker.process.poll() is not None:
            log = worker.log()[-3000:]
            raise AssertionError(f"not {what} within {timeout} s; worker log:\n{log}")
        time.sleep(0.1)


def answered(row: WorkerPing) -> bool:
    row.refresh_from_db()
    return row.answered_at is not None


def test_a_worker_holding_messages_rides_out_a_redis_restart(private_redis):
    # As the Procfile runs it: gossip, mingle and heartbeats on.
    worker = WorkerProcess("broker-restart", extra_env={"REDIS_URL": private_redis.url}, options=())
    worker.start()
    try:
        with celery_app.connection_for_write(redis_broker_url(private_redis.url)) as connection:
            first = ping(connection)
            wait_for(lambda: answered(first), "the first ping answered", worker)
            # Held by the worker, unacknowledged, when the broker goes: what made it exit.
            for _ in range(5):
                ping(connection, countdown=120)

        private_redis.stop()
        wait_for(lambda: "Connection to broker lost" in worker.log(), "the loss noticed", worker)
        private_redis.start()

        with celery_app.connection_for_write(redis_broker_url(private_redis.url)) as connection:
            after = ping(connection)
            wait_for(lambda: answered(after), "a ping answered after the restart", worker)
        assert worker.process.poll() is None, worker.log()[-3000:]
        assert "Unrecoverable error" not in worker.log()
    finally:
        worker.stop()
