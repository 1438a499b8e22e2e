"""Tables of the hub's own schema registry: schemas by id, subject versions, compatibility config."""

import sqlalchemy as sa

from carehub.db.metadata import metadata

registry_schema = sa.Table(
    "registry_schema",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),  # sha256 of canonical form
    sa.Column("schema", sa.Text, nullable=False),
)

registry_subject_version = sa.Table(
    "registry_subject_version",
    metadata,
    sa.Column("subject", sa.String(255), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("schema_id", sa.Integer, sa.ForeignKey("registry_schema.id"), nullable=False),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

#: subject "" holds the global compatibility level.
registry_config = sa.Table(
    "registry_config",
    metadata,
    sa.Column("subject", sa.String(255), primary_key=True),
    sa.Column("compatibility", sa.String(32), nullable=False),
)
