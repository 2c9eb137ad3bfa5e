"""The sales rollups (migration 0006) against a recount from the purchases, after random histories.

Each history writes random purchases as checkout and the webhooks do — pending with their items, paid
at once (a free purchase), moved to paid, failed, refunded, failed then paid after all — and a few things
only a repair would do (items added to a paid purchase, a purchase deleted). Then the analytics figures
and the purchase list's totals must equal a plain recount, for several scopes and photographer sets, and
``rollups_rebuild()`` must find nothing to change.
"""

import random
import uuid

import pytest
from sqlalchemy import text

from backoffice_common.db import one_after_another
from commerce_service.models import Purchase, PurchaseItem
from commerce_service.stats.rules import purchase_stats

MOVES = {"pending": ["paid", "failed"], "paid": ["refunded"], "failed": ["paid"], "refunded": []}

RECOUNT = """
    SELECT count(*) AS purchases, coalesce(sum(revenue), 0) AS revenue, count(DISTINCT participant_id) AS buyers
    FROM (SELECT p.id, p.participant_id,
                 CASE WHEN CAST(:photographers AS uuid[]) IS NULL THEN p.total_cents
                      ELSE (SELECT sum(share_cents) FROM purchase_items i WHERE i.purchase_id = p.id
                            AND i.photographer_id = ANY(:photographers)) END AS revenue
          FROM purchases p
          WHERE p.operator_id = :operator AND p.status = 'paid' AND p.project_id = ANY(:scope)
            AND (CAST(:photographers AS uuid[]) IS NULL OR EXISTS (
                 SELECT 1 FROM purchase_items i WHERE i.purchase_id = p.id
                 AND i.photographer_id = ANY(:photographers)))) counted
"""


class History:
    def __init__(self, session, rng: random.Random):
        self.session, self.rng = session, rng
        self.operators = [uuid.uuid4(), uuid.uuid4()]
        self.projects = {operator: [uuid.uuid4() for _ in range(4)] for operator in self.operators}
        self.photographers = [uuid.uuid4() for _ in range(4)]
        self.buyers = [uuid.uuid4() for _ in range(8)]

    def purchase(self, operator, status):
        rng = self.rng
        photos = rng.randint(1, 4)
        total = rng.choice([0, 500, 1200, 999]) if status == "paid" else rng.choice([500, 1200, 999])
        purchase = Purchase(
            id=uuid.uuid4(),
            operator_id=operator,
            project_id=rng.choice(self.projects[operator]),
            project_name="P",
            participant_id=rng.choice(self.buyers),
            participant_email="b@x.io",
            participant_name="B",
            status=status,
            photo_count=photos,
            price_per_photo_cents=0,
            subtotal_cents=total,
            discount_applied_cents=0,
            total_cents=total,
            currency="EUR",
        )
        self.session.add(purchase)
        self.session.flush()
        shares = [total // photos] * photos
        shares[0] += total - sum(shares)
        self.session.add_all(
            [
                PurchaseItem(
                    purchase_id=purchase.id,
                    photo_id=uuid.uuid4(),
                    photographer_id=rng.choice(self.photographers),
                    share_cents=share,
                )
                for share in shares
            ]
        )

    def step(self) -> None:
        s, rng = self.session, self.rng
        operator = rng.choice(self.operators)
        action = rng.choice(["checkout", "checkout", "free", "move", "move", "move", "extra_item", "delete"])
        existing = s.query(Purchase).filter_by(operator_id=operator).all()
        if action in ("checkout", "free") or not existing:
            self.purchase(operator, "paid" if action == "free" else "pending")
        elif action == "move":
            purchase = rng.choice(existing)
            if MOVES[purchase.status]:
                purchase.status = rng.choice(MOVES[purchase.status])
        elif action == "extra_item":
            purchase = rng.choice(existing)
            s.add(
                PurchaseItem(
                    purchase_id=purchase.id,
                    photo_id=uuid.uuid4(),
                    photographer_id=rng.choice(self.photographers),
                    share_cents=0,
                )
            )
        elif action == "delete":
            s.delete(rng.choice(existing))
        s.flush()
        s.expire_all()

    def check(self) -> None:
        s, rng = self.session, self.rng
        for operator in self.operators:
            projects = self.projects[operator]
            scopes = [projects, rng.sample(projects, k=rng.randint(1, len(projects))), [projects[0], uuid.uuid4()]]
            for scope in scopes:
                for photographers in (None, rng.sample(self.photographers, k=2), self.photographers[:1]):
                    figures = purchase_stats(
                        read=one_after_another(s),
                        operator_id=operator,
                        project_ids=scope,
                        photographer_ids=photographers,
                    )
                    expected = s.execute(
                        text(RECOUNT), {"operator": operator, "scope": scope, "photographers": photographers}
                    ).one()
                    assert (figures.purchases_made, figures.revenue_in_cents, figures.buyers) == (
                        expected.purchases,
                        expected.revenue,
                        expected.buyers,
                    ), (scope, photographers)
                    assert sum(row.purchases_made for row in figures.projects) == expected.purchases
            counts = dict(
                s.execute(
                    text("SELECT status, sum(purchases) FROM purchase_counts WHERE operator_id = :o GROUP BY status"),
                    {"o": operator},
                ).all()
            )
            recounted = dict(
                s.execute(
                    text("SELECT status, count(*) FROM purchases WHERE operator_id = :o GROUP BY status"),
                    {"o": operator},
                ).all()
            )
            assert {k: v for k, v in counts.items() if v} == recounted
        assert s.execute(text("SELECT rollups_rebuild()")).scalar() == 0


@pytest.mark.parametrize("seed", range(6))
def test_rollups_equal_a_recount_after_random_histories(db_session, seed):
    history = History(db_session, random.Random(seed))
    for _ in range(6):
        for _ in range(40):
            history.step()
        history.check()


def test_rebuild_repairs_rollups_and_is_then_a_no_op(db_session):
    history = History(db_session, random.Random(7))
    for _ in range(150):
        history.step()
    db_session.execute(
        text("DELETE FROM sales_ledger WHERE purchase_id IN (SELECT purchase_id FROM sales_ledger LIMIT 3)")
    )
    db_session.execute(text("UPDATE purchase_counts SET purchases = purchases + 2"))
    db_session.execute(text("UPDATE operator_sales SET buyers = 0"))
    db_session.execute(text("DELETE FROM buyers"))
    assert db_session.execute(text("SELECT rollups_rebuild()")).scalar() > 0
    history.check()
