"""The topic catalog as an AsyncAPI 3.0 document: what a subscriber needs to read every topic.

One channel per catalog topic with its Kafka binding (partitions, cleanup policy, retention),
one `receive` operation per channel for subscribers, and one message per channel whose payload
is the topic's Avro schema inlined from `schemas/` (or a JSON object for JSON topics). Dead-letter
queues appear once, as the channel `dlq.{origin}`. Build it with `asyncapi_document`::

    document = asyncapi_document(CATALOG, broker_servers(settings), topic_prefix=settings.topic_prefix)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from carehub import __version__
from carehub.avro import load_schema, subject_for
from carehub.broker.url import EmbeddedURL, parse_broker_url
from carehub.dlq import BODY_FIELDS, CONTEXT_HEADERS, HEADER_PREFIX
from carehub.settings import Settings
from carehub.topics import CatalogTopic, dead_letter_topic

ASYNCAPI_VERSION = "3.0.0"
AVRO_SCHEMA_FORMAT = "application/vnd.apache.avro+json;version=1.9.0"
#: Confluent wire format: magic byte, schema id, Avro binary (the Avro specification's media type).
AVRO_CONTENT_TYPE = "avro/binary"
JSON_CONTENT_TYPE = "application/json"
KAFKA_BINDING_VERSION = "0.5.0"
#: The one dead-letter channel stands for every `dlq.<connector-or-group>` topic.
DEAD_LETTER_CHANNEL = "dlq"
DEAD_LETTER_ORIGIN = "origin"

#: AsyncAPI's protocol name for each Kafka security protocol.
SERVER_PROTOCOLS: dict[str, str] = {
    "PLAINTEXT": "kafka",
    "SASL_PLAINTEXT": "kafka",
    "SSL": "kafka-secure",
    "SASL_SSL": "kafka-secure",
}
#: AsyncAPI's security scheme type for each SASL mechanism it can describe (OAUTHBEARER needs
#: token endpoints carehub does not know, so it is left out).
SASL_SCHEMES: dict[str, str] = {"PLAIN": "plain", "SCRAM-SHA-256": "scramSha256", "SCRAM-SHA-512": "scramSha512"}


@dataclass(frozen=True)
class Servers:
    """The `servers` of the document and the security schemes they refer to."""

    servers: dict[str, dict[str, Any]]
    security_schemes: dict[str, dict[str, Any]] = field(default_factory=dict)


def broker_servers(settings: Settings) -> Servers:
    """The servers a subscriber connects to, from CAREHUB_BROKER, CAREHUB_KAFKA_* and CAREHUB_REGISTRY_URL."""
    target = parse_broker_url(settings.broker_url)
    if isinstance(target, EmbeddedURL):
        return Servers({"embedded": {
            "host": "localhost",
            "pathname": str(target.path),
            "protocol": "carehub-embedded",
            "description": "The embedded single-machine log: only carehub on this machine reads it. "
            "Set CAREHUB_BROKER=kafka://host:9092 to publish for other subscribers.",
        }})
    security = settings.kafka
    schemes: dict[str, dict[str, Any]] = {}
    if scheme := SASL_SCHEMES.get(security.sasl_mechanism or ""):
        schemes["sasl"] = {"type": scheme, "description": f"SASL {security.sasl_mechanism}"}
    if security.ssl_certfile is not None:
        schemes["clientCertificate"] = {"type": "X509", "description": "TLS client certificate"}
    registry = {"schemaRegistryUrl": settings.registry_url} if settings.registry_url else {}
    server = {
        "protocol": SERVER_PROTOCOLS[security.security_protocol],
        "description": "Apache Kafka bootstrap server. Values are Avro in Confluent's wire format"
        + ("." if settings.registry_url else "; their schemas are in the hub's registry, served by `carehub serve`."),
        "bindings": {"kafka": {**registry, "schemaRegistryVendor": "confluent", "bindingVersion": KAFKA_BINDING_VERSION}},
        **({"security": [{"$ref": f"#/components/securitySchemes/{name}"} for name in schemes]} if schemes else {}),
    }
    return Servers(
        {f"kafka-{n}": {"host": host, **server} for n, host in enumerate(target.bootstrap_servers, start=1)},
        schemes,
    )


class _PlainDumper(yaml.SafeDumper):
    """YAML without anchors and aliases: every reader of the document sees each value in place."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def to_yaml(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_PlainDumper, allow_unicode=True, sort_keys=False, width=120)


def _kafka_channel_binding(topic: CatalogTopic) -> dict[str, Any]:
    configuration: dict[str, Any] = {"cleanup.policy": ["compact" if topic.compact else "delete"]}
    if topic.retention_ms is not None:
        configuration["retention.ms"] = topic.retention_ms
    return {"partitions": topic.partitions, "topicConfiguration": configuration, "bindingVersion": KAFKA_BINDING_VERSION}


def _message(topic: CatalogTopic, topic_prefix: str) -> dict[str, Any]:
    """The message of one topic: its payload schema, key and how the schema id travels."""
    key = {"type": "string", "description": topic.key}
    if topic.schema is None:
        return {
            "name": topic.name,
            "title": f"{topic.name} record",
            "contentType": JSON_CONTENT_TYPE,
            "payload": {"type": "object", "description": topic.description},
            "bindings": {"kafka": {"key": key, "bindingVersion": KAFKA_BINDING_VERSION}},
        }
    schema = load_schema(topic.schema)
    return {
        "name": schema.get("name", topic.name),
        "title": f"{topic.name} record",
        "summary": schema.get("doc", topic.description),
        "contentType": AVRO_CONTENT_TYPE,
        "payload": {"schemaFormat": AVRO_SCHEMA_FORMAT, "schema": schema},
        "bindings": {"kafka": {
            "key": key,
            "schemaIdLocation": "payload",
            "schemaIdPayloadEncoding": "confluent",
            "schemaLookupStrategy": "TopicNameStrategy",
            "bindingVersion": KAFKA_BINDING_VERSION,
        }},
        "x-schema-subject": subject_for(topic_prefix + topic.name),
        "x-schema-file": f"schemas/{topic.schema}",
    }


def _dead_letter_message(topic: CatalogTopic) -> dict[str, Any]:
    return {
        "name": "DeadLetter",
        "title": "dead letter",
        "summary": "A record a connector or reconciler rejected, with the context to find, fix and replay it.",
        "contentType": JSON_CONTENT_TYPE,
        "headers": {
            "type": "object",
            "properties": {HEADER_PREFIX + name: {"type": "string", "description": text} for name, text in CONTEXT_HEADERS.items()},
        },
        "payload": {
            "type": "object",
            "properties": {name: {"description": text} for name, text in BODY_FIELDS.items()},
        },
        "bindings": {"kafka": {"key": {"type": "string", "description": topic.key}, "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def _subscription(channel_id: str, topic_name: str) -> dict[str, Any]:
    return {
        "action": "receive",
        "title": f"Subscribe to {topic_name}",
        "channel": {"$ref": f"#/channels/{channel_id}"},
        "messages": [{"$ref": f"#/channels/{channel_id}/messages/{channel_id}"}],
    }


def asyncapi_document(
    catalog: Iterable[CatalogTopic], servers: Servers, *, topic_prefix: str = "", version: str = __version__
) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of `catalog` as plain data, ready for YAML or JSON."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic in catalog:
        channels[topic.name] = {
            "address": topic_prefix + topic.name,
            "title": topic.name,
            "description": topic.description,
            "messages": {topic.name: {"$ref": f"#/components/messages/{topic.name}"}},
            "bindings": {"kafka": _kafka_channel_binding(topic)},
        }
        operations[f"receive.{topic.name}"] = _subscription(topic.name, topic.name)
        messages[topic.name] = _message(topic, topic_prefix)

    dead_letters = dead_letter_topic("{" + DEAD_LETTER_ORIGIN + "}")
    channels[DEAD_LETTER_CHANNEL] = {
        "address": topic_prefix + dead_letters.name,
        "title": "dead-letter queues",
        "description": "One topic per connector and per reconciler group, holding the records it rejected. "
        "Inspect with `carehub dlq list` and `carehub dlq show`; replay after a fix with `carehub dlq replay`.",
        "parameters": {DEAD_LETTER_ORIGIN: {"description": "the connector name or reconciler group"}},
        "messages": {DEAD_LETTER_CHANNEL: {"$ref": f"#/components/messages/{DEAD_LETTER_CHANNEL}"}},
        "bindings": {"kafka": _kafka_channel_binding(dead_letters)},
    }
    operations[f"receive.{DEAD_LETTER_CHANNEL}"] = _subscription(DEAD_LETTER_CHANNEL, dead_letters.name)
    messages[DEAD_LETTER_CHANNEL] = _dead_letter_message(dead_letters)

    components: dict[str, Any] = {"messages": messages}
    if servers.security_schemes:
        components["securitySchemes"] = servers.security_schemes
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "carehub topics",
            "version": version,
            "description": "The topics of the elderly-care data-exchange hub (基本养老服务综合平台) as a subscriber "
            "sees them: source records (src.*), dataset changelogs (ds.*), risk alerts and dead-letter queues. "
            "Avro values use Confluent's wire format with subjects named <topic>-value; person-related records "
            "are keyed by the pseudonymous person key, and resident IDs travel only encrypted and masked.",
        },
        "servers": servers.servers,
        "defaultContentType": AVRO_CONTENT_TYPE,
        "channels": channels,
        "operations": operations,
        "components": components,
    }
