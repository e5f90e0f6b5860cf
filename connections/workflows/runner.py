"""Runs a workflow's steps for one record, from a Celery task, without ever sleeping on the cloud.

A workflow is an ordered list of steps. Each step is idempotent: it looks at the record (and, when
it must, at the cloud) and either does its part, finds it already done, or answers `Wait` because
a cloud resource is still changing. The runner:

- skips the steps before `record.progress` (a retry resumes where the last run stopped);
- comes to a step that waits for an operation the step before started (`Step.waits_for`) not at
  once but when that operation is typically done;
- on `Wait`, re-schedules the same task with a countdown (`timing.next_read`: soon after the
  operation it waits on is due, then short bounded intervals; or the cloud's retry-after), so a
  worker process is never held by a waiting resource;
- when the cloud refuses a call because another change of the same account or resource is
  under way (CloudBusy: its "does not support concurrent calls" rules), waits as for `Wait`:
  a burst of approvals in one account is served one after another, however long that takes;
- on a retryable error (cloud throttling, busy, 5xx; a busy database), re-schedules likewise,
  backing off to 15 s and honouring the cloud's retry-after, for up to TRANSIENT_ERRORS_FOR:
  a burst of faults delays a record, only an error a person must act on fails it;
- on any other error, or a wait longer than STEP_DEADLINE_SECONDS, fails the record with the code
  and message (`Workflow.fail`);
- stops quietly when the message is not the chain's latest;
- fails the record when the same hop's message comes for the MAX_DELIVERIES + 1st time without
  a step finishing: the worker died each time it ran that step (a poisoned message), and
  redelivery would never end.

A chain is named by the record's `task_token` (replaced when a verb starts new work) and counted
by its `task_hop` (advanced, with a conditional update, each time the chain re-schedules itself).
A message carries both. A redelivered message whose run already re-scheduled, a duplicate that
lost the race to re-schedule, and a message from an older chain all find another token or hop and
stop, so the chain never forks. A message redelivered before it re-scheduled finds its own hop
and runs again: every step is safe to run twice.
"""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import timedelta

from celery import current_app
from django.db import DatabaseError, DataError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from connections.cloud import (
    CloudBusy,
    CloudError,
    RetryableCloudError,
    forget_sessions,
)
from connections.states import InvalidTransition
from connections.workflows import timing
from connections.workflows.definition import Context, StepFailed, Wait, Workflow

logger = logging.getLogger(__name__)

# How long retryable errors may go on in a row before the record fails: time, not a count, so
# that a step making several calls under a burst of faults is not failed by the burst.
TRANSIENT_ERRORS_FOR_SECONDS = 10 * 60
# While a hop runs, by when it will have finished (refreshed by each finished step): a chain
# past it and workflows/reconcile.GRACE lost its worker. Longer than a step's cloud calls
# usually take; one that takes longer may see its chain resumed beside it, and the chain token
# stops the older run at its next write.
HOP_RUNNING_SECONDS = 20
# Deliveries of one hop's message, since its last finished step, before the record fails: each
# extra one means a worker died running that step (acks_late redelivers the message), and a step
# that always kills its worker must end.
MAX_DELIVERIES = 5
STEP_DEADLINE_SECONDS = 30 * 60


def run(
    workflow: Workflow,
    record_id: int,
    token: str,
    *,
    hop: int = 0,
    errors: int = 0,
    erring_since: float | None = None,
    waits: int = 0,
    step_started: float | None = None,
    awaiting: str | None = None,
    last_read: float | None = None,
    seen_at: float | None = None,
) -> str:
    """Advance the workflow as far as it goes now; returns what happened, for logs and tests."""
    record = workflow.load(record_id, token, hop)
    if record is None:
        return "stale"
    ctx = Context(workflow, record, token)
    ctx.read_since = last_read if waits else None
    ctx.step_started = step_started
    if step_started and awaiting:
        ctx.expected_at = step_started + timing.typical_seconds(awaiting)
    deliveries = _count_delivery(ctx, hop)
    if deliveries > MAX_DELIVERIES:
        step = workflow.remaining_steps(record.progress)[0].name
        _fail(
            ctx,
            "WorkerLost",
            f"The worker running step {step} stopped {deliveries - 1} times; "
            "the worker log has details.",
        )
        return "failed"
    finished_here = None  # the last step this run finished
    for step in workflow.remaining_steps(record.progress):
        ctx.step = step
        if step.waits_for and finished_here == workflow.step_before(step):
            countdown = timing.next_read(step.waits_for, 0.0, 1)
            _reschedule(ctx, hop, None, 1, time.time(), step.waits_for, countdown, None)
            return f"wait {step.name}: {step.waits_for} under way"
        try:
            outcome = step.run(ctx)
        except CloudBusy as busy:
            # Another change of the account or resource first: wait for it, not an error.
            outcome = Wait(f"{busy.code}: {busy.message}", retry_after=busy.retry_after)
        except RetryableCloudError as error:
            if error.code.startswith("InvalidSecurityToken"):
                forget_sessions()  # an assumed-role session the cloud no longer takes
            return _retry(
                ctx, hop, (errors, erring_since), waits, step_started, step, error.code,
                error.retry_after, awaiting,
            )  # fmt: skip
        except CloudError as error:
            _fail(ctx, error.code, error.message, error.request_id)
            return "failed"
        except StepFailed as error:
            _fail(ctx, error.code, error.message)
            return "failed"
        except InvalidTransition:
            return "moved on"  # a user's verb changed the state while this step ran
        except (IntegrityError, DataError):
            logger.exception("%s %s: data refused in %s", workflow.name, record_id, step.name)
            _fail(ctx, "InternalError", "The portal could not record the cloud's answer.")
            return "failed"
        except DatabaseError:
            # A busy or briefly unreachable database: the step is idempotent, so run it again.
            logger.exception("%s %s: database error in %s", workflow.name, record_id, step.name)
            return _retry(
                ctx, hop, (errors, erring_since), waits, step_started, step, "DatabaseError",
                None, awaiting,
            )  # fmt: skip
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
            countdown = timing.next_read(outcome.operation, time.time() - started, waits + 1)
            operation, retry_after = outcome.operation, outcome.retry_after
            _reschedule(ctx, hop, None, waits + 1, started, operation, countdown, retry_after)
            return f"wait {step.name}: {outcome.reason}"
        if step_started is not None and awaiting:
            # What the next wait on this operation expects (workflows/timing.py).
            # Timed by when what was read was true (a shared listing may be older than the
            # read), so that a read the worker made late teaches nothing (workflows/timing.py).
            not_yet = (seen_at or last_read) - step_started if last_read else None
            timing.observed(awaiting, (ctx.seen_at or time.time()) - step_started, not_yet)
        if workflow.is_ahead(step, record.progress) and not _mark_progress(ctx, step.name):
            return "moved on"
        errors, erring_since, waits, step_started, awaiting = 0, None, 0, None, None
        ctx.read_since = ctx.seen_at = ctx.step_started = ctx.expected_at = None
        finished_here = step.name
    return "done"


def _retry(ctx, hop, erring, waits, step_started, step, code, retry_after, awaiting) -> str:
    """`erring`: (retryable errors in a row so far, when the first of them came)."""
    errors, since = erring[0], erring[1] or time.time()
    if time.time() - since > TRANSIENT_ERRORS_FOR_SECONDS:
        minutes = TRANSIENT_ERRORS_FOR_SECONDS // 60
        _fail(
            ctx,
            code,
            f"Still failing after {errors + 1} attempts over {minutes} minutes ({code}).",
        )
        return "failed"
    # An error is not the operation being late: back off as for a wait that names none.
    countdown = timing.next_read(None, 0.0, waits + 1)
    _reschedule(
        ctx, hop, (errors + 1, since), waits + 1, step_started, awaiting, countdown, retry_after
    )
    return f"retry {step.name}: {code}"


def _count_delivery(ctx: Context, hop: int) -> int:
    """Count this delivery of the hop's message, before any step runs; returns the count."""
    model, record = type(ctx.record), ctx.record
    model.objects.filter(pk=record.pk, task_token=ctx.token, task_hop=hop).update(
        task_deliveries=F("task_deliveries") + 1, task_due_at=_running_until()
    )
    return model.objects.filter(pk=record.pk).values_list("task_deliveries", flat=True).get()


def _reschedule(
    ctx: Context,
    hop: int,
    erring: tuple[int, float] | None,
    waits: int,
    step_started,
    awaiting: str | None,
    countdown: float,
    retry_after: float | None,
) -> None:
    """Enqueue the chain's next hop in `countdown` seconds (or the cloud's retry-after, when
    longer), unless another delivery of this hop already did. `erring`: (retryable errors in a
    row, since when), or None after a wait."""
    record = ctx.record
    countdown = max(countdown, retry_after or 0.0)
    now = timezone.now()
    advanced = (
        type(record)
        .objects.filter(pk=record.pk, task_token=ctx.token, task_hop=hop)
        .update(
            task_hop=hop + 1,
            task_deliveries=0,
            task_due_at=now + timedelta(seconds=countdown),
            updated_at=now,
        )
    )
    if advanced != 1:
        return
    current_app.send_task(
        ctx.workflow.task_name,
        args=(record.pk, ctx.token),
        kwargs={
            "hop": hop + 1,
            "errors": erring[0] if erring else 0,
            "erring_since": erring[1] if erring else None,
            "waits": waits,
            "step_started": step_started,
            "awaiting": awaiting,
            "last_read": time.time(),
            "seen_at": ctx.seen_at,
        },
        countdown=countdown,
    )


def _mark_progress(ctx: Context, step_name: str) -> bool:
    """Record a finished step. The delivery running the next step counts as its first: a worker
    that dies after some progress has not crashed on the step that comes next."""
    record = ctx.record
    updated = (
        type(record)
        .objects.filter(pk=record.pk, state__in=ctx.workflow.running_states, task_token=ctx.token)
        .update(
            progress=step_name,
            task_deliveries=1,
            task_due_at=_running_until(),
            updated_at=timezone.now(),
        )
    )
    record.progress = step_name
    return updated == 1


def _running_until():
    return timezone.now() + timedelta(seconds=HOP_RUNNING_SECONDS)


def _fail(ctx: Context, code: str, message: str, cloud_request_id: str = "") -> None:
    logger.warning("%s %s failed: %s %s", ctx.workflow.name, ctx.record.pk, code, message)
    with transaction.atomic():
        if not ctx.is_current():
            return
        # InvalidTransition: a verb moved the record at this very moment; its outcome stands.
        with contextlib.suppress(InvalidTransition):
            ctx.workflow.fail(ctx, code, message[:2000], cloud_request_id)
