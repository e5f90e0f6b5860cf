"""ETag and If-None-Match for detail reads: a client polling an unchanged object gets a 304.

The tag hashes the representation itself, so it changes with anything shown: state, health, the
timeline, zones. It is weak (W/): equal data, not byte-equal renderings (JSON or the HTML API).
"""

from __future__ import annotations

import hashlib
import json

from django.utils.http import parse_etags
from rest_framework import status
from rest_framework.response import Response


def etag_of(data) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return f'W/"{hashlib.sha256(canonical.encode()).hexdigest()[:40]}"'


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/")


def is_fresh(request, etag: str) -> bool:
    """True when If-None-Match names this tag (weak comparison, RFC 9110 13.1.2) or `*`."""
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = parse_etags(header)
    return "*" in tags or _opaque(etag) in {_opaque(tag) for tag in tags}


def conditional_response(request, data, *, tagged=None) -> Response:
    """200 with the data and its ETag, or 304 when the client's copy is current.

    `tagged` is what the tag hashes when it is not all of `data` (e.g. without a wait's report).
    """
    etag = etag_of(data if tagged is None else tagged)
    if is_fresh(request, etag):
        return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    return Response(data, headers={"ETag": etag})
