import datetime as dt

import pytest
from sqlalchemy import func, select

from auth_service.models import Account, OperatorProfile
from auth_service.services import accounts, participants, profiles
from auth_service.services.login_brake import LoginBrake
from auth_service.services.passwords import Passwords
from backoffice_common.errors import Conflict, NotFound, Unauthorized

BRAKE = LoginBrake(max_failures=5, window=dt.timedelta(minutes=15))
NOW = dt.datetime(2026, 5, 1, 12, tzinfo=dt.timezone.utc)


def test_register_operator_creates_account_and_profile(db_session, passwords):
    account = accounts.register_operator(session=db_session, passwords=passwords, name="Lumen",
                                         email="op@example.com", password="password-1", timezone="Asia/Tokyo")
    assert account.role == "operator" and account.operator_id == account.id
    profile = db_session.get(OperatorProfile, account.id)
    assert (profile.timezone, profile.currency, profile.locale) == ("Asia/Tokyo", "EUR", "en")


def test_email_is_unique_across_roles(db_session, passwords):
    operator = accounts.register_operator(session=db_session, passwords=passwords, name="A", email="a@example.com",
                                          password="password-1")
    db_session.add(Account(operator_id=operator.id, role="photographer", name="P", email="p@example.com",
                           password_hash="x"))
    db_session.flush()
    with pytest.raises(Conflict):
        accounts.register_operator(session=db_session, passwords=passwords, name="B", email="p@example.com",
                                   password="password-1")
    assert db_session.scalar(select(func.count()).select_from(Account)) == 2


@pytest.fixture
def unit_of_work(app, db_session):
    return app.extensions["database"].unit_of_work


def test_log_in(db_session, passwords, unit_of_work):
    accounts.register_operator(session=db_session, passwords=passwords, name="A", email="a@example.com",
                               password="password-1")
    assert accounts.log_in(unit_of_work=unit_of_work, passwords=passwords, brake=BRAKE, now=NOW,
                           email="a@example.com", password="password-1").email == "a@example.com"
    for email, password in (("a@example.com", "password-2"), ("b@example.com", "password-1")):
        with pytest.raises(Unauthorized) as failure:
            accounts.log_in(unit_of_work=unit_of_work, passwords=passwords, brake=BRAKE, now=NOW, email=email,
                            password=password)
        assert failure.value.message == accounts.LOGIN_FAILED


def test_login_upgrades_an_outdated_hash(db_session, unit_of_work):
    weak = Passwords(time_cost=1, memory_kib=1024, parallelism=1)
    strong = Passwords(time_cost=2, memory_kib=1024, parallelism=1)
    account = accounts.register_operator(session=db_session, passwords=weak, name="A", email="a@example.com",
                                         password="password-1")
    accounts.log_in(unit_of_work=unit_of_work, passwords=strong, brake=BRAKE, now=NOW, email="a@example.com",
                    password="password-1")
    assert "t=2" in account.password_hash


def test_update_operator_profile(db_session, passwords):
    account = accounts.register_operator(session=db_session, passwords=passwords, name="A", email="a@example.com",
                                         password="password-1")
    updated = profiles.update_operator(session=db_session, operator_id=account.id,
                                       changes={"name": "B", "locale": "pt_br", "currency": "BRL"},
                                       has_purchases=lambda operator_id: False)
    assert (updated.name, updated.profile.locale, updated.profile.currency) == ("B", "pt-BR", "BRL")


def test_photographer_has_no_operator_profile(db_session, passwords):
    operator = accounts.register_operator(session=db_session, passwords=passwords, name="A", email="a@example.com",
                                          password="password-1")
    photographer = Account(operator_id=operator.id, role="photographer", name="P", email="p@example.com",
                           password_hash="x")
    db_session.add(photographer)
    db_session.flush()
    with pytest.raises(NotFound):
        profiles.get_operator(session=db_session, operator_id=photographer.id)


@pytest.mark.parametrize("tag, canonical", [("en", "en"), ("fr-CA", "fr-CA"), ("fr_ca", "fr-CA"),
                                            ("zh-Hant-TW", "zh-Hant-TW"), ("xx-YY", None), ("", None)])
def test_parse_locale(tag, canonical):
    assert profiles.parse_locale(tag) == canonical


def test_currencies_and_countries_are_real_codes():
    assert {"EUR", "USD", "CHF", "JPY"} <= profiles.CURRENCIES and "XYZ" not in profiles.CURRENCIES
    assert {"FR", "US", "DE"} <= profiles.COUNTRIES and not {"ZZ", "EU", "UN"} & profiles.COUNTRIES


def test_participant_signup_is_idempotent(db_session):
    first, created = participants.ensure_participant(session=db_session, email="g@example.com", name="G")
    again, created_again = participants.ensure_participant(session=db_session, email="g@example.com", name="Other")
    assert created is True and created_again is False
    assert again.id == first.id and again.name == "G"
