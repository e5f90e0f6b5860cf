"""gunicorn's entry point for bench/api_lists.py (settings: bench/lists_site.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.lists_site")
application = get_wsgi_application()
