"""Pages of the connections app."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def catalog(request):
    """The service catalog (filled by Stage 2a and the UI stage)."""
    return render(request, "connections/catalog.html")
