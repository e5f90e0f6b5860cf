"""The site bench/api_lists.py serves with gunicorn: the portal as it is, plus bare views that
answer the same rows as a plain JsonResponse (no authentication, throttling or serializer), the
floor each API list is measured against.

Settings: DJANGO_SETTINGS_MODULE=bench.lists_site and ROOT_URLCONF from here (`urls` below)."""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.lists_site_urls"
