"""ReassignPartitions: move replicas between brokers, or change a topic's replication factor.

The partitions move in batches, each held to a replication throttle while it copies:
throttle, move (start the reassignments), await (wait until Kafka lists none of them,
answering "not yet" with the bytes left), unthrottle. The health gate after a stage judges
a finished move. The rollback throttles again, cancels a move still running, moves the
partitions back to the replicas the snapshot saw and waits for that, then unthrottles.
"""

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import Field, field_validator, model_validator

from kcr.crd.rules import Rule
from kcr.kafka.results import ApplyResult
from kcr.kinds.await_reassignment import AwaitReassignment, start_moves, wanted_replicas
from kcr.kinds.base import KindBase, StepPorts
from kcr.kinds.move_estimate import batches
from kcr.kinds.move_review import move_risk, move_violations, moved_data
from kcr.kinds.placement import placement_snapshot
from kcr.kinds.replica_model import (
    REPLICATION_FACTOR_RULE,
    ThrottleRate,
    TopicTargets,
    check_topics_once,
    group_by_topic,
    size,
    targets,
)
from kcr.kinds.replication_throttle import (
    THROTTLE_CLAIM,
    ReplicationThrottle,
    back_to_snapshot,
)
from kcr.model import (
    Assessment,
    BlastRadius,
    ClusterPolicy,
    DataMovement,
    Facts,
    Inverse,
    ObservedState,
    ObservedTopic,
    Stage,
    Step,
    Storage,
)
from kcr.model.base import KubeModel
from kcr.model.change import MAX_PARTITIONS
from kcr.model.strimzi import ResourceEdit
from kcr.plan.steps import make_step

MAX_BATCHES = 50
"""Four steps a batch and three undo steps: within a plan's and a rollback's bounds."""


class ReassignPartitions(KubeModel):
    topics: TopicTargets = Field(description="Each topic's partitions and their target brokers")
    throttle_bytes_per_second: ThrottleRate
    batch_size: Annotated[
        int, Field(ge=1, le=1000, description="Partitions moved at once, throttled together")
    ] = 10
    batch_timeout_seconds: Annotated[
        int,
        Field(
            ge=60,
            le=7 * 86_400,
            description="How long one batch may take to copy before the change fails (and "
            "rolls back under onFailure: Rollback)",
        ),
    ] = 3600

    CEL_RULES: ClassVar[tuple[Rule, ...]] = (REPLICATION_FACTOR_RULE,)

    _topics_once = field_validator("topics")(check_topics_once)

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        count = sum(len(t.partitions) for t in self.topics)
        if count > MAX_PARTITIONS:
            raise ValueError(
                f"{count} partitions in one change is more than {MAX_PARTITIONS}; split it"
            )
        made = math.ceil(count / self.batch_size)
        if made > MAX_BATCHES:
            raise ValueError(
                f"batchSize: {count} partitions in batches of {self.batch_size} make {made} "
                f"batches, more than {MAX_BATCHES}; raise batchSize or split the change"
            )
        return self


class ReassignPartitionsKind(KindBase[ReassignPartitions]):
    model = ReassignPartitions

    def topics(self, member: ReassignPartitions) -> list[str]:
        return [t.topic for t in member.topics]

    def describe(self, member: ReassignPartitions) -> str:
        pairs = list(targets(member.topics))
        rate = f"at up to {size(member.throttle_bytes_per_second)}/s per broker"
        if len(pairs) <= 3:
            moves = ", ".join(f"{t}/{p.partition} to {p.replicas}" for t, p in pairs)
            return f"move {moves} {rate}"
        topics = ", ".join(self.topics(member))
        return f"move the replicas of {len(pairs)} partitions of {topics} {rate}"

    def claims(self, member: ReassignPartitions) -> list[str]:
        return [THROTTLE_CLAIM]

    def blast_radius(
        self, member: ReassignPartitions, observed: ObservedState | None
    ) -> BlastRadius:
        """The partitions that move, not every partition of their topics."""
        found = super().blast_radius(member, observed)
        moved = sum(len(t.partitions) for t in member.topics)
        return found.model_copy(update={"partitions": moved})

    def strimzi_topic_edit(
        self, member: ReassignPartitions, topic: str, spec: Mapping[str, Any]
    ) -> ResourceEdit | None:
        """The Topic Operator keeps a KafkaTopic's replication factor (``spec.replicas``),
        not where replicas live: only a new replication factor goes through it."""
        wanted = next((t for t in member.topics if t.topic == topic), None)
        rf = wanted.replication_factor if wanted else None
        if rf is None or spec.get("replicas") == rf:
            return None
        return ResourceEdit({**spec, "replicas": rf}, f"set spec.replicas to {rf}")

    # --- review -----------------------------------------------------------------------------

    def data_movement(
        self, member: ReassignPartitions, observed: ObservedState | None, storage: Storage
    ) -> DataMovement:
        return moved_data(member, observed, storage)

    def limit_violations(
        self,
        member: ReassignPartitions,
        where: str,
        observed: ObservedState | None,
        policy: ClusterPolicy,
    ) -> list[str]:
        return move_violations(member, where, observed, policy)

    def risk(self, member: ReassignPartitions, observed: ObservedState | None) -> Assessment:
        return move_risk(member, observed)

    def warnings(self, member: ReassignPartitions, observed: ObservedState | None) -> list[str]:
        if observed is None:
            return ["spec.observed is empty: the bytes to copy and the rollback are unknown"]
        return []

    # --- staleness --------------------------------------------------------------------------

    def plan_facts(self, member: ReassignPartitions, observed: ObservedState) -> Facts:
        facts = super().plan_facts(member, observed)
        if observed.broker_ids:
            facts["brokers"] = ",".join(map(str, observed.broker_ids))
        return facts

    def topic_facts(self, member: ReassignPartitions, seen: ObservedTopic) -> Facts:
        wanted = next(t for t in member.topics if t.topic == seen.name)
        placed = {p.partition: p for p in seen.assignment or []}
        shown = []
        for partition in wanted.partitions:
            at = placed.get(partition.partition)
            if at is None:
                continue
            moving = f"→{','.join(map(str, at.moving_to))}" if at.moving_to else ""
            shown.append(f"{partition.partition}:{','.join(map(str, at.replicas))}{moving}")
        facts = {f"topic {seen.name}: replicas of the moved partitions": " ".join(shown)}
        if wanted.replication_factor is not None:
            facts[f"topic {seen.name}: partitions"] = str(seen.partitions)
        return facts

    def left_facts(self, member: ReassignPartitions, state: ObservedState) -> Facts:
        """Where the partitions ended up; brokers joining later do not stop a rollback."""
        return KindBase.plan_facts(self, member, state)

    # --- plan -------------------------------------------------------------------------------

    def stages(self, member: ReassignPartitions, canary: int, batch_size: int) -> list[Stage]:
        """Batches of ``member.batchSize`` partitions in the order listed (the rollout's
        canary and batchSize count topics, and do not apply to partitions)."""
        stages = []
        for number, batch in enumerate(batches(list(targets(member.topics)), member.batch_size), 1):
            topics = group_by_topic(batch)
            rate = member.throttle_bytes_per_second
            throttle = ReplicationThrottle(bytes_per_second=rate, topics=topics)
            wait = AwaitReassignment(topics=topics, throttle_bytes_per_second=rate)
            steps = [
                make_step(f"throttle-{number}", throttle),
                make_step(f"move-{number}", member.model_copy(update={"topics": topics})),
                _waiting(make_step(f"await-{number}", wait), member),
                make_step(f"unthrottle-{number}", throttle.model_copy(update={"remove": True})),
            ]
            stages.append(Stage(name=f"batch-{number}", steps=steps))
        return stages

    def undo(
        self, undo_id: str, member: ReassignPartitions, snapshot: ObservedState | None
    ) -> Inverse:
        """Cancel the move if it still runs, move back to the snapshot's replicas, and wait."""
        back = back_to_snapshot(member.topics, snapshot)
        if back is None:
            return Inverse(
                None,
                [
                    f"the replicas of {', '.join(self.topics(member))} before the move were not "
                    "observed, so a rollback cannot move them back; move them by hand"
                ],
            )
        wait = AwaitReassignment(
            topics=back, throttle_bytes_per_second=member.throttle_bytes_per_second
        )
        return Inverse(_waiting(make_step(undo_id, wait), member))

    # --- effects ----------------------------------------------------------------------------

    async def snapshot(
        self, ports: StepPorts, member: ReassignPartitions, now: datetime
    ) -> ObservedState:
        only = {t.topic: {p.partition for p in t.partitions} for t in member.topics}
        return await placement_snapshot(
            ports.kafka, self.topics(member), now, sizes=True, only=only
        )

    async def apply(
        self, ports: StepPorts, member: ReassignPartitions, snapshot: ObservedState | None
    ) -> ApplyResult:
        """Start the moves; the await step after it waits for them to end."""
        sent, details = await start_moves(ports.kafka, wanted_replicas(member.topics))
        return self.result(member, sent, details)


def _waiting(step: Step, member: ReassignPartitions) -> Step:
    """A waiting step answers "not yet" for as long as a batch may take to copy."""
    step.timeout_seconds = member.batch_timeout_seconds
    return step


KIND = ReassignPartitionsKind()
