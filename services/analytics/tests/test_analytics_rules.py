"""The composition rules of GET /v1/analytics (design §7), without HTTP."""

import uuid

import pytest
from marshmallow import ValidationError

from analytics_service.analytics.rules import NO_SALES, Funnel, Kpis, compose, operator_analytics
from analytics_service.analytics.schemas import AnalyticsQueryArgsSchema, AnalyticsSchema

A, B, C = (str(uuid.uuid4()) for _ in range(3))

PROJECTS = {
    "projects": [{"id": A, "name": "Alpha"}, {"id": B, "name": "Beta"}, {"id": C, "name": "Gamma"}],
    "membersEnrolled": 12,
    "invited": 30,
    "photosUploaded": 400,
    "usersTagged": 9,
    "photosByPhotographer": [
        {"photographerId": str(uuid.uuid4()), "name": "Ann", "photoCount": 300},
        {"photographerId": str(uuid.uuid4()), "name": "Bob", "photoCount": 100},
    ],
}
COMMERCE = {
    "purchasesMade": 5,
    "revenueInCents": 7000,
    "buyers": 4,
    "projects": [
        {"projectId": B, "purchasesMade": 4, "revenueInCents": 6000},
        {"projectId": C, "purchasesMade": 1, "revenueInCents": 1000},
    ],
}


def test_compose_fills_every_contract_figure():
    assert AnalyticsSchema().dump(compose(PROJECTS, COMMERCE)) == {
        "kpis": {
            "membersEnrolled": 12,
            "revenueInCents": 7000,
            "photosUploaded": 400,
            "usersTagged": 9,
            "purchasesMade": 5,
        },
        "photosByPhotographer": [{"name": "Ann", "photoCount": 300}, {"name": "Bob", "photoCount": 100}],
        "revenueByProject": [
            {"projectName": "Beta", "purchasesMade": 4, "revenueInCents": 6000},
            {"projectName": "Gamma", "purchasesMade": 1, "revenueInCents": 1000},
            {"projectName": "Alpha", "purchasesMade": 0, "revenueInCents": 0},
        ],
        "conversionFunnel": {"invited": 30, "enrolled": 12, "tagged": 9, "purchased": 4},
    }


def test_every_project_in_scope_is_listed_even_without_sales():
    analytics = compose(PROJECTS, NO_SALES)
    assert [row.project_name for row in analytics.revenue_by_project] == ["Alpha", "Beta", "Gamma"]
    assert analytics.kpis.revenue_in_cents == 0 and analytics.conversion_funnel.purchased == 0


def _in_turn(*calls):
    return tuple(call() for call in calls)


def test_both_sides_are_asked_about_exactly_the_scope_at_once_and_not_at_all_when_it_is_empty():
    asked, scopes, together = [], [], []

    def scope_of(operator_id, project_ids):
        scopes.append((operator_id, project_ids))
        return [A, B, C]

    def side(answer):
        def ask(operator_id, project_ids, photographer_ids):
            asked.append((answer is PROJECTS, operator_id, project_ids, photographer_ids))
            return answer

        return ask

    def at_once(*calls):
        together.append(len(calls))
        return _in_turn(*calls)

    operator_id, photographers = uuid.uuid4(), [uuid.uuid4()]
    body = operator_analytics(
        scope_of=scope_of,
        projects_stats=side(PROJECTS),
        commerce_stats=side(COMMERCE),
        at_once=at_once,
        operator_id=operator_id,
        project_ids=None,
        photographer_ids=photographers,
    )
    assert scopes == [(operator_id, None)] and together == [2]
    assert asked == [(True, operator_id, [A, B, C], photographers), (False, operator_id, [A, B, C], photographers)]
    assert body == compose(PROJECTS, COMMERCE)
    nothing = operator_analytics(
        scope_of=lambda *_: [],
        projects_stats=side(PROJECTS),
        commerce_stats=side(COMMERCE),
        at_once=at_once,
        operator_id=operator_id,
        project_ids=[uuid.uuid4()],
        photographer_ids=None,
    )
    assert len(asked) == 2 and together == [2]  # no figures asked for an empty scope
    assert nothing.revenue_by_project == [] and nothing.photos_by_photographer == []
    assert nothing.kpis == Kpis(0, 0, 0, 0, 0) and nothing.conversion_funnel == Funnel(0, 0, 0, 0)


def test_query_ids_are_comma_separated_uuids():
    first, second = uuid.uuid4(), uuid.uuid4()
    args = AnalyticsQueryArgsSchema().load({"projectIds": f"{first}, {second},{first}", "photographerIds": ""})
    assert args == {"project_ids": [first, second], "photographer_ids": None}
    assert AnalyticsQueryArgsSchema().load({}) == {"project_ids": None, "photographer_ids": None}


@pytest.mark.parametrize("field, value", [("projectIds", "not-a-uuid"), ("photographerIds", f"{uuid.uuid4()},12")])
def test_malformed_query_is_refused(field, value):
    with pytest.raises(ValidationError) as refused:
        AnalyticsQueryArgsSchema().load({field: value})
    assert field in refused.value.messages
