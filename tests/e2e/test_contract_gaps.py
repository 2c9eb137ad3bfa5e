"""What an audit of the e2e suite against backoffice-api.md and design §2–§9 found missing, route by route:
no or bad token → 401, the wrong role → 403, malformed JSON → 400, unknown fields → 422, unknown ids → 404,
another operator's resource → 404 (403 for a purchase), each leaving every row as it was; the internal feed's
refusals on the service ports; and the exact fields, camelCase keys and ``…T12:00:00.000Z`` times of successes.

The refusal matrices share one module-wide world (two operators with everything the contract names); each refusal
is checked against a fingerprint of both operators' rows in every database, so a refused request that wrote
anything fails here."""

import json
import re
import time
import uuid

import pytest
import requests
from sqlalchemy import text

from backoffice_common.config import DEV_INTERNAL_SECRET
from backoffice_common.internal import make_service_token
from backoffice_common.testing.plugin import SigningKey, sign_access_token
from devstack import stripe_events
from devstack.stack import STRIPE_WEBHOOK_SECRET

TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")
SUMMARY_FIELDS = {
    "id",
    "name",
    "type",
    "status",
    "locationName",
    "startAt",
    "endAt",
    "timezone",
    "createdAt",
    "updatedAt",
    "photographerCount",
    "memberCount",
    "photoCount",
}
DETAIL_FIELDS = SUMMARY_FIELDS | {"projectLink", "termsAndConditions", "photographers", "joinUrl"}
PHOTOGRAPHER_FIELDS = {"id", "name", "email", "createdAt", "updatedAt", "projects"}
RULE_FIELDS = {
    "id",
    "projectId",
    "pricePerPhotoCents",
    "compareAtPriceCents",
    "validFrom",
    "validUntil",
    "isActive",
    "createdAt",
    "updatedAt",
}
DISCOUNT_FIELDS = {
    "id",
    "name",
    "type",
    "value",
    "bundleMinPhotos",
    "validFrom",
    "validUntil",
    "isActive",
    "createdAt",
    "updatedAt",
}
PROMO_FIELDS = {
    "id",
    "code",
    "discountId",
    "maxUses",
    "maxUsesPerUser",
    "timesUsed",
    "validFrom",
    "validUntil",
    "isActive",
    "createdAt",
    "updatedAt",
}
PURCHASE_FIELDS = {
    "id",
    "status",
    "photoCount",
    "subtotalCents",
    "discountAppliedCents",
    "totalCents",
    "appliedPromoCode",
    "stripePaymentIntentId",
    "createdAt",
    "project",
    "user",
}
UPLOAD = {"filename": "a.jpg", "contentType": "image/jpeg", "sizeBytes": 3}
MALFORMED = {"code": 400, "status": "Bad Request", "message": "The request body is not valid JSON."}

# (method, path, body) of every back-office route that takes a token. ``{name}`` is filled from the world (the
# owner's resources), ``{fresh}`` with a new hex string each time; each body is valid and would change something.
OPERATOR_ROUTES = [
    (
        "POST",
        "/v1/auth/register-photographer",
        {"name": "P", "email": "p-{fresh}@example.com", "password": "password-1"},
    ),
    ("GET", "/v1/operators/me", None),
    ("PATCH", "/v1/operators/me", {"name": "Changed"}),
    ("GET", "/v1/projects", None),
    ("POST", "/v1/projects", {"name": "Changed"}),
    ("PATCH", "/v1/projects/{project}", {"name": "Changed"}),
    ("DELETE", "/v1/projects/{project}", None),
    ("PATCH", "/v1/projects/{project}/status", {"status": "closed"}),
    ("POST", "/v1/projects/{project}/photographers", {"photographerId": "{spare_photographer}"}),
    ("DELETE", "/v1/projects/{project}/photographers/{photographer}", None),
    ("GET", "/v1/projects/{project}/discounts", None),
    ("POST", "/v1/projects/{project}/discounts", {"discountId": "{spare_discount}"}),
    ("DELETE", "/v1/projects/{project}/discounts/{discount}", None),
    ("GET", "/v1/projects/{project}/invites", None),
    ("POST", "/v1/projects/{project}/invites/bulk", {"emails": ["i-{fresh}@example.com"]}),
    ("GET", "/v1/photographers", None),
    ("PATCH", "/v1/photographers/{photographer}", {"name": "Changed"}),
    ("DELETE", "/v1/photographers/{spare_photographer}", None),
    ("GET", "/v1/pricing/rules", None),
    ("POST", "/v1/pricing/rules", {"pricePerPhotoCents": 1, "projectId": "{project}"}),
    ("PATCH", "/v1/pricing/rules/{rule}", {"pricePerPhotoCents": 1}),
    ("DELETE", "/v1/pricing/rules/{rule}", None),
    ("GET", "/v1/discounts", None),
    ("POST", "/v1/discounts", {"name": "New", "type": "fixed", "value": 5}),
    ("PATCH", "/v1/discounts/{discount}", {"name": "Changed"}),
    ("DELETE", "/v1/discounts/{spare_discount}", None),
    ("GET", "/v1/promo-codes", None),
    ("POST", "/v1/promo-codes", {"code": "C{fresh}", "discountId": "{discount}"}),
    ("PATCH", "/v1/promo-codes/{promo}", {"isActive": False}),
    ("DELETE", "/v1/promo-codes/{promo}", None),
    ("GET", "/v1/analytics", None),
    ("GET", "/v1/purchases", None),
    ("GET", "/v1/purchases/{purchase}", None),
]
PHOTOGRAPHER_ROUTES = [
    ("GET", "/v1/photographers/me/projects", None),
    ("GET", "/v1/photographers/me/projects/{project}", None),
    ("POST", "/v1/photographers/me/projects/{project}/photos", UPLOAD),
    ("POST", "/v1/photographers/me/projects/{project}/photos/{upload}/complete", None),
]
SHARED_ROUTES = [("GET", "/v1/projects/{project}", None)]  # operator or assigned photographer
ALL_ROUTES = OPERATOR_ROUTES + PHOTOGRAPHER_ROUTES + SHARED_ROUTES
# Routes the calling account may try with a JSON body (the upload's completion takes none); the login too.
BODY_ROUTES = [route for route in OPERATOR_ROUTES + PHOTOGRAPHER_ROUTES if route[2] is not None]
# The internal feed of design §9, on each service's own port.
INTERNAL_ROUTES = [
    ("auth", "/internal/participants", {"email": "g-{fresh}@example.com", "name": "Guest"}),
    ("projects", "/internal/projects/{project}/members", {"participantId": "{outsider}", "email": "{outsider_email}"}),
    ("projects", "/internal/photos/{photo}/tags", {"participantIds": ["{guest}"]}),
    (
        "commerce",
        "/internal/checkout/quote",
        {"projectId": "{project}", "participant": "{guest_card}", "photoIds": ["{photo}"]},
    ),
    (
        "commerce",
        "/internal/checkout",
        {"projectId": "{project}", "participant": "{guest_card}", "photoIds": ["{photo}"]},
    ),
]


def _ids(routes):
    return [f"{method} {path}" for method, path, _ in routes]


def _fill(value, world):
    if isinstance(value, str):
        if (
            value.startswith("{")
            and value.endswith("}")
            and value[1:-1] in world
            and not isinstance(world[value[1:-1]], str)
        ):
            return world[value[1:-1]]  # a whole object, e.g. the participant card
        return value.format(fresh=uuid.uuid4().hex[:12], **{k: v for k, v in world.items() if isinstance(v, str)})
    if isinstance(value, list):
        return [_fill(item, world) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, world) for key, item in value.items()}
    return value


def _headers():
    return {"Authorization": f"Bearer {make_service_token(DEV_INTERNAL_SECRET, 'participant-app')}"}


# Every row of the world's two operators, per database: a refused request must leave each one as it was.
_SCOPED = {
    "auth": [
        "SELECT * FROM accounts WHERE id = ANY(:ops) OR operator_id = ANY(:ops)",
        "SELECT * FROM operator_profiles WHERE account_id = ANY(:ops)",
        "SELECT count(*) FROM participants",
    ],
    "projects": [
        "SELECT * FROM photographers WHERE operator_id = ANY(:ops)",
        "SELECT * FROM projects WHERE operator_id = ANY(:ops)",
        *(
            f"SELECT * FROM {table} WHERE project_id IN (SELECT id FROM projects WHERE operator_id = ANY(:ops))"
            for table in ("project_photographers", "members", "photos", "invites")
        ),
        "SELECT t.* FROM photo_tags t JOIN photos p ON p.id = t.photo_id "
        "WHERE p.project_id IN (SELECT id FROM projects WHERE operator_id = ANY(:ops))",
    ],
    "commerce": [
        *(
            f"SELECT * FROM {table} WHERE operator_id = ANY(:ops)"
            for table in ("pricing_rules", "discounts", "promo_codes", "project_discounts", "purchases")
        ),
        "SELECT i.* FROM purchase_items i JOIN purchases p ON p.id = i.purchase_id WHERE p.operator_id = ANY(:ops)",
        "SELECT r.* FROM promo_code_redemptions r JOIN promo_codes c ON c.id = r.promo_code_id "
        "WHERE c.operator_id = ANY(:ops)",
    ],
}


def _fingerprint(databases, world) -> dict:
    ops = [uuid.UUID(world["owner"].id), uuid.UUID(world["other"].id)]
    prints = {}
    for name, queries in _SCOPED.items():
        with databases[name].connect() as connection:
            for sql in queries:
                prints[sql] = connection.execute(
                    text(f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM ({sql}) t"),
                    {"ops": ops},
                ).scalar()
    return prints


@pytest.fixture(scope="module")
def world(gw, stack, databases):
    """Operator A (``owner``) with a live public project, an assigned photographer and a spare one, a linked
    discount and a spare one, a promo code, the default price, an invite, a member tagged in nothing yet, two
    ready photos, a pending upload and a pending purchase; operator B (``other``) with a photographer of its own."""
    owner, other = gw.register_operator(name="Owner"), gw.register_operator(name="Other")
    photographer = gw.register_photographer(owner, name="Assigned")
    spare_photographer = gw.register_photographer(owner, name="Spare")
    other_photographer = gw.register_photographer(other, name="Theirs")

    def ok(response, status):
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    project = ok(
        gw.post("/v1/projects", token=owner.token, json={"name": "World", "type": "public", "status": "live"}), 201
    )
    ok(
        gw.post(
            f"/v1/projects/{project['id']}/photographers", token=owner.token, json={"photographerId": photographer.id}
        ),
        204,
    )
    rule = ok(gw.post("/v1/pricing/rules", token=owner.token, json={"pricePerPhotoCents": 400}), 201)
    discount = ok(
        gw.post("/v1/discounts", token=owner.token, json={"name": "Ten", "type": "percentage", "value": 10}), 201
    )
    spare_discount = ok(
        gw.post("/v1/discounts", token=owner.token, json={"name": "Spare", "type": "fixed", "value": 100}), 201
    )
    ok(gw.post(f"/v1/projects/{project['id']}/discounts", token=owner.token, json={"discountId": discount["id"]}), 204)
    promo = ok(
        gw.post(
            "/v1/promo-codes",
            token=owner.token,
            json={"code": f"W{uuid.uuid4().hex[:8]}", "discountId": discount["id"]},
        ),
        201,
    )
    ok(
        gw.post(
            f"/v1/projects/{project['id']}/invites/bulk",
            token=owner.token,
            json={"emails": [f"invited-{uuid.uuid4().hex[:8]}@example.com"]},
        ),
        202,
    )
    auth, projects, commerce = (stack.service_url(name) for name in ("auth", "projects", "commerce"))
    guest, outsider = (
        ok(
            requests.post(
                f"{auth}/internal/participants",
                headers=_headers(),
                json={"email": f"g-{uuid.uuid4().hex[:10]}@example.com", "name": "Guest"},
                timeout=10,
            ),
            201,
        )
        for _ in range(2)
    )
    ok(
        requests.post(
            f"{projects}/internal/projects/{project['id']}/members",
            headers=_headers(),
            json={"participantId": guest["id"], "email": guest["email"]},
            timeout=10,
        ),
        201,
    )
    photos = [str(uuid.uuid4()) for _ in range(2)]
    with databases["projects"].begin() as connection:
        connection.execute(
            text(
                "INSERT INTO photos (id, project_id, photographer_id, object_key, filename, content_type, size_bytes, "
                "status) VALUES (:id, :project, :photographer, :key, 'a.jpg', 'image/jpeg', 1, 'ready')"
            ),
            [
                {"id": photo, "project": project["id"], "photographer": photographer.id, "key": f"world/{photo}"}
                for photo in photos
            ],
        )
    purchase = ok(
        requests.post(
            f"{commerce}/internal/checkout",
            headers=_headers(),
            timeout=30,
            json={"projectId": project["id"], "participant": guest, "photoIds": photos[1:]},
        ),
        201,
    )
    upload = ok(
        gw.post(f"/v1/photographers/me/projects/{project['id']}/photos", token=photographer.token, json=UPLOAD), 201
    )
    return {
        "owner": owner,
        "other": other,
        "photographer_account": photographer,
        "other_photographer": other_photographer,
        "project": project["id"],
        "photographer": photographer.id,
        "spare_photographer": spare_photographer.id,
        "rule": rule["id"],
        "discount": discount["id"],
        "spare_discount": spare_discount["id"],
        "promo": promo["id"],
        "purchase": purchase["id"],
        "upload": upload["id"],
        "photo": photos[0],
        "guest": guest["id"],
        "guest_card": guest,
        "outsider": outsider["id"],
        "outsider_email": outsider["email"],
    }


@pytest.fixture(scope="module")
def participant_token(stack):
    """A correctly signed access token with the participant role (decisions: 403 on back-office routes)."""
    key = SigningKey(
        stack.private_key.stem,
        stack.private_key.read_text(),
        (stack.public_keys / f"{stack.private_key.stem}.pem").read_text(),
    )
    return sign_access_token(key, role="participant")


def _send(gw, world, method, path, body, token=None, **kwargs):
    if body is not None and "data" not in kwargs:
        kwargs["json"] = _fill(body, world)
    return gw.request(method, _fill(path, world), token=token, **kwargs)


def _assert_error(response, code):
    assert response.status_code == code, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "status", "message", "errors"} and body["code"] == code and body["message"]
    return body


def test_the_fingerprint_sees_a_write_in_each_database(gw, databases, world):
    """The refusal tests below are only as good as their fingerprint: a write anywhere must change it."""
    owner = world["owner"]
    for method, path, body in [
        ("PATCH", "/v1/operators/me", {"locale": "en-GB"}),
        ("PATCH", "/v1/projects/{project}", {"locationName": "Somewhere"}),
        ("PATCH", "/v1/promo-codes/{promo}", {"maxUsesPerUser": 3}),
    ]:
        before = _fingerprint(databases, world)
        assert _send(gw, world, method, path, body, token=owner.token).status_code == 200
        assert _fingerprint(databases, world) != before, path


# --- 401 / 403 ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "not-a-jwt"], ids=["no token", "garbage token"])
@pytest.mark.parametrize("method, path, body", ALL_ROUTES, ids=_ids(ALL_ROUTES))
def test_no_or_bad_token_is_401_and_changes_nothing(gw, databases, world, method, path, body, token):
    before = _fingerprint(databases, world)
    response = _send(gw, world, method, path, body, token=token)
    assert _assert_error(response, 401)["status"] == "Unauthorized"
    assert _fingerprint(databases, world) == before


@pytest.mark.parametrize("method, path, body", OPERATOR_ROUTES, ids=_ids(OPERATOR_ROUTES))
def test_a_photographer_on_an_operator_route_is_403_and_changes_nothing(gw, databases, world, method, path, body):
    before = _fingerprint(databases, world)
    response = _send(gw, world, method, path, body, token=world["photographer_account"].token)
    assert _assert_error(response, 403)["status"] == "Forbidden"
    assert _fingerprint(databases, world) == before


@pytest.mark.parametrize("method, path, body", PHOTOGRAPHER_ROUTES, ids=_ids(PHOTOGRAPHER_ROUTES))
def test_an_operator_on_a_photographer_route_is_403_and_changes_nothing(gw, databases, world, method, path, body):
    before = _fingerprint(databases, world)
    _assert_error(_send(gw, world, method, path, body, token=world["owner"].token), 403)
    assert _fingerprint(databases, world) == before


@pytest.mark.parametrize("method, path, body", ALL_ROUTES, ids=_ids(ALL_ROUTES))
def test_a_participant_token_is_403_everywhere(gw, databases, world, participant_token, method, path, body):
    before = _fingerprint(databases, world)
    _assert_error(_send(gw, world, method, path, body, token=participant_token), 403)
    assert _fingerprint(databases, world) == before


# --- 400 malformed JSON, 422 unknown fields --------------------------------------------------------------------------


def _caller(world, path):
    return world["photographer_account"] if path.startswith("/v1/photographers/me/") else world["owner"]


@pytest.mark.parametrize(
    "method, path, body",
    BODY_ROUTES + [("POST", "/v1/auth/login", None)],
    ids=_ids(BODY_ROUTES) + ["POST /v1/auth/login"],
)
def test_malformed_json_is_400_and_changes_nothing(gw, databases, world, method, path, body):
    before = _fingerprint(databases, world)
    response = _send(
        gw,
        world,
        method,
        path,
        body,
        token=_caller(world, path).token,
        data='{"name": "x",',
        headers={"Content-Type": "application/json"},
    )
    error = _assert_error(response, 400)
    assert {key: error[key] for key in MALFORMED} == MALFORMED
    assert _fingerprint(databases, world) == before


@pytest.mark.parametrize("method, path, body", BODY_ROUTES, ids=_ids(BODY_ROUTES))
def test_unknown_fields_are_422_and_change_nothing(gw, databases, world, method, path, body):
    before = _fingerprint(databases, world)
    response = _send(gw, world, method, path, {**body, "bogus": 1}, token=_caller(world, path).token)
    assert _assert_error(response, 422)["errors"] == {"json": {"bogus": ["Unknown field."]}}
    assert _fingerprint(databases, world) == before


def test_login_refuses_unknown_fields_and_answers_only_a_token(gw, world):
    owner = world["owner"]
    response = gw.post("/v1/auth/login", json={"email": owner.email, "password": owner.password, "role": "admin"})
    assert _assert_error(response, 422)["errors"] == {"json": {"role": ["Unknown field."]}}
    response = gw.post("/v1/auth/login", json={"email": owner.email, "password": owner.password})
    assert response.status_code == 200 and set(response.json()) == {"token"}


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"address": {"line1": "1 Main St", "city": "Lyon", "country": "FR", "bogus": 1}}, "address"),
        ({"billingAddress": {"line1": "1 Main St", "city": "Lyon", "country": "FR", "bogus": 1}}, "billingAddress"),
    ],
)
def test_unknown_fields_inside_an_address_are_422(gw, databases, world, changes, field):
    before = _fingerprint(databases, world)
    response = gw.patch("/v1/operators/me", token=world["owner"].token, json=changes)
    assert _assert_error(response, 422)["errors"] == {"json": {field: {"bogus": ["Unknown field."]}}}
    assert _fingerprint(databases, world) == before


# --- 404: another operator's resource, unknown ids ------------------------------------------------------------------

ID_ROUTES = [route for route in ALL_ROUTES if "{" in route[1]]
OPERATOR_ID_ROUTES = [route for route in OPERATOR_ROUTES + SHARED_ROUTES if "{" in route[1]]


@pytest.mark.parametrize("method, path, body", OPERATOR_ID_ROUTES, ids=_ids(OPERATOR_ID_ROUTES))
def test_another_operator_can_neither_read_nor_change(gw, databases, world, method, path, body):
    before = _fingerprint(databases, world)
    response = _send(gw, world, method, path, body, token=world["other"].token)
    # The contract's one exception: another operator's purchase is 403, not 404.
    _assert_error(response, 403 if path == "/v1/purchases/{purchase}" else 404)
    assert _fingerprint(databases, world) == before


@pytest.mark.parametrize(
    "method, path, body", PHOTOGRAPHER_ROUTES[1:] + SHARED_ROUTES, ids=_ids(PHOTOGRAPHER_ROUTES[1:] + SHARED_ROUTES)
)
def test_another_operators_photographer_sees_nothing(gw, databases, world, method, path, body):
    before = _fingerprint(databases, world)
    _assert_error(_send(gw, world, method, path, body, token=world["other_photographer"].token), 404)
    assert _fingerprint(databases, world) == before
    assert gw.get("/v1/photographers/me/projects", token=world["other_photographer"].token).json() == []


def _unknown_id_cases():
    for method, path, body in ID_ROUTES:
        for name in re.findall(r"\{(\w+)\}", path):
            for replacement in ("uuid", "not-a-uuid"):
                yield pytest.param(method, path, body, name, replacement, id=f"{method} {path} {name}={replacement}")


@pytest.mark.parametrize("method, path, body, name, replacement", list(_unknown_id_cases()))
def test_unknown_ids_are_404_and_change_nothing(gw, databases, world, method, path, body, name, replacement):
    unknown = str(uuid.uuid4()) if replacement == "uuid" else "not-a-uuid"
    before = _fingerprint(databases, world)
    response = _send(gw, world, method, path.replace("{" + name + "}", unknown), body, token=_caller(world, path).token)
    _assert_error(response, 404)
    assert _fingerprint(databases, world) == before


# --- the internal feed (design §9), on the service ports ------------------------------------------------------------


def _internal(stack, world, service, path, body, headers, **kwargs):
    if "data" not in kwargs:
        kwargs["json"] = _fill(body, world)
    return requests.post(stack.service_url(service) + _fill(path, world), headers=headers, timeout=30, **kwargs)


@pytest.mark.parametrize("service, path, body", INTERNAL_ROUTES, ids=[route[1] for route in INTERNAL_ROUTES])
def test_internal_routes_refuse_anything_but_a_service_token(gw, stack, databases, world, service, path, body):
    before = _fingerprint(databases, world)
    wrong_secret = make_service_token("another-secret-another-secret-another-secret", "participant-app")
    for headers in (
        {},
        {"Authorization": "Bearer garbage"},
        {"Authorization": f"Bearer {wrong_secret}"},
        world["owner"].headers,
    ):
        _assert_error(_internal(stack, world, service, path, body, headers), 401)
    # and never through the gateway, whatever the token
    response = gw.post(_fill(path, world), json=_fill(body, world), headers=_headers())
    _assert_error(response, 404)
    assert _fingerprint(databases, world) == before


@pytest.mark.parametrize("service, path, body", INTERNAL_ROUTES, ids=[route[1] for route in INTERNAL_ROUTES])
def test_internal_malformed_json_is_400_and_unknown_fields_422(stack, databases, world, service, path, body):
    before = _fingerprint(databases, world)
    malformed = _internal(
        stack, world, service, path, body, {**_headers(), "Content-Type": "application/json"}, data="{nope"
    )
    error = _assert_error(malformed, 400)
    assert {key: error[key] for key in MALFORMED} == MALFORMED
    unknown = _internal(stack, world, service, path, {**body, "bogus": 1}, _headers())
    assert _assert_error(unknown, 422)["errors"] == {"json": {"bogus": ["Unknown field."]}}
    assert _fingerprint(databases, world) == before


def test_internal_unknown_ids_are_404(stack, databases, world):
    before = _fingerprint(databases, world)
    for service, path, body in INTERNAL_ROUTES[1:3]:
        for name in ("project", "photo"):
            if "{" + name + "}" in path:
                _assert_error(
                    _internal(
                        stack, world, service, path.replace("{" + name + "}", str(uuid.uuid4())), body, _headers()
                    ),
                    404,
                )
    _assert_error(
        _internal(
            stack,
            world,
            "commerce",
            "/internal/checkout",
            {**INTERNAL_ROUTES[4][2], "projectId": str(uuid.uuid4())},
            _headers(),
        ),
        404,
    )
    assert _fingerprint(databases, world) == before


# --- exact fields, camelCase, times with milliseconds and Z ---------------------------------------------------------


def _check_shape(body, where=""):
    """Every key camelCase; every time (``…At``, ``validFrom``, ``validUntil``) UTC with milliseconds and Z."""
    if isinstance(body, list):
        for item in body:
            _check_shape(item, where)
    elif isinstance(body, dict):
        for key, value in body.items():
            assert CAMEL.match(key), f"{where}: {key} is not camelCase"
            if (key.endswith("At") or key in ("validFrom", "validUntil")) and value is not None:
                assert isinstance(value, str) and TIME.match(value), f"{where}: {key}={value!r}"
            _check_shape(value, f"{where}.{key}")


def test_every_success_has_the_contract_fields_and_times(
    gw, stack, databases, ready_photos, operator, photographer, new_project
):
    def call(method, path, status, token=operator.token, **kwargs):
        response = gw.request(method, path, token=token, **kwargs)
        assert response.status_code == status, f"{method} {path}: {response.text}"
        body = response.json() if response.content else None
        _check_shape(body, f"{method} {path}")
        return body

    project = new_project(
        operator, type="public", status="live", startAt="2026-06-01T10:00:00+02:00", endAt="2026-06-01T18:00:00Z"
    )
    pid = project["id"]
    assert set(call("GET", "/v1/operators/me", 200)) == {
        "id",
        "name",
        "email",
        "address",
        "billingAddress",
        "currency",
        "locale",
        "timezone",
        "profilePictureUrl",
        "createdAt",
        "updatedAt",
    }
    assert set(call("PATCH", "/v1/operators/me", 200, json={"name": "Renamed"})) >= {"createdAt", "updatedAt"}
    call("POST", f"/v1/projects/{pid}/photographers", 204, json={"photographerId": photographer.id})
    assert all(set(p) == SUMMARY_FIELDS for p in call("GET", "/v1/projects", 200))
    assert set(call("GET", f"/v1/projects/{pid}", 200)) == DETAIL_FIELDS
    assert set(call("PATCH", f"/v1/projects/{pid}", 200, json={"locationName": "Lyon"})) == DETAIL_FIELDS
    status = call("PATCH", f"/v1/projects/{pid}/status", 200, json={"status": "live"})  # the same status: no-op
    assert set(status) == DETAIL_FIELDS and status["status"] == "live"
    assert status["startAt"] == "2026-06-01T08:00:00.000Z"

    mine = call("GET", "/v1/photographers/me/projects", 200, token=photographer.token)
    assert [p["id"] for p in mine] == [pid] and set(mine[0]) == SUMMARY_FIELDS
    one = call("GET", f"/v1/photographers/me/projects/{pid}", 200, token=photographer.token)
    assert set(one) == DETAIL_FIELDS and one["photographers"] == [
        {"id": photographer.id, "name": photographer.name, "email": photographer.email}
    ]
    roster = call("GET", "/v1/photographers", 200)
    assert set(roster[0]) == PHOTOGRAPHER_FIELDS and roster[0]["projects"] == [{"id": pid, "name": "Summer Gala"}]
    renamed = call("PATCH", f"/v1/photographers/{photographer.id}", 200, json={"name": "Pat Renamed"})
    assert set(renamed) == PHOTOGRAPHER_FIELDS and renamed["name"] == "Pat Renamed"
    assert renamed["projects"] == [{"id": pid, "name": "Summer Gala"}]

    rule = call("POST", "/v1/pricing/rules", 201, json={"pricePerPhotoCents": 400, "validFrom": "2026-01-01T00:00:00Z"})
    assert set(call("PATCH", f"/v1/pricing/rules/{rule['id']}", 200, json={"compareAtPriceCents": 500})) == RULE_FIELDS
    assert [set(r) for r in call("GET", "/v1/pricing/rules", 200)] == [RULE_FIELDS]
    call("DELETE", f"/v1/pricing/rules/{rule['id']}", 204)
    call("POST", "/v1/pricing/rules", 201, json={"pricePerPhotoCents": 400})
    discount = call(
        "POST",
        "/v1/discounts",
        201,
        json={"name": "D", "type": "percentage", "value": 10, "validUntil": "2030-01-01T00:00:00+01:00"},
    )
    assert discount["validUntil"] == "2029-12-31T23:00:00.000Z"
    assert set(call("PATCH", f"/v1/discounts/{discount['id']}", 200, json={"name": "E"})) == DISCOUNT_FIELDS
    assert [set(d) for d in call("GET", "/v1/discounts", 200)] == [DISCOUNT_FIELDS]
    call("POST", f"/v1/projects/{pid}/discounts", 204, json={"discountId": discount["id"]})
    promo = call(
        "POST",
        "/v1/promo-codes",
        201,
        json={"code": "SHAPE", "discountId": discount["id"], "validFrom": "2026-01-01T00:00:00Z"},
    )
    assert set(call("PATCH", f"/v1/promo-codes/{promo['id']}", 200, json={"maxUses": 5})) == PROMO_FIELDS
    assert [set(c) for c in call("GET", "/v1/promo-codes", 200)] == [PROMO_FIELDS]
    call("POST", f"/v1/projects/{pid}/invites/bulk", 202, json={"emails": [f"s-{uuid.uuid4().hex[:8]}@example.com"]})
    assert [set(i) for i in call("GET", f"/v1/projects/{pid}/invites", 200)] == [
        {"id", "email", "registrationStatus", "createdAt", "expiresAt"}
    ]

    feed = {name: stack.service_url(name) for name in ("auth", "projects", "commerce")}
    guest = requests.post(
        f"{feed['auth']}/internal/participants",
        headers=_headers(),
        json={"email": f"g-{uuid.uuid4().hex[:10]}@example.com", "name": "Guest"},
        timeout=10,
    ).json()
    joined = requests.post(
        f"{feed['projects']}/internal/projects/{pid}/members",
        headers=_headers(),
        json={"participantId": guest["id"], "email": guest["email"]},
        timeout=10,
    )
    assert joined.status_code == 201 and TIME.match(joined.json()["joinedAt"])
    assert joined.json() == {"projectId": pid, "participantId": guest["id"], "joinedAt": joined.json()["joinedAt"]}
    photos = ready_photos(pid, photographer.id, 2)
    tagged = requests.post(
        f"{feed['projects']}/internal/photos/{photos[0]}/tags",
        headers=_headers(),
        json={"participantIds": [guest["id"]]},
        timeout=10,
    )
    assert tagged.status_code == 204 and tagged.content == b""
    bought = requests.post(
        f"{feed['commerce']}/internal/checkout",
        headers=_headers(),
        timeout=30,
        json={"projectId": pid, "participant": guest, "photoIds": photos, "promoCode": "shape"},
    )
    assert bought.status_code == 201, bought.text
    _check_shape(bought.json(), "checkout")

    listed = call("GET", "/v1/purchases", 200)
    assert set(listed) == {"items", "total", "page", "limit"} and set(listed["items"][0]) == PURCHASE_FIELDS
    detail = call("GET", f"/v1/purchases/{bought.json()['id']}", 200)
    assert set(detail) == PURCHASE_FIELDS | {"downloads"}
    assert set(detail["project"]) == {"id", "name"} and set(detail["user"]) == {"id", "email", "name"}
    assert sorted(detail["downloads"], key=lambda d: d["photoId"]) == [{"photoId": p} for p in sorted(photos)]
    assert detail["appliedPromoCode"] == "SHAPE" and detail["createdAt"] == listed["items"][0]["createdAt"]
    call("GET", "/v1/analytics", 200)


# --- Stripe's webhook: every bad delivery is a 400 that moves nothing -----------------------------------------------


def _signed(payload: str, timestamp: int) -> dict:
    return stripe_events.signed(payload, STRIPE_WEBHOOK_SECRET, timestamp)[1]


@pytest.mark.parametrize("case", ["stale signature", "signed but not JSON", "signature of another body"])
def test_webhook_refusals_are_400_and_change_nothing(gw, databases, world, case):
    purchase = gw.get(f"/v1/purchases/{world['purchase']}", token=world["owner"].token).json()
    event = json.dumps(stripe_events.intent_event("payment_intent.succeeded", purchase))
    now = int(time.time())
    payload, headers = {
        "stale signature": (event, _signed(event, now - 301)),  # outside the 5-minute tolerance
        "signed but not JSON": ("{not json", _signed("{not json", now)),
        "signature of another body": (event, _signed(event.replace("succeeded", "canceled"), now)),
    }[case]
    before = _fingerprint(databases, world)
    response = gw.post("/v1/webhooks/stripe", data=payload, headers=headers)
    body = _assert_error(response, 400)
    assert (body["status"], body["errors"]) == ("Bad Request", {})
    assert _fingerprint(databases, world) == before
    assert gw.get(f"/v1/purchases/{purchase['id']}", token=world["owner"].token).json()["status"] == "pending"
    with databases["commerce"].connect() as connection:
        assert (
            connection.execute(
                text("SELECT count(*) FROM stripe_events WHERE id = :id"), {"id": json.loads(event)["id"]}
            ).scalar()
            == 0
        )
