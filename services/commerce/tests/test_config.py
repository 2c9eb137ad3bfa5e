"""Stripe settings: safe placeholders in dev and test, refused in prod."""

import pytest

from backoffice_common.config import SettingsError
from commerce_service.config import Settings

PROD = {"app_env": "prod", "internal_token_secret": "x" * 40, "jwt_public_keys": "{}"}


def test_dev_runs_on_placeholders():
    assert Settings(app_env="dev").stripe_secret_key.startswith("sk_test_")


@pytest.mark.parametrize(
    "stripe, refused",
    [
        ({}, "STRIPE_SECRET_KEY"),
        ({"stripe_secret_key": "changeme", "stripe_webhook_secret": "whsec_real"}, "STRIPE_SECRET_KEY"),
        ({"stripe_secret_key": "sk_live_real"}, "STRIPE_WEBHOOK_SECRET"),
        ({"stripe_secret_key": "sk_live_real", "stripe_webhook_secret": "secret"}, "STRIPE_WEBHOOK_SECRET"),
        # a public or guessable signing secret lets anyone mark a purchase paid: whsec_ and 24+ random characters
        ({"stripe_secret_key": "sk_live_real", "stripe_webhook_secret": "whsec_dev"}, "STRIPE_WEBHOOK_SECRET"),
        ({"stripe_secret_key": "sk_live_real", "stripe_webhook_secret": "whsec_" + "a" * 23}, "STRIPE_WEBHOOK_SECRET"),
        (
            {"stripe_secret_key": "sk_live_real", "stripe_webhook_secret": "whsec_" + "a b" * 12},
            "STRIPE_WEBHOOK_SECRET",
        ),
    ],
)
def test_prod_refuses_placeholders(stripe, refused):
    with pytest.raises(SettingsError, match=refused):
        Settings(**PROD, **stripe)


def test_prod_accepts_real_secrets():
    settings = Settings(**PROD, stripe_secret_key="sk_live_abc", stripe_webhook_secret="whsec_" + "Ab1" * 8)
    assert settings.stripe_api_base == "https://api.stripe.com"
