"""Request metrics by route template and the scrape-time collectors (metrics.py), in one process; the multiprocess
mode under gunicorn is the end-to-end suite's (tests/e2e/test_metrics.py)."""

import pytest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families

from backoffice_common.metrics import add_scrape_collector
from backoffice_common.service import create_service_app


@pytest.fixture(scope="module")
def app(probe_settings):
    settings = probe_settings()
    app, _api = create_service_app(__name__, settings, title="probe")

    @app.get("/things/<int:number>")
    def thing(number):
        return {"number": number}

    add_scrape_collector(app, lambda: [GaugeMetricFamily("probe_figure", "A figure read at scrape.", value=7)])
    return app


def scrape(app) -> dict:
    response = app.test_client().get("/metrics")
    assert response.status_code == 200 and response.content_type.startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def test_requests_are_counted_under_the_route_template_never_the_path(app):
    client = app.test_client()
    counted = (
        "http_requests_total",
        frozenset({"method": "GET", "route": "/things/<int:number>", "status": "200"}.items()),
    )
    timed = (
        "http_request_duration_seconds_count",
        frozenset({"method": "GET", "route": "/things/<int:number>"}.items()),
    )
    before = scrape(app)
    assert client.get("/things/41").status_code == 200
    assert client.get("/things/42").status_code == 200
    after = scrape(app)
    assert after[counted] == before.get(counted, 0) + 2
    assert after[timed] == before.get(timed, 0) + 2
    assert not [labels for _, labels in after if "/things/41" in str(labels)]


def test_a_path_no_rule_matches_is_one_series(app):
    unmatched = ("http_requests_total", frozenset({"method": "GET", "route": "<unmatched>", "status": "404"}.items()))
    before = scrape(app).get(unmatched, 0)
    client = app.test_client()
    assert client.get("/nowhere/1").status_code == 404
    assert client.get("/nowhere/2").status_code == 404
    after = scrape(app)
    assert after[unmatched] == before + 2
    assert not [labels for _, labels in after if "/nowhere" in str(labels)]


def test_scrape_time_figures_are_served_and_metrics_is_outside_the_api_document(app):
    assert scrape(app)[("probe_figure", frozenset())] == 7
    document = app.test_client().get("/openapi.json").json
    assert "/metrics" not in document["paths"]
