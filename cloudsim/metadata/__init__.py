"""What Alibaba documents about each operation cloudsim serves, as data cloudsim enforces.

- `<product>.json`: from Alibaba's OpenAPI metadata (the source is named in each file): an
  operation's required parameters, which the gateway checks before the operation runs
  (server.py), and the error codes it documents, by HTTP status.
- `common.json`: the codes Alibaba's API gateway answers for any operation (missing or invalid
  parameters, signatures, throttling, RAM, server errors), with their sources.
- `quotas.json`: how many calls of each operation one account may make a second or a minute (the
  products' "API rate limits" pages), which cloudsim enforces (Throttling.User).
- `additions.json`: codes another source names for an operation that the metadata omits (the
  API reference's text, the Terraform provider's retry lists), each with its source.

cloudsim/contract.py checks every answer cloudsim gives against these lists; the portal's table
of what each code means (connections/cloud/operations.py) is checked against them too.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parent


@cache
def _document(name: str) -> dict[str, Any]:
    return json.loads((FOLDER / f"{name}.json").read_text())


def operation(product: str, action: str) -> dict[str, Any]:
    """The operation's metadata: `required` parameter names and `errors` by HTTP status."""
    return _document(product)["operations"].get(action, {"required": [], "errors": {}})


def required_parameters(product: str, action: str) -> list[str]:
    return operation(product, action)["required"]


@cache
def _patterns(product: str, action: str) -> dict[str, tuple[re.Pattern[str], ...]]:
    """HTTP status → the code patterns documented for the operation (`%s` stands for a name)."""
    listed: dict[str, list[str]] = {}
    for status, codes in operation(product, action)["errors"].items():
        listed.setdefault(status, []).extend(codes)
    for status, codes in _document("common")["errors"].items():
        listed.setdefault(status, []).extend(codes)
    added = _document("additions")["operations"].get(product, {}).get(action, {})
    for status, entries in added.get("errors", {}).items():
        listed.setdefault(status, []).extend(entry["code"] for entry in entries)
    return {
        status: tuple(
            re.compile(re.escape(code).replace("%s", r"[A-Za-z0-9_.]+") + r"\Z") for code in codes
        )
        for status, codes in listed.items()
    }


def documented_error(product: str, action: str, status: int, code: str) -> bool:
    """Whether Alibaba documents `code`, answered with `status`, for the operation."""
    if code.startswith("Missing") and code[7:] in required_parameters(product, action):
        return status == 400  # the gateway's Missing{ParameterName} (common.json)
    return any(pattern.match(code) for pattern in _patterns(product, action).get(str(status), ()))


def quota(product: str, action: str) -> tuple[int, float] | None:
    """(calls, seconds): how many calls of the operation one account may make in any such period
    (quotas.json, with its sources); None where no figure is documented or assumed."""
    quotas = _document("quotas")
    figure = quotas.get(product, {}).get(action) or quotas.get(f"{product}_assumed", {}).get(action)
    return (int(figure[0]), float(figure[1])) if figure else None
