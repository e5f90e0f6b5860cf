"""What every page's header shows: the person's teams and roles, and for owners the number of
requests waiting for their decision (a live region: connections/pages/live.py)."""

from __future__ import annotations

from functools import cached_property

from django.conf import settings

from connections import policies
from connections.pages import live


class Header:
    """Read only when a template shows it: a partial rendered for htmx costs nothing here."""

    def __init__(self, user):
        self.user = user

    @cached_property
    def memberships(self) -> list:
        return list(self.user.memberships.select_related("team").order_by("team__name"))

    @cached_property
    def platform_admin(self) -> bool:
        return policies.is_platform_admin(self.user)

    @cached_property
    def decides(self) -> bool:
        """Owns a team (or runs the platform): has an approval queue, and may publish."""
        return policies.publishes_for_some_team(self.user)

    @cached_property
    def awaiting(self) -> int:
        return live.awaiting_count(self.user.pk) if self.decides else 0

    @property
    def awaiting_version(self) -> str:
        return live.fingerprint(self.awaiting)


def header(request) -> dict:
    user = getattr(request, "user", None)
    context = {
        "demo_mode": settings.DEBUG,
        "poll_seconds": live.POLL_SECONDS,
        "count_up_to": live.COUNT_UP_TO,
    }
    if user is not None and user.is_authenticated:
        context["header"] = Header(user)
    return context
