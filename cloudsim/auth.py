"""Who is calling: request signatures, STS sessions, and the RAM policy each caller acts under.

Two signatures are checked, exactly as the clients compute them:
- ACS3-HMAC-SHA256 (alibabacloud-tea-openapi): the `Authorization` header over the method, the
  path, the sorted query, the signed headers and the SHA-256 of the body;
- HMAC-SHA1 RPC signature (aliyun-python-sdk-core, Terraform): the `Signature` parameter over
  every other query and form parameter.

STS credentials (`STS.` access keys) come from AssumeRole and carry a security token
(`x-acs-security-token`, or the `SecurityToken` parameter with the older signature) that must
match the key and must not have expired on the emulator's clock.

Each access key and role carries a RAM policy (cloudsim/ram.py): the scenario's, or one given at
run time through the control API (`PUT /_sim/policies/<access key id>`), which wins until reset.

Timestamps and nonces are not checked: the emulator's clock can be moved forward on purpose
(`POST /_sim/clock`), and replay protection proves nothing locally.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from cloudsim import ids
from cloudsim.errors import ApiError
from cloudsim.ram import ALLOW, FULL_ACCESS, Policy
from cloudsim.scenario import Account, Role, Scenario

ACS3 = "ACS3-HMAC-SHA256"
STS_PREFIX = "STS."


@dataclass(frozen=True)
class Identity:
    """An authenticated caller: the account it acts in and what it may call."""

    uid: str
    arn: str
    identity_type: str  # "Account", "RAMUser" or "AssumedRoleUser", as GetCallerIdentity says
    principal_id: str
    access_key_id: str
    policy: Policy = FULL_ACCESS
    role_id: str = ""

    def decide(self, action: str, context: Mapping[str, str] | None = None) -> str:
        """RAM's decision on `product:Action` for this caller (ram.ALLOW or a kind of deny)."""
        return self.policy.decide(action, context)

    def may(self, action: str, context: Mapping[str, str] | None = None) -> bool:
        return self.decide(action, context) == ALLOW


HeaderGetter = Callable[[str], "str | None"]


class Authenticator:
    """Checks signatures against the scenario's access keys and the live STS sessions."""

    def __init__(
        self,
        scenario: Scenario,
        sessions: Callable[[], dict],
        now: Callable[[], float],
        policies: Callable[[], dict] = dict,
    ):
        self._keys: dict[str, tuple[Account, str, str | None, Policy]] = {}
        for account in scenario.accounts:
            for key in account.access_keys:
                self._keys[key.id] = (account, key.secret, key.user, key.policy)
        self._sessions = sessions
        self._now = now
        # Access key id → a policy document set at run time (the control API), over the scenario's.
        self._policies = policies

    def authenticate(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        params: Mapping[str, str],
        header: HeaderGetter,
        body: bytes,
    ) -> Identity:
        authorization = header("authorization")
        if authorization:
            return self._acs3(authorization, method, path, query, header, body)
        if "Signature" in params:
            return self._rpc(method, params)
        raise ApiError(
            "IncompleteSignature",
            "The request carries no signature: sign it with ACS3-HMAC-SHA256 (Authorization "
            "header) or HMAC-SHA1 (Signature parameter).",
        )

    # -- ACS3-HMAC-SHA256 ---------------------------------------------------------------------

    def _acs3(
        self,
        authorization: str,
        method: str,
        path: str,
        query: Mapping[str, str],
        header: HeaderGetter,
        body: bytes,
    ) -> Identity:
        algorithm, _, rest = authorization.strip().partition(" ")
        if algorithm != ACS3:
            raise ApiError(
                "IncompleteSignature", f"Signature algorithm {algorithm!r} is not supported."
            )
        parts = {}
        for item in rest.split(","):
            name, sep, value = item.strip().partition("=")
            if sep:
                parts[name] = value
        if not {"Credential", "SignedHeaders", "Signature"} <= parts.keys():
            raise ApiError(
                "IncompleteSignature",
                "The Authorization header needs Credential, SignedHeaders and Signature.",
            )
        signed = parts["SignedHeaders"].split(";")
        for name in signed:
            if name != name.lower() or header(name) is None:
                raise ApiError(
                    "IncompleteSignature", f"Signed header {name!r} is absent or not lower-case."
                )
        for name in ("x-acs-security-token", "x-acs-content-sha256", "x-acs-action"):
            if header(name) is not None and name not in signed:
                raise ApiError("IncompleteSignature", f"Header {name!r} must be signed.")

        payload_hash = hashlib.sha256(body).hexdigest()
        claimed_hash = header("x-acs-content-sha256")
        if claimed_hash is not None and claimed_hash != payload_hash:
            raise ApiError(
                "SignatureDoesNotMatch", "x-acs-content-sha256 does not match the request body."
            )
        canonical_query = "&".join(f"{key}={quote(query[key], safe='~')}" for key in sorted(query))
        canonical_headers = "".join(f"{name}:{(header(name) or '').strip()}\n" for name in signed)
        canonical_request = "\n".join(
            [
                method,
                path or "/",
                canonical_query,
                canonical_headers,
                ";".join(signed),
                payload_hash,
            ]
        )
        string_to_sign = f"{ACS3}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"

        identity, secret = self._credentials(parts["Credential"], header("x-acs-security-token"))
        expected = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
        if not _same(expected, parts["Signature"]):
            # Nothing secret in it: the string to sign holds the canonical request's hash only.
            raise _mismatch(string_to_sign)
        return identity

    # -- HMAC-SHA1 RPC --------------------------------------------------------------------------

    def _rpc(self, method: str, params: Mapping[str, str]) -> Identity:
        if params.get("SignatureMethod", "HMAC-SHA1") != "HMAC-SHA1":
            raise ApiError(
                "IncompleteSignature",
                f"SignatureMethod {params.get('SignatureMethod')!r} is not supported.",
            )
        access_key_id = params.get("AccessKeyId")
        if not access_key_id:
            raise ApiError(
                "MissingParameter",
                'The input parameter "AccessKeyId" that is mandatory for processing this request '
                "is not supplied.",
            )
        string_to_sign = _rpc_string_to_sign(method, params)
        identity, secret = self._credentials(access_key_id, params.get("SecurityToken"))
        digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
        if not _same(base64.b64encode(digest).decode(), params["Signature"]):
            # The cloud echoes the string to sign, which helps a client find its mistake; but it
            # carries every parameter, the STS token among them, so secret values are masked.
            shown = {key: "***" if is_secret_name(key) else value for key, value in params.items()}
            raise _mismatch(_rpc_string_to_sign(method, shown))
        return identity

    # -- keys and sessions -----------------------------------------------------------------------

    def _credentials(self, access_key_id: str, token: str | None) -> tuple[Identity, str]:
        if access_key_id.startswith(STS_PREFIX):
            return self._session(access_key_id, token)
        found = self._keys.get(access_key_id)
        if found is None:
            raise ApiError(
                "InvalidAccessKeyId.NotFound", "Specified access key is not found.", status=404
            )
        if token:
            raise ApiError(
                "InvalidSecurityToken.MismatchWithAccessKey",
                "The security token does not belong to this access key.",
            )
        account, secret, user, policy = found
        given = self._policies().get(access_key_id)
        if given is not None and user:
            policy = Policy.parse(given)
        if user:
            user_id = ids.stable_digits(16, account.uid, "user", user)
            identity = Identity(
                account.uid,
                f"acs:ram::{account.uid}:user/{user}",
                "RAMUser",
                user_id,
                access_key_id,
                policy,
            )
        else:
            # The account's own key: RAM does not limit an Alibaba Cloud account, only its RAM
            # users and roles (the scenario and the control API refuse a policy for it).
            identity = Identity(
                account.uid, f"acs:ram::{account.uid}:root", "Account", account.uid, access_key_id
            )
        return identity, secret

    def _session(self, access_key_id: str, token: str | None) -> tuple[Identity, str]:
        sessions = self._sessions()
        session = sessions.get(access_key_id)
        if session is None:
            raise ApiError(
                "InvalidAccessKeyId.NotFound", "Specified access key is not found.", status=404
            )
        if not token:
            raise ApiError(
                "InvalidSecurityToken.Malformed", "STS credentials need their security token."
            )
        if token != session["SecurityToken"]:
            if any(s["SecurityToken"] == token for s in sessions.values()):
                raise ApiError(
                    "InvalidSecurityToken.MismatchWithAccessKey",
                    "The security token does not belong to this access key.",
                )
            raise ApiError("InvalidSecurityToken.Malformed", "The security token is malformed.")
        if self._now() >= session["ExpiresAt"]:
            raise ApiError(
                "InvalidSecurityToken.Expired",
                f"The security token expired at {session['Expiration']}.",
            )
        identity = Identity(
            session["Uid"],
            session["Arn"],
            "AssumedRoleUser",
            session["PrincipalId"],
            access_key_id,
            Policy.parse(session["Policy"]),
            session["RoleId"],
        )
        return identity, session["AccessKeySecret"]


def new_session(
    caller: Identity, account: Account, role: Role, session_name: str, expires_at: float
) -> dict:
    """The stored form of an STS session (what AssumeRole hands out, and what checks it)."""
    return {
        "AccessKeyId": STS_PREFIX + ids.chars(24),
        "AccessKeySecret": ids.credential_secret(),
        "SecurityToken": "CAIS" + ids.credential_secret() + ids.credential_secret(),
        "ExpiresAt": expires_at,
        "Expiration": "",
        "Uid": account.uid,
        "RoleId": role.role_id,
        "RoleName": role.name,
        "SessionName": session_name,
        "Arn": f"acs:ram::{account.uid}:role/{role.name.lower()}/{session_name}",
        "PrincipalId": f"{role.role_id}:{session_name}",
        "Policy": role.policy.document,
        "AssumedBy": caller.arn,
    }


def _encode(value: str) -> str:
    return quote(value, safe="~")


def _same(expected: str, given: str) -> bool:
    """A constant-time comparison that refuses, instead of failing on, a non-ASCII signature."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def _rpc_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """What the older (HMAC-SHA1) signature signs: every parameter but Signature, sorted."""
    canonical = "&".join(
        f"{_encode(key)}={_encode(params[key])}" for key in sorted(params) if key != "Signature"
    )
    return f"{method}&%2F&{_encode(canonical)}"


def is_secret_name(name: str) -> bool:
    """A parameter whose value no message or log may show: the STS token, secrets, passwords."""
    lowered = name.lower()
    return lowered == "securitytoken" or "secret" in lowered or "password" in lowered


def _mismatch(string_to_sign: str) -> ApiError:
    return ApiError(
        "SignatureDoesNotMatch",
        "Specified signature does not match our calculation. "
        f"The server string to sign is: {string_to_sign}",
    )
