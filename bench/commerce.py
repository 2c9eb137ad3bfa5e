"""Commerce catalog benchmarks: a 1,000-item catalog and sequential-call latencies.

``run.py --with-extras`` uses both on an operator of its own (the at-size catalog of ``make bench`` is
``seed.py``'s); ``python bench/commerce.py`` runs the latencies alone on a stack of its own.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from backoffice_common.config import DEV_INTERNAL_SECRET
from backoffice_common.internal import make_service_token

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import bench_stack, timed  # noqa: E402  (bench/ is a folder of scripts, not a package)


def seed_catalog(stack, operator_id: str, *, rules: int = 1000, discounts: int = 1000, codes: int = 1000) -> None:
    """``rules`` pricing rules (one per project scope, so none overlap), ``discounts`` discounts and ``codes``
    promo codes for the operator. Seeding is not under test, so it goes straight into the database."""
    engine = create_engine(stack.cluster.url(stack.db_prefix + "commerce"))
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO pricing_rules (id, operator_id, project_id, price_per_photo_cents, is_active, created_at, "
                "updated_at) SELECT gen_random_uuid(), :o, gen_random_uuid(), 100 + g, true, "
                "now() - g * interval '1 second', now() FROM generate_series(1, :n) g"
            ),
            {"o": operator_id, "n": rules},
        )
        connection.execute(
            text(
                "INSERT INTO discounts (id, operator_id, name, type, value, is_active, created_at, updated_at) "
                "SELECT gen_random_uuid(), :o, 'Discount ' || g, 'percentage', 1 + g % 50, true, "
                "now() - g * interval '1 second', now() FROM generate_series(1, :n) g"
            ),
            {"o": operator_id, "n": discounts},
        )
        connection.execute(
            text(
                "INSERT INTO promo_codes (id, operator_id, code, discount_id, times_used, is_active, created_at, "
                "updated_at) "
                "SELECT gen_random_uuid(), :o, 'BENCH' || n, d.id, 0, true, now() - n * interval '1 second', now() "
                "FROM (SELECT id, row_number() OVER () AS n FROM discounts WHERE operator_id = :o LIMIT :n) d"
            ),
            {"o": operator_id, "n": codes},
        )
        connection.execute(text("ANALYZE"))
    engine.dispose()


def commerce_scenarios(stack, gw, operator, repeat: int = 200) -> dict:
    """Sequential-call latencies: a project's discount links, a rule write, and the quote with 20 linked
    discounts and a promo code (design §9's ``POST /internal/checkout/quote``, called directly)."""
    project = gw.post(
        "/v1/projects", token=operator.token, json={"name": "Priced", "status": "live", "type": "public"}
    ).json()
    assert gw.post("/v1/pricing/rules", token=operator.token, json={"pricePerPhotoCents": 499}).status_code == 201
    discounts = gw.get("/v1/discounts", token=operator.token).json()
    for discount in discounts[:20]:
        linked = gw.post(
            f"/v1/projects/{project['id']}/discounts", token=operator.token, json={"discountId": discount["id"]}
        )
        assert linked.status_code == 204, linked.text

    def ok(response, status=200):
        assert response.status_code == status, response.text
        return response

    def create_and_delete_rule():
        rule = ok(
            gw.post(
                "/v1/pricing/rules", token=operator.token, json={"pricePerPhotoCents": 299, "projectId": project["id"]}
            ),
            201,
        ).json()
        ok(gw.delete(f"/v1/pricing/rules/{rule['id']}", token=operator.token), 204)

    commerce = stack.service_url("commerce")
    secret = stack.service_env("commerce").get("INTERNAL_TOKEN_SECRET", DEV_INTERNAL_SECRET)
    service = {"Authorization": f"Bearer {make_service_token(secret, 'bench')}"}
    http = requests.Session()
    # The quote refuses what checkout refuses: a member of the project, and 20 of its ready photos.
    buyer = ok(
        http.post(
            f"{stack.service_url('auth')}/internal/participants",
            headers=service,
            timeout=10,
            json={"email": f"b-{uuid.uuid4().hex[:10]}@example.com", "name": "B"},
        ),
        201,
    ).json()
    ok(
        http.post(
            f"{stack.service_url('projects')}/internal/projects/{project['id']}/members",
            headers=service,
            timeout=10,
            json={"participantId": buyer["id"], "email": buyer["email"]},
        ),
        201,
    )
    photo_ids = [str(uuid.uuid4()) for _ in range(20)]
    engine = create_engine(stack.cluster.url(stack.db_prefix + "projects"))
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO photos (id, project_id, photographer_id, object_key, filename, content_type, size_bytes, "
                "status) VALUES (:id, :project, :photographer, :key, 'a.jpg', 'image/jpeg', 1, 'ready')"
            ),
            [
                {"id": photo_id, "project": project["id"], "photographer": str(uuid.uuid4()), "key": f"b/{photo_id}"}
                for photo_id in photo_ids
            ],
        )
    engine.dispose()
    quote_body = {"projectId": project["id"], "participant": buyer, "photoIds": photo_ids, "promoCode": "BENCH1"}
    quote = ok(http.post(f"{commerce}/internal/checkout/quote", headers=service, json=quote_body, timeout=10)).json()
    assert quote["discountAppliedCents"] > 0, quote
    return {
        "GET /v1/projects/:id/discounts (20 links)": timed(
            lambda: ok(gw.get(f"/v1/projects/{project['id']}/discounts", token=operator.token)), repeat
        ),
        "POST + DELETE /v1/pricing/rules (project override)": timed(create_and_delete_rule, repeat),
        "POST /internal/checkout/quote (20 photos, 20 linked discounts, promo code; direct)": timed(
            lambda: ok(http.post(f"{commerce}/internal/checkout/quote", headers=service, json=quote_body, timeout=10)),
            repeat,
        ),
    }


def main() -> int:
    from devstack.client import Gateway

    with bench_stack("backoffice-bench-commerce-") as (_, _, stack):
        gw = Gateway(stack.gateway_url)
        operator = gw.register_operator(name="Bench Commerce", password="bench-password-1")
        seed_catalog(stack, operator.id)
        for name, figures in commerce_scenarios(stack, gw, operator).items():
            print(f"{name}: {json.dumps(figures)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
