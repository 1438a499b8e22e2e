"""Consumer-group offset samples: the window the lag rules judge.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lag_sample",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.String(255), nullable=False),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("sampled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("committed", sa.BigInteger, nullable=False),
        sa.Column("end_offset", sa.BigInteger, nullable=False),
        sa.Column("committed_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lag_seconds", sa.Float),
    )
    op.create_index("ix_lag_sample_partition", "lag_sample", ["group_id", "topic", "partition", "sampled_at"])
    op.create_index("ix_lag_sample_sampled_at", "lag_sample", ["sampled_at"])


def downgrade() -> None:
    op.drop_table("lag_sample")
