"""The portal's URLs and the bare views of bench/api_lists.py (see bench/lists_site.py)."""

from django.http import JsonResponse
from django.urls import path

from connections.models import AccessRequest, Event, PublishedService
from portal.urls import urlpatterns as portal_urls

PAGE = 50


def bare_services(request):
    rows = PublishedService.objects.order_by("name", "id").values(
        "id", "name", "description", "state", "health", "owner_team__slug", "owner_team__name",
        "listener_protocol", "listener_port", "auto_accept", "endpoint_service_id",
        "endpoint_service_name", "created_at", "updated_at",
    )[:PAGE]  # fmt: skip
    return JsonResponse({"results": list(rows)})


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
    path("bench/bare/access-requests/", bare_access_requests),
    path("bench/bare/events/", bare_events),
    *portal_urls,
]
