"""rollups: purchase counts and sales figures, kept current by triggers

The purchase list's total and the analytics figures used to count every purchase per request. These
tables hold the running totals instead (deltas in the same transaction as the purchase, so concurrent
writers add up); ``rollups_rebuild()`` recounts them from the facts (run here to fill them, and by
``make stats-rebuild``).

- ``purchase_counts``: purchases and their totals per operator, project and status (the list's total,
  and paid purchases and revenue per project).
- ``sales_ledger``: per paid purchase, what it has added to the sales rollups (its photographers and their
  shares). A purchase's change is settled against it — take out what it added, add what it now is —
  whatever the order of the purchase's and its items' writes.
- ``paid_sales``: paid purchases per project and set of photographers in them (a purchase counts once for
  any of its photographers); ``photographer_sales``: each photographer's shares per project.
- ``buyer_projects`` / ``buyer_photographers``: paid purchases per buyer and project (and photographer);
  ``buyers``: in how many of the operator's projects each buyer paid; ``operator_sales``: the operator's
  distinct buyers.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from backoffice_common.rollups import Rollup, rebuild_function_sql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

FACTS = ("purchases", "purchase_items")

# A paid purchase as the sales rollups see it: buyer, project, and shares by photographer (sorted).
PAID_SALES = """
    SELECT p.id AS purchase_id, p.operator_id, p.project_id, p.participant_id,
           coalesce(s.photographers, '{}') AS photographers, coalesce(s.shares, '{}') AS shares
    FROM purchases p
    LEFT JOIN LATERAL (
      SELECT array_agg(g.photographer_id ORDER BY g.photographer_id) AS photographers,
             array_agg(g.share ORDER BY g.photographer_id) AS shares
      FROM (SELECT photographer_id, sum(share_cents)::bigint AS share FROM purchase_items
            WHERE purchase_id = p.id GROUP BY photographer_id) g) s ON true
    WHERE p.status = 'paid'"""

ROLLUPS = (
    Rollup(
        "purchase_counts",
        ("operator_id", "project_id", "status"),
        ("purchases", "total_cents"),
        """
        SELECT operator_id, project_id, status, count(*)::int AS purchases, sum(total_cents)::bigint AS total_cents
        FROM purchases GROUP BY operator_id, project_id, status""",
    ),
    Rollup(
        "sales_ledger",
        ("purchase_id",),
        ("operator_id", "project_id", "participant_id", "photographers", "shares"),
        PAID_SALES,
        present="true",
    ),
    Rollup(
        "paid_sales",
        ("operator_id", "project_id", "photographers"),
        ("purchases",),
        """
        SELECT operator_id, project_id, photographers, count(*)::int AS purchases FROM sales_ledger
        GROUP BY operator_id, project_id, photographers""",
    ),
    Rollup(
        "photographer_sales",
        ("operator_id", "project_id", "photographer_id"),
        ("share_cents",),
        """
        SELECT l.operator_id, l.project_id, s.photographer_id, sum(s.share)::bigint AS share_cents
        FROM sales_ledger l, unnest(l.photographers, l.shares) AS s(photographer_id, share)
        GROUP BY l.operator_id, l.project_id, s.photographer_id""",
    ),
    Rollup(
        "buyer_projects",
        ("operator_id", "project_id", "participant_id"),
        ("purchases",),
        """
        SELECT operator_id, project_id, participant_id, count(*)::int AS purchases FROM sales_ledger
        GROUP BY operator_id, project_id, participant_id""",
    ),
    Rollup(
        "buyer_photographers",
        ("operator_id", "photographer_id", "project_id", "participant_id"),
        ("purchases",),
        """
        SELECT l.operator_id, s.photographer_id, l.project_id, l.participant_id, count(*)::int AS purchases
        FROM sales_ledger l, unnest(l.photographers) AS s(photographer_id)
        GROUP BY l.operator_id, s.photographer_id, l.project_id, l.participant_id""",
    ),
    Rollup(
        "buyers",
        ("operator_id", "participant_id"),
        ("projects",),
        """
        SELECT operator_id, participant_id, count(DISTINCT project_id)::int AS projects FROM sales_ledger
        GROUP BY operator_id, participant_id""",
    ),
    Rollup(
        "operator_sales",
        ("operator_id",),
        ("buyers",),
        """
        SELECT operator_id, count(*)::int AS buyers FROM buyers WHERE projects > 0 GROUP BY operator_id""",
    ),
)
# The rollups after sales_ledger are counted from it: the rebuild has just made it right.
REBUILD = rebuild_function_sql(facts=FACTS, rollups=ROLLUPS)

TRIGGERS = (
    r"""
-- The list's counts: every purchase, by status.
CREATE FUNCTION rollup_purchase_count(p purchases, delta integer) RETURNS void LANGUAGE sql AS $$
  INSERT INTO purchase_counts AS c (operator_id, project_id, status, purchases, total_cents)
  VALUES (p.operator_id, p.project_id, p.status, delta, delta * p.total_cents::bigint)
  ON CONFLICT (operator_id, project_id, status) DO UPDATE
    SET purchases = c.purchases + excluded.purchases, total_cents = c.total_cents + excluded.total_cents
$$;

-- What one paid purchase adds to (delta 1) or takes from (delta -1) the sales rollups.
CREATE FUNCTION rollup_sale(sale sales_ledger, delta integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  n integer;
BEGIN
  INSERT INTO paid_sales AS s (operator_id, project_id, photographers, purchases)
  VALUES (sale.operator_id, sale.project_id, sale.photographers, delta)
  ON CONFLICT (operator_id, project_id, photographers) DO UPDATE SET purchases = s.purchases + delta;
  INSERT INTO photographer_sales AS s (operator_id, project_id, photographer_id, share_cents)
  SELECT sale.operator_id, sale.project_id, x.photographer_id, delta * x.share
  FROM unnest(sale.photographers, sale.shares) AS x(photographer_id, share) ORDER BY x.photographer_id
  ON CONFLICT (operator_id, project_id, photographer_id)
    DO UPDATE SET share_cents = s.share_cents + excluded.share_cents;
  INSERT INTO buyer_photographers AS b (operator_id, photographer_id, project_id, participant_id, purchases)
  SELECT sale.operator_id, x.photographer_id, sale.project_id, sale.participant_id, delta
  FROM unnest(sale.photographers) AS x(photographer_id) ORDER BY x.photographer_id
  ON CONFLICT (operator_id, photographer_id, project_id, participant_id) DO UPDATE
    SET purchases = b.purchases + delta;
  INSERT INTO buyer_projects AS b (operator_id, project_id, participant_id, purchases)
  VALUES (sale.operator_id, sale.project_id, sale.participant_id, delta)
  ON CONFLICT (operator_id, project_id, participant_id) DO UPDATE SET purchases = b.purchases + delta
  RETURNING b.purchases INTO n;
  IF (delta > 0 AND n = 1) OR (delta < 0 AND n = 0) THEN  -- the buyer's first (or last) sale in this project
    INSERT INTO buyers AS b (operator_id, participant_id, projects)
    VALUES (sale.operator_id, sale.participant_id, delta)
    ON CONFLICT (operator_id, participant_id) DO UPDATE SET projects = b.projects + delta
    RETURNING b.projects INTO n;
    IF (delta > 0 AND n = 1) OR (delta < 0 AND n = 0) THEN  -- ... and with the operator
      INSERT INTO operator_sales AS o (operator_id, buyers) VALUES (sale.operator_id, delta)
      ON CONFLICT (operator_id) DO UPDATE SET buyers = o.buyers + delta;
    END IF;
  END IF;
END $$;

-- Settle a purchase against the ledger: take out what it had added, add what it is now (if paid).
CREATE FUNCTION rollup_settle_sale(purchase uuid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  have sales_ledger%ROWTYPE;
  want sales_ledger%ROWTYPE;
BEGIN
  SELECT * INTO want FROM ("""  # noqa: S608 - PAID_SALES is this file's own constant SQL, no input
    + PAID_SALES
    + r""") paid WHERE paid.purchase_id = purchase;
  SELECT * INTO have FROM sales_ledger WHERE purchase_id = purchase FOR UPDATE;
  IF have.purchase_id IS NOT DISTINCT FROM want.purchase_id AND have.operator_id IS NOT DISTINCT FROM want.operator_id
     AND have.project_id IS NOT DISTINCT FROM want.project_id
     AND have.participant_id IS NOT DISTINCT FROM want.participant_id
     AND have.photographers IS NOT DISTINCT FROM want.photographers
     AND have.shares IS NOT DISTINCT FROM want.shares THEN
    RETURN;
  END IF;
  IF have.purchase_id IS NOT NULL THEN
    PERFORM rollup_sale(have, -1);
    DELETE FROM sales_ledger WHERE purchase_id = purchase;
  END IF;
  IF want.purchase_id IS NOT NULL THEN
    INSERT INTO sales_ledger SELECT want.*;
    PERFORM rollup_sale(want, 1);
  END IF;
END $$;

CREATE FUNCTION rollups_purchase_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN PERFORM rollup_purchase_count(OLD, -1); END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN PERFORM rollup_purchase_count(NEW, 1); END IF;
  IF TG_OP = 'DELETE' THEN
    PERFORM rollup_settle_sale(OLD.id);
  ELSIF TG_OP = 'INSERT' AND NEW.status <> 'paid' THEN
    NULL;  -- checkout's pending purchase: nothing sold yet
  ELSE
    PERFORM rollup_settle_sale(NEW.id);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER rollups_insert_delete AFTER INSERT OR DELETE ON purchases
  FOR EACH ROW EXECUTE FUNCTION rollups_purchase_changed();
CREATE TRIGGER rollups_update AFTER UPDATE ON purchases FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.total_cents IS DISTINCT FROM NEW.total_cents
        OR OLD.operator_id IS DISTINCT FROM NEW.operator_id OR OLD.project_id IS DISTINCT FROM NEW.project_id
        OR OLD.participant_id IS DISTINCT FROM NEW.participant_id)
  EXECUTE FUNCTION rollups_purchase_changed();

-- Items change a sale only once their purchase is paid (checkout writes them while it is pending).
CREATE FUNCTION rollups_item_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  purchase uuid;
BEGIN
  IF TG_OP = 'DELETE' THEN purchase := OLD.purchase_id; ELSE purchase := NEW.purchase_id; END IF;
  IF EXISTS (SELECT 1 FROM purchases WHERE id = purchase AND status = 'paid')
     OR EXISTS (SELECT 1 FROM sales_ledger WHERE purchase_id = purchase) THEN
    PERFORM rollup_settle_sale(purchase);
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.purchase_id <> NEW.purchase_id THEN
    PERFORM rollup_settle_sale(OLD.purchase_id);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER rollups AFTER INSERT OR UPDATE OR DELETE ON purchase_items
  FOR EACH ROW EXECUTE FUNCTION rollups_item_changed();
"""
)


def _counter(name: str, *keys: sa.Column, values: tuple[str, ...] = ("purchases",)) -> None:
    op.create_table(
        name,
        *keys,
        *(
            sa.Column(
                value, sa.BigInteger() if value.endswith("_cents") else sa.Integer(), server_default="0", nullable=False
            )
            for value in values
        ),
        sa.PrimaryKeyConstraint(*(key.name for key in keys), name=f"pk_{name}"),
    )


def _uuid(name: str) -> sa.Column:
    return sa.Column(name, sa.Uuid(), nullable=False)


def upgrade() -> None:
    _counter(
        "purchase_counts",
        _uuid("operator_id"),
        _uuid("project_id"),
        sa.Column("status", sa.String(16), nullable=False),
        values=("purchases", "total_cents"),
    )
    op.create_table(
        "sales_ledger",
        _uuid("purchase_id"),
        _uuid("operator_id"),
        _uuid("project_id"),
        _uuid("participant_id"),
        sa.Column("photographers", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("shares", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.PrimaryKeyConstraint("purchase_id", name="pk_sales_ledger"),
    )
    _counter(
        "paid_sales",
        _uuid("operator_id"),
        _uuid("project_id"),
        sa.Column("photographers", postgresql.ARRAY(sa.Uuid()), nullable=False),
    )
    _counter(
        "photographer_sales",
        _uuid("operator_id"),
        _uuid("project_id"),
        _uuid("photographer_id"),
        values=("share_cents",),
    )
    _counter("buyer_projects", _uuid("operator_id"), _uuid("project_id"), _uuid("participant_id"))
    _counter(
        "buyer_photographers",
        _uuid("operator_id"),
        _uuid("photographer_id"),
        _uuid("project_id"),
        _uuid("participant_id"),
    )
    _counter("buyers", _uuid("operator_id"), _uuid("participant_id"), values=("projects",))
    _counter("operator_sales", _uuid("operator_id"), values=("buyers",))
    op.execute(TRIGGERS)
    op.execute(REBUILD)
    op.execute("SELECT rollups_rebuild()")


def downgrade() -> None:
    op.execute("DROP TRIGGER rollups ON purchase_items")
    op.execute("DROP TRIGGER rollups_update ON purchases")
    op.execute("DROP TRIGGER rollups_insert_delete ON purchases")
    op.execute(
        "DROP FUNCTION rollups_rebuild(), rollups_item_changed(), rollups_purchase_changed(), "
        "rollup_settle_sale(uuid), rollup_sale(sales_ledger, integer), "
        "rollup_purchase_count(purchases, integer)"
    )
    for table in (
        "operator_sales",
        "buyers",
        "buyer_photographers",
        "buyer_projects",
        "photographer_sales",
        "paid_sales",
        "sales_ledger",
        "purchase_counts",
    ):
        op.drop_table(table)
