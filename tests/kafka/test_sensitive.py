"""Which configuration keys are kept out of snapshots and MCP answers by their name."""

import pytest

from kcr.kafka.sensitive import is_sensitive_key


@pytest.mark.parametrize(
    ("key", "sensitive"),
    [
        ("sasl.jaas.config", True),
        ("ssl.key.password", True),
        ("ssl.keystore.key", True),
        ("listener.name.internal.scram-sha-512.sasl.jaas.config", True),
        ("vendor.api.key", True),
        ("confluent.key.schema.validation", False),
        ("confluent.key.subject.name.strategy", False),
        ("retention.ms", False),
        ("message.timestamp.type", False),
    ],
)
def test_secrets_are_recognised_by_name(key: str, sensitive: bool) -> None:
    assert is_sensitive_key(key) is sensitive
