"""Settings and URLs: defaults need no services; a malformed URL is refused at start, clearly."""

import stat
from pathlib import Path

import pytest

from carehub.broker.url import EmbeddedURL, KafkaURL, parse_broker_url
from carehub.errors import ConfigError
from carehub.settings import Settings


def test_defaults_are_the_embedded_broker_and_sqlite_under_home(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CAREHUB_HOME", str(tmp_path))
    settings = Settings()
    assert settings.broker_url == f"embedded://{tmp_path}/broker.db"
    assert settings.database == f"sqlite:///{tmp_path}/carehub.db"


def test_secret_is_generated_once_private_and_reused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CAREHUB_HOME", str(tmp_path))
    first = Settings().secret
    assert first == Settings().secret
    mode = (tmp_path / "secret.key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_kafka_security_settings_pass_through(monkeypatch) -> None:
    monkeypatch.setenv("CAREHUB_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("CAREHUB_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("CAREHUB_KAFKA_SASL_USERNAME", "hub")
    monkeypatch.setenv("CAREHUB_KAFKA_SASL_PASSWORD", "pw")
    monkeypatch.setenv("CAREHUB_KAFKA_SSL_CAFILE", "/etc/ca.pem")
    config = Settings().kafka.client_config()
    assert config == {
        "security_protocol": "SASL_SSL", "ssl_cafile": "/etc/ca.pem", "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "hub", "sasl_plain_password": "pw",
    }
    assert "pw" not in repr(Settings())


def test_broker_urls_parse() -> None:
    assert parse_broker_url("kafka://k1:9092,k2:9093") == KafkaURL(("k1:9092", "k2:9093"))
    assert parse_broker_url("embedded:///var/lib/carehub/broker.db") == EmbeddedURL(Path("/var/lib/carehub/broker.db"))


@pytest.mark.parametrize("url", ["localhost:9092", "kafka://", "kafka://host", "kafka://h:99999", "http://h:1", "embedded://relative.db"])
def test_malformed_broker_urls_name_the_setting_and_an_example(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_broker_url(url)
    assert "CAREHUB_BROKER" in str(caught.value)
    assert "kafka://host1:9092" in str(caught.value)
