"""ReplicationThrottle: a step only. Holds a batch of replica moves to a rate, or lets go.

Set before a batch as Kafka's reassign tool sets it: both rates on every broker the batch
involves, the leader throttle on the replicas that send a copy and the follower throttle on
those that receive one, computed from the live replicas then. Removed after the batch, from
the same brokers and topics. Undoing a removal sets the throttle again for moving the
replicas back, so a rollback copies at the rate the change did.
"""

from pydantic import Field, field_validator

from kcr.kafka.readmodel import TopicInfo
from kcr.kafka.results import ApplyResult
from kcr.kafka.throttles import move_throttle
from kcr.kinds.base import KindBase, StepPorts
from kcr.kinds.replica_model import (
    ThrottleRate,
    TopicReplicas,
    TopicTargets,
    check_topics_once,
    placements,
    size,
)
from kcr.model import Assessment, ClusterPolicy, Inverse, ObservedState, Risk
from kcr.model.base import KubeModel
from kcr.plan.steps import make_step

THROTTLE_CLAIM = "replication/throttles"
"""Broker rates are shared by every move on a cluster: one change holds them at a time."""


class ReplicationThrottle(KubeModel):
    bytes_per_second: ThrottleRate
    remove: bool = Field(default=False, description="Remove the throttle instead of setting it")
    topics: TopicTargets = Field(description="The moves the throttle is for: their targets")

    _topics_once = field_validator("topics")(check_topics_once)


class ReplicationThrottleKind(KindBase[ReplicationThrottle]):
    model = ReplicationThrottle
    requestable = False

    def topics(self, member: ReplicationThrottle) -> list[str]:
        return [t.topic for t in member.topics]

    def describe(self, member: ReplicationThrottle) -> str:
        count = sum(len(t.partitions) for t in member.topics)
        where = f"{count} partition(s) of {', '.join(self.topics(member))}"
        if member.remove:
            return f"remove the replication throttle of {where}"
        return f"throttle replication of {where} to {size(member.bytes_per_second)}/s per broker"

    def claims(self, member: ReplicationThrottle) -> list[str]:
        return [THROTTLE_CLAIM]

    def risk(self, member: ReplicationThrottle, observed: ObservedState | None) -> Assessment:
        return Assessment(Risk.LOW, [self.describe(member)])

    def assess_undo(
        self, member: ReplicationThrottle, live: ObservedState, policy: ClusterPolicy
    ) -> Assessment:
        return Assessment(Risk.LOW, [self.describe(member)])

    def gate_topics(self, member: ReplicationThrottle) -> list[str]:
        return []

    def undo(
        self, undo_id: str, member: ReplicationThrottle, snapshot: ObservedState | None
    ) -> Inverse:
        """A throttle set is removed; a removal is set again, for the way back to the
        snapshot's replicas (undone steps run newest first, so the move back follows)."""
        if not member.remove:
            return Inverse(make_step(undo_id, member.model_copy(update={"remove": True})))
        back = back_to_snapshot(member.topics, snapshot)
        if back is None:
            return Inverse(None)
        return Inverse(
            make_step(undo_id, member.model_copy(update={"remove": False, "topics": back}))
        )

    async def apply(
        self, ports: StepPorts, member: ReplicationThrottle, snapshot: ObservedState | None
    ) -> ApplyResult:
        kafka = ports.kafka
        names = self.topics(member)
        live = {t.name: t for t in await kafka.describe_topics(names)}
        brokers = sorted(involved(member.topics, live, snapshot))
        if member.remove:
            written = await kafka.remove_replication_throttle(brokers=brokers, topics=names)
            return self.result(member, written.applied, written.details)
        lists = [
            move_throttle(live[t.topic], {p.partition: p.replicas for p in t.partitions})
            for t in member.topics
        ]
        if not any(t.follower_replicas for t in lists):
            return self.result(
                member, False, ["nothing to throttle: every partition is on its target"]
            )
        written = await kafka.set_replication_throttle(
            member.bytes_per_second, brokers=brokers, topics=lists
        )
        return self.result(member, written.applied, written.details)


def involved(
    topics: list[TopicReplicas], live: dict[str, TopicInfo], snapshot: ObservedState | None
) -> set[int]:
    """Every broker a batch touches: where its partitions are now, where they go, and where
    the snapshot saw them (so a removal after the move reaches the brokers it left)."""
    brokers: set[int] = set()
    for topic in topics:
        now = {p.partition: p.replicas for p in live[topic.topic].partitions}
        before = placements(snapshot, topic.topic)
        for wanted in topic.partitions:
            brokers |= set(wanted.replicas) | set(now.get(wanted.partition, []))
            seen = before.get(wanted.partition)
            brokers |= set(seen.replicas) if seen else set()
    return brokers


def back_to_snapshot(
    topics: list[TopicReplicas], snapshot: ObservedState | None
) -> list[TopicReplicas] | None:
    """The same partitions with the replicas the snapshot saw; None when it lacks any."""
    back = []
    for topic in topics:
        before = placements(snapshot, topic.topic)
        partitions = []
        for wanted in topic.partitions:
            seen = before.get(wanted.partition)
            if seen is None or not seen.replicas:
                return None
            partitions.append(wanted.model_copy(update={"replicas": list(seen.replicas)}))
        back.append(TopicReplicas(topic=topic.topic, partitions=partitions))
    return back


KIND = ReplicationThrottleKind()
