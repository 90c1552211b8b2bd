"""Reads a change kind composes into its snapshot: a topic, a group, the consumers of topics.

Each is shaped as the snapshot stores it (:class:`kcr.model.ObservedState`), secrets left
out, partition lists bounded."""

import asyncio

from kcr.kafka.backend import Backend
from kcr.kafka.readmodel import TopicConfigs, TopicInfo, TopicPartition
from kcr.kafka.sensitive import is_sensitive_key
from kcr.kafka.topics import find_topic
from kcr.model import ObservedConfig, ObservedGroup, ObservedPartition, ObservedTopic
from kcr.model.names import collides
from kcr.model.observed import MAX_OBSERVED_PARTITIONS

MAX_CONSUMERS = 1000


async def colliding_topics(backend: Backend, name: str) -> list[ObservedTopic]:
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


async def observe_topic(
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


async def observe_group(backend: Backend, group: str, topics: list[str]) -> ObservedGroup:
    metadata = await backend.metadata(list(topics))
    partitions = [
        TopicPartition(topic=t.name, partition=p.partition)
        for t in metadata.topics
        for p in t.partitions
    ][:MAX_OBSERVED_PARTITIONS]
    (description,), (committed,), log = await asyncio.gather(
        backend.describe_groups([group]),
        backend.committed([group], partitions),
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
        group=group,
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
