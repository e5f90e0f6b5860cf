"""The main journeys in a real browser, as people use them: request access and watch it go live
while the owner approves in another browser; test the connection; the form's errors; reject;
revoke; publish through the wizard; text typed into every free-text field stays text."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from connections.models import AccessRequest, PublishedService
from tests.e2e.conftest import LIVE_TIMEOUT_MS

pytestmark = pytest.mark.worker

JUSTIFICATION = "The storefront calls nginx."
# Typed into free-text fields: it must show as these characters, and never run.
SCRIPT = '<script>window.__injected = 1</script><img src=x onerror="window.__injected = 2">'


def request_access(consumer, service, justification: str = JUSTIFICATION, *, opened=False) -> int:
    """Fill in the request form as the consumer would (opened: already on it, other fields
    filled); returns the new request's id."""
    if not opened:
        consumer.go(f"/services/{service.pk}/request/")
    consumer.page.get_by_label("Justification").fill(justification)
    consumer.page.get_by_role("button", name="Request access").click()
    consumer.page.wait_for_url(re.compile(r".*/requests/\d+/$"))
    return int(consumer.page.url.rstrip("/").rsplit("/", 1)[1])


def state_of(person):
    return person.page.locator("#request-state")


def test_the_owner_approves_from_the_queue_and_the_consumers_page_turns_connected(
    people, seed_service
):
    consumer, provider = people("consumer"), people("provider")
    consumer.go("/")
    consumer.screenshot("catalog")
    consumer.page.set_viewport_size({"width": 390, "height": 844})
    expect(consumer.page.get_by_role("link", name="Request access").first).to_be_in_viewport()
    consumer.screenshot("catalog-phone")
    consumer.page.set_viewport_size({"width": 1280, "height": 900})
    consumer.go(f"/services/{seed_service.pk}/request/")
    consumer.screenshot("request-form")

    request_id = request_access(consumer, seed_service)
    expect(state_of(consumer)).to_have_text("Pending approval", timeout=LIVE_TIMEOUT_MS)

    provider.go("/approvals/")
    expect(provider.page.locator("#awaiting-count")).to_have_text("1 waiting")
    row = provider.page.get_by_role("row").filter(has_text=f"#{request_id}")
    expect(row).to_contain_text(JUSTIFICATION)
    expect(row).to_contain_text("Apps")
    provider.screenshot("approval-queue")
    # On a phone the rows stack as cards, each with its decision on the first screen.
    provider.page.set_viewport_size({"width": 390, "height": 844})
    expect(row.get_by_role("button", name="Approve")).to_be_in_viewport()
    provider.screenshot("approval-queue-phone")
    provider.page.set_viewport_size({"width": 1280, "height": 900})
    row.get_by_role("button", name="Approve").click()
    expect(provider.page.locator(".message-success")).to_contain_text("Approved")
    expect(provider.page.locator("#awaiting-count")).to_have_text("none waiting")

    # The consumer's page was never reloaded: its live region followed the worker.
    expect(state_of(consumer)).to_have_text("Connected", timeout=LIVE_TIMEOUT_MS)
    consumer.page.get_by_role("button", name="Test connection").click()
    answer = consumer.page.locator(".test-result")
    expect(answer).to_contain_text("Hello World ! This is ECS0", timeout=LIVE_TIMEOUT_MS)
    expect(consumer.page.locator("#curl-command")).to_have_text(
        re.compile(r"curl http://ep-\S+\.privatelink\.aliyuncs\.com:80")
    )
    consumer.screenshot("request-connected")
    consumer.page.set_viewport_size({"width": 390, "height": 844})  # a phone
    consumer.screenshot("request-connected-phone")


def test_an_expiry_typed_in_the_browsers_zone_is_that_instant_and_shown_with_its_zone(
    people, seed_service
):
    consumer = people("consumer", timezone_id="Asia/Shanghai")
    consumer.go(f"/services/{seed_service.pk}/request/")
    expect(consumer.page.get_by_text("In your time zone, Asia/Shanghai.")).to_be_visible()
    consumer.page.get_by_label("Access until (optional)").fill("2027-01-05T09:30")
    request_id = request_access(consumer, seed_service, opened=True)

    # 09:30 in Shanghai is 01:30 UTC, whatever the server's zone.
    stored = AccessRequest.objects.get(pk=request_id).expires_at
    assert stored == dt.datetime(2027, 1, 5, 1, 30, tzinfo=dt.UTC)
    expect(consumer.page.locator("time", has_text="2027-01-05 09:30 UTC+8")).to_be_visible()


def test_a_request_the_cloud_refuses_says_why_and_who_fixes_it_and_resumes_once_changed(
    people, seed_service, world
):
    seed_service.trusted_teams.add(world.team("apps"))
    # The cloud's answer when a chosen vSwitch has no free address (CreateVpcEndpoint's
    # documented ResourceNotEnough.VSwitchIp), once.
    full = "The vSwitch has no free IP address."
    world.cloudsim.control(
        "POST",
        "faults",
        {
            "kind": "error",
            "action": "CreateVpcEndpoint",
            "count": 1,
            "status": 400,
            "code": "ResourceNotEnough.VSwitchIp",
            "message": full,
        },
    )
    consumer = people("consumer")
    request_access(consumer, seed_service)

    expect(state_of(consumer)).to_have_text("Failed", timeout=LIVE_TIMEOUT_MS)
    expect(consumer.page.locator("#failure")).to_contain_text(f"What went wrong: {full}")
    expect(consumer.page.locator("#who-fixes")).to_contain_text("Your team: change the vSwitches")
    consumer.page.reload()  # the change of choices comes with the page, not with its polls
    consumer.screenshot("request-failed")
    consumer.page.get_by_label("cn-hangzhou-g").select_option(label="— not in this zone —")
    consumer.page.get_by_role("button", name="Change and retry").click()

    expect(state_of(consumer)).to_have_text("Connected", timeout=LIVE_TIMEOUT_MS)
    expect(consumer.page.locator("#failure")).to_have_count(0)
    zones = consumer.page.locator("section[aria-labelledby=zones-title] tbody tr")
    expect(zones).to_have_count(1)
    expect(zones).to_contain_text("cn-hangzhou-k")


def test_the_form_shows_what_is_wrong_beside_each_field(people, seed_service):
    consumer = people("consumer")
    consumer.go(f"/services/{seed_service.pk}/request/")
    page = consumer.page

    # Zone H: VPC1 has a vSwitch there, but the service is not offered in it.
    expect(page.locator("#zone-off-cn-hangzhou-h")).to_be_disabled()
    expect(page.get_by_text("nginx-hangzhou is not offered in this zone.")).to_be_visible()
    page.get_by_label("cn-hangzhou-g").select_option(label="— not in this zone —")
    page.get_by_label("cn-hangzhou-k").select_option(label="— not in this zone —")
    page.get_by_label("sg-vpc1").uncheck()
    page.get_by_role("button", name="Check without submitting").click()

    expect(page.get_by_text("Choose at least one zone and its vSwitch.")).to_be_visible()
    expect(page.get_by_text("Choose at least one security group.")).to_be_visible()
    expect(page.get_by_text("Say why the team needs access.")).to_be_visible()
    consumer.screenshot("request-form-errors")
    assert not AccessRequest.objects.exists()


def test_the_owner_rejects_with_a_reason_the_team_reads(people, seed_service):
    consumer, provider = people("consumer"), people("provider")
    request_id = request_access(consumer, seed_service)
    expect(state_of(consumer)).to_have_text("Pending approval", timeout=LIVE_TIMEOUT_MS)

    provider.go(f"/requests/{request_id}/")
    # Apart from Approve, and a plain click rejects nothing: the reason is the confirmation.
    reject = provider.page.get_by_role("button", name="Reject")
    expect(provider.page.locator("#reject-title")).to_have_text("Reject the request")
    reject.click()
    assert provider.page.locator("#reject-reason").evaluate("box => box.matches(':invalid')")
    expect(state_of(provider)).to_have_text("Pending approval")
    provider.screenshot("request-reject-asks")
    provider.page.get_by_label("Reason").fill("Use the partner API instead.")
    reject.click()

    expect(state_of(consumer)).to_have_text("Rejected", timeout=LIVE_TIMEOUT_MS)
    expect(state_of(consumer)).to_have_class(re.compile(r"\bbadge-red\b"))
    expect(consumer.page.get_by_text("Reason given: Use the partner API instead.")).to_be_visible()
    # Closed: no endpoint offered, the steps end at the refusal, and it can be asked again.
    expect(consumer.page.locator("#curl-command")).to_have_count(0)
    expect(consumer.page.locator("#copy-command")).to_have_count(0)
    expect(consumer.page.locator("ol.steps li.ended")).to_have_text("Rejected")
    expect(consumer.page.get_by_role("link", name="Request again")).to_be_visible()
    consumer.screenshot("request-rejected")


def test_the_consumer_revokes_and_the_endpoint_goes(people, seed_service):
    seed_service.trusted_teams.add(seed_service.owner_team.__class__.objects.get(slug="apps"))
    consumer = people("consumer")
    request_access(consumer, seed_service)
    expect(state_of(consumer)).to_have_text("Connected", timeout=LIVE_TIMEOUT_MS)

    # A plain click revokes nothing: the confirmation is a box to tick first.
    revoke = consumer.page.get_by_role("button", name="Revoke")
    revoke.click()
    assert consumer.page.locator("#revoke-confirm").evaluate("box => box.matches(':invalid')")
    expect(state_of(consumer)).to_have_text("Connected")
    consumer.screenshot("request-revoke-asks")
    consumer.page.get_by_label("I understand").check()
    revoke.click()

    expect(state_of(consumer)).to_have_text("Revoked", timeout=LIVE_TIMEOUT_MS)
    expect(state_of(consumer)).to_have_class(re.compile(r"\bbadge-closed\b"))
    # The message said when it was asked stays true now that it is done.
    expect(consumer.page.locator(".message-success")).to_contain_text("Revoke started")
    expect(consumer.page.get_by_role("button", name="Revoke")).to_have_count(0)
    # What no longer exists is not offered; the steps show the way it went.
    expect(consumer.page.locator("#endpoint-closed")).to_contain_text(
        "deleted", timeout=LIVE_TIMEOUT_MS
    )
    expect(consumer.page.locator("#curl-command")).to_have_count(0)
    expect(consumer.page.locator("ol.steps li.ended")).to_have_text("Revoked")
    consumer.screenshot("request-revoked")


def test_the_publish_wizard_builds_a_service_that_goes_available(people, world):
    provider = people("provider")
    provider.go("/services/publish/")
    page = provider.page
    page.get_by_label("Service name").fill("orders-api")
    page.get_by_label("Description").fill(SCRIPT)  # free text: it must stay text
    vpc2 = page.get_by_label("VPC").locator("option", has_text="VPC2 (").get_attribute("value")
    page.get_by_label("VPC").select_option(vpc2)
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Next").click()  # no zone: refused, with the reason
    expect(page.get_by_text("Choose at least 2 zones: an NLB spans two or more.")).to_be_visible()
    page.get_by_label("cn-hangzhou-g").select_option(index=1)
    page.get_by_label("cn-hangzhou-k").select_option(index=1)
    page.get_by_role("button", name="Next").click()
    page.get_by_label("ECS03").check()
    page.get_by_label("ECS04").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Listener port").fill("80")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("ECS03:80 (weight 100), ECS04:80 (weight 100)")).to_be_visible()
    provider.screenshot("publish-review")
    page.get_by_role("button", name="Publish").click()

    page.wait_for_url(re.compile(r".*/services/\d+/$"))
    expect(page.locator("#progress-title")).to_be_visible()
    expect(page.locator("#service-live .badge").first).to_have_text(
        "Available", timeout=LIVE_TIMEOUT_MS
    )
    provider.screenshot("service-owner")
    assert PublishedService.objects.get(name="orders-api").endpoint_service_id
    expect(page.get_by_text(SCRIPT)).to_be_visible()
    assert page.evaluate("window.__injected") is None


def test_markup_typed_into_free_text_fields_shows_as_text_and_never_runs(people, seed_service):
    consumer, provider = people("consumer"), people("provider")
    consumer.go("/")
    consumer.page.get_by_label("Search").fill(SCRIPT)
    consumer.page.get_by_role("button", name="Filter").click()
    expect(consumer.page.get_by_label("Search")).to_have_value(SCRIPT)
    request_id = request_access(consumer, seed_service, justification=SCRIPT)
    expect(consumer.page.get_by_role("definition").filter(has_text=SCRIPT)).to_be_visible()
    expect(state_of(consumer)).to_have_text("Pending approval", timeout=LIVE_TIMEOUT_MS)
    provider.go("/approvals/")
    expect(provider.page.get_by_role("cell").filter(has_text=SCRIPT)).to_be_visible()
    provider.go(f"/requests/{request_id}/")
    provider.page.get_by_label("Reason").fill(SCRIPT)
    provider.page.get_by_role("button", name="Reject").click()
    expect(state_of(consumer)).to_have_text("Rejected", timeout=LIVE_TIMEOUT_MS)
    expect(consumer.page.get_by_text(f"Reason given: {SCRIPT}")).to_be_visible()

    for person in (consumer, provider):
        assert person.page.evaluate("window.__injected") is None


def test_a_backend_going_down_shows_on_the_open_request_page_and_an_orphan_is_cleaned_up(
    people, seed_service, world
):
    from tests.connections.monitoring.test_findings import endpoint_to, orphan_tags
    from tests.connections.monitoring.test_sweep import health_after_sweep

    seed_service.trusted_teams.add(world.team("apps"))
    consumer, provider = people("consumer"), people("provider")
    request_id = request_access(consumer, seed_service)
    expect(state_of(consumer)).to_have_text("Connected", timeout=LIVE_TIMEOUT_MS)
    access_request = AccessRequest.objects.get(pk=request_id)
    health_after_sweep(access_request, "healthy")
    expect(consumer.page.locator("#health-summary")).to_contain_text(
        "Healthy", timeout=LIVE_TIMEOUT_MS
    )

    world.cloudsim.control("POST", "instances/ECS03/web/stop", {})
    health_after_sweep(access_request, "degraded")

    # The open page follows, without a reload: the health, its reason, the last hour's bar.
    summary = consumer.page.locator("#health-summary")
    expect(summary).to_contain_text("Degraded", timeout=LIVE_TIMEOUT_MS)
    expect(summary).to_contain_text("1 of 2 backends are unhealthy.")
    # Count, not `.last`: a sweep just before hh:00 puts the yellow hour second-to-last.
    expect(consumer.page.locator(".health-strip .hour.badge-yellow")).to_have_count(1)
    consumer.screenshot("request-degraded")

    endpoint_to(world, seed_service, tags=orphan_tags())
    health_after_sweep(access_request, "degraded")  # one more sweep: it finds the orphan
    provider.go(f"/services/{seed_service.pk}/")
    expect(provider.page.locator("#service-health")).to_contain_text("Degraded")
    findings = provider.page.locator("#findings")
    expect(findings).to_contain_text("Endpoint made by the portal with no request")
    provider.screenshot("service-findings")
    findings.get_by_role("button", name="Clean up").click()
    expect(provider.page.locator(".message-success")).to_contain_text("Cleaning up")
    # The worker removes it; the next sweep no longer finds it, and the table goes.
    health_after_sweep(access_request, "degraded")
    expect(provider.page.locator("#findings")).to_have_count(0, timeout=LIVE_TIMEOUT_MS)

    # Both backends stopped: the endpoint still takes a connection, the service answers nothing.
    # "Test connection" says so as a warning, never "Connected" in green.
    world.cloudsim.control("POST", "instances/ECS04/web/stop", {})
    health_after_sweep(access_request, "down")
    expect(summary).to_contain_text("Down", timeout=LIVE_TIMEOUT_MS)
    consumer.page.get_by_role("button", name="Test connection").click()
    result = consumer.page.locator(".test-result.unanswered")
    expect(result).to_contain_text("the service does not", timeout=LIVE_TIMEOUT_MS)
    expect(result).to_contain_text("None of the service's backends is healthy")
    expect(consumer.page.locator(".test-result.answered")).to_have_count(0)
    consumer.screenshot("request-down-test")


def test_the_pages_off_the_journeys_pass_axe_too(people, seed_service):
    """Every page the journeys above do not open, checked by axe (Person.go) at both sizes: a
    list with a row, the settings, a service's page from each side, the empty queue, the
    wizard's first step, a page that does not exist."""
    consumer, provider = people("consumer"), people("provider")
    request_id = request_access(consumer, seed_service)
    consumer.go("/requests/")
    expect(consumer.page.get_by_role("link", name=f"#{request_id}")).to_be_visible()
    consumer.go("/profile/")
    consumer.screenshot("profile")
    consumer.go(f"/services/{seed_service.pk}/")
    consumer.go("/requests/999999/", status=404)
    expect(consumer.page.get_by_role("heading", level=1)).to_contain_text("Not found")
    provider.go(f"/services/{seed_service.pk}/")
    provider.go("/services/publish/")
    provider.go(f"/requests/{request_id}/")
    provider.page.get_by_label("Reason").fill("Not this quarter.")
    provider.page.get_by_role("button", name="Reject").click()
    provider.go("/approvals/")
    expect(provider.page.get_by_text("Nothing waits for your decision.")).to_be_visible()


def test_a_browser_that_reads_chinese_gets_every_page_in_chinese(people, seed_service):
    """The same journey's pages with the browser's language zh-CN: Chinese words, the page's
    language said for screen readers, axe on each, pictures of each at both sizes."""
    consumer = people("consumer", locale="zh-CN")
    page = consumer.page
    consumer.go("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("link", name="申请访问").first).to_be_visible()
    consumer.screenshot("catalog-zh")
    consumer.go(f"/services/{seed_service.pk}/request/")
    page.locator("[name=justification]").fill(JUSTIFICATION)
    consumer.screenshot("request-form-zh")
    page.get_by_role("button", name="申请访问").click()
    page.wait_for_url(re.compile(r".*/requests/\d+/$"))
    expect(state_of(consumer)).to_have_text("待审批", timeout=LIVE_TIMEOUT_MS)
    consumer.screenshot("request-pending-zh")
    page.set_viewport_size({"width": 390, "height": 844})
    consumer.screenshot("request-pending-zh-phone")
