"""Pages of a list, by cursor: a page costs the same at row 100,000 as at row 10, because the
next page starts after the last row shown (an indexed seek) instead of counting and skipping.

DRF's CursorPagination does the keyset arithmetic; the pages only wrap their request for it.
A cursor that was edited by hand shows the first page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request

PAGE_SIZE = 25


@dataclass(frozen=True)
class Page:
    rows: list
    next_url: str | None
    previous_url: str | None


class _Cursor(CursorPagination):
    page_size = PAGE_SIZE
    model = None  # the list's model, whose first ordering field the cursor's position is of

    def decode_cursor(self, request):
        """DRF's decoding, and a position that the ordering's field can hold: an edited cursor
        whose position is no date (or holds a NUL, which no database takes) would otherwise
        fail the query itself, and a date without its zone would be read in the server's."""
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            ordering = self.ordering if isinstance(self.ordering, str) else self.ordering[0]
            field = self.model._meta.get_field(ordering.lstrip("-"))
            try:
                value = None if "\x00" in cursor.position else field.to_python(cursor.position)
            except (DjangoValidationError, ValueError, OverflowError) as error:
                raise exceptions.NotFound("Invalid cursor") from error
            # The cursors the pages write carry their zone; one without was edited.
            if value is None or (isinstance(value, datetime) and timezone.is_naive(value)):
                raise exceptions.NotFound("Invalid cursor")
        return cursor


def paginate(request, queryset, ordering: str | tuple[str, ...]) -> Page:
    """One page of `queryset` in `ordering` (unique enough: the first field, then the row id)."""
    cursor = _Cursor()
    cursor.ordering, cursor.model = ordering, queryset.model
    drf_request = Request(request)
    try:
        rows = cursor.paginate_queryset(queryset, drf_request)
    except (exceptions.NotFound, exceptions.ValidationError, ValueError, TypeError):
        # A cursor that was tampered with: start from the top.
        drf_request = Request(_without_cursor(request))
        rows = cursor.paginate_queryset(queryset, drf_request)
    return Page(
        list(rows), _relative(cursor.get_next_link()), _relative(cursor.get_previous_link())
    )


def _without_cursor(request):
    copy = request.GET.copy()
    copy.pop("cursor", None)
    request.GET = copy
    return request


def _relative(url: str | None) -> str | None:
    """The link as a path and query (the page is on the same host), for the whole page even
    when a live region's poll rendered it."""
    if url is None:
        return None
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key != "fragment"]
    return urlunsplit(("", "", parts.path, urlencode(query), ""))
