"""The six basic datasets, source records, links, blocks, conflicts, alerts and the changelog outbox.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: Created from their declarations as of this revision; later changes come as later revisions.
TABLES = (
    "source_record", "person_link", "elder_block", "record_block", "identity_conflict", "risk_alert", "changelog_outbox",
    "health_record", "care_service", "institution", "practitioner", "supervision",
)


def _declared() -> sa.MetaData:
    import consumers.reconcile  # noqa: F401 - declares every table on the shared metadata
    from carehub.db.metadata import metadata

    return metadata


def upgrade() -> None:
    # The slice's elder table gains status, death and provenance columns. Reconcilers rebuild
    # every dataset from the source topics (kept forever), so they start again from offset 0.
    op.drop_table("elder")
    op.execute(sa.text("DELETE FROM consumer_offset"))
    declared = _declared()
    bind = op.get_bind()
    for name in ("elder", *TABLES):
        declared.tables[name].create(bind)


def downgrade() -> None:
    declared = _declared()
    bind = op.get_bind()
    for name in reversed(("elder", *TABLES)):
        declared.tables[name].drop(bind)
