"""A photographer's login, kept in step with the roster the projects service owns (design §4)."""

from __future__ import annotations

import uuid

from sqlalchemy import delete
from sqlalchemy.orm import Session

from auth_service.accounts.rules import email_taken, ensure_email_free
from auth_service.models import Account
from backoffice_common.db import UNIQUE_VIOLATION, constraint_errors
from backoffice_common.errors import NotFound


def update_photographer(*, session: Session, account_id: uuid.UUID, changes: dict) -> Account:
    """Rename or re-email a photographer's login (called by projects, which owns the roster)."""
    account = session.get(Account, account_id)
    if account is None or account.role != "photographer":
        raise NotFound("Photographer not found.")
    if "email" in changes and changes["email"] != account.email:
        ensure_email_free(session=session, email=changes["email"])
    with constraint_errors(session, {UNIQUE_VIOLATION: email_taken()}):
        for field, value in changes.items():
            setattr(account, field, value)
    return account


def delete_photographer(*, session: Session, account_id: uuid.UUID) -> None:
    """Remove a photographer's login; it can no longer log in (idempotent)."""
    session.execute(delete(Account).where(Account.id == account_id, Account.role == "photographer"))
