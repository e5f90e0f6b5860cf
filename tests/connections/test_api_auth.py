"""Tokens (issue, use, expire, revoke, list), session auth for the browsable API, and the rate
limits per token, per anonymous client and on the token endpoint."""

import hashlib
import uuid
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from connections.api import tokens
from connections.models import ApiToken
from tests.api.support import api_test_settings, assert_problem, build_api_world, field_codes

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
TOKENS = "/api/v1/auth/tokens/"
SERVICES = "/api/v1/services/"
PASSWORD = "pw-for-tests"


@pytest.fixture(autouse=True)
def _settings(settings):
    api_test_settings(settings)


@pytest.fixture
def api():
    world = build_api_world()
    for user in world.users.values():
        user.set_password(PASSWORD)
        user.save()
    return world


def sign_in(api, username="consumer", password=PASSWORD, **extra):
    return api.client(None).post(
        TOKEN, {"username": username, "password": password, **extra}, format="json"
    )


def with_key(api, key: str):
    client = api.client(None)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_is_issued_once_and_stored_as_a_hash(api):
    response = sign_in(api, name="ci")

    assert response.status_code == 201
    body = response.json()
    key = body["token"]
    assert key.startswith("plp_") and len(key) > 40
    token = ApiToken.objects.get(pk=body["id"])
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {token.key_hash, token.prefix} and key.startswith(token.prefix)
    assert (body["name"], body["prefix"], body["active"]) == ("ci", token.prefix, True)
    lifetime = token.expires_at - token.created_at
    assert timedelta(days=29, hours=23) < lifetime <= timedelta(days=30)
    assert with_key(api, key).get(SERVICES).status_code == 200


def test_the_lifetime_is_configurable(api, settings):
    settings.API_TOKEN_TTL_DAYS = 7
    default = ApiToken.objects.get(pk=sign_in(api).json()["id"])
    asked = ApiToken.objects.get(pk=sign_in(api, expires_in_days=1).json()["id"])

    assert default.expires_at - default.created_at <= timedelta(days=7)
    assert asked.expires_at - asked.created_at <= timedelta(days=1)


@pytest.mark.parametrize(("username", "password"), [("consumer", "wrong"), ("nobody", PASSWORD)])
def test_wrong_credentials_are_400_and_issue_nothing(api, username, password):
    assert_problem(sign_in(api, username, password), 400, "invalid_credentials")
    assert not ApiToken.objects.exists()


def test_an_inactive_user_gets_no_token(api):
    api.users["consumer"].is_active = False
    api.users["consumer"].save()

    assert_problem(sign_in(api), 400, "invalid_credentials")


def test_a_token_request_without_fields_is_400_with_codes(api):
    problem = assert_problem(
        api.client(None).post(TOKEN, {}, format="json"), 400, "validation_failed"
    )

    assert field_codes(problem) == {("username", "required"), ("password", "required")}


def test_a_stale_token_header_does_not_block_signing_in(api):
    client = api.client(None)
    client.credentials(HTTP_AUTHORIZATION="Token plp_revoked-long-ago")

    response = client.post(TOKEN, {"username": "consumer", "password": PASSWORD}, format="json")

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Token plp_not-a-key", "invalid_token"),
        ("Token two parts", "invalid_token"),
        ("Token", "invalid_token"),
    ],
)
def test_invalid_tokens_are_401(api, header, code):
    client = api.client(None)
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(SERVICES)

    assert_problem(response, 401, code)
    assert response["WWW-Authenticate"] == 'Token realm="api"'


def test_an_expired_token_is_401_token_expired(api):
    token, key = tokens.issue_token(api.users["consumer"], ttl=timedelta(days=1))
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert_problem(with_key(api, key).get(SERVICES), 401, "token_expired")


def test_the_token_in_use_is_revoked_by_delete_and_then_refused(api):
    key = sign_in(api).json()["token"]
    client = with_key(api, key)

    response = client.delete(TOKEN)

    assert response.status_code == 204
    assert_problem(client.get(SERVICES), 401, "token_revoked")
    assert_problem(client.delete(TOKEN), 401, "token_revoked")


def test_revoking_without_a_token_is_401_or_400_for_a_session(api):
    assert_problem(api.client(None).delete(TOKEN), 401, "not_authenticated")
    session = api.client(None)
    session.force_login(api.users["consumer"])
    assert_problem(session.delete(TOKEN), 400, "not_token_authenticated")


def test_a_user_lists_own_tokens_without_keys_and_revokes_one(api):
    first = sign_in(api, name="laptop").json()
    second = sign_in(api, name="ci").json()
    tokens.issue_token(api.users["partner"], name="someone else's")
    client = with_key(api, second["token"])

    listed = client.get(TOKENS)

    assert listed.status_code == 200
    assert [t["name"] for t in listed.json()["results"]] == ["ci", "laptop"]
    assert all("token" not in t for t in listed.json()["results"])
    assert first["token"] not in listed.content.decode()
    assert client.delete(f"{TOKENS}{first['id']}/").status_code == 204
    assert_problem(with_key(api, first["token"]).get(SERVICES), 401, "token_revoked")
    others = ApiToken.objects.get(user=api.users["partner"])
    assert_problem(client.delete(f"{TOKENS}{others.pk}/"), 404, "not_found")
    assert client.get(TOKENS).json()["results"][1]["active"] is False


def test_a_session_reaches_the_browsable_api(api, settings):
    # The tests run without collectstatic: no manifest for the page's CSS links.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client = api.client(None)
    client.force_login(api.users["consumer"])

    response = client.get(SERVICES, HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"nginx-hangzhou" in response.content


# --- rate limits ---------------------------------------------------------------------------------


@pytest.fixture
def tight_rates(settings):
    settings.REST_FRAMEWORK = {
        **django_settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "3/min", "anon": "2/min", "token": "2/min"},
    }


def fresh_address() -> str:
    """A loopback address of this test's own, so earlier runs' counts do not carry over."""
    return "127.{}.{}.{}".format(*uuid.uuid4().bytes[:3])


def test_each_token_has_its_own_budget(api, tight_rates):
    first = api.client("consumer")
    for _ in range(3):
        assert first.get(SERVICES).status_code == 200

    throttled = first.get(SERVICES)

    assert_problem(throttled, 429, "throttled")
    assert int(throttled["Retry-After"]) >= 1
    # Another token of the same user is another budget.
    second = with_key(api, tokens.issue_token(api.users["consumer"])[1])
    assert second.get(SERVICES).status_code == 200


def test_anonymous_clients_and_the_token_endpoint_are_limited_per_address(api, tight_rates):
    address = fresh_address()
    client = api.client(None)
    for _ in range(2):
        assert client.get("/api/v1/problems/", REMOTE_ADDR=address).status_code == 200
    assert_problem(client.get("/api/v1/problems/", REMOTE_ADDR=address), 429, "throttled")

    address = fresh_address()
    for _ in range(2):
        response = client.post(
            TOKEN, {"username": "consumer", "password": "wrong"}, format="json", REMOTE_ADDR=address
        )
        assert response.status_code == 400
    third = client.post(
        TOKEN,
        {"username": "consumer", "password": PASSWORD},
        format="json",
        REMOTE_ADDR=address,
    )
    assert_problem(third, 429, "throttled")
    elsewhere = client.post(
        TOKEN,
        {"username": "consumer", "password": PASSWORD},
        format="json",
        REMOTE_ADDR=fresh_address(),
    )
    assert elsewhere.status_code == 201
