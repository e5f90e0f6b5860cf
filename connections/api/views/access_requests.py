"""Requests for access (seed step 5), their approval (step 6), revocation and health."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from connections import actions, policies
from connections.api.conditional import conditional_response
from connections.api.idempotency import idempotent
from connections.api.inputs import (
    AccessRequestCreateSerializer,
    RejectSerializer,
    WaitQuerySerializer,
)
from connections.api.pagination import HealthHistoryPagination
from connections.api.schema import (
    DETAIL_PROBLEMS,
    ETAG_HEADER,
    ID_IN_PATH,
    IDEMPOTENT,
    IF_NONE_MATCH,
    LOCATION_HEADER,
    NOT_MODIFIED,
    READ_PROBLEMS,
    WRITE_PROBLEMS,
    problems,
)
from connections.api.serializers import (
    AccessRequestDetailSerializer,
    AccessRequestSerializer,
    HealthSampleSerializer,
)
from connections.api.serializers.access_requests import ACCESS_REQUEST_FIELDS
from connections.api.views.base import PortalViewSet, validated
from connections.api.waiting import wait_for_state, waiting_slot
from connections.choices import RequestState
from connections.filtersets import (
    AccessRequestFilterSet,
)
from connections.models import (
    AccessRequest,
    Event,
)

# A request's row: the columns its fields read (ACCESS_REQUEST_FIELDS), its zones and security
# groups inside the row (with_row_relations). Built once, at import, as the catalog's.
REQUEST_ROWS = AccessRequest.objects.only(*ACCESS_REQUEST_FIELDS.columns).with_row_relations()


@extend_schema_view(
    list=extend_schema(
        summary="Access requests",
        description="Your teams' requests and the requests to your teams' services.",
        responses={200: AccessRequestSerializer(many=True), **problems(*READ_PROBLEMS)},
    ),
)
class AccessRequestViewSet(mixins.ListModelMixin, PortalViewSet):
    """Requests for access (seed step 5), their approval (step 6) and revocation."""

    queryset = AccessRequest.objects.none()  # the model, for the schema; rows: get_queryset
    serializer_class = AccessRequestSerializer
    filterset_class = AccessRequestFilterSet
    ordering_fields = ["created_at", "updated_at"]
    ordering = ["-created_at"]
    problem_field_names = {"vpc": "vpc_id", "security_groups": "security_group_ids"}

    def get_queryset(self) -> QuerySet[AccessRequest]:
        requests = REQUEST_ROWS.visible_to(self.request.user)
        if self.action != "list":
            requests = requests.prefetch_related(
                Prefetch("events", Event.objects.select_related("actor"))
            )
        return requests

    @extend_schema(
        summary="One access request",
        description="With `wait_for`, the answer waits (up to `timeout` seconds, at most 60) "
        "until the request reaches that state, or can no longer reach it; `wait` says which.",
        parameters=[
            ID_IN_PATH,
            IF_NONE_MATCH,
            ETAG_HEADER,
            OpenApiParameter(
                "wait_for",
                OpenApiTypes.STR,
                enum=RequestState.values,
                description="A state to wait for, e.g. connected.",
            ),
            OpenApiParameter(
                "timeout",
                OpenApiTypes.NUMBER,
                description="Seconds to wait at most (0–60, default 30).",
            ),
        ],
        responses={
            200: AccessRequestDetailSerializer,
            304: NOT_MODIFIED,
            **problems(*DETAIL_PROBLEMS),
        },
    )
    def retrieve(self, request, *args, **kwargs) -> Response:
        query = validated(WaitQuerySerializer, request.query_params, request)
        access_request = self.get_object()
        context = self.get_serializer_context()
        if "wait_for" in query:
            with waiting_slot(request.user):
                outcome = wait_for_state(access_request.pk, query["wait_for"], query["timeout"])
            # Re-read as this user sees it now: a request they lost sight of meanwhile is a 404.
            policies.forget_roles(request.user)
            access_request = self.get_queryset().filter(pk=access_request.pk).first()
            if access_request is None:
                raise Http404
            context["wait"] = outcome
        data = AccessRequestDetailSerializer(access_request, context=context).data
        # The tag is the object's alone: how long a wait took is not a change of the object.
        return conditional_response(request, data, tagged={**data, "wait": None})

    @extend_schema(
        summary="Request access",
        description="From one of your team's VPCs, in zones the service offers. The portal "
        "checks everything first (codes such as `zone_not_offered`, `vswitch_not_in_vpc`, "
        "`duplicate_request`), then a worker creates the endpoint.",
        request=AccessRequestCreateSerializer,
        parameters=[*IDEMPOTENT, LOCATION_HEADER],
        responses={201: AccessRequestDetailSerializer, **problems(*WRITE_PROBLEMS, 409, 422)},
    )
    @idempotent
    def create(self, request, *args, **kwargs) -> Response:
        arguments = validated(AccessRequestCreateSerializer, request.data, request)
        access_request = actions.request_access(request.user, **arguments)
        response = self.represent(
            access_request, AccessRequestDetailSerializer, status.HTTP_201_CREATED
        )
        response["Location"] = response.data["links"]["self"]
        return response

    @extend_schema(
        summary="Revoke",
        description="Either side ends access: the endpoint is deleted, then the request is "
        "revoked. Answers 202 with state revoking.",
        parameters=[ID_IN_PATH],
        responses={202: AccessRequestDetailSerializer, **problems(*WRITE_PROBLEMS, 404, 409)},
    )
    def destroy(self, request, *args, **kwargs) -> Response:
        access_request = actions.revoke_request(request.user, self.get_object())
        return self.represent(
            access_request, AccessRequestDetailSerializer, status.HTTP_202_ACCEPTED
        )

    @extend_schema(
        summary="Approve (seed step 6)",
        request=None,
        parameters=[ID_IN_PATH, *IDEMPOTENT],
        responses={
            202: AccessRequestDetailSerializer,
            **problems(*WRITE_PROBLEMS, 404, 409, 422),
        },
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def approve(self, request, *args, **kwargs) -> Response:
        access_request = actions.approve_request(request.user, self.get_object())
        return self.represent(
            access_request, AccessRequestDetailSerializer, status.HTTP_202_ACCEPTED
        )

    @extend_schema(
        summary="Reject",
        request=RejectSerializer,
        parameters=[ID_IN_PATH, *IDEMPOTENT],
        responses={
            202: AccessRequestDetailSerializer,
            **problems(*WRITE_PROBLEMS, 404, 409, 422),
        },
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def reject(self, request, *args, **kwargs) -> Response:
        reason = validated(RejectSerializer, request.data, request)["reason"]
        access_request = actions.reject_request(request.user, self.get_object(), reason=reason)
        return self.represent(
            access_request, AccessRequestDetailSerializer, status.HTTP_202_ACCEPTED
        )

    @extend_schema(
        summary="Retry after a failure",
        request=None,
        parameters=[ID_IN_PATH, *IDEMPOTENT],
        responses={
            202: AccessRequestDetailSerializer,
            **problems(*WRITE_PROBLEMS, 404, 409, 422),
        },
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def retry(self, request, *args, **kwargs) -> Response:
        access_request = actions.retry_request(request.user, self.get_object())
        return self.represent(
            access_request, AccessRequestDetailSerializer, status.HTTP_202_ACCEPTED
        )

    @extend_schema(
        summary="Its health history",
        description="Every change of health and a point every few minutes between; after a day "
        "one point an hour (the worst of it), for 30 days. Newest first.",
        parameters=[ID_IN_PATH],
        responses={200: HealthSampleSerializer(many=True), **problems(*DETAIL_PROBLEMS)},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="health-history",
        filter_backends=[],
        pagination_class=HealthHistoryPagination,
    )
    def health_history(self, request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_object().health_samples.all())
        return self.get_paginated_response(HealthSampleSerializer(page, many=True).data)
