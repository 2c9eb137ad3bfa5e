"""One attempt over real loopback HTTP: what the receiver gets (signed), and what it can't do to us — redirect us,
make us read a huge answer, or hold the thread past the timeout."""

import datetime as dt
import ipaddress
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from webhooks_service.deliveries.sender import Sender
from webhooks_service.deliveries.signing import signature, verify


class Receiver(BaseHTTPRequestHandler):
    behaviour = "ok"
    seen: list = []
    wrote_all = threading.Event()  # the answer went out in full
    ended = threading.Event()  # the handler is done, one way or the other

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802 — http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append((self.path, dict(self.headers), body))
        if self.behaviour == "redirect":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.behaviour == "huge":
            self.send_response(200)
            self.send_header("Content-Length", str(50 * 1024 * 1024))
            self.end_headers()
            try:
                for _ in range(50 * 1024):
                    self.wfile.write(b"x" * 1024)
                type(self).wrote_all.set()
            except OSError:
                pass
            finally:
                type(self).ended.set()
        elif self.behaviour == "trickle":
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            try:
                for _ in range(40):  # one header line every 0.2 s: each read is quick, the whole is not
                    time.sleep(0.2)
                    self.wfile.write(b"X-Slow: 1\r\n")
                    self.wfile.flush()
                self.wfile.write(b"Content-Length: 0\r\n\r\n")
                type(self).wrote_all.set()
            except OSError:
                pass
            finally:
                type(self).ended.set()
        else:
            self.send_response(204 if self.behaviour == "ok" else 500)
            self.send_header("Content-Length", "0")
            self.end_headers()


@pytest.fixture
def receiver():
    Receiver.seen = []
    Receiver.wrote_all.clear()
    Receiver.ended.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _url(server, path="/hook?x=1"):
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def test_a_signed_post_arrives_as_sent(receiver):
    Receiver.behaviour = "ok"
    body = b'{"id":"evt_1","type":"member.joined"}'
    headers = {"Content-Type": "application/json", "Backoffice-Signature": signature("whsec_s", body, 1700000000)}
    outcome = Sender(public_only=False).post(_url(receiver), body, headers)
    assert (outcome.status_code, outcome.error, outcome.succeeded) == (204, None, True)
    path, got, received = Receiver.seen[0]
    assert path == "/hook?x=1" and received == body
    assert got["Host"] == f"127.0.0.1:{receiver.server_address[1]}"
    assert verify("whsec_s", received, got["Backoffice-Signature"], now=1700000010)
    assert not verify("whsec_other", received, got["Backoffice-Signature"], now=1700000010)
    assert not verify("whsec_s", received + b" ", got["Backoffice-Signature"], now=1700000010)
    assert not verify("whsec_s", received, got["Backoffice-Signature"], now=1700000000 + 3600)  # a replay


def test_an_error_status_is_not_success(receiver):
    Receiver.behaviour = "error"
    outcome = Sender(public_only=False).post(_url(receiver), b"{}", {})
    assert (outcome.status_code, outcome.succeeded) == (500, False)


def test_redirects_are_not_followed(receiver):
    Receiver.behaviour = "redirect"
    outcome = Sender(public_only=False).post(_url(receiver), b"{}", {})
    assert (outcome.status_code, outcome.succeeded) == (302, False)
    assert len(Receiver.seen) == 1


def test_a_huge_answer_is_not_read(receiver):
    Receiver.behaviour = "huge"
    outcome = Sender(public_only=False).post(_url(receiver), b"{}", {})
    assert outcome.status_code == 200
    assert Receiver.ended.wait(30)
    assert not Receiver.wrote_all.is_set()  # 4 KB read, then closed: the 50 MB never went out


def test_a_trickling_receiver_times_out_at_the_total(receiver):
    Receiver.behaviour = "trickle"
    outcome = Sender(public_only=False, timeout_s=1.0).post(_url(receiver), b"{}", {})
    assert (outcome.status_code, outcome.error) == (None, "timeout: no answer within 1 s")
    assert not Receiver.wrote_all.is_set()  # cut off while the receiver was still answering (8 s in all)


def test_a_closed_port_is_an_error_not_an_exception():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outcome = Sender(public_only=False).post(f"http://127.0.0.1:{port}/", b"{}", {})
    assert outcome.status_code is None and outcome.error.startswith("connection failed")


def test_prod_refuses_internal_addresses_at_send_time(receiver):
    """The URL passed when it was saved; its name now resolves to loopback (DNS rebinding): nothing is sent."""
    Receiver.behaviour = "ok"
    rebound = Sender(public_only=True, resolver=lambda host, port: [ipaddress.ip_address("127.0.0.1")])
    outcome = rebound.post(f"https://hooks.example.com:{receiver.server_address[1]}/", b"{}", {})
    assert outcome.status_code is None and "loopback" in outcome.error
    assert Receiver.seen == []
    outcome = Sender(public_only=True).post(_url(receiver), b"{}", {})
    assert outcome.status_code is None and "https" in outcome.error
    assert Receiver.seen == []


def test_the_connection_goes_to_the_vetted_address(receiver):
    """The name is resolved once, by the vetting resolver; the socket connects to that address (a second lookup
    could answer differently)."""
    Receiver.behaviour = "ok"
    calls = []

    def resolver(host, port):
        calls.append(host)
        return [ipaddress.ip_address("127.0.0.1")]

    port = receiver.server_address[1]
    outcome = Sender(public_only=False, resolver=resolver).post(f"http://no-such-host.invalid:{port}/x", b"{}", {})
    assert outcome.status_code == 204 and calls == ["no-such-host.invalid"]
    assert Receiver.seen[0][1]["Host"] == f"no-such-host.invalid:{port}"


def test_a_non_ascii_path_goes_percent_encoded(receiver):
    Receiver.behaviour = "ok"
    outcome = Sender(public_only=False).post(_url(receiver, "/hü/ok%20?q=ü"), b"{}", {})
    assert (outcome.status_code, outcome.error) == (204, None)
    assert Receiver.seen[0][0] == "/h%C3%BC/ok%20?q=%C3%BC"


def _self_signed(tmp_path, name):
    """A certificate for ``name`` and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def test_the_host_header_leaves_out_the_default_port(receiver, tmp_path, monkeypatch):
    """``https://hooks.example/in`` (port 443): ``Host: hooks.example``, not ``hooks.example:443``; another port is
    named. The connection is steered to the loopback receiver (TLS, a certificate for hooks.example); the port in
    the URL is what the header is made from."""
    Receiver.behaviour = "ok"
    cert_file, key_file = _self_signed(tmp_path, "hooks.example")
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert_file, key_file)
    receiver.socket = server_side.wrap_socket(receiver.socket, server_side=True)
    client_side = ssl.create_default_context(cafile=str(cert_file))
    connect = socket.create_connection
    port = receiver.server_address[1]
    monkeypatch.setattr(socket, "create_connection", lambda address, **kwargs: connect((address[0], port), **kwargs))
    loopback = Sender(public_only=False, tls=client_side, resolver=lambda host, p: [ipaddress.ip_address("127.0.0.1")])
    assert loopback.post("https://hooks.example/in", b"{}", {}).status_code == 204
    assert loopback.post("https://hooks.example:8443/in", b"{}", {}).status_code == 204
    assert [seen[1]["Host"] for seen in Receiver.seen] == ["hooks.example", "hooks.example:8443"]


def test_a_hanging_lookup_is_a_failed_attempt_not_a_stuck_thread(hanging_lookup):
    outcome = Sender(public_only=True).post("https://black-hole.example/hook", b"{}", {})
    assert outcome.status_code is None and outcome.error == (
        "refused: The host black-hole.example did not resolve within 0.2 s."
    )
