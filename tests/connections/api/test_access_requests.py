"""The access-request endpoints for each role: request, read, approve, reject, retry, revoke,
with the services' refusal codes, the links each role is offered, ETags and idempotency."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from connections.choices import Health, RequestState
from connections.models import AccessRequest, Event, IdempotencyRecord, Vpc
from connections.states import transition
from tests.connections.api.support import (
    api_test_settings,
    assert_problem,
    build_api_world,
    field_codes,
)
from tests.factories import AccessRequestFactory, VpcFactory, VSwitchFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/access-requests/"


def detail(pk) -> str:
    return f"/api/v1/access-requests/{pk}/"


@pytest.fixture(autouse=True)
def _settings(settings):
    api_test_settings(settings)


@pytest.fixture
def api():
    return build_api_world()


# --- request access ------------------------------------------------------------------------------


def test_consumer_requests_access_and_gets_201_with_location_and_timeline(api):
    response = api.client("consumer").post(LIST, api.request_body(), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    access_request = AccessRequest.objects.get()
    assert response["Location"] == f"http://testserver{detail(access_request.pk)}"
    assert body["state"] == "submitted"
    assert body["state_label"] == "Submitted"
    assert body["consumer_team"]["slug"] == "apps"  # the consumer's only team, implied
    assert body["requester"] == "consumer"
    assert body["vpc_id"] == "vpc-vpc1"
    assert body["account"] == {"name": "Account A", "uid": "1111111111111111"}
    assert body["security_group_ids"] == ["sg-vpc1"]
    assert [(z["zone_id"], z["vswitch_id"]) for z in body["zones"]] == [
        ("cn-hangzhou-g", "vsw-vpc1-g"),
        ("cn-hangzhou-k", "vsw-vpc1-k"),
    ]
    assert [e["verb"] for e in body["events"]] == ["requested"]
    assert body["events"][0]["actor"] == "consumer"
    assert body["last_error"] is None
    assert body["wait"] is None
    # The consumer may revoke its own request but not approve it.
    assert set(body["links"]) == {"self", "service", "events", "health_history", "revoke"}


def test_a_zone_the_service_does_not_offer_is_refused_with_the_services_code(api):
    response = api.client("consumer").post(LIST, api.request_body(zones="gh"), format="json")

    body = assert_problem(response, 400, "validation_failed")
    assert body["errors"] == [
        {
            "field": "zones",
            "code": "zone_not_offered",
            "message": "nginx-hangzhou is not offered in cn-hangzhou-h; "
            "it is offered in cn-hangzhou-g, cn-hangzhou-k.",
        }
    ]
    assert not AccessRequest.objects.exists()


def test_a_vswitch_of_another_vpc_is_refused(api):
    second_vpc = VpcFactory(account=api.vpcs["VPC1"].account, team=api.teams["apps"])
    elsewhere = VSwitchFactory(vpc=second_vpc, zone_id="cn-hangzhou-g")
    body = api.request_body()
    body["zones"][0]["vswitch_id"] = elsewhere.vswitch_id  # the team's, but not VPC1's

    response = api.client("consumer").post(LIST, body, format="json")

    problem = assert_problem(response, 400, "validation_failed")
    assert field_codes(problem) == {("zones", "vswitch_not_in_vpc")}


@pytest.mark.parametrize("vpc", ["VPC2", "VPC3"])
def test_another_teams_ids_are_as_unknown_as_ids_that_do_not_exist(api, vpc):
    # Platform's VPC2 (in the account Apps shares) and Partners' VPC3 (in another account) exist,
    # with their vSwitches and security groups: the answer must not tell the consumer so.
    body = api.request_body(vpc=vpc, zones="g")

    response = api.client("consumer").post(LIST, body, format="json")

    problem = assert_problem(response, 400, "validation_failed")
    assert field_codes(problem) == {
        ("vpc_id", "unknown_vpc"),
        ("security_group_ids[0]", "unknown_security_group"),
        ("zones[0].vswitch_id", "unknown_vswitch"),
    }
    assert not AccessRequest.objects.exists()


def test_a_second_live_request_from_the_same_vpc_is_a_duplicate(api):
    api.make_request()

    response = api.client("consumer").post(LIST, api.request_body(), format="json")

    problem = assert_problem(response, 400, "validation_failed")
    assert field_codes(problem) == {("vpc_id", "duplicate_request")}


def test_unknown_ids_are_400s_that_name_the_field_and_the_item(api):
    body = api.request_body(
        service=999999,
        vpc_id="vpc-nowhere",
        security_group_ids=["sg-vpc1", "sg-nowhere"],
        team="no-such-team",
    )
    body["zones"][1]["vswitch_id"] = "vsw-nowhere"

    response = api.client("consumer").post(LIST, body, format="json")

    problem = assert_problem(response, 400, "validation_failed")
    assert field_codes(problem) == {
        ("service", "unknown_service"),
        ("vpc_id", "unknown_vpc"),
        ("security_group_ids[1]", "unknown_security_group"),
        ("zones[1].vswitch_id", "unknown_vswitch"),
        ("team", "unknown_team"),
    }


def test_wrong_types_and_missing_fields_are_400s_with_drf_codes(api):
    response = api.client("consumer").post(
        LIST, {"service": "nginx", "zones": "g", "justification": 5}, format="json"
    )

    problem = assert_problem(response, 400, "validation_failed")
    assert {
        ("service", "invalid"),
        ("vpc_id", "required"),
        ("security_group_ids", "required"),
        ("zones", "not_a_list"),
    } <= field_codes(problem)


def test_empty_choices_get_the_services_codes_all_at_once(api):
    body = api.request_body(security_group_ids=[], zones="", justification="  ")

    problem = assert_problem(
        api.client("consumer").post(LIST, body, format="json"), 400, "validation_failed"
    )

    assert field_codes(problem) == {
        ("zones", "zone_required"),
        ("security_group_ids", "security_group_required"),
        ("justification", "justification_required"),
    }


def test_someone_in_several_teams_must_say_which(api):
    api.teams["partners"].memberships.create(user=api.users["consumer"])

    response = api.client("consumer").post(LIST, api.request_body(), format="json")
    problem = assert_problem(response, 400, "validation_failed")
    assert field_codes(problem) == {("team", "team_required")}

    response = api.client("consumer").post(LIST, api.request_body(team="apps"), format="json")
    assert response.status_code == 201


def test_requesting_for_a_team_you_are_not_in_is_403(api):
    response = api.client("partner").post(LIST, api.request_body(team="apps"), format="json")

    assert_problem(response, 403, "permission_denied")
    assert not AccessRequest.objects.exists()


def test_a_vpc_of_an_account_the_team_may_not_use_is_unknown_to_the_api(api):
    # The services' own `account_not_allowed` (tests/connections/test_actions.py) is for a
    # person in several teams; through the API, a VPC none of their teams may use is not theirs
    # to see at all.
    response = api.client("partner").post(
        LIST, api.request_body(vpc="VPC1", team="partners"), format="json"
    )

    problem = assert_problem(response, 400, "validation_failed")
    assert ("vpc_id", "unknown_vpc") in field_codes(problem)


def test_anonymous_gets_401_with_the_token_challenge(api):
    response = api.client(None).post(LIST, api.request_body(), format="json")

    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Token realm="api"'


# --- who sees what -------------------------------------------------------------------------------


def test_the_list_shows_each_role_its_teams_requests_and_those_to_its_services(api):
    apps_request = api.make_request("consumer", "VPC1")
    partners_request = api.make_request("partner", "VPC3")

    def ids(who):
        response = api.client(who).get(LIST)
        assert response.status_code == 200
        return {item["id"] for item in response.json()["results"]}

    assert ids("consumer") == {apps_request.pk}
    assert ids("partner") == {partners_request.pk}
    assert ids("provider") == {apps_request.pk, partners_request.pk}  # owns the service
    assert ids("admin") == {apps_request.pk, partners_request.pk}
    assert ids("loner") == set()
    assert_problem(api.client(None).get(LIST), 401, "not_authenticated")


def test_a_request_of_another_team_is_404_not_403(api):
    access_request = api.make_request("consumer")

    assert_problem(api.client("partner").get(detail(access_request.pk)), 404, "not_found")
    assert_problem(api.client("partner").delete(detail(access_request.pk)), 404, "not_found")
    assert api.client("provider").get(detail(access_request.pk)).status_code == 200


def test_filters_by_state_service_team_and_vpc(api):
    pending = api.make_request("consumer", state=RequestState.PENDING_APPROVAL)
    connected = api.make_request("partner", "VPC3", state=RequestState.CONNECTED)
    client = api.client("provider")

    def ids(query):
        response = client.get(f"{LIST}?{query}")
        assert response.status_code == 200, response.json()
        return [item["id"] for item in response.json()["results"]]

    assert ids("state=pending_approval") == [pending.pk]
    assert sorted(ids("state=pending_approval&state=connected")) == sorted(
        [pending.pk, connected.pk]
    )
    assert ids("consumer_team=partners") == [connected.pk]
    assert ids("vpc_id=vpc-vpc1") == [pending.pk]
    assert len(ids(f"service={api.service.pk}")) == 2
    assert ids("service=987654") == []


def test_bad_filter_values_are_400s_with_field_codes(api):
    response = api.client("provider").get(f"{LIST}?state=sideways&service=abc")

    problem = assert_problem(response, 400, "validation_failed")
    assert field_codes(problem) == {("state", "invalid_choice"), ("service", "invalid")}


def test_cursor_pagination_walks_every_request_once(api):
    for _ in range(5):
        AccessRequestFactory(service=api.service, consumer_team=api.teams["apps"])
    client = api.client("consumer")

    seen, url = [], f"{LIST}?page_size=2"
    while url:
        page = client.get(url).json()
        assert len(page["results"]) <= 2
        seen += [item["id"] for item in page["results"]]
        url = page["next"]

    assert len(seen) == 5 and len(set(seen)) == 5
    assert seen == sorted(seen, reverse=True)  # newest first


def test_a_tampered_cursor_is_a_400(api):
    response = api.client("consumer").get(f"{LIST}?cursor=not-a-cursor")

    problem = assert_problem(response, 400, "validation_failed")
    assert field_codes(problem) == {("cursor", "invalid_cursor")}


def test_list_queries_do_not_grow_with_the_rows(api, django_assert_max_num_queries):
    for vpc in ("VPC1", "VPC3"):
        api.make_request("consumer" if vpc == "VPC1" else "partner", vpc)
    for _ in range(8):
        AccessRequestFactory(service=api.service, consumer_team=api.teams["apps"])
    client = api.client("provider")
    client.get(LIST)  # the token's first use records it once

    with django_assert_max_num_queries(6):
        response = client.get(LIST)

    assert len(response.json()["results"]) == 10


# --- approve, reject, retry, revoke --------------------------------------------------------------


def test_the_owner_approves_a_pending_request(api):
    access_request = api.make_request(state=RequestState.PENDING_APPROVAL)
    url = reverse("api:accessrequest-approve", kwargs={"pk": access_request.pk})

    forbidden = api.client("consumer").post(url)
    assert_problem(forbidden, 403, "permission_denied")
    assert_problem(api.client("partner").post(url), 404, "not_found")
    assert_problem(api.client("platform_member").post(url), 403, "permission_denied")

    response = api.client("provider").post(url)

    assert response.status_code == 202
    assert response.json()["state"] == "connecting"
    assert response.json()["events"][-1]["verb"] == "approve"
    assert response.json()["events"][-1]["actor"] == "provider"
    # Approving again is a conflict, not a second approval.
    again = api.client("provider").post(url)
    assert_problem(again, 409, "invalid_transition")
    assert Event.objects.filter(access_request=access_request, verb="approve").count() == 1


def test_the_pending_requests_links_offer_approve_and_reject_to_its_owner_only(api):
    access_request = api.make_request(state=RequestState.PENDING_APPROVAL)

    owner_links = api.client("provider").get(detail(access_request.pk)).json()["links"]
    consumer_links = api.client("consumer").get(detail(access_request.pk)).json()["links"]

    assert owner_links["approve"].endswith(f"/api/v1/access-requests/{access_request.pk}/approve/")
    assert owner_links["reject"].endswith("/reject/")
    assert "approve" not in consumer_links and "reject" not in consumer_links
    assert consumer_links["revoke"] == consumer_links["self"]


def test_reject_needs_a_reason_and_records_it(api):
    access_request = api.make_request(state=RequestState.PENDING_APPROVAL)
    url = reverse("api:accessrequest-reject", kwargs={"pk": access_request.pk})
    client = api.client("provider")

    problem = assert_problem(client.post(url, {}, format="json"), 400, "validation_failed")
    assert field_codes(problem) == {("reason", "reason_required")}

    response = client.post(url, {"reason": "Use the public API."}, format="json")

    assert response.status_code == 202
    assert response.json()["state"] == "rejected"
    assert response.json()["decision_reason"] == "Use the public API."
    assert "revoke" not in response.json()["links"]


def test_either_side_revokes_with_202_and_a_closed_request_is_409(api):
    access_request = api.make_request(state=RequestState.CONNECTED)

    response = api.client("consumer").delete(detail(access_request.pk))

    assert response.status_code == 202
    assert response.json()["state"] == "revoking"
    assert_problem(
        api.client("provider").delete(detail(access_request.pk)), 409, "invalid_transition"
    )
    other = api.make_request("partner", "VPC3", state=RequestState.CONNECTED)
    assert api.client("provider").delete(detail(other.pk)).status_code == 202


def test_retry_resumes_a_failed_request_and_is_409_otherwise(api):
    failed = api.make_request(
        state=RequestState.FAILED,
        failed_phase="provision",
        last_error_code="Throttling",
        last_error_message="Request was denied due to flow control.",
    )
    url = reverse("api:accessrequest-retry", kwargs={"pk": failed.pk})
    before = api.client("consumer").get(detail(failed.pk)).json()
    assert before["last_error"] == {
        "code": "Throttling",
        "message": "Request was denied due to flow control.",
    }
    assert before["links"]["retry"].endswith(f"/{failed.pk}/retry/")

    response = api.client("consumer").post(url)

    assert response.status_code == 202
    assert response.json()["state"] == "provisioning"
    assert_problem(api.client("consumer").post(url), 409, "invalid_transition")
    assert_problem(api.client("partner").post(url), 404, "not_found")


# --- ETag and If-None-Match ----------------------------------------------------------------------


def test_etag_gives_304_until_state_health_or_timeline_change(api):
    access_request = api.make_request(state=RequestState.CONNECTING)
    client = api.client("consumer")
    url = detail(access_request.pk)

    def etag():
        response = client.get(url)
        assert response.status_code == 200
        return response["ETag"]

    first = etag()
    not_modified = client.get(url, HTTP_IF_NONE_MATCH=first)
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == first

    transition(access_request, RequestState.CONNECTED, verb="connected")
    second = etag()
    assert second != first
    assert client.get(url, HTTP_IF_NONE_MATCH=first).status_code == 200

    # Health is written by the probes without a transition: the tag still changes.
    AccessRequest.objects.filter(pk=access_request.pk).update(health=Health.DEGRADED)
    third = etag()
    assert third not in (first, second)

    Event.objects.create(access_request=access_request, verb="health probe", detail="slow")
    assert etag() != third


# --- Idempotency-Key -----------------------------------------------------------------------------


def test_the_same_key_and_body_replays_the_first_answer(api):
    client = api.client("consumer")
    body = api.request_body()

    first = client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="req-1")
    second = client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="req-1")

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Location"] == first["Location"]
    assert second["Idempotent-Replayed"] == "true"
    assert AccessRequest.objects.count() == 1


def test_the_same_key_with_another_body_is_422(api):
    client = api.client("consumer")
    client.post(LIST, api.request_body(), format="json", HTTP_IDEMPOTENCY_KEY="req-2")

    response = client.post(
        LIST,
        api.request_body(justification="Another reason"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="req-2",
    )

    assert_problem(response, 422, "idempotency_key_reused")
    assert AccessRequest.objects.count() == 1


def test_a_refusal_is_replayed_too_and_keys_are_per_user(api):
    access_request = api.make_request(state=RequestState.PENDING_APPROVAL)
    url = reverse("api:accessrequest-approve", kwargs={"pk": access_request.pk})

    refused = api.client("consumer").post(url, HTTP_IDEMPOTENCY_KEY="approve-1")
    assert_problem(refused, 403, "permission_denied")
    approved = api.client("provider").post(url, HTTP_IDEMPOTENCY_KEY="approve-1")
    assert approved.status_code == 202
    replayed = api.client("provider").post(url, HTTP_IDEMPOTENCY_KEY="approve-1")

    assert replayed.status_code == 202
    assert replayed.json()["state"] == "connecting"  # not a 409 from a second approval
    replayed_refusal = api.client("consumer").post(url, HTTP_IDEMPOTENCY_KEY="approve-1")
    assert_problem(replayed_refusal, 403, "permission_denied")
    assert IdempotencyRecord.objects.count() == 2


def test_a_malformed_key_is_400(api):
    response = api.client("consumer").post(
        LIST, api.request_body(), format="json", HTTP_IDEMPOTENCY_KEY="x" * 256
    )

    assert_problem(response, 400, "invalid_idempotency_key")
    assert not AccessRequest.objects.exists()


def test_a_key_whose_first_request_is_still_running_is_409(api):
    client = api.client("consumer")
    body = api.request_body()
    first = client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="req-3")
    # As the row is while the first request runs: claimed, no answer stored yet.
    IdempotencyRecord.objects.filter(key="req-3").update(response_status=None, response_body=None)

    response = client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="req-3")

    assert first.status_code == 201
    assert_problem(response, 409, "idempotency_key_in_progress")


def test_an_expired_key_is_a_new_request(api):
    client = api.client("consumer")
    body = api.request_body()
    first = client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="req-4")
    IdempotencyRecord.objects.filter(key="req-4").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    second = client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="req-4")

    assert first.status_code == 201
    # Run again, not replayed: this time the service finds the first request live.
    problem = assert_problem(second, 400, "validation_failed")
    assert field_codes(problem) == {("vpc_id", "duplicate_request")}
    record = IdempotencyRecord.objects.get(key="req-4")
    assert record.expires_at > timezone.now() + timedelta(hours=23)


def test_a_vpc_gone_from_the_cloud_is_refused_as_gone(api):
    Vpc.objects.filter(pk=api.vpcs["VPC1"].pk).update(present=False)

    response = api.client("consumer").post(LIST, api.request_body(), format="json")

    problem = assert_problem(response, 400, "validation_failed")
    assert ("vpc_id", "vpc_gone") in field_codes(problem)


@pytest.mark.parametrize("role", ["consumer", "provider", "admin", "partner"])
def test_the_hand_built_representation_is_the_declared_fields_output(api, role):
    from rest_framework import serializers
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from connections.api.serializers import AccessRequestDetailSerializer, AccessRequestSerializer
    from connections.api.views import AccessRequestViewSet

    # Every branch filled in: a connected one with its endpoint, zones with ENIs, health,
    # latency, expiry and an error; a pending one; a closed one whose requester is gone.
    now = timezone.now()
    closed = api.make_request(state=RequestState.REVOKED, closed_at=now, decision_reason="done")
    AccessRequest.objects.filter(pk=closed.pk).update(requester=None)
    connected = api.make_request(
        state=RequestState.CONNECTED, endpoint_id="ep-1", endpoint_domain="ep-1.example",
        health=Health.DEGRADED, health_reason="1 of 2 backends are unhealthy.",
        health_checked_at=now, probe_latency_ms=3, expires_at=now + timedelta(days=3),
        connected_at=now, last_error_code="Throttling", last_error_message="slow down",
    )  # fmt: skip
    connected.zones.update(status="Connected", eni_id="eni-1", eni_ip="10.0.23.1", zone_domain="z")
    api.make_request(vpc="VPC3", who="partner", state=RequestState.PENDING_APPROVAL)
    request = Request(APIRequestFactory().get(LIST))
    request.user = api.users[role]
    context = {"request": request, "wait": None}

    view = AccessRequestViewSet(action="list", request=request)
    rows = view.get_queryset().order_by("pk")
    assert rows, "the person sees some requests"
    for serializer_class in (AccessRequestSerializer, AccessRequestDetailSerializer):
        for access_request in rows:
            serializer = serializer_class(access_request, context=context)
            expected = serializers.ModelSerializer.to_representation(serializer, access_request)
            assert serializer.data == expected
    page = AccessRequestSerializer(rows, many=True, context=context).data
    assert [item["id"] for item in page] == [r.pk for r in rows]
    assert any(item["probe_latency_ms"] == 3.0 for item in page) == (connected in rows)
