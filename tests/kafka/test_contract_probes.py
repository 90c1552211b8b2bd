"""Health probes on a healthy cluster: each passes, with the numbers behind it."""

import pytest

from kcr import kinds
from kcr.kafka import ProbeKind
from kcr.kafka.errors import InvalidRequestError
from kcr.kinds.create_topic import CreateTopic
from kcr.model import GroupState, ProgressWindow

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


async def test_consumer_positions_sum_commits_and_log_ends(world: World, unique: str) -> None:
    """Two readings say what a group read and what arrived in between: the progress gate's
    numbers, read from the broker, summed over the partitions the group committed on."""
    topic, group, ghost = f"{unique}-t", f"{unique}-g", f"{unique}-never"
    await _topic(world, topic)
    await world.traffic.produce(topic, 0, 3)
    await world.traffic.commit(group, {(topic, 0): 1})
    first = await world.kafka.consumer_positions([group, ghost])
    (position,) = first.groups
    assert (position.group, position.committed, position.log_end) == (group, 1, 3)
    assert (position.partitions, position.lag) == (1, 2)

    await world.traffic.produce(topic, 1, 5)
    await world.traffic.commit(group, {(topic, 0): 3, (topic, 1): 2})
    last = await world.kafka.consumer_positions([group, ghost])
    assert [(p.committed, p.log_end, p.partitions) for p in last.groups] == [(5, 8, 2)]
    assert last.observed_at >= first.observed_at
    window = ProgressWindow.between(first, last, group)
    assert window is not None
    assert (window.consumed, window.arrived, window.lag_at_start, window.lag_at_end) == (4, 5, 2, 3)
    assert ProgressWindow.between(first, last, ghost) is None


async def test_consumer_positions_refuse_a_bare_group_name(world: World) -> None:
    with pytest.raises(InvalidRequestError, match="groups"):
        await world.kafka.consumer_positions("orders")  # type: ignore[arg-type]
