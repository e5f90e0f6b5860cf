"""Rate limits on the Django cache: per token (or session user), per anonymous client, and a
stricter one for the token endpoint, where passwords are tried.

The rates are read from settings at each request, not at import as DRF's own classes do, so a
deployment or a test changes them in `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]` alone.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from connections.models import ApiToken


class SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        # A scope without a rate is not limited (DRF's own classes refuse to start instead).
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class ClientRateThrottle(SettingsRateThrottle):
    """Authenticated use: each token has its own budget; a browser session has its user's."""

    scope = "user"

    def get_cache_key(self, request, view) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        if isinstance(request.auth, ApiToken):
            # The hash, not the row id: ids come back after a rollback, hashes never repeat.
            ident = f"token-{request.auth.key_hash[:32]}"
        else:
            ident = f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonymousRateThrottle(SettingsRateThrottle):
    """Anonymous clients, by address: enough to read the docs, not to hammer the API."""

    scope = "anon"

    def get_cache_key(self, request, view) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenEndpointRateThrottle(SettingsRateThrottle):
    """Password attempts at the token endpoint, by client address, whoever is signed in."""

    scope = "token"

    def get_cache_key(self, request, view) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
