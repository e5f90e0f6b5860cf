"""The pages in Simplified Chinese: the catalog of translations is complete, and every page a
person can reach reads in Chinese, with nothing of the portal's own English left on it (data
people or the cloud wrote is marked translate="no" and stays as written). The same pages asked
for in English still read in English.

A failure lists each page and the English words found on it: mark the string for translation
(templates: {% translate %}; Python: gettext), run makemessages, translate it in
locale/zh_Hans/LC_MESSAGES/django.po, and the build compiles it (README.md, "Language").
"""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone, translation
from django.views.defaults import permission_denied, server_error

from connections.choices import Health, RequestState, ServiceState
from connections.models import ConnectionTest, Event, Finding, Profile, RequestZone
from connections.states import (
    CLEANUP_WORKFLOW,
    CONFIGURE_WORKFLOW,
    REQUEST_WORKFLOWS,
    SERVICE_WORKFLOWS,
)
from connections.timeline import VERB_LABELS
from tests.connections.pages.support import form_data, pending, signed_in_as
from tests.factories import PublishedServiceFactory

pytestmark = pytest.mark.django_db

CATALOG = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
COMPILED = CATALOG.with_suffix(".mo")

# Words that stay as they are in Alibaba Cloud's Chinese console and documentation: product,
# protocol and resource names nobody translates. Keep it short; anything else is a miss.
KEPT_AS_IS = {
    "VPC",  # 专有网络 VPC: the console writes the name beside it, and people say VPC
    "NLB",  # 网络型负载均衡 NLB
    "ECS",  # 云服务器 ECS
    "PrivateLink",  # 私网连接 PrivateLink: the product's (and the portal's) name
    "TCP",
    "UDP",
    "HTTP",
    "HTTPS",
    "API",
    "UTC",  # the offset beside every time: UTC+8
    "DNS",
    "curl",  # the command to copy
    "vSwitch",  # 交换机 (vSwitch): the console's own spelling beside it
    "ENI",  # 弹性网卡 ENI
    "RAM",  # 访问控制 RAM
    "STS",
    "English",  # a language chooser names each language in itself (简体中文 on English pages)
}

# Attributes a person reads (or hears): tooltips, screen readers' names, placeholders, the
# column names narrow screens print beside each cell, the "copied" note.
READ_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt", "data-label", "data-copied"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")


class VisibleText(HTMLParser):
    """The text a person reads on a page: its text and read attributes, without scripts, styles
    and whatever is marked translate="no" (data, as written)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, hidden)

    @property
    def hidden(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        hidden = (
            self.hidden
            or tag in ("script", "style")
            or (values.get("translate") or "").lower() == "no"
        )
        if not hidden:
            self.parts.extend(v for k, v in attrs if k in READ_ATTRIBUTES and v)
        if tag not in VOID:
            self.stack.append((tag, hidden))

    def handle_startendtag(self, tag, attrs):
        if not self.hidden and (dict(attrs).get("translate") or "").lower() != "no":
            self.parts.extend(v for k, v in attrs if k in READ_ATTRIBUTES and v)

    def handle_endtag(self, tag):
        # Close up to the matching tag (HTML lets some end tags be left out).
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    return " ".join(parser.parts)


def data_words(world) -> set[str]:
    """What the test's world itself is called (names people gave, ids the cloud gave): where a
    page shows it outside a translate="no" element (a select's option), it is still data."""
    names = [*(t.name for t in world.teams.values()), *(u.username for u in world.users.values())]
    for vpc in world.vpcs.values():
        names += [vpc.name, vpc.vpc_id, vpc.account.name]
        names += [name for v in vpc.vswitches.all() for name in (v.vswitch_id, v.zone_id)]
        names += [g.name for g in vpc.security_groups.all()]
        names += [name for i in vpc.instances.all() for name in (i.name, i.instance_id)]
    names += [world.service.name, world.service.description]
    # The services made here.
    names += ["orders-api", "orders-db", "orders-cache", "billing-api", "search-api"]
    names += ["Connected"]  # a zone's status as the cloud says it (the title of its words)
    return {word for name in names for word in ENGLISH_WORD.findall(name)}


def english_left(html: str, allowed: set[str]) -> list[str]:
    words = ENGLISH_WORD.findall(visible_text(html))
    return sorted({w for w in words if w not in KEPT_AS_IS and w not in allowed})


# --- the world's pages, in every state worth reading ---------------------------------------------


def another_service(world, name: str):
    """One request of a VPC per service may be live: each live request here has its own."""
    return PublishedServiceFactory(owner_team=world.teams["platform"], name=name)


def connected(world):
    access = world.make_request(
        service=another_service(world, "billing-api"),
        state=RequestState.CONNECTED,
        connected_at=timezone.now(),
        endpoint_id="ep-1",
        endpoint_domain="ep-1.privatelink.example",
        # A reason the sweep stored in English, with a cloud's word in it: said in Chinese.
        health=Health.DEGRADED,
        health_reason="Zones not connected: cn-hangzhou-k (Disconnected).",
        health_checked_at=timezone.now(),
        probe_latency_ms=1.5,
    )
    RequestZone.objects.filter(access_request=access).update(
        status="Connected", eni_ip="10.0.0.5", zone_domain="ep-1-zone.example"
    )
    Event.objects.create(access_request=access, verb="awaiting approval", detail="endpoint ready")
    Event.objects.create(
        access_request=access, verb="created endpoint", detail="CreateVpcEndpoint → ep-1",
        cloud_request_id="4C3F-REQ",
    )  # fmt: skip
    ConnectionTest.objects.create(
        access_request=access, requested_by=world.users["consumer"], finished_at=timezone.now(),
        target="ep-1.privatelink.example:80", ok=True, latency_ms=2.0, answer="Hello from ECS03",
    )  # fmt: skip
    return access


def failed(world):
    access = world.make_request(
        service=another_service(world, "search-api"),
        state=RequestState.FAILED,
        failed_phase="provision",
        last_error_code="Forbidden.RAM",
        last_error_message="The user is not authorized to operate on the specified resource.",
    )
    Event.objects.create(
        access_request=access, verb="provision failed", detail="Forbidden.RAM: not authorized"
    )
    Event.objects.create(access_request=access, verb="failed", to_state=RequestState.FAILED)
    return access


def revoked(world):
    access = world.make_request(
        state=RequestState.REVOKED,
        connected_at=timezone.now() - timedelta(days=1),
        endpoint_id="ep-2",
        endpoint_deleted_at=timezone.now(),
        closed_at=timezone.now(),
    )
    Event.objects.create(access_request=access, verb="revoked", detail="endpoint gone")
    return access


def rejected(world):
    return world.make_request(
        state=RequestState.REJECTED, decision_reason="Use the public API instead."
    )


def publish_steps(client, lang: str, world):
    """Every step of the publish wizard, with a step's errors on the way."""
    url, vpc2 = "/services/publish/", world.vpcs["VPC2"]

    def step(name: str, data: dict):
        payload = {"publish_wizard-current_step": name}
        payload.update({f"{name}-{key}": value for key, value in data.items()})
        return client.post(url, payload, headers={"accept-language": lang})

    zones = {
        f"zone_{z}": vpc2.vswitches.get(zone_id=z).pk for z in ("cn-hangzhou-g", "cn-hangzhou-k")
    }
    ecs03 = vpc2.instances.get(name="ECS03").instance_id
    basics = {"team": world.teams["platform"].pk, "vpc": vpc2.pk}
    backend = {f"use_{ecs03}": "on", f"weight_{ecs03}": 100}
    yield "publish: basics", client.get(url, headers={"accept-language": lang})
    yield "publish: name taken", step("basics", {**basics, "name": "nginx-hangzhou"})
    yield "publish: zones", step("basics", {**basics, "name": "orders-api"})
    yield "publish: one zone", step("zones", {"zone_cn-hangzhou-g": zones["zone_cn-hangzhou-g"]})
    yield "publish: backends", step("zones", zones)
    yield "publish: backend without port", step("backends", backend)
    yield "publish: listener", step("backends", {**backend, f"port_{ecs03}": 80})
    yield "publish: review", step("listener", {"protocol": "TCP", "port": 80})
    yield "publish: the draft, on coming back", client.get(url, headers={"accept-language": lang})
    published = step("review", {})
    assert published.status_code == 302, "the wizard did not publish"
    as_lang = {"headers": {"accept-language": lang}}
    yield "service just published", client.get(published["Location"], **as_lang)


def pages(world, lang: str):
    """(name, response) of every page a person can reach, asked for in `lang`."""
    service = world.service
    provider, consumer = signed_in_as(world, "provider"), signed_in_as(world, "consumer")
    as_lang = {"headers": {"accept-language": lang}}
    # Made on the world's service, then moved (make_request): the pending one last.
    live, broken, closed, refused = connected(world), failed(world), revoked(world), rejected(world)
    waiting = pending(world)
    Event.objects.create(access_request=waiting, verb="provisioning", detail="the work has started")
    Event.objects.create(service=service, verb="published", detail="steps 1–4 done")
    Event.objects.create(
        service=service,
        verb="published",
        detail="load balancer, listener and endpoint service ready",
    )
    Event.objects.create(service=service, verb="health degraded", detail="ECS04:80: no answer")
    Finding.objects.create(
        kind=Finding.Kind.ORPHAN_ENDPOINT, account=service.account, service=service,
        resource_id="ep-orphan", detail="made for request 42", made_by_portal=True,
        last_seen=timezone.now(),
    )  # fmt: skip
    building = PublishedServiceFactory(
        owner_team=world.teams["platform"], name="orders-cache", state=ServiceState.PROVISIONING
    )

    broken_service = PublishedServiceFactory(
        owner_team=world.teams["platform"], name="orders-db", state=ServiceState.FAILED,
        failed_phase="publish", last_error_code="QuotaExceeded.Nlb",
        last_error_message="The NLB quota of the account is exceeded.",
    )  # fmt: skip
    # Two of the sweep's sentences joined, as a drift's are: each said in Chinese.
    type(service).objects.filter(pk=service.pk).update(
        health=Health.DOWN,
        health_reason="The listener lsn-1 was stopped outside the portal: start it again. "
        "No backend is healthy.",
    )

    yield "sign-in", Client().get("/accounts/login/", **as_lang)
    with override_settings(DEBUG=True):  # demo mode lists the demo logins
        yield "sign-in (demo)", Client().get("/accounts/login/", **as_lang)
    yield (
        "sign-in, wrong password",
        Client().post("/accounts/login/", {"username": "consumer", "password": "wrong"}, **as_lang),
    )
    yield "catalog (consumer)", consumer.get("/", **as_lang)
    yield "catalog (provider)", provider.get("/", **as_lang)
    yield "catalog, nothing matches", consumer.get("/?q=nothing-like-it", **as_lang)
    yield "catalog, too many words", consumer.get("/?q=a+b+c+d+e+f+g+h+i", **as_lang)
    yield "service (owner)", provider.get(f"/services/{service.pk}/", **as_lang)
    yield "service (consumer)", consumer.get(f"/services/{service.pk}/", **as_lang)
    yield "service being published (owner)", provider.get(f"/services/{building.pk}/", **as_lang)
    yield "service failed (owner)", provider.get(f"/services/{broken_service.pk}/", **as_lang)
    form_url = f"/services/{service.pk}/request/"
    yield "request form", consumer.get(form_url, **as_lang)
    yield (
        "request form, checked",
        consumer.post(form_url, form_data(world, action="check"), **as_lang),
    )
    yield (
        "request form with errors",
        consumer.post(
            form_url,
            form_data(
                world, justification="", security_groups=None, **{"zone_cn-hangzhou-k": None}
            ),
            **as_lang,
        ),
    )
    yield "request pending (provider)", provider.get(f"/requests/{waiting.pk}/", **as_lang)
    yield "request pending (consumer)", consumer.get(f"/requests/{waiting.pk}/", **as_lang)
    yield "request connected", consumer.get(f"/requests/{live.pk}/", **as_lang)
    yield "request connected (provider)", provider.get(f"/requests/{live.pk}/", **as_lang)
    yield "request failed", consumer.get(f"/requests/{broken.pk}/", **as_lang)
    yield "request revoked", consumer.get(f"/requests/{closed.pk}/", **as_lang)
    yield "request rejected", consumer.get(f"/requests/{refused.pk}/", **as_lang)
    yield "my requests", consumer.get("/requests/", **as_lang)
    yield "my requests, none match", consumer.get("/requests/?state=connecting", **as_lang)
    yield "approval queue", provider.get("/approvals/", **as_lang)
    yield "approval queue, empty", signed_in_as(world, "other_owner").get("/approvals/", **as_lang)
    provider.post(f"/requests/{waiting.pk}/reject/", {"reason": ""}, **as_lang)
    yield "a refused action's message", provider.get(f"/requests/{waiting.pk}/", **as_lang)
    yield from publish_steps(provider, lang, world)
    yield "profile", consumer.get("/profile/", **as_lang)
    yield "profile (in no team)", signed_in_as(world, "loner").get("/profile/", **as_lang)
    yield "not found", consumer.get("/requests/999999/", **as_lang)
    yield "not found (no such page)", consumer.get("/no-such-page/", **as_lang)
    yield "not for you (approvals)", consumer.get("/approvals/", **as_lang)
    yield "not for you (publish)", consumer.get("/services/publish/", **as_lang)
    yield "not for you (request form)", signed_in_as(world, "loner").get(form_url, **as_lang)
    yield "403 page", site_page(lang, permission_denied, PermissionDenied())
    yield "500 page", site_page(lang, server_error)
    with translation.override(lang):
        yield "503 page", HttpResponse(render_to_string("503.html"), status=503)


def site_page(lang: str, handler, *args):
    """A page of Django's handlers (a PermissionDenied no page catches, an error), in `lang`."""
    request = RequestFactory().get("/", headers={"accept-language": lang})
    request.user = AnonymousUser()
    with translation.override(lang):
        return handler(request, *args)


def read(response) -> str:
    assert response.status_code in (200, 403, 404, 500, 503), response.status_code
    return response.content.decode()


# --- the tests -----------------------------------------------------------------------------------


def test_every_message_of_the_catalog_is_translated():
    with CATALOG.open("rb") as po:
        catalog = read_po(po, locale="zh_Hans")
    strings = {m.id: m.string if isinstance(m.string, tuple) else (m.string,) for m in catalog}
    untranslated = [msgid for msgid, texts in strings.items() if msgid and not all(texts)]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated, f"untranslated in {CATALOG}: {untranslated}"
    assert not fuzzy, f"fuzzy in {CATALOG}: {fuzzy}"


def test_the_catalog_is_compiled():
    assert COMPILED.exists() and COMPILED.stat().st_mtime >= CATALOG.stat().st_mtime, (
        f"{COMPILED} is missing or older than its .po: the build compiles it "
        "(make .venv/.runtime, or `pybabel compile -d locale -D django`)"
    )


def test_every_page_reads_in_chinese(world):
    allowed = data_words(world)
    found = {}
    for name, response in pages(world, "zh-hans"):
        html = read(response)
        assert '<html lang="zh-hans">' in html, f"{name}: not rendered in zh-hans"
        if words := english_left(html, allowed):
            found[name] = words
    assert not found, "English left on the pages in zh-hans:\n" + "\n".join(
        f"  {name}: {' '.join(words)}" for name, words in found.items()
    )


def test_a_profile_that_chose_chinese_gets_chinese_whatever_the_browser_says(world):
    consumer = world.users["consumer"]
    Profile.objects.create(user=consumer, language="zh-hans")
    client = Client()
    client.force_login(consumer)
    client.get("/profile/")  # force_login sends no user_logged_in; a save does what it would
    client.post("/profile/", {"time_zone": "", "language": "zh-hans"})
    html = read(client.get("/", headers={"accept-language": "en"}))
    assert '<html lang="zh-hans">' in html and "服务目录" in html


def test_the_same_pages_in_english_read_in_english(world):
    for name, response in pages(world, "en"):
        html = read(response)
        text = visible_text(html)
        assert '<html lang="en">' in html, f"{name}: not rendered in English"
        assert not re.search(r"[\u4e00-\u9fff]", text.replace("简体中文", "")), (
            f"{name}: Chinese on the English page"
        )


def test_the_api_answers_in_english_whatever_the_language(world):
    """The pages translate the states' labels; the API returns values and English labels."""
    access = pending(world)
    api = world.client("consumer")

    one = api.get(f"/api/v1/access-requests/{access.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    rows = api.get("/api/v1/access-requests/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    events = api.get(
        f"/api/v1/events/?access_request={access.pk}", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).json()

    assert (one["state"], one["state_label"]) == ("pending_approval", "Pending approval")
    assert (one["health"], one["health_label"]) == ("unknown", "Unknown")
    assert rows["results"][0]["state_label"] == "Pending approval"
    assert [event["verb"] for event in events["results"]] == ["requested"]


def test_every_verb_a_workflow_composes_has_a_label():
    workflows = {*SERVICE_WORKFLOWS.values(), *REQUEST_WORKFLOWS.values()}
    composed = [f"{name} failed" for name in {*workflows, CLEANUP_WORKFLOW, CONFIGURE_WORKFLOW}]
    composed += [f"health {health}" for health in Health.values]
    resources = ["load balancer", "server group", "listener", "endpoint service"]
    composed += [f"{verb} {what}" for verb in ("deleting", "discarded") for what in resources]
    composed += [f"found {what}" for what in [*resources, "endpoint"]]
    assert [verb for verb in composed if verb not in VERB_LABELS] == []


def test_the_api_schema_stays_english_whatever_the_language(world):
    schema = world.client("consumer").get("/api/schema/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert schema.status_code == 200
    assert not re.search(r"[\u4e00-\u9fff]", schema.content.decode())
    assert "Pending approval" in schema.content.decode()
