"""Registration and login of back-office accounts (operators and photographers)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from auth_service.accounts import login_brake
from auth_service.accounts.login_brake import LoginBrake
from auth_service.accounts.passwords import Passwords
from auth_service.clients.projects import ProjectsClient
from auth_service.models import Account, OperatorProfile
from backoffice_common.db import UNIQUE_VIOLATION, UnitOfWork, change_elsewhere, constraint_errors
from backoffice_common.errors import Conflict, DomainError, Unauthorized, field_error

LOGIN_FAILED = "Invalid email or password."
EMAIL_TAKEN = "An account with this email already exists."


def email_taken() -> DomainError:
    """409 about the ``email`` field: one email is one account, operator or photographer (design §2)."""
    return field_error("email", EMAIL_TAKEN, error=Conflict)


def ensure_email_free(*, session: Session, email: str) -> None:
    """409 when an account has this email: the clean answer; the unique index still decides a race."""
    if session.scalar(select(exists().where(Account.email == email))):
        raise email_taken()


def _add_account(session: Session, account: Account) -> Account:
    ensure_email_free(session=session, email=account.email)
    with constraint_errors(session, {UNIQUE_VIOLATION: email_taken()}):
        session.add(account)
    return account


def register_operator(
    *, session: Session, passwords: Passwords, name: str, email: str, password: str, timezone: str | None = None
) -> Account:
    operator_id = uuid.uuid4()
    account = Account(
        id=operator_id,
        operator_id=operator_id,
        role="operator",
        name=name,
        email=email,
        password_hash=passwords.hash(password),
    )
    account.profile = OperatorProfile(timezone=timezone or "UTC", currency="EUR", locale="en")
    return _add_account(session, account)


def register_photographer(
    *,
    session: Session,
    passwords: Passwords,
    projects: ProjectsClient,
    operator_id: uuid.UUID,
    name: str,
    email: str,
    password: str,
) -> Account:
    """Create the credential here and the roster entry in projects: both or neither (design §4).

    If projects is down nothing is committed (503); if the request's unit of work does not commit after projects
    said yes (or its answer was lost), the roster entry is removed again.
    """
    account = _add_account(
        session,
        Account(
            id=uuid.uuid4(),
            operator_id=operator_id,
            role="photographer",
            name=name,
            email=email,
            password_hash=passwords.hash(password),
        ),
    )
    change_elsewhere(
        session,
        lambda: projects.put_photographer(account),
        undo=lambda: projects.delete_photographer(account.id),
        what="remove roster entry",
    )
    return account


def log_in(
    *, unit_of_work: UnitOfWork, passwords: Passwords, brake: LoginBrake, email: str, password: str, now: dt.datetime
) -> Account:
    """The account for these credentials, or one 401 whatever was wrong (with similar timing).

    Two units of work: the attempt is counted and committed first (429 instead, right or wrong, when this email has
    had too many attempts in its window), then the password is checked; a success forgets the email's attempts.
    """
    with unit_of_work() as session:
        login_brake.take_attempt(session=session, brake=brake, email=email, now=now)
    with unit_of_work() as session:
        account = session.scalar(select(Account).where(Account.email == email))
        # verify() runs for an unknown email too (against no hash), so both answers take about as long.
        verified = passwords.verify(account.password_hash if account else None, password)
        if account is None or not verified:
            raise Unauthorized(LOGIN_FAILED)
        login_brake.forget(session=session, email=email)
        if passwords.needs_rehash(account.password_hash):
            account.password_hash = passwords.hash(password)
    return account
