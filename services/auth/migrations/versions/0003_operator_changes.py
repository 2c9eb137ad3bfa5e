"""operator changes: every statement changing an operator's account or profile notifies it

GET /v1/operators/me keeps its answer per worker (backoffice_common.answers) and sends it with no round trip while
the worker has heard of no change to that operator (backoffice_common.list_changes: the list "operator", a list of
one). Accounts of other roles notify too, under their own id, which no answer is kept under: harmless.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from backoffice_common.list_changes import drop_list_changes_sql, notify_list_changes_sql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NOTIFIED = {
    "accounts": "c.id",
    "operator_profiles": "c.account_id",
}


def upgrade() -> None:
    for table, operator in NOTIFIED.items():
        op.execute(notify_list_changes_sql(table, ("operator",), operator=operator))


def downgrade() -> None:
    for table in NOTIFIED:
        op.execute(drop_list_changes_sql(table))
