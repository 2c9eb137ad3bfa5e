"""Photo uploads: presigned PUT to the S3-compatible server, then completion."""

import uuid
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
import requests


def _start(gw, photographer, project_id, **overrides):
    body = {"filename": "IMG_0001.jpg", "contentType": "image/jpeg", "sizeBytes": 11, **overrides}
    return gw.post(f"/v1/photographers/me/projects/{project_id}/photos", token=photographer.token, json=body)


def _complete(gw, photographer, project_id, photo_id):
    return gw.post(f"/v1/photographers/me/projects/{project_id}/photos/{photo_id}/complete", token=photographer.token)


def test_upload_flow(gw, stack, operator, photographer, assigned):
    started = _start(gw, photographer, assigned["id"])
    assert started.status_code == 201
    body = started.json()
    assert set(body) == {"id", "uploadUrl", "expiresAt"} and body["expiresAt"].endswith("Z")
    url = urlparse(body["uploadUrl"])
    assert url.path.startswith(f"/test-photos/operators/{operator.id}/projects/{assigned['id']}/photos/{body['id']}/")
    assert parse_qs(url.query)["X-Amz-SignedHeaders"] == ["content-length;content-type;host"]
    # not uploaded yet
    early = _complete(gw, photographer, assigned["id"], body["id"])
    assert early.status_code == 409 and early.json()["message"] == "The photo has not been uploaded yet."
    assert (
        requests.put(
            body["uploadUrl"], data=b"hello world", headers={"Content-Type": "image/jpeg"}, timeout=10
        ).status_code
        == 200
    )
    done = _complete(gw, photographer, assigned["id"], body["id"])
    assert done.status_code == 200 and done.json() == {"id": body["id"], "status": "ready"}
    assert _complete(gw, photographer, assigned["id"], body["id"]).status_code == 200  # idempotent
    assert gw.get(f"/v1/projects/{assigned['id']}", token=operator.token).json()["photoCount"] == 1


def test_only_ready_photos_count(gw, operator, photographer, assigned):
    assert _start(gw, photographer, assigned["id"]).status_code == 201
    assert gw.get(f"/v1/projects/{assigned['id']}", token=operator.token).json()["photoCount"] == 0


def test_object_not_as_announced_is_409(gw, stack, photographer, assigned):
    body = _start(gw, photographer, assigned["id"], sizeBytes=11).json()
    key = urlparse(body["uploadUrl"]).path.split("/test-photos/", 1)[1]
    s3 = boto3.client(
        "s3",
        endpoint_url=stack.s3_backend_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test-secret",
    )
    s3.put_object(Bucket="test-photos", Key=key, Body=b"a much longer body than announced", ContentType="image/jpeg")
    done = _complete(gw, photographer, assigned["id"], body["id"])
    assert done.status_code == 409
    assert done.json()["message"] == "The uploaded object does not match the announced size and content type."


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"contentType": "application/pdf"}, "contentType"),
        ({"contentType": "text/html"}, "contentType"),
        ({"sizeBytes": 50 * 1024 * 1024 + 1}, "sizeBytes"),
        ({"sizeBytes": 0}, "sizeBytes"),
        ({"filename": ""}, "filename"),
    ],
)
def test_invalid_uploads_are_422(gw, photographer, assigned, overrides, field):
    response = _start(gw, photographer, assigned["id"], **overrides)
    assert response.status_code == 422 and field in response.json()["errors"]["json"]


def test_only_assigned_projects(gw, operator, other_operator, photographer, new_project):
    mine_unassigned = new_project(operator)
    theirs = new_project(other_operator)
    for project_id in (mine_unassigned["id"], theirs["id"], str(uuid.uuid4())):
        assert _start(gw, photographer, project_id).status_code == 404


def test_someone_elses_photo_cannot_be_completed(gw, operator, photographer, assigned):
    body = _start(gw, photographer, assigned["id"]).json()
    colleague = gw.register_photographer(operator)
    gw.post(f"/v1/projects/{assigned['id']}/photographers", token=operator.token, json={"photographerId": colleague.id})
    assert _complete(gw, colleague, assigned["id"], body["id"]).status_code == 404


def test_archived_project_refuses_uploads(gw, operator, photographer, assigned):
    for status in ("live", "closed", "archived"):
        gw.patch(f"/v1/projects/{assigned['id']}/status", token=operator.token, json={"status": status})
    assert _start(gw, photographer, assigned["id"]).status_code == 404


def test_operators_cannot_upload(gw, operator, assigned):
    assert (
        gw.post(
            f"/v1/photographers/me/projects/{assigned['id']}/photos",
            token=operator.token,
            json={"filename": "a.jpg", "contentType": "image/jpeg", "sizeBytes": 1},
        ).status_code
        == 403
    )
