"""Encryption of the secrets the portal stores (access key secrets), with Fernet.

The key is FIELD_ENCRYPTION_KEY when set, else derived from SECRET_KEY: rotating SECRET_KEY
then makes stored secrets unreadable, which is why production should set its own key.
"""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class SecretUnreadable(Exception):
    """A stored secret no longer decrypts: the encryption key changed."""


@cache
def _fernet() -> Fernet:
    material = settings.FIELD_ENCRYPTION_KEY or settings.SECRET_KEY
    digest = hashlib.sha256(f"privatelink-portal:fields:{material}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("stored secret cannot be decrypted with the current key") from exc
