"""The commerce worker carries no async HTTP library it never calls (clients/payments.py: stripe's import-time
choice of an async client is what loaded aiohttp, ~9.5 MB a worker)."""

import subprocess
import sys

PROBE = """
import sys
import commerce_service.app
assert "aiohttp" not in sys.modules, "aiohttp loaded"
import stripe
assert stripe.RequestsClient  # the sync client we use is there
import aiohttp  # and anything that does want aiohttp later still gets it
print("ok")
"""


def test_importing_commerce_loads_no_aiohttp():
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=False)  # noqa: S603 - our own interpreter and probe
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
