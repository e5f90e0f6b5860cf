"""The reconciler tells a lost chain from a late one: past due, a chain that a live worker holds
is left to it (no second run, no `restarted` event); one whose holder stopped saying it is alive,
or that nobody holds, is resumed. (The real worker's side, end to end: bench/soak.py.)"""

import time
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from celery.signals import before_task_publish, task_postrun, task_received
from django.utils import timezone

from connections.choices import RequestState
from connections.tasks import run_provision
from connections.workflows import liveness
from connections.workflows.provision import PROVISION
from connections.workflows.reconcile import ABANDONED_AFTER, GRACE, restart_stalled_chains
from tests.factories import AccessRequestFactory

pytestmark = pytest.mark.django_db

# Unique to each run: the cache may be a Redis shared with other runs (and with the broker,
# which a cache.clear() would empty).
TOKEN = uuid.uuid4().hex


@pytest.fixture
def worker() -> str:
    """This process as a worker of its own: a new identity, that no earlier test said alive."""
    return liveness.new_identity()


def receive(record, hop: int = 3) -> None:
    """The worker receives the chain's message for `hop`, as Celery tells it (task_received)."""
    request = SimpleNamespace(
        name=PROVISION.task_name, args=(record.pk, TOKEN), kwargs={"hop": hop}
    )
    task_received.send(sender=None, request=request)


def finish(record, hop: int = 3) -> None:
    """The worker ran that hop (task_postrun)."""
    task_postrun.send(sender=run_provision, args=(record.pk, TOKEN), kwargs={"hop": hop})


def late_request(past_due: timedelta):
    return AccessRequestFactory(
        state=RequestState.PROVISIONING,
        task_token=TOKEN,
        task_hop=3,
        task_due_at=timezone.now() - past_due,
    )


def restarted(record) -> bool:
    record.refresh_from_db()
    return record.task_token != TOKEN and record.events.filter(verb="restarted").exists()


def test_a_late_chain_held_by_a_live_worker_is_left_to_it(worker):
    record = late_request(GRACE * 4)
    receive(record)
    liveness.say_alive(worker)

    assert restart_stalled_chains() == 0
    assert not restarted(record)


def test_a_chain_held_by_a_worker_that_went_silent_is_resumed(worker):
    record = late_request(GRACE * 4)
    receive(record)  # and never said it lives

    assert restart_stalled_chains() == 1
    assert restarted(record)


def test_a_chain_nobody_holds_is_resumed_once_grace_has_passed():
    record = late_request(GRACE / 2)
    assert restart_stalled_chains() == 0

    assert restart_stalled_chains(now=timezone.now() + GRACE) == 1
    assert restarted(record)


def test_the_hold_of_an_older_hop_does_not_cover_the_chain(worker):
    record = late_request(GRACE * 4)
    receive(record, hop=2)
    liveness.say_alive(worker)

    assert restart_stalled_chains() == 1
    assert restarted(record)


def test_a_chain_a_live_worker_has_held_for_too_long_is_resumed_anyway(worker):
    record = late_request(ABANDONED_AFTER + GRACE)
    receive(record)
    liveness.say_alive(worker)

    assert restart_stalled_chains() == 1
    assert restarted(record)


def test_the_reconcilers_message_carries_when_beat_sent_it():
    body = ((), {}, {})
    before_task_publish.send(
        sender="connections.reconcile", body=body, exchange="", routing_key="provisioning",
        headers={}, properties={}, declare=[], retry_policy=None,
    )  # fmt: skip

    assert abs(body[1]["sent_at"] - time.time()) < 5


def test_chains_due_after_the_reconcilers_message_was_sent_are_not_judged_by_it(worker):
    record = late_request(GRACE * 2)  # due after the message below was sent, unheld

    assert restart_stalled_chains(now=timezone.now() - GRACE * 3) == 0
    assert not restarted(record)


def test_a_hop_that_ran_holds_nothing_any_more(worker):
    record = late_request(GRACE * 4)
    receive(record)
    liveness.say_alive(worker)
    finish(record)

    assert restart_stalled_chains() == 1
    assert restarted(record)


def test_each_connection_to_the_broker_is_a_new_holder():
    first = liveness.this_worker()
    second = liveness.new_identity()

    assert second != first
    assert liveness.this_worker() == second
