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
