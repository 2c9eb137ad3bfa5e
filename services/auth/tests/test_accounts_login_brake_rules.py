"""The login brake per email (issue 9 item 9), as functions on the real database."""

import datetime as dt
import threading
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from auth_service.accounts import login_brake
from auth_service.accounts import rules as accounts
from auth_service.accounts.login_brake import LoginBrake
from auth_service.models import LoginFailure
from backoffice_common.errors import TooManyRequests, Unauthorized

BRAKE = LoginBrake(max_failures=3, window=dt.timedelta(minutes=15))
NOW = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)


@pytest.fixture
def unit_of_work(app, db_session):
    return app.extensions["database"].unit_of_work


@pytest.fixture
def attempt(unit_of_work):
    """``attempt(email, now=NOW, times=1)``: take login attempts as the login does, each in its own unit of work."""

    def take(email, now=NOW, times=1):
        for _ in range(times):
            with unit_of_work() as session:
                login_brake.take_attempt(session=session, brake=BRAKE, email=email, now=now)

    return take


def _row(session, email):
    session.expire_all()
    return session.get(LoginFailure, email)


def _log_in(unit_of_work, passwords, email, password, now=NOW):
    return accounts.log_in(
        unit_of_work=unit_of_work, passwords=passwords, brake=BRAKE, now=now, email=email, password=password
    )


def test_attempts_count_within_the_window_started_by_the_first(db_session, attempt):
    attempt("a@example.com")
    attempt("a@example.com", now=NOW + dt.timedelta(minutes=10))
    row = _row(db_session, "a@example.com")
    assert (row.failures, row.window_started_at) == (2, NOW)


def test_braked_past_the_threshold_until_the_window_is_over(db_session, attempt):
    attempt("a@example.com", times=3)
    with pytest.raises(TooManyRequests) as braked:
        attempt("a@example.com", now=NOW + dt.timedelta(seconds=1))
    assert braked.value.message == login_brake.BRAKED
    assert braked.value.headers == {"Retry-After": str(15 * 60 - 1)}
    # rounded up, never 0 while braked
    with pytest.raises(TooManyRequests) as braked:
        attempt("a@example.com", now=NOW + dt.timedelta(minutes=15) - dt.timedelta(milliseconds=1))
    assert braked.value.headers == {"Retry-After": "1"}
    # a braked attempt counts nothing (its unit of work rolls back): the brake is not stretched
    assert _row(db_session, "a@example.com").failures == 3
    # another email is not affected
    attempt("b@example.com")


def test_an_attempt_after_the_window_starts_a_new_one(db_session, attempt):
    attempt("a@example.com", times=3)
    later = NOW + dt.timedelta(minutes=15)
    attempt("a@example.com", now=later)
    row = _row(db_session, "a@example.com")
    assert (row.failures, row.window_started_at) == (1, later)


def test_an_attempt_purges_finished_windows_of_other_emails(db_session, attempt):
    attempt("old@example.com")
    attempt("recent@example.com", now=NOW + dt.timedelta(minutes=5))
    attempt("new@example.com", now=NOW + dt.timedelta(minutes=15))
    assert _row(db_session, "old@example.com") is None
    assert _row(db_session, "recent@example.com").failures == 1
    assert _row(db_session, "new@example.com").failures == 1


def test_log_in_brakes_right_and_wrong_passwords_alike(db_session, passwords, unit_of_work):
    accounts.register_operator(
        session=db_session, passwords=passwords, name="A", email="a@example.com", password="password-1"
    )
    for email in ("a@example.com", "unknown@example.com"):
        for _ in range(3):
            with pytest.raises(Unauthorized):
                _log_in(unit_of_work, passwords, email, "wrong-password")
        for password in ("password-1", "wrong-password"):
            with pytest.raises(TooManyRequests):
                _log_in(unit_of_work, passwords, email, password)
        assert _row(db_session, email).failures == 3  # braked attempts are not counted
    assert _log_in(unit_of_work, passwords, "a@example.com", "password-1", now=NOW + dt.timedelta(minutes=15))
    assert _row(db_session, "a@example.com") is None


def test_a_successful_login_resets_the_count(db_session, passwords, unit_of_work):
    accounts.register_operator(
        session=db_session, passwords=passwords, name="A", email="a@example.com", password="password-1"
    )
    for _ in range(2):
        with pytest.raises(Unauthorized):
            _log_in(unit_of_work, passwords, "a@example.com", "wrong-password")
    assert _row(db_session, "a@example.com").failures == 2
    _log_in(unit_of_work, passwords, "a@example.com", "password-1")
    assert _row(db_session, "a@example.com") is None


def test_a_failed_login_leaves_its_attempt_counted(db_session, passwords, unit_of_work):
    with pytest.raises(Unauthorized):
        _log_in(unit_of_work, passwords, "nobody@example.com", "wrong-password")
    assert _row(db_session, "nobody@example.com").failures == 1


def _on_the_engine(engine):
    """A unit-of-work factory on the real engine (real commits: what concurrent requests see of each other)."""

    @contextmanager
    def unit():
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session

    return unit


def _concurrently(threads, run):
    start = threading.Barrier(threads)
    results, errors = [], []

    def worker():
        try:
            start.wait()
            results.append(run())
        except Exception as error:  # reported by the caller; a thread's exception would otherwise vanish
            errors.append(error)

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return results, errors


def _clean(engine, email):
    with Session(engine) as session, session.begin():
        session.execute(delete(LoginFailure).where(LoginFailure.email == email))


def test_concurrent_attempts_all_count(app):
    """The upsert is the whole race story: attempts from many connections at once lose no count."""
    engine = app.extensions["database"].engine
    unit = _on_the_engine(engine)
    email, threads = f"race-{uuid.uuid4().hex[:8]}@example.com", 8
    brake = LoginBrake(max_failures=100, window=dt.timedelta(minutes=15))

    def take():
        for _ in range(5):
            with unit() as session:
                login_brake.take_attempt(session=session, brake=brake, email=email, now=dt.datetime.now(dt.UTC))

    try:
        assert _concurrently(threads, take)[1] == []
        with Session(engine) as session:
            assert session.scalar(select(LoginFailure.failures).where(LoginFailure.email == email)) == threads * 5
    finally:
        _clean(engine, email)


def test_concurrent_wrong_passwords_get_no_more_guesses_than_the_brake_allows(app, passwords):
    """Checked before hashing and counted after, 12 guesses at once all passed a brake of 3 (issue 9 item 9)."""
    engine = app.extensions["database"].engine
    unit = _on_the_engine(engine)
    email = f"race-{uuid.uuid4().hex[:8]}@example.com"

    def guess():
        try:
            accounts.log_in(
                unit_of_work=unit,
                passwords=passwords,
                brake=BRAKE,
                email=email,
                password="wrong-password",
                now=dt.datetime.now(dt.UTC),
            )
        except (Unauthorized, TooManyRequests) as answer:
            return answer.status_code

    try:
        statuses, errors = _concurrently(12, guess)
        assert errors == []
        assert sorted(statuses) == [401] * BRAKE.max_failures + [429] * (12 - BRAKE.max_failures)
    finally:
        _clean(engine, email)
