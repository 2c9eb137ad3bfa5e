"""Benchmarks through the nginx gateway (``make bench``): issue 8's goals, as ratios to a hello baseline.

Starts a stack like the end-to-end tests' (real PostgreSQL, gunicorn, nginx) with production settings — argon2's
real cost, the default worker counts — and the login throttle lifted, plus the hello baseline (``hello.py``): a
minimal Flask app under the services' gunicorn settings behind its own nginx rendered from the gateway templates.
Seeds two operators straight into the databases (``seed.py``: one at issue 8's size, one at a tenth of it), then:

1. wrk ``-t2 -c32`` through the gateway: hello (first), the list endpoints at size, login; analytics at ``-c8``;
   hello again (last). Every figure is given as a ratio to the mean of the two hello runs.
2. Sequential, unloaded ``GET /v1/analytics`` from one client for both operators (default, 5 projects,
   2 photographers): p50/p95 and the 1M/100k ratio; and ``GET /v1/analytics/timeseries`` (the last 30 days by
   day, and narrowed to 2 photographers): p50/p95 against 150 ms.
3. ``--with-extras``: the older sequential scenarios (bulk invites, the invite worker, commerce latencies).
4. VmRSS of every gunicorn worker of each service.

Prints a table, checks each goal, and (except ``--smoke``) prepends a dated section to bench/results.md.
Every request loop is bounded in time and count.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from devstack import SERVICES, WORKERS, free_port
from devstack.client import Gateway
from devstack.postgres import Cluster
from devstack.stack import Stack

HERE = Path(__file__).resolve().parent
# Accounts the login scenario logs in as, dealt to the wrk threads: more than its connections (-c32), so no two
# in-flight logins share one.
LOGIN_ACCOUNTS = 64
sys.path.insert(0, str(HERE))
# wrk and the login scenario would meet the gateway's login brake: lifted for the bench's own stack.
UNBRAKED_GATEWAY = {"AUTH_RATE_LIMIT": "100000r/s", "AUTH_RATE_BURST": "100000"}


@contextmanager
def bench_stack(prefix: str, *, env: dict | None = None, keep: bool = False) -> Iterator[tuple[Path, Cluster, Stack]]:
    """A PostgreSQL cluster in a temp folder and the whole stack on it (databases ``bench_*``), started; on the way
    out everything stopped and the folder removed (kept with ``keep``, every process's log in it)."""
    base = Path(tempfile.mkdtemp(prefix=prefix))
    base.chmod(0o755)
    cluster = Cluster(base / "pg", port=free_port())
    postgres = cluster.start(log_file=base / "postgres.log")
    stack = Stack(base / "stack", cluster, db_prefix="bench_", env=env or {}, gateway_vars=UNBRAKED_GATEWAY)
    try:
        stack.start()
        yield base, cluster, stack
    finally:
        stack.stop()
        postgres.send_signal(signal.SIGINT)
        postgres.wait(30)
        if keep:
            print(f"kept {base} (every process's log below it)")
        else:
            shutil.rmtree(base, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------- wrk


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)
        return shutil.which("wrk")
    raise SystemExit("wrk is not installed: sudo apt-get install wrk")


def wrk(
    url: str,
    *,
    seconds: int,
    connections: int,
    headers: dict | None = None,
    script: Path | None = None,
    env: dict | None = None,
) -> dict:
    assert url.startswith("http://127.0.0.1:"), url  # loopback only
    threads = min(2, connections)
    command = [ensure_wrk(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", str(script)]
    output = subprocess.run(
        command + [url],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "WRK_THREADS": str(threads), **(env or {})},
    ).stdout
    return parse_wrk(output)


# ---------------------------------------------------------------------------------------------------- CPU

_TICK = os.sysconf("SC_CLK_TCK")
_SERVICE = re.compile(r"\b(auth|projects|commerce|analytics|webhooks)_service\b")


def _process_group(cmdline: str) -> str | None:
    """Which part of the stack a process is, for the CPU table (None: not ours to count)."""
    if "nginx" in cmdline:
        return "nginx"
    if "postgres" in cmdline:
        return "postgres"
    if "hello_app" in cmdline:
        return "hello"
    found = _SERVICE.search(cmdline)
    return found.group(1) if found and "gunicorn" in cmdline else None


def cpu_snapshot() -> dict:
    """CPU seconds so far: of every process of the stack by group, of the wrk runs this process has reaped, and of
    the machine (busy, and stolen by the hypervisor for other guests) from /proc/stat."""
    groups: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        group = _process_group(cmdline)
        if group is not None:
            groups[group] = groups.get(group, 0.0) + (int(fields[11]) + int(fields[12])) / _TICK
    reaped = os.times()
    groups["wrk"] = reaped.children_user + reaped.children_system
    cpu = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    groups["(machine busy)"] = (sum(cpu[:8]) - cpu[3] - cpu[4] - cpu[7]) / _TICK  # all but idle, iowait, steal
    groups["(stolen)"] = cpu[7] / _TICK
    return groups


def cpu_per_request(before: dict, after: dict, requests_done: int) -> dict:
    """µs of CPU per request by group between two snapshots (dead processes' time is lost: none die mid-scenario)."""
    if not requests_done:
        return {}
    return {
        group: round((after[group] - before.get(group, 0.0)) / requests_done * 1e6)
        for group in after
        if after[group] - before.get(group, 0.0) > 0
    }


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(output: str) -> dict:
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.M))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    socket_errors = {kind: int(n) for kind, n in re.findall(r"(\w+) (\d+)", errors.group(1))} if errors else {}
    requests_done = int(re.search(r"(\d+) requests in", output).group(1))
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": _ms(latency["50"]) if requests_done else None,
        "p99_ms": _ms(latency["99"]) if requests_done else None,
        "requests": requests_done,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(socket_errors.values()),
        "socket_errors_detail": ", ".join(f"{k} {v}" for k, v in socket_errors.items() if v),
    }


# ------------------------------------------------------------------------------------------ sequential calls


def percentile(samples: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (what ``statistics.quantiles(method='inclusive')`` does)."""
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def timed(call, repeat: int) -> dict:
    """Latency of ``repeat`` sequential calls (each must succeed): p50, p95, max in ms."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(samples, n=100)
    return {"n": repeat, "p50_ms": round(cuts[49], 1), "p95_ms": round(cuts[94], 1), "max_ms": round(max(samples), 1)}


def sampled(calls: dict, *, warmup: int, samples: int, cap_s: float, at_least: int = 3) -> dict:
    """For each of ``calls`` (name → call): ``warmup`` calls, then up to ``samples`` timed ones, all within
    ``cap_s`` seconds a call (but at least ``at_least`` timed calls each). The calls take turns, one of each in
    every round, so each sees the machine as the others do (it is shared, and its speed drifts). A call returns
    whether the answer was right; wrong ones count as errors. Gives name → figures."""
    started = time.monotonic()
    cap_s *= len(calls)
    for _ in range(warmup):
        if time.monotonic() - started > cap_s / 4:
            break
        for call in calls.values():
            call()
    times: dict = {name: [] for name in calls}
    errors = dict.fromkeys(calls, 0)
    rounds = 0
    while rounds < samples and (rounds < at_least or time.monotonic() - started < cap_s):
        for name, call in calls.items():
            begun = time.perf_counter()
            ok = call()
            times[name].append((time.perf_counter() - begun) * 1000)
            errors[name] += 0 if ok else 1
        rounds += 1
    seconds = round(time.monotonic() - started, 1)
    return {
        name: {
            "n": len(taken),
            "p50_ms": round(percentile(taken, 0.5), 1),
            "p95_ms": round(percentile(taken, 0.95), 1),
            "max_ms": round(max(taken), 1),
            "errors": errors[name],
            "capped": len(taken) < samples,
            "seconds": seconds,
        }
        for name, taken in times.items()
    }


# ----------------------------------------------------------------------------------------------- extras


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
    started = time.perf_counter()
    while outbox_emails() and time.perf_counter() - started < 300:
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    sent = len(stack.mail.messages) - sent_before
    queued = 500 * len(batches)
    results["invite worker: messages into the SMTP sink"] = {
        "messages": sent,
        "seconds": round(elapsed, 1),
        "per_second": round(sent / elapsed, 1),
        "left_in_outbox": outbox_emails(),
        "queued": queued,
        "delivered": len(stack.mail.messages),
    }
    # 10,000 invites, seeded directly (the listing is under test here, not the seeding)
    listed = gw.post("/v1/projects", token=operator.token, json={"name": "Big list", "status": "live"}).json()
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO invites (id, project_id, email, token_hash, created_at, expires_at) "
                "SELECT gen_random_uuid(), :p, 'big-' || g || '@example.com', "
                "md5(random()::text) || md5(random()::text), "
                "now() - g * interval '1 second', now() + interval '14 days' - (g % 3) * interval '14 days' "
                "FROM generate_series(1, 10000) g"
            ),
            {"p": listed["id"]},
        )
        connection.execute(text("ANALYZE invites"))
    engine.dispose()

    def list_invites():
        response = gw.get(f"/v1/projects/{listed['id']}/invites", token=operator.token)
        assert response.status_code == 200 and len(response.json()) == 10000

    results["GET /v1/projects/:id/invites (10,000 invites)"] = timed(list_invites, 20)
    return results


# -------------------------------------------------------------------------------------------------- memory


def export_scenario(stack: Stack, operator, name: str, purchases: int) -> dict:
    """Issue 11: the operator's purchases exported as CSV through the gateway, read as a client would (in
    chunks); seconds, rows, and how much the commerce worker that answered grew (VmRSS before and after, the
    largest growth of the workers: one of them answered). Goal ≤ 10 s and < 20 MB."""
    from hello import children, rss_mb

    workers = children(stack.processes["commerce"].pid)
    before = {pid: rss_mb(pid) for pid in workers}
    begun = time.perf_counter()
    rows, size = -1, 0  # the header row is not a purchase
    with requests.get(
        stack.gateway_url + "/v1/purchases/export.csv",
        stream=True,
        timeout=120,
        headers={"Authorization": f"Bearer {operator.token}"},
    ) as response:
        assert response.status_code == 200, response.text[:300]
        for chunk in response.iter_content(chunk_size=1 << 16):
            rows += chunk.count(b"\n")
            size += len(chunk)
    seconds = time.perf_counter() - begun
    growth = max(rss_mb(pid) - before[pid] for pid in workers)
    result = {
        "name": name,
        "seconds": seconds,
        "rows": rows,
        "mb": size / 2**20,
        "rss_growth_mb": growth,
        "expected_rows": purchases,
    }
    print(f"{name}: {json.dumps(result)}", flush=True)
    return result


def gunicorn_memory(stack: Stack, hello) -> list[dict]:
    """VmRSS of each service's gunicorn workers (children of the master ``boot.sh`` exec'd into), the masters
    and background workers for the record, and the hello app's workers as the floor."""
    from hello import children, rss_mb

    rows = []
    for service in SERVICES:
        process = stack.processes.get(service)
        if process is None or process.poll() is not None:
            rows.append({"process": f"{service}: gunicorn", "pid": None, "rss_mb": None, "goal": True})
            continue
        rows.append(
            {"process": f"{service}: gunicorn master", "pid": process.pid, "rss_mb": rss_mb(process.pid), "goal": False}
        )
        for n, pid in enumerate(children(process.pid), 1):
            rows.append({"process": f"{service}: worker {n}", "pid": pid, "rss_mb": rss_mb(pid), "goal": True})
    for worker in WORKERS:
        process = stack.processes.get(worker)
        if process is None:
            continue
        state = "" if process.poll() is None else f", exited with {process.returncode}"
        rows.append(
            {
                "process": f"{worker} (background{state})",
                "pid": process.pid,
                "rss_mb": rss_mb(process.pid) if not state else None,
                "goal": False,
            }
        )
    for n, pid in enumerate(hello.worker_pids(), 1):
        rows.append({"process": f"hello app: worker {n} (the floor)", "pid": pid, "rss_mb": rss_mb(pid), "goal": False})
    return rows


# --------------------------------------------------------------------------------------------------- goals


@dataclass
class Scenario:
    name: str
    path: str
    headers: dict | None = None
    script: Path | None = None
    env: dict | None = None
    connections: int | None = None  # default: --connections
    min_ratio: float | None = None  # issue 8: req/s ≥ this × hello
    min_rps: float | None = None  # issue 8: absolute req/s
    tail: bool = False  # issue 8: p99 ≤ 10 × p50 and no errors
    url: str | None = None  # default: the gateway + path
    beside_hello: bool = False  # run between two hello runs, and given as a ratio to their mean
    result: dict = field(default_factory=dict)
    hellos: tuple = ()  # (the hello run just before, the one just after) when beside_hello


def verdict(checks: list[tuple[bool, str]]) -> str:
    """``PASS`` when every check holds, else ``MISS`` and what missed; empty when there is no goal."""
    if not checks:
        return ""
    missed = [why for ok, why in checks if not ok]
    return "PASS" if not missed else "MISS: " + "; ".join(missed)


def baseline_rps(scenario: Scenario, hello_rps: float) -> float:
    """The hello req/s a scenario is compared with: the mean of the hello runs just before and just after it when it
    ran between two, else the mean of the run's hellos (``hello_rps``)."""
    if scenario.hellos:
        return sum(hello.result["rps"] for hello in scenario.hellos) / len(scenario.hellos)
    return hello_rps


def wrk_checks(scenario: Scenario, hello_rps: float) -> tuple[str, list[tuple[bool, str]]]:
    r, goal, checks = scenario.result, [], []
    baseline = baseline_rps(scenario, hello_rps)
    ratio = r["rps"] / baseline if baseline else 0.0
    if scenario.min_ratio is not None:
        goal.append(f"≥ {scenario.min_ratio:g}× hello")
        checks.append((ratio >= scenario.min_ratio, f"{ratio:.3f}× < {scenario.min_ratio:g}×"))
    if scenario.min_rps is not None:
        goal.append(f"≥ {scenario.min_rps:g} req/s")
        checks.append((r["rps"] >= scenario.min_rps, f"{r['rps']:.1f} req/s < {scenario.min_rps:g}"))
    if scenario.tail:
        goal.append("p99 ≤ 10×p50")
        tail = r["p99_ms"] / r["p50_ms"] if r["p50_ms"] else float("inf")
        checks.append((tail <= 10, f"p99/p50 {tail:.1f}"))
    if scenario.tail or scenario.min_rps is not None:
        goal.append("no errors")
        checks.append(
            (
                r["non_2xx"] == 0 and r["socket_errors"] == 0,
                f"{r['non_2xx']} non-2xx, {r['socket_errors']} socket errors",
            )
        )
    return ", ".join(goal), checks


# ---------------------------------------------------------------------------------------------------- main


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, help="wrk duration per scenario (default 8; --smoke 1)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--analytics-connections", type=int, default=8)
    parser.add_argument(
        "--only", nargs="*", help="run only the scenarios whose name holds one of these words (hello always runs)"
    )
    parser.add_argument("--scale", type=float, help="data size as a fraction of issue 8's (default 1; --smoke 0.005)")
    parser.add_argument("--samples", type=int, help="timed sequential analytics calls per scenario (default 50)")
    parser.add_argument("--warmup", type=int, help="warm-up calls before them (default 5)")
    parser.add_argument(
        "--cap", type=float, help="seconds at most per sequential scenario, warm-up included (default 40)"
    )
    parser.add_argument(
        "--with-extras",
        action="store_true",
        help="also the older sequential scenarios: bulk invites, the invite worker, commerce latencies",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny data, 1-second wrk runs, few samples; results.md left alone unless --write",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (every process's log) after the run")
    parser.add_argument(
        "--write",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="prepend this run to bench/results.md (default: yes, except --smoke)",
    )
    args = parser.parse_args(argv)
    defaults = (
        {"seconds": 1, "scale": 0.005, "samples": 5, "warmup": 1, "cap": 5, "write": False}
        if args.smoke
        else {"seconds": 8, "scale": 1.0, "samples": 50, "warmup": 5, "cap": 40, "write": True}
    )
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def wanted(args, name: str) -> bool:
    return not args.only or any(word.lower() in name.lower() for word in args.only)


def main(argv=None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    load_at_start = os.getloadavg()
    ensure_wrk()
    from hello import HelloBaseline
    from seed import AT_SIZE, seed_at_size

    big, small = AT_SIZE.scaled(args.scale), AT_SIZE.scaled(args.scale / 10)
    report: dict = {"args": args, "load_at_start": load_at_start, "sizes": {"big": big, "small": small}}
    with bench_stack("backoffice-bench-", keep=args.keep) as (base, cluster, stack):
        report["pg"] = cluster.bindir.parent.name
        hello = HelloBaseline.like(stack, base / "hello").start()
        try:
            gw = Gateway(stack.gateway_url)
            # In Paris: analytics over time buckets by the operator's calendar (UTC would hide the conversion's cost).
            op_big = gw.register_operator(
                name="Bench Studio (at size)", password="bench-password-1", timezone="Europe/Paris"
            )
            op_small = gw.register_operator(
                name="Bench Studio (a tenth)", password="bench-password-1", timezone="Europe/Paris"
            )
            print(f"seeding: {big.describe()} / a tenth: {small.describe()} …", flush=True)
            (seeded_big, seeded_small), timings = seed_at_size(
                cluster,
                stack.db_prefix,
                [(op_big.id, "big" + op_big.id[:8], big), (op_small.id, "tenth" + op_small.id[:8], small)],
            )
            report["seed"] = {"timings": timings, "big": seeded_big.counts, "small": seeded_small.counts}
            rounded = {name: round(value, 1) if value else value for name, value in timings.items()}
            print(f"seeded in {timings['total']:.0f} s: {json.dumps(rounded)}", flush=True)
            print(f"  at size: {seeded_big.counts}\n  a tenth: {seeded_small.counts}", flush=True)
            report["scenarios"] = run_wrk_and_analytics(
                args, stack, gw, hello, op_big, seeded_big, op_small, seeded_small, report
            )
            if wanted(args, "webhooks"):
                import webhooks  # issue 12's goals: ≥ 100 deliveries/s, fact → receiver p95 ≤ 2 s

                report["webhooks"] = webhooks.webhook_scenarios(stack, gw, samples=args.samples)
                for name, figures in report["webhooks"].items():
                    print(f"{name}: {json.dumps(figures)}", flush=True)
            if args.with_extras:
                report["extras"] = extras(stack, gw)
            report["memory"] = gunicorn_memory(stack, hello)
        finally:
            hello.stop()
    report["elapsed_s"] = time.monotonic() - began
    section = render(report)
    print("\n" + section)
    if args.write:
        prepend_results(section)
        print(f"(prepended to {HERE / 'results.md'})")
    else:
        print("(bench/results.md left alone: --smoke or --no-write)")
    return 0


def run_wrk_and_analytics(args, stack, gw, hello, op_big, seeded_big, op_small, seeded_small, report) -> dict:
    bearer = {"Authorization": f"Bearer {op_big.token}"}
    size = seeded_big.size
    count = lambda n: f"{n:,}"  # noqa: E731
    projects_body = gw.get("/v1/projects", token=op_big.token)
    assert projects_body.status_code == 200 and len(projects_body.json()) == size.projects, projects_body.text[:300]
    purchases_page = gw.get("/v1/purchases?limit=50", token=op_big.token).json()
    assert len(purchases_page["items"]) == 50 and purchases_page["total"] >= size.purchases, purchases_page.get("total")
    purchases = seeded_big.counts["paid purchases"] + seeded_big.counts["other purchases"]
    # One account per in-flight login (lua/login.lua): the login brake counts an email's attempts until they succeed.
    logins = [gw.register_operator(name=f"Bench login {n}", password="bench-password-1") for n in range(LOGIN_ACCOUNTS)]
    login_env = {"BENCH_EMAILS": ",".join(account.email for account in logins), "BENCH_PASSWORD": "bench-password-1"}
    gateway_only = Scenario("nginx /healthz (no upstream; for the record)", "/healthz")
    loaded = [
        Scenario(
            "GET /v1/operators/me", "/v1/operators/me", headers=bearer, min_ratio=0.5, tail=True, beside_hello=True
        ),
        Scenario(
            f"GET /v1/projects ({size.projects} projects, {count(size.photos)} photos, {count(size.members)} members)",
            "/v1/projects",
            headers=bearer,
            min_ratio=0.4,
            tail=True,
            beside_hello=True,
        ),
        Scenario(
            f"GET /v1/photographers ({size.photographers}, with their projects)",
            "/v1/photographers",
            headers=bearer,
            tail=True,
            beside_hello=True,
        ),
        *(
            Scenario(f"GET {path} ({size.catalog})", path, headers=bearer, min_ratio=0.3, tail=True, beside_hello=True)
            for path in ("/v1/pricing/rules", "/v1/discounts", "/v1/promo-codes")
        ),
        Scenario(
            f"GET /v1/purchases?limit=50 (of {count(purchases)})",
            "/v1/purchases?limit=50",
            headers=bearer,
            min_ratio=0.3,
            tail=True,
            beside_hello=True,
        ),
        # Last of the -c32 runs: argon2 keeps auth's threads busy for seconds after wrk stops (see settle).
        Scenario(
            "POST /v1/auth/login (argon2id 19 MiB, t=2)", "/v1/auth/login", script=HERE / "lua/login.lua", env=login_env
        ),
    ]
    analytics_loaded = Scenario(
        f"GET /v1/analytics at -c{args.analytics_connections} ({count(size.photos)} photos)",
        "/v1/analytics",
        headers=bearer,
        connections=args.analytics_connections,
        min_rps=20,
    )

    probe = requests.Session()

    def settle(limit_s: float = 30) -> None:
        """Wait until the stack has worked off what wrk left queued when it stopped (requests wrk gave up on are
        still being answered — seconds of argon2 after login): until ``GET /v1/operators/me`` answers within
        twice the time it took before any load, or ``limit_s``."""
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            begun = time.perf_counter()
            probe.get(stack.gateway_url + "/v1/operators/me", headers=bearer, timeout=30)
            if time.perf_counter() - begun <= max(2 * quiet_s, 0.02):
                return
            time.sleep(0.2)

    runs: list[Scenario] = []  # every wrk run, in order

    def run(scenario: Scenario) -> Scenario:
        runs.append(scenario)
        before = cpu_snapshot()
        scenario.result = wrk(
            scenario.url or stack.gateway_url + scenario.path,
            seconds=args.seconds,
            connections=scenario.connections or args.connections,
            headers=scenario.headers,
            script=scenario.script,
            env=scenario.env,
        )
        scenario.result["cpu_us"] = cpu_per_request(before, cpu_snapshot(), scenario.result["requests"])
        print(f"{scenario.name}: {json.dumps(scenario.result)}", flush=True)
        settle()
        return scenario

    quiet = []
    for _ in range(5):
        begun = time.perf_counter()
        probe.get(stack.gateway_url + "/v1/operators/me", headers=bearer, timeout=30)
        quiet.append(time.perf_counter() - begun)
    quiet_s = min(quiet)

    # Each route compared with hello is run between two hello runs (one shared by neighbours): the machine is
    # shared, and its speed drifts within a run; the hellos of the minutes around a route are its fairest baseline.
    def run_hello() -> Scenario:
        return run(Scenario("hello (again)", "", headers=bearer, url=hello.url))

    if wanted(args, gateway_only.name):
        run(gateway_only)
    run(Scenario("hello (first): Flask hello-world behind its own nginx", "", headers=bearer, url=hello.url))
    for scenario in loaded:
        if not wanted(args, scenario.name):
            continue
        if scenario.beside_hello and runs[-1].url != hello.url:
            run_hello()
        before = runs[-1]
        run(scenario)
        if scenario.beside_hello:
            scenario.hellos = (before, run_hello())

    # Unloaded analytics, one client, both operators.
    http = requests.Session()
    operators = (("big", op_big, seeded_big), ("small", op_small, seeded_small))

    def unloaded(path: str, variants: list[tuple[str, str]], figures) -> list[dict]:
        """Sequential calls of ``path`` + each variant's query for both operators; ``figures`` of the first answer
        are kept for the report."""
        rows = []
        for label, query in variants:
            name = f"GET {path}, {label}"
            if not wanted(args, name):
                continue
            row = {"name": name}
            calls, answered = {}, {}
            for which, operator, seeded in operators:
                url = (
                    stack.gateway_url
                    + path
                    + query.format(
                        projects=",".join(seeded.project_ids[:5]), photographers=",".join(seeded.photographer_ids[:2])
                    )
                )
                headers = {"Authorization": f"Bearer {operator.token}"}
                answers = []

                def call(url=url, headers=headers, answers=answers):
                    try:
                        response = http.get(url, headers=headers, timeout=30)
                    except requests.RequestException:
                        return False
                    if response.status_code == 200 and not answers:
                        answers.append(response.json())
                    return response.status_code == 200

                calls[which], answered[which] = call, answers
            # Both operators' calls take turns: "ten times the data" compares two sizes at the same moments.
            for which, figures_of in sampled(calls, warmup=args.warmup, samples=args.samples, cap_s=args.cap).items():
                row[which] = figures_of
                answers = answered[which]
                row[which + "_kpis"] = figures(answers[0]) if answers else None
                print(
                    f"{name} [{which}]: {json.dumps(row[which])} figures={json.dumps(row[which + '_kpis'])}", flush=True
                )
            rows.append(row)
        return rows

    analytics = unloaded(
        "/v1/analytics",
        [
            ("default", ""),
            ("projectIds: 5 projects", "?projectIds={projects}"),
            ("photographerIds: 2 photographers", "?photographerIds={photographers}"),
        ],
        lambda body: body["kpis"],
    )
    # Analytics over time (design §11): the default window, the last 30 days by day in the operator's time zone.
    timeseries = unloaded(
        "/v1/analytics/timeseries",
        [("30 days by day", ""), ("30 days by day, photographerIds: 2", "?photographerIds={photographers}")],
        lambda body: {
            name: sum(point[name] for point in body["points"])
            for name in ("membersEnrolled", "photosUploaded", "purchasesMade", "revenueInCents")
        },
    )

    export = None
    export_name = f"GET /v1/purchases/export.csv ({count(purchases)} purchases)"
    if wanted(args, export_name):
        export = export_scenario(stack, op_big, export_name, purchases)

    if wanted(args, analytics_loaded.name):
        run(analytics_loaded)
    run(Scenario("hello (last)", "", headers=bearer, url=hello.url))
    return {
        "runs": runs,
        "analytics": analytics,
        "timeseries": timeseries,
        "export": export,
    }


def extras(stack, gw) -> dict:
    """The older sequential scenarios, on an operator of their own with the former 1,000-item catalog."""
    import commerce

    operator = gw.register_operator(name="Bench Extras", password="bench-password-1")
    commerce.seed_catalog(stack, operator.id)
    results = {
        **invite_scenarios(stack, gw, operator),
        **commerce.commerce_scenarios(stack, gw, operator),
    }
    for name, figures in results.items():
        print(f"{name}: {json.dumps(figures)}", flush=True)
    return results


# ------------------------------------------------------------------------------------------------- results


def machine() -> str:
    cpu = "?"
    try:
        cpu = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M).group(1).strip()
    except (OSError, AttributeError):
        pass
    try:
        kb = int(re.search(r"^MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text(), re.M).group(1))
        memory = f"{kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, AttributeError):
        memory = "? RAM"
    return f"{os.cpu_count()} cores ({cpu}), {memory}, Linux {platform.release()}"


def _f(value, digits=1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def sequential_rows(rows, big, small, *, p95_goal_ms: int, checks_all: list, figures: bool = False) -> list[str]:
    """A table row per sequential scenario and operator (at size, then a tenth); the goal is checked at size only,
    its verdict added to ``checks_all``. ``figures``: a last column with the answer's figures summed."""
    out = []
    for row in rows:
        for which, label in (("big", f"{big.photos:,} photos"), ("small", f"{small.photos:,} photos")):
            r = row[which]
            checks = (
                [
                    (r["p95_ms"] <= p95_goal_ms, f"p95 {r['p95_ms']:,.0f} ms"),
                    (r["errors"] == 0, f"{r['errors']} errors"),
                ]
                if which == "big"
                else []
            )
            mark = verdict(checks)
            if mark:
                checks_all.append(mark)
            n = f"{r['n']}" + (" (capped)" if r["capped"] else "")
            line = (
                f"| {row['name']} | {label} | {n} | {_f(r['p50_ms'])} | {_f(r['p95_ms'])} | {_f(r['max_ms'])} | "
                f"{r['errors']} | {f'p95 ≤ {p95_goal_ms} ms, no errors' if checks else ''} | {mark} |"
            )
            if figures:
                sums = row.get(which + "_kpis") or {}
                line += f" {', '.join(f'{k} {v:,}' for k, v in sums.items())} |"
            out.append(line)
    return out


def render(report: dict) -> str:
    args = report["args"]
    scenarios = report.get("scenarios") or {}
    out: list[str] = []
    now = dt.datetime.now(dt.UTC)
    title = f"## {now:%Y-%m-%d %H:%M} UTC — {machine()}"
    if args.smoke:
        title += " — SMOKE (tiny data, not comparable)"
    out += [title, ""]
    import backoffice_common.gunicorn_conf as gconf

    flags = " ".join(sys.argv[1:]) or "(defaults)"
    seed = report.get("seed", {})
    timings = seed.get("timings", {})
    out.append(
        f"`bench/run.py {flags}`: wrk -t2 -c{args.connections} -d{args.seconds}s through the gateway "
        f"(analytics -c{args.analytics_connections}); every service and the hello app under gunicorn "
        f"({gconf.workers} workers × {gconf.threads} threads, {gconf.worker_class}); PostgreSQL "
        f"{report['pg']} and everything else on the same machine; load average "
        f"{report['load_at_start'][0]:.2f} at start. Seeding took {timings.get('total', 0):.0f} s, the "
        f"whole bench {report['elapsed_s'] / 60:.1f} min."
    )
    out.append("")
    if seed:
        out.append(
            f"Seeded straight into the databases: at size — {_counts(seed['big'])}; a tenth — "
            f"{_counts(seed['small'])}. Load {_timing(timings)}."
        )
        out.append("")
    runs = scenarios.get("runs") or []
    hellos = [run for run in runs if run.name.startswith("hello")]
    checks_all: list[str] = []
    if hellos and all(hello.result for hello in hellos):
        hello_rps = sum(hello.result["rps"] for hello in hellos) / len(hellos)
        low, high = min(h.result["rps"] for h in hellos), max(h.result["rps"] for h in hellos)
        out.append(
            f"**Hello baseline** (`bench/hello_app.py` under the services' gunicorn settings, behind its own "
            f"nginx rendered from the gateway templates, `GET /v1/operators/me` routed to it), run {len(hellos)} "
            f"times: {low:,.0f}–{high:,.0f} req/s, mean **{hello_rps:,.0f} req/s**. Each route compared with it ran "
            f"between two hello runs, and its × hello is to their mean (the rest: to the mean of all)."
            + (
                " The hellos differ by more than a quarter: the machine's speed changed during the run, so the "
                "ratios are less certain than usual."
                if high - low > 0.25 * hello_rps
                else ""
            )
        )
        out += [
            "",
            "| scenario | req/s | × hello | p50 ms | p99 ms | p99/p50 | non-2xx | socket errors | goal | |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
        ]
        for scenario in runs:
            r = scenario.result
            goal, checks = wrk_checks(scenario, hello_rps)
            mark = verdict(checks)
            if mark:
                checks_all.append(mark)
            tail = r["p99_ms"] / r["p50_ms"] if r["p50_ms"] else None
            errors = str(r["socket_errors"]) + (f" ({r['socket_errors_detail']})" if r["socket_errors"] else "")
            out.append(
                f"| {scenario.name} | {_f(r['rps'])} | {r['rps'] / baseline_rps(scenario, hello_rps):.3f} | "
                f"{_f(r['p50_ms'])} | "
                f"{_f(r['p99_ms'])} | {_f(tail)} | {r['non_2xx']} | {errors} | {goal} | {mark} |"
            )
        out.append("")
        out += cpu_table(runs)
    analytics = scenarios.get("analytics") or []
    if analytics:
        big, small = report["sizes"]["big"], report["sizes"]["small"]
        out.append(
            f"**Analytics, unloaded** (one client, sequential, through the gateway; {args.warmup} warm-up "
            f"calls then up to {args.samples} timed, at most {args.cap:g} s per row — *capped* when fewer): "
            f"the operator at size ({big.photos:,} photos) and the one at a tenth ({small.photos:,})."
        )
        out += [
            "",
            "| scenario | operator | n | p50 ms | p95 ms | max ms | errors | goal | |",
            "|---|---|---:|---:|---:|---:|---:|---|---|",
        ]
        out += sequential_rows(analytics, big, small, p95_goal_ms=100, checks_all=checks_all)
        out += ["", "| ten times the data | p50 ratio | p95 ratio | goal | |", "|---|---:|---:|---|---|"]
        for row in analytics:
            p50 = row["big"]["p50_ms"] / row["small"]["p50_ms"] if row["small"]["p50_ms"] else None
            p95 = row["big"]["p95_ms"] / row["small"]["p95_ms"] if row["small"]["p95_ms"] else None
            mark = verdict([(p50 is not None and p50 <= 2, f"{p50:.1f}× the time" if p50 else "no figure")])
            checks_all.append(mark)
            out.append(f"| {row['name']} | {_f(p50, 2)} | {_f(p95, 2)} | p50 at size ≤ 2 × p50 at a tenth | {mark} |")
        kpis = [
            (label, row.get(which + "_kpis"))
            for row in analytics[:1]
            for which, label in (("big", "at size"), ("small", "a tenth"))
        ]
        out += [
            "",
            "Default analytics answered: "
            + "; ".join(f"{label} {json.dumps(value, separators=(', ', ': '))}" for label, value in kpis if value)
            + ".",
        ]
        out.append("")
    timeseries = scenarios.get("timeseries") or []
    if timeseries:
        big, small = report["sizes"]["big"], report["sizes"]["small"]
        out += [
            "**Analytics over time, unloaded** (design §11; as above; the operators' time zone Europe/Paris; the "
            "figures are the 30 points summed):",
            "",
            "| scenario | operator | n | p50 ms | p95 ms | max ms | errors | goal | | figures |",
            "|---|---|---:|---:|---:|---:|---:|---|---|---|",
        ]
        out += sequential_rows(timeseries, big, small, p95_goal_ms=150, checks_all=checks_all, figures=True)
        out.append("")
    export = scenarios.get("export")
    if export:
        mark = verdict(
            [
                (export["seconds"] <= 10, f"{export['seconds']:.1f} s"),
                (export["rss_growth_mb"] < 20, f"+{export['rss_growth_mb']:.1f} MB"),
                (export["rows"] == export["expected_rows"], f"{export['rows']:,} rows"),
            ]
        )
        checks_all.append(mark)
        out += [
            "**CSV export** (issue 11; one client through the gateway, read in chunks; the growth is the "
            "commerce worker's VmRSS after minus before):",
            "",
            "| scenario | rows | MB | seconds | RSS growth MB | goal | |",
            "|---|---:|---:|---:|---:|---|---|",
            f"| {export['name']} | {export['rows']:,} | {_f(export['mb'])} | {_f(export['seconds'], 2)} | "
            f"{_f(export['rss_growth_mb'])} | ≤ 10 s, < 20 MB | {mark} |",
            "",
        ]
    if report.get("webhooks"):
        hooks = report["webhooks"]
        latency = hooks["webhooks: member.joined, fact → receiver (unloaded)"]
        rate = hooks["webhooks: deliveries to a loopback receiver (10 operators)"]
        latency_mark = verdict([(latency["p95_ms"] <= 2000, f"p95 {latency['p95_ms']:,} ms")])
        rate_mark = verdict(
            [
                ((rate["per_second"] or 0) >= 100, f"{rate['per_second']}/s"),
                (rate["complete"], f"{rate['arrived']:,} of {rate['events']:,} arrived"),
            ]
        )
        checks_all += [latency_mark, rate_mark]
        out += [
            "**Outbound webhooks** (issue 12; a loopback receiver; joins one at a time through projects' internal "
            "route, then events queued with the delivery worker stopped and drained when it starts):",
            "",
            "| scenario | figures | goal | |",
            "|---|---|---|---|",
            f"| member.joined, fact → receiver ({latency['samples']} joins) | p50 {latency['p50_ms']:,} ms, p95 "
            f"{latency['p95_ms']:,} ms, max {latency['max_ms']:,} ms | p95 ≤ 2 s | {latency_mark} |",
            f"| {rate['events']:,} purchase.paid events for 10 operators | {rate['per_second']} deliveries/s "
            f"({rate['arrived']:,} arrived in {rate['seconds']} s) | ≥ 100/s, every one | {rate_mark} |",
            "",
        ]
    if report.get("extras"):
        out += [
            "Extras (`--with-extras`), sequential calls from one client on an operator of their own:",
            "",
            "| scenario | figures |",
            "|---|---|",
        ]
        out += [
            f"| {name} | {', '.join(f'{k}={v}' for k, v in figures.items())} |"
            for name, figures in report["extras"].items()
        ]
        out.append("")
    if report.get("memory"):
        out += [
            "**Memory after the whole bench** (VmRSS; the goal is for each service's gunicorn workers):",
            "",
            "| process | pid | RSS MB | goal | |",
            "|---|---:|---:|---|---|",
        ]
        for row in report["memory"]:
            checks = (
                [
                    (
                        row["rss_mb"] is not None and row["rss_mb"] <= 100,
                        "not running" if row["rss_mb"] is None else f"{row['rss_mb']:.0f} MB",
                    )
                ]
                if row["goal"]
                else []
            )
            mark = verdict(checks)
            if mark:
                checks_all.append(mark)
            out.append(
                f"| {row['process']} | {row['pid'] or '–'} | {_f(row['rss_mb'])} | "
                f"{'≤ 100 MB' if checks else ''} | {mark} |"
            )
        out.append("")
    passed = sum(1 for mark in checks_all if mark == "PASS")
    out.append(f"Goals met: **{passed} of {len(checks_all)}**.")
    return "\n".join(out) + "\n"


def cpu_table(scenarios) -> list[str]:
    """CPU per request by part of the stack, and the machine's CPU stolen by the hypervisor, per wrk scenario: where a
    route's time goes, and whether another guest took the machine during it."""
    rows = [scenario for scenario in scenarios if scenario.result.get("cpu_us")]
    if not rows:
        return []
    groups = ["nginx", "hello", "auth", "projects", "commerce", "analytics", "webhooks", "postgres", "wrk"]
    shown = [group for group in groups if any(row.result["cpu_us"].get(group) for row in rows)]
    out = [
        "**CPU per request** (µs, summed over each part's processes between the start and end of the scenario; "
        "*stolen* is the machine's CPU the hypervisor gave other guests meanwhile, per request too):",
        "",
        "| scenario | " + " | ".join(shown) + " | machine busy | stolen |",
        "|---|" + "---:|" * (len(shown) + 2),
    ]
    for row in rows:
        cpu = row.result["cpu_us"]
        cells = [_f(cpu.get(group), 0) if cpu.get(group) else "" for group in shown]
        out.append(
            f"| {row.name} | " + " | ".join(cells) + f" | {_f(cpu.get('(machine busy)'), 0)} | "
            f"{_f(cpu.get('(stolen)', 0), 0)} |"
        )
    out.append("")
    return out


def _counts(counts: dict) -> str:
    return ", ".join(f"{value:,} {name}" for name, value in counts.items())


def _timing(timings: dict) -> str:
    return ", ".join(
        f"{name} {value:.0f} s" for name, value in timings.items() if value is not None and name != "total"
    )


RESULTS_HEADER = """# Benchmark results

A dated history of `make bench` runs, newest first: each run adds its section at the top and keeps the older ones.
Since issue 8 every wrk figure is also given as a ratio to the hello baseline measured in the same run (first and
last; the ratio uses their mean), because absolute figures on this shared machine vary 2–4× between runs.
"""


def prepend_results(section: str) -> None:
    path = HERE / "results.md"
    existing = path.read_text() if path.exists() else ""
    cut = existing.find("\n## ")
    history = existing[cut + 1 :] if cut >= 0 else ""
    path.write_text(RESULTS_HEADER + "\n" + section + ("\n" + history if history else ""))


if __name__ == "__main__":
    sys.exit(main())
