"""DELETE /v1/projects/:id: rows go at once, R2 objects through the outbox — surviving an R2 outage
and a worker killed mid-batch, without touching anything else."""

import signal
import time
import uuid

import boto3
import pytest
from sqlalchemy import text

BUCKET = "test-photos"


@pytest.fixture
def s3(stack):
    client = boto3.client(
        "s3",
        endpoint_url=stack.s3_backend_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test-secret",
    )
    try:
        client.create_bucket(Bucket=BUCKET)
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass
    return client


def _seed(databases, s3, operator, photographer, project_id, count):
    """``count`` ready photos in the database and their objects in the bucket (setup, not under test)."""
    rows = []
    for _ in range(count):
        photo_id = uuid.uuid4()
        key = f"operators/{operator.id}/projects/{project_id}/photos/{photo_id}/p.jpg"
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"jpeg", ContentType="image/jpeg")
        rows.append({"id": photo_id, "project_id": project_id, "photographer_id": photographer.id, "object_key": key})
    with databases["projects"].begin() as connection:
        connection.execute(
            text(
                "INSERT INTO photos (id, project_id, photographer_id, object_key, filename, content_type, size_bytes,"
                " status)"
                " VALUES (:id, :project_id, :photographer_id, :object_key, 'p.jpg', 'image/jpeg', 4, 'ready')"
            ),
            rows,
        )
    return {row["object_key"] for row in rows}


def _keys(s3, prefix):
    keys, token = set(), None
    while True:
        page = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix, **({"ContinuationToken": token} if token else {}))
        keys |= {item["Key"] for item in page.get("Contents", [])}
        if not page.get("IsTruncated"):
            return keys
        token = page["NextContinuationToken"]


def _pending_r2(databases, project_keys=None):
    with databases["projects"].connect() as connection:
        return connection.execute(
            text("SELECT count(*), coalesce(max(attempts), 0) FROM outbox WHERE kind = 'r2.delete_objects'")
        ).one()


def _wait_until(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def two_projects(gw, databases, s3, operator, photographer, new_project):
    doomed, kept = new_project(operator, name="Doomed"), new_project(operator, name="Kept")
    kept_keys = _seed(databases, s3, operator, photographer, kept["id"], 3)
    return doomed, kept, kept_keys


def test_deletes_objects_and_nothing_else(gw, databases, s3, operator, photographer, two_projects):
    doomed, kept, kept_keys = two_projects
    _seed(databases, s3, operator, photographer, doomed["id"], 5)
    assert gw.get(f"/v1/projects/{doomed['id']}", token=operator.token).json()["photoCount"] == 5
    assert gw.delete(f"/v1/projects/{doomed['id']}", token=operator.token).status_code == 204
    prefix = f"operators/{operator.id}/projects/{doomed['id']}/"
    assert _wait_until(lambda: not _keys(s3, prefix))
    assert _keys(s3, f"operators/{operator.id}/projects/{kept['id']}/") == kept_keys
    assert gw.get(f"/v1/projects/{kept['id']}", token=operator.token).json()["photoCount"] == 3
    with databases["projects"].connect() as connection:
        assert (
            connection.execute(text("SELECT count(*) FROM photos WHERE project_id = :p"), {"p": doomed["id"]}).scalar()
            == 0
        )


def test_r2_outage_then_recovery(gw, stack, databases, s3, operator, photographer, two_projects):
    doomed, kept, kept_keys = two_projects
    doomed_keys = _seed(databases, s3, operator, photographer, doomed["id"], 1200)  # two DeleteObjects batches
    stack.s3_proxy.refuse()
    try:
        started = time.monotonic()
        assert gw.delete(f"/v1/projects/{doomed['id']}", token=operator.token).status_code == 204
        assert time.monotonic() - started < 2  # the API does not wait for R2
        assert _wait_until(lambda: _pending_r2(databases)[1] >= 1)  # the worker tried and failed
        assert _pending_r2(databases)[0] == 2
        assert _keys(s3, f"operators/{operator.id}/projects/{doomed['id']}/") == doomed_keys
    finally:
        stack.s3_proxy.restore()
    assert _wait_until(lambda: not _keys(s3, f"operators/{operator.id}/projects/{doomed['id']}/"))
    assert _wait_until(lambda: _pending_r2(databases)[0] == 0)
    assert _keys(s3, f"operators/{operator.id}/projects/{kept['id']}/") == kept_keys


def test_worker_killed_mid_batch_loses_nothing(gw, stack, databases, s3, operator, photographer, two_projects):
    doomed, kept, kept_keys = two_projects
    _seed(databases, s3, operator, photographer, doomed["id"], 1200)
    stack.s3_proxy.blackhole()  # R2 accepts the connection and hangs: the worker is stuck inside its batch
    try:
        assert gw.delete(f"/v1/projects/{doomed['id']}", token=operator.token).status_code == 204

        def claimed():  # the worker holds the outbox rows' locks while it waits on R2
            with databases["projects"].connect() as connection:
                return (
                    connection.execute(
                        text(
                            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                            "WHERE c.relname = 'outbox' AND l.mode = 'RowShareLock'"
                        )
                    ).scalar()
                    > 0
                )

        assert _wait_until(claimed, timeout=10)
        stack.stop_service("projects-worker", sig=signal.SIGKILL)
        assert _pending_r2(databases)[0] == 2  # nothing was lost with the worker
    finally:
        stack.s3_proxy.restore()
        stack.start_worker("projects-worker")
    assert _wait_until(lambda: not _keys(s3, f"operators/{operator.id}/projects/{doomed['id']}/"))
    assert _wait_until(lambda: _pending_r2(databases)[0] == 0)
    assert _keys(s3, f"operators/{operator.id}/projects/{kept['id']}/") == kept_keys
