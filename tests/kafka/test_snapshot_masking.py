"""Snapshots are stored on the custom resource: no secret's value is kept in them."""

import pytest

from kcr import kinds
from kcr.kafka.fake import FakeKafka
from kcr.kinds.create_topic import CreateTopic
from kcr.kinds.delete_topic import DeleteTopic
from kcr.model import ConfigSource

pytestmark = pytest.mark.asyncio

# Overrides a broker with plugins may hold; the broker does not flag them sensitive.
PLUGIN_OVERRIDES = {
    "sasl.jaas.config": 'org.apache.kafka.common.security.plain.PlainLoginModule password="p"',
    "ssl.key.password": "hunter2",
    "remote.storage.api.key": "AKIA0000",
    "x.custom.token": "t0k3n",
}


async def test_delete_topic_snapshot_masks_secret_looking_overrides() -> None:
    fake = FakeKafka()
    await kinds.apply(
        fake,
        CreateTopic(
            topic="orders", partitions=1, replication_factor=1, configs={"retention.ms": "9000"}
        ),
    )
    fake.cluster.topics["orders"].overrides.update(PLUGIN_OVERRIDES)

    snapshot = await kinds.take_snapshot(fake, DeleteTopic(topic="orders"))

    topic = snapshot.topic("orders")
    assert topic is not None
    for key in PLUGIN_OVERRIDES:
        seen = topic.configs[key]
        assert (seen.value, seen.source) == (None, ConfigSource.TOPIC_OVERRIDE), key
    assert topic.configs["retention.ms"].value == "9000"
    stored = snapshot.model_dump_json()
    assert not any(secret in stored for secret in PLUGIN_OVERRIDES.values())
