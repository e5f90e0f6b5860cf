"""Injected faults: throttling, 5xx, latency, dropped connections, concurrency refusals.

A fault is a JSON object (from `--fault`, the rate flags, or `POST /_sim/faults`):

    {"kind": "throttle", "action": "Create*", "rate": 0.5, "count": 3, "seed": 7,
     "retry_after_ms": 1000}

- `kind`: `throttle` (HTTP 400 `Throttling.User`, with `x-acs-retry-after` when
  `retry_after_ms` > 0, which makes the SDK raise ThrottlingException), `unavailable` (HTTP 503
  `ServiceUnavailable`), `latency` (adds `latency_ms` and lets the call through), `drop` (closes
  the connection without an answer), `concurrent` (HTTP 400 `ConcurrentCallNotSupported`; its
  action defaults to EnableVpcEndpointConnection), `error` (any `code`, `status`, `message`);
- `action`, `product`: shell-style patterns (default `*`); `account`: a UID (default: any);
- `rate`: probability per matching call (default 1); `count`: affect only the next N matching
  calls, then the fault expires; `seed`: makes the sequence of decisions repeatable.

Faults are checked after authentication (so `account` can match) and before the operation.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from cloudsim import ids
from cloudsim.errors import ApiError

# Ten minutes: the longest latency or retry-after a fault may ask for.
MAX_MS = 600_000
KINDS = ("throttle", "unavailable", "latency", "drop", "concurrent", "error")


@dataclass
class Fault:
    kind: str
    action: str = "*"
    product: str = "*"
    account: str | None = None
    rate: float = 1.0
    count: int | None = None
    seed: int | None = None
    retry_after_ms: int = 0
    latency_ms: int = 0
    code: str = ""
    status: int = 0
    message: str = ""
    id: str = field(default_factory=lambda: ids.new("fault", 8))
    fired: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def describe(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if not key.startswith("_")}

    def error(self) -> ApiError:
        if self.kind == "throttle":
            headers = {"x-acs-retry-after": str(self.retry_after_ms)} if self.retry_after_ms else {}
            return ApiError(
                "Throttling.User", "Request was denied due to user flow control.", 400, headers
            )
        if self.kind == "unavailable":
            return ApiError(
                "ServiceUnavailable",
                "The request has failed due to a temporary failure of the server.",
                503,
            )
        if self.kind == "concurrent":
            return ApiError(
                "ConcurrentCallNotSupported",
                "The operation conflicts with other operations. Please try again later.",
            )
        return ApiError(self.code, self.message or f"Injected fault {self.id}.", self.status)


@dataclass
class Outcome:
    """What the faults decided for one call."""

    latency_s: float = 0.0
    drop: bool = False
    error: ApiError | None = None


class FaultSet:
    """The active faults of one emulator; thread-safe, applied in the order they were added."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._seed = seed
        self._added = 0

    def add(self, spec: dict[str, Any]) -> Fault:
        """Validate a fault description and activate it; ValueError names what is wrong."""
        fault = parse(spec)
        with self._lock:
            seed = fault.seed
            if seed is None and self._seed is not None:
                seed = self._seed * 1000 + self._added
            if seed is not None:
                fault._rng = random.Random(seed)
            self._added += 1
            self._faults.append(fault)
        return fault

    def remove(self, fault_id: str) -> bool:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.id != fault_id]
            return len(self._faults) != before

    def clear(self) -> None:
        with self._lock:
            self._faults = []

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.describe() for fault in self._faults]

    def decide(self, product: str, action: str, uid: str) -> Outcome:
        outcome = Outcome()
        if not self._faults:
            return outcome
        with self._lock:
            for fault in list(self._faults):
                if not (
                    fnmatchcase(action, fault.action)
                    and fnmatchcase(product, fault.product)
                    and fault.account in (None, uid)
                ):
                    continue
                if fault.rate < 1.0 and fault._rng.random() >= fault.rate:
                    continue
                fault.fired += 1
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                if fault.kind == "latency":
                    outcome.latency_s += fault.latency_ms / 1000
                    continue
                if fault.kind == "drop":
                    outcome.drop = True
                else:
                    outcome.error = fault.error()
                break
        return outcome


def parse(spec: Any) -> Fault:
    if not isinstance(spec, dict):
        raise ValueError('a fault is a JSON object such as {"kind": "throttle"}')
    known = {
        f for f in Fault.__dataclass_fields__ if not f.startswith("_") and f not in ("id", "fired")
    }
    unknown = set(spec) - known
    if unknown:
        raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise ValueError(f"fault kind must be one of {', '.join(KINDS)}")
    values = dict(spec)
    if kind == "concurrent":
        values.setdefault("action", "EnableVpcEndpointConnection")
    for name in ("action", "product", "code", "message"):
        if name in values and not isinstance(values[name], str):
            raise ValueError(f"fault field {name!r} must be a string")
    if "account" in values and values["account"] is not None:
        values["account"] = str(values["account"])
    rate = values.get("rate", 1.0)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise ValueError("fault field 'rate' must be a number between 0 and 1")
    # Upper bounds keep time.sleep() and the retry header within what they accept.
    bounds = (
        ("count", 1, None),
        ("seed", 0, None),
        ("retry_after_ms", 0, MAX_MS),
        ("latency_ms", 0, MAX_MS),
    )
    for name, low, high in bounds:
        value = values.get(name)
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < low
            or (high is not None and value > high)
        ):
            limit = f"from {low} to {high}" if high is not None else f"of at least {low}"
            raise ValueError(f"fault field {name!r} must be a whole number {limit}")
    if kind == "latency" and not values.get("latency_ms"):
        raise ValueError("a latency fault needs 'latency_ms'")
    if kind == "error":
        status = values.get("status", 400)
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise ValueError("an error fault needs 'status' between 400 and 599")
        if not values.get("code"):
            raise ValueError("an error fault needs 'code'")
        values["status"] = status
    return Fault(**values)
