"""Where replicas live, read for a snapshot, and where a drain or a new replication factor
puts them.

The snapshot records each partition's replicas, leader, ISR, size and any move in
progress: the review estimates the copy from it, the stale check compares it, and the
rollback moves replicas back to it. Placement proposals keep each partition's surviving
replicas in order (its preferred leader stays first where it stays) and give each new
replica to the broker that holds the fewest replicas so far.
"""

import asyncio
from collections import Counter
from collections.abc import Mapping
from datetime import datetime

from kcr.kafka.errors import UnsupportedByBrokerError
from kcr.kafka.port import KafkaPort
from kcr.kafka.readmodel import Reassignment, TopicInfo
from kcr.kinds.base import CONTEXT_KEYS
from kcr.kinds.replica_model import PartitionReplicas, TopicReplicas, group_by_topic
from kcr.model import ObservedReplicaSet, ObservedState, ObservedTopic

Assignment = Mapping[str, Mapping[int, list[int]]]
"""Topic → partition → replicas, as the cluster has them now."""


class PlacementError(ValueError):
    """The brokers cannot hold the replicas as asked; the message says why and what to do."""


async def observe_placement(
    kafka: KafkaPort,
    topics: list[str],
    *,
    sizes: bool,
    only: Mapping[str, set[int]] | None = None,
) -> tuple[list[ObservedTopic], list[int]]:
    """The topics with their assignment, and the live broker ids.

    ``sizes`` reads the log dirs; a cluster without DescribeLogDirs leaves them null (the
    estimate unknown). ``only`` keeps the named partitions of each topic: a request and
    its status hold three copies of the snapshot, and etcd bounds an object's size.
    """
    overview = await kafka.cluster_overview()
    observed = list(await asyncio.gather(*(kafka.observe_topic(t, CONTEXT_KEYS) for t in topics)))
    brokers = sorted(b.id for b in overview.brokers)
    existing = [t.name for t in observed if t.exists]
    if not existing:
        return observed, brokers
    infos = {t.name: t for t in await kafka.describe_topics(existing)}
    moving = await _moving(kafka, existing)
    held = await _sizes(kafka, existing) if sizes else {}
    placed = []
    for topic in observed:
        info = infos.get(topic.name)
        if info is None:
            placed.append(topic)
            continue
        wanted = only.get(topic.name) if only is not None else None
        assignment = [
            p for p in _assignment(info, moving, held) if wanted is None or p.partition in wanted
        ]
        placed.append(topic.model_copy(update={"assignment": assignment}))
    return placed, brokers


async def placement_snapshot(
    kafka: KafkaPort,
    topics: list[str],
    now: datetime,
    *,
    sizes: bool,
    only: Mapping[str, set[int]] | None = None,
) -> ObservedState:
    """The snapshot of a kind that moves replicas or leaders: placement, brokers, consumers."""
    placed, brokers = await observe_placement(kafka, topics, sizes=sizes, only=only)
    return ObservedState(
        captured_at=now,
        brokers=len(brokers),
        broker_ids=brokers,
        topics=placed,
        consumers_of_topics=await kafka.consumers_of(topics),
    )


def _assignment(
    info: TopicInfo,
    moving: Mapping[tuple[str, int], Reassignment],
    held: Mapping[tuple[str, int, int], int],
) -> list[ObservedReplicaSet]:
    """While a move runs, Kafka lists the target and the leaving replicas together; the
    partition is recorded where a cancel would put it back (without the adding ones)."""
    found = []
    for partition in info.partitions:
        key = (info.name, partition.partition)
        move = moving.get(key)
        adding = move.adding if move else []
        copies = [held[(*key, b)] for b in partition.replicas if (*key, b) in held]
        found.append(
            ObservedReplicaSet(
                partition=partition.partition,
                replicas=[b for b in partition.replicas if b not in adding],
                leader=partition.leader,
                isr=partition.isr,
                bytes=max(copies) if copies else None,
                moving_to=move.target if move else None,
            )
        )
    return found


async def _moving(kafka: KafkaPort, topics: list[str]) -> dict[tuple[str, int], Reassignment]:
    try:
        report = await kafka.reassignments(topics)
    except UnsupportedByBrokerError:
        return {}
    return {(m.topic, m.partition): m for m in report.reassignments}


async def _sizes(kafka: KafkaPort, topics: list[str]) -> dict[tuple[str, int, int], int]:
    try:
        sizes = await kafka.log_dir_sizes(topics)
    except UnsupportedByBrokerError:
        return {}
    return {(s.topic, s.partition, s.broker): s.size for s in sizes if not s.future}


def replica_load(assignment: Assignment) -> Counter[int]:
    return Counter(b for partitions in assignment.values() for r in partitions.values() for b in r)


def drain(
    assignment: Assignment, brokers: list[int], drained: int, load: Counter[int]
) -> list[TopicReplicas]:
    """Every replica on ``drained`` moved to another broker, each partition keeping its
    replication factor. Raises :class:`PlacementError` when the others cannot hold them."""
    others = [b for b in brokers if b != drained]
    pairs: list[tuple[str, PartitionReplicas]] = []
    for topic in sorted(assignment):
        for partition, replicas in sorted(assignment[topic].items()):
            if drained not in replicas:
                continue
            kept = [b for b in replicas if b != drained]
            (new,) = _least_loaded(
                others, kept, 1, load, where=f"{topic}/{partition}", rf=len(replicas)
            )
            load[drained] -= 1
            pairs.append((topic, PartitionReplicas(partition=partition, replicas=[*kept, new])))
    return group_by_topic(pairs)


def resize(
    topic: str, partitions: Mapping[int, list[int]], brokers: list[int], rf: int, load: Counter[int]
) -> TopicReplicas:
    """Every partition of ``topic`` with ``rf`` replicas: extra ones dropped from the end (the
    preferred leader stays), missing ones added on the least loaded brokers."""
    listed = []
    for partition, replicas in sorted(partitions.items()):
        kept = list(replicas[:rf])
        for dropped in replicas[rf:]:
            load[dropped] -= 1
        added = _least_loaded(
            brokers, kept, rf - len(kept), load, where=f"{topic}/{partition}", rf=rf
        )
        listed.append(PartitionReplicas(partition=partition, replicas=[*kept, *added]))
    return TopicReplicas(topic=topic, replication_factor=rf, partitions=listed)


def _least_loaded(
    brokers: list[int], kept: list[int], count: int, load: Counter[int], *, where: str, rf: int
) -> list[int]:
    chosen: list[int] = []
    for _ in range(count):
        free = [b for b in brokers if b not in kept and b not in chosen]
        if not free:
            raise PlacementError(
                f"{where} needs {rf} replicas on distinct brokers, but only "
                f"{len(brokers)} broker(s) ({', '.join(map(str, brokers))}) can hold them; "
                "add brokers or lower the replication factor"
            )
        pick = min(free, key=lambda b: (load[b], b))
        load[pick] += 1
        chosen.append(pick)
    return chosen
