"""Where a client inside a consumer's VPC would reach an endpoint: the data plane's address book.

Against cloudsim (CLOUD_ENDPOINT set), its resolver (`GET /_sim/resolve`) names the loopback port
that stands for an endpoint's domain, zone domain or ENI address, and only a loopback answer is
accepted: the scenario's addresses (10.x, 172.16.x, 192.168.x) are data, never dialled. Against
the real cloud a worker reaches an endpoint only from inside a consumer VPC, which the operator
says with PROBES_RUN_IN_VPC; otherwise there is nothing to reach it from, and `locate` says so.
Nothing outside this module knows that cloudsim exists.
"""

from __future__ import annotations

import ipaddress
import json
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings

RESOLVE_TIMEOUT_SECONDS = 5
# Targets per batch resolve: an endpoint's domain, port and VPC take about 150 bytes of JSON.
RESOLVE_BATCH = 300


class Unreachable(Exception):
    """The endpoint cannot be reached from here; `code` and `message` say why."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


def locate(host: str, port: int, vpc_id: str) -> tuple[str, int]:
    """The address and port a client in `vpc_id` would connect to for host:port."""
    if settings.CLOUD_ENDPOINT:
        return _ask_emulator(host, port, vpc_id)
    if not settings.PROBES_RUN_IN_VPC:
        raise Unreachable(
            "NotInVpc",
            "The portal's workers do not run inside a consumer VPC, so they cannot reach "
            "endpoints (set PROBES_RUN_IN_VPC where they do).",
        )
    return host, port  # inside the VPC, the endpoint's own domain resolves to its ENIs


def locate_many(targets: list[tuple[str, int, str]]) -> list[tuple[str, int] | Unreachable]:
    """`locate` for many (host, port, vpc_id) at once, answered in order: against cloudsim in
    a few calls of its resolver (RESOLVE_BATCH targets each, under its 64 KiB body limit), so a
    sweep over thousands of endpoints does not ask one by one."""
    if not settings.CLOUD_ENDPOINT:
        answers: list[tuple[str, int] | Unreachable] = []
        for host, port, vpc_id in targets:
            try:
                answers.append(locate(host, port, vpc_id))
            except Unreachable as unreachable:
                answers.append(unreachable)
        return answers
    found: list[tuple[str, int] | Unreachable] = []
    for start in range(0, len(targets), RESOLVE_BATCH):
        found.extend(_ask_emulator_many(targets[start : start + RESOLVE_BATCH]))
    return found


def _ask_emulator_many(targets: list[tuple[str, int, str]]) -> list[tuple[str, int] | Unreachable]:
    body = json.dumps(
        {"targets": [{"host": h, "port": p, "vpc": v} for h, p, v in targets]}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - our emulator's URL (CLOUD_ENDPOINT)
        f"{settings.CLOUD_ENDPOINT.rstrip('/')}/_sim/resolve",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=RESOLVE_TIMEOUT_SECONDS) as answer:  # noqa: S310
            items = json.loads(answer.read())["answers"]
    except (OSError, ValueError, KeyError) as error:
        failed = Unreachable("ResolveFailed", "The data plane's resolver did not answer.")
        raise failed from error
    return [_loopback_answer(item) for item in items]


def _loopback_answer(item: dict) -> tuple[str, int] | Unreachable:
    if "error" in item:
        return Unreachable("NotConnected", str(item.get("message", "not connected")))
    try:
        return _only_loopback(str(item.get("host", "")), int(item.get("port", 0)))
    except Unreachable as unreachable:
        return unreachable


def _only_loopback(address: str, port: int) -> tuple[str, int]:
    try:
        is_loopback = ipaddress.ip_address(address).is_loopback
    except ValueError:
        is_loopback = False
    if not is_loopback:
        # A test or a tool must never dial a scenario address: refuse anything but loopback.
        raise Unreachable("NotLoopback", f"The resolver named {address}, not a loopback address.")
    return address, port


def _ask_emulator(host: str, port: int, vpc_id: str) -> tuple[str, int]:
    query = urllib.parse.urlencode({"host": host, "port": port, "vpc": vpc_id})
    url = f"{settings.CLOUD_ENDPOINT.rstrip('/')}/_sim/resolve?{query}"
    try:
        with urllib.request.urlopen(url, timeout=RESOLVE_TIMEOUT_SECONDS) as answer:  # noqa: S310 - our emulator's URL
            found = json.loads(answer.read())
    except urllib.error.HTTPError as error:
        if error.code == 404:
            raise Unreachable(
                "NotConnected", f"{host}:{port} does not lead to a connected endpoint."
            ) from error
        raise Unreachable("ResolveFailed", f"The resolver answered HTTP {error.code}.") from error
    except (OSError, ValueError) as error:
        raise Unreachable("ResolveFailed", "The data plane's resolver did not answer.") from error
    return _only_loopback(str(found.get("host", "")), int(found.get("port", 0)))
