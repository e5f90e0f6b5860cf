"""The time zone and language each person reads the pages in, and types times in.

Chosen in this order: the person's profile (kept in their session from sign-in, so no page or poll
queries it), then the browser (its time zone from the `portal_tz` cookie that static/js/portal.js
sets from `Intl`; its language from Accept-Language, Django's LocaleMiddleware), then the server's
TIME_ZONE and LANGUAGE_CODE. A form's date and time is read in the zone activated here, so an
expiry typed in Asia/Shanghai is stored as that instant.
"""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

from django.utils import timezone, translation

from connections.models import Profile

SESSION_KEY = "portal_preferences"
BROWSER_ZONE_COOKIE = "portal_tz"


@lru_cache(maxsize=1)
def known_time_zones() -> frozenset[str]:
    """The IANA names this machine's tz database knows (read once: it scans the files)."""
    return frozenset(zoneinfo.available_timezones())


def remember(session, profile: Profile | None) -> None:
    """Keep the profile's choices in the session: at sign-in and whenever the person saves them."""
    session[SESSION_KEY] = {
        "time_zone": profile.time_zone if profile else "",
        "language": profile.language if profile else "",
    }


def on_sign_in(sender, request, user, **kwargs) -> None:
    """user_logged_in: this person's profile, if they ever saved one, into their new session."""
    remember(request.session, Profile.objects.filter(user=user).first())


def chosen(request) -> dict:
    """The profile's choices for this request's person ({} when signed out or none saved)."""
    session = getattr(request, "session", None)
    return (session.get(SESSION_KEY) or {}) if session is not None else {}


def browser_zone(request) -> str:
    """The browser's zone as its script reported it, when it is one the tz database knows."""
    name = request.COOKIES.get(BROWSER_ZONE_COOKIE, "")
    return name if name in known_time_zones() else ""


def zone_for(request) -> str:
    """The zone this request's times are shown and read in ("" for the server's)."""
    name = chosen(request).get("time_zone") or browser_zone(request)
    return name if name in known_time_zones() else ""


class PersonPreferences:
    """Activates the person's time zone and language for the request (after sign-in and
    LocaleMiddleware, whose choice from the browser a profile's language overrides)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = zone_for(request)
        if zone:
            timezone.activate(zoneinfo.ZoneInfo(zone))
        language = chosen(request).get("language")
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        try:
            return self.get_response(request)
        finally:
            # Threads serve the next request: nothing of this person's choice may stay behind.
            timezone.deactivate()
