"""Failed sign-ins: the sign-in page, the admin's and the API's token endpoint spend one budget per
username, and a spent budget is said plainly (429 with Retry-After on the site's page)."""

import time
import uuid
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.test import Client

from portal import signin
from tests.connections.api.support import GENEROUS_RATES, api_test_settings
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BUDGET = 3


@pytest.fixture
def person(settings, monkeypatch):
    api_test_settings(settings)  # a cache of this test's own
    # Failures count in fixed hourly windows: pin signin's clock mid-hour, no straddling hh:00.
    pinned = time.time() // 3600 * 3600 + 30 * 60 + 30
    monkeypatch.setattr(signin, "time", SimpleNamespace(time=lambda: pinned))
    settings.REST_FRAMEWORK = {
        **django_settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**GENEROUS_RATES, "signin_failure": f"{BUDGET}/hour"},
    }
    return UserFactory(username=f"ops-{uuid.uuid4().hex[:8]}", is_staff=True)


def page_sign_in(username: str, password: str, path: str = "/accounts/login/"):
    return Client().post(path, {"username": username, "password": password})


def test_the_sign_in_page_pauses_a_username_after_its_failures(person):
    for _ in range(BUDGET):
        refused = page_sign_in(person.username, "wrong")
        assert refused.status_code == 200
        assert b"Please enter a correct username and password" in refused.content

    paused = page_sign_in(person.username, "pw")  # the right password, too late

    assert paused.status_code == 429
    assert int(paused["Retry-After"]) >= 1
    text = paused.content.decode()
    assert "Too many failed sign-ins for this username" in text
    assert "try again in" in text
    assert "_auth_user_id" not in paused.wsgi_request.session


def test_a_successful_sign_in_spends_nothing(person):
    for _ in range(BUDGET + 2):
        assert page_sign_in(person.username, "pw").status_code == 302


def test_the_admin_and_the_api_share_the_budget_of_the_sign_in_page(person):
    api_failure = Client().post(
        "/api/v1/auth/token/",
        {"username": person.username, "password": "wrong"},
        content_type="application/json",
    )
    assert api_failure.status_code == 400
    for _ in range(BUDGET - 1):
        assert page_sign_in(person.username, "wrong", "/admin/login/").status_code == 200

    admin = page_sign_in(person.username, "pw", "/admin/login/")
    page = page_sign_in(person.username, "pw")
    api = Client().post(
        "/api/v1/auth/token/",
        {"username": person.username.upper(), "password": "pw"},
        content_type="application/json",
    )

    assert "Too many failed sign-ins for this username" in admin.content.decode()
    assert page.status_code == 429
    assert api.status_code == 429
