"""The catalog page: signed-in users see the services that are not retired, with their state."""

import pytest

from connections.choices import ServiceState
from tests.factories import PublishedServiceFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, settings):
    settings.SECURE_SSL_REDIRECT = False
    client.force_login(UserFactory(username="viewer"))
    return client


def test_the_catalog_needs_a_sign_in(client, settings):
    settings.SECURE_SSL_REDIRECT = False
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_catalog_lists_live_services_with_their_state(signed_in, django_assert_max_num_queries):
    PublishedServiceFactory(name="nginx-hangzhou", description="The seed's nginx.")
    PublishedServiceFactory(name="orders-api", state=ServiceState.PROVISIONING)
    PublishedServiceFactory(name="old-api", state=ServiceState.RETIRED)

    with django_assert_max_num_queries(6):
        page = signed_in.get("/").content.decode()

    assert "nginx-hangzhou" in page and "orders-api" in page
    assert "old-api" not in page
    assert "cn-hangzhou-g, cn-hangzhou-k" in page
    assert '<span class="badge badge-blue">Provisioning</span>' in page


def test_the_catalog_search_filters_like_the_api(signed_in):
    PublishedServiceFactory(name="nginx-hangzhou")
    PublishedServiceFactory(name="orders-api")

    page = signed_in.get("/", {"q": "orders"}).content.decode()

    assert "orders-api" in page and "nginx-hangzhou" not in page


def test_a_search_of_too_many_words_says_so_and_lists_everything(signed_in):
    PublishedServiceFactory(name="nginx-hangzhou")

    response = signed_in.get("/", {"q": "a b c d e f g h i"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Search with 8 words at most." in page
    assert "nginx-hangzhou" in page
