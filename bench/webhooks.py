"""Outbound webhooks (issue 12): delivery rate and fact → receiver latency, to a loopback receiver.

``python bench/webhooks.py`` runs it alone on a stack of its own (real PostgreSQL, the services under gunicorn, the
workers); ``bench/run.py --with-extras`` runs it with the other extras. Two figures:

1. Latency, unloaded: a participant joins a project (the fact, committed when the feed's call answers) → its
   ``member.joined`` reaches the receiver: through the projects outbox, its worker's relay, the intake and the
   delivery worker. p50/p95 over ``--samples`` joins, one at a time. Goal p95 ≤ 2 s.
2. Rate: ``--events`` events handed to the intake while the delivery worker is stopped (spread over 10 operators,
   one endpoint each), then the worker started: deliveries per second from the first arrival to the last, every
   delivery signed, sent, answered 200 and recorded. Goal ≥ 100/s.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from backoffice_common.config import DEV_INTERNAL_SECRET
from backoffice_common.internal import make_service_token
from devstack.client import Gateway
from devstack.stack import Stack

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import bench_stack, percentile  # noqa: E402  (bench/ is a folder of scripts, not a package)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the worker opens up to 32 connections at once: the default backlog (5) resets some


class Receiver:
    """Counts arrivals: the first arrival time of each event id (a retry is not a second arrival)."""

    def __init__(self):
        self.first: dict[str, float] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802 — http.server's name
                self.rfile.read(int(self.headers["Content-Length"]))
                now = time.monotonic()
                with receiver.lock:
                    receiver.first.setdefault(self.headers["Backoffice-Event-Id"], now)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def count(self) -> int:
        with self.lock:
            return len(self.first)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def webhook_scenarios(stack: Stack, gw: Gateway, *, samples: int = 50, events: int = 3000) -> dict:
    # The stack's services run with the dev internal secret (APP_ENV=test), as the platform's callers sign.
    service = {"Authorization": f"Bearer {make_service_token(DEV_INTERNAL_SECRET, 'bench')}"}
    receiver = Receiver()
    results = {}
    try:
        # 1. latency: member.joined, one join at a time
        operator = gw.register_operator(name="Bench Webhooks", password="bench-password-1")  # noqa: S106 — a bench account
        created = gw.post(
            "/v1/webhook-endpoints", token=operator.token, json={"url": receiver.url(), "events": ["member.joined"]}
        )
        assert created.status_code == 201, created.text
        project = gw.post(
            "/v1/projects", token=operator.token, json={"name": "Webhooks", "type": "public", "status": "live"}
        ).json()
        http = requests.Session()
        latencies = []
        for _ in range(samples):
            participant = http.post(
                f"{stack.service_url('auth')}/internal/participants",
                headers=service,
                json={"email": f"wh-{uuid.uuid4().hex[:12]}@example.com", "name": "Guest"},
                timeout=10,
            ).json()
            before = receiver.count()
            joined = http.post(
                f"{stack.service_url('projects')}/internal/projects/{project['id']}/members",
                headers=service,
                json={"participantId": participant["id"], "email": participant["email"]},
                timeout=10,
            )
            fact = time.monotonic()
            assert joined.status_code == 201, joined.text
            assert _wait(lambda before=before: receiver.count() > before, 30), "member.joined never arrived"
            with receiver.lock:
                arrived = max(receiver.first.values())
            latencies.append(arrived - fact)
            time.sleep(0.05)
        results["webhooks: member.joined, fact → receiver (unloaded)"] = {
            "samples": len(latencies),
            "p50_ms": round(percentile(latencies, 0.5) * 1000),
            "p95_ms": round(percentile(latencies, 0.95) * 1000),
            "max_ms": round(max(latencies) * 1000),
        }
        # 2. rate: events queued while the delivery worker is stopped, then drained
        operators = [str(uuid.uuid4()) for _ in range(10)]
        webhooks_db_engine = create_engine(stack.cluster.url(stack.db_prefix + "webhooks"))
        with webhooks_db_engine.begin() as connection:
            for operator_id in operators:
                connection.execute(
                    text(
                        "INSERT INTO endpoints (id, operator_id, url, events, is_active, secret) "
                        "VALUES (gen_random_uuid(), :op, :url, ARRAY['purchase.paid'], true, :secret)"
                    ),
                    {"op": operator_id, "url": receiver.url(), "secret": "whsec_" + uuid.uuid4().hex * 2},
                )
        stack.stop_service("webhooks-worker")
        before = receiver.count()
        intake = requests.Session()

        def publish(n: int) -> None:
            event = {
                "id": "evt_" + uuid.uuid4().hex[:24],
                "type": "purchase.paid",
                "operatorId": operators[n % len(operators)],
                "createdAt": "2026-12-01T10:00:00.000Z",
                "data": {"id": str(uuid.uuid4()), "status": "paid", "totalCents": 1200, "photoCount": 3},
            }
            response = intake.post(
                f"{stack.service_url('webhooks')}/internal/events", headers=service, json=event, timeout=30
            )
            assert response.status_code == 201, response.text

        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(publish, range(events)))
        intake_s = time.monotonic() - started
        stack.start_worker("webhooks-worker")
        complete = _wait(lambda: receiver.count() - before >= events, 300)
        with receiver.lock:
            arrivals = sorted(list(receiver.first.values())[before:])
        span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else float("nan")
        with webhooks_db_engine.connect() as connection:
            recorded = connection.execute(
                text(
                    "SELECT count(*) FROM deliveries"
                    " WHERE status = 'succeeded' AND operator_id = ANY(CAST(:ops AS uuid[]))"
                ),
                {"ops": operators},
            ).scalar()
        webhooks_db_engine.dispose()
        results["webhooks: deliveries to a loopback receiver (10 operators)"] = {
            "events": events,
            "arrived": len(arrivals),
            "complete": complete,
            "seconds": round(span, 2),
            "per_second": round(len(arrivals) / span, 1) if span == span and span > 0 else None,
            "recorded_succeeded": recorded,
            "intake_per_second": round(events / intake_s, 1),
        }
    finally:
        receiver.stop()
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    # The outbox poll at its default: what production polls.
    with bench_stack("backoffice-bench-webhooks-", env={"OUTBOX_POLL_S": "0.5"}, keep=args.keep) as (_, _, stack):
        results = webhook_scenarios(stack, Gateway(stack.gateway_url), samples=args.samples, events=args.events)
        for name, figures in results.items():
            print(f"{name}: {json.dumps(figures)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
