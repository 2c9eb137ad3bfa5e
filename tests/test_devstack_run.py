"""`make run`'s Procfile (tools/devstack run.py), checked without starting anything."""

import shlex

import pytest

from devstack import SERVICES, WORKERS
from devstack import run as devstack_run


class _Cluster:
    def url(self, name: str) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:5433/{name}"


@pytest.fixture
def procfile(monkeypatch, tmp_path):
    # No gateway to render here: its config and nginx command are the gateway tests' business.
    monkeypatch.setattr(devstack_run, "render", lambda out_dir, values: tmp_path / "nginx.conf")
    monkeypatch.setattr(devstack_run, "nginx_command", lambda conf: ["nginx", "-c", str(conf)])
    text = devstack_run.procfile(_Cluster(), {})
    return {name: shlex.split(command) for name, command in (line.split(": ", 1) for line in text.splitlines())}


def test_each_worker_serves_its_metrics_on_a_port_of_its_own(procfile):
    ports = {
        worker: int(next(word for word in procfile[worker] if word.startswith("METRICS_PORT=")).split("=", 1)[1])
        for worker in WORKERS
    }
    assert ports == {"projects-worker": 5007, "commerce-worker": 5008, "webhooks-worker": 5009}
    others = {port for name, port in devstack_run.PORTS.items() if name not in WORKERS}
    assert not set(ports.values()) & others
    for worker, (service, module) in WORKERS.items():
        assert procfile[worker][:2] == ["env", f"DATABASE_URL={_Cluster().url(service)}"]
        assert procfile[worker][-3:] == ["python", "-m", module]


def test_every_service_and_worker_and_the_gateway_have_a_line(procfile):
    assert set(procfile) == {*SERVICES, *WORKERS, "gateway"}
