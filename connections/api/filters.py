"""The API's list filters: the filtersets of `connections.filtersets` (the pages' own) and the
ordering, both strict: a value they cannot use is a 400, never silently ignored."""

import django_filters
from django import forms
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.filters import OrderingFilter


class FilterBackend(DjangoFilterBackend):
    """django-filter, with each refused filter value reported under its own code."""

    def filter_queryset(self, request, queryset: QuerySet, view) -> QuerySet:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not self.is_asked(filterset_class, request):
            return queryset
        filterset = filterset_class(**self.get_filterset_kwargs(request, queryset, view))
        if not filterset.is_valid():
            raise ValidationError(
                {
                    field: [ErrorDetail(" ".join(e.messages), code=e.code) for e in errors]
                    for field, errors in filterset.errors.as_data().items()
                }
            )
        return filterset.qs

    @staticmethod
    def is_asked(filterset_class, request) -> bool:
        """Would the filterset change anything? Building one (a form, a deep copy of every
        filter) is most of a plain list's cost, and with none of its parameters given a stock
        filterset filters nothing. One that may filter by default (its own `qs`,
        `filter_queryset`, `__init__` or form, a required filter) is always built."""
        stock = django_filters.FilterSet
        if (
            filterset_class.qs is not stock.qs
            or filterset_class.filter_queryset is not stock.filter_queryset
            or filterset_class.__init__ is not stock.__init__
            or filterset_class._meta.form is not forms.Form
            or any(f.extra.get("required") for f in filterset_class.base_filters.values())
        ):
            return True
        # A filter's parameters are its name, or its name and a suffix (a range's _min, _max).
        return any(
            parameter == name or parameter.startswith(f"{name}_")
            for parameter in request.query_params
            for name in filterset_class.base_filters
        )


class StrictOrderingFilter(OrderingFilter):
    """`?ordering=`: DRF drops the fields it does not know, so a typo would return the default
    order as if it were the asked one. Here an unknown field is a 400 that lists the known."""

    def remove_invalid_fields(self, queryset, fields, view, request) -> list[str]:
        valid = super().remove_invalid_fields(queryset, fields, view, request)
        unknown = [term for term in fields if term and term not in valid]
        if unknown:
            known = ", ".join(
                name for name, _ in self.get_valid_fields(queryset, view, {"request": request})
            )
            raise ValidationError(
                {
                    self.ordering_param: [
                        ErrorDetail(
                            f"Cannot order by {', '.join(unknown)}: use {known} "
                            "(with - in front for descending).",
                            code="invalid_ordering",
                        )
                    ]
                }
            )
        return valid
