"""The operator's loop over the Kafka fake: each effect the engine asks for is done by the
operator's own actions (snapshot, step, lag sample, gate) against a :class:`FakeKafka`.

A test may look at the world after every move (``watch``) to turn the fake's knobs as a
real cluster would change meanwhile: a held move finishing, traffic arriving mid-bake.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from engine_world import World

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
from kcr.kafka.fake import FakeKafka
from kcr.model import Phase
from kcr.operator import actions
from kcr.operator.metrics import Metrics

MOVES = 400
Watch = Callable[[World], None]


def no_kube() -> Any:
    """These kinds write only to Kafka: the Kubernetes port must not be touched."""
    return None


async def run(world: World, kafka: FakeKafka, until: Phase, watch: Watch | None = None) -> Phase:
    """Until the request reaches ``until``, finishes, or waits for a person."""
    answer: Answer | None = None
    clock = lambda: world.now  # noqa: E731
    for _ in range(MOVES):
        effect = world.decide(answer).effect
        answer = None
        if world.phase is until:
            break
        if watch is not None:
            watch(world)
        world.now += timedelta(milliseconds=10)
        match effect:
            case Finish():
                break
            case Wait(until=None):
                break
            case Wait(until=moment):
                world.now = max(world.now, moment)
            case TakeSnapshot():
                assert world.resource.spec is not None
                spec = world.resource.spec
                answer = await actions.take_snapshot(kafka, no_kube(), spec, clock)
            case RunStep():
                answer = await actions.run_step(effect, kafka, no_kube(), world.status, clock)
            case SampleProgress():
                answer = await actions.sample_progress(kafka, effect)
            case CheckGate():
                answer = await actions.check_gate(effect, kafka, _no_prometheus, Metrics())
            case _:
                assert isinstance(effect, Next)
    return world.phase


def _no_prometheus(url: str) -> Any:
    raise AssertionError(f"no PromQL gate was configured, yet {url} was asked")


async def reach(world: World, kafka: FakeKafka, phase: Phase, watch: Watch | None = None) -> None:
    assert await run(world, kafka, phase, watch) is phase, world.status.message
