"""Invite mail over TLS verifies the server (issue 9 item 7): a real aiosmtpd server with a certificate from a
throw-away CA, reached through the real SmtpSender, for both SMTPS and STARTTLS."""
from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from devstack import free_port
from devstack.smtp_sink import Collector
from projects_service.services.mailer import SmtpSender


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue(subject_key, subject: str, issuer_key, issuer: str, *, ca: bool, names: list) -> x509.Certificate:
    now = dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(subject_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A private CA, a server certificate it signed for 127.0.0.1, and one for another host name."""
    folder = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _issue(ca_key, "Test CA", ca_key, "Test CA", ca=True, names=[])
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for name, san in (("right", x509.IPAddress(ipaddress.ip_address("127.0.0.1"))),
                      ("wrong", x509.DNSName("mail.example.org"))):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _issue(key, name, ca_key, "Test CA", ca=False, names=[san])
        (folder / f"{name}.pem").write_bytes(
            cert.public_bytes(serialization.Encoding.PEM)
            + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()))
    return folder


def _server_context(pki, which: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki / f"{which}.pem")
    return context


@pytest.fixture(params=["smtps", "starttls"])
def tls_server(request, pki):
    """Start a TLS mail server; yields ``start(cert) -> (smtp_url, collector)``."""
    started = []

    def start(which: str):
        collector, port = Collector(), free_port()
        context = _server_context(pki, which)
        if request.param == "smtps":
            controller = Controller(collector, hostname="127.0.0.1", port=port, ssl_context=context)
            url = f"smtps://127.0.0.1:{port}"
        else:
            controller = Controller(collector, hostname="127.0.0.1", port=port, tls_context=context,
                                    require_starttls=True)
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
