"""What a workflow is made of: its steps, what a step may answer (`Wait`, `StepFailed`), and the
`Context` a step works with. How the steps are run, hop by hop: runner.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from django.db import transaction

from connections.cloud import CloudSession
from connections.states import InvalidTransition, record_event, transition

NO_ERROR = {"last_error_code": "", "last_error_message": "", "failed_phase": ""}


@dataclass(frozen=True)
class Wait:
    """A step's resource is still changing: come back later. `operation`: the cloud operation
    whose end it waits for (e.g. CreateVpcEndpoint), which says when to look again."""

    reason: str
    retry_after: float | None = None
    operation: str | None = None


class StepFailed(Exception):
    """The cloud answered, and the answer means this workflow cannot go on (e.g. CreateFailed)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


@dataclass(frozen=True)
class Step:
    """One step of a workflow.

    `always`: run even when a retry or a restart resumes after it (a check that must hold at
    every run, such as whose account the credentials are, which an admin may have changed).
    `provider_side`: it acts in the service's account, for a request: the cloud's messages name
    the provider's resources, so a failure shows the requesting team only its code
    (AccessWorkflow.shown_error).
    `waits_for`: the cloud operation the step before starts and this one waits to see done. Come
    to straight from that step, it is first run when the operation is typically done (a read at
    once would only find it under way); resumed later, it reads at once.
    """

    name: str
    run: Callable[[Context], Wait | None]
    always: bool = False
    provider_side: bool = False
    waits_for: str | None = None


class Context:
    """What a step works with: the fresh record, its cloud sessions, and ways to record facts."""

    def __init__(self, workflow: Workflow, record, token: str):
        self.workflow, self.record, self.token = workflow, record, token
        self.step: Step | None = None  # the step running now
        # When the running step last read the cloud (it has waited before), else None: what it
        # reads now must be newer than that, and may be shared with others (workflows/listings.py).
        self.read_since: float | None = None
        # When what the step last read was true, if not when it read: the time of the shared
        # listing it was answered from (workflows/listings.py). A wait is timed by it.
        self.seen_at: float | None = None
        # When the running step first waited (None: it has not waited yet).
        self.step_started: float | None = None
        # When the operation the step waits for is typically done (None: it names none): a
        # shared listing taken before then would most likely show it still under way.
        self.expected_at: float | None = None

    def waited_seconds(self) -> float:
        """How long the running step has been waiting on the cloud."""
        return time.time() - self.step_started if self.step_started else 0.0

    @cached_property
    def cloud(self) -> CloudSession:
        """The session of the record's own account (the service's, or the request's VPC's)."""
        return CloudSession(self.workflow.account_of(self.record))

    @cached_property
    def provider_cloud(self) -> CloudSession:
        """For a request: the session of its service's account (whitelist, accept, reject)."""
        account = self.record.service.account
        return self.cloud if account.pk == self.cloud.account.pk else CloudSession(account)

    def remember(
        self, verb: str = "", detail: str = "", cloud_request_id: str = "", **fields
    ) -> None:
        """Write facts learnt from the cloud (ids, domains), with their event, in one commit.

        Saved whatever the record's state now, and at once: whoever tears down later must find
        every id, even one learnt after a revoke.
        """
        with transaction.atomic():
            type(self.record).objects.filter(pk=self.record.pk).update(**fields)
            for name, value in fields.items():
                setattr(self.record, name, value)
            if verb:
                self.event(verb, detail, cloud_request_id)

    def event(self, verb: str, detail: str = "", cloud_request_id: str = "") -> None:
        record_event(self.record, verb, detail=detail, cloud_request_id=cloud_request_id)

    def transition(self, to_state: str, **kwargs) -> None:
        """A state change by this chain: refused if a verb started another chain meanwhile."""
        transition(self.record, to_state, task_token=self.token, **kwargs)

    def finish(self, to_state: str, **kwargs) -> None:
        """The workflow's last transition: whatever failed before (and was retried) went through,
        so the record keeps no error (the timeline keeps the failure)."""
        self.transition(to_state, **NO_ERROR, **kwargs)

    def is_current(self) -> bool:
        """Still in a state this workflow runs in, and still this task chain's record?"""
        return (
            type(self.record)
            .objects.filter(
                pk=self.record.pk, state__in=self.workflow.running_states, task_token=self.token
            )
            .exists()
        )


class Workflow:
    """Steps for one kind of record; subclasses set the name, states and steps."""

    name: str
    # The task's name until 2026-12, still accepted for one release (connections/tasks.py).
    former_task_name: str
    model: type
    running_states: frozenset[str]
    # The state a failure moves the record to; None for work on a record whose life is over.
    failed_state: str | None
    steps: list[Step]
    # Relations every hop reads (its accounts): loaded with the record, in one query.
    related: tuple[str, ...] = ()
    # The steps as people see them on the record's page: (label, the name of the stage's last
    # step), each stage done once that step is. Here, so that renaming a step is one edit.
    stages: tuple[tuple[str, str], ...] = ()

    @property
    def task_name(self) -> str:
        """The Celery task that runs this workflow's hops (connections/tasks.py)."""
        return f"connections.workflow.{self.name}"

    def account_of(self, record):
        raise NotImplementedError

    def prepare(self, record) -> None:
        """Before the first step: e.g. move a submitted request to provisioning."""

    def shown_error(self, ctx: Context, code: str, message: str) -> str:
        """The message the record keeps for everyone who may see it (the cloud's, by default)."""
        return message

    def fail(self, ctx: Context, code: str, message: str, cloud_request_id: str) -> None:
        message = self.shown_error(ctx, code, message)
        errors = {"last_error_code": code, "last_error_message": message, "failed_phase": self.name}
        if self.failed_state is None:
            ctx.remember(verb=f"{self.name} failed", detail=f"{code}: {message}", **errors)
            return
        ctx.transition(
            self.failed_state,
            verb="failed",
            detail=f"{self.name}: {code}: {message}",
            cloud_request_id=cloud_request_id,
            **errors,
        )

    def load(self, record_id: int, token: str, hop: int):
        try:
            record = self.model.objects.select_related(*self.related).get(pk=record_id)
        except self.model.DoesNotExist:
            return None
        if record.task_token != token or record.task_hop != hop:
            return None
        try:
            self.prepare(record)
        except InvalidTransition:
            return None  # someone else moved it first (a revoke before the first step)
        if record.state not in self.running_states:
            return None
        return record

    @cached_property
    def step_names(self) -> list[str]:
        return [step.name for step in self.steps]

    def is_ahead(self, step: Step, progress: str) -> bool:
        """Is `step` after the last finished one? (An `always` step run again is not: finishing
        it again is no progress.)"""
        names = self.step_names
        return progress not in names or names.index(step.name) > names.index(progress)

    def step_before(self, step: Step) -> str | None:
        at = self.step_names.index(step.name)
        return self.step_names[at - 1] if at else None

    def remaining_steps(self, progress: str) -> list[Step]:
        """The steps after `progress`, and before them those that run at every start."""
        if progress not in self.step_names:
            return self.steps
        done = self.step_names.index(progress) + 1
        return [step for step in self.steps[:done] if step.always] + self.steps[done:]
