"""What the health sweep found, and its clean-up."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from connections import actions
from connections.api.idempotency import idempotent
from connections.api.schema import (
    ID_IN_PATH,
    IDEMPOTENT,
    READ_PROBLEMS,
    WRITE_PROBLEMS,
    problems,
)
from connections.api.serializers import (
    FindingSerializer,
)
from connections.api.views.base import PortalViewSet
from connections.filtersets import (
    FindingFilterSet,
)
from connections.models import (
    Finding,
)


@extend_schema_view(
    list=extend_schema(
        summary="What the health sweep found",
        description="Connections the portal does not manage, whitelist entries no live request "
        "needs, endpoints with the portal's tags and no request: for the owners of the service "
        "they concern (platform admins: all). Open ones unless `state` says otherwise.",
        responses={200: FindingSerializer(many=True), **problems(*READ_PROBLEMS)},
    )
)
class FindingViewSet(mixins.ListModelMixin, PortalViewSet):
    queryset = Finding.objects.none()  # the model, for the schema; rows: get_queryset
    serializer_class = FindingSerializer
    filterset_class = FindingFilterSet
    ordering_fields = ["first_seen", "last_seen"]
    ordering = ["-first_seen", "-id"]

    def get_queryset(self) -> QuerySet[Finding]:
        return Finding.objects.visible_to(self.request.user).select_related("account", "service")

    @extend_schema(
        summary="Clean it up",
        description="Remove the orphan endpoint or the whitelist entry, by a worker: only what "
        "the portal made, checked again against the cloud first. Answers 202 with state "
        "cleaning; the finding is resolved when it is done, or shows `clean_up_error`.",
        request=None,
        parameters=[ID_IN_PATH, *IDEMPOTENT],
        responses={202: FindingSerializer, **problems(*WRITE_PROBLEMS, 404, 409, 422)},
    )
    @action(detail=True, methods=["post"], url_path="clean-up", filter_backends=[])
    @idempotent
    def clean_up(self, request, *args, **kwargs) -> Response:
        finding = actions.clean_up_finding(request.user, self.get_object())
        return self.represent(finding, FindingSerializer, status.HTTP_202_ACCEPTED)
