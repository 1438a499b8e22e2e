"""The query API's audit log: who read which dataset rows, when, and how many.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("profile", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("endpoint", sa.String(32), nullable=False),
        sa.Column("datasets", sa.String(200), nullable=False),
        sa.Column("subject_key", sa.String(64)),
        sa.Column("query", sa.Text),
        sa.Column("results", sa.Integer, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("client", sa.String(64)),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_profile", "audit_log", ["profile"])
    op.create_index("ix_audit_log_subject_key", "audit_log", ["subject_key"])


def downgrade() -> None:
    op.drop_table("audit_log")
