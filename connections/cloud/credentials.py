"""Credentials for a CloudAccount: a stored access key, a RAM role (STS), or the default chain.

Assumed-role sessions are cached per process until shortly before they expire, so a worker
calls STS once an hour per account rather than once per task.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from connections.choices import CredentialSource
from connections.cloud.base import Credentials
from connections.cloud.sts import StsApi

# Renew an assumed-role session this long before the cloud says it expires.
SESSION_RENEW_MARGIN_SECONDS = 300
SESSION_DURATION_SECONDS = 3600


_sessions: dict[tuple, Credentials] = {}
_sessions_lock = threading.Lock()


def credentials_for(account) -> Credentials:
    """The credentials the portal uses in `account` (a connections.models.CloudAccount)."""
    if account.credential_source == CredentialSource.ACCESS_KEY:
        return Credentials(account.access_key_id, account.access_key_secret)
    if account.credential_source == CredentialSource.RAM_ROLE:
        return _assumed_role(account)
    return Credentials()


def _assumed_role(account) -> Credentials:
    base = credentials_for(account.assume_from) if account.assume_from_id else Credentials()
    key = (account.pk, account.role_arn, base.access_key_id)
    with _sessions_lock:
        cached = _sessions.get(key)
    if (
        cached
        and cached.expires_at
        and cached.expires_at - SESSION_RENEW_MARGIN_SECONDS > time.time()
    ):
        return cached
    answer = StsApi(base, account.region).assume_role(
        role_arn=account.role_arn,
        session_name=f"privatelink-portal-{account.pk}",
        duration_seconds=SESSION_DURATION_SECONDS,
    )
    session = Credentials(
        access_key_id=answer["AccessKeyId"],
        access_key_secret=answer["AccessKeySecret"],
        security_token=answer["SecurityToken"],
        expires_at=datetime.fromisoformat(answer["Expiration"].replace("Z", "+00:00")).timestamp(),
    )
    with _sessions_lock:
        _sessions[key] = session
    return session


def forget_sessions() -> None:
    """Drop cached STS sessions (after a credential change, and between tests)."""
    with _sessions_lock:
        _sessions.clear()
