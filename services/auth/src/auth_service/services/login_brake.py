"""The login brake: repeated failed logins for one email slow that email down, whatever address they come from.

nginx already limits login attempts per client address; this limits them per email, so that guessing one
account's password from many addresses gets no further. Unknown emails are braked alike (the brake must not tell
which accounts exist).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from backoffice_common.errors import TooManyRequests
from sqlalchemy import case, delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from auth_service.models import LoginFailure

BRAKED = "Too many failed login attempts; try again later."


@dataclass(frozen=True)
class LoginBrake:
    """``max_failures`` failed logins within ``window`` (from the first of them), then 429 until it is over."""

    max_failures: int
    window: dt.timedelta


def check(*, session: Session, brake: LoginBrake, email: str, now: dt.datetime) -> LoginFailure | None:
    """This email's row of failures (None without one, so a login without failures writes nothing); 429 with
    Retry-After while it is braked.

    Checked before the password, so a braked login costs no hashing and a correct password is refused too.
    """
    failures = session.get(LoginFailure, email)
    if failures is not None and failures.failures >= brake.max_failures:
        window_ends = failures.window_started_at + brake.window
        if now < window_ends:
            retry_after = math.ceil((window_ends - now).total_seconds())
            raise TooManyRequests(BRAKED, headers={"Retry-After": str(max(retry_after, 1))})
    return failures


def record_failure(*, session: Session, brake: LoginBrake, email: str, now: dt.datetime) -> None:
    """Count one failed login for this email, and commit it: the 401 that follows rolls the request back.

    One upsert, so concurrent failures all count: the first failure after a window is over starts a new one.
    """
    window_over = LoginFailure.window_started_at <= now - brake.window
    upsert = insert(LoginFailure).values(email=email, failures=1, window_started_at=now)
    session.execute(upsert.on_conflict_do_update(index_elements=[LoginFailure.email], set_={
        "failures": case((window_over, 1), else_=LoginFailure.failures + 1),
        "window_started_at": case((window_over, now), else_=LoginFailure.window_started_at),
    }))
    session.commit()
    # Rows of finished windows are dead weight (they count as none); without this, failures for endless made-up
    # emails would grow the table without bound. Own transaction, after the upsert's: a purge locks many rows,
    # and holding the upserted row's lock while waiting for them could deadlock with another failure.
    session.execute(delete(LoginFailure).where(LoginFailure.window_started_at <= now - brake.window))
    session.commit()


def reset(*, session: Session, email: str) -> None:
    """Forget an email's failures after it logged in successfully (a no-op if a purge got there first)."""
    session.execute(delete(LoginFailure).where(LoginFailure.email == email))
