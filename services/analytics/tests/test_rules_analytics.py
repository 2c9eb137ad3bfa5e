"""The composition rules of GET /v1/analytics (design §7), without HTTP."""
import uuid

import pytest
from marshmallow import ValidationError

from analytics_service.schemas import AnalyticsArgsSchema
from analytics_service.services.analytics import NO_SALES, compose, operator_analytics

A, B, C = (str(uuid.uuid4()) for _ in range(3))

PROJECTS = {
    "projects": [{"id": A, "name": "Alpha"}, {"id": B, "name": "Beta"}, {"id": C, "name": "Gamma"}],
    "membersEnrolled": 12, "invited": 30, "photosUploaded": 400, "usersTagged": 9,
    "photosByPhotographer": [{"photographerId": str(uuid.uuid4()), "name": "Ann", "photoCount": 300},
                             {"photographerId": str(uuid.uuid4()), "name": "Bob", "photoCount": 100}],
}
COMMERCE = {"purchasesMade": 5, "revenueInCents": 7000, "buyers": 4,
            "projects": [{"projectId": B, "purchasesMade": 4, "revenueInCents": 6000},
                         {"projectId": C, "purchasesMade": 1, "revenueInCents": 1000}]}


def test_compose_fills_every_contract_figure():
    assert compose(PROJECTS, COMMERCE) == {
        "kpis": {"members_enrolled": 12, "revenue_in_cents": 7000, "photos_uploaded": 400, "users_tagged": 9,
                 "purchases_made": 5},
        "photos_by_photographer": [{"name": "Ann", "photo_count": 300}, {"name": "Bob", "photo_count": 100}],
        "revenue_by_project": [{"project_name": "Beta", "purchases_made": 4, "revenue_in_cents": 6000},
                               {"project_name": "Gamma", "purchases_made": 1, "revenue_in_cents": 1000},
                               {"project_name": "Alpha", "purchases_made": 0, "revenue_in_cents": 0}],
        "conversion_funnel": {"invited": 30, "enrolled": 12, "tagged": 9, "purchased": 4},
    }


def test_every_project_in_scope_is_listed_even_without_sales():
    body = compose(PROJECTS, NO_SALES)
    assert [row["project_name"] for row in body["revenue_by_project"]] == ["Alpha", "Beta", "Gamma"]
    assert body["kpis"]["revenue_in_cents"] == 0 and body["conversion_funnel"]["purchased"] == 0


def test_commerce_is_asked_about_exactly_the_scope_and_not_at_all_when_it_is_empty():
    asked = []

    def commerce(operator_id, project_ids, photographer_ids):
        asked.append((operator_id, project_ids, photographer_ids))
        return COMMERCE

    operator_id, photographers = uuid.uuid4(), [uuid.uuid4()]
    operator_analytics(projects_stats=lambda *_: PROJECTS, commerce_stats=commerce, operator_id=operator_id,
                       project_ids=None, photographer_ids=photographers)
    assert asked == [(operator_id, [A, B, C], photographers)]
    empty = {**PROJECTS, "projects": []}
    body = operator_analytics(projects_stats=lambda *_: empty, commerce_stats=commerce, operator_id=operator_id,
                              project_ids=[uuid.uuid4()], photographer_ids=None)
    assert len(asked) == 1 and body["revenue_by_project"] == []


def test_query_ids_are_comma_separated_uuids():
    first, second = uuid.uuid4(), uuid.uuid4()
    args = AnalyticsArgsSchema().load({"projectIds": f"{first}, {second},{first}", "photographerIds": ""})
    assert args == {"project_ids": [first, second], "photographer_ids": None}
    assert AnalyticsArgsSchema().load({}) == {"project_ids": None, "photographer_ids": None}


@pytest.mark.parametrize("field, value", [("projectIds", "not-a-uuid"), ("photographerIds", f"{uuid.uuid4()},12")])
def test_malformed_query_is_refused(field, value):
    with pytest.raises(ValidationError) as refused:
        AnalyticsArgsSchema().load({field: value})
    assert field in refused.value.messages
