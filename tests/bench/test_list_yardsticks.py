"""bench/api_lists.py measures the catalog against a bare view of the same rows: that view must
answer what the API answers, field for field and link for link, or its ratio would measure a
difference in content rather than the API's machinery (authentication, policies, serializer,
pagination)."""

import pytest

from bench.fill import populate, set_up_people
from connections.api.tokens import issue_token
from connections.choices import Role, ServiceState
from connections.models import Membership, PublishedService, Team
from tests.api.support import api_test_settings

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings):
    api_test_settings(settings)
    settings.ROOT_URLCONF = "bench.lists_site_urls"


@pytest.mark.parametrize("who", ["admin", "member"])
def test_the_bare_view_of_the_same_rows_answers_what_the_api_answers(client, who):
    admin = set_up_people()
    member = type(admin).objects.create_user("member")
    Membership.objects.create(team=Team.objects.get(slug="apps"), user=member, role=Role.MEMBER)
    populate(services=60, requests=0)  # more than a page of 50
    PublishedService.objects.filter(name="service-000003").update(
        state=ServiceState.FAILED,
        failed_phase="publish",
        last_error_code="Throttling",
        last_error_message="Slow down.",
    )
    PublishedService.objects.filter(name="service-000004").update(state=ServiceState.RETIRED)
    key = issue_token(admin if who == "admin" else member)[1]

    ours = client.get("/api/v1/services/", HTTP_AUTHORIZATION=f"Token {key}").json()
    bare = client.get(f"/bench/bare/service-rows/?as={who}").json()

    assert len(ours["results"]) == 50
    assert bare["results"] == ours["results"]
    assert (bare["next"] is None, bare["previous"]) == (ours["next"] is None, ours["previous"])
    # What makes the two answers differ by person and by state is there to compare.
    rows = ours["results"]
    sees_owner_fields = who == "admin"
    assert all((row["backends"] is not None) == sees_owner_fields for row in rows)
    assert any(row["trusted_teams"] for row in rows)
    assert any(row["last_error"] for row in rows) == sees_owner_fields
    assert any("retry" in row["links"] for row in rows) == sees_owner_fields
    assert not all("request_access" in row["links"] for row in rows)
