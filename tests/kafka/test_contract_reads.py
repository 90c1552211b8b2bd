"""Reads: the same answers from the fake and from a real broker."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from kcr import kinds
from kcr.kafka import GroupDescription, HotPartitionRule, NotFoundError, TopicPartition
from kcr.kinds.alter_topic_config import AlterTopicConfig
from kcr.kinds.create_topic import CreateTopic
from kcr.kinds.delete_topic import DeleteTopic
from kcr.model import ConfigSource, GroupState

from .conftest import World

pytestmark = pytest.mark.asyncio
SETTLE_TIMEOUT = 30.0


async def _topic(world: World, name: str, partitions: int, **configs: str) -> None:
    change = CreateTopic(topic=name, partitions=partitions, replication_factor=1, configs=configs)
    await kinds.apply(world.kafka, change)


async def test_cluster_overview(world: World) -> None:
    overview = await world.kafka.cluster_overview()
    assert overview.cluster_id
    assert overview.brokers
    ids = {b.id for b in overview.brokers}
    assert overview.controller_id is None or overview.controller_id in ids
    assert all(b.port > 0 and b.host for b in overview.brokers)
    assert abs(datetime.now(UTC) - overview.observed_at) < timedelta(minutes=1)


async def test_topics_with_partitions_leaders_and_isr(world: World, unique: str) -> None:
    await _topic(world, f"{unique}-a", 3)
    await _topic(world, f"{unique}-b", 1)
    listed = [t for t in await world.kafka.list_topics() if t.name.startswith(unique)]
    assert [t.name for t in listed] == [f"{unique}-a", f"{unique}-b"]
    described = await world.kafka.describe_topics([f"{unique}-b", f"{unique}-a"])
    assert [t.name for t in described] == [f"{unique}-b", f"{unique}-a"]
    topic = described[1]
    assert [p.partition for p in topic.partitions] == [0, 1, 2]
    brokers = {b.id for b in (await world.kafka.cluster_overview()).brokers}
    for partition in topic.partitions:
        assert partition.leader in brokers
        assert set(partition.isr) <= set(partition.replicas)
        assert not partition.offline
        assert not partition.under_replicated
    assert topic.replication_factor == 1
    assert topic.offline_partitions == topic.under_replicated_partitions == 0


async def test_internal_topics_are_classed_alike(world: World, unique: str) -> None:
    """A Metadata listing has no internal flag; the reserved ``__`` prefix decides in both."""
    reserved = f"__{unique}"
    await _topic(world, reserved, 1)
    await _topic(world, unique, 1)
    try:
        listed = {t.name: t.internal for t in await world.kafka.list_topics(include_internal=True)}
        described = {t.name: t.internal for t in await world.kafka.describe_topics(list(listed))}
        assert described == listed
        assert (listed[reserved], listed[unique]) == (True, False)
        assert reserved not in {t.name for t in await world.kafka.list_topics()}
    finally:
        await kinds.apply(world.kafka, DeleteTopic(topic=reserved))


async def test_describing_a_missing_topic_names_it(world: World, unique: str) -> None:
    await _topic(world, f"{unique}-here", 1)
    with pytest.raises(NotFoundError, match=rf"topic {unique}-gone does not exist") as caught:
        await world.kafka.describe_topics([f"{unique}-here", f"{unique}-gone"])
    assert (caught.value.resource, caught.value.name) == ("topic", f"{unique}-gone")


async def test_topic_configs_carry_their_source(world: World, unique: str) -> None:
    name = f"{unique}-cfg"
    await _topic(world, name, 1, **{"retention.ms": "123456"})
    (configs,) = await world.kafka.topic_configs([name])
    assert configs.topic == name
    entry = configs.configs["retention.ms"]
    assert (entry.value, entry.source) == ("123456", ConfigSource.TOPIC_OVERRIDE)
    assert "retention.ms" in configs.overrides()
    assert all(
        e.source is not ConfigSource.TOPIC_OVERRIDE
        for key, e in configs.configs.items()
        if key != "retention.ms"
    )


@pytest.mark.needs("configSources")
async def test_config_sources_are_reported_as_kafka_reports_them(world: World, unique: str) -> None:
    """An override, a value from server.properties, a cluster-wide dynamic default and
    Kafka's own default, each with its source; deleting an override falls back to the
    broker's value, which is what a rollback restores."""
    name = f"{unique}-src"
    await _topic(world, name, 1, **{"retention.ms": "123456", "segment.bytes": "1048576"})
    (configs,) = await world.kafka.topic_configs([name])
    sources = {k: (e.value, e.source) for k, e in configs.configs.items()}
    assert sources["retention.ms"] == ("123456", ConfigSource.TOPIC_OVERRIDE)
    assert sources["segment.bytes"] == ("1048576", ConfigSource.TOPIC_OVERRIDE)
    assert sources["min.insync.replicas"] == ("1", ConfigSource.CLUSTER_DEFAULT)
    assert sources["cleanup.policy"] == ("delete", ConfigSource.DEFAULT)
    assert sorted(configs.overrides()) == ["retention.ms", "segment.bytes"]
    await kinds.apply(world.kafka, AlterTopicConfig(topics=[name], delete=["segment.bytes"]))
    (configs,) = await world.kafka.topic_configs([name])
    entry = configs.configs["segment.bytes"]
    assert (entry.value, entry.source) == (str(16 * 1024 * 1024), ConfigSource.STATIC_BROKER)


async def test_log_offsets_and_committed_offsets(world: World, unique: str) -> None:
    topic, group = f"{unique}-log", f"{unique}-g"
    await _topic(world, topic, 3)
    await world.traffic.produce(topic, 0, 5)
    await world.traffic.produce(topic, 1, 3)
    await world.traffic.commit(group, {(topic, 0): 2, (topic, 1): 3})
    partitions = [TopicPartition(topic=topic, partition=p) for p in range(3)]
    log = await world.kafka.log_offsets(partitions)
    assert [(o.partition, o.earliest, o.latest) for o in log] == [(0, 0, 5), (1, 0, 3), (2, 0, 0)]
    (committed,) = await world.kafka.committed_offsets([group], topics=[topic])
    assert [(o.partition, o.offset) for o in committed.offsets] == [(0, 2), (1, 3), (2, None)]
    (only_committed,) = await world.kafka.committed_offsets([group])
    assert [(o.topic, o.partition, o.offset) for o in only_committed.offsets] == [
        (topic, 0, 2),
        (topic, 1, 3),
    ]
    listed = {g.group for g in await world.kafka.list_consumer_groups()}
    assert group in listed


async def test_lag_is_exact_per_partition_topic_and_group(world: World, unique: str) -> None:
    orders, payments = f"{unique}-orders", f"{unique}-payments"
    billing, audit = f"{unique}-billing", f"{unique}-audit"
    await _topic(world, orders, 3)
    await _topic(world, payments, 2)
    for partition, count in [(0, 7), (1, 4), (2, 1)]:
        await world.traffic.produce(orders, partition, count)
    await world.traffic.produce(payments, 1, 6)
    await world.traffic.commit(billing, {(orders, 0): 2, (orders, 1): 4, (payments, 1): 1})
    await world.traffic.commit(audit, {(orders, 0): 7, (orders, 2): 0})

    report = await world.kafka.lag_report([billing, audit])

    rows = {
        (g.group, p.topic, p.partition): (p.committed, p.log_end, p.lag)
        for g in report.groups
        for t in g.topics
        for p in t.partitions
    }
    assert rows == {
        (billing, orders, 0): (2, 7, 5),
        (billing, orders, 1): (4, 4, 0),
        (billing, payments, 1): (1, 6, 5),
        (audit, orders, 0): (7, 7, 0),
        (audit, orders, 2): (0, 1, 1),
    }
    billing_lag = report.group(billing)
    assert billing_lag is not None
    assert billing_lag.total_lag == 10
    assert {t.topic: (t.total_lag, t.max_lag) for t in billing_lag.topics} == {
        orders: (5, 5),
        payments: (5, 5),
    }
    audit_lag = report.group(audit)
    assert audit_lag is not None
    assert audit_lag.total_lag == 1
    assert audit_lag.members == 0
    assert report.total_lag == 11
    assert report.partitions == 5

    only_orders = await world.kafka.lag_report([billing], topics=[orders])
    assert only_orders.total_lag == 5


async def test_all_groups_report_flags_the_hot_partition(world: World, unique: str) -> None:
    topic, group = f"{unique}-skew", f"{unique}-skewed"
    await _topic(world, topic, 4)
    await world.traffic.produce(topic, 0, 120)
    for partition in (1, 2, 3):
        await world.traffic.produce(topic, partition, 4)
    await world.traffic.commit(group, {(topic, p): 0 for p in range(4)})

    report = await world.kafka.lag_report(rule=HotPartitionRule(factor=3.0, min_lag=50))

    assert report.group(group) is not None, "a report over all groups includes every group"
    hot = [h for h in report.hot_partitions if h.group == group]
    assert [(h.topic, h.partition, h.lag, h.siblings_mean_lag) for h in hot] == [
        (topic, 0, 120, 4.0)
    ]


async def test_unknown_group_has_no_members(world: World, unique: str) -> None:
    (described,) = await world.kafka.describe_consumer_groups([f"{unique}-nobody"])
    assert described.members == []
    assert described.state in {GroupState.DEAD, GroupState.EMPTY}


@pytest.mark.needs("groupMembers")
async def test_active_group_lists_its_members_and_assignments(world: World, unique: str) -> None:
    """Two real consumers split a topic's partitions; the broker's assignment is read back."""
    topic, group = f"{unique}-live", f"{unique}-live-group"
    await _topic(world, topic, 4)
    async with world.traffic.members(group, [topic], 2) as client_ids:
        described = await _settled(world, group, members=2)
    assert described.state is GroupState.STABLE
    assert described.assignor == "range"
    assert sorted(m.client_id for m in described.members) == sorted(client_ids)
    assigned = {m.client_id: sorted(a.partition for a in m.assignments) for m in described.members}
    assert sorted(assigned.values()) == [[0, 1], [2, 3]]
    assert all(a.topic == topic for m in described.members for a in m.assignments)


async def _settled(world: World, group: str, *, members: int) -> GroupDescription:
    """The group once it is Stable with ``members`` members, each assigned partitions."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        (described,) = await world.kafka.describe_consumer_groups([group])
        if (
            described.state is GroupState.STABLE
            and len(described.members) == members
            and all(m.assignments for m in described.members)
        ):
            return described
        if time.monotonic() > deadline:
            raise AssertionError(f"group {group} did not settle in {SETTLE_TIMEOUT}s: {described}")
        await asyncio.sleep(0.1)


@pytest.mark.lacks("groupMembers")
async def test_an_active_group_without_listed_members_is_still_active(
    world: World, unique: str
) -> None:
    topic, group = f"{unique}-live", f"{unique}-live-group"
    await _topic(world, topic, 2)
    async with world.traffic.member(group, [topic]):
        (described,) = await world.kafka.describe_consumer_groups([group])
    assert described.members == []
    assert described.state is GroupState.STABLE
    assert described.active
