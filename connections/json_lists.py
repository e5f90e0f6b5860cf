"""Related rows as one JSON list per parent row, read inside the parent's own query.

A list page of 50 rows that shows each row's zones and teams would otherwise take a query per
relation, each with the ORM's cost to build it. `related_json_list` is a correlated subquery
whose one value is the related rows as a JSON array of arrays, in a given order, on SQLite and
on PostgreSQL alike.
"""

from __future__ import annotations

from django.db.models import Aggregate, JSONField, OuterRef, QuerySet, Subquery, Window
from django.db.models.expressions import RowRange
from django.db.models.functions import JSONArray


class JSONList(Aggregate):
    """The values as one JSON array: SQLite's json_group_array, PostgreSQL's jsonb_agg (jsonb,
    which Django's driver hands back as text for JSONField to parse, as SQLite's)."""

    function = "JSON_GROUP_ARRAY"
    output_field = JSONField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="JSONB_AGG", **extra_context)


def related_json_list(
    rows: QuerySet, parent: str, columns: list[str], order_by: list[str], outer: str = "pk"
) -> Subquery:
    """The `rows` whose `parent` is the outer row's `outer` column, each as a JSON array of
    `columns`, ordered by `order_by`; NULL when there are none.

    The list is built as a window over the whole set (an aggregate's own ORDER BY needs SQLite
    3.44), so every row of the subquery carries the complete list: the first one is taken.
    """
    whole = RowRange(start=None, end=None)
    listed = (
        rows.filter(**{parent: OuterRef(outer)})
        .order_by()
        .annotate(json_list=Window(JSONList(JSONArray(*columns)), order_by=order_by, frame=whole))
    )
    return Subquery(listed.values("json_list")[:1], output_field=JSONField())
