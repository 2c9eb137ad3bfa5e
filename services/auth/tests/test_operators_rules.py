import pytest

from auth_service.operators import rules as profiles
from backoffice_common.errors import NotFound
from services.auth.tests.factories import make_operator, make_photographer


def test_update_operator_profile(db_session):
    account = make_operator(db_session)
    updated = profiles.update_operator(
        session=db_session,
        operator_id=account.id,
        changes={"name": "B", "locale": "pt_br", "currency": "BRL"},
        has_purchases=lambda operator_id: False,
    )
    assert (updated.name, updated.profile.locale, updated.profile.currency) == ("B", "pt-BR", "BRL")


def test_photographer_has_no_operator_profile(db_session):
    operator = make_operator(db_session)
    photographer = make_photographer(db_session, operator)
    with pytest.raises(NotFound):
        profiles.get_operator(session=db_session, operator_id=photographer.id)


@pytest.mark.parametrize(
    "tag, canonical",
    [("en", "en"), ("fr-CA", "fr-CA"), ("fr_ca", "fr-CA"), ("zh-Hant-TW", "zh-Hant-TW"), ("xx-YY", None), ("", None)],
)
def test_parse_locale(tag, canonical):
    assert profiles.parse_locale(tag) == canonical


def test_currencies_and_countries_are_real_codes():
    assert {"EUR", "USD", "CHF", "JPY"} <= profiles.CURRENCIES and "XYZ" not in profiles.CURRENCIES
    assert {"FR", "US", "DE"} <= profiles.COUNTRIES and not {"ZZ", "EU", "UN"} & profiles.COUNTRIES
