"""The publish wizard (pages/publish.py): each step checked, a review that lost its first step, a
name taken meanwhile."""

from __future__ import annotations

import re

import pytest

from connections.choices import ServiceState
from connections.models import PublishedService
from tests.connections.pages.support import signed_in_as
from tests.factories import PublishedServiceFactory

pytestmark = pytest.mark.django_db


def test_the_wizard_checks_each_step_then_publishes(world):
    client = signed_in_as(world, "provider")
    url = "/services/publish/"
    vpc2 = world.vpcs["VPC2"]

    def step(name: str, data: dict):
        payload = {"publish_wizard-current_step": name}
        payload.update({f"{name}-{key}": value for key, value in data.items()})
        return client.post(url, payload)

    assert client.get(url).status_code == 200
    taken = step("basics", {"team": world.teams["platform"].pk, "name": "nginx-hangzhou",
                            "vpc": vpc2.pk})  # fmt: skip
    assert "A service named nginx-hangzhou already exists." in taken.content.decode()
    step("basics", {"team": world.teams["platform"].pk, "name": "orders-api", "vpc": vpc2.pk})
    one_zone = step("zones", {"zone_cn-hangzhou-g": vpc2.vswitches.get(zone_id="cn-hangzhou-g").pk})
    assert "Choose at least 2 zones" in one_zone.content.decode()
    step("zones", {f"zone_{z}": vpc2.vswitches.get(zone_id=z).pk
                   for z in ("cn-hangzhou-g", "cn-hangzhou-k")})  # fmt: skip
    ecs03 = vpc2.instances.get(name="ECS03").instance_id
    step("backends", {f"use_{ecs03}": "on", f"port_{ecs03}": 80, f"weight_{ecs03}": 100})
    review = step("listener", {"protocol": "TCP", "port": 80, "connection_limit": ""})
    assert "orders-api" in review.content.decode() and "Publish" in review.content.decode()

    done = step("review", {})

    service = PublishedService.objects.get(name="orders-api")
    assert done.status_code == 302 and done["Location"] == f"/services/{service.pk}/"
    assert service.state == ServiceState.PROVISIONING
    assert [b.instance.instance_id for b in service.backends.all()] == [ecs03]


def test_the_wizards_review_without_its_first_step_starts_over_instead_of_failing(world):
    response = signed_in_as(world, "provider").post(
        "/services/publish/", {"publish_wizard-current_step": "review"}
    )

    assert response.status_code == 200
    assert re.search(
        r'class="current" aria-current="step">1\. Service and VPC', (response.content.decode())
    )


def test_a_name_taken_meanwhile_is_caught_at_the_review(world):
    client = signed_in_as(world, "provider")
    vpc2 = world.vpcs["VPC2"]

    def step(name: str, data: dict):
        payload = {"publish_wizard-current_step": name}
        payload.update({f"{name}-{key}": value for key, value in data.items()})
        return client.post("/services/publish/", payload)

    client.get("/services/publish/")
    step("basics", {"team": world.teams["platform"].pk, "name": "orders-api", "vpc": vpc2.pk})
    step("zones", {f"zone_{z}": vpc2.vswitches.get(zone_id=z).pk
                   for z in ("cn-hangzhou-g", "cn-hangzhou-k")})  # fmt: skip
    ecs03 = vpc2.instances.get(name="ECS03").instance_id
    step("backends", {f"use_{ecs03}": "on", f"port_{ecs03}": 80, f"weight_{ecs03}": 100})
    PublishedServiceFactory(name="orders-api", owner_team=world.teams["apps"])  # someone else

    review = step("listener", {"protocol": "TCP", "port": 80, "connection_limit": ""})
    published = step("review", {})

    assert review.status_code == published.status_code == 200
    assert "The first step&#x27;s answers no longer hold: go back to step 1." in (
        published.content.decode()
    )
    assert PublishedService.objects.filter(name="orders-api").count() == 1


def _walk(world, client):
    """The wizard's first steps, answered as an owner would; returns the step poster."""
    vpc2 = world.vpcs["VPC2"]

    def step(name: str, data: dict):
        payload = {"publish_wizard-current_step": name}
        payload.update({f"{name}-{key}": value for key, value in data.items()})
        return client.post("/services/publish/", payload)

    client.get("/services/publish/?new")
    step("basics", {"team": world.teams["platform"].pk, "name": "orders-api", "vpc": vpc2.pk,
                    "description": "Orders, for the shop."})  # fmt: skip
    step("zones", {f"zone_{z}": vpc2.vswitches.get(zone_id=z).pk
                   for z in ("cn-hangzhou-g", "cn-hangzhou-k")})  # fmt: skip
    return step


def test_a_name_the_cloud_refuses_is_told_in_the_words_of_its_help_not_as_a_slug(world):
    client = signed_in_as(world, "provider")
    page = client.post(
        "/services/publish/",
        {"publish_wizard-current_step": "basics", "basics-team": world.teams["platform"].pk,
         "basics-name": "Orders_API", "basics-vpc": world.vpcs["VPC2"].pk},
    ).content.decode()  # fmt: skip
    assert "Use 1–63 lower-case letters, digits and hyphens" in page
    assert "slug" not in page.lower()


def test_a_ticked_backend_with_a_wrong_port_says_so_and_not_add_a_backend(world):
    step = _walk(world, signed_in_as(world, "provider"))
    ecs03 = world.vpcs["VPC2"].instances.get(name="ECS03").instance_id

    page = step("backends", {f"use_{ecs03}": "on", f"port_{ecs03}": 70000,
                             f"weight_{ecs03}": 100}).content.decode()  # fmt: skip

    assert "Ensure this value is less than or equal to 65535." in page
    assert "Add at least one backend" not in page


def test_the_listener_step_offers_other_teams_as_trusted_under_their_own_legend(world):
    step = _walk(world, signed_in_as(world, "provider"))
    ecs03 = world.vpcs["VPC2"].instances.get(name="ECS03").instance_id
    page = step("backends", {f"use_{ecs03}": "on", f"port_{ecs03}": 80, f"weight_{ecs03}": 100})
    page = page.content.decode()

    trusted = page.split("<legend>Trusted teams</legend>")[1].split("</fieldset>")[0]
    assert "Partners" in trusted and "Apps" in trusted
    assert "Platform" not in trusted  # the owning team decides its own requests
    assert "Trusted teams</label>" not in page


def test_leaving_the_wizard_and_coming_back_finds_the_draft_and_the_review_edits(world):
    client = signed_in_as(world, "provider")
    step = _walk(world, client)
    ecs03 = world.vpcs["VPC2"].instances.get(name="ECS03").instance_id
    step("backends", {f"use_{ecs03}": "on", f"port_{ecs03}": 80, f"weight_{ecs03}": 100})

    back = client.get("/services/publish/").content.decode()
    assert 'id="draft-notice"' in back
    assert re.search(r'class="current" aria-current="step">4\. Listener and access', back)

    review = step("listener", {"protocol": "TCP", "port": 80, "connection_limit": ""})
    review = review.content.decode()
    assert "Orders, for the shop." in review
    assert review.count('name="wizard_goto_step"') >= 5  # an Edit per part, and Back
    zones = client.post(
        "/services/publish/",
        {"publish_wizard-current_step": "review", "wizard_goto_step": "zones"},
    ).content.decode()
    assert re.search(r'class="current" aria-current="step">2\. Zones', zones)

    fresh = client.get("/services/publish/?new").content.decode()
    assert 'id="draft-notice"' not in fresh
    assert re.search(r'class="current" aria-current="step">1\. Service and VPC', fresh)
