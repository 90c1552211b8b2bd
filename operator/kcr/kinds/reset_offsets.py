"""ResetConsumerGroupOffsets: move a stopped group's committed offsets.

The group must be empty: the plan can scale the Deployment that consumes it to zero and
back. The rollback restores the offsets live at execution; what the consumers processed
meanwhile stays processed.
"""

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Self

from pydantic import Field, model_validator

from kcr.kafka.errors import GroupNotEmptyError, InvalidRequestError
from kcr.kafka.readmodel import GroupDescription
from kcr.kafka.results import ApplyResult
from kcr.kinds.base import KindBase, StepPorts, StepRefusedError
from kcr.kinds.scale_deployment import ScaleDeployment
from kcr.model import (
    Assessment,
    ClusterPolicy,
    DataMovement,
    DeploymentRef,
    Facts,
    Inverse,
    ObservedDeployment,
    ObservedState,
    OffsetTarget,
    Ownership,
    PartitionOffset,
    Risk,
    Stage,
    Storage,
)
from kcr.model.base import KubeModel
from kcr.model.change import MAX_TOPICS_PER_CHANGE
from kcr.model.names import GroupId, TopicName
from kcr.plan.steps import make_step
from kcr.policy.limits import too_many_topics
from kcr.policy.scaling import scale_target_problem

SCALE_UP = "scale-up"


class ResetConsumerGroupOffsets(KubeModel):
    group: GroupId
    topics: Annotated[
        list[TopicName],
        Field(
            min_length=1,
            max_length=MAX_TOPICS_PER_CHANGE,
            json_schema_extra={"x-kubernetes-list-type": "set"},
        ),
    ]
    to: OffsetTarget
    scale_deployment: DeploymentRef | None = Field(
        default=None,
        description="Scale this Deployment to zero before the reset and back after it",
    )

    @model_validator(mode="after")
    def _offsets_within_topics(self) -> Self:
        if len(set(self.topics)) != len(self.topics):
            raise ValueError("each topic may appear once in topics")
        if self.to.offsets is not None:
            outside = sorted({o.topic for o in self.to.offsets} - set(self.topics))
            if outside:
                raise ValueError(
                    f"to.offsets names topics not listed in topics: {', '.join(outside)}"
                )
        return self


class ResetOffsetsKind(KindBase[ResetConsumerGroupOffsets]):
    model = ResetConsumerGroupOffsets
    partitions_are_a_fact = True

    def topics(self, member: ResetConsumerGroupOffsets) -> list[str]:
        return list(member.topics)

    def target(self, member: ResetConsumerGroupOffsets) -> str:
        return f"group/{member.group}"

    def describe(self, member: ResetConsumerGroupOffsets) -> str:
        return (
            f"reset offsets of group {member.group} on {', '.join(member.topics)} to "
            f"{member.to.describe()}"
        )

    def consumer_groups(self, member: ResetConsumerGroupOffsets) -> list[str]:
        return [member.group]

    def claims(self, member: ResetConsumerGroupOffsets) -> list[str]:
        keys = [f"group/{member.group}"]
        ref = member.scale_deployment
        if ref is not None:
            keys.append(f"*/deployment/{ref.namespace}/{ref.name}")
        return keys

    def data_movement(
        self, member: ResetConsumerGroupOffsets, observed: ObservedState | None, storage: Storage
    ) -> DataMovement:
        return DataMovement(
            bytes=0,
            summary=f"no records move between brokers; group {member.group} skips or re-reads "
            "records from its new offsets",
        )

    def limit_violations(
        self,
        member: ResetConsumerGroupOffsets,
        where: str,
        observed: ObservedState | None,
        policy: ClusterPolicy,
    ) -> list[str]:
        return too_many_topics(len(member.topics), f"{where}.topics", policy)

    def risk(self, member: ResetConsumerGroupOffsets, observed: ObservedState | None) -> Assessment:
        return Assessment(
            Risk.HIGH,
            [
                f"moves the committed offsets of group {member.group} to "
                f"{member.to.describe()}: its consumers skip or re-read messages"
            ],
        )

    def plan_facts(self, member: ResetConsumerGroupOffsets, observed: ObservedState) -> Facts:
        facts = super().plan_facts(member, observed)
        seen = observed.group(member.group)
        if seen is None:
            return facts
        for topic in member.topics:
            committed = sorted(
                p.partition
                for p in seen.partitions
                if p.topic == topic and p.committed is not None and p.committed >= 0
            )
            facts[f"group {member.group}: partitions of {topic} with a committed offset"] = (
                ",".join(map(str, committed)) or "none"
            )
        return facts

    def stages(
        self, member: ResetConsumerGroupOffsets, canary: int, batch_size: int
    ) -> list[Stage]:
        """Stop the consumers, reset, start them again with the replicas the snapshot saw."""
        reset = make_step("reset-offsets", member)
        ref = member.scale_deployment
        if ref is None:
            return [Stage(name="apply", steps=[reset])]
        stop = ScaleDeployment(namespace=ref.namespace, name=ref.name, replicas=0)
        start = ScaleDeployment(namespace=ref.namespace, name=ref.name)
        return [
            Stage(name="quiesce", steps=[make_step("scale-down", stop)]),
            Stage(name="apply", steps=[reset]),
            Stage(name="resume", steps=[make_step(SCALE_UP, start)]),
        ]

    def undo(
        self, undo_id: str, member: ResetConsumerGroupOffsets, snapshot: ObservedState | None
    ) -> Inverse:
        seen = snapshot.group(member.group) if snapshot else None
        wanted = set(member.topics)
        previous = [
            PartitionOffset(topic=p.topic, partition=p.partition, offset=p.committed)
            for p in (seen.partitions if seen else [])
            if p.topic in wanted and p.committed is not None and p.committed >= 0
        ]
        if not previous:
            return Inverse(
                None,
                [
                    f"group {member.group} had no committed offsets on "
                    f"{', '.join(member.topics)}; Kafka cannot un-commit the new ones"
                ],
            )
        restore = ResetConsumerGroupOffsets(
            group=member.group,
            topics=sorted({p.topic for p in previous}),
            to=OffsetTarget(offsets=previous),
        )
        note = (
            f"messages group {member.group} processed after the reset stay processed; the "
            "rollback restores the old offsets, not the side effects"
        )
        return Inverse(make_step(undo_id, restore), [note])

    def stopped_groups(self, member: ResetConsumerGroupOffsets, stage: Stage) -> tuple[str, ...]:
        """Stopped on purpose until the stage that scales the Deployment back: only then is
        the group's progress judged against its rate before the change."""
        restarts = any(s.id == SCALE_UP for s in stage.steps)
        return () if restarts else (member.group,)

    def restarts_consumers(self, member: ResetConsumerGroupOffsets) -> bool:
        return member.scale_deployment is not None

    def deployment(self, member: ResetConsumerGroupOffsets) -> DeploymentRef | None:
        return member.scale_deployment

    def deployment_problem(
        self,
        member: ResetConsumerGroupOffsets,
        labels: Mapping[str, str] | None,
        owners: list[Ownership],
    ) -> str | None:
        return scale_target_problem(member.group, member.scale_deployment, labels, owners)

    async def snapshot(
        self, ports: StepPorts, member: ResetConsumerGroupOffsets, now: datetime
    ) -> ObservedState:
        kafka = ports.kafka
        topics = await asyncio.gather(*(kafka.observe_topic(t, ()) for t in member.topics))
        deployments = []
        ref = member.scale_deployment
        if ref is not None and ports.workloads is not None:  # a draft reads no Deployment
            replicas = await ports.workloads.deployment_replicas(ref.namespace, ref.name)
            if replicas is None:
                raise StepRefusedError(f"Deployment {ref.namespace}/{ref.name} was not found")
            deployments.append(
                ObservedDeployment(namespace=ref.namespace, name=ref.name, replicas=replicas)
            )
        return ObservedState(
            captured_at=now,
            brokers=await kafka.broker_count(),
            topics=list(topics),
            consumer_groups=[await kafka.observe_group(member.group, list(member.topics))],
            deployments=deployments,
        )

    async def apply(
        self, ports: StepPorts, member: ResetConsumerGroupOffsets, snapshot: ObservedState | None
    ) -> ApplyResult:
        """``GroupNotEmptyError`` when the group has members, listed or implied by its state
        (Stable or rebalancing); otherwise resolves the target and commits what differs."""
        kafka = ports.kafka
        (group,) = await kafka.describe_consumer_groups([member.group])
        if group.active:
            raise _not_empty(group)
        target = await kafka.resolve_offsets(member, snapshot=snapshot)
        if not target:
            raise InvalidRequestError(
                f"group {member.group} has no committed offsets on {', '.join(member.topics)}, "
                f"so there is nothing to {member.to.describe()}; reset to earliest, latest or a "
                "timestamp instead"
            )
        topics = sorted({o.topic for o in target})
        (current,) = await kafka.committed_offsets([member.group], topics=topics)
        before = {(o.topic, o.partition): o.offset for o in current.offsets}
        moved = [o for o in target if before.get((o.topic, o.partition)) != o.offset]
        if not moved:
            return self.result(
                member,
                False,
                [
                    f"group {member.group} already at {member.to.describe()} on "
                    f"{len(target)} partitions"
                ],
                offsets=target,
            )
        await kafka.commit_offsets(member.group, target)
        details = [
            f"{o.topic}/{o.partition}: {_shown(before.get((o.topic, o.partition)))} → {o.offset}"
            for o in moved
        ]
        return self.result(member, True, details, offsets=target)


def _not_empty(group: GroupDescription) -> GroupNotEmptyError:
    """Refuse on listed members, and on an active state whose members the broker hides."""
    remedy = (
        "stop its consumers, or name the Deployment in scaleDeployment, before resetting "
        "its offsets"
    )
    if group.members:
        clients = sorted({m.client_id or m.member_id for m in group.members})
        return GroupNotEmptyError(
            f"group {group.group} has {len(group.members)} active member(s) "
            f"({', '.join(clients[:5])}); {remedy}",
            group=group.group,
            members=len(group.members),
        )
    return GroupNotEmptyError(
        f"group {group.group} is {group.state.value}, so it has active members although the "
        f"broker lists none; {remedy}",
        group=group.group,
        members=None,
    )


def _shown(offset: int | None) -> str:
    return "no commit" if offset is None else str(offset)


KIND = ResetOffsetsKind()
