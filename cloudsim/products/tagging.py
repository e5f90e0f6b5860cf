"""TagResources, UntagResources and ListTagResources, shared by NLB, PrivateLink and VPC."""

from __future__ import annotations

from typing import Any

from cloudsim.errors import ApiError, invalid, missing, not_found
from cloudsim.params import paginate
from cloudsim.products.base import Context, Product

MAX_TAGS = 20


def register(
    product: Product,
    kinds: dict[str, tuple[str, str]],
    page_limit: int,
    with_total: bool,
    list_wrapper: str | None = None,
    not_found_status: int = 400,
    quota_code: str = "QuotaExceeded.TagNum",
) -> None:
    """Add the three tag operations to `product`.

    `kinds` maps each API ResourceType (compared case-insensitively) to the store kind and the
    not-found code of that type. `list_wrapper`: the VPC API nests ListTagResources' rows one
    level deeper (`TagResources.TagResource`). `quota_code`: the refusal of a resource's 21st
    tag, as the product's metadata spells it.
    """

    def resource_type(ctx: Context) -> tuple[str, str, str]:
        given = ctx.params.req("ResourceType")
        for name, (kind, code) in kinds.items():
            if name.lower() == given.lower():
                return name, kind, code
        raise invalid("ResourceType", f"{given!r} is not one of {', '.join(kinds)}")

    def targets(ctx: Context, required: bool) -> tuple[str, list[dict[str, Any]]]:
        name, kind, code = resource_type(ctx)
        resource_ids = ctx.params.items("ResourceId")
        if required and not resource_ids:
            raise missing("ResourceId.1")
        if len(resource_ids) > 50:
            raise invalid("ResourceId", "at most 50 resources")
        records = []
        for rid in resource_ids:
            record = ctx.store.get(kind, rid, owner=ctx.uid)
            if record is None or not ctx.store.visible(record):
                raise not_found(code, name, rid, not_found_status)
            records.append(record)
        return name, records

    @product.action("TagResources", write=True)
    def tag_resources(ctx: Context) -> dict[str, Any]:
        _, records = targets(ctx, required=True)
        tags = ctx.params.tags()
        if not tags:
            raise missing("Tag.1.Key")
        for record in records:
            if len(record.get("Tags", {}) | tags) > MAX_TAGS:
                raise ApiError(
                    quota_code,
                    f"{record['_id']} would carry more than {MAX_TAGS} tags.",
                )
        ctx.dry_run_passes()
        for record in records:
            record.setdefault("Tags", {}).update(tags)
        return {}

    @product.action("UntagResources", write=True)
    def untag_resources(ctx: Context) -> dict[str, Any]:
        _, records = targets(ctx, required=True)
        keys = ctx.params.items("TagKey")
        remove_all = ctx.params.boolean("All", False)
        if not keys and not remove_all:
            raise missing("TagKey.1")
        ctx.dry_run_passes()
        for record in records:
            tags = record.setdefault("Tags", {})
            for key in list(tags) if remove_all else keys:
                tags.pop(key, None)
        return {}

    @product.action("ListTagResources")
    def list_tag_resources(ctx: Context) -> dict[str, Any]:
        name, records = targets(ctx, required=False)
        wanted = ctx.params.tags()
        if not records:
            records = ctx.store.owned(kinds[name][0], ctx.uid)
        rows = []
        for record in records:
            for key, value in record.get("Tags", {}).items():
                if wanted and (key not in wanted or wanted[key] not in ("", value)):
                    continue
                rows.append(
                    {
                        "ResourceId": record["_id"],
                        "ResourceType": name,
                        "TagKey": key,
                        "TagValue": value,
                    }
                )
        page, next_token, size = paginate(rows, ctx.params, default=50, limit=page_limit)
        rows_out: Any = {list_wrapper: page} if list_wrapper else page
        body: dict[str, Any] = {"TagResources": rows_out, "NextToken": next_token or ""}
        if with_total:
            body["TotalCount"] = len(rows)
            body["MaxResults"] = size
        return body
