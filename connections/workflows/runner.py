"""Runs a workflow's steps for one record, from a Celery task, without ever sleeping on the cloud.

A workflow is an ordered list of steps. Each step is idempotent: it looks at the record (and, when
it must, at the cloud) and either does its part, finds it already done, or answers `Wait` because
a cloud resource is still changing. The runner:

- skips the steps before `record.progress` (a retry resumes where the last run stopped);
- on `Wait`, re-schedules the same task with a countdown that backs off from about 0.5 s to about
  15 s (or the cloud's retry-after), so a worker process is never held by a waiting resource;
- on a retryable cloud error, re-schedules likewise, at most MAX_TRANSIENT_ERRORS times in a row;
- on any other error, or a wait longer than STEP_DEADLINE, marks the record failed with the code
  and message, through the workflow's own `fail`;
- stops quietly when the record has moved on: another state, or another task chain (`task_token`),
  which is how a stale or duplicated message becomes harmless.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from django.db import DatabaseError, transaction

from connections.cloud import (
    CloudError,
    CloudInvalidInput,
    CloudNotAuthorised,
    CloudNotFound,
    CloudSession,
    RetryableCloudError,
)
from connections.states import InvalidTransition, record_event

logger = logging.getLogger(__name__)

MAX_TRANSIENT_ERRORS = 8
STEP_DEADLINE_SECONDS = 30 * 60
FIRST_WAIT_SECONDS = 0.5
LONGEST_WAIT_SECONDS = 15.0


@dataclass(frozen=True)
class Wait:
    """A step's resource is still changing: come back later."""

    reason: str
    retry_after: float | None = None


class StepFailed(Exception):
    """The cloud answered, and the answer means this workflow cannot go on (e.g. CreateFailed)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[Context], Wait | None]


class Context:
    """What a step works with: the fresh record, its cloud sessions, and ways to record facts."""

    def __init__(self, workflow: Workflow, record, token: str):
        self.workflow, self.record, self.token = workflow, record, token

    @cached_property
    def cloud(self) -> CloudSession:
        """The session of the record's own account (the service's, or the request's VPC's)."""
        return CloudSession(self.workflow.account_of(self.record))

    @cached_property
    def provider_cloud(self) -> CloudSession:
        """For a request: the session of its service's account (whitelist, accept, reject)."""
        return CloudSession(self.record.service.account)

    def save(self, **fields) -> None:
        """Write facts learnt from the cloud (ids, domains), whatever the record's state now.

        Ids are saved unconditionally and at once: whoever tears down later must find them.
        """
        type(self.record).objects.filter(pk=self.record.pk).update(**fields)
        for name, value in fields.items():
            setattr(self.record, name, value)

    def event(self, verb: str, detail: str = "", cloud_request_id: str = "") -> None:
        record_event(self.record, verb, detail=detail, cloud_request_id=cloud_request_id)

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
    """Steps for one kind of record; subclasses name the task, states, steps and failure."""

    name: str
    model: type
    running_states: frozenset[str]
    steps: list[Step]

    @property
    def task(self):
        raise NotImplementedError

    def account_of(self, record):
        raise NotImplementedError

    def prepare(self, record) -> None:
        """Before the first step: e.g. move a submitted request to provisioning."""

    def fail(self, ctx: Context, code: str, message: str, cloud_request_id: str) -> None:
        raise NotImplementedError

    def load(self, record_id: int, token: str):
        record = self.model.objects.filter(pk=record_id).first()
        if record is None or record.task_token != token:
            return None
        try:
            self.prepare(record)
        except InvalidTransition:
            return None  # someone else moved it first (a revoke before the first step)
        if record.state not in self.running_states:
            return None
        return record

    def remaining_steps(self, progress: str) -> list[Step]:
        names = [step.name for step in self.steps]
        return self.steps[names.index(progress) + 1 :] if progress in names else self.steps


def run(
    workflow: Workflow,
    record_id: int,
    token: str,
    *,
    errors: int = 0,
    waits: int = 0,
    step_started: float | None = None,
) -> str:
    """Advance the workflow as far as it goes now; returns what happened, for logs and tests."""
    record = workflow.load(record_id, token)
    if record is None:
        return "stale"
    ctx = Context(workflow, record, token)
    for step in workflow.remaining_steps(record.progress):
        try:
            outcome = step.run(ctx)
        except RetryableCloudError as error:
            if errors >= MAX_TRANSIENT_ERRORS:
                _fail(
                    ctx, error.code, f"{error.message} (still failing after {errors + 1} attempts)"
                )
                return "failed"
            _reschedule(ctx, errors + 1, waits + 1, step_started, error.retry_after)
            return f"retry {step.name}: {error.code}"
        except (CloudNotFound, CloudInvalidInput, CloudNotAuthorised, CloudError) as error:
            _fail(ctx, error.code, error.message, error.request_id)
            return "failed"
        except StepFailed as error:
            _fail(ctx, error.code, error.message)
            return "failed"
        except InvalidTransition:
            return "moved on"  # a user's verb changed the state while this step ran
        except DatabaseError:
            # A busy or briefly unreachable database: the step is idempotent, so run it again.
            logger.exception("%s %s: database error in %s", workflow.name, record_id, step.name)
            _reschedule(ctx, errors + 1, waits + 1, step_started, None)
            return f"retry {step.name}: database"
        except Exception:
            logger.exception("%s %s: unexpected error in %s", workflow.name, record_id, step.name)
            _fail(
                ctx,
                "InternalError",
                "The portal hit an unexpected error; the worker log has details.",
            )
            return "failed"
        if isinstance(outcome, Wait):
            started = step_started or time.time()
            if time.time() - started > STEP_DEADLINE_SECONDS:
                minutes = STEP_DEADLINE_SECONDS // 60
                _fail(
                    ctx, "Timeout", f"Gave up waiting: {outcome.reason} for over {minutes} minutes."
                )
                return "failed"
            _reschedule(ctx, 0, waits + 1, started, outcome.retry_after)
            return f"wait {step.name}: {outcome.reason}"
        if not _mark_progress(ctx, step.name):
            return "moved on"
        errors, waits, step_started = 0, 0, None
    return "done"


def backoff_seconds(waits: int, retry_after: float | None = None) -> float:
    """About 0.5 s, doubling to about 15 s, with jitter so that many requests spread out."""
    base = min(LONGEST_WAIT_SECONDS, FIRST_WAIT_SECONDS * 2 ** max(0, waits - 1))
    delay = base * random.uniform(0.8, 1.2)
    return max(delay, retry_after or 0.0)


def _reschedule(ctx: Context, errors: int, waits: int, step_started, retry_after) -> None:
    ctx.workflow.task.apply_async(
        args=(ctx.record.pk, ctx.token),
        kwargs={"errors": errors, "waits": waits, "step_started": step_started},
        countdown=backoff_seconds(waits, retry_after),
    )


def _mark_progress(ctx: Context, step_name: str) -> bool:
    record = ctx.record
    updated = (
        type(record)
        .objects.filter(pk=record.pk, state__in=ctx.workflow.running_states, task_token=ctx.token)
        .update(progress=step_name)
    )
    record.progress = step_name
    return updated == 1


def _fail(ctx: Context, code: str, message: str, cloud_request_id: str = "") -> None:
    logger.warning("%s %s failed: %s %s", ctx.workflow.name, ctx.record.pk, code, message)
    with transaction.atomic():
        if not ctx.is_current():
            return
        ctx.workflow.fail(ctx, code, message[:2000], cloud_request_id)
