"""Replica moves and leader elections over a backend: compare, then send what differs.

A move Kafka accepted is listed by ListPartitionReassignments until it ends, and then the
partition's replicas are the target; either way a repeat finds it and sends nothing. How
far a move has come is read from the log dirs: the bytes its adding brokers still lack.
"""

import logging
from collections.abc import Iterable

from kcr.kafka.backend import Backend
from kcr.kafka.errors import InvalidRequestError, KafkaPortError, NotFoundError
from kcr.kafka.readmodel import PartitionInfo, Reassignment, TopicInfo, TopicPartition
from kcr.kafka.replica_model import Election, ElectionOutcome, ElectionResult, ReplicaLogSize
from kcr.kafka.results import WriteResult
from kcr.kafka.settle import until_shown

log = logging.getLogger(__name__)


def label(tp: TopicPartition) -> str:
    return f"{tp.topic}/{tp.partition}"


async def described(backend: Backend, topics: Iterable[str]) -> dict[str, TopicInfo]:
    """The topics by name; ``NotFoundError`` names the first one that does not exist."""
    names = sorted(set(topics))
    found = {t.name: t for t in (await backend.metadata(names)).topics} if names else {}
    for name in names:
        if name not in found:
            raise NotFoundError(f"topic {name} does not exist", resource="topic", name=name)
    return found


def partition_of(topics: dict[str, TopicInfo], tp: TopicPartition) -> PartitionInfo:
    found = next((p for p in topics[tp.topic].partitions if p.partition == tp.partition), None)
    if found is None:
        count = topics[tp.topic].partition_count
        raise NotFoundError(
            f"partition {tp.partition} of topic {tp.topic} does not exist (it has {count})",
            resource="partition",
            name=label(tp),
        )
    return found


async def log_dir_sizes(backend: Backend, topics: list[str]) -> list[ReplicaLogSize]:
    """Every replica of the topics, on every broker that holds one."""
    found = await described(backend, topics)
    if not found:
        return []
    brokers = [b.id for b in (await backend.metadata([])).brokers]
    partitions = {name: [p.partition for p in t.partitions] for name, t in found.items()}
    return await backend.log_dirs(partitions, sorted(brokers))


def bytes_left(move: Reassignment, sizes: list[ReplicaLogSize]) -> int:
    """What the adding brokers lack of the largest copy the others hold."""
    held = {
        r.broker: r.size
        for r in sizes
        if (r.topic, r.partition) == (move.topic, move.partition) and not r.future
    }
    source = max((size for b, size in held.items() if b not in move.adding), default=0)
    return sum(max(0, source - held.get(b, 0)) for b in move.adding)


async def with_bytes_left(backend: Backend, moves: list[Reassignment]) -> list[Reassignment]:
    """The moves with their bytes left, where the cluster reports its log dirs.

    Only the brokers of the moving replicas are asked. A move's bytes left are an estimate
    beside the move itself: when one of those brokers cannot answer now (it may be the
    reason for the move), they stay null, with a warning, and the moves are still listed.
    """
    if not moves or not (await backend.capabilities()).describe_log_dirs:
        return moves
    partitions: dict[str, list[int]] = {}
    for move in moves:
        partitions.setdefault(move.topic, []).append(move.partition)
    brokers = sorted({b for m in moves for b in m.replicas})
    try:
        sizes = await backend.log_dirs(partitions, brokers)
    except KafkaPortError as error:
        if not error.retriable:
            raise
        log.warning("bytes left of %d move(s) unknown: %s", len(moves), error.message)
        return moves
    return [m.model_copy(update={"bytes_left": bytes_left(m, sizes)}) for m in moves]


async def alter_reassignments(
    backend: Backend, targets: dict[TopicPartition, list[int] | None]
) -> WriteResult:
    """Start each move (a replica list, in leader preference order) or cancel it (None)."""
    for tp, target in targets.items():
        if target is not None and not target:
            raise InvalidRequestError(
                f"{label(tp)}: the target replica list is empty; give the broker ids the "
                "partition should live on, or null to cancel its move"
            )
    topics = await described(backend, (tp.topic for tp in targets))
    listed = await backend.list_reassignments(sorted(topics)) if topics else []
    moving = {(m.topic, m.partition): m for m in listed if m.adding or m.removing}
    send: dict[TopicPartition, list[int] | None] = {}
    details = []
    for tp, target in sorted(targets.items(), key=lambda item: (item[0].topic, item[0].partition)):
        current = partition_of(topics, tp).replicas
        needed, said = _compare(tp, current, moving.get((tp.topic, tp.partition)), target)
        details.append(said)
        if needed:
            send[tp] = None if target is None else list(target)
    if send:
        await backend.alter_reassignments(send)
    return WriteResult.of(bool(send), details)


def _compare(
    tp: TopicPartition, current: list[int], move: Reassignment | None, target: list[int] | None
) -> tuple[bool, str]:
    """Whether ``tp`` needs the request, and one sentence saying what it does or why not."""
    if target is None:
        if move is None:
            return False, f"{label(tp)}: no move in progress, nothing to cancel"
        original = [b for b in move.replicas if b not in move.adding]
        return True, f"{label(tp)}: cancelled the move to {move.target}, back on {original}"
    if move is not None and move.target == target:
        return False, f"{label(tp)}: already moving to {target}"
    if move is None and current == target:
        return False, f"{label(tp)}: already on {target}"
    return True, f"{label(tp)}: {current} → {target}"


async def elect_leaders(
    backend: Backend, partitions: list[TopicPartition] | None, election: Election
) -> list[ElectionResult]:
    """Each partition's result; the elected leaders are waited for, so a repeat finds them."""
    if partitions is not None:
        if not partitions:
            return []
        topics = await described(backend, (tp.topic for tp in partitions))
        for tp in partitions:
            partition_of(topics, tp)
        partitions = list(dict.fromkeys(partitions))
    results = await backend.elect_leaders(election, partitions)
    elected = [r for r in results if r.outcome is ElectionOutcome.ELECTED]
    if elected and election is Election.PREFERRED:
        await until_shown(
            lambda: backend.metadata(sorted({r.topic for r in elected})),
            lambda metadata: all(_led_by_first(metadata.topics, r) for r in elected),
            "the elected leaders in its metadata",
            backend.settings.operation_timeout,
        )
    return sorted(results, key=lambda r: (r.topic, r.partition))


def _led_by_first(topics: list[TopicInfo], result: ElectionResult) -> bool:
    topic = next((t for t in topics if t.name == result.topic), None)
    found = topic and next((p for p in topic.partitions if p.partition == result.partition), None)
    return bool(found and found.replicas and found.leader == found.replicas[0])
