"""Gunicorn settings every service shares; a service's gunicorn.conf.py imports these."""
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
# Longer than nginx's upstream keepalive_timeout (60s) so nginx, not gunicorn, closes idle connections.
keepalive = 75
timeout = 30
graceful_timeout = 10
accesslog = None  # the app logs one JSON line per request
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Several services run side by side on one machine in dev: a shared default control socket would collide.
control_socket_disable = True
