"""Identifiers shaped like the cloud's.

Scenario resources get ids derived from their names (stable across restarts, so a portal
database and a restarted emulator agree); resources created through the API get random ones.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import string
import uuid

_ALPHABET = string.ascii_lowercase + string.digits
_random = random.Random()

# Hangzhou resources carry "bp1" after the prefix; the look is all that matters here.
_REGION_MARK = "bp1"


def stable(prefix: str, *parts: str, length: int = 18) -> str:
    """`prefix-bp1…` derived from `parts`: the same parts always give the same id."""
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    number = int.from_bytes(digest[:16], "big")
    chars = []
    for _ in range(length):
        number, rest = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[rest])
    return f"{prefix}-{_REGION_MARK}{''.join(chars)}"


def stable_digits(length: int, *parts: str) -> str:
    digest = hashlib.sha256("/".join(parts).encode()).hexdigest()
    return str(int(digest, 16))[:length]


def chars(length: int) -> str:
    return "".join(_random.choices(_ALPHABET, k=length))


def new(prefix: str, length: int = 20) -> str:
    return f"{prefix}-{chars(length)}"


def request_id() -> str:
    return str(uuid.uuid4()).upper()


def job_id() -> str:
    return str(uuid.uuid4())


def credential_secret() -> str:
    """STS secrets and tokens: unguessable, since they stand for credentials."""
    return secrets.token_urlsafe(24)
