"""An operator's profile: what counts as a currency, a locale, a country; the currency lock (issue 9 item 13)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import babel
import babel.numbers
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from auth_service.models import Account, OperatorProfile
from backoffice_common.db import Database
from backoffice_common.errors import Conflict, NotFound

CURRENCIES = frozenset(babel.numbers.list_currencies())
DEFAULT_CURRENCY = "EUR"  # a profile's currency until the operator sets one (models.OperatorProfile)
# CLDR's two-letter territories minus its pseudo-regions (unknown, EU, eurozone, UN, outlying, pseudo-locales).
COUNTRIES = frozenset(
    code for code in babel.Locale("en").territories if isinstance(code, str) and len(code) == 2 and code.isalpha()
) - {
    "ZZ",
    "EU",
    "EZ",
    "UN",
    "QO",
    "XA",
    "XB",
}


def parse_locale(tag: str) -> str | None:
    """The canonical BCP 47 form of ``tag`` (``fr_ca`` → ``fr-CA``), or None when it is no known locale."""
    try:
        return str(babel.Locale.parse(tag.replace("-", "_"))).replace("_", "-")
    except (ValueError, TypeError, babel.UnknownLocaleError):
        return None


_accounts, _profiles = Account.__table__, OperatorProfile.__table__
# An operator with its profile, as plain columns: built once (SQLAlchemy then reuses its compiled form without
# recomputing a cache key), and read without the ORM's identity map and instance building.
_OPERATOR_CARD = (
    select(
        _accounts.c.id,
        _accounts.c.name,
        _accounts.c.email,
        _accounts.c.created_at,
        _accounts.c.updated_at,
        _profiles.c.address,
        _profiles.c.billing_address,
        _profiles.c.currency,
        _profiles.c.locale,
        _profiles.c.timezone,
        _profiles.c.profile_picture_url,
    )
    .select_from(_accounts.outerjoin(_profiles, _profiles.c.account_id == _accounts.c.id))
    .where(_accounts.c.id == bindparam("operator_id"), _accounts.c.role == "operator")
)


def operator_statements(*, operator_id: uuid.UUID) -> tuple[list[Select], dict]:
    """The statement of the operator's profile, with its parameters: GET /v1/operators/me keeps its answer per worker
    while the row is unchanged (backoffice_common.answers; migration 0003 notifies its changes)."""
    return [_OPERATOR_CARD], {"operator_id": operator_id}


def operator_in(*, reader, operator_id: uuid.UUID) -> dict:
    """The operator's account and profile fields, read by ``reader`` (a Session or a Connection)."""
    return _found(reader.execute(_OPERATOR_CARD, {"operator_id": operator_id}).mappings().first())


def read_operator(*, database: Database, operator_id: uuid.UUID) -> dict:
    """The operator's account and profile fields in one dict (what GET /v1/operators/me and the operator card show)."""
    return _found(database.read_one(_OPERATOR_CARD, {"operator_id": operator_id}))


def _found(row) -> dict:
    if row is None:
        raise NotFound("Operator not found.")
    return dict(row)


def get_operator(*, session: Session, operator_id: uuid.UUID) -> Account:
    account = session.get(Account, operator_id)
    if account is None or account.role != "operator":
        raise NotFound("Operator not found.")
    return account


CURRENCY_FIXED = (
    "The currency cannot change once the operator has purchases: revenue would add amounts in "
    "different currencies. Other fields can still be changed."
)


def update_operator(
    *, session: Session, operator_id: uuid.UUID, changes: dict, has_purchases: Callable[[uuid.UUID], bool]
) -> Account:
    """Apply a profile PATCH: ``name`` lives on the account, the rest on the profile.

    A new ``currency`` is refused (409) once the operator has a purchase, as ``has_purchases`` (commerce) says;
    it is asked only when the currency would change, before anything is.
    """
    account = get_operator(session=session, operator_id=operator_id)
    profile = account.profile or OperatorProfile(account=account)
    if (
        "currency" in changes
        and changes["currency"] != (profile.currency or DEFAULT_CURRENCY)
        and has_purchases(operator_id)
    ):
        raise Conflict(CURRENCY_FIXED)
    if "name" in changes:
        account.name = changes.pop("name")
    if "locale" in changes:
        changes["locale"] = parse_locale(changes["locale"])
    for field, value in changes.items():
        setattr(profile, field, value)
    if changes:  # the operator's updatedAt covers its profile fields too
        account.updated_at = func.now()
    session.flush()
    session.refresh(account)
    return account
