"""Snapshots read exactly what each change's rollback needs."""

import pytest

from kcr import kinds
from kcr.kinds.alter_acls import AlterAcls
from kcr.kinds.alter_topic_config import AlterTopicConfig
from kcr.kinds.create_topic import CreateTopic
from kcr.kinds.delete_topic import DeleteTopic
from kcr.kinds.increase_partitions import IncreasePartitions
from kcr.kinds.reset_offsets import ResetConsumerGroupOffsets
from kcr.model import (
    AclBinding,
    AclOperation,
    AclPatternType,
    AclResourceType,
    Change,
    ConfigSource,
    GroupState,
    OffsetTarget,
    Plan,
    Stage,
)
from kcr.plan.rollback import build_rollback
from kcr.plan.steps import make_step

from .conftest import World

pytestmark = pytest.mark.asyncio


async def _create(world: World, name: str, partitions: int, configs: dict[str, str]) -> None:
    change = CreateTopic(topic=name, partitions=partitions, replication_factor=1, configs=configs)
    await kinds.apply(world.kafka, change)


async def test_create_topic_snapshot_of_a_new_topic(world: World, unique: str) -> None:
    snapshot = await kinds.take_snapshot(
        world.kafka, Change.of(CreateTopic(topic=unique, partitions=1, replication_factor=1))
    )
    topic = snapshot.topic(unique)
    assert topic is not None
    assert not topic.exists
    assert snapshot.brokers == world.brokers


async def test_create_topic_snapshot_sees_a_topic_it_would_collide_with(
    world: World, unique: str
) -> None:
    await _create(world, f"{unique}.orders", 2, {})
    wanted = f"{unique}_orders"
    snapshot = await kinds.take_snapshot(
        world.kafka, Change.of(CreateTopic(topic=wanted, partitions=1, replication_factor=1))
    )
    assert [(t.name, t.exists, t.partitions) for t in snapshot.topics] == [
        (wanted, False, 0),
        (f"{unique}.orders", True, 2),
    ]


@pytest.mark.parametrize("reader", ["{unique}-reader", "connect-{unique} orders sink@eu"])
async def test_alter_config_snapshot_keeps_values_sources_and_consumers(
    world: World, unique: str, reader: str
) -> None:
    """Group ids as Kafka allows them: Kafka Connect's carry its connectors' names."""
    name, group = f"{unique}-cfg", reader.format(unique=unique)
    await _create(world, name, 2, {"retention.ms": "7000"})
    await world.traffic.produce(name, 0, 1)
    await world.traffic.commit(group, {(name, 0): 1})
    change = AlterTopicConfig(
        topics=[name], set={"retention.ms": "1000", "max.message.bytes": "2000"}
    )
    snapshot = await kinds.take_snapshot(world.kafka, change)
    topic = snapshot.topic(name)
    assert topic is not None
    assert (topic.partitions, topic.replication_factor) == (2, 1)
    retention = topic.configs["retention.ms"]
    assert (retention.value, retention.source) == ("7000", ConfigSource.TOPIC_OVERRIDE)
    size = topic.configs.get("max.message.bytes")
    assert size is None or size.source is not ConfigSource.TOPIC_OVERRIDE
    assert group in snapshot.consumers_of_topics


async def test_snapshot_drives_a_rollback_that_restores_the_config(
    world: World, unique: str
) -> None:
    name = f"{unique}-undo"
    await _create(world, name, 1, {"retention.ms": "7000"})
    change = Change.of(
        AlterTopicConfig(topics=[name], set={"retention.ms": "9000", "max.message.bytes": "2000"})
    )
    snapshot = await kinds.take_snapshot(world.kafka, change)
    plan = Plan(stages=[Stage(name="all", steps=[make_step("alter", change.member)])])
    rollback = build_rollback(plan, snapshot)
    assert rollback.steps, "the snapshot holds what the rollback needs"
    await kinds.apply(world.kafka, change.member)
    for step in rollback.steps:
        await kinds.apply(world.kafka, step.operation)
    (configs,) = await world.kafka.topic_configs([name])
    assert configs.value("retention.ms") == "7000"
    assert "max.message.bytes" not in configs.overrides()


async def test_reset_snapshot_records_committed_and_log_offsets(world: World, unique: str) -> None:
    topic, group = f"{unique}-t", f"{unique}-g"
    await kinds.apply(world.kafka, CreateTopic(topic=topic, partitions=2, replication_factor=1))
    await world.traffic.produce(topic, 0, 4)
    await world.traffic.commit(group, {(topic, 0): 3})
    snapshot = await kinds.take_snapshot(
        world.kafka,
        ResetConsumerGroupOffsets(group=group, topics=[topic], to=OffsetTarget(earliest=True)),
    )
    observed = snapshot.group(group)
    assert observed is not None
    assert observed.members == 0
    assert observed.state in {GroupState.EMPTY, GroupState.STABLE}
    assert [(p.partition, p.committed, p.log_start, p.log_end) for p in observed.partitions] == [
        (0, 3, 0, 4),
        (1, None, 0, 0),
    ]
    topic_seen = snapshot.topic(topic)
    assert topic_seen is not None
    assert topic_seen.partitions == 2


@pytest.mark.parametrize("kind", ["increase", "delete"])
async def test_topic_shape_snapshot(world: World, unique: str, kind: str) -> None:
    await _create(world, unique, 3, {"segment.ms": "60000"})
    member = (
        IncreasePartitions(topic=unique, partitions=6)
        if kind == "increase"
        else DeleteTopic(topic=unique)
    )
    snapshot = await kinds.take_snapshot(world.kafka, member)
    topic = snapshot.topic(unique)
    assert topic is not None
    assert (topic.exists, topic.partitions, topic.replication_factor) == (True, 3, 1)
    if kind == "delete":
        assert topic.configs["segment.ms"].value == "60000", "every override, to recreate it"


@pytest.mark.needs("describeAcls", "createAcls")
async def test_acl_snapshot_holds_only_existing_named_bindings(world: World, unique: str) -> None:
    present = AclBinding(
        resource_type=AclResourceType.GROUP,
        resource_name=unique,
        principal=f"User:{unique}",
        operation=AclOperation.READ,
    )
    absent = present.model_copy(update={"operation": AclOperation.DESCRIBE})
    await kinds.apply(world.kafka, AlterAcls(add=[present]))
    snapshot = await kinds.take_snapshot(world.kafka, AlterAcls(add=[absent], remove=[present]))
    assert [b.key() for b in snapshot.acls] == [present.key()]


@pytest.mark.needs("describeAcls", "createAcls")
async def test_acl_snapshot_names_the_readers_of_the_topics_it_binds(
    world: World, unique: str
) -> None:
    """Revoking Read on a topic stops whoever reads it: those groups are in its blast radius."""
    name, group = f"{unique}-acl", f"{unique}-readers"
    await _create(world, name, 1, {})
    await world.traffic.produce(name, 0, 1)
    await world.traffic.commit(group, {(name, 0): 1})
    revoke = AclBinding(
        resource_type=AclResourceType.TOPIC,
        resource_name=name,
        principal=f"User:{unique}",
        operation=AclOperation.READ,
    )
    snapshot = await kinds.take_snapshot(world.kafka, AlterAcls(remove=[revoke]))
    assert group in snapshot.consumers_of_topics
    prefixed = revoke.model_copy(update={"pattern_type": AclPatternType.PREFIXED})
    assert (
        await kinds.take_snapshot(world.kafka, AlterAcls(remove=[prefixed]))
    ).consumers_of_topics == []
