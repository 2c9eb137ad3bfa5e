"""Gunicorn settings every service shares; a service's gunicorn.conf.py imports these."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# 3 processes × 2 threads rather than 2 × 4: the same machine served a one-row route at ~0.53 of the hello baseline
# instead of ~0.46, and the project list at ~0.45 instead of ~0.40 (bench/results.md, 2026-12-02). Every request
# lets go of the GIL while PostgreSQL answers; with four threads a process, another thread is usually waiting to
# take it, and each such hand-over costs CPU the request itself doesn't use. Fewer threads a process, fewer
# hand-overs; the third process keeps six requests in flight per service.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "2"))
# Longer than nginx's upstream keepalive_timeout (60s) so nginx, not gunicorn, closes idle connections.
keepalive = 75
timeout = 30
graceful_timeout = 10
accesslog = None  # the app logs one JSON line per request
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Several services run side by side on one machine in dev: a shared default control socket would collide.
control_socket_disable = True

# Prometheus multiprocess mode (metrics.py): every worker writes its values to files in one folder, which /metrics
# sums. Set here, in the master, before any worker imports prometheus_client — it reads the variable at import. A
# folder of our own (removed on exit) unless PROMETHEUS_MULTIPROC_DIR names one; emptied at start, as stale files
# of an earlier run would be summed in.
_OWN_METRICS_DIR = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    import tempfile

    _OWN_METRICS_DIR = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="prometheus-")


def on_starting(server):
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.endswith(".db"):
            os.remove(os.path.join(folder, name))


def child_exit(server, worker):
    # A dead worker's live gauges (the pool in use) leave the sum; its counters stay counted.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _OWN_METRICS_DIR:  # ours alone: gone with this gunicorn
        import shutil

        shutil.rmtree(_OWN_METRICS_DIR, ignore_errors=True)


def post_worker_init(worker):
    # The app is built: the C heap its imports and factory freed goes back to the system (~1 MB a worker).
    from backoffice_common.memory import give_back_free_memory

    give_back_free_memory()
