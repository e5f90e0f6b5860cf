"""The catalog and the service verbs over the API, for each role: list and filters, detail with
its ETag, publish (owners), retire (202, 409 with live requests, force) and retry."""

import pytest

from connections.choices import RequestState, ServiceState
from connections.models import PublishedService
from tests.connections.api.support import (
    api_test_settings,
    assert_problem,
    build_api_world,
    field_codes,
)
from tests.factories import InstanceFactory, PublishedServiceFactory, VpcFactory, VSwitchFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/services/"
ROLES = ["provider", "platform_member", "consumer", "partner", "admin", "loner"]


def detail(pk) -> str:
    return f"/api/v1/services/{pk}/"


@pytest.fixture(autouse=True)
def _settings(settings):
    api_test_settings(settings)


@pytest.fixture
def api():
    return build_api_world()


# --- the catalog ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ROLES)
def test_every_signed_in_user_sees_the_catalog(api, who):
    response = api.client(who).get(LIST)

    assert response.status_code == 200
    [service] = response.json()["results"]
    assert service["name"] == "nginx-hangzhou"
    assert service["state"] == "available"
    assert service["owner_team"] == {
        "id": api.teams["platform"].pk,
        "slug": "platform",
        "name": "Platform",
    }
    assert [zone["zone_id"] for zone in service["zones"]] == ["cn-hangzhou-g", "cn-hangzhou-k"]
    assert service["listener"] == {"protocol": "TCP", "port": 80}
    if who == "loner":  # in no team: nobody to request for
        assert "request_access" not in service["links"]
    else:
        assert service["links"]["request_access"].endswith("/api/v1/access-requests/")


def test_anonymous_gets_401(api):
    assert_problem(api.client(None).get(LIST), 401, "not_authenticated")
    assert_problem(api.client(None).get(detail(api.service.pk)), 401, "not_authenticated")


def test_backends_events_and_retire_are_shown_to_the_owners_only(api):
    api.service.backends.create(instance=api.vpcs["VPC2"].instances.get(name="ECS03"), port=80)

    owner = api.client("provider").get(detail(api.service.pk)).json()
    consumer = api.client("consumer").get(detail(api.service.pk)).json()

    assert owner["backends"] == [
        {
            "instance_id": "i-ecs03",
            "name": "ECS03",
            "private_ip": owner["backends"][0]["private_ip"],
            "port": 80,
            "weight": 100,
            "healthy": None,  # not checked by a sweep yet
            "health_reason": "",
        }
    ]
    assert owner["events"] == []
    assert owner["links"]["retire"] == owner["links"]["self"]
    assert consumer["backends"] is None
    assert consumer["events"] is None
    assert "retire" not in consumer["links"]


def test_a_failed_services_error_is_shown_to_its_owners_only(api):
    # The cloud's messages name the owner's account and resources.
    PublishedService.objects.filter(pk=api.service.pk).update(
        state=ServiceState.FAILED,
        failed_phase="publish",
        last_error_code="Forbidden.RAM",
        last_error_message="Account 1234567890 may not CreateLoadBalancer in vsw-vpc2-g.",
    )

    owner = api.client("provider").get(detail(api.service.pk)).json()
    consumer = api.client("consumer").get(detail(api.service.pk)).json()
    in_the_catalog = api.client("consumer").get(LIST).json()["results"][0]

    assert owner["last_error"]["code"] == "Forbidden.RAM"
    assert consumer["last_error"] is None
    assert in_the_catalog["last_error"] is None
    assert "1234567890" not in str(consumer) + str(in_the_catalog)


def test_filters_by_state_owner_team_and_words(api):
    PublishedServiceFactory(
        owner_team=api.teams["apps"],
        name="orders-api",
        description="Orders of the storefront",
        state=ServiceState.PROVISIONING,
    )
    client = api.client("consumer")

    def names(query):
        response = client.get(f"{LIST}?{query}")
        assert response.status_code == 200, response.json()
        return [item["name"] for item in response.json()["results"]]

    assert names("") == ["nginx-hangzhou", "orders-api"]
    assert names("state=provisioning") == ["orders-api"]
    assert names("owner_team=platform") == ["nginx-hangzhou"]
    assert names("q=storefront") == ["orders-api"]
    assert names("q=NGINX") == ["nginx-hangzhou"]
    assert names("ordering=-name") == ["orders-api", "nginx-hangzhou"]


def test_an_unknown_owner_team_or_state_is_a_400(api):
    response = api.client("consumer").get(f"{LIST}?owner_team=nobody&state=gone")

    problem = assert_problem(response, 400, "validation_failed")
    assert field_codes(problem) == {("owner_team", "invalid_choice"), ("state", "invalid_choice")}


def test_a_repeated_single_valued_parameter_is_a_400(api):
    response = api.client("consumer").get(f"{LIST}?q=nginx&q=orders&state=available&state=failed")

    problem = assert_problem(response, 400, "validation_failed")
    assert field_codes(problem) == {("q", "repeated_parameter")}


def test_an_unknown_service_is_404(api):
    assert_problem(api.client("consumer").get(detail(987654)), 404, "not_found")
    assert_problem(api.client("consumer").get(detail(2**70)), 404, "not_found")


def test_detail_etag_gives_304_until_the_service_changes(api):
    client = api.client("consumer")
    first = client.get(detail(api.service.pk))

    assert client.get(detail(api.service.pk), HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    PublishedService.objects.filter(pk=api.service.pk).update(state=ServiceState.RETIRING)
    changed = client.get(detail(api.service.pk), HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]


# The token with its person's memberships, then the page with its zones and trusted teams in
# its rows; the backends of the rows one owns are one more query, or inside the rows for a
# platform admin.
@pytest.mark.parametrize(("role", "queries", "backends"), [
    ("provider", 3, 1), ("consumer", 2, None), ("admin", 2, 1),
])  # fmt: skip
def test_list_queries_do_not_grow_with_the_services(
    api, django_assert_num_queries, role, queries, backends
):
    for _ in range(8):
        service = PublishedServiceFactory(owner_team=api.teams["platform"])
        service.trusted_teams.add(api.teams["apps"])
        service.backends.create(instance=InstanceFactory(vpc=service.vpc), port=80)
    client = api.client(role)
    client.get(LIST)  # the token's first use records it once

    with django_assert_num_queries(queries):
        response = client.get(LIST)

    results = response.json()["results"]
    assert len(results) == 9
    assert all(len(item["zones"]) == 2 for item in results)
    assert all(item["trusted_teams"][0]["slug"] == "apps" for item in results[1:])
    assert all(
        (item["backends"] if backends is None else len(item["backends"])) == backends
        for item in results[1:]
    )


# --- publish -------------------------------------------------------------------------------------


def publish_body(api, **overrides) -> dict:
    body = {
        "name": "orders-api",
        "vpc_id": "vpc-vpc2",
        "zones": [
            {"zone_id": f"cn-hangzhou-{z}", "vswitch_id": api.vswitch_id("VPC2", z)} for z in "gk"
        ],
        "backends": [
            {"instance_id": "i-ecs03", "port": 8080},
            {"instance_id": "i-ecs04", "port": 8080, "weight": 50},
        ],
        "listener": {"protocol": "TCP", "port": 80},
        "trusted_teams": ["apps"],
        "connection_limit": 10,
    }
    body.update(overrides)
    return body


def test_an_owner_publishes_and_gets_201_provisioning(api):
    response = api.client("provider").post(LIST, publish_body(api), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "provisioning"
    assert body["owner_team"]["slug"] == "platform"
    assert body["trusted_teams"] == [{"id": api.teams["apps"].pk, "slug": "apps", "name": "Apps"}]
    assert body["connection_limit"] == 10
    assert [(b["instance_id"], b["port"], b["weight"]) for b in body["backends"]] == [
        ("i-ecs03", 8080, 100),
        ("i-ecs04", 8080, 50),
    ]
    assert [e["verb"] for e in body["events"]] == ["publish requested"]
    assert response["Location"].endswith(detail(body["id"]))


@pytest.mark.parametrize("who", ["consumer", "platform_member", "partner", "loner"])
def test_only_owners_publish(api, who):
    response = api.client(who).post(LIST, publish_body(api), format="json")

    assert_problem(response, 403, "permission_denied")
    assert PublishedService.objects.count() == 1


def test_publish_refusals_carry_the_services_codes_under_the_api_field_names(api):
    # A vSwitch of Platform's, but of another VPC than the service's VPC2.
    other_vpc = VpcFactory(account=api.vpcs["VPC2"].account, team=api.teams["platform"])
    elsewhere = VSwitchFactory(vpc=other_vpc, zone_id="cn-hangzhou-k")
    body = publish_body(
        api,
        name="nginx-hangzhou",
        zones=[{"zone_id": "cn-hangzhou-k", "vswitch_id": elsewhere.vswitch_id}],
        listener={"protocol": "TCP", "port": 70000},
    )

    response = api.client("provider").post(LIST, body, format="json")

    problem = assert_problem(response, 400, "validation_failed")
    assert field_codes(problem) == {
        ("name", "duplicate_name"),
        ("zones", "too_few_zones"),
        ("zones", "vswitch_not_in_vpc"),
        ("listener.port", "invalid_port"),
    }


def test_publish_with_unknown_ids_names_each(api):
    body = publish_body(
        api,
        vpc_id="vpc-nowhere",
        backends=[{"instance_id": "i-nowhere", "port": 80}],
        trusted_teams=["apps", "ghosts"],
    )

    problem = assert_problem(
        api.client("provider").post(LIST, body, format="json"), 400, "validation_failed"
    )

    assert field_codes(problem) == {
        ("vpc_id", "unknown_vpc"),
        ("backends[0].instance_id", "unknown_instance"),
        ("trusted_teams[1]", "unknown_team"),
    }


# --- retire and retry ----------------------------------------------------------------------------


def test_retire_is_409_while_requests_are_live_and_202_with_force(api):
    access_request = api.make_request(state=RequestState.CONNECTED)
    client = api.client("provider")

    refused = client.delete(detail(api.service.pk))
    problem = assert_problem(refused, 409, "service_has_live_requests")
    assert field_codes(problem) == {(None, "service_has_live_requests")}

    response = client.delete(f"{detail(api.service.pk)}?force=true")

    assert response.status_code == 202
    assert response.json()["state"] == "retiring"
    access_request.refresh_from_db()
    assert access_request.state == RequestState.REVOKING


def test_only_the_owners_retire(api):
    for who in ("consumer", "platform_member", "partner"):
        assert_problem(api.client(who).delete(detail(api.service.pk)), 403, "permission_denied")

    assert api.client("admin").delete(detail(api.service.pk)).status_code == 202
    assert_problem(api.client("admin").delete(detail(api.service.pk)), 409, "invalid_transition")


def test_a_bad_force_flag_is_400(api):
    response = api.client("provider").delete(f"{detail(api.service.pk)}?force=perhaps")

    problem = assert_problem(response, 400, "validation_failed")
    assert field_codes(problem) == {("force", "invalid")}


def test_retry_resumes_a_failed_publish_and_is_409_for_an_available_service(api):
    url = f"{detail(api.service.pk)}retry/"
    assert_problem(api.client("provider").post(url), 409, "invalid_transition")
    PublishedService.objects.filter(pk=api.service.pk).update(
        state=ServiceState.FAILED, failed_phase="publish", last_error_code="QuotaExceeded"
    )
    assert_problem(api.client("consumer").post(url), 403, "permission_denied")

    response = api.client("provider").post(url)

    assert response.status_code == 202
    assert response.json()["state"] == "provisioning"
    assert response.json()["events"][-1]["verb"] == "retry"


@pytest.mark.parametrize("role", ROLES)
def test_the_hand_built_representation_is_the_declared_fields_output(api, role):
    from django.utils import timezone
    from rest_framework import serializers
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from connections.api.serializers import ServiceDetailSerializer, ServiceSerializer
    from connections.api.views import ServiceViewSet

    # Every branch filled in: backends with health, trusted teams, an error, health checked.
    api.service.backends.create(
        instance=api.vpcs["VPC2"].instances.get(name="ECS03"), port=80, healthy=False,
        health_reason="CONNECT_FAILED",
    )  # fmt: skip
    # Two, so the order of a row's JSON list is checked against the prefetched one.
    api.service.trusted_teams.add(api.teams["partners"], api.teams["apps"])
    PublishedService.objects.filter(pk=api.service.pk).update(
        last_error_code="Throttling", last_error_message="slow down",
        health="degraded", health_reason="1 of 2 backends are unhealthy.",
        health_checked_at=timezone.now(), connection_limit=5,
    )  # fmt: skip
    PublishedServiceFactory(owner_team=api.teams["partners"], vpc=api.vpcs["VPC3"])
    request = Request(APIRequestFactory().get(LIST))
    request.user = api.users[role]

    context = {"request": request}
    services = PublishedService.objects.with_owner_details(request.user).order_by("pk")
    generic = {}
    for service in services:
        for serializer_class in (ServiceSerializer, ServiceDetailSerializer):
            serializer = serializer_class(service, context=context)
            expected = serializers.ModelSerializer.to_representation(serializer, service)
            assert serializer.data == expected
            generic[serializer_class, service.pk] = expected
    assert len(generic) == 4
    # A page, as the list builds it: the view's rows (relations inside them, as JSON lists;
    # the backends queried for the rows one owns, or inside every row for a platform admin).
    view = ServiceViewSet(action="list", request=request)
    page = ServiceSerializer(view.get_queryset().order_by("pk"), many=True, context=context)
    assert page.data == [generic[ServiceSerializer, service.pk] for service in services]
