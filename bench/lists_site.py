"""The site bench/api_lists.py serves with gunicorn: the portal as it is, plus the bare views
each API list is measured against: plain JsonResponse views (no authentication, throttling or
serializer) of the catalog's same rows, and of each list's own columns.

Settings: DJANGO_SETTINGS_MODULE=bench.lists_site and ROOT_URLCONF from here (`urls` below)."""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.lists_site_urls"
