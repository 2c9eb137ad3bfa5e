"""list changes: every statement changing what a list shows notifies it

The kept list answers (backoffice_common.answers) are sent with no round trip while the worker has heard of no
change to their list and operator (backoffice_common.list_changes). These triggers say so, for each operator whose
rows a statement changed, whoever made the change: the three catalogs from their tables, and the purchase list
from ``purchases`` and ``purchase_counts`` (its total).

Revision ID: 0011
Revises: 0010
"""

from alembic import op

from backoffice_common.list_changes import drop_list_changes_sql, notify_list_changes_sql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

NOTIFIED = {
    "discounts": ("discounts",),
    "promo_codes": ("promo_codes",),
    "pricing_rules": ("pricing_rules",),
    "purchases": ("purchases",),
    "purchase_counts": ("purchases",),
}


def upgrade() -> None:
    for table, lists in NOTIFIED.items():
        op.execute(notify_list_changes_sql(table, lists))


def downgrade() -> None:
    for table in NOTIFIED:
        op.execute(drop_list_changes_sql(table))
