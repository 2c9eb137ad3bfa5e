"""What the catalog's rules share (pricing rules, discounts, promo codes): validity windows, a request's field
errors in webargs' shape, the constraints that decide a race for a period, and the operator's list statements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session

EXCLUSION_VIOLATION = "23P01"
# Exclusion constraints are checked after the index insert, so two overlapping inserts can each wait for the
# other: PostgreSQL aborts one with a deadlock, and that one lost the race just as with 23P01.
DEADLOCK_DETECTED = "40P01"


def window_errors(valid_from: dt.datetime | None, valid_until: dt.datetime | None) -> dict[str, list[str]]:
    if valid_from is not None and valid_until is not None and valid_from >= valid_until:
        return {"validUntil": ["Must be after validFrom."]}
    return {}


def in_window(item, at: dt.datetime) -> bool:
    """``valid_from`` inclusive, ``valid_until`` exclusive; None means unbounded."""
    return (item.valid_from is None or item.valid_from <= at) and (item.valid_until is None or at < item.valid_until)


class OperatorListing:
    """The operator's rows of a catalog ``model``, newest first, as plain rows of the ``columns`` a list shows.

    The statement is built once, and plain rows skip building ORM objects: both were most of a 50-item
    list's time (issue 8's profile). The list routes answer with ``statement`` through
    backoffice_common.answers, kept while its rows are unchanged.
    """

    def __init__(self, model, columns: tuple[str, ...]):
        self.statement = (
            select(*(getattr(model, column) for column in columns))
            .where(model.operator_id == bindparam("operator_id"))
            .order_by(model.created_at.desc(), model.id.desc())
        )

    def __call__(self, *, session: Session, operator_id) -> Sequence[Row]:
        return session.execute(self.statement, {"operator_id": operator_id}).all()
