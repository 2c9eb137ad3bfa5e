"""A TCP proxy the tests can cut (outage) or turn into a black hole (a peer that hangs),
so a dependency can fail without losing its state."""

from __future__ import annotations

import socket
import threading


class TcpProxy:
    def __init__(self, listen_port: int, target_port: int, host: str = "127.0.0.1"):
        self.listen_port, self.target_port, self.host = listen_port, target_port, host
        self.mode = "forward"  # or "refuse" (connection refused) or "blackhole" (accept, never answer)
        self._server: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> TcpProxy:
        self.mode = "forward"
        self._listen()
        return self

    def _listen(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((self.host, self.listen_port))
        server.listen(128)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def refuse(self) -> None:
        """Stop listening and drop open connections: clients get 'connection refused'."""
        self.mode = "refuse"
        if self._server:
            try:
                self._server.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._server.close()
            self._server = None
        self._drop_connections()

    def blackhole(self) -> None:
        """Accept connections but never answer: clients hang until their own timeouts."""
        if self._server is None:
            self._listen()
        self._drop_connections()
        self.mode = "blackhole"

    def restore(self) -> None:
        if self._server is None:
            self._listen()
        self._drop_connections()
        self.mode = "forward"

    def stop(self) -> None:
        self.refuse()

    def _drop_connections(self) -> None:
        with self._lock:
            for connection in self._connections:
                try:  # shutdown first: close() alone would not wake a thread blocked in recv()
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                connection.close()
            self._connections.clear()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            with self._lock:
                self._connections.append(client)
            if self.mode == "blackhole":
                continue
            try:
                upstream = socket.create_connection((self.host, self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._connections.append(upstream)
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
