#!/bin/sh
# Migrate, then become gunicorn (used by `make run`, the tests and the Dockerfile alike).
set -e
cd "$(dirname "$0")"
alembic upgrade head
exec gunicorn -c gunicorn.conf.py projects_service.wsgi:app
