"""Connector status: state, last successful poll, last error and running totals per connector.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connector_status",
        sa.Column("connector", sa.String(128), primary_key=True),
        sa.Column("target_topic", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("desired_state", sa.String(16), nullable=False, server_default="RUNNING"),
        sa.Column("last_poll_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.Column("last_error_at", sa.DateTime(timezone=True)),
        sa.Column("read_total", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("published_total", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rejected_total", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("connector_status")
