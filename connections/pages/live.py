"""Live regions: parts of a page that htmx polls every second and swaps when what they show changed.

Polling rather than server-sent events: the portal runs on plain WSGI (gunicorn threads, and
runserver under `make run`), where an open event stream holds a server thread per browser tab for
as long as the tab is open; a poll holds one for a few milliseconds. What a region shows is cheap
to fingerprint, so a poll that finds nothing changed costs one small indexed query and an empty
204 answer, which htmx leaves alone:

- the region carries its fingerprint (`version`) and sends it back in the X-Portal-Version header;
- the view computes the current fingerprint with one query (`*_version` below), reading who asks
  from the session alone (`signed_in_user_id`: the cached session, no query), and answers 204 when
  it is the same. Only a changed region costs the full page work, with `request.user` and the
  policies, so an answer never shows what the person may no longer see;
- a region in a state that no longer changes (a revoked request, a retired service) is rendered
  without its trigger, and static/js/portal.js holds every poll while the tab is hidden.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps

from django.contrib.auth import SESSION_KEY
from django.contrib.auth.views import redirect_to_login
from django.db.models import Count, OuterRef, Subquery, Value
from django.http import HttpRequest, HttpResponse
from django.views.decorators.vary import vary_on_headers

from connections import policies
from connections.models import AccessRequest, ConnectionTest, Event, Finding, PublishedService

VERSION_HEADER = "X-Portal-Version"
POLL_SECONDS = 1


def page(version: Callable[..., str | None] | None = None):
    """Decorate a page view: signed-in people only, and, with `version`, a poll of its live part
    (an htmx GET with `fragment`) that finds the version unchanged is answered 204 at once, with
    the person read from the session only. Every other request gets the whole view, with
    `request.user` and the policies. A sign-in that ran out sends htmx to the sign-in page rather
    than swapping the sign-in page into a region."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            polling = request.htmx and request.GET.get("fragment")
            if polling and version and signed_in_user_id(request) is not None:
                current = version(request, *args, **kwargs)
                if current is not None and unchanged(request, current):
                    return no_change()
            if not request.user.is_authenticated:
                login = redirect_to_login(request.get_full_path())
                if request.htmx:
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = login["Location"]
                    return response
                return login
            return view(request, *args, **kwargs)

        return vary_on_headers("HX-Request")(wrapper)

    return decorate


def signed_in_user_id(request: HttpRequest) -> int | None:
    """Who the session says is signed in, without loading the user (no query)."""
    user_id = request.session.get(SESSION_KEY)
    return int(user_id) if user_id is not None else None


def unchanged(request: HttpRequest, version: str) -> bool:
    return request.headers.get(VERSION_HEADER) == version


def no_change() -> HttpResponse:
    """What a poll gets when the region it shows is still true: nothing to swap."""
    return HttpResponse(status=204)


def fingerprint(*parts) -> str:
    return hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()[:16]


def request_version(request_id: int, user_id: int | None) -> str | None:
    """What a request's page shows changes with its state, health, error and endpoint, its
    timeline (every step of the cloud work writes an event) and its connection tests. Not with
    `updated_at`, which moves at every hop of a waiting workflow: the page would be re-drawn
    (and a keyboard user's focus lost) for nothing. None for a request the person may not see:
    their poll then gets the page's own answer, never a 204 that would tell them it exists."""
    last_event = Event.objects.filter(access_request=OuterRef("pk")).order_by("-id").values("id")
    tests = ConnectionTest.objects.filter(access_request=OuterRef("pk")).order_by("-id")
    row = (
        AccessRequest.objects.filter(policies.seen_requests_q(user_id), pk=request_id)
        .annotate(
            last_event=Subquery(last_event[:1]),
            last_test=Subquery(tests.values("id")[:1]),
            last_test_done=Subquery(tests.values("finished_at")[:1]),
        )
        .values_list(
            "state",
            "health",
            "last_error_code",
            "endpoint_domain",
            "last_event",
            "last_test",
            "last_test_done",
        )
        .first()
    )
    return fingerprint(*row) if row else None


def test_version(request_id: int, user_id: int | None) -> str | None:
    """The latest "Test connection" of a request: asked, then done; None for a request the
    person may not see (as `request_version`)."""
    tests = ConnectionTest.objects.filter(access_request=OuterRef("pk")).order_by("-id")
    row = (
        AccessRequest.objects.filter(policies.seen_requests_q(user_id), pk=request_id)
        .annotate(
            last_test=Subquery(tests.values("id")[:1]),
            last_test_done=Subquery(tests.values("finished_at")[:1]),
        )
        .values_list("last_test", "last_test_done")
        .first()
    )
    return fingerprint(*row) if row else None


def service_version(service_id: int) -> str | None:
    """A service's page: its state and fields, its timeline (every change of its health or a
    backend's is an event), the requests to it (their last change: the connections table shows
    their state and health) and its open findings."""
    last_event = Event.objects.filter(service=OuterRef("pk")).order_by("-id").values("id")
    last_request = (
        AccessRequest.objects.filter(service=OuterRef("pk"))
        .order_by("-updated_at")
        .values("updated_at")
    )
    open_findings = Finding.objects.filter(service=OuterRef("pk"), resolved_at__isnull=True)
    row = (
        PublishedService.objects.filter(pk=service_id)
        .annotate(
            last_event=Subquery(last_event[:1]),
            last_request=Subquery(last_request[:1]),
            last_finding=Subquery(open_findings.order_by("-pk").values("pk")[:1]),
            open_findings=Subquery(_count(open_findings)),
            findings_cleaning=Subquery(_count(open_findings.filter(cleaning=True))),
        )
        .values_list(
            "state",
            "updated_at",
            "last_event",
            "last_request",
            "last_finding",
            "open_findings",
            "findings_cleaning",
        )
        .first()
    )
    return fingerprint(*row) if row else None


def _count(rows):
    """A COUNT(*) of `rows` (filtered on an OuterRef) as a subquery."""
    return rows.order_by().annotate(one=Value(1)).values("one").annotate(n=Count("pk")).values("n")


# The header counts up to this many waiting requests, then says "100+": counting a platform
# admin's whole queue at every poll would cost more than it tells.
COUNT_UP_TO = 100


def awaiting_count(user_id: int | None) -> int:
    """Requests waiting for a decision of this person (the header's count, at most one more
    than COUNT_UP_TO), in one query."""
    waiting = AccessRequest.objects.filter(policies.approval_queue_q(user_id)).order_by()
    return waiting.values("pk")[: COUNT_UP_TO + 1].count()
