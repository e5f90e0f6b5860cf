"""What every viewset of the API shares: filters, ordering, numeric ids, the address throttle
before any refusal of credentials, and input validated into plain values."""

from __future__ import annotations

from django_filters import MultipleChoiceFilter
from rest_framework import status, viewsets
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.response import Response

from connections.api.filters import FilterBackend, StrictOrderingFilter
from connections.api.throttling import ThrottledBeforeAuthentication


def validated(serializer_class, data, request) -> dict:
    serializer = serializer_class(data=data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PortalViewSet(ThrottledBeforeAuthentication, viewsets.GenericViewSet):
    """What every viewset of the API shares: filters, ordering, numeric ids in URLs, and the
    address throttle before any refusal of credentials."""

    filter_backends = [FilterBackend, StrictOrderingFilter]
    lookup_value_regex = "[0-9]+"
    # Service field names (in their ValidationErrors) as this API's input calls them.
    problem_field_names: dict[str, str] = {}

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        self.refuse_repeated_parameters(request)

    def refuse_repeated_parameters(self, request) -> None:
        """A parameter given twice is ambiguous (Django would take the last): refuse it, unless
        it is a filter that takes several values (`state=a&state=b`)."""
        filterset = getattr(self, "filterset_class", None)
        repeatable = {
            name
            for name, query_filter in (filterset.base_filters.items() if filterset else ())
            if isinstance(query_filter, MultipleChoiceFilter)
        }
        repeated = {
            name: [ErrorDetail("Give this parameter once.", code="repeated_parameter")]
            for name, values in request.query_params.lists()
            if len(values) > 1 and name not in repeatable
        }
        if repeated:
            raise ValidationError(repeated)

    def represent(self, obj, serializer_class, status_code: int = status.HTTP_200_OK) -> Response:
        """The object as re-read through this view's queryset, so its relations are current."""
        fresh = self.get_queryset().get(pk=obj.pk)
        return Response(
            serializer_class(fresh, context=self.get_serializer_context()).data, status_code
        )
