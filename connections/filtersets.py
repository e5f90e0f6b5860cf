"""Filters of the lists, shared by the pages and the REST API (the same query string for both)."""

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field

from connections.choices import Health, RequestState, ServiceState
from connections.models import (
    MAX_ROW_ID,
    AccessRequest,
    Event,
    Finding,
    PublishedService,
    Team,
    Vpc,
)

# A search is a few words: each one is a condition on two columns.
SEARCH_MAX_LENGTH = 200
SEARCH_MAX_WORDS = 8


class RowIdField(forms.IntegerField):
    """Whole numbers that can be row ids: a larger one would overflow the database's integer."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_ROW_ID, **kwargs)


def row_id(value) -> int | None:
    """`value` as a row id, or None when it is not one (a page's own parameters and ticked boxes:
    "²" is a digit to str.isdigit but no number to int, and a huge one overflows the database)."""
    try:
        return RowIdField(required=False).clean(value)
    except forms.ValidationError:
        return None


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID})
class IdFilter(django_filters.NumberFilter):
    """A row id: whole numbers only (a plain NumberFilter would take 1.5 for 1)."""

    field_class = RowIdField


class SearchField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(max_length=SEARCH_MAX_LENGTH, **kwargs)

    def validate(self, value: str) -> None:
        super().validate(value)
        if len(value.split()) > SEARCH_MAX_WORDS:
            raise forms.ValidationError(
                gettext("Search with %(count)d words at most.") % {"count": SEARCH_MAX_WORDS},
                code="too_many_words",
            )


@extend_schema_field({"type": "string", "maxLength": SEARCH_MAX_LENGTH})
class SearchFilter(django_filters.CharFilter):
    field_class = SearchField


class AnyOfField(forms.MultipleChoiceField):
    """Several values; an empty one means "any", as a browser sends a select left at "Any"."""

    def to_python(self, value) -> list[str]:
        return [item for item in super().to_python(value) if item != ""]


class AnyOfFilter(django_filters.MultipleChoiceFilter):
    field_class = AnyOfField


class PublishedServiceFilterSet(django_filters.FilterSet):
    """The catalog: by state, by owning team (its slug), and a search in names and descriptions."""

    q = SearchFilter(
        method="search",
        label="Search",
        help_text=f"Words in the name or the description ({SEARCH_MAX_WORDS} at most).",
    )
    state = AnyOfFilter(choices=ServiceState.choices)
    owner_team = django_filters.ModelChoiceFilter(
        queryset=Team.objects.all(), to_field_name="slug", help_text="Slug of the owning team."
    )

    class Meta:
        model = PublishedService
        fields = ["q", "state", "owner_team"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # One filter() with every word: chained filter() calls could each join anew.
        every_word = Q()
        for word in value.split():
            every_word &= Q(name__icontains=word) | Q(description__icontains=word)
        return queryset.filter(every_word)


class AccessRequestFilterSet(django_filters.FilterSet):
    """Requests by state, health, service, consumer team (slug) and VPC (cloud id)."""

    state = AnyOfFilter(choices=RequestState.choices)
    health = AnyOfFilter(choices=Health.choices)
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


class FindingFilterSet(django_filters.FilterSet):
    """What the health sweep found: open ones by default (`state=resolved`, or both)."""

    state = AnyOfFilter(
        choices=[(state, state) for state in (Finding.OPEN, Finding.CLEANING, Finding.RESOLVED)],
        method="in_states",
        help_text="open (the default: open and cleaning), cleaning or resolved.",
    )
    kind = AnyOfFilter(choices=Finding.Kind.choices)
    service = IdFilter(field_name="service_id", help_text="Service id.")

    class Meta:
        model = Finding
        fields = ["state", "kind", "service"]

    STATES = {
        Finding.OPEN: Q(resolved_at__isnull=True, cleaning=False),
        Finding.CLEANING: Q(resolved_at__isnull=True, cleaning=True),
        Finding.RESOLVED: Q(resolved_at__isnull=False),
    }

    @property
    def qs(self):
        queryset = super().qs
        if not self.form.cleaned_data.get("state"):
            queryset = queryset.filter(resolved_at__isnull=True)
        return queryset

    def in_states(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        wanted = Q()
        for state in value:
            wanted |= self.STATES[state]
        return queryset.filter(wanted)


class VpcFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(help_text="Exact name, e.g. VPC1.")
    vpc_id = django_filters.CharFilter(help_text="Cloud id of the VPC.")

    class Meta:
        model = Vpc
        fields = ["name", "vpc_id"]
