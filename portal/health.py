"""`GET /healthz`: does the portal reach what it needs? For load balancers and healthchecks."""

import logging
import os
from pathlib import Path

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.broker import SCHEME
from portal.celery import app as celery_app

logger = logging.getLogger(__name__)

# A health probe must answer fast even when a dependency hangs.
BROKER_TIMEOUT_SECONDS = 2


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    options = celery_app.conf.broker_transport_options
    if celery_app.conf.broker_url.startswith(("filesystem://", f"{SCHEME}://")):
        # The file-system transport "connects" without touching anything: a writable queue
        # folder is what makes it usable.
        folder = Path(options["data_folder_in"])
        if not (folder.is_dir() and os.access(folder, os.W_OK)):
            raise OSError(f"broker folder {folder} is not writable")
        return
    with celery_app.connection_for_write(connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS)


CHECKS = {"database": check_database, "broker": check_broker}


@never_cache
@require_GET
def healthz(request):
    results, failing = {}, []
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:
            # The reason goes to the log; the response names the part only, since it is public.
            logger.warning("health check %s failed: %s", name, exc)
            results[name] = "unavailable"
            failing.append(name)
        else:
            results[name] = "ok"
    status = 503 if failing else 200
    return JsonResponse(
        {"status": "unavailable" if failing else "ok", "checks": results, "failing": failing},
        status=status,
    )
