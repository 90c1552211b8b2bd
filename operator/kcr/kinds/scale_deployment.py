"""ScaleDeployment: a step only, never a request. Stops a group's consumers and starts them.

``replicas: null`` restores the count the snapshot recorded, so the consumers come back
as they were whoever scaled them meanwhile.
"""

from typing import Annotated

from pydantic import Field

from kcr.kafka.results import ApplyResult
from kcr.kinds.base import KindBase, StepPorts, StepRefusedError
from kcr.model import Assessment, ClusterPolicy, Inverse, ObservedState, Risk
from kcr.model.base import KubeModel
from kcr.model.names import KubeName, KubeNamespace
from kcr.plan.steps import make_step


class ScaleDeployment(KubeModel):
    namespace: KubeNamespace
    name: KubeName
    replicas: Annotated[int, Field(ge=0, le=10_000)] | None = Field(
        default=None,
        description="Target replicas; null restores the count recorded in status.snapshot",
    )


class ScaleDeploymentKind(KindBase[ScaleDeployment]):
    model = ScaleDeployment
    requestable = False

    def target(self, member: ScaleDeployment) -> str:
        return f"deployment/{member.namespace}/{member.name}"

    def describe(self, member: ScaleDeployment) -> str:
        to = (
            "the replicas it had before"
            if member.replicas is None
            else f"{member.replicas} replicas"
        )
        return f"scale deployment {member.namespace}/{member.name} to {to}"

    def claims(self, member: ScaleDeployment) -> list[str]:
        # A Deployment is one whatever Kafka cluster its consumers read.
        return [f"*/deployment/{member.namespace}/{member.name}"]

    def risk(self, member: ScaleDeployment, observed: ObservedState | None) -> Assessment:
        return Assessment(Risk.LOW, [self.describe(member)])

    def assess_undo(
        self, member: ScaleDeployment, live: ObservedState, policy: ClusterPolicy
    ) -> Assessment:
        return Assessment(Risk.LOW, [self.describe(member)])

    def undo(
        self, undo_id: str, member: ScaleDeployment, snapshot: ObservedState | None
    ) -> Inverse:
        back = None if member.replicas == 0 else 0
        return Inverse(make_step(undo_id, member.model_copy(update={"replicas": back})))

    async def apply(
        self, ports: StepPorts, member: ScaleDeployment, snapshot: ObservedState | None
    ) -> ApplyResult:
        where = f"{member.namespace}/{member.name}"
        if ports.workloads is None:
            raise StepRefusedError(
                f"scaling {where} needs the Kubernetes API, which is not connected"
            )
        replicas = member.replicas
        if replicas is None:
            seen = snapshot.deployment(member.namespace, member.name) if snapshot else None
            if seen is None:
                raise StepRefusedError(
                    f"the replicas of {where} before the change are not in status.snapshot, "
                    "so they cannot be restored"
                )
            replicas = seen.replicas
        current = await ports.workloads.deployment_replicas(member.namespace, member.name)
        if current is None:
            raise StepRefusedError(f"Deployment {where} was not found")
        if current == replicas:
            return self.result(member, False, [f"{where} has {replicas} replicas"])
        await ports.workloads.scale_deployment(member.namespace, member.name, replicas)
        return self.result(member, True, [f"scaled {where} from {current} to {replicas}"])


KIND = ScaleDeploymentKind()
