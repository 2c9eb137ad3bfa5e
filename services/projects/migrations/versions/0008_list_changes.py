"""list changes: every statement changing what the project list or the roster shows notifies them

The kept list answers (backoffice_common.answers) are sent with no round trip while the worker has heard of no
change to their list and operator (backoffice_common.list_changes). These triggers say so, for each operator whose
rows a statement changed, whoever made the change:

- ``projects`` → the project list and the roster (which shows each photographer's projects by name);
- ``project_counts`` → the project list (its three counts; the rollup triggers keep them);
- ``photographers`` → the roster;
- ``project_photographers`` → the roster (the project list's photographer count comes through project_counts).

Revision ID: 0008
Revises: 0007
"""

from alembic import op

from backoffice_common.list_changes import drop_list_changes_sql, notify_list_changes_sql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_BY_PROJECT = {"operator": "p.operator_id", "join": "JOIN projects p ON p.id = c.project_id"}
NOTIFIED = {
    "projects": (("projects", "photographers"), {}),
    "project_counts": (("projects",), _BY_PROJECT),
    "photographers": (("photographers",), {}),
    "project_photographers": (("photographers",), _BY_PROJECT),
}


def upgrade() -> None:
    for table, (lists, how) in NOTIFIED.items():
        op.execute(notify_list_changes_sql(table, lists, **how))


def downgrade() -> None:
    for table in NOTIFIED:
        op.execute(drop_list_changes_sql(table))
