"""Parse the broker URL that selects the transport: kafka://h1:9092,h2:9092 or embedded:///path."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from carehub.errors import ConfigError

_HOST_PORT = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$")
_EXAMPLES = "kafka://host1:9092,host2:9092 or embedded:///path/to/broker.db"


@dataclass(frozen=True)
class KafkaURL:
    bootstrap_servers: tuple[str, ...]


@dataclass(frozen=True)
class EmbeddedURL:
    path: Path


def parse_broker_url(url: str, setting: str = "CAREHUB_BROKER") -> KafkaURL | EmbeddedURL:
    """Return the transport a broker URL names, or raise ConfigError naming the setting."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigError(f"{setting}={url!r} is not a broker URL: use {_EXAMPLES}")
    if scheme == "kafka":
        servers = tuple(s.strip() for s in rest.rstrip("/").split(",") if s.strip())
        bad = [s for s in servers if not _HOST_PORT.match(s) or not 0 < int(s.rsplit(":", 1)[1]) < 65536]
        if not servers or bad:
            raise ConfigError(
                f"{setting}={url!r}: {', '.join(bad) or 'no servers'} is not host:port; "
                f"use {_EXAMPLES}"
            )
        return KafkaURL(servers)
    if scheme == "embedded":
        if not rest.startswith("/") or rest == "/":
            raise ConfigError(f"{setting}={url!r}: give an absolute file path, e.g. {_EXAMPLES}")
        return EmbeddedURL(Path(rest))
    raise ConfigError(f"{setting}={url!r}: unknown scheme {scheme!r}; use {_EXAMPLES}")
