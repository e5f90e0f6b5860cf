"""Schemathesis against the live schema: every operation of /api/schema/, with generated requests
that fit the schema and requests that break it, sent to the portal's WSGI application with a
token. No answer may be a 5xx, and every answer must match the schema: status code, content type,
headers and body; and data the schema forbids must be refused.

The application runs in this process on the test database (the API test world), in a transaction
that never commits: nothing is enqueued, nothing reaches a cloud. Each operation is driven with
Hypothesis directly (Schemathesis' Python API): its pytest fixture loader does not run on pytest 9.
"""

import time
from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from connections.choices import RequestState, Role
from tests.connections.api.support import api_test_settings, build_api_world

# Per operation and generation mode: 20 operations x 2 modes x 30, some 1,100 requests (a few
# operations have nothing to make invalid). Derandomized: CI runs the same cases every time.
EXAMPLES = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]
STATEFUL_SCENARIOS = 40
STATEFUL_CHECKS = [check for check in CHECKS if check is not ignored_auth]


@pytest.fixture
def api_schema(db, settings):
    api_test_settings(settings)
    settings.ALLOWED_HOSTS = ["*"]
    # Django's test client does the same: the application must not close the connection that
    # holds the test's transaction at the end of each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    # Built here, not imported: middleware reads its settings (no SSL redirect) when built.
    application = get_wsgi_application()
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def token(api_schema) -> str:
    """A provider who is also in the consumer team: most verbs are open to this token."""
    world = build_api_world()
    world.teams["apps"].memberships.create(user=world.users["provider"], role=Role.MEMBER)
    world.make_request("consumer", state=RequestState.PENDING_APPROVAL)
    world.make_request("partner", "VPC3", state=RequestState.CONNECTED)
    world.client("provider")
    return world.keys["provider"]


def exercise(operation, mode: GenerationMode, headers: dict, sent: Counter) -> None:
    @given(operation.as_strategy(generation_mode=mode, headers=headers))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        sent[operation.label] += 1
        case.call_and_validate(checks=CHECKS)

    run()


def test_every_operation_answers_within_its_schema(api_schema, token):
    headers = {"Authorization": f"Token {token}"}
    sent, failures = Counter(), []
    started = time.monotonic()
    operations = [result.ok() for result in api_schema.get_all_operations()]
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                exercise(operation, mode, headers, sent)
            except Unsatisfiable:
                continue  # nothing in this operation can be made invalid (no parameters, no body)
            except KeyboardInterrupt:
                raise
            except BaseException as failure:
                # Every operation runs: the failures of all of them are reported together.
                failures.append(f"{operation.label} ({mode.value}):\n{failure}")

    print(
        f"\nschemathesis: {sum(sent.values())} cases, {len(operations)} operations, "
        f"{time.monotonic() - started:.1f}s"
    )
    assert not failures, "\n\n".join(failures)
    assert len(operations) >= 20
    assert all(sent[operation.label] for operation in operations)


def test_linked_operations_stay_within_the_schema(api_schema, token):
    """Stateful: sequences that feed one answer's ids into the next call (links inferred from the
    schema: a listed request's id to approve, reject, retry, revoke; a VPC's ids to a request)."""
    steps = Counter()
    # Sequences of valid calls: invalid input is the stateless test's job, and the token is
    # ours, not a generated one.
    api_schema.config.generation.modes = [GenerationMode.POSITIVE]
    api_schema.config.generation.with_security_parameters = False

    class Workflow(api_schema.as_state_machine()):
        def before_call(self, case):
            case.headers = {**(case.headers or {}), "Authorization": f"Token {token}"}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            steps[case.operation.label] += 1
            # Without ignored_auth: the stateless run probes each operation without the token.
            case.validate_response(response, checks=STATEFUL_CHECKS, transport_kwargs=kwargs)

    started = time.monotonic()
    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    print(
        f"\nschemathesis stateful: {sum(steps.values())} calls over {len(steps)} operations, "
        f"{time.monotonic() - started:.1f}s"
    )
    assert len(steps) >= 8
