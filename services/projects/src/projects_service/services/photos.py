"""Photo uploads straight to R2 through presigned PUT URLs (design §9)."""
from __future__ import annotations

import datetime as dt
import re
import threading
import uuid

from backoffice_common.errors import Conflict, NotFound, ServiceUnavailable
from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import select
from sqlalchemy.orm import Session

from projects_service.models import Assignment, Photo, Project

MAX_PHOTO_BYTES = 50 * 1024 * 1024
ALLOWED_CONTENT_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif",
                                   "image/tiff", "image/avif"})
UPLOADABLE_STATUSES = ("draft", "live", "closed")


class Storage:
    """The photo bucket. Keys are namespaced ``operators/<op>/projects/<project>/photos/<photo>/<name>``."""

    def __init__(self, settings):
        self.settings = settings
        self.bucket = settings.s3_bucket
        self.ttl_s = settings.upload_url_ttl_s
        self.create_bucket = settings.create_bucket
        self._bucket_checked = False
        self._client = None
        self._client_lock = threading.Lock()

    @property
    def client(self):
        """The S3 client, made on first use: boto3 and the S3 model cost a worker ~23 MB, which the
        many workers that never handle an upload should not carry (issue 8's memory goal)."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    import boto3
                    from botocore.config import Config

                    settings = self.settings
                    self._client = boto3.client(
                        "s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region,
                        aws_access_key_id=settings.aws_access_key_id,
                        aws_secret_access_key=settings.aws_secret_access_key,
                        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, connect_timeout=2,
                                      read_timeout=10, retries={"max_attempts": 2, "mode": "standard"}))
        return self._client

    def _ensure_bucket(self) -> None:
        # Dev and tests start from an empty S3 stand-in; production buckets are provisioned.
        if self.create_bucket and not self._bucket_checked:
            try:
                self.client.head_bucket(Bucket=self.bucket)
            except ClientError:
                self.client.create_bucket(Bucket=self.bucket)
            self._bucket_checked = True

    def upload_url(self, key: str, content_type: str, size_bytes: int) -> str:
        """A PUT URL whose signature covers the content type and length, so neither can be swapped."""
        return self.client.generate_presigned_url(
            "put_object", ExpiresIn=self.ttl_s,
            Params={"Bucket": self.bucket, "Key": key, "ContentType": content_type, "ContentLength": size_bytes})

    def head(self, key: str) -> dict | None:
        self._ensure_bucket()
        try:
            return self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def delete_objects(self, keys: list[str]) -> None:
        """Delete up to 1000 keys; missing keys count as deleted. Raises on any other per-key error."""
        self._ensure_bucket()
        response = self.client.delete_objects(
            Bucket=self.bucket, Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True})
        errors = [error for error in response.get("Errors", []) if error.get("Code") != "NoSuchKey"]
        if errors:
            raise RuntimeError(f"R2 refused {len(errors)} deletions, first: {errors[0]}")


def _safe_name(filename: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", filename.rsplit("/", 1)[-1]).strip("-.")
    return name[:100] or "photo"


def _assigned_project(session: Session, photographer_id: uuid.UUID, project_id: uuid.UUID) -> Project:
    project = session.scalar(
        select(Project).join(Assignment, Assignment.project_id == Project.id)
        .where(Project.id == project_id, Assignment.photographer_id == photographer_id,
               Project.status != "archived").with_for_update(of=Project, key_share=True))
    if project is None:
        raise NotFound("Project not found.")
    return project


def start_upload(*, session: Session, storage: Storage, photographer_id: uuid.UUID, project_id: uuid.UUID,
                 filename: str, content_type: str, size_bytes: int, now: dt.datetime) -> dict:
    project = _assigned_project(session, photographer_id, project_id)
    if project.status not in UPLOADABLE_STATUSES:
        raise Conflict(f"Photos cannot be uploaded to a {project.status} project.")
    photo_id = uuid.uuid4()
    key = f"operators/{project.operator_id}/projects/{project.id}/photos/{photo_id}/{_safe_name(filename)}"
    session.add(Photo(id=photo_id, project_id=project.id, photographer_id=photographer_id, object_key=key,
                      filename=filename, content_type=content_type, size_bytes=size_bytes, status="pending"))
    session.flush()
    storage._ensure_bucket()
    return {"id": photo_id, "upload_url": storage.upload_url(key, content_type, size_bytes),
            "expires_at": now + dt.timedelta(seconds=storage.ttl_s)}


def complete_upload(*, session: Session, storage: Storage, photographer_id: uuid.UUID, project_id: uuid.UUID,
                    photo_id: uuid.UUID) -> Photo:
    """Mark the photo ready once its object is in the bucket as announced (409 otherwise)."""
    _assigned_project(session, photographer_id, project_id)
    photo = session.scalar(select(Photo).where(Photo.id == photo_id, Photo.project_id == project_id,
                                               Photo.photographer_id == photographer_id).with_for_update())
    if photo is None:
        raise NotFound("Photo not found.")
    if photo.status == "ready":
        return photo
    try:
        head = storage.head(photo.object_key)
    except (BotoCoreError, ClientError) as exc:
        raise ServiceUnavailable("Photo storage is unavailable; try again shortly.") from exc
    if head is None:
        raise Conflict("The photo has not been uploaded yet.")
    if head["ContentLength"] != photo.size_bytes or head.get("ContentType") != photo.content_type:
        raise Conflict("The uploaded object does not match the announced size and content type.")
    photo.status = "ready"
    session.flush()
    return photo
