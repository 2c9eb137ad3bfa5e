"""Issue 9 item 13 as a rule: an operator's currency is fixed once commerce holds a purchase of theirs (revenue
would add amounts in two currencies); other fields stay patchable, and commerce is asked only when the
currency would change."""

import pytest

from auth_service.accounts import rules as accounts
from auth_service.models import OperatorProfile
from auth_service.operators import rules as profiles
from backoffice_common.errors import Conflict, ServiceUnavailable


@pytest.fixture
def operator(db_session, passwords):
    return accounts.register_operator(
        session=db_session, passwords=passwords, name="A", email="a@example.com", password="password-1"
    )


class Commerce:
    """Commerce's answer as the rule sees it (a function of the operator id), and who asked."""

    def __init__(self, answer):
        self.answer, self.asked = answer, []

    def __call__(self, operator_id):
        self.asked.append(operator_id)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def _update(db_session, operator, commerce, **changes):
    return profiles.update_operator(
        session=db_session, operator_id=operator.id, changes=changes, has_purchases=commerce
    )


def test_a_new_currency_once_there_are_purchases_is_409_and_changes_nothing(db_session, operator):
    commerce = Commerce(True)
    with pytest.raises(Conflict) as refused:
        _update(db_session, operator, commerce, currency="USD", name="B")
    assert refused.value.message == profiles.CURRENCY_FIXED
    assert commerce.asked == [operator.id]
    db_session.expire_all()
    assert (operator.name, db_session.get(OperatorProfile, operator.id).currency) == ("A", "EUR")


def test_without_purchases_the_currency_changes(db_session, operator):
    commerce = Commerce(False)
    assert _update(db_session, operator, commerce, currency="USD").profile.currency == "USD"
    assert commerce.asked == [operator.id]


@pytest.mark.parametrize("changes", [{"currency": "EUR"}, {"name": "B", "locale": "fr"}, {}])
def test_the_same_currency_or_other_fields_do_not_ask_commerce(db_session, operator, changes):
    commerce = Commerce(ServiceUnavailable("commerce is down"))  # would fail the change if it were asked
    updated = _update(db_session, operator, commerce, **changes)
    assert updated.profile.currency == "EUR" and commerce.asked == []


def test_commerce_down_is_503_before_anything_changes(db_session, operator):
    with pytest.raises(ServiceUnavailable):
        _update(db_session, operator, Commerce(ServiceUnavailable("commerce is down")), currency="USD", name="B")
    db_session.expire_all()
    assert (operator.name, db_session.get(OperatorProfile, operator.id).currency) == ("A", "EUR")
