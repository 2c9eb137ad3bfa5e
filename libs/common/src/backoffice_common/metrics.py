"""Prometheus metrics for on-call: every request by route template, the DB pool, and figures read at scrape time.

Under gunicorn the workers are separate processes: prometheus-client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``,
set up by gunicorn_conf.py before any worker imports this) keeps each process's values in a file of that folder, and
``GET /metrics`` on any worker sums them. Without it (the service tests, a worker) the values live in the process.

``/metrics`` is a plain Flask route on the service's own port, outside the API document: the gateway proxies only
``/v1/...``, so it is never reachable from outside.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping

from flask import Flask, Response, current_app, g, request
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import Engine, event

REQUESTS = Counter(
    "http_requests_total",
    "Requests answered, by Flask route template, method and status.",
    ["method", "route", "status"],
)
# A handful of buckets around the bench's figures (most routes answer in a few ms; the 1 s fuzz budget at the top).
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer a request, by route template and method.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
POOL_IN_USE = Gauge(
    "db_pool_connections_in_use",
    "Database connections checked out of a pool (sessions or reads; all workers).",
    ["pool"],
    multiprocess_mode="livesum",
)
_UNMATCHED = "<unmatched>"  # a 404 for a path no rule matches: never the raw path (unbounded label values)

# (method, route, status) → the labelled children: labels() builds and looks up a key on every call.
_children: dict[tuple, tuple] = {}

ScrapeCollector = Callable[[], Iterable[Metric]]
_COLLECTORS = "backoffice_metrics_collectors"


def outcome_counter(name: str, documentation: str) -> Counter:
    """A counter of calls to an outside system by operation and outcome (``ok``, ``refused``, ``unavailable``…)."""
    return Counter(name, documentation, ["operation", "outcome"])


def init_metrics(app: Flask, pools: Mapping[str, Engine]) -> None:
    """Count every request and watch the pools (by name: ``{"sessions": engine, "reads": engine}``); serve
    ``GET /metrics``."""
    app.extensions[_COLLECTORS] = []

    @app.after_request
    def _observe(response):
        started = g.get("request_started")
        if started is not None:
            rule = request.url_rule
            key = (request.method, rule.rule if rule is not None else _UNMATCHED, response.status_code)
            children = _children.get(key)
            if children is None:
                children = _children[key] = (
                    REQUESTS.labels(key[0], key[1], str(key[2])),
                    LATENCY.labels(key[0], key[1]),
                )
            children[0].inc()
            children[1].observe(time.perf_counter() - started)
        return response

    for name, engine in pools.items():
        in_use = POOL_IN_USE.labels(name)
        event.listen(engine, "checkout", lambda *_, in_use=in_use: in_use.inc())
        event.listen(engine, "checkin", lambda *_, in_use=in_use: in_use.dec())

    app.add_url_rule("/metrics", "metrics", _metrics_view)


def add_scrape_collector(app: Flask, collect: ScrapeCollector) -> None:
    """Figures computed when Prometheus scrapes (from the database: one process answers for all), not per request.
    ``collect`` runs in the app context of the ``/metrics`` request."""
    app.extensions[_COLLECTORS].append(collect)


class _Collected:
    """A scrape-time function as a prometheus collector (the registry only calls ``collect``)."""

    def __init__(self, collect: ScrapeCollector):
        self.collect = collect


def _metrics_view():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shared = CollectorRegistry()
        MultiProcessCollector(shared)
    else:
        shared = REGISTRY
    body = generate_latest(shared)
    collectors = current_app.extensions.get(_COLLECTORS, [])
    if collectors:
        scraped = CollectorRegistry(auto_describe=False)
        for collect in collectors:
            scraped.register(_Collected(collect))
        body += generate_latest(scraped)
    return Response(body, mimetype=None, content_type=CONTENT_TYPE_LATEST)
