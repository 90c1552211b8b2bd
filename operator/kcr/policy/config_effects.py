"""Kafka's whole topic-configuration catalogue and what each setting does to data written.

One row per key of ``org.apache.kafka.common.config.TopicConfig`` (Kafka 4.x), so the
data-loss rules in :mod:`kcr.policy.data_loss` and a reviewer read the same words. A test
keeps the rows equal to the keys of the kafka-clients jar.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from kcr.model import Risk


class Loss(Enum):
    """Which move of a key's value can destroy records."""

    NEVER = "never"
    LOWER = "a lower value"
    LOWER_IF_COMPACTED = "a lower value on a compacted topic"
    HIGHER = "a higher value"
    OWN_RULE = "its own rule"


@dataclass(frozen=True)
class ConfigEffect:
    effect: str
    """What the key governs, in plain words."""
    loss: Loss = Loss.NEVER
    risk: Risk = Risk.HIGH
    lost: str = ""
    """What a change in the losing direction destroys, in plain words."""
    unlimited_below_zero: bool = False
    """-1 (and -2, 'follow retention.*') mean no limit."""


_ROLL = (
    "segments roll sooner, so retention deletes and compaction removes records sooner, "
    "including records kept only because their segment was still active"
)
_SUPERSEDED = (
    "compaction removes superseded values of a key sooner, before slow consumers read them"
)

# Kafka's whole topic-configuration catalogue (org.apache.kafka.common.config.TopicConfig,
# Kafka 4.x) and what each does to data already written.
CONFIG_EFFECTS: Mapping[str, ConfigEffect] = {
    "cleanup.policy": ConfigEffect(
        "delete removes old segments by retention; compact keeps the latest record per key",
        Loss.OWN_RULE,
        Risk.CRITICAL,
    ),
    "retention.ms": ConfigEffect(
        "how long records are kept",
        Loss.LOWER,
        lost="the broker deletes records older than the new limit at its next cleanup",
        unlimited_below_zero=True,
    ),
    "retention.bytes": ConfigEffect(
        "how much a partition keeps",
        Loss.LOWER,
        lost="the broker deletes the oldest records beyond the new size at its next cleanup",
        unlimited_below_zero=True,
    ),
    "local.retention.ms": ConfigEffect(
        "how long segments stay on broker disks under tiered storage",
        Loss.LOWER,
        lost="local segments go sooner, and records not yet copied to remote storage with them",
        unlimited_below_zero=True,
    ),
    "local.retention.bytes": ConfigEffect(
        "how much of a partition stays on broker disks under tiered storage",
        Loss.LOWER,
        lost="local segments go sooner, and records not yet copied to remote storage with them",
        unlimited_below_zero=True,
    ),
    "remote.storage.enable": ConfigEffect(
        "tiered storage for the topic; turning it off with remote.log.delete.on.disable=true "
        "deletes every remote segment",
        Loss.OWN_RULE,
        Risk.CRITICAL,
    ),
    "remote.log.delete.on.disable": ConfigEffect(
        "whether turning tiered storage off deletes the remote segments",
        Loss.OWN_RULE,
        Risk.CRITICAL,
    ),
    "remote.log.copy.disable": ConfigEffect(
        "stops uploads to remote storage; expiry then follows retention.*, not local.retention.*"
    ),
    "remote.copy.lag.ms": ConfigEffect("how old a segment is before it may be uploaded"),
    "remote.copy.lag.bytes": ConfigEffect("how much newer data follows a segment before upload"),
    "unclean.leader.election.enable": ConfigEffect(
        "lets a replica outside the ISR become leader, dropping acknowledged records it missed",
        Loss.OWN_RULE,
    ),
    "min.insync.replicas": ConfigEffect(
        "replicas that must hold a record before acks=all succeeds",
        Loss.LOWER,
        lost="fewer replicas acknowledge a write, so an acknowledged record can be lost with "
        "its leader",
    ),
    "min.compaction.lag.ms": ConfigEffect(
        "how long a record stays safe from compaction", Loss.LOWER_IF_COMPACTED, lost=_SUPERSEDED
    ),
    "max.compaction.lag.ms": ConfigEffect(
        "how long a record may wait for compaction", Loss.LOWER_IF_COMPACTED, lost=_SUPERSEDED
    ),
    "min.cleanable.dirty.ratio": ConfigEffect(
        "how much of a log is superseded before compaction runs",
        Loss.LOWER_IF_COMPACTED,
        lost=_SUPERSEDED,
    ),
    "delete.retention.ms": ConfigEffect(
        "how long delete tombstones stay",
        Loss.LOWER_IF_COMPACTED,
        lost="tombstones go sooner, so a consumer reading from the start can miss deletions",
    ),
    "segment.ms": ConfigEffect("time after which a segment rolls", Loss.LOWER, lost=_ROLL),
    "segment.bytes": ConfigEffect("size at which a segment rolls", Loss.LOWER, lost=_ROLL),
    "segment.index.bytes": ConfigEffect(
        "offset index size; a full index rolls the segment", Loss.LOWER, lost=_ROLL
    ),
    "segment.jitter.ms": ConfigEffect(
        "random time taken off each scheduled roll", Loss.HIGHER, lost=_ROLL
    ),
    "file.delete.delay.ms": ConfigEffect(
        "wait before a segment already deleted from the log leaves the disk"
    ),
    "flush.messages": ConfigEffect("fsync interval in messages; durability relies on replicas"),
    "flush.ms": ConfigEffect("fsync interval in time; durability relies on replicas"),
    "index.interval.bytes": ConfigEffect("how densely the offset index is written"),
    "preallocate": ConfigEffect("whether segment files are preallocated on disk"),
    "max.message.bytes": ConfigEffect("largest record batch accepted; larger ones are refused"),
    "max.decompressed.message.bytes": ConfigEffect(
        "largest batch after decompression; larger ones are refused"
    ),
    "message.timestamp.type": ConfigEffect("whether records carry CreateTime or LogAppendTime"),
    "message.timestamp.before.max.ms": ConfigEffect(
        "how far in the past a CreateTime timestamp may be before the record is refused"
    ),
    "message.timestamp.after.max.ms": ConfigEffect(
        "how far in the future a CreateTime timestamp may be before the record is refused"
    ),
    "message.downconversion.enable": ConfigEffect("whether old clients get converted batches"),
    "compression.type": ConfigEffect("codec for newly written batches; old ones stay as they are"),
    "compression.gzip.level": ConfigEffect("gzip level for newly written batches"),
    "compression.lz4.level": ConfigEffect("lz4 level for newly written batches"),
    "compression.zstd.level": ConfigEffect("zstd level for newly written batches"),
    "leader.replication.throttled.replicas": ConfigEffect(
        "replicas whose leader side is throttled"
    ),
    "follower.replication.throttled.replicas": ConfigEffect(
        "replicas whose follower side is throttled"
    ),
    "errors.deadletterqueue.group.enable": ConfigEffect(
        "whether share groups may write undeliverable records here"
    ),
}
