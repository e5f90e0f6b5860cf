"""A person's own settings: the time zone and language the pages use for them."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Profile(models.Model):
    """Empty fields follow the browser: its time zone (a cookie its script sets) and its
    Accept-Language. Read into the session at sign-in (connections.pages.preferences), so pages
    and their polls never query it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    time_zone = models.CharField(max_length=64, blank=True)
    language = models.CharField(max_length=16, blank=True, choices=settings.LANGUAGES)

    def __str__(self) -> str:
        return f"{self.user}'s profile"
