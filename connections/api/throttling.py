"""Rate limits on the Django cache.

- `user`: each signed-in person's budget, whatever token (or browser session) they use: minting
  tokens buys no more requests.
- `anon`: per client address, for requests without valid credentials: anonymous reads (the
  problem types, the schema), and bad or expired tokens too, which `ThrottledBeforeAuthentication`
  counts before answering 401, so a flood of guessed tokens is slowed like any other.
- `token`: sign-ins at POST /api/v1/auth/token/ per address; `signin_failure`: failed sign-ins
  per username, wherever they come from (portal/signin.py: the sign-in page and the admin's
  count against the same budget).

The address is REMOTE_ADDR, or with `NUM_PROXIES` (API_NUM_PROXIES) set, the entry that many hops
from the end of X-Forwarded-For: only trust as many proxies as are really in front of the portal,
or any client can pick its own address, and its own budget.

While the cache is out of reach, every limit lets requests through (and logs that it did).

The rates are read from settings at each request, not at import as DRF's own classes do, so a
deployment or a test changes them in `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]` alone.
"""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from portal import outages


class SettingsRateThrottle(SimpleRateThrottle):
    def allow_request(self, request, view) -> bool:
        # A budget that cannot be read is no reason to refuse work (portal/outages.py).
        try:
            return super().allow_request(request, view)
        except outages.OUTAGE_ERRORS as exc:
            outages.proceed_without(f"The {self.scope} rate limit", exc)
            return True

    def get_ident(self, request) -> str:
        # DRF reads X-Forwarded-For whenever it is sent unless NUM_PROXIES is set: a header any
        # client can write. Without configured proxies, the connection's address is the client.
        if not api_settings.NUM_PROXIES:
            return request.META.get("REMOTE_ADDR", "")
        return super().get_ident(request)

    def get_rate(self) -> str | None:
        # A scope without a rate is not limited (DRF's own classes refuse to start instead).
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class ClientRateThrottle(SettingsRateThrottle):
    """Authenticated use: one budget per person, shared by their tokens and their session."""

    scope = "user"

    def get_cache_key(self, request, view) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"user-{request.user.pk}"}


class AnonymousRateThrottle(SettingsRateThrottle):
    """Requests without valid credentials, by client address."""

    scope = "anon"

    def get_cache_key(self, request, view) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ThrottledBeforeAuthentication:
    """A mixin for API views: a request refused for its credentials is throttled too.

    DRF authenticates, checks permissions, then throttles: a request with no credentials or a bad
    token gets its 401 before any throttle has counted it, so guessing tokens would cost nothing.
    Here such a refusal first runs the view's throttles (the request is anonymous by then, so
    the address budget counts it) and becomes a 429 once that budget is spent.
    """

    def initial(self, request, *args, **kwargs) -> None:
        try:
            super().initial(request, *args, **kwargs)
        except (exceptions.NotAuthenticated, exceptions.AuthenticationFailed):
            self.check_throttles(request)
            raise


class TokenEndpointRateThrottle(SettingsRateThrottle):
    """Sign-ins at the token endpoint, by client address."""

    scope = "token"

    def get_cache_key(self, request, view) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
