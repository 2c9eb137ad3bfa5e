"""What the shared library's tests share: the settings of a probe app that has no reachable database."""

import json

import pytest

from backoffice_common.config import CommonSettings
from backoffice_common.testing.plugin import generate_signing_key

NO_DATABASE = "postgresql+psycopg2://postgres@127.0.0.1:9/none"  # nothing listens on port 9


@pytest.fixture(scope="session")
def probe_settings():
    """``probe_settings(*keys, **settings)``: a probe app's settings, trusting the public halves of ``keys`` (a fresh
    signing key when none is given), with a database URL nothing answers unless ``settings`` give one (and any other
    setting, as ``service_name``)."""

    def make(*keys, **settings) -> CommonSettings:
        trusted = keys or (generate_signing_key(),)
        return CommonSettings(
            **{
                "app_env": "test",
                "service_name": "probe",
                "jwt_public_keys": json.dumps({key.kid: key.public_pem for key in trusted}),
                "database_url": NO_DATABASE,
                **settings,
            }
        )

    return make
