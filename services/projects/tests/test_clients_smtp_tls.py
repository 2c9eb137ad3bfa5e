"""Invite mail over TLS verifies the server (issue 9 item 7): a real aiosmtpd server with a certificate from a
throw-away CA, reached through the real SmtpSender, for both SMTPS and STARTTLS."""

from __future__ import annotations

import ssl
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from devstack import free_port
from devstack.pki import make_test_pki, server_context
from devstack.smtp_sink import Collector
from projects_service.clients.smtp import SmtpSender


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_test_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(params=["smtps", "starttls"])
def tls_server(request, pki):
    """Start a TLS mail server; yields ``start(cert) -> (smtp_url, collector)``."""
    started = []

    def start(which: str):
        collector, port = Collector(), free_port()
        context = server_context(pki / f"{which}.pem")
        if request.param == "smtps":
            controller = Controller(collector, hostname="127.0.0.1", port=port, ssl_context=context)
            url = f"smtps://127.0.0.1:{port}"
        else:
            controller = Controller(
                collector, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True
            )
            url = f"smtp://127.0.0.1:{port}?starttls"
        # The controller's own readiness probe speaks TLS without verifying; our sender must verify.
        controller.start()
        started.append(controller)
        return url, collector

    yield start
    for controller in started:
        controller.stop()


def _message() -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "studio@example.org", "guest@example.org", "Invite"
    message.set_content("Join us")
    return message


def test_a_server_whose_certificate_no_trusted_ca_signed_is_refused(tls_server, monkeypatch, tmp_path):
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-bundle.pem"))  # trust nothing but the system's
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    url, collector = tls_server("right")
    sender = SmtpSender(url, timeout=5)
    with pytest.raises(ssl.SSLCertVerificationError):
        sender.send(_message())
    assert collector.snapshot() == []


def test_a_certificate_for_another_host_name_is_refused_even_from_a_trusted_ca(tls_server, monkeypatch, pki):
    monkeypatch.setenv("SSL_CERT_FILE", str(pki / "ca.pem"))
    url, collector = tls_server("wrong")
    with pytest.raises(ssl.SSLCertVerificationError, match="match|mismatch"):
        SmtpSender(url, timeout=5).send(_message())
    assert collector.snapshot() == []


def test_a_server_with_a_certificate_from_a_trusted_ca_gets_the_mail(tls_server, monkeypatch, pki):
    monkeypatch.setenv("SSL_CERT_FILE", str(pki / "ca.pem"))  # how a deployment trusts a private CA
    url, collector = tls_server("right")
    sender = SmtpSender(url, timeout=5)
    sender.send(_message())
    sender.close()
    [received] = collector.snapshot()
    assert received["Subject"] == "Invite" and received["To"] == "guest@example.org"


@pytest.mark.parametrize("url", ["smtp://:25", "smtps:///"])
def test_an_smtp_url_without_a_host_is_refused_when_the_sender_is_made(url):
    with pytest.raises(ValueError, match="SMTP_URL names no host"):
        SmtpSender(url)
