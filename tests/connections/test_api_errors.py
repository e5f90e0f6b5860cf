"""Every error is a problem document: bad JSON, wrong media types, unknown URLs and methods, and
the catch-all, which logs the exception and sends no traceback. Plus the schema and the docs."""

import logging

import pytest
from django.test import Client

from connections.api import views
from connections.api.errors import PROBLEM_TYPES
from connections.choices import RequestState
from tests.api.support import api_test_settings, assert_problem, build_api_world

pytestmark = pytest.mark.django_db

REQUESTS = "/api/v1/access-requests/"


@pytest.fixture(autouse=True)
def _settings(settings):
    api_test_settings(settings)


@pytest.fixture
def api():
    return build_api_world()


def test_a_body_that_is_not_json_is_400_invalid_json(api):
    response = api.client("consumer").post(
        REQUESTS, data=b'{"service": 1,', content_type="application/json"
    )

    assert_problem(response, 400, "invalid_json")


def test_a_json_array_instead_of_an_object_is_a_400_for_the_whole_request(api):
    response = api.client("consumer").post(REQUESTS, [1, 2], format="json")

    problem = assert_problem(response, 400, "validation_failed")
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [(None, "invalid")]


def test_a_form_body_is_415(api):
    response = api.client("consumer").post(REQUESTS, data="service=1", content_type="text/plain")

    assert_problem(response, 415, "unsupported_media_type")


def test_asking_for_xml_is_406(api):
    response = api.client("consumer").get(REQUESTS, HTTP_ACCEPT="application/xml")

    assert_problem(response, 406, "not_acceptable")


@pytest.mark.parametrize(
    "path", ["/api/v2/services/", "/api/v1/services/abc/", "/api/v1/nothing/", "/api/"]
)
def test_an_unknown_api_url_is_a_404_problem_not_a_page(api, path):
    assert_problem(api.client("consumer").get(path), 404, "not_found")


def test_a_host_the_portal_does_not_serve_is_a_400_problem_under_api(api):
    response = Client().get("/api/v1/services/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["type"]) == ("bad_request", "/api/v1/problems/bad_request/")
    assert "ALLOWED_HOSTS" not in response.content.decode()


def test_an_unsupported_method_is_405_with_allow(api):
    response = api.client("provider").put(f"/api/v1/services/{api.service.pk}/", {}, format="json")

    assert_problem(response, 405, "method_not_allowed")
    assert "DELETE" in response["Allow"]


def test_an_unexpected_exception_is_logged_and_answered_without_a_traceback(
    api, monkeypatch, caplog
):
    access_request = api.make_request(state=RequestState.FAILED, failed_phase="provision")

    def broken(user, access_request):
        raise RuntimeError("secret detail of a bug")

    # A boundary the test is not about: the service, replaced by one with a bug.
    monkeypatch.setattr(views.services, "retry_request", broken)
    with caplog.at_level(logging.ERROR, logger="connections.api.errors"):
        response = api.client("consumer").post(f"{REQUESTS}{access_request.pk}/retry/")

    problem = assert_problem(response, 500, "internal_error")
    assert "secret detail" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert problem["detail"] == PROBLEM_TYPES["internal_error"].description
    [record] = [r for r in caplog.records if r.name == "connections.api.errors"]
    assert "secret detail of a bug" in str(record.exc_info[1])


def test_each_problem_type_is_documented_where_its_type_points(api):
    problem = assert_problem(api.client("consumer").get("/api/v1/services/0/"), 404, "not_found")
    documented = Client().get(problem["type"])

    assert documented.status_code == 200
    assert documented.json()["status"] == 404
    codes = {p["code"] for p in Client().get("/api/v1/problems/").json()}
    assert {"validation_failed", "invalid_transition", "idempotency_key_reused"} <= codes
    assert_problem(Client().get("/api/v1/problems/no_such_problem/"), 404, "not_found")


def test_the_schema_is_openapi_3_and_the_docs_load_their_assets_locally(api, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = Client().get("/api/docs/")

    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/access-requests/{id}/approve/" in document["paths"]
    assert document["components"]["securitySchemes"]["tokenAuth"]["name"] == "Authorization"
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
