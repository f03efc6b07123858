"""Gunicorn settings for ALP Guard: threaded workers, because hooks wait on FHIR servers, not on the CPU."""

import os

bind = f"{os.environ.get('CDS_HOST', '127.0.0.1')}:{os.environ.get('CDS_PORT', '8080')}"
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = 30
graceful_timeout = 20
keepalive = 5
# No preload: each worker opens its own database pool and thread pool after the fork.
accesslog = None  # the service writes its own JSON log line per hook call, without patient data
