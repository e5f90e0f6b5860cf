"""The portal's URLs and the bare views of bench/api_lists.py (see bench/lists_site.py): for
each list its own columns in one query ("columns"), and for the catalog every field the API
answers too ("same rows")."""

from collections import defaultdict

from django.http import JsonResponse
from django.urls import path, reverse

from connections.choices import Health, ServiceState
from connections.models import (
    AccessRequest,
    Event,
    PublishedService,
    ServiceBackend,
    ServiceZone,
)
from portal.urls import urlpatterns as portal_urls

PAGE = 50


def bare_services(request):
    rows = PublishedService.objects.order_by("name", "id").values(
        "id", "name", "description", "state", "health", "owner_team__slug", "owner_team__name",
        "listener_protocol", "listener_port", "auto_accept", "endpoint_service_id",
        "endpoint_service_name", "created_at", "updated_at",
    )[:PAGE]  # fmt: skip
    return JsonResponse({"results": list(rows)})


def _grouped(rows) -> dict[int, list[tuple]]:
    by_service = defaultdict(list)
    for service_id, *values in rows:
        by_service[service_id].append(values)
    return by_service


def bare_service_rows(request):
    """The catalog's page with every field the API answers (zones, trusted teams, labels, the
    owners' backends and VPC with `?as=admin`, as a platform admin sees them), written as a
    plain Django view would: the page's columns, then its zones, trusted teams and backends in
    one query each. tests/bench/test_list_yardsticks.py checks it answers what the API does."""
    owner = request.GET.get("as") == "admin"
    rows = list(
        PublishedService.objects.order_by("name", "id").values(
            "id", "name", "description", "state", "health", "health_reason",
            "health_checked_at", "owner_team_id", "owner_team__slug", "owner_team__name",
            "listener_protocol", "listener_port", "auto_accept", "connection_limit",
            "endpoint_service_id", "endpoint_service_name", "created_at", "updated_at",
            *(("vpc__vpc_id", "last_error_code", "last_error_message") if owner else ()),
        )[:PAGE]
    )  # fmt: skip
    ids = [row["id"] for row in rows]
    zones = _grouped(
        ServiceZone.objects.filter(service_id__in=ids)
        .order_by("zone_id")
        .values_list("service_id", "zone_id", "vswitch__vswitch_id")
    )
    trusted = _grouped(
        PublishedService.trusted_teams.through.objects.filter(publishedservice_id__in=ids)
        .order_by("team__name", "team_id")
        .values_list("publishedservice_id", "team_id", "team__slug", "team__name")
    )
    backends = (
        _grouped(
            ServiceBackend.objects.filter(service_id__in=ids).values_list(
                "service_id", "instance__instance_id", "instance__name",
                "instance__private_ip", "port", "weight", "healthy", "health_reason",
            )
        )
        if owner
        else {}
    )  # fmt: skip
    states, healths = dict(ServiceState.choices), dict(Health.choices)
    detail = request.build_absolute_uri(reverse("api:service-detail", kwargs={"pk": 0}))
    backend_fields = (
        "instance_id", "name", "private_ip", "port", "weight", "healthy", "health_reason",
    )  # fmt: skip
    results = [
        {
            "id": row["id"],
            "name": row["name"],
            "description": row["description"],
            "state": row["state"],
            "state_label": states[row["state"]],
            "health": row["health"],
            "health_label": healths[row["health"]],
            "health_reason": row["health_reason"],
            "health_checked_at": row["health_checked_at"],
            "owner_team": {
                "id": row["owner_team_id"],
                "slug": row["owner_team__slug"],
                "name": row["owner_team__name"],
            },
            "vpc_id": row["vpc__vpc_id"] if owner else None,
            "zones": [
                {"zone_id": zone_id, "vswitch_id": vswitch_id if owner else None}
                for zone_id, vswitch_id in zones[row["id"]]
            ],
            "listener": {"protocol": row["listener_protocol"], "port": row["listener_port"]},
            "auto_accept": row["auto_accept"],
            "connection_limit": row["connection_limit"],
            "trusted_teams": [
                {"id": pk, "slug": slug, "name": name} for pk, slug, name in trusted[row["id"]]
            ],
            "endpoint_service_id": row["endpoint_service_id"],
            "endpoint_service_name": row["endpoint_service_name"],
            "backends": (
                [dict(zip(backend_fields, values, strict=True)) for values in backends[row["id"]]]
                if owner
                else None
            ),
            "last_error": (
                {"code": row["last_error_code"], "message": row["last_error_message"]}
                if owner and (row["last_error_code"] or row["last_error_message"])
                else None
            ),
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "links": {"self": detail.replace("/0/", f"/{row['id']}/")},
        }
        for row in rows
    ]
    return JsonResponse({"results": results})


def bare_access_requests(request):
    rows = AccessRequest.objects.order_by("-created_at", "-id").values(
        "id", "state", "health", "service_id", "service__name", "consumer_team__slug",
        "vpc__vpc_id", "endpoint_id", "endpoint_domain", "justification", "created_at",
        "updated_at",
    )[:PAGE]  # fmt: skip
    return JsonResponse({"results": list(rows)})


def bare_events(request):
    rows = Event.objects.order_by("-created_at", "-id").values(
        "id", "verb", "service_id", "access_request_id", "from_state", "to_state", "detail",
        "created_at",
    )[:PAGE]  # fmt: skip
    return JsonResponse({"results": list(rows)})


urlpatterns = [
    path("bench/bare/services/", bare_services),
    path("bench/bare/service-rows/", bare_service_rows),
    path("bench/bare/access-requests/", bare_access_requests),
    path("bench/bare/events/", bare_events),
    *portal_urls,
]
