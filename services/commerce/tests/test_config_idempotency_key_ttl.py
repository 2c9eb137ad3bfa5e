"""IDEMPOTENCY_KEY_TTL_S (issue 9 item 12): 24 hours unless set, from the environment, and positive."""

import pytest

from backoffice_common.config import SettingsError
from commerce_service.config import Settings


def test_a_day_by_default_as_stripe_keeps_its_keys():
    assert Settings(app_env="dev").idempotency_key_ttl_s == 86_400


def test_set_from_the_environment(monkeypatch):
    monkeypatch.setenv("IDEMPOTENCY_KEY_TTL_S", "3600")
    assert Settings(app_env="dev").idempotency_key_ttl_s == 3600


@pytest.mark.parametrize("value", ["0", "-1", "a day"])
def test_refuses_what_is_no_duration(monkeypatch, value):
    monkeypatch.setenv("IDEMPOTENCY_KEY_TTL_S", value)
    with pytest.raises(SettingsError, match="idempotency_key_ttl_s"):
        Settings(app_env="dev")
