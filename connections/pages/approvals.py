"""The approval queue (seed step 6): the requests waiting for a decision on the services the
person manages, each with everything needed to decide on one row; one at a time or several at
once."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from connections import actions, policies
from connections.choices import ServiceState
from connections.filtersets import row_id
from connections.models import AccessRequest, PublishedService, Team
from connections.pages import live
from connections.pages.forms import RejectForm
from connections.pages.paging import paginate
from connections.pages.refusals import REFUSALS, back_to, refusal_message
from connections.pages.requests import rows_version


def _without_fragment(request) -> str:
    query = request.GET.copy()
    query.pop("fragment", None)
    return f"{request.path}?{query.urlencode()}" if query else request.path


def teams_managed(request):
    return policies.teams_q(request.user, managed=True)


def _queue(request):
    """The person's queue, by service when asked (the person from the session)."""
    queue = AccessRequest.objects.filter(policies.approval_queue_q(live.signed_in_user_id(request)))
    service_id = row_id(request.GET.get("service", ""))
    return queue.filter(service_id=service_id) if service_id else queue


QUEUE_ORDER = ("created_at", "id")
# The service filter lists at most this many services (by name); more would not fit a select.
SERVICE_CHOICES = 200


def _queue_version(request) -> str:
    """What the queue shows changes when a request joins or leaves its page (one query)."""
    shown = _queue(request).only("pk", "state", "health", "updated_at")
    return rows_version(paginate(request, shown, QUEUE_ORDER).rows)


@live.page(version=_queue_version)
def approval_list(request):
    """Pending requests for the services the person manages, oldest first; filter by service."""
    polling = request.htmx and request.GET.get("fragment") == "rows"
    queue, service_id = _queue(request), request.GET.get("service", "")
    if not policies.publishes_for_some_team(request.user):
        return render(
            request,
            "connections/forbidden.html",
            {"nav": "approvals", "reason": _("The approval queue is for owners of a team.")},
            status=403,
        )
    managed = (
        PublishedService.objects.filter(owner_team__in=Team.objects.filter(teams_managed(request)))
        .exclude(state=ServiceState.RETIRED)
        .order_by("name", "id")
    )
    page = paginate(request, queue.for_list(), QUEUE_ORDER)
    context = {
        "nav": "approvals",
        "page": page,
        "services": managed.values_list("pk", "name")[:SERVICE_CHOICES],
        "service_filter": service_id,
        "reject_form": RejectForm(),
        "version": rows_version(page.rows),
        # Where the row's buttons come back to: this page, never its poll's fragment.
        "queue_url": _without_fragment(request),
    }
    if polling:
        return render(request, "connections/partials/approval_rows.html", context)
    return render(request, "connections/approval_list.html", context)


@live.page(
    version=lambda request: live.fingerprint(live.awaiting_count(live.signed_in_user_id(request)))
)
def awaiting_count(request):
    """The header's count of requests waiting for this person (polled; one query)."""
    count = live.awaiting_count(request.user.pk)
    version = live.fingerprint(count)
    return render(
        request, "connections/partials/awaiting_count.html", {"count": count, "version": version}
    )


@login_required
@require_POST
def decide(request) -> HttpResponse:
    """Approve, or reject with one reason, every request ticked on the queue."""
    decision = request.POST.get("decision")
    ids = [pk for value in request.POST.getlist("selected") if (pk := row_id(value))]
    chosen = AccessRequest.objects.visible_to(request.user).filter(pk__in=ids)
    queue_url = reverse("connections:approval_list")
    if decision not in ("approve", "reject") or not ids:
        messages.error(request, _("Tick the requests to decide, then Approve or Reject."))
        return back_to(request, queue_url)
    form = RejectForm(request.POST)
    if decision == "reject" and not form.is_valid():
        messages.error(request, _("Give a reason for the rejection."))
        return back_to(request, queue_url)
    chosen = list(chosen.select_related("service__owner_team"))
    if not chosen:
        messages.error(request, _("None of the ticked requests is there any more."))
        return back_to(request, queue_url)
    done, refused = 0, []
    for access_request in chosen:
        try:
            if decision == "approve":
                actions.approve_request(request.user, access_request)
            else:
                actions.reject_request(
                    request.user, access_request, reason=form.cleaned_data["reason"]
                )
        except REFUSALS as error:
            refused.append(f"#{access_request.pk}: {refusal_message(error)}")
        else:
            done += 1
    if done:
        message = (
            ngettext("Approved %(n)d request.", "Approved %(n)d requests.", done)
            if decision == "approve"
            else ngettext("Rejected %(n)d request.", "Rejected %(n)d requests.", done)
        )
        messages.success(request, message % {"n": done})
    for line in refused:
        messages.error(request, line)
    return back_to(request, queue_url)
