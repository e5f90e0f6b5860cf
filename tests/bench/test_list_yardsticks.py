"""bench/api_lists.py measures the catalog against a bare view of the same rows: that view must
answer what the API answers, field for field, or its ratio would measure a difference in content
rather than the API's machinery (authentication, policies, serializer, pagination)."""

from datetime import datetime, timedelta

import pytest

from bench.fill import populate, set_up_people
from connections.api.tokens import issue_token
from connections.choices import Role, ServiceState
from connections.models import Membership, PublishedService, Team
from tests.api.support import api_test_settings

pytestmark = pytest.mark.django_db

DATES = ("health_checked_at", "created_at", "updated_at")


@pytest.fixture(autouse=True)
def _settings(settings):
    api_test_settings(settings)
    settings.ROOT_URLCONF = "bench.lists_site_urls"


def comparable(row: dict) -> dict:
    """A row with its dates to the millisecond (a JsonResponse's precision) and only the link
    both views give: the API adds the actions the person may take."""
    return {
        **row,
        **{name: row[name] and _millisecond(row[name]) for name in DATES},
        "links": {"self": row["links"]["self"]},
    }


def _millisecond(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment - timedelta(microseconds=moment.microsecond % 1000)


@pytest.mark.parametrize("who", ["admin", "member"])
def test_the_bare_view_of_the_same_rows_answers_what_the_api_answers(client, who):
    admin = set_up_people()
    member = type(admin).objects.create_user("member")
    Membership.objects.create(team=Team.objects.get(slug="apps"), user=member, role=Role.MEMBER)
    populate(services=12, requests=0)
    PublishedService.objects.filter(name="service-000003").update(
        state=ServiceState.FAILED, last_error_code="Throttling", last_error_message="Slow down."
    )
    key = issue_token(admin if who == "admin" else member)[1]

    ours = client.get("/api/v1/services/", HTTP_AUTHORIZATION=f"Token {key}").json()["results"]
    bare = client.get(f"/bench/bare/service-rows/?as={who}").json()["results"]

    assert len(ours) == 12
    assert [comparable(row) for row in bare] == [comparable(row) for row in ours]
    # What makes the two answers differ by person is there to compare.
    sees_owner_fields = who == "admin"
    assert all((row["backends"] is not None) == sees_owner_fields for row in ours)
    assert any(row["trusted_teams"] for row in ours)
    assert any(row["last_error"] for row in ours) == sees_owner_fields
