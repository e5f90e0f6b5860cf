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
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from connections import policies
from connections.models import ApiToken

KEY_PREFIX = "plp_"
# Enough of the key to tell a person's tokens apart in a list, far too little to guess the rest.
VISIBLE_CHARS = 12
# A token's last use is written at most this often: one write per request would serialise every
# API call on the token's row.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TooManyTokens(Exception):
    """The user already holds API_MAX_TOKENS_PER_USER active tokens."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def lifetime(asked: timedelta | None) -> timedelta:
    """The asked lifetime, or API_TOKEN_TTL_DAYS, never more than API_TOKEN_MAX_TTL_DAYS."""
    wanted = asked if asked is not None else timedelta(days=settings.API_TOKEN_TTL_DAYS)
    return min(wanted, timedelta(days=settings.API_TOKEN_MAX_TTL_DAYS))


def active_tokens(user):
    return ApiToken.objects.filter(
        user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def issue_token(user, *, name: str = "", ttl: timedelta | None = None) -> tuple[ApiToken, str]:
    """A new token for `user` and its key, which is never available again.

    Raises TooManyTokens at the cap: each token would otherwise be one more thing to leak.
    """
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        # The user's row is the lock: two sign-ins at once must not both pass the cap.
        list(get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk"))
        if active_tokens(user).count() >= settings.API_MAX_TOKENS_PER_USER:
            raise TooManyTokens
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=key[:VISIBLE_CHARS],
            key_hash=hash_key(key),
            expires_at=timezone.now() + lifetime(ttl),
        )
    return token, key


# A token with its person, and the person's memberships read in the same query. Built once:
# resolving the subquery costs more than running it; each lookup takes a copy.
_TOKENS_WITH_ROLES = ApiToken.objects.select_related("user").annotate(
    user_memberships=policies.memberships_list("user_id")
)


def find_token(key: str) -> ApiToken | None:
    """The token with this key, whatever its state (the caller tells expired from revoked); its
    user's roles are known to `policies` without another query."""
    token = _TOKENS_WITH_ROLES.filter(key_hash=hash_key(key)).first()
    if token is not None:
        policies.remember_memberships(token.user, token.user_memberships or ())
    return token


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
        revoke_tokens(ApiToken.objects.filter(pk=token.pk))
        token.refresh_from_db(fields=["revoked_at"])
    return token


def revoke_tokens(tokens) -> int:
    """Revoke the tokens of a queryset; those already revoked keep their first revocation time."""
    return tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def revoke_tokens_when_the_password_changes(sender, instance, **kwargs) -> None:
    """pre_save of the user model: a new password ends every token issued under the old one, as
    Django ends the other sessions. Registered in ConnectionsConfig.ready()."""
    if instance.pk is None or kwargs.get("raw"):
        return
    # set_password() marks a new password (`_password`) until the save; Django clears the mark
    # when it merely re-hashes a password on sign-in (a stronger hasher): no reason to end tokens.
    if getattr(instance, "_password", None) is None:
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and "password" not in update_fields:
        return
    revoke_tokens(active_tokens(instance))
