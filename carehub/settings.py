"""carehub's settings, read once from CAREHUB_* environment variables (and .env) and passed down."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from carehub.errors import ConfigError

SECRET_FILE = "secret.key"


class KafkaSecurity(BaseSettings):
    """Kafka client security, passed through to kafka-python unchanged in meaning."""

    model_config = SettingsConfigDict(env_prefix="CAREHUB_KAFKA_", env_file=".env", extra="ignore")

    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    ssl_password: SecretStr | None = None
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None

    def client_config(self) -> dict[str, object]:
        """Keyword arguments for kafka-python clients."""
        config: dict[str, object] = {"security_protocol": self.security_protocol}
        for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
            if (value := getattr(self, name)) is not None:
                config[name] = str(value)
        if self.ssl_password:
            config["ssl_password"] = self.ssl_password.get_secret_value()
        if self.sasl_mechanism:
            config["sasl_mechanism"] = self.sasl_mechanism
            config["sasl_plain_username"] = self.sasl_username
            config["sasl_plain_password"] = (
                self.sasl_password.get_secret_value() if self.sasl_password else None
            )
        return config


class Settings(BaseSettings):
    """Every setting has a default that needs no services: the embedded broker and SQLite."""

    model_config = SettingsConfigDict(env_prefix="CAREHUB_", env_file=".env", extra="ignore")

    home: Path = Field(Path(".carehub"), description="state folder: embedded broker, SQLite, secret")
    broker: str | None = Field(None, description="kafka://h1:9092,h2:9092 or embedded:///path/broker.db")
    database_url: str | None = Field(None, description="any SQLAlchemy URL")
    registry_url: str | None = Field(
        None, description="a Confluent-compatible schema registry; unset: the hub's own, in its database"
    )
    secret_key: SecretStr | None = Field(None, description="pseudonymisation and encryption key")
    topic_prefix: str = Field(
        "", pattern=r"^[A-Za-z0-9._-]*$", description="prepended to every topic name, e.g. 'pilot-js.'"
    )
    retry_seconds: float = Field(30.0, gt=0, description="how long to retry an unreachable service")
    access_profiles: Path | None = Field(
        None, description="YAML of the query API's subscriber profiles (carehub/query/profiles.example.yaml); unset: the query API is closed"
    )
    kafka: KafkaSecurity = Field(default_factory=KafkaSecurity)

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, home: Path) -> Path:
        return home.expanduser().resolve()

    @property
    def broker_url(self) -> str:
        return self.broker or f"embedded://{self.home / 'broker.db'}"

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'carehub.db'}"

    @cached_property
    def secret(self) -> bytes:
        """The hub secret: CAREHUB_SECRET_KEY, else the one generated into CAREHUB_HOME."""
        if self.secret_key is not None:
            value = self.secret_key.get_secret_value().strip()
            if len(value) < 32:
                raise ConfigError("CAREHUB_SECRET_KEY is too short: use at least 32 characters")
            return value.encode()
        path = self.home / SECRET_FILE
        if not path.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
        return path.read_text().strip().encode()
