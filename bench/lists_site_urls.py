"""The portal's URLs and the bare views of bench/api_lists.py (see bench/lists_site.py): for
each list its own columns in one query ("columns"), and for the catalog and the access requests
every field the API answers too ("same rows"). Plain Django views answering a JsonResponse;
dates are written as the API writes them before the encoder sees them, so that it never calls
back into Python."""

from collections import defaultdict
from datetime import UTC

from django.db.models import Q
from django.http import JsonResponse
from django.urls import path

from connections import states
from connections.choices import Health, RequestState, ServiceState
from connections.models import (
    AccessRequest,
    Event,
    PublishedService,
    RequestZone,
    ServiceBackend,
    ServiceZone,
)
from connections.states import REQUEST_DECIDABLE, REQUEST_REVOCABLE, SERVICE_RETIRABLE
from portal.urls import urlpatterns as portal_urls

PAGE = 50


def _iso(moment) -> str | None:
    """A date as the API answers it (UTC, the portal's time zone here, written with a Z)."""
    return moment and moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _answer(rows, *dates: str) -> JsonResponse:
    results = [{**row, **{name: _iso(row[name]) for name in dates}} for row in rows]
    return JsonResponse({"results": results})


def bare_services(request):
    rows = PublishedService.objects.order_by("name", "id").values(
        "id", "name", "description", "state", "health", "owner_team__slug", "owner_team__name",
        "listener_protocol", "listener_port", "auto_accept", "endpoint_service_id",
        "endpoint_service_name", "created_at", "updated_at",
    )[:PAGE]  # fmt: skip
    return _answer(rows, "created_at", "updated_at")


def _grouped(rows) -> dict[int, list[tuple]]:
    by_service = defaultdict(list)
    for service_id, *values in rows:
        by_service[service_id].append(values)
    return by_service


def bare_service_rows(request):
    """The catalog's page with every field and link the API answers a team member, or with
    `?as=admin` a platform admin (the owners' backends, VPC, last error and links too), written
    as a plain Django view would: the page's columns, then its zones, trusted teams and backends
    in one query each. tests/bench/test_list_yardsticks.py checks it answers what the API does."""
    owner = request.GET.get("as") == "admin"
    rows = list(
        PublishedService.objects.order_by("name", "id").values(
            "id", "name", "description", "state", "health", "health_reason",
            "health_checked_at", "owner_team_id", "owner_team__slug", "owner_team__name",
            "listener_protocol", "listener_port", "auto_accept", "connection_limit",
            "endpoint_service_id", "endpoint_service_name", "created_at", "updated_at",
            *(("vpc__vpc_id", "last_error_code", "last_error_message", "failed_phase")
              if owner else ()),
        )[: PAGE + 1]
    )  # fmt: skip
    rows, more = rows[:PAGE], len(rows) > PAGE
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
    api = request.build_absolute_uri("/api/v1/")
    backend_fields = (
        "instance_id", "name", "private_ip", "port", "weight", "healthy", "health_reason",
    )  # fmt: skip

    def links(row: dict) -> dict:
        # Both people are in a team; an admin may do to every service what its owners may.
        own = f"{api}services/{row['id']}/"
        found = {"self": own}
        if row["state"] == ServiceState.AVAILABLE:
            found["request_access"] = f"{api}access-requests/"
        if owner:
            found["events"] = f"{api}events/?service={row['id']}"
            found["findings"] = f"{api}findings/?service={row['id']}"
            if row["state"] in SERVICE_RETIRABLE:
                found["retire"] = own
            if row["state"] == ServiceState.FAILED and row["failed_phase"]:
                found["retry"] = f"{own}retry/"
        return found

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
            "health_checked_at": _iso(row["health_checked_at"]),
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
            "created_at": _iso(row["created_at"]),
            "updated_at": _iso(row["updated_at"]),
            "links": links(row),
        }
        for row in rows
    ]
    # The next page by the last row's position, as a keyset page asks for it.
    last = rows[-1] if more else None
    after = f"{request.path}?after={last['name']}&id={last['id']}" if last else None
    return JsonResponse({"next": after, "previous": None, "results": results})


def bare_access_requests(request):
    rows = AccessRequest.objects.order_by("-created_at", "-id").values(
        "id", "state", "health", "service_id", "service__name", "consumer_team__slug",
        "vpc__vpc_id", "endpoint_id", "endpoint_domain", "justification", "created_at",
        "updated_at",
    )[:PAGE]  # fmt: skip
    return _answer(rows, "created_at", "updated_at")


def bare_access_request_rows(request):
    """The requests' page with every field and link the API answers a platform admin (every
    row), or with `?as=member` a member of Apps (Apps' requests and those to Apps' services),
    written as a plain Django view would: the page's columns with their service, teams,
    requester, VPC and account, then its zones and security groups in one query each.
    tests/bench/test_list_yardsticks.py checks it answers what the API does."""
    admin = request.GET.get("as") != "member"
    rows = AccessRequest.objects.order_by("-created_at", "-id")
    if not admin:
        rows = rows.filter(Q(consumer_team__slug="apps") | Q(service__owner_team__slug="apps"))
    rows = list(
        rows.values(
            "id", "state", "health", "health_reason", "health_checked_at", "probe_latency_ms",
            "service_id", "service__name", "consumer_team_id", "consumer_team__slug",
            "consumer_team__name", "requester__username", "vpc__vpc_id", "vpc__account__name",
            "vpc__account__uid", "endpoint_id", "endpoint_domain", "justification",
            "decision_reason", "expires_at", "last_error_code", "last_error_message",
            "failed_phase", "created_at", "updated_at", "connected_at", "closed_at",
        )[: PAGE + 1]
    )  # fmt: skip
    rows, more = rows[:PAGE], len(rows) > PAGE
    ids = [row["id"] for row in rows]
    zones = _grouped(
        RequestZone.objects.filter(access_request_id__in=ids)
        .order_by("zone_id")
        .values_list(
            "access_request_id", "zone_id", "vswitch__vswitch_id", "status", "eni_id", "eni_ip",
            "zone_domain",
        )
    )  # fmt: skip
    groups = _grouped(
        AccessRequest.security_groups.through.objects.filter(accessrequest_id__in=ids)
        .order_by("securitygroup__security_group_id")
        .values_list("accessrequest_id", "securitygroup__security_group_id")
    )
    labels, healths = dict(RequestState.choices), dict(Health.choices)
    api = request.build_absolute_uri("/api/v1/")
    zone_fields = ("zone_id", "vswitch_id", "status", "eni_id", "eni_ip", "zone_domain")

    def links(row: dict) -> dict:
        own = f"{api}access-requests/{row['id']}/"
        found = {
            "self": own,
            "service": f"{api}services/{row['service_id']}/",
            "events": f"{api}events/?access_request={row['id']}",
            "health_history": f"{own}health-history/",
        }
        # The admin decides on every request; the member is on the requesting side of Apps'.
        either_side = admin or row["consumer_team__slug"] == "apps"
        if admin and row["state"] in REQUEST_DECIDABLE:
            found["approve"], found["reject"] = f"{own}approve/", f"{own}reject/"
        if either_side and row["failed_phase"]:
            record = AccessRequest(state=row["state"], failed_phase=row["failed_phase"])
            if states.retry_plan(record):
                found["retry"] = f"{own}retry/"
        if either_side and row["state"] in REQUEST_REVOCABLE:
            found["revoke"] = own
        return found

    results = [
        {
            "id": row["id"],
            "state": row["state"],
            "state_label": labels[row["state"]],
            "health": row["health"],
            "health_label": healths[row["health"]],
            "health_reason": row["health_reason"],
            "health_checked_at": _iso(row["health_checked_at"]),
            "probe_latency_ms": row["probe_latency_ms"],
            "service": {"id": row["service_id"], "name": row["service__name"]},
            "consumer_team": {
                "id": row["consumer_team_id"],
                "slug": row["consumer_team__slug"],
                "name": row["consumer_team__name"],
            },
            "requester": row["requester__username"],
            "vpc_id": row["vpc__vpc_id"],
            "account": {"name": row["vpc__account__name"], "uid": row["vpc__account__uid"]},
            "security_group_ids": [group for (group,) in groups[row["id"]]],
            "zones": [dict(zip(zone_fields, zone, strict=True)) for zone in zones[row["id"]]],
            "endpoint_id": row["endpoint_id"],
            "endpoint_domain": row["endpoint_domain"],
            "justification": row["justification"],
            "decision_reason": row["decision_reason"],
            "expires_at": _iso(row["expires_at"]),
            "last_error": (
                {"code": row["last_error_code"], "message": row["last_error_message"]}
                if row["last_error_code"] or row["last_error_message"]
                else None
            ),
            "created_at": _iso(row["created_at"]),
            "updated_at": _iso(row["updated_at"]),
            "connected_at": _iso(row["connected_at"]),
            "closed_at": _iso(row["closed_at"]),
            "links": links(row),
        }
        for row in rows
    ]
    last = rows[-1] if more else None
    after = f"{request.path}?after={_iso(last['created_at'])}&id={last['id']}" if last else None
    return JsonResponse({"next": after, "previous": None, "results": results})


def bare_events(request):
    rows = Event.objects.order_by("-created_at", "-id").values(
        "id", "verb", "service_id", "access_request_id", "from_state", "to_state", "detail",
        "created_at",
    )[:PAGE]  # fmt: skip
    return _answer(rows, "created_at")


urlpatterns = [
    path("bench/bare/services/", bare_services),
    path("bench/bare/service-rows/", bare_service_rows),
    path("bench/bare/access-requests/", bare_access_requests),
    path("bench/bare/access-request-rows/", bare_access_request_rows),
    path("bench/bare/events/", bare_events),
    *portal_urls,
]
