"""Turning an offset-reset target into concrete offsets, before anything is written.

Pure: the service reads the log, the committed offsets and the time index, then calls
this. The same numbers are shown in a preview, committed, and recorded in the result.
"""

import asyncio
from collections.abc import Mapping, Sequence
from typing import Protocol

from kcr.kafka.backend import Backend
from kcr.kafka.errors import InvalidRequestError, NotFoundError
from kcr.kafka.readmodel import PartitionOffsets, TopicPartition
from kcr.kafka.topics import require_topic
from kcr.model import ObservedState, OffsetTarget, PartitionOffset

Key = tuple[str, int]


class OffsetReset(Protocol):
    """A reset of one group's committed offsets on some topics to a target."""

    @property
    def group(self) -> str: ...

    @property
    def topics(self) -> Sequence[str]: ...

    @property
    def to(self) -> OffsetTarget: ...


def clamp(offset: int, log: PartitionOffsets) -> int:
    return min(max(offset, log.earliest), log.latest)


def resolve_target(
    target: OffsetTarget,
    partitions: list[TopicPartition],
    log: Mapping[Key, PartitionOffsets],
    committed: Mapping[Key, int | None],
    at_time: Mapping[TopicPartition, int | None],
) -> list[PartitionOffset]:
    """One row per partition the reset moves, sorted by topic and partition.

    Shift-by leaves out partitions the group never committed (there is nothing to shift);
    a timestamp after the last record resolves to the log end, as Kafka's tools do.
    """
    if target.offsets is not None:
        return _explicit(target.offsets, log)
    rows = []
    for tp in sorted(partitions, key=lambda p: (p.topic, p.partition)):
        known = log[(tp.topic, tp.partition)]
        if target.earliest:
            offset: int | None = known.earliest
        elif target.latest:
            offset = known.latest
        elif target.timestamp is not None:
            found = at_time.get(tp)
            offset = known.latest if found is None or found < 0 else clamp(found, known)
        else:
            current = committed.get((tp.topic, tp.partition))
            shift = target.shift_by or 0
            offset = None if current is None or current < 0 else clamp(current + shift, known)
        if offset is not None:
            rows.append(PartitionOffset(topic=tp.topic, partition=tp.partition, offset=offset))
    return rows


def _explicit(
    offsets: list[PartitionOffset], log: Mapping[Key, PartitionOffsets]
) -> list[PartitionOffset]:
    for wanted in offsets:
        known = log.get((wanted.topic, wanted.partition))
        if known is None:
            raise NotFoundError(
                f"partition {wanted.partition} of topic {wanted.topic} does not exist",
                resource="partition",
                name=f"{wanted.topic}/{wanted.partition}",
            )
        if not known.earliest <= wanted.offset <= known.latest:
            raise InvalidRequestError(
                f"offset {wanted.offset} for {wanted.topic}/{wanted.partition} is outside the "
                f"log, which holds offsets {known.earliest} to {known.latest}"
            )
    return sorted(offsets, key=lambda o: (o.topic, o.partition))


async def read_and_resolve(
    backend: Backend, reset: OffsetReset, snapshot: ObservedState | None
) -> list[PartitionOffset]:
    """Read what the target needs (log, commits, time index), then resolve it."""
    topics = await asyncio.gather(*(require_topic(backend, name) for name in reset.topics))
    partitions = [
        TopicPartition(topic=t.name, partition=p.partition) for t in topics for p in t.partitions
    ]
    log = {(o.topic, o.partition): o for o in await backend.log_offsets(partitions)}
    log = _log_as_snapshotted(log, reset, snapshot)
    committed: dict[Key, int | None] = {}
    at_time: dict[TopicPartition, int | None] = {}
    target = reset.to
    if target.shift_by is not None:
        committed = await _committed_before(backend, reset, partitions, snapshot)
    if target.timestamp is not None:
        at_time = await backend.offsets_for_timestamp(
            partitions, int(target.timestamp.timestamp() * 1000)
        )
    return resolve_target(target, partitions, log, committed, at_time)


async def _committed_before(
    backend: Backend,
    reset: OffsetReset,
    partitions: list[TopicPartition],
    snapshot: ObservedState | None,
) -> dict[Key, int | None]:
    """From the snapshot when it saw the group, so a repeated shift lands on the same offsets."""
    seen = snapshot.group(reset.group) if snapshot is not None else None
    if seen is not None:
        return {(p.topic, p.partition): p.committed for p in seen.partitions}
    (current,) = await backend.committed([reset.group], partitions)
    return {(o.topic, o.partition): o.offset for o in current.offsets}


def _log_as_snapshotted(
    log: dict[Key, PartitionOffsets],
    reset: OffsetReset,
    snapshot: ObservedState | None,
) -> dict[Key, PartitionOffsets]:
    """Earliest and latest as the snapshot before the first write saw them.

    A reset re-driven after a crash (committed, but not yet recorded) then resolves to the
    offsets it committed the first time, and compare-then-apply sends nothing, instead of
    moving the group again to a newer log end. Clamped into today's log, so retention that
    deleted records meanwhile never leaves the group before the log start.
    """
    seen = snapshot.group(reset.group) if snapshot is not None else None
    if seen is None or not (reset.to.earliest or reset.to.latest):
        return log
    pinned = dict(log)
    for row in seen.partitions:
        live = log.get((row.topic, row.partition))
        if live is None:
            continue
        if reset.to.earliest:
            update = {"earliest": clamp(row.log_start, live)}
        else:
            update = {"latest": clamp(row.log_end, live)}
        pinned[(row.topic, row.partition)] = live.model_copy(update=update)
    return pinned
