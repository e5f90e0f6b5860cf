"""Pages of the connections app ."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from connections.choices import ServiceState
from connections.filtersets import PublishedServiceFilterSet
from connections.models import PublishedService


@login_required
def catalog(request):
    """The service catalog: every service not retired, filtered like GET /api/v1/services/."""
    services = (
        PublishedService.objects.exclude(state=ServiceState.RETIRED)
        .select_related("owner_team")
        .prefetch_related("zones")
        .order_by("name")
    )
    filterset = PublishedServiceFilterSet(request.GET, queryset=services)
    return render(
        request, "connections/catalog.html", {"filterset": filterset, "services": filterset.qs}
    )
