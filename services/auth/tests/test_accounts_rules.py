import datetime as dt

import pytest
from sqlalchemy import func, select

from auth_service.accounts import rules as accounts
from auth_service.accounts.login_brake import LoginBrake
from auth_service.accounts.passwords import Passwords
from auth_service.models import Account, OperatorProfile
from backoffice_common.errors import Conflict, ServiceUnavailable, Unauthorized
from services.auth.tests.factories import make_operator, make_photographer

BRAKE = LoginBrake(max_failures=5, window=dt.timedelta(minutes=15))
NOW = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)


def test_register_operator_creates_account_and_profile(db_session, passwords):
    account = accounts.register_operator(
        session=db_session,
        passwords=passwords,
        name="Lumen",
        email="op@example.com",
        password="password-1",
        timezone="Asia/Tokyo",
    )
    assert account.role == "operator" and account.operator_id == account.id
    profile = db_session.get(OperatorProfile, account.id)
    assert (profile.timezone, profile.currency, profile.locale) == ("Asia/Tokyo", "EUR", "en")


def test_email_is_unique_across_roles(db_session, passwords):
    operator = accounts.register_operator(
        session=db_session, passwords=passwords, name="A", email="a@example.com", password="password-1"
    )
    make_photographer(db_session, operator, email="p@example.com")
    with pytest.raises(Conflict):
        accounts.register_operator(
            session=db_session, passwords=passwords, name="B", email="p@example.com", password="password-1"
        )
    assert db_session.scalar(select(func.count()).select_from(Account)) == 2


@pytest.fixture
def unit_of_work(app, db_session):
    return app.extensions["database"].unit_of_work


def test_log_in(db_session, passwords, unit_of_work):
    accounts.register_operator(
        session=db_session, passwords=passwords, name="A", email="a@example.com", password="password-1"
    )
    assert (
        accounts.log_in(
            unit_of_work=unit_of_work,
            passwords=passwords,
            brake=BRAKE,
            now=NOW,
            email="a@example.com",
            password="password-1",
        ).email
        == "a@example.com"
    )
    for email, password in (("a@example.com", "password-2"), ("b@example.com", "password-1")):
        with pytest.raises(Unauthorized) as failure:
            accounts.log_in(
                unit_of_work=unit_of_work, passwords=passwords, brake=BRAKE, now=NOW, email=email, password=password
            )
        assert failure.value.message == accounts.LOGIN_FAILED


def test_login_upgrades_an_outdated_hash(db_session, unit_of_work):
    weak = Passwords(time_cost=1, memory_kib=1024, parallelism=1)
    strong = Passwords(time_cost=2, memory_kib=1024, parallelism=1)
    account = accounts.register_operator(
        session=db_session, passwords=weak, name="A", email="a@example.com", password="password-1"
    )
    accounts.log_in(
        unit_of_work=unit_of_work, passwords=strong, brake=BRAKE, now=NOW, email="a@example.com", password="password-1"
    )
    assert "t=2" in account.password_hash


class Projects:
    """The projects service as register_photographer sees it: what it was asked, and its answer to a put."""

    def __init__(self, put_fails=False):
        self.put_fails, self.calls = put_fails, []

    def put_photographer(self, account):
        self.calls.append(("put", account.id))
        if self.put_fails:
            raise ServiceUnavailable("The projects service is unavailable.")

    def delete_photographer(self, photographer_id):
        self.calls.append(("delete", photographer_id))


def _register_photographer(unit_of_work, passwords, projects, operator, email="p@example.com"):
    with unit_of_work() as session:
        return accounts.register_photographer(
            session=session,
            passwords=passwords,
            projects=projects,
            operator_id=operator.id,
            name="P",
            email=email,
            password="password-1",
        )


def test_register_photographer_puts_the_roster_entry(db_session, passwords, unit_of_work):
    operator, projects = make_operator(db_session), Projects()
    photographer = _register_photographer(unit_of_work, passwords, projects, operator)
    assert projects.calls == [("put", photographer.id)]
    assert db_session.get(Account, photographer.id).role == "photographer"


def test_register_photographer_is_undone_in_projects_when_it_fails(db_session, passwords, unit_of_work):
    """Projects may have stored the entry and only its answer was lost: the rollback removes it again."""
    operator, projects = make_operator(db_session), Projects(put_fails=True)
    with pytest.raises(ServiceUnavailable):
        _register_photographer(unit_of_work, passwords, projects, operator)
    (_, photographer_id), undo = projects.calls
    assert undo == ("delete", photographer_id)
    assert db_session.scalar(select(func.count()).where(Account.email == "p@example.com")) == 0


def test_a_taken_email_asks_nothing_of_projects(db_session, passwords, unit_of_work):
    operator, projects = make_operator(db_session, email="a@example.com"), Projects()
    with pytest.raises(Conflict) as taken:
        _register_photographer(unit_of_work, passwords, projects, operator, email="a@example.com")
    assert taken.value.errors == {"json": {"email": [accounts.EMAIL_TAKEN]}}
    assert projects.calls == []
