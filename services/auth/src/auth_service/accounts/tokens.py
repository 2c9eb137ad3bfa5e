"""Access tokens (design §2): RS256 with the ``kid`` of the signing key."""

from __future__ import annotations

from dataclasses import dataclass

from flask_jwt_extended import create_access_token

from auth_service.models import Account


@dataclass(frozen=True)
class AccessToken:
    token: str


def issue_access_token(account: Account, *, key_id: str) -> AccessToken:
    return AccessToken(
        create_access_token(
            identity=str(account.id),
            additional_claims={"role": account.role, "operator_id": str(account.operator_id)},
            additional_headers={"kid": key_id},
        )
    )
