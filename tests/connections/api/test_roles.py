"""Who may do what through the API, for each role the policies know: anonymous; a member of team A
(Apps, the consumer); a member of team B in the same cloud account (Platform, not an owner); the
service's owner (Platform); another service's owner (Partners); a platform admin.

Two views of the same rules. `ROUTES` is written by hand: one row per route, the status each
role gets, so a policy change shows up here as a table cell. The generated half walks every
role × every state × every action and checks that the API offers a link, and lets the action
through, exactly when `policies.allowed_actions` says so: the links and the verbs cannot drift
apart (they once did, for the retry of a closed request's failed clean-up).
"""

import pytest
from django.db import transaction

from connections import policies
from connections.choices import RequestState, ServiceState
from connections.models import PublishedService
from tests.connections.api.support import api_test_settings, build_api_world
from tests.factories import PublishedServiceFactory

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "consumer", "platform_member", "provider", "other_owner", "admin"]


def publish_body(api) -> dict:
    return {
        "team": "platform",
        "name": "orders-api",
        "vpc_id": "vpc-vpc2",
        "zones": [
            {"zone_id": f"cn-hangzhou-{z}", "vswitch_id": api.vswitch_id("VPC2", z)} for z in "gk"
        ],
        "backends": [{"instance_id": "i-ecs03", "port": 80}],
        "listener": {"port": 80},
    }


def pending(api):
    return api.make_request(state=RequestState.PENDING_APPROVAL).pk


def failed(api):
    return api.make_request(state=RequestState.FAILED, failed_phase="provision").pk


def rejected_with_failed_clean_up(api):
    return api.make_request(
        state=RequestState.REJECTED, failed_phase="cleanup", endpoint_id="ep-left"
    ).pk


def failed_service(api):
    PublishedService.objects.filter(pk=api.service.pk).update(
        state=ServiceState.FAILED, failed_phase="publish"
    )
    return api.service.pk


# (method, path with {id}, how to make the object, body) → status per role, in ROLES' order.
ROUTES = {
    "list services": (("get", "/api/v1/services/", None, None), [401, 200, 200, 200, 200, 200]),
    "read a service": (
        ("get", "/api/v1/services/{id}/", lambda api: api.service.pk, None),
        [401, 200, 200, 200, 200, 200],
    ),
    "publish": (("post", "/api/v1/services/", None, publish_body), [401, 403, 403, 201, 403, 201]),
    "retire": (
        ("delete", "/api/v1/services/{id}/", lambda api: api.service.pk, None),
        [401, 403, 403, 202, 403, 202],
    ),
    "retry a service": (
        ("post", "/api/v1/services/{id}/retry/", failed_service, None),
        [401, 403, 403, 202, 403, 202],
    ),
    "list VPCs": (("get", "/api/v1/vpcs/", None, None), [401, 200, 200, 200, 200, 200]),
    "request access": (
        ("post", "/api/v1/access-requests/", None, lambda api: api.request_body(team="apps")),
        [401, 201, 403, 403, 403, 201],
    ),
    "list requests": (
        ("get", "/api/v1/access-requests/", None, None),
        [401, 200, 200, 200, 200, 200],
    ),
    "read a request": (
        ("get", "/api/v1/access-requests/{id}/", pending, None),
        [401, 200, 200, 200, 404, 200],
    ),
    "approve": (
        ("post", "/api/v1/access-requests/{id}/approve/", pending, None),
        [401, 403, 403, 202, 404, 202],
    ),
    "reject": (
        ("post", "/api/v1/access-requests/{id}/reject/", pending, lambda api: {"reason": "No."}),
        [401, 403, 403, 202, 404, 202],
    ),
    "retry a request": (
        ("post", "/api/v1/access-requests/{id}/retry/", failed, None),
        [401, 202, 403, 202, 404, 202],
    ),
    "retry a failed clean-up": (
        ("post", "/api/v1/access-requests/{id}/retry/", rejected_with_failed_clean_up, None),
        [401, 202, 403, 202, 404, 202],
    ),
    "revoke": (
        ("delete", "/api/v1/access-requests/{id}/", pending, None),
        [401, 202, 403, 202, 404, 202],
    ),
    "list events": (("get", "/api/v1/events/", None, None), [401, 200, 200, 200, 200, 200]),
    "list own tokens": (
        ("get", "/api/v1/auth/tokens/", None, None),
        [401, 200, 200, 200, 200, 200],
    ),
    "problem types": (("get", "/api/v1/problems/", None, None), [200, 200, 200, 200, 200, 200]),
}

CASES = [
    pytest.param(name, role, expected, id=f"{name}-{role}")
    for name, (_, statuses) in ROUTES.items()
    for role, expected in zip(ROLES, statuses, strict=True)
]


@pytest.fixture(autouse=True)
def _settings(settings):
    api_test_settings(settings)


@pytest.mark.parametrize(("route", "role", "expected"), CASES)
def test_each_role_gets_its_status_on_each_route(route, role, expected):
    api = build_api_world()
    (method, path, make, body), _ = ROUTES[route]
    if make is not None:
        path = path.format(id=make(api))
    client = api.client(None if role == "anonymous" else role)

    response = getattr(client, method)(path, body(api) if body else None, format="json")

    assert response.status_code == expected, response.content[:500]
    if expected >= 400:
        assert response["Content-Type"].startswith("application/problem+json")


# --- generated: links and verbs against the policies ---------------------------------------------

REQUEST_STATES = {
    "submitted": {"state": RequestState.SUBMITTED},
    "provisioning": {"state": RequestState.PROVISIONING},
    "pending approval": {"state": RequestState.PENDING_APPROVAL},
    "connected": {"state": RequestState.CONNECTED},
    "revoking": {"state": RequestState.REVOKING},
    "failed provisioning": {"state": RequestState.FAILED, "failed_phase": "provision"},
    "failed revoking": {"state": RequestState.FAILED, "failed_phase": "revoke"},
    "revoked": {"state": RequestState.REVOKED},
    "rejected, clean-up failed": {
        "state": RequestState.REJECTED,
        "failed_phase": "cleanup",
        "endpoint_id": "ep-left",
    },
}
# action → (method, path suffix, body): how the API does each of the policies' request actions.
REQUEST_ACTIONS = {
    "approve": ("post", "approve/", None),
    "reject": ("post", "reject/", {"reason": "Not now."}),
    "retry": ("post", "retry/", None),
    "revoke": ("delete", "", None),
}
SERVICE_STATES = {
    "available": {"state": ServiceState.AVAILABLE},
    "provisioning": {"state": ServiceState.PROVISIONING},
    "failed publish": {"state": ServiceState.FAILED, "failed_phase": "publish"},
    "failed retire": {"state": ServiceState.FAILED, "failed_phase": "retire"},
    "retiring": {"state": ServiceState.RETIRING},
    "retired": {"state": ServiceState.RETIRED},
}
SERVICE_ACTIONS = {"retire": ("delete", "", None), "retry": ("post", "retry/", None)}


def attempt(client, method: str, path: str, body) -> int:
    """The status of the action; whatever it recorded is rolled back."""
    with transaction.atomic():
        status = getattr(client, method)(path, body, format="json").status_code
        transaction.set_rollback(True)
    return status


@pytest.mark.parametrize("role", ROLES[1:])
@pytest.mark.parametrize("case", REQUEST_STATES)
def test_request_links_and_verbs_follow_the_policies(role, case):
    api = build_api_world()
    access_request = api.make_request(**REQUEST_STATES[case])
    user, client = api.users[role], api.client(role)
    path = f"/api/v1/access-requests/{access_request.pk}/"

    answer = client.get(path)

    if not policies.sees_request(user, access_request):
        assert answer.status_code == 404
        return
    allowed = policies.allowed_actions(user, access_request)
    links = set(answer.json()["links"]) & set(REQUEST_ACTIONS)
    assert links == allowed & set(REQUEST_ACTIONS)
    for action, (method, suffix, body) in REQUEST_ACTIONS.items():
        status = attempt(client, method, path + suffix, body)
        assert (status < 300) == (action in allowed), (action, status)


@pytest.mark.parametrize("role", ROLES[1:])
@pytest.mark.parametrize("case", SERVICE_STATES)
def test_service_links_and_verbs_follow_the_policies(role, case):
    api = build_api_world()
    partners_vpc = api.vpcs["VPC3"]
    for service in (
        api.service,
        PublishedServiceFactory(owner_team=api.teams["partners"], vpc=partners_vpc),
    ):
        PublishedService.objects.filter(pk=service.pk).update(**SERVICE_STATES[case])
        service.refresh_from_db()
        user, client = api.users[role], api.client(role)
        path = f"/api/v1/services/{service.pk}/"

        links = set(client.get(path).json()["links"])

        allowed = policies.allowed_actions(user, service)
        assert links & set(SERVICE_ACTIONS) == allowed & set(SERVICE_ACTIONS)
        assert ("request_access" in links) == ("request_access" in allowed)
        for action, (method, suffix, body) in SERVICE_ACTIONS.items():
            status = attempt(client, method, path + suffix, body)
            assert (status < 300) == (action in allowed), (service, action, status)
