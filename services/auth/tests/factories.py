"""Plain functions that make rows, each with defaults a test overrides by keyword."""

import uuid

from auth_service.models import Account, OperatorProfile, Participant


def _email(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:10]}@example.com"


def make_operator(session, **overrides) -> Account:
    operator_id = overrides.pop("id", None) or uuid.uuid4()
    profile = overrides.pop("profile", None) or OperatorProfile(timezone="UTC", currency="EUR", locale="en")
    account = Account(
        **{
            "id": operator_id,
            "operator_id": operator_id,
            "role": "operator",
            "name": "Studio",
            "email": _email("op"),
            "password_hash": "x",
            **overrides,
        }
    )
    account.profile = profile
    session.add(account)
    session.flush()
    return account


def make_photographer(session, operator: Account, **overrides) -> Account:
    account = Account(
        **{
            "operator_id": operator.id,
            "role": "photographer",
            "name": "Pat",
            "email": _email("ph"),
            "password_hash": "x",
            **overrides,
        }
    )
    session.add(account)
    session.flush()
    return account


def make_participant(session, **overrides) -> Participant:
    participant = Participant(**{"email": _email("guest"), "name": "Guest", **overrides})
    session.add(participant)
    session.flush()
    return participant
