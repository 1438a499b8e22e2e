"""Wire the parts the settings name: broker, database, schema registry, codec and PII protector."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import sqlalchemy as sa

from carehub.avro import AvroCodec
from carehub.broker import Broker, open_broker
from carehub.db.engine import open_database
from carehub.pii import Protector
from carehub.registry.base import SchemaRegistry
from carehub.settings import Settings
from connectors.sdk.config import ConnectorConfig
from connectors.sdk.runner import ConnectorRunner
from consumers.engine import DEFAULT_BATCH, DEFAULT_GROUP, Reconciler
from consumers.reconcile import Reconciliation


@dataclass
class Hub:
    """Opened lazily, so a command touches only the services it uses."""

    settings: Settings

    @cached_property
    def broker(self) -> Broker:
        broker = open_broker(
            self.settings.broker_url,
            retry_seconds=self.settings.retry_seconds,
            kafka_config=self.settings.kafka.client_config(),
        )
        broker.ping()
        return broker

    @cached_property
    def engine(self) -> sa.Engine:
        return open_database(self.settings.database, retry_seconds=self.settings.retry_seconds)

    @cached_property
    def registry(self) -> SchemaRegistry:
        if self.settings.registry_url:
            from carehub.registry.client import HttpRegistry

            return HttpRegistry(self.settings.registry_url, retry_seconds=self.settings.retry_seconds)
        from carehub.registry.store import DatabaseRegistry

        return DatabaseRegistry(self.engine)

    @cached_property
    def codec(self) -> AvroCodec:
        return AvroCodec(self.registry)

    @cached_property
    def protector(self) -> Protector:
        return Protector(self.settings.secret)

    def connector(self, config: ConnectorConfig) -> ConnectorRunner:
        return ConnectorRunner(
            config, broker=self.broker, registry=self.registry, engine=self.engine, secret=self.settings.secret,
            topic_prefix=self.settings.topic_prefix,
        )

    def reconciliation(self) -> Reconciliation:
        """The reconciler's core on its own, for commands that change links outside a consumer."""
        return Reconciliation.with_codec(self.codec, self.protector, self.settings.topic_prefix)

    def reconciler(self, group: str = DEFAULT_GROUP, batch_size: int = DEFAULT_BATCH) -> Reconciler:
        return Reconciler(
            broker=self.broker, codec=self.codec, engine=self.engine, protector=self.protector,
            group=group, batch_size=batch_size, retry_seconds=self.settings.retry_seconds,
            topic_prefix=self.settings.topic_prefix,
        )
