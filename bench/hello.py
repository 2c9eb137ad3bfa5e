"""The hello baseline of ``make bench``: ``hello_app.py`` under gunicorn, behind an nginx of its own.

The gunicorn settings are the services' (``hello_gunicorn.conf.py`` imports ``backoffice_common.gunicorn_conf``
like every service's ``gunicorn.conf.py``). The nginx is the gateway itself: the real templates rendered by
devstack with every upstream pointing at the hello app and the stack gateway's worker count, so the request goes
through the same ``location``, HTTP/1.1 upstream keepalive and proxy settings as ``GET /v1/operators/me`` does on
the real gateway. Both run on free loopback ports and are stopped by ``stop()``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from devstack import SERVICES, free_port
from devstack.gateway import nginx_command, render

HERE = Path(__file__).resolve().parent
PATH = "/v1/operators/me"  # routed by the gateway config like the real one, answered by the hello app


class HelloBaseline:
    def __init__(self, workdir: Path, gateway_workers: str = "2"):
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.app_port = free_port()
        self.gateway_port = free_port()
        self.gateway_workers = gateway_workers
        self.processes: dict[str, subprocess.Popen] = {}

    @classmethod
    def like(cls, stack, workdir: Path) -> HelloBaseline:
        """A baseline whose nginx runs as many workers as ``stack``'s gateway does (read from its rendered config)."""
        conf = (stack.workdir / "gateway" / "nginx.conf").read_text()
        workers = re.search(r"^worker_processes\s+(\S+);", conf, re.M).group(1)
        return cls(workdir, gateway_workers=workers)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}{PATH}"

    @property
    def app_url(self) -> str:
        return f"http://127.0.0.1:{self.app_port}/"

    def _spawn(self, name: str, command: list[str], env: dict | None = None) -> None:
        log = open(self.workdir / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=HERE
        )

    def _wait(self, url: str, name: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"hello {name} exited: {(self.workdir / f'{name}.log').read_text()[-2000:]}")
            try:
                if requests.get(url, timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"hello {name} not ready at {url}")

    def start(self) -> HelloBaseline:
        try:
            env = {
                **os.environ,
                "HOST": "127.0.0.1",
                "PORT": str(self.app_port),
                "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
            }
            self._spawn(
                "app",
                [
                    str(Path(sys.executable).parent / "gunicorn"),
                    "-c",
                    str(HERE / "hello_gunicorn.conf.py"),
                    "hello_app:app",
                ],
                env=env,
            )
            self._wait(self.app_url, "app")
            run_dir = self.workdir / "gateway"
            conf = render(
                run_dir,
                {
                    "GATEWAY_LISTEN": f"127.0.0.1:{self.gateway_port}",
                    "GATEWAY_STATUS_LISTEN": f"127.0.0.1:{free_port()}",
                    "GATEWAY_RUN_DIR": str(run_dir),
                    "GATEWAY_WORKERS": self.gateway_workers,
                    **{f"{name.upper()}_UPSTREAM": f"127.0.0.1:{self.app_port}" for name in SERVICES},
                },
            )
            self._spawn("gateway", nginx_command(conf))
            self._wait(self.url, "gateway")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for name in ("gateway", "app"):
            process = self.processes.pop(name, None)
            if process is None or process.poll() is not None:
                continue
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def worker_pids(self) -> list[int]:
        process = self.processes.get("app")
        return children(process.pid) if process else []


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (from /proc, so it works without psutil)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces or parentheses, so split after the last ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) / 1024 if match else None
