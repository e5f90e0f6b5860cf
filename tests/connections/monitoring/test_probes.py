""" "Test connection" (monitoring/probes.py) reaches the service through the data plane, and never
dials anything but loopback."""

import io
import json
from unittest import mock

import pytest

from connections import actions
from connections.choices import RequestState
from connections.cloud import dataplane
from connections.models import ConnectionTest
from connections.monitoring.probes import probe
from connections.states import InvalidTransition
from tests.connections.conftest import wait_for_state, wait_until
from tests.connections.workflows.test_workflows import GREETINGS, request_from


@pytest.mark.worker
def test_a_connection_test_answers_with_the_greeting(world, seed_service):
    seed_service.trusted_teams.add(world.team("apps"))
    access_request = request_from(world, seed_service)
    wait_for_state(access_request, RequestState.CONNECTED)

    test = actions.test_connection(world.consumer, access_request)

    done = wait_until(
        lambda: ConnectionTest.objects.filter(pk=test.pk, finished_at__isnull=False).first(),
        what="the probe",
    )
    assert done.ok and done.latency_ms is not None
    assert done.answer.removeprefix("HTTP 200 OK: ") in GREETINGS
    assert done.target == f"{access_request.endpoint_domain}:80"


@pytest.mark.django_db
def test_a_request_that_is_not_connected_cannot_be_tested(world_free_request):
    with pytest.raises(InvalidTransition):
        actions.test_connection(world_free_request.requester, world_free_request)


@pytest.fixture
def world_free_request():
    from tests.connections.api.support import build_api_world

    api = build_api_world()
    return api.make_request(state=RequestState.PENDING_APPROVAL)


def test_a_resolver_answer_that_is_not_loopback_is_never_dialled(settings):
    settings.CLOUD_ENDPOINT = "http://127.0.0.1:9"
    answer = io.BytesIO(json.dumps({"host": "192.168.2.190", "port": 80}).encode())
    with (
        mock.patch("urllib.request.urlopen", return_value=answer),
        mock.patch("socket.create_connection") as dial,
    ):
        result = probe("ep-1.example", 80, "vpc-1", "TCP")

    assert not result.ok
    assert result.error == "The resolver named 192.168.2.190, not a loopback address."
    dial.assert_not_called()


def test_without_cloudsim_the_workers_must_be_in_a_vpc_to_probe(settings):
    settings.CLOUD_ENDPOINT = ""
    settings.PROBES_RUN_IN_VPC = False

    with pytest.raises(dataplane.Unreachable) as refused:
        dataplane.locate("ep-1.example", 80, "vpc-1")

    assert refused.value.code == "NotInVpc"
