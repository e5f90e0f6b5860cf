"""With the cache out of reach (Redis stopped): the API and the pages go on answering, rate
limits let requests through, and what truly needs the cache is a 503 with Retry-After, never a
500. The cache is a Redis of the test's own, stopped for real."""

import pytest
from django.test import Client, override_settings
from kombu.exceptions import OperationalError
from rest_framework.test import APIClient

from connections.api import tokens
from connections.api.errors import describe
from connections.api.problem_types import PROBLEM_TYPES
from connections.workflows import timing
from tests.factories import PublishedServiceFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cache_away(private_redis):
    """The default cache on a Redis that is then stopped."""
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": private_redis.url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    with override_settings(CACHES=caches):
        yield private_redis


def test_the_api_answers_and_does_not_limit_while_the_cache_is_away(cache_away, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "user": "2/min",
        },
    }
    PublishedServiceFactory()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {tokens.issue_token(UserFactory())[1]}")
    assert client.get("/api/v1/services/").status_code == 200
    assert client.get("/api/v1/services/").status_code == 200
    assert client.get("/api/v1/services/").status_code == 429  # the limit counts, while it can

    cache_away.stop()

    answers = [client.get("/api/v1/services/") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].json()["results"]


def test_a_signed_in_person_keeps_browsing_while_the_cache_is_away(cache_away):
    client = Client()
    client.force_login(UserFactory())
    assert client.get("/").status_code == 200

    cache_away.stop()

    page = client.get("/")
    assert page.status_code == 200
    assert b"Catalog" in page.content or b"catalog" in page.content


def test_signing_out_while_the_cache_is_away_is_a_503_that_says_to_come_back(cache_away):
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory())
    cache_away.stop()

    # The session's cached copy cannot be removed: signing out must not half-succeed.
    answer = client.post("/accounts/logout/")

    assert answer.status_code == 503
    assert answer["Retry-After"] == "5"
    assert b"Back in a moment" in answer.content
    assert b"Traceback" not in answer.content


def test_an_api_request_meeting_the_broker_away_is_a_problem_503_with_retry_after():
    described = describe(OperationalError("Error 111 connecting to 127.0.0.1:6379."))

    assert (described.status, described.code) == (503, "temporarily_unavailable")
    assert described.headers == {"Retry-After": "5"}
    # The problem's own title, nothing of the error's text (it names the server).
    assert described.detail == PROBLEM_TYPES["temporarily_unavailable"].title


def test_waits_read_from_the_start_and_learn_nothing_while_the_cache_is_away(cache_away):
    cache_away.stop()

    assert timing.typical_seconds("CreateVpcEndpoint") == 0.0
    timing.observed("CreateVpcEndpoint", 2.0, 1.9)  # no error: nothing learnt
    assert timing.next_read("CreateVpcEndpoint", 1.0, 3) == pytest.approx(0.05)
