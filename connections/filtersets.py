"""Filters of the lists, shared by the pages and the REST API (the same query string for both)."""

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from connections.choices import Health, RequestState, ServiceState
from connections.models import AccessRequest, Event, PublishedService, Team, Vpc


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A row id: whole numbers only (a plain NumberFilter would take 1.5 for 1)."""

    field_class = forms.IntegerField


class PublishedServiceFilterSet(django_filters.FilterSet):
    """The catalog: by state, by owning team (its slug), and a search in names and descriptions."""

    q = django_filters.CharFilter(
        method="search", label="Search", help_text="Words in the name or the description."
    )
    state = django_filters.MultipleChoiceFilter(choices=ServiceState.choices)
    owner_team = django_filters.ModelChoiceFilter(
        queryset=Team.objects.all(), to_field_name="slug", help_text="Slug of the owning team."
    )

    class Meta:
        model = PublishedService
        fields = ["q", "state", "owner_team"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        for word in value.split():
            queryset = queryset.filter(Q(name__icontains=word) | Q(description__icontains=word))
        return queryset


class AccessRequestFilterSet(django_filters.FilterSet):
    """Requests by state, health, service, consumer team (slug) and VPC (cloud id)."""

    state = django_filters.MultipleChoiceFilter(choices=RequestState.choices)
    health = django_filters.MultipleChoiceFilter(choices=Health.choices)
    service = IdFilter(field_name="service_id", help_text="Service id.")
    consumer_team = django_filters.CharFilter(
        field_name="consumer_team__slug", help_text="Slug of the requesting team."
    )
    vpc_id = django_filters.CharFilter(field_name="vpc__vpc_id", help_text="Cloud id of the VPC.")

    class Meta:
        model = AccessRequest
        fields = ["state", "health", "service", "consumer_team", "vpc_id"]


class EventFilterSet(django_filters.FilterSet):
    """The audit trail of one service or request, or of one verb."""

    service = IdFilter(field_name="service_id", help_text="Service id.")
    access_request = IdFilter(field_name="access_request_id", help_text="Access request id.")
    verb = django_filters.CharFilter(help_text="Exact verb, e.g. approve.")

    class Meta:
        model = Event
        fields = ["service", "access_request", "verb"]


class VpcFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(help_text="Exact name, e.g. VPC1.")
    vpc_id = django_filters.CharFilter(help_text="Cloud id of the VPC.")

    class Meta:
        model = Vpc
        fields = ["name", "vpc_id"]
