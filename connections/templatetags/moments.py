"""`{% moment value %}`: a time as the person reads it, in their zone and saying which.

    {% load moments %}{% moment event.created_at seconds=True %}
    → <time datetime="2026-12-08T04:05:38+08:00">2026-12-08 04:05:38 UTC+8</time>

The zone is the one connections.pages.preferences activated for the request; the offset beside
each time is what makes a time in a copied link or a screenshot unambiguous.
"""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext

register = template.Library()


def utc_offset(moment: datetime) -> str:
    """UTC+8, UTC+5:30, UTC-3, UTC: the shortest way to say the offset exactly."""
    minutes = int(moment.utcoffset().total_seconds() // 60)
    if not minutes:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}:{rest:02d}" if rest else f"UTC{sign}{hours}"


def zoned(value: datetime, seconds: bool = False) -> str:
    """The text of a moment: local date and time, then the offset."""
    local = timezone.localtime(value)
    shown = dateformat.format(local, "Y-m-d H:i:s" if seconds else "Y-m-d H:i")
    return f"{shown} {utc_offset(local)}"


@register.simple_tag
def moment(value: datetime | None, seconds: bool = False) -> str:
    if value is None:
        return "—"
    local = timezone.localtime(value)
    return format_html('<time datetime="{}">{}</time>', local.isoformat(), zoned(value, seconds))


@register.filter
def zoned_time(value: datetime | None) -> str:
    """As plain text, for a `title` or inside a translated sentence."""
    return zoned(value) if value is not None else ""


@register.filter
def waited(value: datetime) -> str:
    """How long something has waited: "just now" in its first minute ("0 minutes" reads as
    nothing at all)."""
    if (timezone.now() - value).total_seconds() < 60:
        return gettext("just now")
    return timesince(value)
