"""Invite mail over TLS through the whole stack (issue 9 item 7): the projects worker delivers to an SMTPS relay
whose certificate a trusted CA signed, and delivers nothing — the invite stays queued, the error recorded — to one
it cannot verify."""

import uuid

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text

from devstack import free_port
from devstack.pki import make_test_pki, server_context
from devstack.smtp_sink import Collector


@pytest.fixture(scope="module")
def smtps_relay(tmp_path_factory):
    pki = make_test_pki(tmp_path_factory.mktemp("smtp-pki"))
    collector, port = Collector(), free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port, ssl_context=server_context(pki / "right.pem"))
    controller.start()
    yield pki, port, collector
    controller.stop()


@pytest.fixture
def worker_mailing_to(stack):
    """Restart the projects worker with the given extra environment; as it was afterwards."""
    changed = {}

    def restart(**env):
        stack.stop_service("projects-worker")
        changed.update(env)
        stack.env.update(env)
        stack.start_worker("projects-worker")

    yield restart
    stack.stop_service("projects-worker")
    for name in changed:
        stack.env.pop(name, None)
    stack.start_worker("projects-worker")


def _invite(gw, operator, project) -> str:
    email = f"tls-{uuid.uuid4().hex[:8]}@example.com"
    response = gw.post(f"/v1/projects/{project['id']}/invites/bulk", token=operator.token, json={"emails": [email]})
    assert response.status_code == 202 and response.json() == {"queued": 1, "skipped": 0}
    return email


def _outbox_row(databases, email):
    with databases["projects"].connect() as connection:
        return connection.execute(
            text("SELECT attempts, last_error FROM outbox WHERE kind = 'email.invite' AND payload->>'to' = :to"),
            {"to": email},
        ).first()


def test_a_relay_with_a_trusted_certificate_gets_the_invite(
    gw, databases, wait_for, operator, project, smtps_relay, worker_mailing_to
):
    pki, port, collector = smtps_relay
    worker_mailing_to(SMTP_URL=f"smtps://127.0.0.1:{port}", SSL_CERT_FILE=str(pki / "ca.pem"))
    email = _invite(gw, operator, project)
    assert wait_for(lambda: email in {message["To"] for message in collector.snapshot()}, timeout=20)
    assert wait_for(lambda: _outbox_row(databases, email) is None)


def test_a_relay_whose_certificate_cannot_be_verified_gets_nothing(
    gw, databases, wait_for, operator, project, smtps_relay, worker_mailing_to, tmp_path
):
    _, port, collector = smtps_relay
    worker_mailing_to(SMTP_URL=f"smtps://127.0.0.1:{port}", SSL_CERT_FILE=str(tmp_path / "trusts-nothing.pem"))
    email = _invite(gw, operator, project)
    assert wait_for(lambda: (_outbox_row(databases, email) or (0,))[0] >= 2, timeout=20)  # tried, and tried again
    attempts, last_error = _outbox_row(databases, email)
    assert "CERTIFICATE_VERIFY_FAILED" in last_error
    assert email not in {message["To"] for message in collector.snapshot()}
