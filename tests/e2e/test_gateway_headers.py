"""The gateway's own headers (issue 9 item 8): nosniff on every answer, no-store on answers that carry tokens, and
a client address taken from X-Forwarded-For only when a trusted load balancer sent it."""

import uuid

import pytest

from devstack.client import Gateway


def _login(client: Gateway, **headers) -> int:
    # No password: auth answers 422 without touching any account, so only the gateway's brake can say 429.
    return client.post(
        "/v1/auth/login", json={"email": f"x{uuid.uuid4().hex[:8]}@example.com"}, headers=headers
    ).status_code


def test_every_answer_says_nosniff(gw, stack, operator):
    answers = {
        "service 200": gw.get("/v1/operators/me", token=operator.token),
        "service 401": gw.get("/v1/projects"),
        "service 422": gw.post("/v1/auth/login", json={}),
        "gateway 200": gw.get("/healthz"),
        "gateway 404": gw.get("/internal/anything"),
        "gateway 413": gw.post(
            "/v1/auth/register", data=b"x" * (1024 * 1024 + 1), headers={"Content-Type": "application/json"}
        ),
    }
    for name, response in answers.items():
        assert response.headers.get("X-Content-Type-Options") == "nosniff", name
        assert response.headers.get("X-Request-ID"), name  # the header the other add_header lines must not lose


def test_the_throttle_answer_keeps_the_gateway_headers(stack):
    client = Gateway(stack.gateway_url, source_ip="127.0.0.76")
    for _ in range(400):
        response = client.post("/v1/auth/login", json={})
        if response.status_code == 429:
            break
    assert response.status_code == 429
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Retry-After"] == "1" and response.headers["X-Request-ID"]


def test_answers_that_carry_tokens_or_credentials_are_never_stored(gw, operator):
    registered = gw.post(
        "/v1/auth/register",
        json={"name": "No Store", "email": f"ns{uuid.uuid4().hex[:8]}@ex.com", "password": "a-long-password-1"},
    )
    logged_in = gw.post("/v1/auth/login", json={"email": operator.email, "password": operator.password})
    photographer = gw.post(
        "/v1/auth/register-photographer",
        token=operator.token,
        json={"name": "P", "email": f"p{uuid.uuid4().hex[:8]}@ex.com", "password": "a-long-password-1"},
    )
    assert (registered.status_code, logged_in.status_code, photographer.status_code) == (201, 200, 201)
    for response in (registered, logged_in, photographer):
        # (requests joins repeated headers with ", ": this also says the service sent no Cache-Control of its own)
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Cache-Control" not in gw.get("/v1/projects", token=operator.token).headers


@pytest.fixture(scope="module")
def behind_a_load_balancer(stack):
    """A second gateway in front of the same services that trusts X-Forwarded-For from 127.0.0.78 only, with a
    login brake of 3 requests (1 a minute, burst 2)."""
    url = stack.start_extra_gateway(
        "gateway-lb", AUTH_RATE_LIMIT="1r/m", AUTH_RATE_BURST="2", GATEWAY_TRUSTED_PROXIES="127.0.0.78"
    )
    yield url
    stack.stop_service("gateway-lb")


def test_behind_a_trusted_load_balancer_each_client_gets_its_own_login_brake(behind_a_load_balancer):
    balancer = Gateway(behind_a_load_balancer, source_ip="127.0.0.78")
    first = [_login(balancer, **{"X-Forwarded-For": "203.0.113.7"}) for _ in range(4)]
    assert first == [422, 422, 422, 429]
    # Another client behind the same balancer still has its whole budget.
    assert _login(balancer, **{"X-Forwarded-For": "198.51.100.20, 203.0.113.99"}) == 422


def test_an_untrusted_sender_cannot_dodge_the_brake_with_x_forwarded_for(behind_a_load_balancer):
    attacker = Gateway(behind_a_load_balancer, source_ip="127.0.0.79")
    statuses = [_login(attacker, **{"X-Forwarded-For": f"192.0.2.{n}"}) for n in range(1, 5)]
    assert statuses == [422, 422, 422, 429]
