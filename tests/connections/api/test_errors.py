"""Every error is a problem document: bad JSON, wrong media types, unknown URLs and methods, and
the catch-all, which logs the exception and sends no traceback. Plus the schema and the docs."""

import logging

import pytest
from django.db import IntegrityError, OperationalError
from django.test import Client

from connections import actions
from connections.api.errors import is_transient_database_error
from connections.api.problem_types import PROBLEM_TYPES
from connections.choices import RequestState
from tests.connections.api.support import api_test_settings, assert_problem, build_api_world
from tests.factories import PublishedServiceFactory

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
    monkeypatch.setattr(actions, "retry_request", broken)
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


# --- bounds on input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "service=99999999999999999999",  # past a 64-bit id: refused, not sent to the database
        "service=0",
        "access_request=-1",
    ],
)
def test_id_filters_outside_the_row_id_range_are_400s(api, query):
    response = api.client("consumer").get(f"/api/v1/events/?{query}")

    assert_problem(response, 400, "validation_failed")


def test_an_id_in_the_path_past_the_row_id_range_is_a_404(api):
    response = api.client("consumer").get(f"/api/v1/services/{2**64}/")

    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize(
    ("query", "code"),
    [("q=" + "a" * 201, "max_length"), ("q=" + "+".join("abcdefghi"), "too_many_words")],
)
def test_a_search_is_a_few_words(api, query, code):
    response = api.client("consumer").get(f"/api/v1/services/?{query}")

    problem = assert_problem(response, 400, "validation_failed")
    assert problem["errors"][0]["field"] == "q"
    assert problem["errors"][0]["code"] == code


def test_a_search_finds_services_with_every_word(api):
    found = api.client("consumer").get("/api/v1/services/?q=nginx+hangzhou").json()["results"]
    missed = api.client("consumer").get("/api/v1/services/?q=nginx+shanghai").json()["results"]

    assert [service["name"] for service in found] == ["nginx-hangzhou"]
    assert missed == []


def test_a_body_larger_than_the_portal_accepts_is_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024

    response = api.client("consumer").post(
        REQUESTS, api.request_body(justification="x" * 4096), format="json"
    )

    assert_problem(response, 413, "payload_too_large")


def test_a_url_without_its_trailing_slash_is_told_to_add_it(api):
    response = api.client("consumer").get(f"/api/v1/services/{api.service.pk}")

    problem = assert_problem(response, 404, "not_found")
    assert problem["detail"].endswith(f"add a trailing slash (/api/v1/services/{api.service.pk}/).")


# --- the database -------------------------------------------------------------------------------


class FakePgError(Exception):
    """What psycopg attaches as the cause of Django's database errors: an error with a SQLSTATE."""

    def __init__(self, sqlstate: str):
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


def _operational(cause: Exception) -> OperationalError:
    error = OperationalError(str(cause))
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (OperationalError("database is locked"), True),  # SQLite, another writer
        (_operational(FakePgError("55P03")), True),  # lock_not_available
        (_operational(FakePgError("57014")), True),  # statement timeout
        (_operational(FakePgError("40P01")), True),  # deadlock
        (_operational(FakePgError("08006")), True),  # connection failure
        (OperationalError("no such table: connections_vpc"), False),  # a bug, not busyness
        (_operational(FakePgError("42P01")), False),  # undefined table
        (IntegrityError("duplicate key"), False),
    ],
)
def test_only_busy_or_unreachable_database_errors_are_503s(error, transient):
    assert is_transient_database_error(error) is transient


def test_a_locked_database_is_503_with_retry_after(api, monkeypatch):
    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    # The boundary the test is not about: the service, replaced by one that meets a locked table.
    monkeypatch.setattr(actions, "revoke_request", locked)

    response = api.client("consumer").delete(f"{REQUESTS}{api.make_request().pk}/")

    assert_problem(response, 503, "temporarily_unavailable")
    assert response["Retry-After"] == "1"


def test_an_unknown_ordering_is_a_400_that_lists_the_known_ones(api):
    response = api.client("consumer").get("/api/v1/services/?ordering=-nmae")

    problem = assert_problem(response, 400, "validation_failed")
    [error] = problem["errors"]
    assert (error["field"], error["code"]) == ("ordering", "invalid_ordering")
    assert "name" in error["message"] and "-nmae" in error["message"]


def test_a_known_ordering_orders(api):
    PublishedServiceFactory(name="aaa-first", owner_team=api.service.owner_team)

    names = [
        service["name"]
        for service in api.client("consumer")
        .get("/api/v1/services/?ordering=-name")
        .json()["results"]
    ]

    assert names == sorted(names, reverse=True) and "aaa-first" in names
