"""A rollback restores what was live when the change ran, not what the draft saw.

The live state may move on between draft and execution without making the plan stale
(a group keeps committing; a key the draft did not observe gets an override). The engine
drives the Kafka fake through the port the operator uses; a gate fails after the first
write, and the values read back from the fake are the ones live at execution.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from engine_world import World, request
from kafka_setup import consumed, draft, topic

from kcr import kinds
from kcr.engine import (
    Answer,
    CheckGate,
    Finish,
    Next,
    RunStep,
    SampleProgress,
    Snapshot,
    StepOutcome,
    TakeSnapshot,
    Wait,
)
from kcr.kafka import KafkaPortError
from kcr.kafka.fake import FakeCluster, FakeKafka
from kcr.kinds.alter_topic_config import AlterTopicConfig
from kcr.kinds.reset_offsets import ResetConsumerGroupOffsets
from kcr.model import HealthBaseline, KafkaChangeRequestSpec, ObservedTopic, OffsetTarget, Phase
from kcr.operator import actions
from kcr.operator.metrics import Metrics

pytestmark = pytest.mark.asyncio

MOVES = 200


async def drive(world: World, kafka: FakeKafka, after_first_write: Callable[[], None]) -> Phase:
    """The operator's loop over the fake: snapshot, steps and gates answered by Kafka."""
    answer: Answer | None = None
    written = False
    for _ in range(MOVES):
        effect = world.decide(answer).effect
        answer = None
        world.now += timedelta(milliseconds=10)
        if isinstance(effect, Finish):
            break
        if isinstance(effect, Wait):
            if effect.until is None:
                break
            world.now = max(world.now, effect.until)
        elif isinstance(effect, TakeSnapshot):
            state = await kinds.take_snapshot(kafka, effect.change)
            baseline = HealthBaseline(captured_at=world.now, under_replicated_partitions=0)
            answer = Snapshot(state=state, baseline=baseline)
        elif isinstance(effect, RunStep):
            answer = await apply(effect, kafka, world)
            if not written and not effect.rollback:
                written = True
                after_first_write()
        elif isinstance(effect, SampleProgress):
            answer = await actions.sample_progress(kafka, effect)
        elif isinstance(effect, CheckGate):
            answer = await actions.check_gate(effect, kafka, no_prometheus, Metrics())
        else:
            assert isinstance(effect, Next)
    return world.phase


async def apply(effect: RunStep, kafka: FakeKafka, world: World) -> StepOutcome:
    try:
        applied = await kinds.apply(kafka, effect.step.operation, snapshot=world.status.snapshot)
    except KafkaPortError as error:
        return StepOutcome(effect.step.id, effect.rollback, False, error.message, world.now)
    return StepOutcome(effect.step.id, effect.rollback, True, str(applied.outcome), world.now)


def no_prometheus(url: str) -> Any:
    raise AssertionError(f"no PromQL gate was asked for, yet {url} was queried")


@dataclass
class Case:
    """A change drafted from the fake, the fake then moved on, and what a rollback restores."""

    prepare: Callable[[FakeCluster, FakeKafka], Awaitable[KafkaChangeRequestSpec]]
    move_on: Callable[[FakeCluster], None]
    restored: Callable[[FakeCluster], object]
    expected: object


async def offsets_reset(cluster: FakeCluster, kafka: FakeKafka) -> KafkaChangeRequestSpec:
    await topic(cluster, "orders")
    await topic(cluster, "audit")
    await consumed(cluster, "billing", "orders")
    member = ResetConsumerGroupOffsets(
        group="billing", topics=["orders"], to=OffsetTarget(earliest=True)
    )
    return await draft(kafka, member)


async def retention_raise(cluster: FakeCluster, kafka: FakeKafka) -> KafkaChangeRequestSpec:
    """A hand-written draft that observed the topic but not the key it sets."""
    await topic(cluster, "orders")
    await topic(cluster, "audit")
    member = AlterTopicConfig(topics=["orders"], set={"retention.ms": "172800000"})
    spec = await draft(kafka, member)
    assert spec.observed is not None
    unseen = ObservedTopic(name="orders", partitions=3, replication_factor=3)
    observed = spec.observed.model_copy(update={"topics": [unseen]})
    return spec.model_copy(update={"observed": observed})


CASES = {
    "offsets committed after the draft are restored, not the drafted ones": Case(
        prepare=offsets_reset,
        move_on=lambda c: c.commit("billing", {("orders", p): 7 for p in range(3)}),
        restored=lambda c: sorted(c.groups["billing"].committed.items()),
        expected=[(("orders", p), 7) for p in range(3)],
    ),
    "an override set after a draft that did not observe the key is restored": Case(
        prepare=retention_raise,
        move_on=lambda c: c.topics["orders"].overrides.update({"retention.ms": "43200000"}),
        restored=lambda c: c.topics["orders"].overrides.get("retention.ms"),
        expected="43200000",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_rollback_restores_the_state_live_at_execution(case: Case) -> None:
    cluster = FakeCluster()
    kafka = FakeKafka(cluster)
    world = World(request(await case.prepare(cluster, kafka)))
    world.run()
    assert world.phase is Phase.AWAITING_APPROVAL, world.status.message
    case.move_on(cluster)
    world.approve("bob", "carol")

    phase = await drive(world, kafka, after_first_write=lambda: cluster.take_offline("audit", 0))

    assert phase is Phase.ROLLED_BACK, world.status.message
    assert case.restored(cluster) == case.expected
    executing = next(h for h in world.status.history if h.phase is Phase.EXECUTING)
    assert executing.message.startswith("live state read at")
