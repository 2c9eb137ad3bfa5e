"""The login brake per email (issue 9 item 9), as functions on the real database."""
import datetime as dt
import threading
import uuid

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from auth_service.models import LoginFailure
from auth_service.services import accounts, login_brake
from auth_service.services.login_brake import LoginBrake
from backoffice_common.errors import TooManyRequests, Unauthorized

BRAKE = LoginBrake(max_failures=3, window=dt.timedelta(minutes=15))
NOW = dt.datetime(2026, 5, 1, 12, tzinfo=dt.timezone.utc)


def _fail(session, email, now=NOW, times=1):
    for _ in range(times):
        login_brake.record_failure(session=session, brake=BRAKE, email=email, now=now)


def _row(session, email):
    session.expire_all()
    return session.get(LoginFailure, email)


def test_no_failures_no_brake(db_session):
    assert login_brake.check(session=db_session, brake=BRAKE, email="a@example.com", now=NOW) is None


def test_failures_count_within_the_window_started_by_the_first(db_session):
    _fail(db_session, "a@example.com")
    _fail(db_session, "a@example.com", now=NOW + dt.timedelta(minutes=10))
    row = _row(db_session, "a@example.com")
    assert (row.failures, row.window_started_at) == (2, NOW)
    assert login_brake.check(session=db_session, brake=BRAKE, email="a@example.com", now=NOW).failures == 2


def test_braked_at_the_threshold_until_the_window_is_over(db_session):
    _fail(db_session, "a@example.com", times=3)
    with pytest.raises(TooManyRequests) as braked:
        login_brake.check(session=db_session, brake=BRAKE, email="a@example.com", now=NOW + dt.timedelta(seconds=1))
    assert braked.value.message == login_brake.BRAKED
    assert braked.value.headers == {"Retry-After": str(15 * 60 - 1)}
    # rounded up, never 0 while braked
    with pytest.raises(TooManyRequests) as braked:
        login_brake.check(session=db_session, brake=BRAKE, email="a@example.com",
                          now=NOW + dt.timedelta(minutes=15) - dt.timedelta(milliseconds=1))
    assert braked.value.headers == {"Retry-After": "1"}
    # over: the row is still there (a success deletes it) but brakes nothing
    assert login_brake.check(session=db_session, brake=BRAKE, email="a@example.com",
                             now=NOW + dt.timedelta(minutes=15)).failures == 3
    assert login_brake.check(session=db_session, brake=BRAKE, email="b@example.com", now=NOW) is None


def test_a_failure_after_the_window_starts_a_new_one(db_session):
    _fail(db_session, "a@example.com", times=3)
    later = NOW + dt.timedelta(minutes=20)
    _fail(db_session, "a@example.com", now=later)
    row = _row(db_session, "a@example.com")
    assert (row.failures, row.window_started_at) == (1, later)


def test_a_failure_purges_finished_windows_of_other_emails(db_session):
    _fail(db_session, "old@example.com")
    _fail(db_session, "recent@example.com", now=NOW + dt.timedelta(minutes=5))
    _fail(db_session, "new@example.com", now=NOW + dt.timedelta(minutes=15))
    assert _row(db_session, "old@example.com") is None
    assert _row(db_session, "recent@example.com").failures == 1
    assert _row(db_session, "new@example.com").failures == 1


def test_authenticate_brakes_right_and_wrong_passwords_alike(db_session, passwords):
    accounts.register_operator(session=db_session, passwords=passwords, name="A", email="a@example.com",
                               password="password-1")
    for email in ("a@example.com", "unknown@example.com"):
        for _ in range(3):
            with pytest.raises(Unauthorized):
                accounts.authenticate(session=db_session, passwords=passwords, brake=BRAKE, now=NOW, email=email,
                                      password="wrong-password")
        for password in ("password-1", "wrong-password"):
            with pytest.raises(TooManyRequests):
                accounts.authenticate(session=db_session, passwords=passwords, brake=BRAKE, now=NOW, email=email,
                                      password=password)
        assert _row(db_session, email).failures == 3  # braked attempts are not counted
    assert accounts.authenticate(session=db_session, passwords=passwords, brake=BRAKE,
                                 now=NOW + dt.timedelta(minutes=15), email="a@example.com", password="password-1")
    db_session.flush()
    assert _row(db_session, "a@example.com") is None


def test_a_successful_login_resets_the_count(db_session, passwords):
    accounts.register_operator(session=db_session, passwords=passwords, name="A", email="a@example.com",
                               password="password-1")
    _fail(db_session, "a@example.com", times=2)
    accounts.authenticate(session=db_session, passwords=passwords, brake=BRAKE, now=NOW, email="a@example.com",
                          password="password-1")
    db_session.flush()
    assert _row(db_session, "a@example.com") is None


def test_a_success_without_failures_writes_nothing(db_session, passwords, statements):
    accounts.register_operator(session=db_session, passwords=passwords, name="A", email="a@example.com",
                               password="password-1")
    db_session.flush()
    statements.clear()
    accounts.authenticate(session=db_session, passwords=passwords, brake=BRAKE, now=NOW, email="a@example.com",
                          password="password-1")
    db_session.flush()
    assert [s.split()[0] for s in statements] == ["SELECT", "SELECT"]


def test_concurrent_failures_all_count(app):
    """The upsert is the whole race story: failures from many connections at once lose no count."""
    engine = app.extensions["database"].engine
    email, threads, each = f"race-{uuid.uuid4().hex[:8]}@example.com", 8, 5
    start = threading.Barrier(threads)
    errors = []

    def fail():
        try:
            with Session(engine) as session:
                start.wait()
                _fail(session, email, now=dt.datetime.now(dt.timezone.utc), times=each)
        except Exception as error:  # reported below; a thread's exception would otherwise vanish
            errors.append(error)

    workers = [threading.Thread(target=fail) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    try:
        assert errors == []
        with Session(engine) as session:
            assert session.scalar(select(LoginFailure.failures).where(LoginFailure.email == email)) == threads * each
    finally:
        with Session(engine) as session, session.begin():
            session.execute(delete(LoginFailure).where(LoginFailure.email == email))
