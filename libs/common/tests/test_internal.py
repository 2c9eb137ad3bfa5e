"""Service tokens and the internal HTTP client against a real socket."""

import http.server
import threading
import time

import pytest

from backoffice_common.errors import ServiceUnavailable, Unauthorized
from backoffice_common.internal import InternalClient, make_service_token, verify_service_token
from devstack import free_port


def test_service_token_round_trip():
    claims = verify_service_token(make_service_token("s" * 40, "auth"), "s" * 40)
    assert claims["iss"] == "auth" and claims["aud"] == "internal" and claims["exp"] - claims["iat"] == 300


@pytest.mark.parametrize(
    "token", [make_service_token("other" * 8, "auth"), make_service_token("s" * 40, "auth", ttl_s=3600), "garbage"]
)
def test_bad_service_tokens(token):
    with pytest.raises(Unauthorized):
        verify_service_token(token, "s" * 40)


def test_peer_down_is_503_quickly():
    client = InternalClient(f"http://127.0.0.1:{free_port()}", name="projects", secret="s" * 40, caller="t")
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable) as failure:
        client.post("/internal/x", json={})
    assert failure.value.status_code == 503 and "projects" in failure.value.message
    assert time.monotonic() - started < 3


class _Handler(http.server.BaseHTTPRequestHandler):
    calls = []

    def do_GET(self):
        self.calls.append((self.path, self.headers.get("Authorization", "")))
        status = 503 if self.path == "/flaky" and len(self.calls) < 2 else (404 if self.path == "/missing" else 200)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        body = b'{"ok": true}'
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.calls.append((self.path, ""))
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def peer():
    _Handler.calls = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_safe_calls_are_retried_and_carry_a_service_token(peer):
    client = InternalClient(peer, name="peer", secret="s" * 40, caller="auth")
    response = client.get("/flaky")
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert len(_Handler.calls) == 2
    assert verify_service_token(_Handler.calls[0][1].split(" ")[1], "s" * 40)["iss"] == "auth"


def test_unsafe_calls_are_not_retried(peer):
    client = InternalClient(peer, name="peer", secret="s" * 40, caller="auth")
    with pytest.raises(ServiceUnavailable):
        client.post("/anything", json={})
    assert len(_Handler.calls) == 1


def test_4xx_is_returned_to_the_caller(peer):
    assert InternalClient(peer, name="peer", secret="s" * 40, caller="a").get("/missing").status_code == 404
