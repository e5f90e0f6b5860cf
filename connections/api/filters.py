"""django-filter for the API: the filtersets of `connections.filtersets`, the pages' own."""

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ErrorDetail, ValidationError


class FilterBackend(DjangoFilterBackend):
    """django-filter, with each refused filter value reported under its own code."""

    def filter_queryset(self, request, queryset: QuerySet, view) -> QuerySet:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            raise ValidationError(
                {
                    field: [ErrorDetail(" ".join(e.messages), code=e.code) for e in errors]
                    for field, errors in filterset.errors.as_data().items()
                }
            )
        return filterset.qs
