"""Signing in, wherever it happens: the API's token endpoint, the sign-in page and the admin's.

Failed sign-ins are counted per username, from any address, in fixed windows: once a username's
budget (API_RATE_SIGNIN_FAILURE, e.g. 10/hour) is spent, it signs in nowhere, even with the right
password, until the window ends. One budget for all three doors: a guesser gains nothing by
switching from the API to the browser.
"""

from __future__ import annotations

import hashlib
import math
import time
from contextlib import suppress

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.utils.translation import ngettext
from rest_framework.settings import api_settings

from portal import outages

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
TOO_MANY_FAILURES = "too_many_failures"


class FailedSignIns:
    """The failed sign-ins of one username in the current window.

    Each attempt is counted before its password is checked, with an atomic increment (on Redis),
    and given back when it succeeds: attempts sent at once cannot all read the same count while
    the slow password hash runs.
    """

    def __init__(self, username: str):
        self.now = time.time()
        rate = api_settings.DEFAULT_THROTTLE_RATES.get("signin_failure")
        self.limit = None
        if not rate:
            return
        count, period = rate.split("/")
        self.limit, self.duration = int(count), PERIODS[period[0]]
        # Hashed: the cache needs no usernames; case-folded: one budget however it is typed.
        digest = hashlib.sha256(username.casefold().encode()).hexdigest()[:32]
        window = int(self.now // self.duration)
        self.key = f"throttle_signin_failure_{digest}-{window}"
        self.window_ends = (window + 1) * self.duration

    def attempt(self) -> bool:
        """Count this attempt; False when the username's budget is already spent. With the
        cache out of reach the attempt is let through uncounted (portal/outages.py)."""
        if self.limit is None:
            return True
        try:
            return self._count() <= self.limit
        except outages.OUTAGE_ERRORS as exc:
            outages.proceed_without("Counting a sign-in attempt", exc)
            self.limit = None  # nothing counted, nothing to give back
            return True

    def _count(self) -> int:
        cache.add(self.key, 0, timeout=self.duration)
        try:
            return cache.incr(self.key)
        except ValueError:  # the window's key expired between add and incr
            cache.set(self.key, 1, timeout=self.duration)
            return 1

    def succeeded(self) -> None:
        """A successful sign-in does not count."""
        if self.limit is not None:
            # Expired meanwhile, or the cache just went away: nothing to give back.
            with suppress(ValueError, *outages.OUTAGE_ERRORS):
                cache.decr(self.key)

    def wait(self) -> float:
        """Seconds until the window ends and the username may try again."""
        return max(1.0, self.window_ends - self.now)


def too_many_failures_message(wait: float) -> str:
    minutes = max(1, math.ceil(wait / 60))
    return ngettext(
        "Too many failed sign-ins for this username. Sign-ins for it are paused: try again in "
        "%(minutes)d minute, or ask a platform admin.",
        "Too many failed sign-ins for this username. Sign-ins for it are paused: try again in "
        "%(minutes)d minutes, or ask a platform admin.",
        minutes,
    ) % {"minutes": minutes}


class SignInForm(AuthenticationForm):
    """Django's sign-in form, spending the username's budget of failures."""

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data
        failures = FailedSignIns(username)
        if not failures.attempt():
            # Refused before the password is checked: a guesser learns nothing from the answer.
            self.retry_after = failures.wait()
            raise forms.ValidationError(
                too_many_failures_message(self.retry_after), code=TOO_MANY_FAILURES
            )
        self.user_cache = authenticate(self.request, username=username, password=password)
        if self.user_cache is None:
            raise self.get_invalid_login_error()
        failures.succeeded()
        self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data

    @property
    def throttled(self) -> bool:
        return any(error.code == TOO_MANY_FAILURES for error in self.non_field_errors().data)


class AdminSignInForm(SignInForm, AdminAuthenticationForm):
    """The admin's sign-in (staff only), on the same budget."""


class SignInView(LoginView):
    """The sign-in page; a username whose budget is spent gets 429 with Retry-After. In demo
    mode (DEBUG) it lists the demo logins."""

    form_class = SignInForm

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        if settings.DEBUG:
            from connections import demo  # the demo belongs to the portal's domain app

            context["demo_logins"] = demo.logins()
        return context

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.throttled:
            response.status_code = 429
            response["Retry-After"] = str(math.ceil(form.retry_after))
        return response
