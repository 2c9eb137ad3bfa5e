"""The login brake: login attempts for one email are counted, and too many within a window slow that email down,
whatever address they come from.

nginx already limits login attempts per client address; this limits them per email, so that guessing one
account's password from many addresses gets no further. Unknown emails are braked alike (the brake must not tell
which accounts exist).

Each attempt takes its slot BEFORE the password is hashed, in a transaction of its own that commits first: requests
arriving together each see the others' slots, so no more than ``max_failures`` guesses get verified per window,
however many are in flight. The price (accepted): more than ``max_failures`` concurrent logins for one email get
429 even with the right password, since an attempt counts until it succeeds.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, case, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from auth_service.models import LoginFailure
from backoffice_common.errors import TooManyRequests

BRAKED = "Too many failed login attempts; try again later."
PURGE_BATCH = 100


@dataclass(frozen=True)
class LoginBrake:
    """``max_failures`` attempts within ``window`` (from the first of them) that did not succeed, then 429 until
    the window is over."""

    max_failures: int
    window: dt.timedelta


# A declarative model's __table__ is typed as any FromClause; this one is mapped to its table.
_failures = cast(Table, LoginFailure.__table__)
_window_over = _failures.c.window_started_at <= bindparam("cutoff")
# One statement: a new window when the old one is over, else one more attempt in it; the new count and start.
_TAKE = (
    insert(_failures)
    .values(email=bindparam("email"), failures=1, window_started_at=bindparam("now"))
    .on_conflict_do_update(
        index_elements=[_failures.c.email],
        set_={
            "failures": case((_window_over, 1), else_=_failures.c.failures + 1),
            "window_started_at": case((_window_over, bindparam("now")), else_=_failures.c.window_started_at),
        },
    )
    .returning(_failures.c.failures, _failures.c.window_started_at)
)
# Rows of finished windows are dead weight (they count as none); without this, attempts for endless made-up emails
# would grow the table without bound. Bounded, and SKIP LOCKED: it never waits for a row another attempt holds.
_PURGE = delete(_failures).where(
    _failures.c.email.in_(
        select(_failures.c.email)
        .where(_window_over)
        .limit(PURGE_BATCH)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
)


def take_attempt(*, session: Session, brake: LoginBrake, email: str, now: dt.datetime) -> int:
    """Count one login attempt for this email (the count so far in its window); 429 with Retry-After, and nothing
    counted, when it is one too many.

    Run it in a unit of work of its own, committed before the password is checked: concurrent attempts then wait
    on each other's row for a moment only, and each sees the slots taken before it.
    """
    cutoff = now - brake.window
    failures, window_started_at = session.execute(_TAKE, {"email": email, "now": now, "cutoff": cutoff}).one()
    if failures > brake.max_failures:
        retry_after = math.ceil((window_started_at + brake.window - now).total_seconds())
        raise TooManyRequests(BRAKED, headers={"Retry-After": str(max(retry_after, 1))})
    # After the upsert, not before: the purge then holds its rows only while it commits and waits for none, so two
    # attempts can never each hold a row the other's upsert needs (a deadlock, were the purge first).
    session.execute(_PURGE, {"cutoff": cutoff})
    return failures


def forget(*, session: Session, email: str) -> None:
    """Forget an email's attempts after it logged in successfully (a no-op if a purge got there first)."""
    session.execute(delete(LoginFailure).where(LoginFailure.email == email))
