"""The Celery application: one broker, two queues, JSON only.

Tasks are named and routed explicitly, acknowledged only after they finish (a worker that dies
mid-task leaves its message to be redelivered), and each worker process takes one message at a
time so that a long cloud call never holds others back.
"""

import os
import time

from celery import Celery
from celery.signals import before_task_publish
from kombu import Queue

import portal.broker  # noqa: F401 - registers the embedded broker's portalfs:// transport

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")

PROVISIONING_QUEUE = "provisioning"
PROBES_QUEUE = "probes"

app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    # Nothing reads task results: workflow progress lives on the database rows.
    task_ignore_result=True,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    # How late a countdown may run. Without an event loop (the embedded broker) the worker's
    # timer thread sleeps up to this long between looks at its schedule, and a hop enqueued
    # during that sleep waits for its end: at Celery's default (1 s) every step that waits on the
    # cloud ran up to a second late. A look costs microseconds and happens only while countdowns
    # are queued. (With Redis the event loop's own timer runs them on time.)
    worker_timer_precision=0.02,
    # A cloud call is bounded by the SDK's own timeouts; these catch anything that is not.
    task_soft_time_limit=120,
    task_time_limit=150,
    task_queues=[Queue(PROVISIONING_QUEUE), Queue(PROBES_QUEUE)],
    task_default_queue=PROVISIONING_QUEUE,
    # Every task by its name, the workflows' hops by their family (connections/tasks.py; a test
    # checks that every registered task has its route). The probes queue takes what reads and
    # probes, so that a health sweep never delays a workflow's hop.
    task_routes={
        "connections.workflow.*": {"queue": PROVISIONING_QUEUE},
        **{
            name: {"queue": PROVISIONING_QUEUE}
            for name in (
                "connections.expire_requests",
                "connections.reconcile",
                "portal.answer_ping",
            )
        },
        **{
            name: {"queue": PROBES_QUEUE}
            for name in (
                "connections.test_connection",
                "connections.sweep_health",
                "connections.compact_health_history",
                "connections.clean_up_finding",
                "connections.sync_inventories",
                "connections.sync_inventory",
                "connections.check_cloud_account",
            )
        },
        # The names of the previous release (README, "Upgrading"), on the same queues.
        **{
            name: {"queue": PROVISIONING_QUEUE}
            for name in (
                "connections.publish_service",
                "connections.configure_service",
                "connections.retire_service",
                "connections.provision_request",
                "connections.connect_request",
                "connections.revoke_request",
                "connections.clean_up_request",
            )
        },
        **{
            name: {"queue": PROBES_QUEUE}
            for name in (
                "connections.probe_connection",
                "connections.probe_sweep",
                "connections.probe_history_compact",
                "connections.probe_clean_up",
            )
        },
    },
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    # The periodic jobs (beat_schedule) are settings.CELERY_BEAT_SCHEDULE.
    timezone=os.environ.get("TIME_ZONE", "UTC"),
)
app.autodiscover_tasks()
# The workers' signals and consumer step (which worker holds which chain) are wired by the
# connections app once Django has loaded it (connections/apps.py): importing them here would
# import the domain from the project package while it is still being imported.


@before_task_publish.connect
def stamp_reconcile(sender=None, body=None, **_) -> None:
    """The reconciler's message carries when it was sent (connections/workflows/reconcile.py):
    messages in the queue ahead of it are received before it, those behind it are not yet."""
    if sender == "connections.reconcile" and isinstance(body, tuple) and len(body) > 1:
        body[1].setdefault("sent_at", time.time())
