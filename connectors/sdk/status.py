"""Connector status: what `carehub connect status` and the metrics report about each connector."""

from __future__ import annotations

import sqlalchemy as sa

from carehub.db.metadata import metadata

#: RUNNING, PAUSED or FAILED; desired_state is what an operator asked for (RUNNING or PAUSED).
connector_status = sa.Table(
    "connector_status",
    metadata,
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
