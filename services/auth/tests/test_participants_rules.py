from auth_service.participants import rules as participants
from services.auth.tests.factories import make_participant


def test_participant_signup_is_idempotent(db_session):
    first, created = participants.ensure_participant(session=db_session, email="g@example.com", name="G")
    again, created_again = participants.ensure_participant(session=db_session, email="g@example.com", name="Other")
    assert created is True and created_again is False
    assert again.id == first.id and again.name == "G"


def test_lookup_says_which_emails_are_participants(db_session):
    make_participant(db_session, email="g@example.com")
    assert participants.lookup(session=db_session, emails=["g@example.com", "h@example.com"]).registered == [
        "g@example.com"
    ]
    assert participants.lookup(session=db_session, emails=[]).registered == []
