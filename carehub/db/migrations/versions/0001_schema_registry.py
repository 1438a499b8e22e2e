"""Schema registry: schemas by id, subject versions, compatibility config.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_schema",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("schema", sa.Text, nullable=False),
        sa.UniqueConstraint("fingerprint", name="uq_registry_schema_fingerprint"),
    )
    op.create_table(
        "registry_subject_version",
        sa.Column("subject", sa.String(255), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("schema_id", sa.Integer, sa.ForeignKey("registry_schema.id"), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "registry_config",
        sa.Column("subject", sa.String(255), primary_key=True),
        sa.Column("compatibility", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("registry_config")
    op.drop_table("registry_subject_version")
    op.drop_table("registry_schema")
