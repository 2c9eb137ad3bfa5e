"""Registration and login of back-office accounts (operators and photographers)."""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager

from backoffice_common.errors import Conflict, NotFound, ServiceUnavailable, Unauthorized
from backoffice_common.internal import best_effort
from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from auth_service.clients.projects import ProjectsClient
from auth_service.models import Account, OperatorProfile
from auth_service.services import login_brake
from auth_service.services.login_brake import LoginBrake
from auth_service.services.passwords import Passwords

LOGIN_FAILED = "Invalid email or password."
EMAIL_TAKEN = "An account with this email already exists."
UnitOfWork = Callable[[], AbstractContextManager[Session]]


def _add_account(session: Session, account: Account) -> Account:
    # Checked first for a clean 409; the unique index still decides a race.
    if session.scalar(select(exists().where(Account.email == account.email))):
        raise Conflict(EMAIL_TAKEN, errors={"json": {"email": [EMAIL_TAKEN]}})
    session.add(account)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(EMAIL_TAKEN, errors={"json": {"email": [EMAIL_TAKEN]}}) from exc
    return account


def register_operator(*, session: Session, passwords: Passwords, name: str, email: str, password: str,
                      timezone: str | None = None) -> Account:
    operator_id = uuid.uuid4()
    account = Account(id=operator_id, operator_id=operator_id, role="operator", name=name, email=email,
                      password_hash=passwords.hash(password))
    account.profile = OperatorProfile(timezone=timezone or "UTC", currency="EUR", locale="en")
    return _add_account(session, account)


def register_photographer(*, session: Session, passwords: Passwords, projects: ProjectsClient,
                          operator_id: uuid.UUID, name: str, email: str, password: str) -> Account:
    """Create the credential here and the roster entry in projects: both or neither (design §4).

    This command owns its commit because it spans two services: if projects is
    down nothing is committed (503); if our commit fails after projects said
    yes, the roster entry is removed again.
    """
    account = _add_account(session, Account(id=uuid.uuid4(), operator_id=operator_id, role="photographer", name=name,
                                            email=email, password_hash=passwords.hash(password)))
    try:
        projects.put_photographer(account)
    except ServiceUnavailable:
        # Projects may have stored the entry and only its answer was lost: remove it again.
        session.rollback()
        best_effort(lambda: projects.delete_photographer(account.id), "remove roster entry")
        raise
    try:
        session.commit()
    except Exception:
        session.rollback()
        best_effort(lambda: projects.delete_photographer(account.id), "remove roster entry")
        raise
    return account


def log_in(*, unit_of_work: UnitOfWork, passwords: Passwords, brake: LoginBrake, email: str, password: str,
           now: dt.datetime) -> Account:
    """The account for these credentials, or one 401 whatever was wrong (with similar timing).

    Two units of work: the attempt is counted and committed first (429 instead, right or wrong, when this email has
    had too many attempts in its window), then the password is checked; a success forgets the email's attempts.
    """
    with unit_of_work() as session:
        login_brake.take_attempt(session=session, brake=brake, email=email, now=now)
    with unit_of_work() as session:
        account = session.scalar(select(Account).where(Account.email == email))
        if not passwords.verify(account.password_hash if account else None, password):
            raise Unauthorized(LOGIN_FAILED)
        login_brake.forget(session=session, email=email)
        if passwords.needs_rehash(account.password_hash):
            account.password_hash = passwords.hash(password)
    return account


def update_photographer(*, session: Session, account_id: uuid.UUID, changes: dict) -> Account:
    """Rename or re-email a photographer's login (called by projects, which owns the roster)."""
    account = session.get(Account, account_id)
    if account is None or account.role != "photographer":
        raise NotFound("Photographer not found.")
    if "email" in changes and changes["email"] != account.email:
        if session.scalar(select(exists().where(Account.email == changes["email"]))):
            raise Conflict(EMAIL_TAKEN, errors={"json": {"email": [EMAIL_TAKEN]}})
    for field, value in changes.items():
        setattr(account, field, value)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(EMAIL_TAKEN, errors={"json": {"email": [EMAIL_TAKEN]}}) from exc
    return account


def delete_photographer(*, session: Session, account_id: uuid.UUID) -> None:
    """Remove a photographer's login; it can no longer log in (idempotent)."""
    session.execute(delete(Account).where(Account.id == account_id, Account.role == "photographer"))
