"""Strict analytics filters (issue 9 item 11): GET /v1/analytics refuses a query parameter it does not know (a typo
would otherwise answer the unscoped figures) and a filter given more than once, with a 422 naming the parameter;
the contract's forms (each filter once, as comma-separated UUIDs, or empty, or absent) keep working."""

import uuid

import pytest

REPEATED = "Give this parameter once, with comma-separated UUIDs."


@pytest.fixture
def two_projects(operator, photographer, new_project, ready_photos):
    """Alpha with 2 ready photos, Beta with 3, both by the photographer."""
    alpha, beta = new_project(operator, name="Alpha"), new_project(operator, name="Beta")
    ready_photos(alpha["id"], photographer.id, 2)
    ready_photos(beta["id"], photographer.id, 3)
    return alpha, beta


def _photos(response):
    assert response.status_code == 200, response.text
    return response.json()["kpis"]["photosUploaded"]


def _assert_422(response, errors):
    assert response.status_code == 422
    assert response.json() == {
        "code": 422,
        "status": "Unprocessable Entity",
        "message": "The request is invalid.",
        "errors": {"query": errors},
    }


@pytest.mark.parametrize("name", ["projectId", "project_ids", "photographerId", "projectids", "from"])
def test_an_unknown_parameter_is_422_naming_it(gw, operator, two_projects, name):
    alpha, _ = two_projects
    response = gw.get("/v1/analytics", token=operator.token, params={name: alpha["id"]})
    _assert_422(response, {name: ["Unknown field."]})


def test_an_unknown_parameter_beside_a_known_one_is_422(gw, operator, two_projects):
    alpha, _ = two_projects
    response = gw.get("/v1/analytics", token=operator.token, params={"projectIds": alpha["id"], "status": "live"})
    _assert_422(response, {"status": ["Unknown field."]})


@pytest.mark.parametrize("name", ["projectIds", "photographerIds"])
def test_a_repeated_filter_is_422_naming_it(gw, operator, photographer, two_projects, name):
    alpha, beta = two_projects
    values = [alpha["id"], beta["id"]] if name == "projectIds" else [photographer.id, str(uuid.uuid4())]
    _assert_422(gw.get("/v1/analytics", token=operator.token, params={name: values}), {name: [REPEATED]})
    # the same value twice is still a repeat, and so is an empty one beside a value
    _assert_422(
        gw.get("/v1/analytics", token=operator.token, params={name: [values[0], values[0]]}), {name: [REPEATED]}
    )
    _assert_422(gw.get("/v1/analytics", token=operator.token, params={name: ["", values[0]]}), {name: [REPEATED]})


def test_the_documented_forms_still_work(gw, operator, photographer, two_projects):
    alpha, beta = two_projects

    def photos(query=""):
        return _photos(gw.get(f"/v1/analytics{query}", token=operator.token))

    assert photos() == 5
    assert photos(f"?projectIds={alpha['id']}") == 2
    assert photos(f"?projectIds={alpha['id']},{beta['id']}") == 5
    assert photos(f"?projectIds={beta['id']}%2C%20{alpha['id']}") == 5  # "b, a" encoded
    assert photos("?projectIds=") == 5  # empty is the same as absent
    assert photos(f"?projectIds={beta['id']}&photographerIds={photographer.id}") == 3
    assert photos(f"?photographerIds={uuid.uuid4()}") == 0
    assert photos(f"?photographerIds={photographer.id},{uuid.uuid4()}&projectIds=") == 5
