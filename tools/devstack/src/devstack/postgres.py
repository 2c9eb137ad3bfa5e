"""A PostgreSQL cluster in a folder of our own, run as an unprivileged user.

PostgreSQL refuses to run as root; when we are root we run it as the
``postgres`` system user that Debian's package creates (or ``nobody``).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2


def _bindir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not candidates:
        raise SystemExit("PostgreSQL is not installed: run `make bootstrap` (as root it installs Debian's postgresql).")
    return Path(candidates[-1]).parent


def _run_as() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise SystemExit("Running as root but no unprivileged user (postgres/nobody) exists to run PostgreSQL.")


@dataclass
class Cluster:
    data_dir: Path
    port: int
    fast: bool = False  # tests: no fsync, the data is throwaway

    def __post_init__(self):
        self.data_dir = Path(self.data_dir).resolve()
        self.bindir = _bindir()
        self.user = _run_as()

    @property
    def socket_dir(self) -> Path:
        return self.data_dir / "sockets"

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{database}"

    def _cmd(self, *args: str) -> list[str]:
        if self.user is None:
            return list(args)
        return ["setpriv", f"--reuid={self.user.pw_uid}", f"--regid={self.user.pw_gid}", "--init-groups", "--", *args]

    def _chown(self, path: Path) -> None:
        if self.user is not None:
            os.chown(path, self.user.pw_uid, self.user.pw_gid)

    def init(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._chown(self.data_dir)
        os.chmod(self.data_dir, 0o700)
        subprocess.run(
            self._cmd(
                str(self.bindir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.socket_dir.mkdir(exist_ok=True)
        self._chown(self.socket_dir)

    def postgres_args(self) -> list[str]:
        args = [
            str(self.bindir / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-k",
            str(self.socket_dir),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "max_connections=300",
        ]
        if self.fast:
            args += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        return self._cmd(*args)

    def start(self, log_file: Path | None = None) -> subprocess.Popen:
        """Start in the background; returns once it accepts connections."""
        self.init()
        log = open(log_file, "ab") if log_file else subprocess.DEVNULL
        process = subprocess.Popen(self.postgres_args(), stdout=log, stderr=log, start_new_session=True)
        self.wait_ready(process)
        return process

    def wait_ready(self, process: subprocess.Popen | None = None, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg2.connect(
                    host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", connect_timeout=1
                ).close()
                return
            except psycopg2.OperationalError as error:
                if process is not None and process.poll() is not None:
                    raise RuntimeError(
                        f"PostgreSQL exited with {process.returncode} (data dir {self.data_dir})"
                    ) from error
                if time.monotonic() > deadline:
                    raise TimeoutError(f"PostgreSQL on port {self.port} did not become ready") from error
                time.sleep(0.1)

    def ensure_database(self, name: str) -> None:
        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()
