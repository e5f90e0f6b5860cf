"""Every action of the generated RAM policies is needed: without any one of them, some part of
the journey fails, and says which action is missing (the journey: ram_journey.py).

The tasks run in this process, one after another, as a worker would run them: what is proven
here is the policies, not the broker (test_ram_policies.py runs the journey through a worker).
"""

from collections import deque

import pytest

from connections import (
    demo,
    tasks,  # noqa: F401 - registers the tasks this process runs
)
from connections.cloud import forget_sessions
from connections.monitoring.sweep import sweep
from portal.celery import app as celery_app
from tests.connections.cloud import ram_journey
from tests.connections.conftest import World

# Needed by the operator's check (check_cloud) alone: the journey itself never calls it.
CHECK_ONLY = {"privatelink:CheckProductOpen"}
# What check_cloud cannot tell beforehand: PrivateLink's service-linked role is created by an
# account's first endpoint, and trying one (even with DryRun) needs an endpoint service.
CHECK_CANNOT_TELL = {("B", "ram:CreateServiceLinkedRole")}
# Tasks a journey runs at most: past it, something waits for what will never come.
TASK_LIMIT = 400


def policy_actions() -> list[tuple[str, str]]:
    """(account, action) for each action each account's policy grants."""
    pairs = []
    for account, document in ram_journey.policies().items():
        for statement in document["Statement"]:
            actions = statement["Action"]
            pairs.extend((account, a) for a in ([actions] if isinstance(actions, str) else actions))
    return pairs


def without(document: dict, action: str) -> dict:
    statements = []
    for statement in document["Statement"]:
        actions = statement["Action"]
        if isinstance(actions, str):
            if actions != action:
                statements.append(statement)
            continue
        statements.append({**statement, "Action": [a for a in actions if a != action]})
    return {**document, "Statement": statements}


@pytest.fixture
def local_world(transactional_db, cloudsim, monkeypatch):
    """The demo world, its tasks run in this process (`World.worker` is the task queue)."""
    queue = deque()

    def send_task(name, args=(), kwargs=None, **options):
        queue.append((name, tuple(args), dict(kwargs or {})))

    monkeypatch.setattr(celery_app, "send_task", send_task)
    cloudsim.reset()
    forget_sessions()
    world = World(
        users=demo.create_people(), accounts=demo.create_accounts(), cloudsim=cloudsim, worker=queue
    )
    for account in world.accounts.values():
        demo.sync_inventory(account)
    return world


def run_tasks(queue: deque) -> None:
    for _ in range(TASK_LIMIT):
        if not queue:
            return
        name, args, kwargs = queue.popleft()
        celery_app.tasks[name](*args, **kwargs)


@pytest.mark.parametrize(
    ("account", "action"), policy_actions(), ids=[f"{a}-{x}" for a, x in policy_actions()]
)
def test_without_any_one_action_the_journey_fails_naming_it(local_world, account, action):
    documents = ram_journey.policies()
    documents[account] = without(documents[account], action)
    ram_journey.use_ram_users(local_world, documents)

    def settle(record, done):
        run_tasks(local_world.worker)
        record.refresh_from_db()
        return record

    outcome = ram_journey.run(local_world, settle, sweep)

    if (account, action) not in CHECK_CANNOT_TELL:
        assert outcome.checked(action), f"check_cloud did not name {action}: {outcome.checks}"
    if action in CHECK_ONLY:
        return
    assert outcome.stages != ram_journey.JOURNEY, f"the journey needs no {action}"
    assert outcome.mention(action), (
        f"without {action} the journey stopped after {outcome.stages[-1:]} without naming it: "
        f"{outcome.messages}"
    )
