"""Prove that a Celery worker answers: enqueue a ping after commit and wait for its answer."""

import time

from django.core.management.base import BaseCommand, CommandError

from portal.models import WorkerPing
from portal.services import send_ping


class Command(BaseCommand):
    help = "Send a task through the broker and wait until a worker has written its answer."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait")

    def handle(self, *args, timeout: float, **options):
        ping = send_ping()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ping = WorkerPing.objects.get(pk=ping.pk)
            if ping.answered_at:
                waited = (ping.answered_at - ping.created_at).total_seconds()
                self.stdout.write(f"worker {ping.answered_by} answered in {waited:.2f}s")
                return
            time.sleep(0.2)
        raise CommandError(f"no worker answered within {timeout:.0f}s: is the worker running?")
