"""`Idempotency-Key` on POSTs: a retried request gets the first answer instead of a second effect.

The first request with a key stores a running record (committed before the view runs, so a
concurrent duplicate sees it), then its status and body. The same key with the same method, path
and body replays that answer; with another request it is refused (422); while the first is still
running, 409. Keys belong to one user and expire after 24 hours. 5xx answers are not kept: a
retry after a server error should run again.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from connections.api.problem_types import PROBLEM_CONTENT_TYPE, Problem
from connections.models import IdempotencyRecord

HEADER = "Idempotency-Key"
KEY_TTL = timedelta(hours=24)
# A running record older than this belongs to a request that died; the key may be used again.
ABANDONED_AFTER = timedelta(minutes=2)
REPLAYED_HEADERS = ("Location",)


def fingerprint(request) -> str:
    """The request a key stands for: method, path with query, and the body's JSON."""
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(
        f"{request.method}\n{request.get_full_path()}\n{body}".encode()
    ).hexdigest()


def _valid_key(key: str) -> bool:
    return 0 < len(key) <= 255 and all(" " <= char <= "~" for char in key)


def _claim(user, key: str, print_: str) -> IdempotencyRecord:
    """The record for this key: a stored answer, or a new running record of ours."""
    now = timezone.now()
    record = IdempotencyRecord.objects.filter(user=user, key=key).first()
    if record is not None and (
        record.expires_at <= now
        or (record.response_status is None and record.created_at <= now - ABANDONED_AFTER)
    ):
        record.delete()
        record = None
    if record is None:
        IdempotencyRecord.objects.filter(user=user, expires_at__lte=now).delete()
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    user=user, key=key, fingerprint=print_, expires_at=now + KEY_TTL
                )
        except IntegrityError:
            # Another request with this key got in between our read and our insert.
            record = IdempotencyRecord.objects.get(user=user, key=key)
    if record.fingerprint != print_:
        raise Problem(
            "idempotency_key_reused",
            f"The {HEADER} {key!r} was used for another request (other path or body). "
            "Use a new key for a new request.",
        )
    if record.response_status is None:
        raise Problem("idempotency_key_in_progress")
    return record


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(
        record.response_body, status=record.response_status, headers=record.response_headers
    )
    if record.response_status >= 400:
        response.content_type = PROBLEM_CONTENT_TYPE
    response["Idempotent-Replayed"] = "true"
    return response


def _store(record: IdempotencyRecord, response: Response) -> None:
    if response.status_code >= 500:
        record.delete()
        return
    record.response_status = response.status_code
    record.response_body = json.loads(JSONRenderer().render(response.data) or b"null")
    record.response_headers = {
        name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)
    }
    record.save(update_fields=["response_status", "response_body", "response_headers"])


def idempotent(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate a viewset's POST handler so it honours the Idempotency-Key header."""

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs) -> Response:
        key = request.headers.get(HEADER)
        if key is None or not request.user.is_authenticated:
            return handler(view, request, *args, **kwargs)
        if not _valid_key(key):
            raise Problem("invalid_idempotency_key")
        record = _claim(request.user, key, fingerprint(request))
        if record.response_status is not None:
            return _replay(record)
        try:
            response = handler(view, request, *args, **kwargs)
        except Exception as exc:
            # The refusal is the answer to keep: a retry must get the same refusal.
            response = view.handle_exception(exc)
        _store(record, response)
        return response

    return wrapper
