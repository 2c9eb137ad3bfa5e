"""One delivery attempt over HTTP, safe to point at any URL an operator typed (design §12, no SSRF):

- the host is resolved and every address vetted (endpoints/urls.py) at send time, and the connection goes to the
  vetted address itself — the name is not resolved a second time, so DNS can't switch it in between; for https the
  certificate is still checked against the host name (SNI and Host stay the name, Host without the scheme's
  default port);
- the path and query go percent-encoded (a non-ASCII character as UTF-8, RFC 3986);
- redirects are not followed (a 3xx is just not a 2xx), and at most ``MAX_BODY`` bytes of an answer are read;
- connecting takes at most the connect timeout, and the whole attempt at most the total timeout: a watchdog shuts
  the socket at the deadline, so a receiver trickling its answer byte by byte can't hold a thread longer.
"""

from __future__ import annotations

import heapq
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass

from webhooks_service.endpoints.urls import Resolver, UnsafeUrlError, parse_url, resolve, vetted_address

MAX_BODY = 4096
USER_AGENT = "Backoffice-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Deadlines:
    """One thread that shuts sockets whose attempt ran out of time (shutdown wakes a blocked recv at once)."""

    def __init__(self):
        self._heap: list[tuple[float, int, socket.socket]] = []
        self._live: set[int] = set()
        self._lock = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="webhook-deadlines", daemon=True)
        self._thread.start()

    def watch(self, sock: socket.socket, at: float) -> None:
        with self._lock:
            self._live.add(id(sock))
            heapq.heappush(self._heap, (at, id(sock), sock))
            self._lock.notify()

    def forget(self, sock: socket.socket) -> None:
        with self._lock:
            self._live.discard(id(sock))

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._heap:
                    self._lock.wait()
                at, key, sock = self._heap[0]
                now = time.monotonic()
                if at > now and key in self._live:
                    self._lock.wait(at - now)
                    continue
                heapq.heappop(self._heap)
                expired = key in self._live
                self._live.discard(key)
            if expired:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed: the attempt ended on its own


_DEADLINES: Deadlines | None = None
_DEADLINES_LOCK = threading.Lock()


def _deadlines() -> Deadlines:
    global _DEADLINES
    with _DEADLINES_LOCK:
        if _DEADLINES is None:
            _DEADLINES = Deadlines()
        return _DEADLINES


class Sender:
    def __init__(
        self,
        *,
        public_only: bool,
        connect_timeout_s: float = 3.0,
        timeout_s: float = 10.0,
        resolver: Resolver = resolve,
        tls: ssl.SSLContext | None = None,
    ):
        self.public_only = public_only
        self.connect_timeout_s = connect_timeout_s
        self.timeout_s = timeout_s
        self.resolver = resolver
        self.tls = tls or ssl.create_default_context()

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        """POST ``body`` to ``url``: the status code, or the reason there is none. Never raises."""
        started = time.monotonic()

        def outcome(status_code: int | None, error: str | None = None) -> Outcome:
            return Outcome(status_code, error and error[:500], int((time.monotonic() - started) * 1000))

        try:
            target = parse_url(url, https_only=self.public_only)
            address = vetted_address(target, public_only=self.public_only, resolver=self.resolver)
        except UnsafeUrlError as exc:
            return outcome(None, f"refused: {exc}")
        deadline = started + self.timeout_s
        try:
            sock = socket.create_connection((str(address), target.port), timeout=self.connect_timeout_s)
        except TimeoutError:
            return outcome(None, "timeout: no connection within the connect timeout")
        except OSError as exc:
            return outcome(None, f"connection failed: {exc.strerror or exc}")
        deadlines = _deadlines()
        deadlines.watch(sock, deadline)
        try:
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            if target.scheme == "https":
                raw, sock = sock, self.tls.wrap_socket(sock, server_hostname=target.host, do_handshake_on_connect=False)
                deadlines.forget(raw)  # the raw socket is the TLS one's now: the deadline watches that
                deadlines.watch(sock, deadline)
                sock.do_handshake()  # the certificate is checked against the host name, not the address
            connection = http.client.HTTPConnection(target.host, target.port)
            connection.sock = sock  # already connected, to the vetted address: http.client won't resolve again
            connection.request(
                "POST",
                target.path,
                body=body,
                headers={"Host": target.host_header, "User-Agent": USER_AGENT, "Connection": "close", **headers},
            )
            response = connection.getresponse()
            response.read(MAX_BODY)  # a little of the answer, never more: the status is what counts
            if time.monotonic() >= deadline:  # the watchdog cut it short: what was read is not an answer
                return outcome(None, f"timeout: no answer within {self.timeout_s:g} s")
            return outcome(response.status)
        except ssl.SSLError as exc:
            return outcome(None, f"tls: {exc.reason or exc}")
        except TimeoutError:
            return outcome(None, f"timeout: no answer within {self.timeout_s:g} s")
        except (OSError, http.client.HTTPException, ValueError) as exc:  # ValueError: one never expected, say
            if time.monotonic() >= deadline:
                return outcome(None, f"timeout: no answer within {self.timeout_s:g} s")
            return outcome(None, f"{type(exc).__name__}: {exc}")
        finally:
            deadlines.forget(sock)
            try:
                sock.close()
            except OSError:
                pass
