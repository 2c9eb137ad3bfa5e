"""The whole back office as real processes on loopback, for the end-to-end tests and the benchmarks.

The services start through their own ``boot.sh`` (migrate, then gunicorn) and
the gateway through the real nginx templates — exactly what ``make run`` and
Docker run; only ports and a few test-friendly settings differ.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from auth_service.keys import ensure_signing_key
from devstack import REPO_ROOT, SERVICES, WORKERS, free_port
from devstack.faults import TcpProxy
from devstack.gateway import nginx_command, render
from devstack.postgres import Cluster
from devstack.smtp_sink import SmtpSink

# Test values: localstripe takes any sk_test_ key; webhook tests sign their payloads with this secret.
STRIPE_SECRET_KEY = "sk_test_e2e_backoffice"  # noqa: S105 - a test value (see above)
STRIPE_WEBHOOK_SECRET = "whsec_e2e_backoffice"  # noqa: S105 - a test value (see above)


@dataclass
class Ports:
    gateway: int = field(default_factory=free_port)
    gateway_status: int = field(default_factory=free_port)  # nginx's stub_status, never the public server
    auth: int = field(default_factory=free_port)
    projects: int = field(default_factory=free_port)
    commerce: int = field(default_factory=free_port)
    analytics: int = field(default_factory=free_port)
    webhooks: int = field(default_factory=free_port)
    s3: int = field(default_factory=free_port)  # what the services use: a proxy the tests can cut
    s3_backend: int = field(default_factory=free_port)  # moto itself
    smtp: int = field(default_factory=free_port)  # a proxy in front of the sink, which tests can cut
    smtp_backend: int = field(default_factory=free_port)
    stripe: int = field(default_factory=free_port)  # a proxy in front of localstripe, which tests can cut
    stripe_backend: int = field(default_factory=free_port)

    def of(self, service: str) -> int:
        return getattr(self, service)


@dataclass
class Stack:
    workdir: Path
    cluster: Cluster
    ports: Ports = field(default_factory=Ports)
    db_prefix: str = "e2e_"
    env: dict = field(default_factory=dict)  # extra environment for every service
    gateway_vars: dict = field(default_factory=dict)
    processes: dict = field(default_factory=dict)
    metrics_ports: dict = field(default_factory=dict)  # a worker's name → its Prometheus port (METRICS_PORT)

    def __post_init__(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "logs").mkdir(exist_ok=True)
        self.private_key, self.public_keys = ensure_signing_key(self.workdir / "keys")

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.gateway}"

    @property
    def gateway_status_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.gateway_status}/stub_status"

    def service_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports.of(service)}"

    def service_env(self, service: str) -> dict:
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "APP_ENV": "test",
            "PORT": str(self.ports.of(service)),
            "DATABASE_URL": self.cluster.url(self.db_prefix + service),
            "JWT_PUBLIC_KEYS_DIR": str(self.public_keys),
            "JWT_PRIVATE_KEY_FILE": str(self.private_key),
            "JWT_KEY_ID": self.private_key.stem,
            **{f"{name.upper()}_URL": self.service_url(name) for name in SERVICES},
            "S3_ENDPOINT_URL": f"http://127.0.0.1:{self.ports.s3}",
            "S3_BUCKET": "test-photos",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test-secret",
            "SMTP_URL": f"smtp://127.0.0.1:{self.ports.smtp}",
            "STRIPE_API_BASE": f"http://127.0.0.1:{self.ports.stripe}",
            "STRIPE_SECRET_KEY": STRIPE_SECRET_KEY,
            "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
            **self.env,
        }
        return env

    def start(self) -> Stack:
        """Start everything, or — when any part fails to come up — stop what did start, then raise."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> Stack:
        for service in SERVICES:
            self.cluster.ensure_database(self.db_prefix + service)
        self.start_s3()
        self.start_smtp()
        self.start_stripe()
        for service in SERVICES:
            self.start_service(service, wait=False)
        for service in SERVICES:
            self.wait_ready(service)
        for worker in WORKERS:
            self.start_worker(worker)
        self.start_gateway()
        return self

    def _spawn(self, name: str, command: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.workdir / "logs" / f"{name}.log", "ab")
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name] = process
        return process

    def start_s3(self) -> None:
        """moto in server mode: the S3 API on loopback, reached through boto3 like R2, behind a cuttable proxy."""
        self._spawn(
            "s3",
            [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(self.ports.s3_backend)],
        )
        self._wait_http(f"http://127.0.0.1:{self.ports.s3_backend}/moto-api/", "s3")
        self.s3_proxy = TcpProxy(self.ports.s3, self.ports.s3_backend).start()

    def start_smtp(self) -> None:
        """An in-process SMTP sink (aiosmtpd) behind a cuttable proxy; ``self.mail.messages`` is what arrived."""
        self.mail = SmtpSink(self.ports.smtp_backend).start()
        self.smtp_proxy = TcpProxy(self.ports.smtp, self.ports.smtp_backend).start()

    def start_stripe(self) -> None:
        """localstripe, the stateful Stripe fake, reached through the official library, behind a cuttable proxy."""
        self._spawn(
            "stripe",
            [
                sys.executable,
                "-m",
                "devstack.localstripe",
                "--port",
                str(self.ports.stripe_backend),
                "--state",
                str(self.workdir / "localstripe.pickle"),
            ],
        )
        self._wait_http(f"{self.stripe_backend_url}/v1/customers", "stripe", ok=(200, 401))
        self.stripe_proxy = TcpProxy(self.ports.stripe, self.ports.stripe_backend).start()

    @property
    def stripe_backend_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.stripe_backend}"

    @property
    def s3_backend_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.s3_backend}"

    def start_worker(self, worker: str, name: str | None = None) -> None:
        """Start a worker; ``name`` lets several copies of the same worker run side by side."""
        service, module = WORKERS[worker]
        port = self.metrics_ports[name or worker] = free_port()
        self._spawn(
            name or worker, [sys.executable, "-m", module], env={**self.service_env(service), "METRICS_PORT": str(port)}
        )

    def metrics_url(self, worker: str) -> str:
        """A running worker's Prometheus endpoint."""
        return f"http://127.0.0.1:{self.metrics_ports[worker]}/metrics"

    def start_service(self, service: str, wait: bool = True) -> None:
        self._spawn(service, [str(REPO_ROOT / "services" / service / "boot.sh")], env=self.service_env(service))
        if wait:
            self.wait_ready(service)

    def stop_service(self, service: str, sig: int = signal.SIGTERM) -> None:
        """Stop a process (a service, a worker, "s3", "gateway"); SIGKILL simulates a crash."""
        process = self.processes.pop(service, None)
        if process and process.poll() is None:
            os.killpg(process.pid, sig)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def start_gateway(self) -> None:
        conf = render(
            self.workdir / "gateway",
            {
                "GATEWAY_LISTEN": f"127.0.0.1:{self.ports.gateway}",
                "GATEWAY_STATUS_LISTEN": f"127.0.0.1:{self.ports.gateway_status}",
                "GATEWAY_RUN_DIR": str(self.workdir / "gateway"),
                "GATEWAY_WORKERS": "2",
                **{f"{name.upper()}_UPSTREAM": f"127.0.0.1:{self.ports.of(name)}" for name in SERVICES},
                **self.gateway_vars,
            },
        )
        self._spawn("gateway", nginx_command(conf))
        self._wait_http(f"{self.gateway_url}/healthz", "gateway")

    def start_extra_gateway(self, name: str, **variables: str) -> str:
        """Another gateway in front of the same services, with other settings (a test's own rate limits, trusted
        proxies…); stopped with the stack. Returns its URL."""
        port = free_port()
        folder = self.workdir / name
        conf = render(
            folder,
            {
                "GATEWAY_LISTEN": f"127.0.0.1:{port}",
                "GATEWAY_RUN_DIR": str(folder),
                "GATEWAY_WORKERS": "1",
                "GATEWAY_STATUS_LISTEN": f"127.0.0.1:{free_port()}",
                "GATEWAY_DOCS_DIR": str(self.workdir / "gateway" / "apidoc"),  # the main gateway's, already built
                **{f"{service.upper()}_UPSTREAM": f"127.0.0.1:{self.ports.of(service)}" for service in SERVICES},
                **variables,
            },
        )
        self._spawn(name, nginx_command(conf))
        url = f"http://127.0.0.1:{port}"
        self._wait_http(f"{url}/healthz", name)
        return url

    def wait_ready(self, service: str) -> None:
        self._wait_http(f"{self.service_url(service)}/readyz", service)

    def _wait_http(self, url: str, name: str, timeout: float = 60, ok: tuple[int, ...] = (200,)) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process = self.processes.get(name)
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.log_tail(name)}")
            try:
                if requests.get(url, timeout=1).status_code in ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{name} was not ready at {url}:\n{self.log_tail(name)}")

    def log_tail(self, name: str, lines: int = 40) -> str:
        """The end of a process's log, for an error message (the temp folder may be gone when it is read)."""
        path = self.workdir / "logs" / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        for name in list(self.processes):
            self.stop_service(name)
        for part in ("s3_proxy", "smtp_proxy", "stripe_proxy", "mail"):  # each once: stop() may run twice
            if getattr(self, part, None):
                getattr(self, part).stop()
                setattr(self, part, None)
