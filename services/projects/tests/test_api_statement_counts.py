"""The list endpoints cost a constant number of SQL statements, however many rows they return."""
import uuid

import pytest
from backoffice_common.config import DEV_INTERNAL_SECRET
from backoffice_common.internal import make_service_token

from projects_service.models import Assignment, Member, Photo, Photographer, Project


def _seed(session, operator_id, projects, photographers):
    roster = [Photographer(id=uuid.uuid4(), operator_id=operator_id, name=f"P{i}", email=f"p{i}-{operator_id}@x.io")
              for i in range(photographers)]
    session.add_all(roster)
    session.flush()
    for index in range(projects):
        project = Project(id=uuid.uuid4(), operator_id=operator_id, name=f"Project {index}", type="private",
                          status="live")
        session.add(project)
        session.flush()
        for photographer in roster[:2]:
            session.add(Assignment(project_id=project.id, photographer_id=photographer.id))
        session.add(Member(project_id=project.id, participant_id=uuid.uuid4(), email="m@x.io"))
        session.add(Photo(project_id=project.id, photographer_id=roster[0].id, object_key=f"{project.id}/1",
                          filename="a.jpg", content_type="image/jpeg", size_bytes=1, status="ready"))
    session.flush()


@pytest.mark.parametrize("path", ["/v1/projects", "/v1/photographers"])
def test_constant_statements(client, db_session, statements, make_token, path):
    counts = []
    for size in (1, 25):
        operator_id = uuid.uuid4()
        _seed(db_session, operator_id, projects=size, photographers=size)
        token = make_token(sub=operator_id, operator_id=operator_id, role="operator")
        statements.clear()
        response = client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200 and len(response.json) == size
        counts.append(len(statements))
    assert counts[0] == counts[1]
    assert counts[0] == {"/v1/projects": 1, "/v1/photographers": 2}[path]


def test_analytics_figures_cost_three_statements(client, db_session, statements):
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
    assert counts == [3, 3]
