"""Tokens (issue, use, expire, revoke, list, the cap and the longest lifetime), session auth for
the browsable API and its CSRF refusal, and the rate limits: per person, per address for requests
without valid credentials, on the token endpoint, and failed sign-ins per username."""

import hashlib
import time
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.utils import timezone
from rest_framework.test import APIClient

from connections.api import tokens
from connections.models import ApiToken
from portal import signin
from portal.signin import FailedSignIns
from tests.connections.api.support import (
    api_test_settings,
    assert_problem,
    build_api_world,
    field_codes,
)

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


@pytest.fixture
def pinned_signin_clock(monkeypatch):
    # Failures count in fixed windows: pin signin's clock mid-minute/mid-hour, no straddling.
    pinned = time.time() // 3600 * 3600 + 30 * 60 + 30
    monkeypatch.setattr(signin, "time", SimpleNamespace(time=lambda: pinned))
    return pinned


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


def test_a_session_reaches_the_browsable_api(api):
    client = api.client(None)
    client.force_login(api.users["consumer"])

    response = client.get(SERVICES, HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"nginx-hangzhou" in response.content


# --- rate limits ---------------------------------------------------------------------------------


TIGHT_RATES = {"user": "3/min", "anon": "2/min", "token": "2/min", "signin_failure": "100/min"}


@pytest.fixture
def tight_rates(settings):
    settings.REST_FRAMEWORK = {
        **django_settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": TIGHT_RATES,
    }


def fresh_address() -> str:
    """A loopback address of this test's own, so earlier runs' counts do not carry over."""
    return "127.{}.{}.{}".format(*uuid.uuid4().bytes[:3])


def test_a_person_has_one_budget_whatever_token_they_use(api, tight_rates):
    first = api.client("consumer")
    for _ in range(3):
        assert first.get(SERVICES).status_code == 200

    throttled = first.get(SERVICES)

    assert_problem(throttled, 429, "throttled")
    assert int(throttled["Retry-After"]) >= 1
    # Minting another token buys no more requests; another person has their own budget.
    second = with_key(api, tokens.issue_token(api.users["consumer"])[1])
    assert_problem(second.get(SERVICES), 429, "throttled")
    assert api.client("partner").get(SERVICES).status_code == 200


def test_bad_tokens_are_counted_against_the_address_before_their_401(api, tight_rates):
    client = api.client(None)
    client.credentials(HTTP_AUTHORIZATION="Token plp_guessed")
    address = fresh_address()
    for _ in range(2):
        assert_problem(client.get(SERVICES, REMOTE_ADDR=address), 401, "invalid_token")

    assert_problem(client.get(SERVICES, REMOTE_ADDR=address), 429, "throttled")
    # No credentials at all are counted the same way.
    anonymous = api.client(None)
    assert_problem(anonymous.get(SERVICES, REMOTE_ADDR=address), 429, "throttled")


def test_x_forwarded_for_does_not_pick_the_budget_without_configured_proxies(api, tight_rates):
    client = api.client(None)
    address = fresh_address()
    for _ in range(2):
        response = client.get(
            "/api/v1/problems/", REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR=fresh_address()
        )
        assert response.status_code == 200

    spoofed = client.get(
        "/api/v1/problems/", REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR=fresh_address()
    )

    assert_problem(spoofed, 429, "throttled")


def test_behind_a_configured_proxy_the_forwarded_address_is_the_client(api, settings):
    settings.REST_FRAMEWORK = {
        **django_settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": TIGHT_RATES,
        "NUM_PROXIES": 1,
    }
    client = api.client(None)
    proxy, first_client = fresh_address(), fresh_address()
    for _ in range(2):
        response = client.get(
            "/api/v1/problems/", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=first_client
        )
        assert response.status_code == 200
    assert_problem(
        client.get("/api/v1/problems/", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=first_client),
        429,
        "throttled",
    )

    other_client = client.get(
        "/api/v1/problems/", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=fresh_address()
    )

    assert other_client.status_code == 200


def test_failed_sign_ins_lock_the_username_from_every_address(api, settings, pinned_signin_clock):
    settings.REST_FRAMEWORK = {
        **django_settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**TIGHT_RATES, "token": "100/min", "signin_failure": "2/min"},
    }
    client = api.client(None)
    for _ in range(2):
        wrong = client.post(
            TOKEN,
            {"username": "consumer", "password": "wrong"},
            format="json",
            REMOTE_ADDR=fresh_address(),
        )
        assert_problem(wrong, 400, "invalid_credentials")

    # Even the right password, from yet another address, is refused for now.
    locked = client.post(
        TOKEN,
        {"username": "Consumer", "password": PASSWORD},
        format="json",
        REMOTE_ADDR=fresh_address(),
    )

    assert_problem(locked, 429, "throttled")
    assert int(locked["Retry-After"]) == 30  # until the pinned minute's window ends
    assert not ApiToken.objects.filter(user=api.users["consumer"]).exists()
    # Another username is not affected, and successful sign-ins never count.
    for _ in range(3):
        assert sign_in(api, "partner").status_code == 201


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


# --- token limits and CSRF -----------------------------------------------------------------------


def test_the_token_answer_may_not_be_cached(api):
    response = sign_in(api)

    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"


def test_a_person_holds_at_most_the_configured_number_of_active_tokens(api, settings):
    settings.API_MAX_TOKENS_PER_USER = 2
    first = sign_in(api).json()
    assert sign_in(api).status_code == 201

    refused = sign_in(api)

    assert_problem(refused, 409, "too_many_tokens")
    assert ApiToken.objects.filter(user=api.users["consumer"]).count() == 2
    # A revoked token frees its place.
    assert with_key(api, first["token"]).delete(TOKEN).status_code == 204
    assert sign_in(api).status_code == 201


def test_no_token_outlives_the_configured_maximum(api, settings):
    settings.API_TOKEN_MAX_TTL_DAYS = 7

    response = sign_in(api, expires_in_days=90)

    assert response.status_code == 201
    token = ApiToken.objects.get(pk=response.json()["id"])
    assert token.expires_at <= timezone.now() + timedelta(days=7)
    assert token.expires_at > timezone.now() + timedelta(days=6)


def test_a_session_post_without_the_csrf_token_is_403_csrf_failed(api):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(api.users["consumer"])

    response = client.post(f"/api/v1/access-requests/{api.make_request().pk}/retry/")

    assert_problem(response, 403, "csrf_failed")


def test_a_new_password_revokes_every_token(api):
    key = sign_in(api).json()["token"]
    user = api.users["consumer"]

    user.set_password("a-new-password")
    user.save()

    assert_problem(with_key(api, key).get(SERVICES), 401, "token_revoked")
    # Other saves of the user (a last login, a name) keep the tokens.
    fresh = sign_in(api, password="a-new-password").json()["token"]
    user.first_name = "Casey"
    user.save()
    assert with_key(api, fresh).get(SERVICES).status_code == 200


def test_the_admin_revokes_tokens_without_ever_showing_a_key(api, client, settings):
    settings.SECURE_SSL_REDIRECT = False
    issued = sign_in(api).json()
    client.force_login(api.users["admin"])

    page = client.get("/admin/connections/apitoken/").content.decode()
    response = client.post(
        "/admin/connections/apitoken/",
        {"action": "revoke", "_selected_action": [issued["id"]]},
    )

    assert issued["token"][: tokens.VISIBLE_CHARS] in page
    assert issued["token"] not in page
    assert response.status_code == 302
    assert_problem(with_key(api, issued["token"]).get(SERVICES), 401, "token_revoked")


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """A stronger hasher than the tests' MD5 one, with few iterations to stay fast."""

    algorithm = "pbkdf2_quick"
    iterations = 1000


def test_a_password_rehashed_on_sign_in_keeps_the_tokens(api, settings):
    # Django re-hashes a password stored with an older hasher when it is next checked: that is
    # not a new password, and must not end the person's tokens.
    user = api.users["consumer"]
    key = sign_in(api).json()["token"]
    settings.PASSWORD_HASHERS = [
        f"{__name__}.QuickPBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]

    assert sign_in(api).status_code == 201

    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_quick$")  # it was re-hashed
    assert with_key(api, key).get(SERVICES).status_code == 200


def test_attempts_sent_at_once_are_all_counted(settings, pinned_signin_clock):
    # Each attempt counts before its (slow) password check: three requests that all started
    # before any finished still spend three of the budget.
    settings.REST_FRAMEWORK = {
        **django_settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**TIGHT_RATES, "signin_failure": "2/min"},
    }
    username = f"someone-{uuid.uuid4().hex}"
    at_once = [FailedSignIns(username) for _ in range(3)]

    assert [failures.attempt() for failures in at_once] == [True, True, False]
    assert FailedSignIns(username.upper()).attempt() is False  # one budget per name


@pytest.mark.parametrize("path", ["/api/v1/", "/api/schema/"])
def test_bad_tokens_are_counted_on_the_index_and_the_schema_too(api, tight_rates, path):
    client = api.client(None)
    client.credentials(HTTP_AUTHORIZATION="Token plp_guessed")
    address = fresh_address()
    for _ in range(2):
        assert client.get(path, REMOTE_ADDR=address).status_code == 401

    throttled = client.get(path, REMOTE_ADDR=address)
    assert throttled.status_code == 429  # the schema view answers in its own formats
    assert int(throttled["Retry-After"]) >= 1
