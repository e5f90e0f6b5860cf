"""The site's handlers for 400, 404 and 500 (portal/urls.py): a problem document under /api/,
the site's pages elsewhere. The problem documents themselves are the API's
(connections/api/errors.py)."""

from __future__ import annotations

import sys

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views import defaults

from connections.api.errors import (
    Described,
    api_not_found,
    is_api_request,
    json_problem,
    outage_problem,
)
from connections.api.problem_types import PROBLEM_TYPES
from portal import outages


def page_not_found(request: HttpRequest, exception: Exception) -> object:
    """Site-wide handler404: a problem under /api/, the site's page elsewhere, which says what
    is missing when the view said so (Http404 with a message: "This request does not exist, or
    you may no longer see it."), and nothing of how the URLs are resolved otherwise."""
    if is_api_request(request):
        return api_not_found(request)
    message = exception.args[0] if type(exception) is Http404 and exception.args else ""
    return render(request, "404.html", {"exception": message}, status=404)


class OwnNotFoundPageInDebug:
    """With DEBUG on (`make run`'s demo), a page's 404 is still the portal's own page: Django's
    technical one lists every URL pattern and echoes the request to whoever asks for another
    team's request. (A 403 is the portal's own page in DEBUG already; an unknown URL, which
    never reaches a view, keeps Django's in DEBUG.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if settings.DEBUG and isinstance(exception, Http404):
            return page_not_found(request, exception)
        return None


def bad_request(request: HttpRequest, exception: Exception) -> object:
    """Site-wide handler400 (e.g. a Host header not in ALLOWED_HOSTS): a problem under /api/."""
    if is_api_request(request):
        # Not the exception's text: it would tell a stranger how the server is configured.
        described = Described(400, "bad_request", PROBLEM_TYPES["bad_request"].description)
        return json_problem(request, described)
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest) -> object:
    """Site-wide handler500, for errors outside the API views (e.g. in middleware, or a page's).

    Django calls it while handling the exception: an outage of the cache or the broker is a 503
    that says to come back, not a 500."""
    exc = sys.exc_info()[1]
    if outages.is_outage(exc):
        described = outage_problem(exc)
        if is_api_request(request):
            return json_problem(request, described)
        # Rendered without the request: its context would read the session, from the cache.
        page = render_to_string("503.html")
        return HttpResponse(page, status=503, headers=described.headers)
    if is_api_request(request):
        described = Described(500, "internal_error", PROBLEM_TYPES["internal_error"].description)
        return json_problem(request, described)
    return defaults.server_error(request)
