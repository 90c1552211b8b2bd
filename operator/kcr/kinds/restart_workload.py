"""RestartWorkload: a rollout restart of the Deployment that consumes a group.

It writes what ``kubectl rollout restart`` writes: a new ``restartedAt`` annotation on the
pod template, so Kubernetes replaces every pod. The stamp is the time of the snapshot,
which is read before the first write and kept in status: a step re-driven after an
operator restart finds its own stamp on the Deployment and sends nothing. The next step
waits until the group's members have all rejoined (see :mod:`kcr.kinds.await_rejoin`),
and the consumer progress gate after them judges the group's reading rate against its rate
before the change. A restart cannot be undone, and needs no undoing: the old pods are gone,
nothing else changed.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated

from pydantic import Field

from kcr.kafka.results import ApplyResult
from kcr.kinds.await_rejoin import AwaitRejoin
from kcr.kinds.base import KindBase, StepPorts, StepRefusedError
from kcr.model import (
    Assessment,
    BlastRadius,
    ClusterPolicy,
    DataMovement,
    DeploymentRef,
    Facts,
    Inverse,
    ObservedDeployment,
    ObservedState,
    Ownership,
    Risk,
    Stage,
    Storage,
)
from kcr.model.base import KubeModel
from kcr.model.names import GroupId
from kcr.model.observed import MAX_OBSERVED_MEMBERS
from kcr.model.request import MAX_BLAST_RADIUS_ITEMS
from kcr.plan.steps import make_step
from kcr.policy.scaling import consumer_workload_problem

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
FIELD = "spec.change.restartWorkload.deployment"
CANNOT_UNDO = (
    "a rollout restart cannot be undone: Kubernetes replaces the pods with new ones; "
    "nothing else changes, so there is nothing to restore (irreversible but harmless)"
)


class RestartWorkload(KubeModel):
    group: GroupId = Field(description="The consumer group the Deployment's pods consume")
    deployment: DeploymentRef = Field(
        description="The Deployment to restart; it must be labelled "
        "kcr.dev/consumer-group=<group> (or kcr.dev/team of the group's owner)"
    )
    rejoin_timeout_seconds: Annotated[int, Field(ge=30, le=3600)] = Field(
        default=600,
        description="How long every member may take to rejoin (the whole rollout) before "
        "the change fails",
    )


def restart_stamp(snapshot: ObservedState) -> str:
    """RFC 3339, as kubectl writes it; from the snapshot, so every retry writes the same."""
    return snapshot.captured_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class RestartWorkloadKind(KindBase[RestartWorkload]):
    model = RestartWorkload

    def topics(self, member: RestartWorkload) -> list[str]:
        return []

    def target(self, member: RestartWorkload) -> str:
        return f"deployment/{member.deployment.namespace}/{member.deployment.name}"

    def describe(self, member: RestartWorkload) -> str:
        ref = member.deployment
        return f"restart deployment {ref.namespace}/{ref.name}, which consumes group {member.group}"

    def consumer_groups(self, member: RestartWorkload) -> list[str]:
        return [member.group]

    def claims(self, member: RestartWorkload) -> list[str]:
        ref = member.deployment
        return [f"group/{member.group}", f"*/deployment/{ref.namespace}/{ref.name}"]

    def blast_radius(self, member: RestartWorkload, observed: ObservedState | None) -> BlastRadius:
        """The topics the group has committed on, read by the pods that restart."""
        seen = observed.group(member.group) if observed else None
        partitions = seen.partitions if seen else []
        topics = sorted({p.topic for p in partitions})[:MAX_BLAST_RADIUS_ITEMS]
        return BlastRadius(
            topics=topics, partitions=len(partitions), consumer_groups=[member.group]
        )

    def data_movement(
        self, member: RestartWorkload, observed: ObservedState | None, storage: Storage
    ) -> DataMovement:
        return DataMovement(
            bytes=0,
            summary=f"no records move between brokers; group {member.group}'s partitions are "
            "reassigned to the new pods, which resume from its committed offsets",
        )

    def risk(self, member: RestartWorkload, observed: ObservedState | None) -> Assessment:
        ref = member.deployment
        seen = observed.group(member.group) if observed else None
        members = f" ({seen.members} member(s) now)" if seen else ""
        return Assessment(
            Risk.MEDIUM,
            [
                f"replaces every pod of deployment {ref.namespace}/{ref.name}: group "
                f"{member.group}{members} rebalances and stops reading until its new members "
                "have joined"
            ],
            [CANNOT_UNDO],
        )

    def plan_facts(self, member: RestartWorkload, observed: ObservedState) -> Facts:
        """The wait for rejoining members is planned against the members it saw."""
        seen = observed.group(member.group)
        if seen is None:
            return {}
        return {f"group {member.group}: has members": "yes" if seen.members else "no"}

    def stages(self, member: RestartWorkload, canary: int, batch_size: int) -> list[Stage]:
        restart = make_step("restart-deployment", member, irreversible=True)
        rejoin = make_step("await-rejoin", AwaitRejoin(group=member.group))
        rejoin.timeout_seconds = member.rejoin_timeout_seconds
        return [Stage(name="restart", steps=[restart, rejoin])]

    def undo(
        self, undo_id: str, member: RestartWorkload, snapshot: ObservedState | None
    ) -> Inverse:
        return Inverse(None, [CANNOT_UNDO])

    def assess_undo(
        self, member: RestartWorkload, live: ObservedState, policy: ClusterPolicy
    ) -> Assessment:
        return Assessment(Risk.LOW, [CANNOT_UNDO], [CANNOT_UNDO])

    def gate_topics(self, member: RestartWorkload) -> list[str]:
        return []

    def restarts_consumers(self, member: RestartWorkload) -> bool:
        """Its group is judged after the restart even when no gate asks: it must read again
        at its rate before the change (the consumer progress gate's defaults)."""
        return True

    def deployment(self, member: RestartWorkload) -> DeploymentRef | None:
        return member.deployment

    def deployment_problem(
        self, member: RestartWorkload, labels: Mapping[str, str] | None, owners: list[Ownership]
    ) -> str | None:
        may = f"a restart for group {member.group} may only restart"
        return consumer_workload_problem(
            member.group, member.deployment, labels, owners, field=FIELD, may=may
        )

    async def snapshot(
        self, ports: StepPorts, member: RestartWorkload, now: datetime
    ) -> ObservedState:
        """The group's members (ids and count), which the rejoin step waits to see replaced,
        and its committed offsets."""
        kafka = ports.kafka
        group = member.group
        (offsets,) = await kafka.committed_offsets([group])
        topics = sorted(
            {o.topic for o in offsets.offsets if o.offset is not None and o.offset >= 0}
        )
        observed = await kafka.observe_group(group, topics)
        (described,) = await kafka.describe_consumer_groups([group])
        ids = sorted(m.member_id for m in described.members)[:MAX_OBSERVED_MEMBERS]
        observed = observed.model_copy(
            update={"state": described.state, "members": len(described.members), "member_ids": ids}
        )
        return ObservedState(
            captured_at=now,
            brokers=await kafka.broker_count(),
            consumer_groups=[observed],
            deployments=await _deployments(ports, member),
        )

    async def apply(
        self, ports: StepPorts, member: RestartWorkload, snapshot: ObservedState | None
    ) -> ApplyResult:
        ref = member.deployment
        where = f"{ref.namespace}/{ref.name}"
        if ports.workloads is None:
            raise StepRefusedError(
                f"restarting {where} needs the Kubernetes API, which is not connected"
            )
        if snapshot is None:
            raise StepRefusedError(
                f"no status.snapshot: the restart of {where} takes its stamp from it"
            )
        stamp = restart_stamp(snapshot)
        annotations = await ports.workloads.deployment_template_annotations(ref.namespace, ref.name)
        if annotations is None:
            raise StepRefusedError(f"Deployment {where} was not found")
        if annotations.get(RESTARTED_AT) == stamp:
            return self.result(
                member, False, [f"{where} already restarted: {RESTARTED_AT}={stamp}"]
            )
        await ports.workloads.restart_deployment(ref.namespace, ref.name, stamp)
        return self.result(member, True, [f"restarted {where}: {RESTARTED_AT}={stamp}"])


async def _deployments(ports: StepPorts, member: RestartWorkload) -> list[ObservedDeployment]:
    """The Deployment's replicas, for reviewers; a draft reads no Deployment."""
    ref = member.deployment
    if ports.workloads is None:
        return []
    replicas = await ports.workloads.deployment_replicas(ref.namespace, ref.name)
    if replicas is None:
        raise StepRefusedError(f"Deployment {ref.namespace}/{ref.name} was not found")
    return [ObservedDeployment(namespace=ref.namespace, name=ref.name, replicas=replicas)]


KIND = RestartWorkloadKind()
