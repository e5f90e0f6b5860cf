"""The API's filter backend builds no filterset when none of its parameters is asked for, unless
the filterset may filter by default: the shortcut must never change what a list answers."""

import inspect

import django_filters
import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from connections import filtersets
from connections.api.filters import FilterBackend

pytestmark = pytest.mark.django_db

FILTERSETS = [
    cls
    for _, cls in inspect.getmembers(filtersets, inspect.isclass)
    if issubclass(cls, django_filters.FilterSet) and cls.__module__ == filtersets.__name__
]


def asked(filterset_class, query: str = "") -> bool:
    return FilterBackend.is_asked(filterset_class, Request(APIRequestFactory().get(f"/?{query}")))


def test_every_filterset_of_the_lists_is_checked():
    assert {cls.__name__ for cls in FILTERSETS} >= {
        "PublishedServiceFilterSet", "AccessRequestFilterSet", "FindingFilterSet", "VpcFilterSet",
    }  # fmt: skip


@pytest.mark.parametrize("filterset_class", FILTERSETS, ids=lambda cls: cls.__name__)
def test_a_filterset_skipped_without_parameters_would_have_filtered_nothing(filterset_class):
    rows = filterset_class._meta.model.objects.all()
    if not asked(filterset_class):
        built = filterset_class(data={}, queryset=rows)
        assert built.is_valid()
        assert str(built.qs.query) == str(rows.query)


def test_a_filterset_with_a_default_is_always_built():
    # Findings are listed open by default: skipping the filterset would list resolved ones too.
    assert asked(filtersets.FindingFilterSet)


def test_any_of_a_filters_parameters_asks_for_the_filterset():
    assert not asked(filtersets.AccessRequestFilterSet, "ordering=created_at&cursor=x")
    assert asked(filtersets.AccessRequestFilterSet, "state=connected")
    # A parameter with the filter's name and a suffix, as a range filter's _min and _max.
    assert asked(filtersets.AccessRequestFilterSet, "service_min=1")


def test_an_unknown_parameter_is_still_ignored_as_before():
    # django-filter ignores parameters it has no filter for; so does the shortcut.
    assert not asked(filtersets.PublishedServiceFilterSet, "colour=blue")
