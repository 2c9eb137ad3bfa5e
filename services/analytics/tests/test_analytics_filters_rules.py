"""Strict analytics filters (issue 9 item 11): each filter once, nothing unknown — parsed as the view parses them."""

import uuid

import pytest
from flask import Flask
from marshmallow import RAISE
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import UnprocessableEntity

from analytics_service.analytics.schemas import REPEATED, AnalyticsQueryArgsSchema

A, B = uuid.uuid4(), uuid.uuid4()


def _parse(query: str):
    with Flask(__name__).test_request_context(f"/v1/analytics?{query}"):
        return FlaskParser().parse(AnalyticsQueryArgsSchema(), location="query", unknown=RAISE)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", {"project_ids": None, "photographer_ids": None}),
        (f"projectIds={A}", {"project_ids": [A], "photographer_ids": None}),
        (f"projectIds={A},{B}&photographerIds=", {"project_ids": [A, B], "photographer_ids": None}),
        (f"photographerIds={B}%2C%20{A}", {"project_ids": None, "photographer_ids": [B, A]}),
    ],
)
def test_the_documented_forms(query, expected):
    assert _parse(query) == expected


@pytest.mark.parametrize(
    "query", [f"projectIds={A}&projectIds={B}", f"projectIds={A}&projectIds={A}", f"projectIds=&projectIds={A}"]
)
def test_a_repeated_filter_is_refused(query):
    with pytest.raises(UnprocessableEntity) as refused:
        _parse(query)
    assert refused.value.data["messages"] == {"query": {"projectIds": [REPEATED]}}


@pytest.mark.parametrize("name", ["projectId", "project_ids", "photographerID"])
def test_an_unknown_parameter_is_refused(name):
    with pytest.raises(UnprocessableEntity) as refused:
        _parse(f"{name}={A}")
    assert refused.value.data["messages"] == {"query": {name: ["Unknown field."]}}
