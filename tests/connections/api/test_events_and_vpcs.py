"""The audit trail and the VPC inventory over the API: scoped per role, filtered, constant queries,
and never a credential in sight."""

import pytest

from connections.choices import RequestState
from connections.models import Event
from tests.connections.api.support import (
    api_test_settings,
    assert_problem,
    build_api_world,
    field_codes,
)
from tests.factories import SecurityGroupFactory, VpcFactory, VSwitchFactory

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/events/"
VPCS = "/api/v1/vpcs/"


@pytest.fixture(autouse=True)
def _settings(settings):
    api_test_settings(settings)


@pytest.fixture
def api():
    return build_api_world()


# --- events --------------------------------------------------------------------------------------


def test_events_are_scoped_like_the_objects(api):
    apps_request = api.make_request("consumer")
    partners_request = api.make_request("partner", "VPC3")
    Event.objects.create(service=api.service, verb="published")

    def seen(who):
        response = api.client(who).get(EVENTS)
        assert response.status_code == 200
        return {(e["verb"], e["service"], e["access_request"]) for e in response.json()["results"]}

    assert seen("consumer") == {("requested", None, apps_request.pk)}
    assert seen("partner") == {("requested", None, partners_request.pk)}
    assert seen("provider") == {
        ("requested", None, apps_request.pk),
        ("requested", None, partners_request.pk),
        ("published", api.service.pk, None),
    }
    assert seen("admin") == seen("provider")
    assert seen("loner") == set()
    assert_problem(api.client(None).get(EVENTS), 401, "not_authenticated")


def test_events_filter_by_service_request_and_verb(api):
    first = api.make_request("consumer")
    second = api.make_request("partner", "VPC3", state=RequestState.PENDING_APPROVAL)
    Event.objects.create(access_request=second, verb="approve", actor=api.users["provider"])
    Event.objects.create(service=api.service, verb="published")
    client = api.client("provider")

    def verbs(query):
        response = client.get(f"{EVENTS}?{query}")
        assert response.status_code == 200, response.json()
        return [
            (e["verb"], e["access_request"] or e["service"]) for e in response.json()["results"]
        ]

    assert verbs(f"access_request={first.pk}") == [("requested", first.pk)]
    assert verbs("verb=approve") == [("approve", second.pk)]
    assert verbs(f"service={api.service.pk}") == [("published", api.service.pk)]
    # Newest first, the actor by name.
    newest = client.get(EVENTS).json()["results"][0]
    assert (newest["verb"], newest["actor"]) == ("published", None)


def test_a_bad_event_filter_is_a_400(api):
    response = api.client("provider").get(f"{EVENTS}?access_request=1.5")

    problem = assert_problem(response, 400, "validation_failed")
    assert field_codes(problem) == {("access_request", "invalid")}


def test_event_list_queries_do_not_grow(api, django_assert_max_num_queries):
    access_request = api.make_request("consumer")
    for index in range(10):
        Event.objects.create(
            access_request=access_request, verb=f"step {index}", actor=api.users["consumer"]
        )
    client = api.client("consumer")
    client.get(EVENTS)

    with django_assert_max_num_queries(4):
        response = client.get(EVENTS)

    assert len(response.json()["results"]) == 11


# --- VPCs ----------------------------------------------------------------------------------------


def vpcs_of(api, who) -> dict[str, dict]:
    response = api.client(who).get(VPCS)
    assert response.status_code == 200
    return {vpc["name"]: vpc for vpc in response.json()["results"]}


def test_each_team_sees_only_its_own_vpcs_even_in_a_shared_account(api):
    VpcFactory(account=api.vpcs["VPC1"].account, name="VPC9")  # nobody's yet

    assert set(vpcs_of(api, "consumer")) == {"VPC1"}
    assert set(vpcs_of(api, "provider")) == {"VPC2"}
    assert set(vpcs_of(api, "platform_member")) == {"VPC2"}
    assert set(vpcs_of(api, "partner")) == {"VPC3"}
    admins = vpcs_of(api, "admin")
    assert set(admins) == {"VPC1", "VPC2", "VPC3", "VPC9"}
    assert admins["VPC9"]["team"] is None  # listed as unassigned, for admins only
    assert vpcs_of(api, "loner") == {}
    assert_problem(api.client(None).get(VPCS), 401, "not_authenticated")


def test_a_vpc_shows_its_account_without_credentials_and_what_a_request_chooses_from(api):
    vpc1 = vpcs_of(api, "consumer")["VPC1"]

    assert vpc1["vpc_id"] == "vpc-vpc1"
    assert vpc1["cidr"] == "10.0.0.0/8"
    assert vpc1["account"] == {"name": "Account A", "uid": "1111111111111111"}
    assert vpc1["team"] == {"id": api.teams["apps"].pk, "slug": "apps", "name": "Apps"}
    assert [(v["vswitch_id"], v["zone_id"]) for v in vpc1["vswitches"]] == [
        ("vsw-vpc1-g", "cn-hangzhou-g"),
        ("vsw-vpc1-h", "cn-hangzhou-h"),
        ("vsw-vpc1-k", "cn-hangzhou-k"),
    ]
    assert vpc1["security_groups"] == [{"security_group_id": "sg-vpc1", "name": "default"}]
    vpc2 = vpcs_of(api, "provider")["VPC2"]
    assert [i["name"] for i in vpc2["instances"]] == ["ECS03", "ECS04"]
    text = str(vpcs_of(api, "admin"))
    assert "key-" not in text and "secret" not in text


def test_vswitches_that_are_gone_are_not_offered(api):
    VSwitchFactory(
        vpc=api.vpcs["VPC1"], zone_id="cn-hangzhou-g", vswitch_id="vsw-gone", present=False
    )

    vpc1 = vpcs_of(api, "consumer")["VPC1"]

    assert "vsw-gone" not in {v["vswitch_id"] for v in vpc1["vswitches"]}


def test_vpcs_filter_by_name(api):
    response = api.client("consumer").get(f"{VPCS}?name=VPC1")

    assert [vpc["vpc_id"] for vpc in response.json()["results"]] == ["vpc-vpc1"]


def test_vpc_list_queries_do_not_grow(api, django_assert_max_num_queries):
    account = api.vpcs["VPC1"].account
    for _ in range(8):
        vpc = VpcFactory(account=account, team=api.teams["apps"])
        VSwitchFactory(vpc=vpc)
        SecurityGroupFactory(vpc=vpc)
    client = api.client("consumer")
    client.get(VPCS)

    with django_assert_max_num_queries(8):
        response = client.get(VPCS)

    assert len(response.json()["results"]) == 9  # VPC1 and the eight: Apps' own
