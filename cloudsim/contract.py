"""cloudsim's answers checked against what Alibaba documents, not against what cloudsim's authors
believed: the official SDK's response models and the OpenAPI metadata's error codes.

- A successful answer must fit the pinned SDK's `<Action>ResponseBody` model: every key is one the
  model declares (at every depth), and every value has the model's type (a string where it says
  str, a list where it says List, …). A key the model lacks would be dropped by the SDK on the
  way to the portal, which would then read nothing where it expected a value.
- An error answer's code, with its HTTP status, must be one Alibaba documents for the operation
  (cloudsim/metadata: the operation's metadata, the gateway's codes, and the codes other sources
  name).

`ContractLog` turns it on for a whole emulator: every answer is checked and each violation is
written as one JSON line to a file. The test suite points every emulator it starts, in-process or
not, at one file (the `CLOUDSIM_CONTRACT_LOG` environment variable) and fails the run when it is
not empty (tests/conftest.py). The SDKs are imported only when checking is on: cloudsim itself
needs none of them.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import textwrap
import threading
import typing
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cloudsim.metadata import documented_error

ENVIRONMENT_VARIABLE = "CLOUDSIM_CONTRACT_LOG"

# The SDK package that models each product's answers (the versions requirements.txt pins).
SDK_MODELS = {
    "privatelink": "alibabacloud_privatelink20200415.models",
    "nlb": "alibabacloud_nlb20220430.models",
    "vpc": "alibabacloud_vpc20160428.models",
    "ecs": "alibabacloud_ecs20140526.models",
    "sts": "alibabacloud_sts20150401.models",
}


# -- the SDK's models ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    attribute: str
    annotation: Any


@cache
def model_fields(model: type) -> dict[str, Field]:
    """Wire key → the model's field, read from the model's own code.

    A generated model writes each attribute under its wire key in `to_map`
    (`if self.endpoint_id is not None: result['EndpointId'] = …`), and its annotations name the
    types (`endpoint_id: str`, `zones: List[main_models.…Zones]`).
    """
    module = inspect.getmodule(model)
    hints = typing.get_type_hints(model.__init__, globalns=vars(module))
    tree = ast.parse(textwrap.dedent(inspect.getsource(model.to_map)))
    fields: dict[str, Field] = {}
    for node in ast.walk(tree):
        attribute = _tested_attribute(node)
        if attribute is None:
            continue
        for inner in ast.walk(node):
            key = _result_key(inner)
            if key is not None and key not in fields:
                fields[key] = Field(attribute, hints.get(attribute, Any))
    # `result['Zones'] = []` comes before the `if self.zones is not None:` that fills it.
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            key = _result_key(node.targets[0])
            attribute = key and _attribute_named(hints, key, fields)
            if key is not None and key not in fields and attribute:
                fields[key] = Field(attribute, hints[attribute])
    return fields


def _tested_attribute(node: ast.AST) -> str | None:
    """`X` of `if self.X is not None:`."""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return None
    left = node.test.left
    if (
        isinstance(left, ast.Attribute)
        and isinstance(left.value, ast.Name)
        and left.value.id == "self"
        and isinstance(node.test.ops[0], ast.IsNot)
    ):
        return left.attr
    return None


def _result_key(node: ast.AST) -> str | None:
    """`Key` of `result['Key']`."""
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == "result"
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
    ):
        return node.slice.value
    return None


def _attribute_named(hints: dict[str, Any], key: str, known: dict[str, Field]) -> str | None:
    taken = {field.attribute for field in known.values()}
    squashed = key.replace("_", "").lower()
    for attribute in hints:
        if attribute not in taken and attribute.replace("_", "").lower() == squashed:
            return attribute
    return None


def response_model(product: str, action: str) -> type | None:
    module = importlib.import_module(SDK_MODELS[product])
    return getattr(module, f"{action}ResponseBody", None)


def body_violations(model: type, body: Any, path: str) -> list[str]:
    """Where `body` leaves the model: keys it does not declare, values of another type."""
    if not isinstance(body, dict):
        return [f"{path}: {type(body).__name__}, not an object ({model.__name__})"]
    fields = model_fields(model)
    found = []
    for key, value in body.items():
        field = fields.get(key)
        if field is None:
            found.append(f"{path}.{key}: not a field of {model.__name__}")
            continue
        found.extend(_value_violations(field.annotation, value, f"{path}.{key}"))
    return found


def _value_violations(annotation: Any, value: Any, path: str) -> list[str]:
    if value is None or annotation is Any:
        return []
    origin = typing.get_origin(annotation)
    if origin in (list, typing.List):  # noqa: UP006 - the SDK's annotations say List
        if not isinstance(value, list):
            return [f"{path}: {type(value).__name__}, not a list"]
        (item,) = typing.get_args(annotation) or (Any,)
        return [
            v for i, each in enumerate(value) for v in _value_violations(item, each, f"{path}[{i}]")
        ]
    if origin in (dict, typing.Dict):  # noqa: UP006
        return [] if isinstance(value, dict) else [f"{path}: {type(value).__name__}, not a map"]
    if isinstance(annotation, type) and hasattr(annotation, "from_map"):
        return body_violations(annotation, value, path)
    expected = {str: (str,), int: (int,), float: (int, float), bool: (bool,)}.get(annotation)
    if expected is None:
        return []
    wrong_bool = isinstance(value, bool) and annotation is not bool
    if wrong_bool or not isinstance(value, expected):
        return [f"{path}: {type(value).__name__} {value!r}, not {annotation.__name__}"]
    return []


def violations(product: str, action: str, status: int, body: Any) -> list[str]:
    """What is wrong with one answer of `product`'s `action` (empty: it keeps the contract)."""
    if status >= 400:
        code = body.get("Code", "") if isinstance(body, dict) else ""
        if documented_error(product, action, status, code):
            return []
        return [f"{product} {action}: error {status} {code} is not documented for it"]
    model = response_model(product, action)
    if model is None:
        return [f"{product} {action}: the SDK has no {action}ResponseBody"]
    return [f"{product} {action}: {v}" for v in body_violations(model, body, "body")]


class ContractLog:
    """Checks every answer of an emulator and appends each violation to a JSON-lines file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    @classmethod
    def from_environment(cls) -> ContractLog | None:
        path = os.environ.get(ENVIRONMENT_VARIABLE)
        return cls(path) if path else None

    def check(self, product: str, action: str, status: int, body: Any) -> None:
        found = violations(product, action, status, body)
        if not found:
            return
        with self._lock, self.path.open("a") as log:
            for violation in found:
                log.write(json.dumps({"violation": violation}) + "\n")


def read_log(path: str | Path) -> list[str]:
    """The violations a ContractLog wrote, in order."""
    log = Path(path)
    if not log.exists():
        return []
    return [json.loads(line)["violation"] for line in log.read_text().splitlines() if line]
