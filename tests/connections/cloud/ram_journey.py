"""The portal's whole journey in two cloud accounts whose credentials are RAM users limited to the
policies `manage.py ram_policy` prints (connections/cloud/ram.py), for the tests of those
policies: an operator's check, the inventory sync, publish, a change of settings, a request from
each account, approval, the health sweep, revocation, retirement.

The journey runs through whatever carries the tasks: a real worker (test_ram_policies.py), or
the test's own process, task after task (test_ram_policy_actions.py: the broker is not what
those tests are about). It records every message a person or an operator would read where
something failed, so a test can look for the action a policy lacks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from io import StringIO

from django.core.management import CommandError, call_command

from connections import actions, demo
from connections.choices import RequestState, ServiceState
from connections.cloud import CloudError, forget_sessions
from connections.cloud.operations import Role
from connections.cloud.ram import policy_for
from connections.models import AccessRequest, CloudAccount, Event, PublishedService
from tests.connections.conftest import World

# The scenario's RAM users (cloudsim/scenarios/default.yaml): RAM limits them, not an account's
# own keys.
RAM_USERS = {"A": ("portal-a-key", "portal-a-secret"), "B": ("portal-b-key", "portal-b-secret")}
# What each demo account does: A publishes and requests (VPC1), B only requests (VPC3).
ROLES = {"A": {Role.PROVIDER, Role.CONSUMER}, "B": {Role.CONSUMER}}


JOURNEY = ["synced", "published", "configured", "connected", "swept", "revoked", "retired"]


def policies() -> dict[str, dict]:
    return {name: policy_for(roles) for name, roles in ROLES.items()}


def use_ram_users(world: World, documents: dict[str, dict]) -> None:
    """Give the portal each account's RAM user, acting under `documents[account name]`."""
    for name, (key, secret) in RAM_USERS.items():
        account = world.accounts[name]
        account.access_key_id, account.access_key_secret = key, secret
        account.save()
        world.cloudsim.control("PUT", f"policies/{key}", documents[name])
    forget_sessions()


@dataclass
class Outcome:
    """Where the journey got to, and what it said where it failed."""

    stages: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)  # check_cloud's lines

    def mention(self, text: str) -> bool:
        return any(text in message for message in self.messages)

    def checked(self, text: str) -> bool:
        return any(text in line for line in self.checks)


# `settle(record, done)` lets the tasks run until `done(record)` holds, or the record can go no
# further, and returns the record fresh from the database; `sweep()` runs one health sweep.
Settle = Callable[[object, Callable[[object], bool]], object]


def run(world: World, settle: Settle, sweep: Callable[[], None], *, check: bool = True) -> Outcome:
    """The journey, as far as it goes; what it reached, and every failure it recorded."""
    outcome = Outcome()
    try:
        _journey(world, settle, sweep, outcome, check)
    except (CloudError, CommandError) as error:
        outcome.messages.append(str(error))
    outcome.messages.extend(_recorded_messages())
    return outcome


def in_state(*states: str) -> Callable[[object], bool]:
    return lambda record: record.state in states


def configured(service) -> bool:
    return service.progress == "configured" or bool(service.failed_phase)


def _journey(world: World, settle: Settle, sweep, outcome: Outcome, check: bool) -> None:
    if check:
        for name, roles in ROLES.items():
            printed = StringIO()
            role = "both" if len(roles) == 2 else "consumer"
            with contextlib.suppress(CommandError):  # its lines say what failed
                call_command(
                    "check_cloud", world.accounts[name].uid, "--role", role, stdout=printed
                )
            outcome.checks.extend(printed.getvalue().splitlines())
    for account in world.accounts.values():
        demo.sync_inventory(account)
    outcome.stages.append("synced")

    service = settle(demo.publish_seed_service(world.provider), in_state(ServiceState.AVAILABLE))
    if service.state != ServiceState.AVAILABLE:
        return
    outcome.stages.append("published")
    for auto_accept in (True, False):  # an owner switches auto-accept on, then off again
        actions.update_service_settings(
            world.provider,
            service,
            auto_accept=auto_accept,
            trusted_teams=[],
            connection_limit=None,
        )
        service = settle(service, configured)
        if service.failed_phase:
            return
    outcome.stages.append("configured")

    requests = [
        _request(world, service, user="consumer", team="apps", vpc="VPC1"),
        _request(world, service, user="partner", team="partners", vpc="VPC3"),
    ]
    requests = [settle(r, in_state(RequestState.PENDING_APPROVAL)) for r in requests]
    if any(r.state != RequestState.PENDING_APPROVAL for r in requests):
        return
    for access_request in requests:
        actions.approve_request(world.provider, access_request)
    requests = [settle(r, in_state(RequestState.CONNECTED)) for r in requests]
    if any(r.state != RequestState.CONNECTED for r in requests):
        return
    outcome.stages.append("connected")

    sweep()
    if CloudAccount.objects.exclude(sweep_error="").exists():
        return
    outcome.stages.append("swept")

    for access_request, user in zip(requests, (world.consumer, world.partner), strict=True):
        actions.revoke_request(user, access_request)
    requests = [settle(r, in_state(RequestState.REVOKED)) for r in requests]
    if any(r.state != RequestState.REVOKED for r in requests):
        return
    outcome.stages.append("revoked")

    actions.retire_service(world.provider, service)
    service = settle(service, in_state(ServiceState.RETIRED))
    if service.state == ServiceState.RETIRED:
        outcome.stages.append("retired")


def _request(world: World, service, *, user: str, team: str, vpc: str) -> AccessRequest:
    return actions.request_access(
        world.users[user],
        service=service,
        team=world.team(team),
        vpc=world.vpc(vpc),
        security_groups=world.security_groups(vpc),
        zones=world.zones(vpc, "g", "k"),
        justification="The storefront needs the nginx service.",
    )


def _recorded_messages() -> list[str]:
    """Every failure the portal recorded: on services and requests, their timelines, and what
    the sweep could not read in each account."""
    found = []
    for model in (PublishedService, AccessRequest):
        found.extend(
            model.objects.exclude(last_error_message="").values_list(
                "last_error_message", flat=True
            )
        )
    found.extend(Event.objects.exclude(detail="").values_list("detail", flat=True))
    found.extend(CloudAccount.objects.exclude(sweep_error="").values_list("sweep_error", flat=True))
    return found
