"""The tasks' names and queues: every task routed by name, and the names of the previous release
still run the same work on the same queue (README, "Upgrading")."""

from fnmatch import fnmatchcase

import pytest

from connections.workflows.registry import TASK_NAMES, WORKFLOWS
from portal.celery import PROBES_QUEUE, PROVISIONING_QUEUE
from portal.celery import app as celery_app

FORMER_NAMES = {
    "connections.publish_service": "connections.workflow.publish",
    "connections.configure_service": "connections.workflow.configure",
    "connections.retire_service": "connections.workflow.retire",
    "connections.provision_request": "connections.workflow.provision",
    "connections.connect_request": "connections.workflow.connect",
    "connections.revoke_request": "connections.workflow.revoke",
    "connections.clean_up_request": "connections.workflow.cleanup",
    "connections.probe_connection": "connections.test_connection",
    "connections.probe_sweep": "connections.sweep_health",
    "connections.probe_history_compact": "connections.compact_health_history",
    "connections.probe_clean_up": "connections.clean_up_finding",
}


@pytest.fixture(scope="module")
def registered() -> dict:
    celery_app.loader.import_default_modules()
    return {name: task for name, task in celery_app.tasks.items() if not name.startswith("celery.")}


def queue_of(name: str) -> str:
    return celery_app.amqp.router.route({}, name)["queue"].name


def test_every_task_has_a_route_of_its_own(registered):
    routes = celery_app.conf.task_routes
    unrouted = [name for name in registered if not any(fnmatchcase(name, r) for r in routes)]
    assert unrouted == []


def test_probes_and_reads_go_to_the_probes_queue_and_workflows_to_provisioning(registered):
    probes = {name for name in registered if queue_of(name) == PROBES_QUEUE}
    assert {"connections.sweep_health", "connections.test_connection"} <= probes
    for workflow in WORKFLOWS.values():
        assert queue_of(workflow.task_name) == PROVISIONING_QUEUE


@pytest.mark.parametrize(("former", "today"), FORMER_NAMES.items())
def test_a_former_name_runs_the_same_work_on_the_same_queue(registered, former, today):
    assert registered[former].run is registered[today].run
    assert queue_of(former) == queue_of(today)
    assert registered[former].soft_time_limit == registered[today].soft_time_limit


def test_a_workflow_message_under_its_former_name_is_told_as_the_chain_it_belongs_to():
    for workflow in WORKFLOWS.values():
        assert TASK_NAMES[workflow.former_task_name] == workflow.task_name
        assert FORMER_NAMES[workflow.former_task_name] == workflow.task_name
