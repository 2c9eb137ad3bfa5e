"""What every service refuses to boot with in prod (issue 9 item 6): the public placeholder secrets, short ones."""

import pytest
from pydantic import ValidationError

from backoffice_common.config import DEV_INTERNAL_SECRET, CommonSettings

REAL = {
    "app_env": "prod",
    "internal_token_secret": "k" * 32,
    "jwt_public_keys": "{}",
    "database_url": "postgresql+psycopg2://app:Zq8vLr2WmX4t@db:5432/auth",
}


def test_prod_boots_on_real_secrets():
    assert CommonSettings(**REAL).app_env == "prod"
    # no password at all (peer or certificate authentication) is not a placeholder
    assert CommonSettings(**{**REAL, "database_url": "postgresql+psycopg2://app@db/auth"}).app_env == "prod"


@pytest.mark.parametrize(
    "override, refused",
    [
        ({"internal_token_secret": DEV_INTERNAL_SECRET}, "INTERNAL_TOKEN_SECRET"),
        ({"internal_token_secret": "k" * 31}, "INTERNAL_TOKEN_SECRET"),
        ({"internal_token_secret": "é" * 15}, "INTERNAL_TOKEN_SECRET"),  # 15 characters, 30 bytes
        ({"database_url": "postgresql+psycopg2://postgres:postgres@db:5432/auth"}, "DATABASE_URL"),
        ({"database_url": "postgresql+psycopg2://postgres:changeme@db:5432/auth"}, "DATABASE_URL"),
        ({"jwt_public_keys": None}, "JWT_PUBLIC_KEYS"),
    ],
)
def test_prod_refuses_placeholders_and_short_secrets(override, refused):
    with pytest.raises(ValidationError, match=refused):
        CommonSettings(**{**REAL, **override})


def test_dev_and_test_run_on_the_placeholders():
    assert CommonSettings(app_env="dev").internal_token_secret == DEV_INTERNAL_SECRET
    CommonSettings(app_env="test", database_url="postgresql+psycopg2://postgres:postgres@127.0.0.1/x")
