"""Load the demo scenario: teams, logins, cloud accounts, inventory, and the seed's service."""

import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from connections import demo
from connections.cloud import CloudError

CLOUDSIM_START_TIMEOUT = 30


class Command(BaseCommand):
    help = (
        "Create the demo teams and logins (password 'demo'), the scenario's cloud accounts, sync "
        "their inventory and publish nginx-hangzhou. Refused unless DEBUG is on."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scenario", type=Path, default=demo.DEFAULT_SCENARIO)
        parser.add_argument(
            "--start-cloudsim",
            metavar="STATE_FILE",
            help="if CLOUD_ENDPOINT does not answer, run cloudsim with this state file meanwhile",
        )

    def handle(self, *args, scenario: Path, start_cloudsim: str | None, **options):
        if not settings.DEBUG:
            raise CommandError("load_demo creates well-known passwords: it needs DEBUG on.")
        if not settings.CLOUD_ENDPOINT:
            raise CommandError("load_demo works against cloudsim: set CLOUD_ENDPOINT.")
        users = demo.create_people()
        accounts = demo.create_accounts(scenario)
        with self._cloud(start_cloudsim, scenario):
            for account in accounts.values():
                try:
                    summary = demo.sync_inventory(account)
                except CloudError as error:
                    raise CommandError(f"inventory sync of {account} failed: {error}") from error
                self.stdout.write(f"synced {account}: {summary}")
        service = demo.publish_seed_service(users["provider"])
        if service:
            self.stdout.write(f"publishing {service.name}: the worker builds it (steps 1–4)")
        self.stdout.write("demo logins: provider, consumer, partner, admin (password 'demo')")

    @contextmanager
    def _cloud(self, state_file: str | None, scenario: Path):
        endpoint = urlparse(settings.CLOUD_ENDPOINT)
        if _answers(endpoint.hostname, endpoint.port) or not state_file:
            yield
            return
        # make run: cloudsim is not up yet (honcho starts it next); run it just for the sync.
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no user input
            [
                sys.executable, "-m", "cloudsim", "serve",
                "--host", endpoint.hostname, "--port", str(endpoint.port),
                "--scenario", str(scenario), "--state", state_file,
            ],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + CLOUDSIM_START_TIMEOUT
            while not _answers(endpoint.hostname, endpoint.port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise CommandError("cloudsim did not start")
                time.sleep(0.1)
            yield
        finally:
            process.terminate()
            process.wait(timeout=10)


def _answers(host: str | None, port: int | None) -> bool:
    try:
        with socket.create_connection((host or "127.0.0.1", port or 80), timeout=1):
            return True
    except OSError:
        return False
