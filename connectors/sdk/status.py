"""Connector status: what `carehub connect status` and the metrics report about each connector."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa

from carehub.db.metadata import metadata
from carehub.errors import CarehubError

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

#: The longest last_error kept; a source's error can quote a whole response.
ERROR_CHARS = 2000


class ConnectorState(StrEnum):
    RUNNING = "RUNNING"  # polled its source last time, or is polling it now
    PAUSED = "PAUSED"  # an operator paused it: it polls nothing until resumed
    FAILED = "FAILED"  # its last poll failed: last_error says why


class UnknownConnector(CarehubError):
    """An operator named a connector that has never run against this hub database."""


@dataclass(frozen=True)
class ConnectorStatus:
    connector: str
    target_topic: str
    state: ConnectorState
    desired_state: ConnectorState
    last_poll_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    read_total: int
    published_total: int
    rejected_total: int
    updated_at: datetime

    def as_json(self) -> dict:
        """Plain JSON types: moments as ISO 8601 strings."""
        return {name: value.isoformat() if isinstance(value, datetime) else value for name, value in asdict(self).items()}


def begin_poll(conn: sa.Connection, connector: str, target_topic: str, at: datetime) -> ConnectorState:
    """Give a connector its status row if it has none; return the state an operator wants of it."""
    c = connector_status.c
    desired = conn.scalar(sa.select(c.desired_state).where(c.connector == connector))
    if desired is None:
        conn.execute(connector_status.insert().values(
            connector=connector, target_topic=target_topic, state=ConnectorState.RUNNING,
            desired_state=ConnectorState.RUNNING, updated_at=at,
        ))
        return ConnectorState.RUNNING
    conn.execute(connector_status.update().where(c.connector == connector).values(target_topic=target_topic))
    return ConnectorState(desired)


def desired_state(conn: sa.Connection, connector: str) -> ConnectorState:
    desired = conn.scalar(sa.select(connector_status.c.desired_state).where(connector_status.c.connector == connector))
    return ConnectorState(desired or ConnectorState.RUNNING)


def add_totals(conn: sa.Connection, connector: str, read: int, published: int, rejected: int, at: datetime) -> None:
    """Add one batch to the running totals; call in the transaction that advances the cursor."""
    c = connector_status.c
    conn.execute(connector_status.update().where(c.connector == connector).values(
        read_total=c.read_total + read, published_total=c.published_total + published,
        rejected_total=c.rejected_total + rejected, updated_at=at,
    ))


def record_poll(conn: sa.Connection, connector: str, at: datetime) -> None:
    """The connector read its source to the end without error."""
    conn.execute(connector_status.update().where(connector_status.c.connector == connector).values(
        state=ConnectorState.RUNNING, last_poll_at=at, updated_at=at,
    ))


def record_paused(conn: sa.Connection, connector: str, at: datetime) -> None:
    conn.execute(connector_status.update().where(connector_status.c.connector == connector).values(
        state=ConnectorState.PAUSED, updated_at=at,
    ))


def record_failure(conn: sa.Connection, connector: str, error: str, at: datetime) -> None:
    """A poll failed; `error` is the line an operator reads (it never holds a resident ID)."""
    conn.execute(connector_status.update().where(connector_status.c.connector == connector).values(
        state=ConnectorState.FAILED, last_error=error[:ERROR_CHARS], last_error_at=at, updated_at=at,
    ))


def set_desired_state(conn: sa.Connection, connector: str, desired: ConnectorState, at: datetime) -> None:
    """What an operator wants: a running connector sees it at its next poll or batch."""
    c = connector_status.c
    if not conn.execute(connector_status.update().where(c.connector == connector).values(
        desired_state=desired, updated_at=at,
    )).rowcount:
        known = conn.scalars(sa.select(c.connector).order_by(c.connector)).all()
        raise UnknownConnector(
            f"no connector named {connector!r} has run against this hub database; "
            + (f"known connectors: {', '.join(known)}" if known else "start it once with `carehub connect run`")
        )


def _aware(at: datetime | None) -> datetime | None:
    """SQLite hands back naive times; every time here was written in UTC."""
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def connector_statuses(conn: sa.Connection) -> list[ConnectorStatus]:
    rows = conn.execute(sa.select(connector_status).order_by(connector_status.c.connector)).mappings().all()
    return [
        ConnectorStatus(**{
            **row,
            "state": ConnectorState(row["state"]), "desired_state": ConnectorState(row["desired_state"]),
            **{name: _aware(row[name]) for name in ("last_poll_at", "last_error_at", "updated_at")},
        })
        for row in rows
    ]
