"""Settings: what every service refuses to boot with in prod (issue 9 item 6), and how a setting is read."""

from typing import Annotated

import pytest

from backoffice_common.config import DEV_INTERNAL_SECRET, POSITIVE, CommonSettings, SettingsError

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
    with pytest.raises(SettingsError, match=refused):
        CommonSettings(**{**REAL, **override})


def test_dev_and_test_run_on_the_placeholders():
    assert CommonSettings(app_env="dev").internal_token_secret == DEV_INTERNAL_SECRET
    CommonSettings(app_env="test", database_url="postgresql+psycopg2://postgres:postgres@127.0.0.1/x")


# How a setting is read: a keyword, else the variable of its name in capitals, else the default; typed, bounded.


def test_a_keyword_wins_over_the_environment_which_wins_over_the_default(monkeypatch):
    monkeypatch.setenv("DB_POOL_SIZE", "7")
    monkeypatch.setenv("INTERNAL_TIMEOUT_READ_S", "2.5")
    settings = CommonSettings(app_env="test", db_pool_size=9)
    assert (settings.db_pool_size, settings.internal_timeout_read_s, settings.web_threads) == (9, 2.5, 2)
    assert CommonSettings(app_env="test").db_pool_size == 7


def test_values_take_their_declared_types(monkeypatch, tmp_path):
    monkeypatch.setenv("JWT_PUBLIC_KEYS_DIR", str(tmp_path))
    monkeypatch.setenv("METRICS_PORT", "9100")
    settings = CommonSettings(app_env="test")
    assert settings.jwt_public_keys_dir == tmp_path and settings.metrics_port == 9100
    monkeypatch.setenv("METRICS_PORT", "")  # an empty variable unsets an optional setting
    assert CommonSettings(app_env="test").metrics_port is None


def test_every_fault_is_named_at_once_with_its_variable(monkeypatch):
    monkeypatch.setenv("DB_POOL_SIZE", "five")
    monkeypatch.setenv("APP_ENV", "staging")
    with pytest.raises(SettingsError) as refused:
        CommonSettings()
    assert str(refused.value) == (
        "Invalid settings: app_env (APP_ENV): Must be one of dev, test, prod.; "
        "db_pool_size (DB_POOL_SIZE): Must be a whole number."
    )


class _Flags(CommonSettings):
    create_bucket: bool | None = None
    attempts: Annotated[int, POSITIVE] = 3


@pytest.mark.parametrize(
    "raw, value", [("true", True), ("1", True), ("Yes", True), ("off", False), ("0", False), ("", None)]
)
def test_booleans_read_as_the_usual_words(monkeypatch, raw, value):
    monkeypatch.setenv("CREATE_BUCKET", raw)
    assert _Flags(app_env="test").create_bucket is value


def test_bounds_and_unknown_names_are_refused():
    with pytest.raises(SettingsError, match=r"attempts \(ATTEMPTS\): Must be greater than 0"):
        _Flags(app_env="test", attempts=0)
    with pytest.raises(SettingsError, match="create_bucket"):
        _Flags(app_env="test", create_bucket="maybe")
    with pytest.raises(SettingsError, match=r"db_pool_size \(DB_POOL_SIZE\): Must be a whole number"):
        CommonSettings(app_env="test", db_pool_size=2.5)
    assert CommonSettings(app_env="test", db_pool_size=4.0).db_pool_size == 4
    with pytest.raises(TypeError, match="no setting pool_size"):
        CommonSettings(app_env="test", pool_size=3)


def test_settings_are_read_only_and_keep_their_secrets_out_of_repr():
    settings = CommonSettings(app_env="test", internal_token_secret="s" * 40)
    with pytest.raises(AttributeError):
        settings.db_pool_size = 1  # type: ignore[misc]
    assert "s" * 40 not in repr(settings)
