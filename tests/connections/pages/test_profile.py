"""The person's time zone and language (pages/preferences.py, pages/profile.py): chosen in their
settings, else their browser's; every time shown with its zone; a time typed read in it."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.test import Client
from django.utils import timezone

from connections.models import AccessRequest, Profile
from connections.pages.preferences import BROWSER_ZONE_COOKIE
from connections.templatetags.moments import utc_offset, waited
from tests.connections.pages.support import form_data, pending, signed_in_as

pytestmark = pytest.mark.django_db

SHANGHAI = "Asia/Shanghai"


def choose(client: Client, **fields) -> None:
    response = client.post("/profile/", {"time_zone": "", "language": "", **fields})
    assert response.status_code == 302, response.content.decode()


def test_an_expiry_typed_in_the_persons_zone_is_stored_as_that_instant(world):
    consumer = signed_in_as(world, "consumer")
    choose(consumer, time_zone=SHANGHAI)

    consumer.post(
        f"/services/{world.service.pk}/request/",
        form_data(world, expires_at="2027-01-05T09:30"),
    )

    # 09:30 in Shanghai (UTC+8) is 01:30 UTC; the server's own zone is UTC.
    stored = AccessRequest.objects.get().expires_at
    assert stored == dt.datetime(2027, 1, 5, 1, 30, tzinfo=dt.UTC)


def test_without_a_choice_the_browsers_zone_is_used_and_one_unknown_is_ignored(world):
    access_request = pending(world)
    consumer = signed_in_as(world, "consumer")
    url = f"/requests/{access_request.pk}/"

    consumer.cookies[BROWSER_ZONE_COOKIE] = SHANGHAI
    assert "UTC+8</time>" in consumer.get(url).content.decode()
    consumer.cookies[BROWSER_ZONE_COOKIE] = "Mars/Olympus_Mons"
    page = consumer.get(url).content.decode()
    assert "UTC+8" not in page and "UTC</time>" in page


def test_the_persons_choice_beats_the_browser_and_follows_them_to_a_new_session(world):
    consumer = signed_in_as(world, "consumer")
    choose(consumer, time_zone="America/Sao_Paulo")
    access_request = pending(world)

    again = Client()  # another browser, in another zone: the person's choice wins
    again.cookies[BROWSER_ZONE_COOKIE] = SHANGHAI
    again.force_login(world.users["consumer"])  # signs in: the profile is read into the session
    page = again.get(f"/requests/{access_request.pk}/").content.decode()
    assert "UTC-3</time>" in page
    assert (
        "In your time zone, America/Sao_Paulo"
        in again.get(f"/services/{world.service.pk}/request/").content.decode()
    )


def test_the_language_chosen_is_the_pages_language(world):
    consumer = signed_in_as(world, "consumer")
    choose(consumer, language="zh-hans")
    page = consumer.get("/profile/", HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="zh-hans">' in page.content.decode()
    assert Profile.objects.get(user=world.users["consumer"]).language == "zh-hans"


def test_a_zone_the_tz_database_does_not_know_is_refused_beside_its_field(world):
    consumer = signed_in_as(world, "consumer")
    response = consumer.post("/profile/", {"time_zone": "Mars/Olympus_Mons", "language": ""})
    assert response.status_code == 200
    assert 'id="id_time_zone_error"' in response.content.decode()
    assert not Profile.objects.exists()


@pytest.mark.parametrize(
    ("zone", "offset"),
    [
        ("UTC", "UTC"),
        (SHANGHAI, "UTC+8"),
        ("Asia/Kolkata", "UTC+5:30"),
        ("America/Sao_Paulo", "UTC-3"),
    ],
)
def test_an_offset_is_said_the_shortest_exact_way(zone, offset):
    moment = dt.datetime(2027, 1, 5, 12, 0, tzinfo=zoneinfo.ZoneInfo(zone))
    assert utc_offset(moment) == offset


def test_a_wait_under_a_minute_reads_just_now_and_longer_ones_their_length():
    now = timezone.now()
    assert waited(now - dt.timedelta(seconds=59)) == "just now"
    assert waited(now - dt.timedelta(minutes=3, seconds=5)) == "3\xa0minutes"


def test_the_settings_page_names_the_persons_teams_which_a_phones_header_leaves_out(world):
    page = signed_in_as(world, "consumer").get("/profile/").content.decode()
    teams = page[page.index('id="your-teams"') :]
    assert '<span translate="no">Apps</span> (member)' in teams[: teams.index("</ul>")]
