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
from consumers.datasets import all_handlers
from consumers.engine import DEFAULT_GROUP, Reconciler


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
            config, broker=self.broker, codec=self.codec, engine=self.engine, protector=self.protector,
            topic_prefix=self.settings.topic_prefix,
        )

    def reconciler(self, group: str = DEFAULT_GROUP, batch_size: int = 2000) -> Reconciler:
        return Reconciler(
            all_handlers(), broker=self.broker, codec=self.codec, engine=self.engine, protector=self.protector,
            group=group, batch_size=batch_size, retry_seconds=self.settings.retry_seconds,
            topic_prefix=self.settings.topic_prefix,
        )
