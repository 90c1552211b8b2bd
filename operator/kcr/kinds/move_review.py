"""The review of a replica move: what it copies, what makes it invalid, how risky it is.

Pure, from the member and the observed state, so ``kcr validate``, the MCP preview and the
operator say the same. Every problem names the field and the rule.
"""

from typing import TYPE_CHECKING, Protocol

from kcr.kinds.move_estimate import LARGE_MOVE_BYTES, Estimate, estimate
from kcr.kinds.replica_model import TopicReplicas, duration, placements, size, targets
from kcr.model import Assessment, ClusterPolicy, DataMovement, ObservedState, Risk, Storage
from kcr.policy.limits import missing_topics, too_many_topics

if TYPE_CHECKING:  # the kind's module imports this one
    from kcr.kinds.reassign_partitions import ReassignPartitions


class Moves(Protocol):
    """A change's moves or one step's: the targets, their rate, how many copy at once."""

    @property
    def topics(self) -> list[TopicReplicas]: ...

    @property
    def throttle_bytes_per_second(self) -> int: ...

    @property
    def batch_size(self) -> int: ...


def estimate_of(member: Moves, observed: ObservedState) -> Estimate:
    return estimate(
        list(targets(member.topics)),
        member.batch_size,
        member.throttle_bytes_per_second,
        observed,
    )


def moved_data(
    member: "ReassignPartitions", observed: ObservedState | None, storage: Storage
) -> DataMovement:
    if observed is None:
        return DataMovement(
            bytes=None, summary="spec.observed is empty: the bytes to copy are read at execution"
        )
    found = estimate_of(member, observed)
    rate = f"{size(member.throttle_bytes_per_second)}/s per broker"
    moving = f"adds {found.added} replica(s) to {len(found.moves)} partition(s)"
    if found.bytes is None:
        return DataMovement(
            bytes=None,
            summary=f"{moving}; their size could not be read (no DescribeLogDirs, or partitions "
            "the snapshot does not show), so the copy is unknown",
        )
    if storage is Storage.SHARED:
        return DataMovement(
            bytes=0,
            seconds=0,
            summary=f"{moving}; on shared storage every broker reads one object store, so no "
            f"records are copied (the logs hold {size(found.bytes)} on local disks)",
        )
    count = len(found.batch_bytes)
    summary = (
        f"{moving}: each added replica copies its partition from the leader, "
        f"{size(found.bytes)} in {count} batch(es) of up to {member.batch_size} partitions, "
        f"about {duration(found.seconds or 0)} at {rate}"
    )
    if storage is Storage.TIERED:
        summary += "; on tiered storage only the local segments are copied (those counted)"
    return DataMovement(bytes=found.bytes, seconds=found.seconds, summary=summary)


def move_violations(
    member: "ReassignPartitions", where: str, observed: ObservedState | None, policy: ClusterPolicy
) -> list[str]:
    if policy.cruise_control:
        return [
            f"{where}: Cruise Control balances this cluster's replicas (policy.cruiseControl), "
            "so kcr does not move them behind its back; ask Cruise Control with a "
            "KafkaRebalance instead: the MCP tool draft_kafka_rebalance drafts one for a pull "
            "request, and a person approves it with the annotation strimzi.io/rebalance=approve"
        ]
    names = [t.topic for t in member.topics]
    found = too_many_topics(len(names), f"{where}.topics", policy)
    found += missing_topics(names, f"{where}.topics", observed)
    floor = policy.limits.min_replication_factor
    for index, topic in enumerate(member.topics):
        at = f"{where}.topics[{index}]"
        thin = [p.partition for p in topic.partitions if len(p.replicas) < floor]
        if thin:
            found.append(
                f"{at}.partitions: partition(s) {_some(thin)} of {topic.topic} would have fewer "
                f"than {floor} replicas, this cluster's minimum (policy.limits."
                "minReplicationFactor)"
            )
        found += _live_violations(topic, at, observed)
    if observed is not None and not found:
        found += _too_slow(member, where, observed)
    return found


def _live_violations(topic: TopicReplicas, at: str, observed: ObservedState | None) -> list[str]:
    seen = observed.topic(topic.topic) if observed else None
    if observed is None or seen is None or not seen.exists:
        return []
    found = []
    listed = [p.partition for p in topic.partitions]
    beyond = [p for p in listed if p >= seen.partitions]
    if beyond:
        found.append(
            f"{at}.partitions: {topic.topic} has {seen.partitions} partitions (0 to "
            f"{seen.partitions - 1}); partition(s) {_some(beyond)} do not exist"
        )
    missing = sorted(set(range(seen.partitions)) - set(listed))
    if topic.replication_factor is not None and missing:
        found.append(
            f"{at}.replicationFactor: a new replication factor for {topic.topic} lists every "
            f"partition; missing: {_some(missing)}"
        )
    known = set(observed.broker_ids or [])
    unknown = sorted({b for p in topic.partitions for b in p.replicas} - known) if known else []
    if unknown:
        found.append(
            f"{at}.partitions: broker(s) {_some(unknown)} are not in the cluster (its brokers: "
            f"{_some(sorted(known))})"
        )
    min_isr = seen.configs.get("min.insync.replicas")
    floor = int(min_isr.value) if min_isr and min_isr.value else 1
    short = [p.partition for p in topic.partitions if len(p.replicas) < floor]
    if short:
        found.append(
            f"{at}.partitions: partition(s) {_some(short)} would have fewer replicas than "
            f"min.insync.replicas={floor} of {topic.topic}, so producers using acks=all could "
            "not write"
        )
    placed = placements(observed, topic.topic)
    busy = [
        f"{topic.topic}/{p.partition} to {moving}"
        for p in topic.partitions
        if (moving := (placed[p.partition].moving_to if p.partition in placed else None))
        and moving != p.replicas
    ]
    if busy:
        found.append(
            f"{at}.partitions: already moving ({_some(busy)}, ListPartitionReassignments); "
            "wait for those moves to end or cancel them first"
        )
    return found


def _too_slow(member: "ReassignPartitions", where: str, observed: ObservedState) -> list[str]:
    found = estimate_of(member, observed)
    rate = size(member.throttle_bytes_per_second)
    for number, seconds in enumerate(found.batch_seconds, 1):
        if seconds is not None and seconds > member.batch_timeout_seconds:
            copied = size(found.batch_bytes[number - 1] or 0)
            return [
                f"{where}.batchTimeoutSeconds: batch {number} copies {copied}, about "
                f"{duration(seconds)} at {rate}/s per broker, longer than "
                f"{member.batch_timeout_seconds}s; raise throttleBytesPerSecond, lower "
                "batchSize or raise batchTimeoutSeconds"
            ]
    return []


def move_risk(member: Moves, observed: ObservedState | None) -> Assessment:
    """LOW for a reorder that copies nothing and keeps every leader; MEDIUM once replicas
    copy or leadership moves; HIGH above 10 GiB, or when the size cannot be read."""
    if observed is None:
        return Assessment(Risk.HIGH, ["the observed state is missing: the copy may be any size"])
    found = estimate_of(member, observed)
    rate = size(member.throttle_bytes_per_second)
    risk, reasons = Risk.LOW, []
    if found.added:
        risk = Risk.MEDIUM
        reasons.append(
            f"adds {found.added} replica(s): their copies compete with producers and consumers "
            f"for up to {rate}/s per broker"
        )
    copies = found.bytes
    if found.added and copies is None:
        risk = Risk.HIGH
        reasons.append("the size of the partitions could not be read, so the copy may be large")
    elif copies is not None and copies > LARGE_MOVE_BYTES:
        risk = Risk.HIGH
        took = f" for about {duration(found.seconds)}" if found.seconds else ""
        reasons.append(
            f"copies {size(copies)}, more than {size(LARGE_MOVE_BYTES)}: the brokers carry the "
            f"extra replication traffic{took}, and disks fill on the receiving ones"
        )
    leaving, preferred = found.leaders_leaving, found.preferred_changing
    shrinking = [m for m in found.moves if len(m.target) < len(m.current)]
    for moves, words in (
        (
            leaving,
            "lose their leader when the move ends (it leaves the replicas): leadership "
            "moves and their clients reconnect",
        ),
        (
            preferred,
            "get a new preferred leader: leadership follows at the next preferred "
            "election (auto.leader.rebalance.enable, or an ElectLeaders change)",
        ),
        (shrinking, "keep fewer replicas: fewer copies survive a broker loss"),
    ):
        if moves:
            risk = max(risk, Risk.MEDIUM, key=lambda r: r.rank)
            reasons.append(f"{len(moves)} partition(s) {words}")
    if not reasons:
        reasons.append("every listed partition is already on its target: nothing moves")
    return Assessment(risk, reasons)


def _some(items: list[int] | list[str], limit: int = 10) -> str:
    shown = ", ".join(map(str, items[:limit]))
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
