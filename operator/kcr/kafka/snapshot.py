"""The pre-change snapshot: exactly the live state a change's rollback and stale check need."""

import asyncio
from datetime import datetime

from kcr.kafka.backend import Backend
from kcr.kafka.readmodel import TopicConfigs, TopicInfo, TopicPartition
from kcr.kafka.sensitive import is_sensitive_key
from kcr.kafka.topics import find_topic
from kcr.kafka.writes import existing_bindings
from kcr.model import (
    AlterAcls,
    AlterTopicConfig,
    Change,
    ChangeMember,
    CreateTopic,
    DeleteTopic,
    IncreasePartitions,
    ObservedConfig,
    ObservedGroup,
    ObservedPartition,
    ObservedState,
    ObservedTopic,
    ResetConsumerGroupOffsets,
)
from kcr.model.names import collides
from kcr.model.observed import MAX_OBSERVED_PARTITIONS
from kcr.model.topic_configs import RETENTION_KEYS
from kcr.policy import affected_topics

MAX_CONSUMERS = 1000
# Read with every topic: what data-loss and ISR reasoning look at besides the touched keys.
CONTEXT_KEYS = (*RETENTION_KEYS, "cleanup.policy", "min.insync.replicas")


async def take_snapshot(
    backend: Backend, change: Change | ChangeMember, now: datetime
) -> ObservedState:
    member: ChangeMember = change.member if isinstance(change, Change) else change
    metadata = await backend.metadata([])
    state: dict[str, object] = {"captured_at": now, "brokers": len(metadata.brokers)}
    if isinstance(member, CreateTopic):
        keys = [*member.configs, *CONTEXT_KEYS]
        topic = await _topic(backend, member.topic, keys, count_records=True)
        state["topics"] = [topic, *await _colliding(backend, member.topic)]
    elif isinstance(member, IncreasePartitions | DeleteTopic):
        deletes = isinstance(member, DeleteTopic)
        state["topics"] = [
            await _topic(backend, member.topic, CONTEXT_KEYS, deletes, count_records=deletes)
        ]
        state["consumers_of_topics"] = await consumers_of(backend, [member.topic])
    elif isinstance(member, AlterTopicConfig):
        keys = [*member.set, *member.delete, *CONTEXT_KEYS]
        state["topics"] = list(
            await asyncio.gather(*(_topic(backend, t, keys) for t in member.topics))
        )
        state["consumers_of_topics"] = await consumers_of(backend, list(member.topics))
    elif isinstance(member, ResetConsumerGroupOffsets):
        topics = await asyncio.gather(*(_topic(backend, t, ()) for t in member.topics))
        state["topics"] = list(topics)
        state["consumer_groups"] = [await _group(backend, member)]
    elif isinstance(member, AlterAcls):
        state["acls"] = await existing_bindings(backend, [*member.add, *member.remove])
        # A revoke (or a Deny) on a topic stops its readers: they are in the blast radius.
        bound = affected_topics(Change.of(member))
        state["consumers_of_topics"] = await consumers_of(backend, bound) if bound else []
    return ObservedState.model_validate(state)


async def _colliding(backend: Backend, name: str) -> list[ObservedTopic]:
    """Existing topics Kafka would refuse ``name`` beside: '.' and '_' share a metric name."""
    if "." not in name and "_" not in name:
        return []
    listed = await backend.metadata(None)
    return [
        ObservedTopic(
            name=t.name, partitions=t.partition_count, replication_factor=t.replication_factor
        )
        for t in listed.topics
        if collides(t.name, name)
    ]


async def _topic(
    backend: Backend,
    name: str,
    keys: tuple[str, ...] | list[str],
    every_override: bool = False,
    *,
    count_records: bool = False,
) -> ObservedTopic:
    """``count_records`` where deleting the topic is on the table (a DeleteTopic, or the
    rollback of a CreateTopic): whether it holds data decides what the deletion destroys."""
    found = await find_topic(backend, name)
    if found is None:
        return ObservedTopic(name=name, exists=False)
    (configs,) = await backend.topic_configs([name])
    wanted = set(keys) | (set(configs.overrides()) if every_override else set())
    observed = _observed_topic(found, configs, wanted)
    if not count_records:
        return observed
    return observed.model_copy(update={"records": await _records(backend, found)})


async def _records(backend: Backend, topic: TopicInfo) -> int:
    partitions = [TopicPartition(topic=topic.name, partition=p.partition) for p in topic.partitions]
    offsets = await backend.log_offsets(partitions[:MAX_OBSERVED_PARTITIONS])
    return sum(max(0, o.latest - o.earliest) for o in offsets)


def _observed_topic(topic: TopicInfo, configs: TopicConfigs, keys: set[str]) -> ObservedTopic:
    """A secret's value is left out, flagged by the broker or named like one: the snapshot
    is stored on the custom resource for anyone who may read it."""
    return ObservedTopic(
        name=topic.name,
        partitions=topic.partition_count,
        replication_factor=topic.replication_factor,
        configs={
            key: ObservedConfig(
                value=None if entry.sensitive or is_sensitive_key(key) else entry.value,
                source=entry.source,
            )
            for key, entry in sorted(configs.configs.items())
            if key in keys
        },
    )


async def _group(backend: Backend, reset: ResetConsumerGroupOffsets) -> ObservedGroup:
    metadata = await backend.metadata(list(reset.topics))
    partitions = [
        TopicPartition(topic=t.name, partition=p.partition)
        for t in metadata.topics
        for p in t.partitions
    ][:MAX_OBSERVED_PARTITIONS]
    (description,), (committed,), log = await asyncio.gather(
        backend.describe_groups([reset.group]),
        backend.committed([reset.group], partitions),
        backend.log_offsets(partitions),
    )
    # Both reads answer exactly the partitions asked for, so every commit has its log.
    ends = {(o.topic, o.partition): o for o in log}
    rows = []
    for offset in committed.offsets:
        known = ends[(offset.topic, offset.partition)]
        rows.append(
            ObservedPartition(
                topic=offset.topic,
                partition=offset.partition,
                committed=offset.offset,
                log_start=known.earliest,
                log_end=known.latest,
            )
        )
    return ObservedGroup(
        group=reset.group,
        state=description.state,
        members=len(description.members),
        partitions=sorted(rows, key=lambda p: (p.topic, p.partition)),
    )


async def consumers_of(backend: Backend, topics: list[str]) -> list[str]:
    """Groups with a committed offset on any of ``topics``: every group, fetched at once."""
    groups = [g.group for g in await backend.list_groups()]
    if not groups:
        return []
    wanted = set(topics)
    committed = await backend.committed(groups)
    consumers = sorted(
        g.group
        for g in committed
        if any(o.topic in wanted and o.offset is not None for o in g.offsets)
    )
    return consumers[:MAX_CONSUMERS]
