"""The kept list answers (and the operator's profile) hear every change to what they show, however it was made.

Each worker keeps its last answer of each list and sends it with no database round trip while PostgreSQL has
notified no change of that list and operator (backoffice_common.list_changes; the triggers are in the projects and
commerce migrations). Here each table a list shows is changed straight in the database — as a hand-run UPDATE, a
migration or another worker would — after every worker has kept the list, and the list must show the change on
every worker, while another operator's kept list stays as it was. A change made outside the app is heard once
PostgreSQL has delivered its notification (microseconds after the COMMIT); the test allows it a second.
"""

import time
import uuid

import pytest
from sqlalchemy import text

WORKERS_AND_THEN_SOME = 4  # more requests than a service has workers: each worker answers, and keeps, the list


def _ok(response, status=(200, 201)):
    assert response.status_code in ((status,) if isinstance(status, int) else status), response.text
    return response.json()


def _kept_everywhere(gw, path, token):
    """The list as every worker answers it (the last answer), after each has answered once."""
    bodies = [_ok(gw.get(path, token=token), 200) for _ in range(WORKERS_AND_THEN_SOME)]
    assert all(body == bodies[0] for body in bodies)
    return bodies[-1]


def _shows(gw, path, token, seen, within_s=1.0):
    """Every worker's answer shows ``seen(body)`` within ``within_s`` of the change, and keeps showing it."""
    deadline = time.monotonic() + within_s
    while not seen(_ok(gw.get(path, token=token), 200)):
        assert time.monotonic() < deadline, f"{path} still without the change after {within_s} s"
        time.sleep(0.01)
    assert seen(_kept_everywhere(gw, path, token))


def _by_hand(databases, database, sql, **params):
    with databases[database].begin() as connection:
        assert connection.execute(text(sql), params).rowcount >= 1


@pytest.fixture
def two(gw, operator, other_operator, new_project):
    """Each operator with a project; the other operator's list kept, to be left as it is."""
    return (
        new_project(operator, name="Mine", type="public", status="live"),
        new_project(other_operator, name="Theirs", type="public", status="live"),
    )


def test_the_project_list_hears_its_projects_and_their_counts(gw, databases, operator, other_operator, two):
    mine, theirs = two
    before_theirs = _kept_everywhere(gw, "/v1/projects", other_operator.token)
    assert [p["name"] for p in _kept_everywhere(gw, "/v1/projects", operator.token)] == ["Mine"]
    _by_hand(databases, "projects", "UPDATE projects SET name = 'By hand' WHERE id = :id", id=mine["id"])
    _shows(gw, "/v1/projects", operator.token, lambda body: [p["name"] for p in body] == ["By hand"])
    # The counts come from the rollup: a change there alone (a rebuild, a repair) is heard too.
    _by_hand(databases, "projects", "UPDATE project_counts SET ready_photos = 41 WHERE project_id = :id", id=mine["id"])
    _shows(gw, "/v1/projects", operator.token, lambda body: body[0]["photoCount"] == 41)
    _by_hand(databases, "projects", "DELETE FROM project_counts WHERE project_id = :id", id=mine["id"])
    _shows(gw, "/v1/projects", operator.token, lambda body: body[0]["photoCount"] == 0)
    assert _kept_everywhere(gw, "/v1/projects", other_operator.token) == before_theirs
    assert theirs["name"] == "Theirs"


def test_the_roster_hears_photographers_assignments_and_project_names(gw, databases, operator, two):
    mine, _ = two
    pat = gw.register_photographer(operator, name="Pat")
    assigned = gw.post(
        f"/v1/projects/{mine['id']}/photographers", token=operator.token, json={"photographerId": pat.id}
    )
    assert assigned.status_code == 204

    def pat_in(body):
        return next(entry for entry in body if entry["id"] == pat.id)

    assert pat_in(_kept_everywhere(gw, "/v1/photographers", operator.token))["projects"] == [
        {"id": mine["id"], "name": "Mine"}
    ]
    _by_hand(databases, "projects", "UPDATE photographers SET name = 'Patricia' WHERE id = :id", id=pat.id)
    _shows(gw, "/v1/photographers", operator.token, lambda body: pat_in(body)["name"] == "Patricia")
    _by_hand(databases, "projects", "UPDATE projects SET name = 'Renamed' WHERE id = :id", id=mine["id"])
    _shows(gw, "/v1/photographers", operator.token, lambda body: pat_in(body)["projects"][0]["name"] == "Renamed")
    _by_hand(
        databases,
        "projects",
        "DELETE FROM project_photographers WHERE project_id = :project AND photographer_id = :who",
        project=mine["id"],
        who=pat.id,
    )
    _shows(gw, "/v1/photographers", operator.token, lambda body: pat_in(body)["projects"] == [])


@pytest.mark.parametrize(
    ("path", "table", "create", "column", "value", "shown"),
    [
        (
            "/v1/discounts",
            "discounts",
            {"name": "Ten", "type": "percentage", "value": 10},
            "name",
            "'By hand'",
            ("name", "By hand"),
        ),
        ("/v1/pricing/rules", "pricing_rules", {"pricePerPhotoCents": 400}, "price_per_photo_cents", "777", None),
    ],
)
def test_the_catalogs_hear_their_tables(
    gw, databases, operator, other_operator, path, table, create, column, value, shown
):
    made = _ok(gw.post(path, token=operator.token, json=create), 201)
    theirs = _ok(gw.post(path, token=other_operator.token, json=create), 201)
    before_theirs = _kept_everywhere(gw, path, other_operator.token)
    assert [item["id"] for item in _kept_everywhere(gw, path, operator.token)] == [made["id"]]
    _by_hand(databases, "commerce", f"UPDATE {table} SET {column} = {value} WHERE id = :id", id=made["id"])  # noqa: S608
    key, expected = shown or ("pricePerPhotoCents", int(value))
    _shows(gw, path, operator.token, lambda body: body[0][key] == expected)
    _by_hand(databases, "commerce", f"DELETE FROM {table} WHERE id = :id", id=made["id"])  # noqa: S608
    _shows(gw, path, operator.token, lambda body: body == [])
    assert _kept_everywhere(gw, path, other_operator.token) == before_theirs
    assert before_theirs[0]["id"] == theirs["id"]


def test_the_promo_code_list_hears_its_table(gw, databases, operator):
    discount = _ok(gw.post("/v1/discounts", token=operator.token, json={"name": "T", "type": "fixed", "value": 100}))
    code = _ok(gw.post("/v1/promo-codes", token=operator.token, json={"code": "HAND1", "discountId": discount["id"]}))
    assert [c["code"] for c in _kept_everywhere(gw, "/v1/promo-codes", operator.token)] == ["HAND1"]
    _by_hand(databases, "commerce", "UPDATE promo_codes SET times_used = 3 WHERE id = :id", id=code["id"])
    _shows(gw, "/v1/promo-codes", operator.token, lambda body: body[0]["timesUsed"] == 3)
    _by_hand(
        databases,
        "commerce",
        "INSERT INTO promo_codes (id, operator_id, code, discount_id, is_active, times_used, created_at, updated_at)"
        " SELECT :new, operator_id, 'HAND2', discount_id, true, 0, now(), now() FROM promo_codes WHERE id = :id",
        new=str(uuid.uuid4()),
        id=code["id"],
    )
    _shows(gw, "/v1/promo-codes", operator.token, lambda body: [c["code"] for c in body] == ["HAND2", "HAND1"])


def test_the_operator_profile_hears_its_account_and_profile(gw, databases, operator, other_operator):
    """GET /v1/operators/me is kept the same way: a list of one (auth migration 0003)."""
    theirs = _kept_everywhere(gw, "/v1/operators/me", other_operator.token)
    assert _kept_everywhere(gw, "/v1/operators/me", operator.token)["id"] == operator.id
    _by_hand(databases, "auth", "UPDATE accounts SET name = 'By hand' WHERE id = :id", id=operator.id)
    _shows(gw, "/v1/operators/me", operator.token, lambda body: body["name"] == "By hand")
    _by_hand(
        databases,
        "auth",
        "UPDATE operator_profiles SET timezone = 'Asia/Tokyo' WHERE account_id = :id",
        id=operator.id,
    )
    _shows(gw, "/v1/operators/me", operator.token, lambda body: body["timezone"] == "Asia/Tokyo")
    assert _kept_everywhere(gw, "/v1/operators/me", other_operator.token) == theirs
