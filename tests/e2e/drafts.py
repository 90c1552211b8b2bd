"""Change requests as a person (or the MCP server) would draft them against the live cluster."""

from typing import Any

from kcr import kinds
from kcr.kafka.port import KafkaPort
from kcr.model import (
    Change,
    ConsumerProgressGate,
    HealthGates,
    KafkaChangeRequestSpec,
    ObservedState,
    RequestedBy,
    Rollout,
)
from kcr.model.base import KubeModel

from .cluster import CLUSTER, NAMESPACE, Kafka, Person


def document(
    name: str,
    member: KubeModel,
    requester: Person,
    *,
    observed: ObservedState | None = None,
    rollout: Rollout | None = None,
    channel: str = "kubectl",
) -> dict[str, Any]:
    spec = KafkaChangeRequestSpec(
        cluster=CLUSTER,
        change=Change.of(member),
        requested_by=RequestedBy(
            principal=requester.username, channel=channel, correlation_id=name
        ),
        reason=f"end-to-end test {name}",
        observed=observed,
        rollout=rollout or Rollout(bake_seconds=5),
    )
    return {
        "apiVersion": "kcr.dev/v1alpha1",
        "kind": "KafkaChangeRequest",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": spec.model_dump(mode="json", by_alias=True, exclude_none=True),
    }


def observe(kafka: Kafka, member: KubeModel) -> ObservedState:
    """What the draft saw: the port's snapshot, as the MCP server captures it."""

    async def read() -> ObservedState:
        port: KafkaPort = kafka.port()
        try:
            return await kinds.take_snapshot(port, member)
        finally:
            await port.close()

    return kafka.run(read())


def progress_gate(baseline_seconds: int, bake_seconds: int) -> Rollout:
    return Rollout(
        bake_seconds=bake_seconds,
        gates=HealthGates(
            consumer_progress=ConsumerProgressGate(baseline_seconds=baseline_seconds)
        ),
    )
