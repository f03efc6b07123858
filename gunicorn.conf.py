"""Gunicorn settings for ALP Guard: threaded workers, because hooks wait on FHIR servers, not on the CPU."""

import glob
import os
import shutil
import tempfile

bind = f"{os.environ.get('CDS_HOST', '127.0.0.1')}:{os.environ.get('CDS_PORT', '8080')}"
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = 30
graceful_timeout = 20
keepalive = 5
# gthread has no read timeout: a thread that has begun to read a request waits as long as its client dribbles. Put a
# buffering proxy in front (nginx/alp-guard.conf.template, as docker-compose.yml does; README, Deployment); these
# bounds only cap what one slow request can send (a CDS Hooks call needs a dozen headers).
limit_request_fields = 50
limit_request_field_size = 8190
# No preload: each worker opens its own database pool and thread pool after the fork.
accesslog = None  # the service writes its own JSON log line per hook call, without patient data

# /metrics sums every worker's metrics: prometheus_client's multiprocess mode keeps them in files in this directory,
# which the workers inherit through the environment. Without one set, each run gets a fresh temporary directory.
_own_metrics_dir = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _own_metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="alp-guard-metrics-")


def on_starting(server):
    """Create the metrics directory, and remove the files of an earlier run, which would add to this run's counts."""
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
    for path in glob.glob(os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "*.db")):
        os.remove(path)


def child_exit(server, worker):
    """Tell prometheus_client that a worker is gone (its counts stay in the sums)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the temporary metrics directory this configuration made."""
    if _own_metrics_dir:
        shutil.rmtree(_own_metrics_dir, ignore_errors=True)
