"""API tokens: issue, look up, revoke. The key is shown once; the database keeps its SHA-256.

A key is `plp_` and 43 URL-safe characters (`secrets.token_urlsafe(32)`, 256 bits): hashing it
without a salt or a slow KDF is safe because it is random, not chosen by a person, and it lets a
request find its token with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from connections.models import ApiToken

KEY_PREFIX = "plp_"
# Enough of the key to tell a person's tokens apart in a list, far too little to guess the rest.
VISIBLE_CHARS = 12
DEFAULT_TTL_DAYS = 30
# A token's last use is written at most this often: one write per request would serialise every
# API call on the token's row.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def default_ttl() -> timedelta:
    return timedelta(days=getattr(settings, "API_TOKEN_TTL_DAYS", DEFAULT_TTL_DAYS))


def issue_token(user, *, name: str = "", ttl: timedelta | None = None) -> tuple[ApiToken, str]:
    """A new token for `user` and its key, which is never available again."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=key[:VISIBLE_CHARS],
        key_hash=hash_key(key),
        expires_at=timezone.now() + (ttl if ttl is not None else default_ttl()),
    )
    return token, key


def find_token(key: str) -> ApiToken | None:
    """The token with this key, whatever its state (the caller tells expired from revoked)."""
    return ApiToken.objects.select_related("user").filter(key_hash=hash_key(key)).first()


def is_expired(token: ApiToken) -> bool:
    return token.expires_at <= timezone.now()


def note_use(token: ApiToken) -> None:
    """Record that the token was used, without a write for every request."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def revoke_token(token: ApiToken) -> ApiToken:
    """Revoke a token for good; revoking it again changes nothing."""
    if token.revoked_at is None:
        now = timezone.now()
        # Conditional, so a second revocation keeps the first one's time.
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
        token.refresh_from_db(fields=["revoked_at"])
    return token
