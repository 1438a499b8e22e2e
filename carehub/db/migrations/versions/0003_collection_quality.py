"""Collection quality per connector batch: counts, field completeness, warnings, rejected positions.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quality_batch",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("connector", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read", sa.Integer, nullable=False),
        sa.Column("published", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
    )
    op.create_index("ix_quality_batch_connector", "quality_batch", ["connector"])
    op.create_table(
        "quality_field",
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("quality_batch.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("field", sa.String(128), primary_key=True),
        sa.Column("filled", sa.Integer, nullable=False),
    )
    op.create_table(
        "quality_warning",
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("quality_batch.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("rule", sa.String(128), primary_key=True),
        sa.Column("records", sa.Integer, nullable=False),
    )
    op.create_table(
        "quality_reject",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("quality_batch.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.String(255), nullable=False),
        sa.Column("rule", sa.String(128), nullable=False),
        sa.Column("field", sa.String(128), nullable=False),
        sa.Column("problems", sa.Integer, nullable=False),
    )
    op.create_index("ix_quality_reject_batch_id", "quality_reject", ["batch_id"])


def downgrade() -> None:
    op.drop_table("quality_reject")
    op.drop_table("quality_warning")
    op.drop_table("quality_field")
    op.drop_table("quality_batch")
