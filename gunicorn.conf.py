"""gunicorn settings for the web process (Dockerfile, docker-compose.yml).

Threaded workers: `GET …?wait_for=…` holds its request for up to a minute while it polls, and
with sync workers three such waits would block the whole site. The timeout stays above the
longest wait the API allows, so gunicorn never kills a worker in the middle of one.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
timeout = 90
graceful_timeout = 30
accesslog = "-"
