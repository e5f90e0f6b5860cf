"""Every API route for every role: anonymous, the consumer (Apps member), the provider (Platform
owner), a Platform member who does not own, the partner (another team) and a platform admin.

One row per route: the status each role gets. The other test modules check what the answers say;
this one checks who gets which answer, so a policy change shows up here as a table cell.
"""

import pytest

from connections import policies
from connections.api.permissions import Viewer
from connections.choices import RequestState, ServiceState
from connections.models import PublishedService
from tests.api.support import api_test_settings, build_api_world

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "consumer", "provider", "platform_member", "partner", "admin"]


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
    "publish": (("post", "/api/v1/services/", None, publish_body), [401, 403, 201, 403, 403, 201]),
    "retire": (
        ("delete", "/api/v1/services/{id}/", lambda api: api.service.pk, None),
        [401, 403, 202, 403, 403, 202],
    ),
    "retry a service": (
        ("post", "/api/v1/services/{id}/retry/", failed_service, None),
        [401, 403, 202, 403, 403, 202],
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
        [401, 403, 202, 403, 404, 202],
    ),
    "reject": (
        ("post", "/api/v1/access-requests/{id}/reject/", pending, lambda api: {"reason": "No."}),
        [401, 403, 202, 403, 404, 202],
    ),
    "retry a request": (
        ("post", "/api/v1/access-requests/{id}/retry/", failed, None),
        [401, 202, 202, 403, 404, 202],
    ),
    "revoke": (
        ("delete", "/api/v1/access-requests/{id}/", pending, None),
        [401, 202, 202, 403, 404, 202],
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


def test_the_viewer_of_the_links_answers_as_the_policies_do():
    # Links and hidden fields come from Viewer (one query per request); the verbs are guarded by
    # the policies. Were they to disagree, a page would offer what the service refuses.
    api = build_api_world()
    for user in api.users.values():
        viewer = Viewer.of(user)
        for team in api.teams.values():
            assert viewer.is_member(team.pk) == policies.is_member(user, team), (user, team)
            assert viewer.manages(team.pk) == policies.manages(user, team), (user, team)
