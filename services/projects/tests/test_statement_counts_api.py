"""The list endpoints cost a constant number of SQL statements, however many rows they return."""

import uuid

import pytest

from backoffice_common.config import DEV_INTERNAL_SECRET
from backoffice_common.internal import make_service_token
from services.projects.tests.factories import make_assignment, make_member, make_photo, make_photographer, make_project


def _seed(session, operator_id, projects, photographers):
    roster = [make_photographer(session, operator_id=operator_id, name=f"P{i}") for i in range(photographers)]
    for index in range(projects):
        project = make_project(session, operator_id=operator_id, name=f"Project {index}", status="live")
        for photographer in roster[:2]:
            make_assignment(session, project, photographer)
        make_member(session, project)
        make_photo(session, project, roster[0])


@pytest.mark.parametrize("path", ["/v1/projects", "/v1/photographers"])
def test_constant_statements(client, db_session, statements, make_token, path):
    counts = []
    for size in (1, 25):
        operator_id = uuid.uuid4()
        _seed(db_session, operator_id, projects=size, photographers=size)
        token = make_token(sub=operator_id, operator_id=operator_id, role="operator")
        for _ in range(2):  # the list answered, then (unchanged) answered again
            statements.clear()
            response = client.get(path, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200 and len(response.json) == size
            counts.append(len(statements))
    # Its rows' fingerprint, then (nothing kept yet) the fingerprint and the rows in one snapshot — the projects,
    # or the roster and its projects; unchanged, the fingerprint alone (backoffice_common.answers).
    assert counts == {"/v1/projects": [3, 1, 3, 1], "/v1/photographers": [4, 1, 4, 1]}[path]


def test_the_analytics_scope_is_one_statement_and_answers_ids(client, db_session, statements):
    headers = {"Authorization": f"Bearer {make_service_token(DEV_INTERNAL_SECRET, 'analytics')}"}
    operator_id = uuid.uuid4()
    _seed(db_session, operator_id, projects=3, photographers=2)
    statements.clear()
    response = client.post("/internal/stats/scope", headers=headers, json={"operatorId": str(operator_id)})
    assert response.status_code == 200 and len(response.json["projectIds"]) == 3 and len(statements) == 1
    stranger = client.post("/internal/stats/scope", headers=headers, json={"operatorId": str(uuid.uuid4())})
    assert stranger.json == {"projectIds": []}
    assert client.post("/internal/stats/scope", json={"operatorId": str(operator_id)}).status_code == 401
    assert client.post("/internal/stats/scope", headers=headers, json={}).status_code == 422


def test_analytics_figures_cost_five_statements(client, db_session, statements):
    """The scope, then four independent figures (read side by side outside tests: ``Database.read_side_by_side``)."""
    headers = {"Authorization": f"Bearer {make_service_token(DEV_INTERNAL_SECRET, 'analytics')}"}
    counts = []
    for size in (1, 25):
        operator_id = uuid.uuid4()
        _seed(db_session, operator_id, projects=size, photographers=size)
        statements.clear()
        response = client.post("/internal/stats", headers=headers, json={"operatorId": str(operator_id)})
        assert response.status_code == 200, response.json
        assert len(response.json["projects"]) == size and response.json["photosUploaded"] == size
        counts.append(len(statements))
    assert counts == [5, 5]
