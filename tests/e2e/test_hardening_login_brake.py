"""The login brake per account (issue 9 item 9): failed logins for one email slow that email down, whatever
address they come from.

The suite's gateway lets each client address through at 20 r/s with a burst of 200 (conftest's RATE_LIMIT), and
every attempt here comes from an address of its own, so nginx's per-address brake never answers: each 429 below
is auth's, keyed on the email (its body and its Retry-After of minutes, not nginx's 1 s, say so too).
"""

import itertools
import math
import threading
import uuid

import pytest
from sqlalchemy import text

from devstack.client import Gateway

MAX_FAILURES, WINDOW_S = 5, 15 * 60  # auth's defaults, which the suite keeps
BRAKED = {
    "code": 429,
    "status": "Too Many Requests",
    "message": "Too many failed login attempts; try again later.",
    "errors": {},
}
_addresses = (f"127.0.9.{n}" for n in itertools.count(1))


@pytest.fixture
def from_anywhere(stack):
    """``from_anywhere()`` → a gateway client on a loopback address no other request of the suite uses."""
    return lambda: Gateway(stack.gateway_url, source_ip=next(_addresses))


def _login(client, email, password):
    return client.post("/v1/auth/login", json={"email": email, "password": password})


def _brake_row(databases, email):
    with databases["auth"].connect() as connection:
        return connection.execute(
            text("SELECT failures, window_started_at FROM login_failures WHERE email = :e"), {"e": email}
        ).one_or_none()


def _end_the_window(connection, email):
    """Move the email's window back by its length, as if it had started that long ago."""
    connection.execute(
        text(
            "UPDATE login_failures SET window_started_at = window_started_at - make_interval("
            "secs => :window) WHERE email = :e"
        ),
        {"e": email, "window": WINDOW_S},
    )


def _fail(from_anywhere, email, times):
    statuses = [_login(from_anywhere(), email, "wrong-password").status_code for _ in range(times)]
    assert statuses == [401] * times


def test_failures_for_one_email_brake_it_from_any_address(from_anywhere, databases, operator, other_operator):
    _fail(from_anywhere, operator.email, MAX_FAILURES)
    assert _brake_row(databases, operator.email).failures == MAX_FAILURES

    # braked, even with the right password and (email normalised) in another case, from yet another address
    braked = _login(from_anywhere(), f" {operator.email.upper()}", operator.password)
    assert braked.status_code == 429
    assert braked.json() == BRAKED
    assert WINDOW_S - 60 <= int(braked.headers["Retry-After"]) <= WINDOW_S
    wrong = _login(from_anywhere(), operator.email, "wrong-password")
    assert wrong.status_code == 429 and wrong.json() == BRAKED
    # attempts while braked are not verified and do not stretch the brake (each counts for a moment, then is rolled
    # back with its 429)
    assert _brake_row(databases, operator.email).failures == MAX_FAILURES

    # another email is not affected, from the same address either
    client = from_anywhere()
    assert _login(client, other_operator.email, other_operator.password).status_code == 200
    assert _login(client, operator.email, operator.password).status_code == 429


def test_unknown_email_is_braked_alike(from_anywhere, databases):
    email = f"nobody-{uuid.uuid4().hex[:10]}@example.com"
    _fail(from_anywhere, email, MAX_FAILURES)
    braked = _login(from_anywhere(), email, "wrong-password")
    assert braked.status_code == 429 and braked.json() == BRAKED
    assert braked.headers["Retry-After"]
    assert _brake_row(databases, email).failures == MAX_FAILURES


def test_retry_after_counts_down_to_the_end_of_the_window(from_anywhere, databases, operator):
    _fail(from_anywhere, operator.email, MAX_FAILURES)
    with databases["auth"].begin() as connection:
        connection.execute(
            text("UPDATE login_failures SET window_started_at = now() - interval '10 minutes' WHERE email = :e"),
            {"e": operator.email},
        )
    braked = _login(from_anywhere(), operator.email, operator.password)
    assert braked.status_code == 429
    assert math.isclose(int(braked.headers["Retry-After"]), 5 * 60, abs_tol=5)


def test_login_works_again_once_the_window_is_over(from_anywhere, databases, operator):
    _fail(from_anywhere, operator.email, MAX_FAILURES)
    assert _login(from_anywhere(), operator.email, operator.password).status_code == 429
    with databases["auth"].begin() as connection:
        _end_the_window(connection, operator.email)
    assert _login(from_anywhere(), operator.email, operator.password).status_code == 200
    assert _brake_row(databases, operator.email) is None


def test_a_failure_after_the_window_starts_a_new_count(from_anywhere, databases, operator):
    _fail(from_anywhere, operator.email, MAX_FAILURES)
    with databases["auth"].begin() as connection:
        _end_the_window(connection, operator.email)
    _fail(from_anywhere, operator.email, 1)
    row = _brake_row(databases, operator.email)
    assert row.failures == 1
    with databases["auth"].connect() as connection:
        age = connection.execute(
            text("SELECT extract(epoch FROM now() - :started)"), {"started": row.window_started_at}
        ).scalar()
    assert abs(age) < 60


def test_a_successful_login_resets_the_count(from_anywhere, databases, operator):
    _fail(from_anywhere, operator.email, MAX_FAILURES - 1)
    assert _login(from_anywhere(), operator.email, operator.password).status_code == 200
    assert _brake_row(databases, operator.email) is None
    # a whole new allowance: as many failures again before the brake
    _fail(from_anywhere, operator.email, MAX_FAILURES)
    assert _login(from_anywhere(), operator.email, operator.password).status_code == 429


def test_an_invalid_body_is_not_a_failure(from_anywhere, databases, operator):
    for _ in range(MAX_FAILURES + 1):
        assert from_anywhere().post("/v1/auth/login", json={"email": operator.email}).status_code == 422
    assert _brake_row(databases, operator.email) is None
    assert _login(from_anywhere(), operator.email, operator.password).status_code == 200


def test_an_overlong_email_is_422_and_counts_nothing(from_anywhere, databases):
    email = "a" * 309 + "@example.com"  # 321 characters: longer than any account's
    response = _login(from_anywhere(), email, "wrong-password")
    assert response.status_code == 422
    assert response.json() == {
        "code": 422,
        "status": "Unprocessable Entity",
        "message": "The request is invalid.",
        "errors": {"json": {"email": ["Longer than maximum length 320."]}},
    }
    assert _brake_row(databases, email) is None


def test_concurrent_guesses_get_no_more_than_the_brake_allows(from_anywhere, databases, operator):
    """Each attempt takes its slot before the password is hashed: guesses arriving together from many addresses
    cannot each slip under the count (checked before hashing and counted after, all of these were 401s)."""
    attempts = 12
    clients = [from_anywhere() for _ in range(attempts)]
    start = threading.Barrier(attempts)
    statuses, errors = [], []

    def guess(client):
        try:
            start.wait()
            statuses.append(_login(client, operator.email, "wrong-password").status_code)
        except Exception as error:  # reported below; a thread's exception would otherwise vanish
            errors.append(error)

    threads = [threading.Thread(target=guess, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(statuses) == [401] * MAX_FAILURES + [429] * (attempts - MAX_FAILURES)
    assert _brake_row(databases, operator.email).failures == MAX_FAILURES
    assert _login(from_anywhere(), operator.email, operator.password).status_code == 429
