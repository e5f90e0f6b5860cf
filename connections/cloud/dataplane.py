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
    address, loopback_port = str(found.get("host", "")), int(found.get("port", 0))
    try:
        is_loopback = ipaddress.ip_address(address).is_loopback
    except ValueError:
        is_loopback = False
    if not is_loopback:
        # A test or a tool must never dial a scenario address: refuse anything but loopback.
        raise Unreachable("NotLoopback", f"The resolver named {address}, not a loopback address.")
    return address, loopback_port
