"""Benchmarks through the nginx gateway with wrk (``make bench``).

Starts a stack like the end-to-end tests' (real PostgreSQL, gunicorn, nginx) but
with production settings — argon2's real cost, the default worker counts — and
the login throttle lifted so the load generator measures the service, not the
brake. Seeds data straight into the databases, runs each scenario with wrk, and
writes the figures to bench/results.md. Every request loop is bounded in time.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import statistics
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from devstack import free_port
from devstack.client import Gateway
from devstack.postgres import Cluster
from devstack.stack import Stack

HERE = Path(__file__).resolve().parent


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)
        return shutil.which("wrk")
    raise SystemExit("wrk is not installed: sudo apt-get install wrk")


def wrk(url: str, *, seconds: int, connections: int, headers: dict | None = None, script: Path | None = None,
        env: dict | None = None) -> dict:
    command = [ensure_wrk(), "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", str(script)]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True,
                            env={**os.environ, **(env or {})}).stdout
    return parse_wrk(output)


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(output: str) -> dict:
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.M))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
            "p50_ms": _ms(latency["50"]), "p99_ms": _ms(latency["99"]),
            "requests": int(re.search(r"(\d+) requests in", output).group(1)),
            "non_2xx": int(non_2xx.group(1)) if non_2xx else 0, "socket_errors": errors.group(1) if errors else ""}


def timed(call, repeat: int) -> dict:
    """Latency of ``repeat`` sequential calls (each must succeed): p50, p95, max in ms."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(samples, n=100)
    return {"n": repeat, "p50_ms": round(cuts[49], 1), "p95_ms": round(cuts[94], 1), "max_ms": round(max(samples), 1)}


def invite_scenarios(stack: Stack, gw: Gateway, operator) -> dict:
    """Bulk invite of 500 fresh emails (p95), listing 10,000 invites (p95), and the worker's send rate."""
    project = gw.post("/v1/projects", token=operator.token, json={"name": "Invites", "status": "live"}).json()
    batches = []

    def bulk():
        emails = [f"guest-{uuid.uuid4().hex[:12]}@example.com" for _ in range(500)]
        response = gw.post(f"/v1/projects/{project['id']}/invites/bulk", token=operator.token, json={"emails": emails})
        assert response.status_code == 202 and response.json()["queued"] == 500, response.text
        batches.append(emails)

    results = {"POST /v1/projects/:id/invites/bulk (500 fresh emails)": timed(bulk, 20)}
    engine = create_engine(stack.cluster.url(stack.db_prefix + "projects"))

    def outbox_emails():
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM outbox WHERE kind = 'email.invite'")).scalar()

    # The worker starts sending during the bulk calls: the rate is measured from here, on what is left.
    sent_before = len(stack.mail.messages)
    started, pending = time.perf_counter(), outbox_emails()
    while outbox_emails() and time.perf_counter() - started < 300:
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    sent = len(stack.mail.messages) - sent_before
    queued = 500 * len(batches)
    results["invite worker: messages into the SMTP sink"] = {
        "messages": sent, "seconds": round(elapsed, 1), "per_second": round(sent / elapsed, 1),
        "left_in_outbox": outbox_emails(), "queued": queued, "delivered": len(stack.mail.messages)}
    # 10,000 invites, seeded directly (the listing is under test here, not the seeding)
    listed = gw.post("/v1/projects", token=operator.token, json={"name": "Big list", "status": "live"}).json()
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO invites (id, project_id, email, token_hash, created_at, expires_at) "
            "SELECT gen_random_uuid(), :p, 'big-' || g || '@example.com', md5(random()::text) || md5(random()::text), "
            "now() - g * interval '1 second', now() + interval '14 days' - (g % 3) * interval '14 days' "
            "FROM generate_series(1, 10000) g"), {"p": listed["id"]})
        connection.execute(text("ANALYZE invites"))
    engine.dispose()

    def list_invites():
        response = gw.get(f"/v1/projects/{listed['id']}/invites", token=operator.token)
        assert response.status_code == 200 and len(response.json()) == 10000

    results["GET /v1/projects/:id/invites (10,000 invites)"] = timed(list_invites, 20)
    return results


def seed_projects(stack: Stack, operator_id: str, projects: int, photographers: int) -> None:
    """``projects`` projects with 2 photographers, 20 members and 30 photos each; a roster of ``photographers``."""
    engine = create_engine(stack.cluster.url(stack.db_prefix + "projects"))
    roster = [{"id": str(uuid.uuid4()), "operator_id": operator_id, "name": f"Photographer {i}",
               "email": f"bench-ph-{i}-{operator_id[:8]}@example.com"} for i in range(photographers)]
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO photographers (id, operator_id, name, email) "
                                "VALUES (:id, :operator_id, :name, :email)"), roster)
        rows = [{"id": str(uuid.uuid4()), "operator_id": operator_id, "name": f"Event {i}"} for i in range(projects)]
        connection.execute(text("INSERT INTO projects (id, operator_id, name, type, status) "
                                "VALUES (:id, :operator_id, :name, 'private', 'live')"), rows)
        connection.execute(text(
            "INSERT INTO project_photographers (project_id, photographer_id) "
            "SELECT p.id, r.id FROM projects p CROSS JOIN LATERAL (SELECT id FROM photographers "
            "WHERE operator_id = p.operator_id ORDER BY random() LIMIT 2) r WHERE p.operator_id = :o"),
            {"o": operator_id})
        connection.execute(text(
            "INSERT INTO members (project_id, participant_id, email) SELECT p.id, gen_random_uuid(), 'm@example.com' "
            "FROM projects p CROSS JOIN generate_series(1, 20) WHERE p.operator_id = :o"), {"o": operator_id})
        connection.execute(text(
            "INSERT INTO photos (id, project_id, photographer_id, object_key, filename, content_type, size_bytes, status) "
            "SELECT gen_random_uuid(), p.id, pp.photographer_id, p.id || '/' || g, 'a.jpg', 'image/jpeg', 1, 'ready' "
            "FROM projects p JOIN LATERAL (SELECT photographer_id FROM project_photographers WHERE project_id = p.id "
            "LIMIT 1) pp ON true CROSS JOIN generate_series(1, 30) g WHERE p.operator_id = :o"), {"o": operator_id})
        connection.execute(text("ANALYZE"))
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", nargs="*", help="scenario names to run")
    args = parser.parse_args()
    ensure_wrk()
    import commerce  # here, not at the top: commerce.py imports this script's helpers

    base = Path(tempfile.mkdtemp(prefix="backoffice-bench-"))
    base.chmod(0o755)
    cluster = Cluster(base / "pg", port=free_port())
    postgres = cluster.start(log_file=base / "postgres.log")
    stack = Stack(base / "stack", cluster, db_prefix="bench_",
                  gateway_vars={"AUTH_RATE_LIMIT": "100000r/s", "AUTH_RATE_BURST": "100000"})
    try:
        stack.start()
        gw = Gateway(stack.gateway_url)
        operator = gw.register_operator(name="Bench Studio", password="bench-password-1")
        photographer = gw.register_photographer(operator)
        seed_projects(stack, operator.id, projects=1000, photographers=200)
        commerce.seed_catalog(stack, operator.id)
        bearer = {"Authorization": f"Bearer {operator.token}"}
        login_env = {"BENCH_EMAIL": operator.email, "BENCH_PASSWORD": operator.password}
        scenarios = {
            "gateway hello-world (GET /healthz, answered by nginx)": dict(path="/healthz"),
            "POST /v1/auth/login (argon2id 19 MiB, t=2)": dict(path="/v1/auth/login", script=HERE / "lua/login.lua",
                                                               env=login_env),
            "GET /v1/operators/me": dict(path="/v1/operators/me", headers=bearer),
            "GET /v1/projects (1,000 projects)": dict(path="/v1/projects", headers=bearer),
            "GET /v1/photographers (200 photographers)": dict(path="/v1/photographers", headers=bearer),
            **{name: dict(path=path, headers=bearer) for name, path in commerce.LIST_SCENARIOS.items()},
        }
        assert len(gw.get("/v1/projects", token=operator.token).json()) == 1000
        assert len(gw.get("/v1/photographers", token=operator.token).json()) == 201
        results = {}
        for name, spec in scenarios.items():
            if args.only and not any(word in name for word in args.only):
                continue
            results[name] = wrk(stack.gateway_url + spec["path"], seconds=args.seconds,
                                connections=args.connections, headers=spec.get("headers"),
                                script=spec.get("script"), env=spec.get("env"))
            print(f"{name}: {json.dumps(results[name])}", flush=True)
        timed_results = {} if args.only else {**invite_scenarios(stack, gw, operator),
                                              **commerce.commerce_scenarios(stack, gw, operator)}
        for name, figures in timed_results.items():
            print(f"{name}: {json.dumps(figures)}", flush=True)
        write_results(results, timed_results, args)
        del photographer
    finally:
        stack.stop()
        postgres.send_signal(signal.SIGINT)
        postgres.wait(30)
        shutil.rmtree(base, ignore_errors=True)
    return 0


def write_results(results: dict, timed_results: dict, args) -> None:
    lines = [f"Run {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores: wrk -t2 "
             f"-c{args.connections} -d{args.seconds}s through the gateway; every service under gunicorn "
             "(2 workers × 4 threads), PostgreSQL on the same machine.", "",
             "| scenario | req/s | p50 ms | p99 ms | non-2xx |", "|---|---:|---:|---:|---:|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['non_2xx']} |")
    if timed_results:
        lines += ["", "Sequential calls from one client (Python, through the gateway):", "",
                  "| scenario | figures |", "|---|---|"]
        lines += [f"| {name} | {', '.join(f'{k}={v}' for k, v in figures.items())} |"
                  for name, figures in timed_results.items()]
    (HERE / "results.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
