"""buyer_photographers: an index ordered by buyer within each photographer, of rows that count

Analytics narrowed to photographers counts the distinct buyers of their photos. The primary key orders a
photographer's rows by project, and the heap had to be read for ``purchases > 0``. This partial index orders
them by buyer — the project kept in it for the scope filter — so the count reads the index alone and merges one
ordered range per photographer, dropping repeats as they pass (Merge Append → Unique) instead of hashing every
row: 8.5 ms against 15 ms for two photographers at issue 8's size.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_buyer_photographers_photographer_participant",
        "buyer_photographers",
        ["operator_id", "photographer_id", "participant_id"],
        postgresql_include=["project_id"],
        postgresql_where=sa.text("purchases > 0"),
    )


def downgrade() -> None:
    op.drop_index("ix_buyer_photographers_photographer_participant", table_name="buyer_photographers")
