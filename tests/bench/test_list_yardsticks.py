"""bench/api_lists.py measures the catalog and the access requests against bare views of the
same rows: each must answer what the API answers, field for field and link for link, or its
ratio would measure a difference in content rather than the API's machinery (authentication,
policies, serializer, pagination)."""

import pytest
from django.utils import timezone

from bench.fill import populate, set_up_people
from connections.api.tokens import issue_token
from connections.choices import RequestState, Role, ServiceState
from connections.models import AccessRequest, Membership, PublishedService, Team
from tests.connections.api.support import api_test_settings

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


@pytest.mark.parametrize("who", ["admin", "member"])
def test_the_bare_view_of_the_same_requests_answers_what_the_api_answers(client, who):
    admin = set_up_people()
    member = type(admin).objects.create_user("member")
    Membership.objects.create(team=Team.objects.get(slug="apps"), user=member, role=Role.MEMBER)
    populate(services=30, requests=300)  # more than a page of 50, for the member too
    # What makes rows differ: a failed one of Apps' that a retry resumes (made the newest, on
    # both people's first page), with its last error and requester; closed ones, one awaiting
    # a decision; the member's own and others'.
    newest = AccessRequest.objects.order_by("-created_at")
    failed = newest.filter(consumer_team__slug="apps").first()
    AccessRequest.objects.filter(pk=failed.pk).update(
        created_at=timezone.now(),
        state=RequestState.FAILED,
        failed_phase="provision",
        last_error_code="Throttling",
        last_error_message="Slow down.",
        requester=member,
        probe_latency_ms=3.5,
    )
    AccessRequest.objects.filter(pk=newest[1].pk).update(
        state=RequestState.PENDING_APPROVAL, expires_at=timezone.now()
    )
    key = issue_token(admin if who == "admin" else member)[1]

    ours = client.get("/api/v1/access-requests/", HTTP_AUTHORIZATION=f"Token {key}").json()
    bare = client.get(f"/bench/bare/access-request-rows/?as={who}").json()

    assert len(ours["results"]) == 50
    assert bare["results"] == ours["results"]
    assert (bare["next"] is None, bare["previous"]) == (ours["next"] is None, ours["previous"])
    rows = ours["results"]
    assert all(row["zones"] and row["security_group_ids"] for row in rows)
    assert any("retry" in row["links"] for row in rows)
    assert any("approve" in row["links"] for row in rows) == (who == "admin")
    assert any(row["last_error"] for row in rows)
    if who == "member":
        teams = {row["consumer_team"]["slug"] for row in rows}
        owners = {
            PublishedService.objects.get(pk=row["service"]["id"]).owner_team.slug
            for row in rows
            if row["consumer_team"]["slug"] != "apps"
        }
        assert "apps" in teams and owners <= {"apps"}
        assert any("revoke" in row["links"] for row in rows)
