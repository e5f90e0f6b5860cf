"""The list pages (pages/paging.py, filtersets.py): queries that do not grow with the rows,
cursor paging, an empty filter field."""

from __future__ import annotations

import re

import pytest

from connections.choices import RequestState
from tests.connections.pages.support import add_rows, signed_in_as

pytestmark = pytest.mark.django_db


LIST_PAGES = {"catalog": "/", "my requests": "/requests/", "approval queue": "/approvals/"}


@pytest.mark.parametrize("where", LIST_PAGES)
def test_list_pages_cost_the_same_queries_for_5_rows_as_for_20(
    world, where, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in_as(world, "admin")
    add_rows(world, 5)
    client.get(LIST_PAGES[where])
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST_PAGES[where]).status_code == 200
    add_rows(world, 15)

    with django_assert_max_num_queries(len(few)):
        response = client.get(LIST_PAGES[where])

    assert response.status_code == 200
    assert len(few) <= 12


def test_lists_page_by_cursor(world):
    add_rows(world, 30)
    client = signed_in_as(world, "consumer")

    first = client.get("/requests/").content.decode()
    next_url = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = client.get(next_url).content.decode()

    ids_first = set(re.findall(r'href="/requests/(\d+)/"', first))
    ids_second = set(re.findall(r'href="/requests/(\d+)/"', second))
    assert len(ids_first) == 25 and len(ids_second) == 5 and not ids_first & ids_second
    assert "fragment=" not in next_url


def test_an_empty_filter_field_means_any(world):
    world.make_request(state=RequestState.PENDING_APPROVAL)
    client = signed_in_as(world, "consumer")

    page = client.get("/requests/", {"state": "", "health": ""}).content.decode()
    api = world.client("consumer").get("/api/v1/access-requests/?state=&health=")

    assert "nginx-hangzhou" in page
    assert api.status_code == 200 and len(api.json()["results"]) == 1
