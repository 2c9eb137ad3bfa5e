"""Repository-wide test setup: one throwaway PostgreSQL cluster for the whole run.

Services' tests get ``pg_admin_url`` (used by backoffice_common's pytest plugin
to create and migrate their databases); the end-to-end suite builds its stack
on the same cluster.
"""

import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

from devstack import free_port
from devstack.postgres import Cluster


@pytest.fixture(scope="session")
def pg_cluster():
    base = Path(tempfile.mkdtemp(prefix="backoffice-test-"))
    base.chmod(0o755)  # PostgreSQL runs as an unprivileged user when we are root
    cluster = Cluster(base / "pg", port=free_port(), fast=True)
    process = cluster.start(log_file=base / "postgres.log")
    cluster.base = base
    yield cluster
    process.send_signal(signal.SIGINT)
    process.wait(30)
    if not os.environ.get("KEEP_TEST_DATA"):
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_admin_url(pg_cluster):
    return pg_cluster.admin_url
