#!/bin/sh
# Migrate, then become gunicorn (used by `make run`, the tests and the Dockerfile alike).
set -e
cd "$(dirname "$0")"
alembic upgrade head
# glibc raises its mmap threshold after a big block is freed, so argon2's 19 MiB hash buffers (and other large
# allocations) are then carved from per-thread heaps and kept: a worker grew to 170+ MB. A fixed threshold keeps
# blocks over 1 MiB in mmap, returned to the system on free; two arenas cap per-thread heap growth.
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-1048576}" MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
exec gunicorn -c gunicorn.conf.py webhooks_service.wsgi:app
