"""STS 2015-04-01: AssumeRole (the scenario's RAM roles) and GetCallerIdentity."""

from __future__ import annotations

import re
from typing import Any

from cloudsim.auth import new_session
from cloudsim.errors import ApiError, invalid
from cloudsim.products.base import Context, Product

PRODUCT = Product("sts", "2015-04-01", "sts")

_ROLE_ARN = re.compile(r"^acs:ram::([0-9]{16}):role/([A-Za-z0-9.\-]{1,64})$")
_SESSION_NAME = re.compile(r"^[\w.@\-]{2,64}$")


@PRODUCT.action("AssumeRole")
def assume_role(ctx: Context) -> dict[str, Any]:
    arn = ctx.params.req("RoleArn")
    session_name = ctx.params.req("RoleSessionName")
    if not _SESSION_NAME.match(session_name):
        raise invalid("RoleSessionName", "2 to 64 letters, digits or . @ - _")
    match = _ROLE_ARN.match(arn)
    if match is None:
        raise ApiError(
            "InvalidParameter.RoleArn", f"The parameter RoleArn {arn!r} is not a role ARN."
        )
    uid, role_name = match.groups()
    account = next((a for a in ctx.store.scenario.accounts if a.uid == uid), None)
    role = None
    if account is not None:
        role = next((r for r in account.roles if r.name.lower() == role_name.lower()), None)
    if account is None or role is None:
        raise ApiError("EntityNotExist.Role", f"The role {arn} does not exist.", status=404)
    if ctx.uid != uid and ctx.uid not in role.trusted_accounts:
        raise ApiError(
            "NoPermission",
            f"You are not authorized to do this action: role {arn} does not trust "
            f"account {ctx.uid}.",
            status=403,
        )
    duration = ctx.params.integer(
        "DurationSeconds", default=min(3600, role.max_session_duration), low=900
    )
    assert duration is not None
    if duration > role.max_session_duration:
        raise ApiError(
            "InvalidParameter.DurationSeconds",
            f"DurationSeconds {duration} exceeds the role's maximum session duration "
            f"({role.max_session_duration} seconds).",
        )
    sessions = ctx.store.sessions()  # expired ones are forgotten after the retention (store.prune)
    now = ctx.store.now()
    session = new_session(ctx.identity, account, role, session_name, now + duration)
    session["Expiration"] = ctx.store.iso(now + duration)
    sessions[session["AccessKeyId"]] = session
    ctx.store.dirty = True
    return {
        "Credentials": {
            "AccessKeyId": session["AccessKeyId"],
            "AccessKeySecret": session["AccessKeySecret"],
            "SecurityToken": session["SecurityToken"],
            "Expiration": session["Expiration"],
        },
        "AssumedRoleUser": {"Arn": session["Arn"], "AssumedRoleId": session["PrincipalId"]},
    }


@PRODUCT.action("GetCallerIdentity")
def get_caller_identity(ctx: Context) -> dict[str, Any]:
    identity = ctx.identity
    return {
        "AccountId": identity.uid,
        "Arn": identity.arn,
        "IdentityType": identity.identity_type,
        "PrincipalId": identity.principal_id,
        "UserId": identity.principal_id,
        "RoleId": identity.role_id,
    }
