"""Writes: each applied twice, the second time recognised as already applied."""

import asyncio
import time
from datetime import UTC, datetime

import pytest

from kcr import kinds
from kcr.kafka import (
    AclFilter,
    AclPatternFilter,
    ApplyOutcome,
    ConflictError,
    GroupNotEmptyError,
    InvalidRequestError,
    NotFoundError,
    TopicPartition,
    UnsupportedByBrokerError,
)
from kcr.kinds import StepRefusedError
from kcr.kinds.alter_acls import AlterAcls
from kcr.kinds.alter_topic_config import AlterTopicConfig
from kcr.kinds.create_topic import CreateTopic
from kcr.kinds.delete_topic import DeleteTopic
from kcr.kinds.increase_partitions import IncreasePartitions
from kcr.kinds.reset_offsets import ResetConsumerGroupOffsets
from kcr.kinds.scale_deployment import ScaleDeployment
from kcr.model import (
    AclBinding,
    AclOperation,
    AclPatternType,
    AclResourceType,
    ConfigSource,
    OffsetTarget,
    Operation,
    PartitionOffset,
)

from .conftest import World

pytestmark = pytest.mark.asyncio

APPLIED, ALREADY = ApplyOutcome.APPLIED, ApplyOutcome.ALREADY_APPLIED
EMPTY_TIMEOUT = 30.0


async def test_create_topic_is_idempotent(world: World, unique: str) -> None:
    change = CreateTopic(
        topic=f"{unique}-new", partitions=2, replication_factor=1, configs={"retention.ms": "90000"}
    )
    first = await kinds.apply(world.kafka, Operation.of(change))
    second = await kinds.apply(world.kafka, change)
    assert (first.outcome, second.outcome) == (APPLIED, ALREADY)
    assert first.target == f"topic/{unique}-new"
    (topic,) = await world.kafka.describe_topics([f"{unique}-new"])
    assert topic.partition_count == 2
    (configs,) = await world.kafka.topic_configs([f"{unique}-new"])
    assert configs.value("retention.ms") == "90000"


async def test_create_topic_refuses_an_existing_different_topic(world: World, unique: str) -> None:
    await kinds.apply(world.kafka, CreateTopic(topic=unique, partitions=2, replication_factor=1))
    other = CreateTopic(topic=unique, partitions=3, replication_factor=1)
    with pytest.raises(ConflictError, match=rf"{unique} already exists .*2 partitions, not 3"):
        await kinds.apply(world.kafka, other)


@pytest.mark.needs("replicationCheck")
async def test_replication_beyond_the_brokers_is_invalid(world: World, unique: str) -> None:
    change = CreateTopic(topic=unique, partitions=1, replication_factor=world.brokers + 1)
    with pytest.raises(InvalidRequestError, match=f"create topic {unique}") as refused:
        await kinds.apply(world.kafka, change)
    assert refused.value.code == "INVALID_REPLICATION_FACTOR"
    assert (
        f"The target replication factor of {world.brokers + 1} cannot be reached because only "
        f"{world.brokers} broker(s) are registered"
    ) in refused.value.message
    assert unique not in {t.name for t in await world.kafka.list_topics()}


async def test_alter_topic_config_sets_and_deletes_once(world: World, unique: str) -> None:
    name = f"{unique}-cfg"
    await kinds.apply(
        world.kafka,
        CreateTopic(
            topic=name,
            partitions=1,
            replication_factor=1,
            configs={"retention.ms": "100000", "cleanup.policy": "delete"},
        ),
    )
    change = AlterTopicConfig(
        topics=[name], set={"retention.ms": "200000"}, delete=["cleanup.policy"]
    )
    first = await kinds.apply(world.kafka, change)
    second = await kinds.apply(world.kafka, change)
    assert (first.outcome, second.outcome) == (APPLIED, ALREADY)
    assert first.details == [f"{name}: retention.ms=200000, removed cleanup.policy"]
    (configs,) = await world.kafka.topic_configs([name])
    assert configs.value("retention.ms") == "200000"
    policy = configs.configs.get("cleanup.policy")
    assert policy is None or policy.source is not ConfigSource.TOPIC_OVERRIDE


async def test_alter_config_of_a_missing_topic(world: World, unique: str) -> None:
    change = AlterTopicConfig(topics=[f"{unique}-missing"], set={"retention.ms": "1000"})
    with pytest.raises(NotFoundError, match=f"topic {unique}-missing does not exist"):
        await kinds.apply(world.kafka, change)


@pytest.mark.needs("createPartitions")
async def test_increase_partitions_is_idempotent(world: World, unique: str) -> None:
    await kinds.apply(world.kafka, CreateTopic(topic=unique, partitions=2, replication_factor=1))
    change = IncreasePartitions(topic=unique, partitions=4)
    first = await kinds.apply(world.kafka, change)
    second = await kinds.apply(world.kafka, change)
    assert (first.outcome, second.outcome) == (APPLIED, ALREADY)
    assert first.details == [f"{unique}: 2 → 4 partitions"]
    (topic,) = await world.kafka.describe_topics([unique])
    assert topic.partition_count == 4
    await world.traffic.produce(unique, 3, 2)
    (added,) = await world.kafka.log_offsets([TopicPartition(topic=unique, partition=3)])
    assert (added.earliest, added.latest) == (0, 2), "a new partition takes records"
    with pytest.raises(ConflictError, match="has 4 partitions, more than the requested 3"):
        await kinds.apply(world.kafka, IncreasePartitions(topic=unique, partitions=3))


@pytest.mark.lacks("createPartitions")
async def test_increase_partitions_where_unsupported(world: World, unique: str) -> None:
    await kinds.apply(world.kafka, CreateTopic(topic=unique, partitions=2, replication_factor=1))
    with pytest.raises(UnsupportedByBrokerError, match="CreatePartitions is not available"):
        await kinds.apply(world.kafka, IncreasePartitions(topic=unique, partitions=4))


async def _group_on(world: World, unique: str, counts: list[int]) -> tuple[str, str]:
    topic, group = f"{unique}-t", f"{unique}-g"
    await kinds.apply(
        world.kafka, CreateTopic(topic=topic, partitions=len(counts), replication_factor=1)
    )
    for partition, count in enumerate(counts):
        await world.traffic.produce(topic, partition, count)
    await world.traffic.commit(group, {(topic, p): 1 for p in range(len(counts))})
    return topic, group


async def _committed(world: World, group: str, topic: str) -> list[int | None]:
    (offsets,) = await world.kafka.committed_offsets([group], topics=[topic])
    return [o.offset for o in offsets.offsets]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (OffsetTarget(earliest=True), [0, 0]),
        (OffsetTarget(latest=True), [6, 3]),
        (OffsetTarget(shift_by=2), [3, 3]),
        (OffsetTarget(offsets=[PartitionOffset(topic="T", partition=1, offset=2)]), [1, 2]),
    ],
    ids=["earliest", "latest", "shift-by", "explicit"],
)
async def test_reset_offsets_resolves_and_is_idempotent(
    world: World, unique: str, target: OffsetTarget, expected: list[int]
) -> None:
    topic, group = await _group_on(world, unique, [6, 3])
    if target.offsets is not None:
        target = OffsetTarget(
            offsets=[o.model_copy(update={"topic": topic}) for o in target.offsets]
        )
    change = ResetConsumerGroupOffsets(group=group, topics=[topic], to=target)
    snapshot = await kinds.take_snapshot(world.kafka, change)
    preview = await world.kafka.resolve_offsets(change, snapshot=snapshot)
    first = await kinds.apply(world.kafka, change, snapshot=snapshot)
    second = await kinds.apply(world.kafka, change, snapshot=snapshot)
    assert (first.outcome, second.outcome) == (APPLIED, ALREADY)
    assert first.offsets == preview == second.offsets
    assert await _committed(world, group, topic) == expected


async def test_reset_to_latest_repeated_after_more_records_keeps_the_snapshot_offsets(
    world: World, unique: str
) -> None:
    """A reset re-driven after a crash moves nothing: the log end it resolves to is the
    one the snapshot saw, not the one records written since have moved on to."""
    topic, group = await _group_on(world, unique, [6, 3])
    change = ResetConsumerGroupOffsets(group=group, topics=[topic], to=OffsetTarget(latest=True))
    snapshot = await kinds.take_snapshot(world.kafka, change)
    first = await kinds.apply(world.kafka, change, snapshot=snapshot)
    await world.traffic.produce(topic, 0, 4)
    again = await kinds.apply(world.kafka, change, snapshot=snapshot)
    assert (first.outcome, again.outcome) == (APPLIED, ALREADY)
    assert await _committed(world, group, topic) == [6, 3]
    live = await kinds.apply(world.kafka, change)  # no snapshot: today's end
    assert live.outcome is APPLIED
    assert await _committed(world, group, topic) == [10, 3]


async def test_reset_to_a_timestamp(world: World, unique: str) -> None:
    """Records written before and after a moment; tansu stamps them on arrival, so the
    moment is real time between two produce calls rather than a made-up record time."""
    topic, group = f"{unique}-t", f"{unique}-g"
    await kinds.apply(world.kafka, CreateTopic(topic=topic, partitions=1, replication_factor=1))
    await world.traffic.produce(topic, 0, 2)
    await asyncio.sleep(0.05)
    moment = datetime.now(UTC)
    await asyncio.sleep(0.05)
    await world.traffic.produce(topic, 0, 3)
    change = ResetConsumerGroupOffsets(
        group=group, topics=[topic], to=OffsetTarget(timestamp=moment)
    )
    result = await kinds.apply(world.kafka, change)
    assert result.outcome is APPLIED
    assert await _committed(world, group, topic) == [2]


@pytest.mark.needs("groupMembers")
async def test_reset_is_refused_with_members_and_applied_once_they_left(
    world: World, unique: str
) -> None:
    topic, group = await _group_on(world, unique, [2])
    change = ResetConsumerGroupOffsets(group=group, topics=[topic], to=OffsetTarget(latest=True))
    async with world.traffic.member(group, [topic]) as client_id:
        with pytest.raises(GroupNotEmptyError, match=rf"group {group} ") as refused:
            await kinds.apply(world.kafka, change)
    assert refused.value.members == 1
    assert f"has 1 active member(s) ({client_id})" in refused.value.message
    assert "scaleDeployment" in refused.value.message
    assert await _committed(world, group, topic) == [1]
    await _wait_until_empty(world, group)
    result = await kinds.apply(world.kafka, change)
    assert result.outcome is APPLIED
    assert await _committed(world, group, topic) == [2]


async def _wait_until_empty(world: World, group: str) -> None:
    deadline = time.monotonic() + EMPTY_TIMEOUT
    while True:
        (described,) = await world.kafka.describe_consumer_groups([group])
        if not described.active:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"group {group} still {described.state} after {EMPTY_TIMEOUT}s")
        await asyncio.sleep(0.1)


@pytest.mark.lacks("groupMembers")
async def test_reset_is_refused_while_a_group_without_listed_members_is_active(
    world: World, unique: str
) -> None:
    """tansu describes an active group as Stable with no members: the state alone refuses."""
    topic, group = await _group_on(world, unique, [2])
    change = ResetConsumerGroupOffsets(group=group, topics=[topic], to=OffsetTarget(latest=True))
    async with world.traffic.member(group, [topic]):
        with pytest.raises(GroupNotEmptyError, match=rf"group {group} ") as refused:
            await kinds.apply(world.kafka, change)
    assert refused.value.members is None
    assert f"{group} is Stable, so it has active members" in refused.value.message
    assert "scaleDeployment" in refused.value.message
    assert await _committed(world, group, topic) == [1]


async def test_the_broker_refuses_a_commit_into_an_active_group(world: World, unique: str) -> None:
    """Past the port's own check, the commit itself is refused as a non-empty group."""
    topic, group = await _group_on(world, unique, [2])
    async with world.traffic.member(group, [topic]):
        with pytest.raises(GroupNotEmptyError, match=rf"group {group} has active members"):
            await world.backend.commit_offsets(
                group, [PartitionOffset(topic=topic, partition=0, offset=2)]
            )
    assert await _committed(world, group, topic) == [1]


async def test_reset_refuses_offsets_outside_the_log(world: World, unique: str) -> None:
    topic, group = await _group_on(world, unique, [2])
    wanted = OffsetTarget(offsets=[PartitionOffset(topic=topic, partition=0, offset=9)])
    change = ResetConsumerGroupOffsets(group=group, topics=[topic], to=wanted)
    with pytest.raises(InvalidRequestError, match=rf"offset 9 for {topic}/0 is outside the log"):
        await kinds.apply(world.kafka, change)


def _binding(principal: str, resource: str, **extra: object) -> AclBinding:
    return AclBinding.model_validate(
        {
            "resource_type": AclResourceType.TOPIC,
            "resource_name": resource,
            "principal": principal,
            "operation": AclOperation.READ,
            **extra,
        }
    )


@pytest.mark.parametrize(
    "name", ["{unique}", "CN={unique}.example.com,OU=payments,O=Example Corp"], ids=["user", "tls"]
)
@pytest.mark.needs("describeAcls", "createAcls", "deleteAcls")
async def test_acls_are_added_and_removed_once(world: World, unique: str, name: str) -> None:
    """Also for a principal named by a TLS certificate, which the broker reports as is."""
    principal = "User:" + name.format(unique=unique)
    literal = _binding(principal, f"{unique}-orders")
    prefixed = _binding(principal, f"{unique}-", pattern_type=AclPatternType.PREFIXED)
    add = AlterAcls(add=[literal, prefixed])
    assert (await kinds.apply(world.kafka, add)).outcome is APPLIED
    assert (await kinds.apply(world.kafka, add)).outcome is ALREADY
    matching = await world.kafka.describe_acls(
        AclFilter(
            resource_type=AclResourceType.TOPIC,
            resource_name=f"{unique}-orders",
            pattern_type=AclPatternFilter.MATCH,
            principal=principal,
        )
    )
    assert {b.key() for b in matching} == {literal.key(), prefixed.key()}
    remove = AlterAcls(remove=[literal])
    assert (await kinds.apply(world.kafka, remove)).outcome is APPLIED
    assert (await kinds.apply(world.kafka, remove)).outcome is ALREADY
    left = await world.kafka.describe_acls(AclFilter(principal=principal))
    assert [b.key() for b in left] == [prefixed.key()]


@pytest.mark.lacks("createAcls")
async def test_acls_where_unsupported_are_never_sent(world: World, unique: str) -> None:
    change = AlterAcls(add=[_binding(f"User:{unique}", unique)])
    with pytest.raises(UnsupportedByBrokerError, match="kcr did not send it"):
        await kinds.apply(world.kafka, change)
    assert (await world.kafka.cluster_overview()).brokers, "the broker is still serving"


async def test_delete_topic_is_idempotent(world: World, unique: str) -> None:
    await kinds.apply(world.kafka, CreateTopic(topic=unique, partitions=1, replication_factor=1))
    first = await kinds.apply(world.kafka, DeleteTopic(topic=unique))
    second = await kinds.apply(world.kafka, DeleteTopic(topic=unique))
    assert (first.outcome, second.outcome) == (APPLIED, ALREADY)
    assert unique not in {t.name for t in await world.kafka.list_topics()}


async def test_a_deployment_scale_is_not_kafkas(world: World) -> None:
    scale = ScaleDeployment(namespace="shop", name="billing", replicas=0)
    with pytest.raises(StepRefusedError, match="needs the Kubernetes API"):
        await kinds.apply(world.kafka, Operation.of(scale))


async def test_shift_by_needs_committed_offsets(world: World, unique: str) -> None:
    topic = f"{unique}-t"
    await kinds.apply(world.kafka, CreateTopic(topic=topic, partitions=1, replication_factor=1))
    change = ResetConsumerGroupOffsets(
        group=f"{unique}-new", topics=[topic], to=OffsetTarget(shift_by=-1)
    )
    with pytest.raises(InvalidRequestError, match=r"has no committed offsets on .* shift by -1"):
        await kinds.apply(world.kafka, change)
