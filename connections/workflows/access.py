"""What an access request's workflows share: the base class and the statuses they wait on. The
workflows: provision.py (the endpoint and the connection, seed steps 5 and 6), teardown.py
(revoke, and the clean-up after a reject); the account's whitelisting: whitelist.py."""

from __future__ import annotations

from connections.choices import RequestState
from connections.models import AccessRequest
from connections.states import REQUEST_WORKFLOWS, record_event
from connections.workflows.definition import Context, Workflow

REVOKE_PHASE = REQUEST_WORKFLOWS[RequestState.REVOKING]
# What waiting steps wait to see an endpoint leave (workflows/listings.py reads only those).
CREATING, DELETING = ("EndpointStatus", "Creating"), ("EndpointStatus", "Deleting")


class AccessWorkflow(Workflow):
    model = AccessRequest
    failed_state = RequestState.FAILED
    related = ("vpc__account", "service__account")

    def account_of(self, record):
        return record.vpc.account

    def shown_error(self, ctx: Context, code: str, message: str) -> str:
        """A failure on the service's side is the service's owners' to read in full (on the
        service's timeline); the requesting team gets its code."""
        if ctx.step is None or not ctx.step.provider_side:
            return message
        record_event(
            ctx.record.service,
            "request failed",
            detail=f"request {ctx.record.pk}, {ctx.step.name}: {code}: {message}",
        )
        return (
            f"The service's side refused this ({code}); its owners see the details on the "
            "service's timeline."
        )
