"""RAM policies: which actions an identity may call, decided as RAM decides them.

A policy document is RAM's JSON: `{"Version": "1", "Statement": [{"Effect": "Allow" | "Deny",
"Action": "privatelink:CreateVpcEndpoint" | [...], "Resource": "*", "Condition": {...}}]}`.
An action is allowed when some Allow statement matches it and no Deny statement does (an
explicit Deny wins; nothing matching is an implicit deny). Actions match with RAM's wildcards
(`nlb:Get*`, `*`), case-insensitively as RAM compares action names.

What cloudsim evaluates, and what it refuses to pretend to evaluate: resources must be "*"
(cloudsim does not match ARNs, so a policy scoped to resources would be judged wrongly), and the
one condition operator is `StringEquals`, on keys the caller supplies (the only one cloudsim
supplies is `ram:ServiceName`, for ram:CreateServiceLinkedRole). A document using anything else
is refused when it is loaded, naming what it cannot judge.

Sources: RAM's policy grammar and evaluation (the RAM documentation: "Policy structure and
syntax", "Policy evaluation process"); the statement that lets a RAM user create a product's
service-linked role, `{"Action": "ram:CreateServiceLinkedRole", "Resource": "*", "Effect":
"Allow", "Condition": {"StringEquals": {"ram:ServiceName": "nlb.aliyuncs.com"}}}`, quoted from
the system policy AliyunNLBFullAccess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

ALLOW, IMPLICIT_DENY, EXPLICIT_DENY = "Allow", "ImplicitDeny", "ExplicitDeny"
# As in RAM: any identity may ask who it is (GetCallerIdentity needs no authorization).
ALWAYS_ALLOWED = frozenset({"sts:getcalleridentity"})


class PolicyError(ValueError):
    """A policy document cloudsim cannot judge, or that is not a RAM policy."""


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]  # lower-cased patterns
    # (condition key, allowed values) pairs, all of which must hold (StringEquals).
    conditions: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def matches(self, action: str, context: Mapping[str, str]) -> bool:
        if not any(fnmatchcase(action, pattern) for pattern in self.actions):
            return False
        return all(context.get(key) in values for key, values in self.conditions)


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]
    document: Any = None  # what it was read from, for the control API

    @classmethod
    def allowing(cls, patterns: Iterable[str]) -> Policy:
        """The scenario's short form: `allow: ["vpc:Describe*"]` is one Allow statement."""
        patterns = tuple(patterns)
        document = {"Version": "1", "Statement": [{"Effect": ALLOW, "Action": list(patterns)}]}
        return cls((Statement(ALLOW, tuple(p.lower() for p in patterns)),), document)

    @classmethod
    def parse(cls, document: Any) -> Policy:
        if not isinstance(document, dict) or not isinstance(document.get("Statement"), list):
            raise PolicyError("a policy is an object with a Statement list")
        statements = []
        for position, raw in enumerate(document["Statement"], start=1):
            where = f"Statement {position}"
            if not isinstance(raw, dict):
                raise PolicyError(f"{where} is not an object")
            effect = raw.get("Effect")
            if effect not in (ALLOW, "Deny"):
                raise PolicyError(f"{where}: Effect must be Allow or Deny")
            actions = _strings(raw.get("Action"), f"{where}: Action")
            if any(":" not in action and action != "*" for action in actions):
                raise PolicyError(f"{where}: an action looks like 'product:Action'")
            resources = _strings(raw.get("Resource", "*"), f"{where}: Resource")
            if resources != ("*",):
                raise PolicyError(f'{where}: cloudsim judges only Resource "*"')
            statements.append(
                Statement(
                    effect,
                    tuple(action.lower() for action in actions),
                    _conditions(raw.get("Condition"), where),
                )
            )
        return cls(tuple(statements), document)

    def decide(self, action: str, context: Mapping[str, str] | None = None) -> str:
        """ALLOW, IMPLICIT_DENY or EXPLICIT_DENY for `product:Action`."""
        action = action.lower()
        if action in ALWAYS_ALLOWED:
            return ALLOW
        context = context or {}
        matching = [s.effect for s in self.statements if s.matches(action, context)]
        if "Deny" in matching:
            return EXPLICIT_DENY
        return ALLOW if ALLOW in matching else IMPLICIT_DENY


FULL_ACCESS = Policy.allowing(["*"])


def _strings(value: Any, where: str) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise PolicyError(f"{where} is a string or a list of strings")
    return tuple(values)


def _conditions(raw: Any, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: Condition is an object")
    pairs = []
    for operator, keys in raw.items():
        if operator != "StringEquals":
            raise PolicyError(f"{where}: cloudsim judges only the StringEquals condition")
        if not isinstance(keys, dict):
            raise PolicyError(f"{where}: StringEquals maps condition keys to values")
        for key, values in keys.items():
            pairs.append((key, _strings(values, f"{where}: {key}")))
    return tuple(pairs)
