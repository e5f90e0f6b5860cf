"""A representation's fields, declared once: each field's name, the columns it reads, and how a
hand-built row gets its value.

The serializer's `Meta.fields` (the order of the answer and of the schema), the list view's
`.only(...)` and the hand-built row all read one `Fields` table, so a new plain column of a
list is one line of its table. A field that is not a plain model field also declares its type
on the serializer, for the schema (and the check that the hand-built rows equal what DRF's own
path builds: tests/connections/api/test_services.py and test_access_requests.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connections.api.serializers.common import iso_datetime, label_of

# How a field's value is read: from the record, by the serializer building the page (which
# holds what a page reads once: the viewer, the time zone, the page's related rows).
Read = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class Field:
    name: str
    read: Read
    # The record's columns (or `relation__column` paths) the value needs: the list's `.only()`.
    columns: tuple[str, ...] = ()


def column(name: str) -> Field:
    """A model column, answered as it is."""
    return Field(name, lambda record, _: getattr(record, name), (name,))


def moment(name: str) -> Field:
    """A date and time, in ISO 8601 as DRF's DateTimeField writes it."""
    return Field(
        name, lambda record, page: iso_datetime(getattr(record, name), page.time_zone), (name,)
    )


def label(name: str, of: str, labels: dict) -> Field:
    """The label of a choice column (`state_label` of `state`)."""
    return Field(name, lambda record, _: label_of(labels, getattr(record, of)), (of,))


class Fields:
    """A representation's fields, in the order of its answer."""

    def __init__(self, *fields: Field):
        self.fields = fields
        self.names = [field.name for field in fields]
        self.columns = tuple(dict.fromkeys(c for field in fields for c in field.columns))
        self._reads = [(field.name, field.read) for field in fields]

    def row(self, record, page) -> dict:
        return {name: read(record, page) for name, read in self._reads}
