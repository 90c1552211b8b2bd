"""What every kind does unless its module says otherwise, and the ports its effects use.

A kind subclasses :class:`KindBase`, sets ``model`` (and ``requestable`` when it is only
a step), and overrides what differs. The defaults describe a change to named topics.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast

from pydantic.alias_generators import to_snake

from kcr.kafka.port import KafkaPort
from kcr.kafka.results import ApplyOutcome, ApplyResult
from kcr.model import (
    AclBinding,
    Assessment,
    BlastRadius,
    ClusterPolicy,
    DataMovement,
    DeploymentRef,
    Facts,
    Inverse,
    ObservedState,
    ObservedTopic,
    Ownership,
    Risk,
    Stage,
    Step,
    Storage,
)
from kcr.model.base import KubeModel
from kcr.model.strimzi import ResourceEdit
from kcr.model.topic_configs import RETENTION_KEYS
from kcr.plan.steps import make_step
from kcr.policy.protected import protected_matches

M = TypeVar("M", bound=KubeModel)

CONTEXT_KEYS = (*RETENTION_KEYS, "cleanup.policy", "min.insync.replicas")
"""Read with every topic: what data-loss and ISR reasoning look at besides touched keys."""


class Workloads(Protocol):
    """The Kubernetes writes a step may make on the workloads that consume Kafka."""

    async def deployment_replicas(self, namespace: str, name: str) -> int | None: ...

    async def scale_deployment(self, namespace: str, name: str, replicas: int) -> None: ...

    async def deployment_template_annotations(
        self, namespace: str, name: str
    ) -> dict[str, str] | None:
        """The pod template's annotations; None when the Deployment does not exist."""
        ...

    async def restart_deployment(self, namespace: str, name: str, stamp: str) -> None:
        """``kubectl rollout restart``: ``stamp`` into the pod template's restartedAt."""
        ...


@dataclass(frozen=True)
class StepPorts:
    kafka: KafkaPort
    workloads: Workloads | None = None


class StepRefusedError(Exception):
    """The step cannot be done as asked and retrying will not help; the message says why."""


class KindBase(Generic[M]):
    model: ClassVar[type[KubeModel]]
    requestable: ClassVar[bool] = True
    partitions_are_a_fact: ClassVar[bool] = False
    """The plan depends on each topic's partition count: a change in it makes it stale."""

    @property
    def name(self) -> str:
        return self.model.__name__

    @property
    def field(self) -> str:
        return to_snake(self.name)

    # --- what it touches ------------------------------------------------------------------

    def topics(self, member: M) -> list[str]:
        topic: str | None = getattr(member, "topic", None)
        return [topic] if topic else []

    def target(self, member: M) -> str:
        topics = self.topics(member)
        more = f" +{len(topics) - 1}" if len(topics) > 1 else ""
        return f"topic/{topics[0]}{more}" if topics else self.name

    def describe(self, member: M) -> str:
        return f"{self.name} on {self.target(member)}"

    def claims(self, member: M) -> list[str]:
        return []

    def consumer_groups(self, member: M) -> list[str]:
        """Groups the change names itself, besides those reading its topics."""
        return []

    def acl_bindings(self, member: M) -> list[AclBinding]:
        return []

    def quota_entities(self, member: M) -> list[dict[str, str | None]]:
        return []

    def blast_radius(self, member: M, observed: ObservedState | None) -> BlastRadius:
        topics = self.topics(member)
        partitions = 0
        for topic in topics:
            seen = observed.topic(topic) if observed else None
            if seen is not None and seen.exists:
                partitions += seen.partitions
        groups = set(observed.consumers_of_topics) if observed else set()
        groups |= set(self.consumer_groups(member))
        return BlastRadius(topics=topics, partitions=partitions, consumer_groups=sorted(groups))

    # --- review -----------------------------------------------------------------------------

    def data_movement(
        self, member: M, observed: ObservedState | None, storage: Storage
    ) -> DataMovement:
        return DataMovement(bytes=0, summary="configuration only: no records move")

    def limit_violations(
        self, member: M, where: str, observed: ObservedState | None, policy: ClusterPolicy
    ) -> list[str]:
        return []

    def risk(self, member: M, observed: ObservedState | None) -> Assessment:
        return Assessment(Risk.MEDIUM, [f"{self.describe(member)}"])

    def assess(
        self, member: M, observed: ObservedState | None, policy: ClusterPolicy
    ) -> Assessment:
        """The kind's own risk, raised to CRITICAL on a protected topic."""
        found = self.risk(member, observed)
        protected = protected_matches(self.topics(member), policy)
        if not protected:
            return found
        return Assessment(
            Risk.CRITICAL,
            [*found.reasons, "touches protected topics: " + ", ".join(protected)],
            found.irreversible,
        )

    def assess_undo(self, member: M, live: ObservedState, policy: ClusterPolicy) -> Assessment:
        return self.assess(member, live, policy)

    def warnings(self, member: M, observed: ObservedState | None) -> list[str]:
        return []

    # --- staleness --------------------------------------------------------------------------

    def plan_facts(self, member: M, observed: ObservedState) -> Facts:
        facts: Facts = {}
        for topic in self.topics(member):
            seen = observed.topic(topic)
            if seen is not None:
                facts[f"topic {seen.name}: exists"] = str(seen.exists).lower()
                if seen.exists:
                    facts.update(self.topic_facts(member, seen))
        return facts

    def topic_facts(self, member: M, seen: ObservedTopic) -> Facts:
        """Facts of one existing topic the plan depends on, besides that it exists."""
        if self.partitions_are_a_fact:
            return {f"topic {seen.name}: partitions": str(seen.partitions)}
        return {}

    def left_facts(self, member: M, state: ObservedState) -> Facts:
        return self.plan_facts(member, state)

    # --- plan -------------------------------------------------------------------------------

    def step_id(self) -> str:
        return self.field.replace("_", "-")

    def stages(self, member: M, canary: int, batch_size: int) -> list[Stage]:
        return [Stage(name="apply", steps=[make_step(self.step_id(), member)])]

    def inverse(self, step: Step, snapshot: ObservedState | None) -> Inverse:
        return self.undo(f"undo-{step.id}", cast(M, step.operation.member), snapshot)

    def undo(self, undo_id: str, member: M, snapshot: ObservedState | None) -> Inverse:
        """The step ``undo_id`` that reverses ``member``, from the snapshot before it ran."""
        return Inverse(None, [f"{self.describe(member)} cannot be undone automatically"])

    # --- gates ------------------------------------------------------------------------------

    def gate_topics(self, member: M) -> list[str]:
        return self.topics(member)

    def stopped_groups(self, member: M, stage: Stage) -> tuple[str, ...]:
        return ()

    def restarts_consumers(self, member: M) -> bool:
        return False

    # --- workloads --------------------------------------------------------------------------

    def deployment(self, member: M) -> DeploymentRef | None:
        return None

    def deployment_problem(self, member: M, labels: Any, owners: list[Ownership]) -> str | None:
        return None

    # --- Strimzi ----------------------------------------------------------------------------

    def strimzi_topic_edit(
        self, member: M, topic: str, spec: Mapping[str, Any]
    ) -> ResourceEdit | None:
        """The KafkaTopic spec that makes this change on ``topic``; None when the change
        leaves what a KafkaTopic holds alone (an offset reset)."""
        return None

    def strimzi_user_edit(
        self, member: M, principal: str, spec: Mapping[str, Any]
    ) -> ResourceEdit | None:
        """The KafkaUser spec that makes this change for ``principal``; None: no proposal."""
        return None

    # --- effects ----------------------------------------------------------------------------

    async def snapshot(self, ports: StepPorts, member: M, now: datetime) -> ObservedState:
        """The live state the rollback and the stale check of ``member`` need."""
        kafka = ports.kafka
        topics = self.topics(member)
        return ObservedState(
            captured_at=now,
            brokers=await kafka.broker_count(),
            topics=[await kafka.observe_topic(t, CONTEXT_KEYS) for t in topics],
            consumers_of_topics=await kafka.consumers_of(topics),
        )

    async def apply(
        self, ports: StepPorts, member: M, snapshot: ObservedState | None
    ) -> ApplyResult:
        raise StepRefusedError(f"{self.name} has no write")

    def result(self, member: M, changed: bool, details: list[str], **extra: Any) -> ApplyResult:
        return ApplyResult.model_validate(
            {
                "operation": self.name,
                "target": self.target(member),
                "outcome": ApplyOutcome.APPLIED if changed else ApplyOutcome.ALREADY_APPLIED,
                "details": details,
                **extra,
            }
        )
