"""A change kind kcr does not ship, defined here and registered at run time.

With no edit to kcr, the kind is validated as part of a KafkaChangeRequest, reviewed and
planned, snapshotted and executed by the operator's own actions on the Kafka fake, and
rolled back after approval; the fake shows each write.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import pytest
from engine_world import World, request
from pydantic import Field

from kcr import kinds
from kcr.crd import build_crds
from kcr.engine import (
    Answer,
    CheckGate,
    Finish,
    Next,
    RunStep,
    SampleProgress,
    TakeSnapshot,
    Wait,
)
from kcr.kafka.fake import FakeCluster, FakeKafka
from kcr.kafka.results import ApplyResult
from kcr.kinds import KindBase, StepPorts
from kcr.model import (
    KINDS,
    Assessment,
    ConfigSource,
    Inverse,
    KafkaChangeRequest,
    ObservedState,
    Phase,
    Risk,
)
from kcr.model.base import KubeModel
from kcr.model.names import TopicName
from kcr.operator import actions
from kcr.operator.metrics import Metrics
from kcr.plan import review_spec
from kcr.plan.steps import make_step

pytestmark = pytest.mark.asyncio

RETENTION = "retention.ms"
MOVES = 200


class CapRetention(KubeModel):
    """Keep a topic's records for at most ``hours``."""

    topic: TopicName
    hours: Annotated[int, Field(ge=1, le=24 * 365, description="Hours to keep records")]


class CapRetentionKind(KindBase[CapRetention]):
    model = CapRetention

    def describe(self, member: CapRetention) -> str:
        return f"keep records of {member.topic} for {member.hours}h"

    def risk(self, member: CapRetention, observed: ObservedState | None) -> Assessment:
        return Assessment(Risk.MEDIUM, [f"records older than {member.hours}h are deleted"])

    def undo(self, undo_id: str, member: CapRetention, snapshot: ObservedState | None) -> Inverse:
        seen = snapshot.topic(member.topic) if snapshot else None
        before = seen.configs.get(RETENTION) if seen else None
        if before is None or before.source is not ConfigSource.TOPIC_OVERRIDE:
            return Inverse(None, [f"{member.topic} had no retention override to restore"])
        hours = int(before.value or 0) // 3_600_000
        return Inverse(make_step(undo_id, CapRetention(topic=member.topic, hours=hours)))

    async def apply(
        self, ports: StepPorts, member: CapRetention, snapshot: ObservedState | None
    ) -> ApplyResult:
        wanted = str(member.hours * 3_600_000)
        (configs,) = await ports.kafka.topic_configs([member.topic])
        if configs.value(RETENTION) == wanted:
            return self.result(member, False, [f"{member.topic} already keeps {member.hours}h"])
        await ports.kafka.set_topic_config(member.topic, {RETENTION: wanted}, [])
        return self.result(member, True, [f"{member.topic}: {RETENTION}={wanted}"])


@pytest.fixture
def cap_retention() -> Iterator[CapRetentionKind]:
    kind = CapRetentionKind()
    kinds.register(kind)
    yield kind
    KINDS.unregister(kind.name)


def document(observed: ObservedState) -> dict[str, Any]:
    """The request as a person would write it, the new kind in ``spec.change``."""
    return {
        "apiVersion": "kcr.dev/v1alpha1",
        "kind": "KafkaChangeRequest",
        "metadata": {"name": "cap-orders", "namespace": "team-a"},
        "spec": {
            "cluster": "prod",
            "change": {"type": "CapRetention", "capRetention": {"topic": "orders", "hours": 24}},
            "requestedBy": {"principal": "alice", "channel": "mcp", "correlationId": "c-1"},
            "reason": "keep a day of orders",
            "observed": observed.model_dump(mode="json"),
            "rollout": {"bakeSeconds": 0},
        },
    }


async def run(world: World, kafka: FakeKafka, until: Phase) -> Phase:
    """The operator's loop over the fake, each effect done by the operator's own actions,
    until the request reaches ``until`` (or finishes, or waits for nothing)."""
    answer: Answer | None = None
    clock = lambda: world.now  # noqa: E731
    for _ in range(MOVES):
        effect = world.decide(answer).effect
        answer = None
        if world.phase is until:
            break
        world.now += timedelta(milliseconds=10)
        if isinstance(effect, Finish):
            break
        if isinstance(effect, Wait):
            if effect.until is None:
                break
            world.now = max(world.now, effect.until)
        elif isinstance(effect, TakeSnapshot):
            assert world.resource.spec is not None
            answer = await actions.take_snapshot(kafka, no_kube(), world.resource.spec, clock)
        elif isinstance(effect, RunStep):
            status = world.status
            answer = await actions.run_step(effect, kafka, no_kube(), status, clock)
        elif isinstance(effect, SampleProgress):
            answer = await actions.sample_progress(kafka, effect)
        elif isinstance(effect, CheckGate):
            answer = await actions.check_gate(effect, kafka, lambda url: None, Metrics())  # type: ignore[arg-type,return-value]
        else:
            assert isinstance(effect, Next)
    return world.phase


async def reach(world: World, kafka: FakeKafka, phase: Phase) -> None:
    assert await run(world, kafka, phase) is phase, world.status.message


def no_kube() -> Any:
    """This kind writes only to Kafka: the Kubernetes port must not be touched."""
    return None


async def test_a_kind_defined_in_a_test_runs_end_to_end(cap_retention: CapRetentionKind) -> None:
    cluster = FakeCluster()
    kafka = FakeKafka(cluster)
    await cluster.create_topic("orders", 3, 3, {RETENTION: "604800000"})
    observed = await kinds.take_snapshot(kafka, CapRetention(topic="orders", hours=24))

    parsed = KafkaChangeRequest.model_validate(document(observed))
    assert isinstance(parsed.spec.change.member, CapRetention)
    assert parsed.spec.change.target() == "topic/orders"

    bad = document(observed)
    bad["spec"]["change"]["capRetention"]["hours"] = 0
    with pytest.raises(ValueError, match=r"spec.change.capRetention.hours"):
        KafkaChangeRequest.model_validate(bad)

    policy = World(request(parsed.spec)).cluster
    assert policy is not None
    review = review_spec(parsed.spec, policy.policy, datetime.now(UTC))
    assert review.risk is Risk.MEDIUM
    assert review.violations == []
    (stage,) = review.plan.stages
    assert [s.description for s in stage.steps] == ["keep records of orders for 24h"]
    assert [s.description for s in review.rollback.steps] == ["keep records of orders for 168h"]

    schema = next(d for d in build_crds() if d["spec"]["names"]["kind"] == "KafkaChangeRequest")
    change = schema["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"][
        "properties"
    ]["change"]
    assert "capRetention" in change["properties"]
    assert "CapRetention" in change["properties"]["type"]["enum"]

    world = World(request(parsed.spec))
    assert await run(world, kafka, Phase.AWAITING_APPROVAL) is Phase.AWAITING_APPROVAL, (
        world.status.message
    )
    world.approve("bob", "carol")
    await reach(world, kafka, Phase.SUCCEEDED)
    assert cluster.topics["orders"].overrides[RETENTION] == "86400000"

    world.ask_rollback("dave")
    assert (
        await run(world, kafka, Phase.AWAITING_ROLLBACK_APPROVAL)
        is Phase.AWAITING_ROLLBACK_APPROVAL
    ), world.status.message
    world.approve_rollback("bob", "carol")
    await reach(world, kafka, Phase.ROLLED_BACK)
    assert cluster.topics["orders"].overrides[RETENTION] == "604800000"
