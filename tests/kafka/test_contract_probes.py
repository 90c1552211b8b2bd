"""Health probes on a healthy cluster: each passes, with the numbers behind it."""

import pytest

from kcr import kinds
from kcr.kafka import ProbeKind
from kcr.kinds.create_topic import CreateTopic
from kcr.model import GroupState

from .conftest import World

pytestmark = pytest.mark.asyncio


async def _topic(world: World, name: str, partitions: int = 2) -> None:
    await kinds.apply(
        world.kafka, CreateTopic(topic=name, partitions=partitions, replication_factor=1)
    )


async def test_partition_health_probes_pass(world: World, unique: str) -> None:
    await _topic(world, unique, 3)
    offline = await world.kafka.probe_offline_partitions([unique])
    urp = await world.kafka.probe_under_replicated([unique], baseline=0)
    cluster_wide = await world.kafka.probe_offline_partitions()
    assert (offline.probe, offline.passed, offline.value("offlinePartitions")) == (
        ProbeKind.OFFLINE_PARTITIONS,
        True,
        0,
    )
    assert offline.message == "no offline partitions in 1 topic(s)"
    assert (urp.passed, urp.value("underReplicatedPartitions")) == (True, 0)
    assert cluster_wide.passed
    assert cluster_wide.message == "no offline partitions in the cluster"


async def test_min_insync_probe_reports_isr_and_limit(world: World, unique: str) -> None:
    """The limit is the topic's own setting, read back, not an assumed default."""
    await kinds.apply(
        world.kafka,
        CreateTopic(
            topic=unique, partitions=2, replication_factor=1, configs={"min.insync.replicas": "1"}
        ),
    )
    verdict = await world.kafka.probe_min_insync([unique])
    assert verdict.passed
    assert (
        verdict.message == "every partition of 1 topic(s) has at least min.insync.replicas in sync"
    )
    (measurement,) = verdict.measurements
    assert (measurement.subject, measurement.value, measurement.limit) == (unique, 1, 1)
    assert measurement.limit_source == "topic config (TopicOverride)"


async def test_min_insync_above_the_isr_fails(world: World, unique: str) -> None:
    """A limit of 2 on one replica: every partition is short, each named."""
    await kinds.apply(
        world.kafka,
        CreateTopic(
            topic=unique, partitions=1, replication_factor=1, configs={"min.insync.replicas": "2"}
        ),
    )
    verdict = await world.kafka.probe_min_insync([unique])
    assert not verdict.passed
    assert verdict.message == f"1 partition(s) below min.insync.replicas: {unique}/0 (ISR 1 < 2)"
    (measurement,) = verdict.measurements
    assert (measurement.limit, measurement.limit_source) == (2, "topic config (TopicOverride)")


async def test_group_state_probe_counts_members(world: World, unique: str) -> None:
    topic, group = f"{unique}-t", f"{unique}-g"
    await _topic(world, topic)
    await world.traffic.commit(group, {(topic, 0): 0})
    verdict = await world.kafka.probe_group_state([group], max_members=0)
    assert verdict.passed, verdict.message
    assert verdict.value(group) == 0
    strict = await world.kafka.probe_group_state([group], allowed=(GroupState.PREPARING_REBALANCE,))
    assert not strict.passed
    assert strict.message.startswith(f"{group} is ")


async def test_lag_probe_fails_when_lag_grows_past_the_bound(world: World, unique: str) -> None:
    topic, group = f"{unique}-t", f"{unique}-g"
    await _topic(world, topic)
    await world.traffic.produce(topic, 0, 3)
    await world.traffic.commit(group, {(topic, 0): 1})
    before = await world.kafka.probe_lag([group])
    baseline = {m.subject: m.value for m in before.measurements}
    assert baseline == {group: 2}
    await world.traffic.produce(topic, 1, 5)
    await world.traffic.commit(group, {(topic, 0): 1, (topic, 1): 0})
    within = await world.kafka.probe_lag([group], baseline=baseline, max_growth=5)
    beyond = await world.kafka.probe_lag([group], baseline=baseline, max_growth=4)
    assert (within.passed, within.value(group)) == (True, 7)
    assert not beyond.passed
    assert beyond.message == f"lag grew too much: {group} lag 7, was 2, allowed growth 4"


async def test_lag_probe_names_a_group_without_commits(world: World, unique: str) -> None:
    topic, group, ghost = f"{unique}-t", f"{unique}-g", f"{unique}-never"
    await _topic(world, topic)
    await world.traffic.produce(topic, 0, 3)
    await world.traffic.commit(group, {(topic, 0): 1})
    sample = await world.kafka.probe_lag([group, ghost])
    assert sample.passed
    assert {m.subject: m.value for m in sample.measurements} == {group: 2}
    assert sample.message == f"lag of {group}=2; no committed offsets: {ghost}"
    baseline = {m.subject: m.value for m in sample.measurements}
    gate = await world.kafka.probe_lag([group, ghost], baseline=baseline, max_growth=10)
    assert not gate.passed
    assert gate.message.endswith(f"so lag cannot be bounded: {ghost}")
