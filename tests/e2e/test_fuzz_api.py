"""Property-based fuzzing of the whole public surface (issue 13): schemathesis reads the merged API document from the
gateway and sends generated requests through it, as an operator and as a photographer. No 5xx, every answer's status
and body as documented, none slower than a second.

The budget is bounded for CI (``FUZZ_EXAMPLES`` a phase and operation: 50 takes about a minute for both roles here,
and is what it took to find the NUL-character 500 again with the fix taken out; 20 did not) and the seed fixed so a
red run is reproducible; set ``FUZZ_SEED`` to explore elsewhere. What it found is kept in test_fuzz_regressions.py.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SEED = os.environ.get("FUZZ_SEED", "20261202")
EXAMPLES = os.environ.get("FUZZ_EXAMPLES", "50")
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


@pytest.fixture(scope="module")
def fuzz_gateway(stack):
    """Its own gateway without the login throttle: generated logins would otherwise spend the suite's budget (and
    mostly meet 429s instead of auth)."""
    url = stack.start_extra_gateway("gateway-fuzz", AUTH_RATE_LIMIT="100000r/s", AUTH_RATE_BURST="100000")
    yield url
    stack.stop_service("gateway-fuzz")


@pytest.mark.parametrize("role", ["operator", "photographer"])
def test_fuzzing_the_api_document_finds_nothing(role, fuzz_gateway, gw, operator, photographer, tmp_path):
    operations = sum(
        method in item
        for item in gw.get("/v1/openapi.json").json()["paths"].values()
        for method in ("get", "put", "post", "patch", "delete")
    )
    token = operator.token if role == "operator" else photographer.token
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{fuzz_gateway}/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--max-response-time",
        "1",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        EXAMPLES,
        "--seed",
        SEED,
        "--workers",
        "2",
    ]
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=900, env={**os.environ, "NO_COLOR": "1"}
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert f"Tested: {operations}" in result.stdout  # every operation of the document, none skipped
