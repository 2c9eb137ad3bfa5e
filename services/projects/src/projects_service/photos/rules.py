"""Photo uploads straight to R2 through presigned PUT URLs (design §9)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice_common.errors import Conflict, NotFound, ServiceUnavailable
from projects_service.clients.storage import Storage
from projects_service.models import Assignment, Photo, Project
from projects_service.photographers.rules import current_photographer

MAX_PHOTO_BYTES = 50 * 1024 * 1024
ALLOWED_CONTENT_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif", "image/tiff", "image/avif"}
)
UPLOADABLE_STATUSES = ("draft", "live", "closed")


@dataclass(frozen=True)
class PhotoUpload:
    """A started upload: the photo's id, and where (until when) to PUT its bytes."""

    id: uuid.UUID
    upload_url: str
    expires_at: dt.datetime


def _safe_name(filename: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", filename.rsplit("/", 1)[-1]).strip("-.")
    return name[:100] or "photo"


def _assigned_project(session: Session, photographer_id: uuid.UUID, project_id: uuid.UUID) -> Project:
    project = session.scalar(
        select(Project)
        .join(Assignment, Assignment.project_id == Project.id)
        .where(Project.id == project_id, Assignment.photographer_id == photographer_id, Project.status != "archived")
        .with_for_update(of=Project, key_share=True)
    )
    if project is None:
        raise NotFound("Project not found.")
    return project


def start_upload(
    *,
    session: Session,
    storage: Storage,
    account_id: uuid.UUID,
    operator_id: uuid.UUID,
    project_id: uuid.UUID,
    filename: str,
    content_type: str,
    size_bytes: int,
    now: dt.datetime,
) -> PhotoUpload:
    """Record a pending photo of the calling photographer, and hand out a presigned PUT URL for its bytes."""
    photographer_id = current_photographer(session=session, account_id=account_id, operator_id=operator_id).id
    project = _assigned_project(session, photographer_id, project_id)
    if project.status not in UPLOADABLE_STATUSES:
        raise Conflict(f"Photos cannot be uploaded to a {project.status} project.")
    photo_id = uuid.uuid4()
    key = f"operators/{project.operator_id}/projects/{project.id}/photos/{photo_id}/{_safe_name(filename)}"
    session.add(
        Photo(
            id=photo_id,
            project_id=project.id,
            photographer_id=photographer_id,
            object_key=key,
            filename=filename,
            content_type=content_type,
            size_bytes=size_bytes,
            status="pending",
        )
    )
    session.flush()
    storage.ensure_bucket()
    return PhotoUpload(
        id=photo_id,
        upload_url=storage.upload_url(key, content_type, size_bytes),
        expires_at=now + dt.timedelta(seconds=storage.ttl_s),
    )


def complete_upload(
    *,
    session: Session,
    storage: Storage,
    account_id: uuid.UUID,
    operator_id: uuid.UUID,
    project_id: uuid.UUID,
    photo_id: uuid.UUID,
) -> Photo:
    """Mark the calling photographer's photo ready once its object is in the bucket as announced (409 otherwise)."""
    photographer_id = current_photographer(session=session, account_id=account_id, operator_id=operator_id).id
    _assigned_project(session, photographer_id, project_id)
    photo = session.scalar(
        select(Photo)
        .where(Photo.id == photo_id, Photo.project_id == project_id, Photo.photographer_id == photographer_id)
        .with_for_update()
    )
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
