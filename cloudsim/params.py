"""Typed access to the flattened RPC parameters (`Name.1`, `Name.1.Field`, `Name.Field`).

Every getter refuses a missing or malformed value with the parameter's name in the message, so
a handler never sees a value it has to re-check.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping

from cloudsim.errors import ApiError, invalid, missing

_INDEX = re.compile(r"^([1-9][0-9]{0,3})(?:\.(.+))?$")
_MAX_ITEMS = 200
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


class Params:
    """The merged query and form parameters of one call."""

    def __init__(self, raw: Mapping[str, str]) -> None:
        self.raw = dict(raw)

    def __contains__(self, name: str) -> bool:
        return name in self.raw and self.raw[name] != ""

    def text(
        self,
        name: str,
        *,
        required: bool = False,
        default: str | None = None,
        choices: Iterable[str] | None = None,
        max_len: int = 256,
    ) -> str | None:
        value = self.raw.get(name)
        if value is None or value == "":
            if required:
                raise missing(name)
            return default
        if len(value) > max_len:
            raise invalid(name, f"longer than {max_len} characters")
        if choices is not None:
            allowed = list(choices)
            if value not in allowed:
                raise invalid(name, f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def req(self, name: str, **kwargs: object) -> str:
        value = self.text(name, required=True, **kwargs)  # type: ignore[arg-type]
        assert value is not None
        return value

    def integer(
        self,
        name: str,
        *,
        required: bool = False,
        default: int | None = None,
        low: int | None = None,
        high: int | None = None,
    ) -> int | None:
        value = self.text(name, required=required)
        if value is None:
            return default
        return to_int(name, value, low, high)

    def boolean(self, name: str, default: bool | None = None) -> bool | None:
        value = self.text(name)
        if value is None:
            return default
        return to_bool(name, value)

    def items(self, name: str) -> list[str]:
        """`Name.1`, `Name.2`… in index order; a bare `Name` counts as one item."""
        items = self._indexed(name)
        values = [value for _, rest, value in items if rest is None and value != ""]
        if not values and self.raw.get(name):
            values = [self.raw[name]]
        return values

    def json_list(self, name: str) -> list[str]:
        """ECS-style lists: a JSON array in one parameter (`InstanceIds=["i-1","i-2"]`)."""
        value = self.text(name, max_len=20000)
        if value is None:
            return []
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = [part.strip() for part in value.split(",") if part.strip()]
        except RecursionError:
            raise invalid(name, "nested too deeply") from None
        if not isinstance(parsed, list) or not all(isinstance(v, str) for v in parsed):
            raise invalid(name, "expected a JSON array of strings")
        return parsed

    def objects(self, name: str) -> list[dict[str, str]]:
        """`Name.N.Field=value` → `[{Field: value}, …]` in index order."""
        by_index: dict[int, dict[str, str]] = {}
        for index, rest, value in self._indexed(name):
            if rest is None:
                raise invalid(f"{name}.{index}", "expected fields such as " + f"{name}.{index}.Id")
            by_index.setdefault(index, {})[rest] = value
        return [by_index[i] for i in sorted(by_index)]

    def obj(self, name: str) -> dict[str, str]:
        """`Name.Field=value` → `{Field: value}`."""
        prefix = name + "."
        return {k[len(prefix) :]: v for k, v in self.raw.items() if k.startswith(prefix)}

    def tags(self, name: str = "Tag") -> dict[str, str]:
        tags: dict[str, str] = {}
        for position, tag in enumerate(self.objects(name), start=1):
            key = tag.get("Key", "")
            if not key:
                raise missing(f"{name}.{position}.Key")
            if len(key) > 128 or key.startswith(("aliyun", "acs:")):
                raise invalid(f"{name}.{position}.Key", f"{key!r} is not an allowed tag key")
            tags[key] = tag.get("Value", "")
        if len(tags) > 20:
            raise invalid(name, "at most 20 tags")
        return tags

    def _indexed(self, name: str) -> list[tuple[int, str | None, str]]:
        prefix = name + "."
        found = []
        for key, value in self.raw.items():
            if not key.startswith(prefix):
                continue
            match = _INDEX.match(key[len(prefix) :])
            if match is None:
                raise invalid(key, "list items are numbered from 1")
            found.append((int(match.group(1)), match.group(2), value))
        if len({index for index, _, _ in found}) > _MAX_ITEMS:
            raise invalid(name, f"at most {_MAX_ITEMS} items")
        found.sort(key=lambda item: item[0])
        return found


def to_int(name: str, value: str, low: int | None = None, high: int | None = None) -> int:
    try:
        number = int(value.strip())
    except (ValueError, AttributeError):
        raise invalid(name, f"{value!r} is not an integer") from None
    if (low is not None and number < low) or (high is not None and number > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise invalid(name, f"{number} is not {bounds}")
    return number


def to_ipv4(name: str, value: str) -> str:
    """A dotted-quad IPv4 address, in its canonical form."""
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise invalid(name, f"{value!r} is not an IPv4 address") from None


def to_ip(name: str, value: str) -> str:
    """An IPv4 or IPv6 address, in its canonical form."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise invalid(name, f"{value!r} is not an IP address") from None


def load_json(name: str, value: str) -> object:
    """A parameter holding JSON; refused, naming it, when it is not JSON."""
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        raise invalid(name, "not JSON (or nested too deeply)") from None


def to_bool(name: str, value: str) -> bool:
    # The Python SDK sends True/False, other clients true/false.
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise invalid(name, f"{value!r} is not a boolean")


def page_size(params: Params, default: int, limit: int, name: str = "MaxResults") -> int:
    size = params.integer(name, default=default, low=1, high=limit)
    assert size is not None
    return size


def paginate(
    items: list, params: Params, default: int = 20, limit: int = 100
) -> tuple[list, str | None, int]:
    """MaxResults/NextToken paging. The token is the offset, dressed up as an opaque string."""
    size = page_size(params, default, limit)
    token = params.text("NextToken")
    start = 0
    if token is not None:
        start = decode_token(token)
    page = items[start : start + size]
    next_token = encode_token(start + size) if start + size < len(items) else None
    return page, next_token, size


def page_number(
    items: list, params: Params, default: int = 10, limit: int = 50
) -> tuple[list, int, int]:
    """PageNumber/PageSize paging, as the VPC and ECS APIs do it."""
    number = params.integer("PageNumber", default=1, low=1, high=10**6)
    size = params.integer("PageSize", default=default, low=1, high=limit)
    assert number is not None and size is not None
    start = (number - 1) * size
    return items[start : start + size], number, size


def encode_token(offset: int) -> str:
    return f"FF{offset:08x}"


def decode_token(token: str) -> int:
    if not re.fullmatch(r"FF[0-9a-f]{8}", token):
        raise ApiError("InvalidParameter", f'The parameter "NextToken" is invalid: {token!r}.')
    return int(token[2:], 16)
