"""`make run`: the whole back office on this machine, no Docker.

PostgreSQL (a cluster in .data/pg), the four services (migrate, then gunicorn),
the gateway on :3001 and the dev stand-ins (S3, Stripe, SMTP sink) — all under
honcho. Ctrl-C or SIGTERM stops everything; the data stays for the next run.
"""

from __future__ import annotations

import os
import secrets
import shlex
import signal
import subprocess
import sys
from pathlib import Path

from auth_service.keys import ensure_signing_key
from devstack import REPO_ROOT, SERVICES, WORKERS
from devstack.gateway import nginx_command, render
from devstack.postgres import Cluster

DATA = REPO_ROOT / ".data"
RUN = REPO_ROOT / ".run"
PORTS = {
    "gateway": 3001,
    "gateway_status": 3002,
    "auth": 5001,
    "projects": 5002,
    "commerce": 5003,
    "analytics": 5004,
    "webhooks": 5005,
    "postgres": 5433,
    "s3": 5010,
    "stripe": 5011,
    "smtp": 1025,
    # Each worker's own Prometheus registry (METRICS_PORT): its SMTP or Stripe outcomes.
    "projects-worker": 5007,
    "commerce-worker": 5008,
    "webhooks-worker": 5009,
}


def _persistent_secrets() -> dict[str, str]:
    """Dev secrets generated once and kept in .data/dev-secrets.env, so tokens survive a restart."""
    path = DATA / "dev-secrets.env"
    values = {}
    if path.exists():
        values = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    for name, make in {
        "INTERNAL_TOKEN_SECRET": lambda: secrets.token_urlsafe(48),
        "STRIPE_WEBHOOK_SECRET": lambda: "whsec_" + secrets.token_hex(24),
        "STRIPE_SECRET_KEY": lambda: "sk_test_" + secrets.token_hex(24),
        "AWS_ACCESS_KEY_ID": lambda: "dev",
        "AWS_SECRET_ACCESS_KEY": lambda: "dev-secret",
    }.items():
        values.setdefault(name, make())
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    path.chmod(0o600)
    return values


def environment() -> tuple[dict[str, str], dict[str, str]]:
    """(environment for every process, stand-ins to start: name → command)."""
    env = {**_persistent_secrets(), **{k: v for k, v in os.environ.items()}}
    private_key, public_keys = ensure_signing_key(DATA / "keys")
    env.update(
        {
            "APP_ENV": env.get("APP_ENV", "dev"),
            "JWT_PUBLIC_KEYS_DIR": env.get("JWT_PUBLIC_KEYS_DIR", str(public_keys)),
            "JWT_PRIVATE_KEY_FILE": env.get("JWT_PRIVATE_KEY_FILE", str(private_key)),
            "JWT_KEY_ID": env.get("JWT_KEY_ID", private_key.stem),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",
        }
    )
    for service in SERVICES:
        env.setdefault(f"{service.upper()}_URL", f"http://127.0.0.1:{PORTS[service]}")
    standins = {}
    if "S3_ENDPOINT_URL" not in os.environ:
        env["S3_ENDPOINT_URL"] = f"http://127.0.0.1:{PORTS['s3']}"
        standins["s3"] = f"moto_server -H 127.0.0.1 -p {PORTS['s3']}"
    env.setdefault("S3_BUCKET", "backoffice-photos")
    if "STRIPE_API_BASE" not in os.environ:
        env["STRIPE_API_BASE"] = f"http://127.0.0.1:{PORTS['stripe']}"
        standins["stripe"] = (
            f"python -m devstack.localstripe --port {PORTS['stripe']} "
            f"--state {shlex.quote(str(DATA / 'localstripe.pickle'))}"
        )
    if "SMTP_URL" not in os.environ:
        env["SMTP_URL"] = f"smtp://127.0.0.1:{PORTS['smtp']}"
        standins["smtp"] = f"devstack smtp-sink --port {PORTS['smtp']} --dir {shlex.quote(str(DATA / 'mail'))}"
    return env, standins


def procfile(cluster: Cluster, standins: dict[str, str]) -> str:
    gateway_dir = RUN / "gateway"
    conf = render(
        gateway_dir,
        {
            "GATEWAY_LISTEN": os.environ.get("GATEWAY_LISTEN", str(PORTS["gateway"])),
            "GATEWAY_STATUS_LISTEN": os.environ.get("GATEWAY_STATUS_LISTEN", f"127.0.0.1:{PORTS['gateway_status']}"),
            "GATEWAY_RUN_DIR": str(gateway_dir),
            "GATEWAY_ACCESS_LOG": "/dev/stdout json_access",
            **{f"{name.upper()}_UPSTREAM": f"127.0.0.1:{PORTS[name]}" for name in SERVICES},
        },
    )
    lines = [
        f"{name}: env PORT={PORTS[name]} DATABASE_URL={cluster.url(name)} "
        f"{shlex.quote(str(REPO_ROOT / 'services' / name / 'boot.sh'))}"
        for name in SERVICES
    ]
    lines += [
        f"{worker}: env DATABASE_URL={cluster.url(service)} METRICS_PORT={PORTS[worker]} python -m {module}"
        for worker, (service, module) in WORKERS.items()
    ]
    lines.append("gateway: " + shlex.join(nginx_command(conf)))
    lines += [f"{name}: {command}" for name, command in standins.items()]
    return "\n".join(lines) + "\n"


def main() -> int:
    DATA.mkdir(exist_ok=True)
    RUN.mkdir(exist_ok=True)
    env, standins = environment()
    cluster = Cluster(DATA / "pg", port=int(os.environ.get("POSTGRES_PORT", PORTS["postgres"])))
    print(f"devstack: PostgreSQL on 127.0.0.1:{cluster.port} (data in {cluster.data_dir})", flush=True)
    postgres = cluster.start(log_file=DATA / "postgres.log")
    try:
        for service in SERVICES:
            cluster.ensure_database(service)
        (RUN / "Procfile").write_text(procfile(cluster, standins))
        print(f"devstack: gateway on http://localhost:{PORTS['gateway']} — Ctrl-C stops everything", flush=True)
        honcho = subprocess.Popen(
            [sys.executable, "-m", "honcho", "-f", str(RUN / "Procfile"), "-d", str(REPO_ROOT), "start"], env=env
        )
        signal.signal(signal.SIGTERM, lambda *_: honcho.send_signal(signal.SIGTERM))
        while True:
            try:
                return honcho.wait()
            except KeyboardInterrupt:
                continue  # honcho got the same Ctrl-C and is stopping its processes
    finally:
        postgres.send_signal(signal.SIGINT)  # "fast" shutdown: roll back open transactions, flush, exit
        postgres.wait(30)
