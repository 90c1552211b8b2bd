"""The engine on a Strimzi-managed cluster: no write without a fresh read of Strimzi's
resources, and none at all once a KafkaTopic owns what the next step changes."""

from engine_world import World, approved, ok, request
from kcr_builders import alter_config

from kcr.engine import RunStep, StepOutcome
from kcr.model import KafkaClusterSpec, Phase, StepState
from kcr.model.strimzi import ManagedBy, StrimziManagement, StrimziResources, StrimziTopic

MANAGEMENT = StrimziManagement(namespace="kafka", cluster_name="prod")
MANAGED = KafkaClusterSpec(bootstrap_servers="kafka:9092", managed_by=ManagedBy(strimzi=MANAGEMENT))


def kafka_topic(name: str) -> StrimziTopic:
    return StrimziTopic(name=name, namespace="kafka", topic_name=name, spec={"partitions": 3})


def test_a_kafkatopic_appearing_between_stages_stops_before_the_next_write() -> None:
    world = World(
        request(alter_config("orders", "invoices")),
        cluster=MANAGED,
        strimzi=StrimziResources(MANAGEMENT),
    )
    approved(world)
    writes_before_kafkatopic = 1

    def canary_then_kafkatopic(effect: RunStep) -> StepOutcome:
        if len(world.runs) == writes_before_kafkatopic:
            world.strimzi = StrimziResources(MANAGEMENT, topics=(kafka_topic("invoices"),))
        return ok(effect, world.now)

    world.step_script = canary_then_kafkatopic
    phase = world.run()

    assert phase is Phase.FAILED
    assert [run.step.id for run in world.runs] == [world.runs[0].step.id]
    steps = [s for stage in world.status.plan.stages for s in stage.steps]  # type: ignore[union-attr]
    assert [s.state for s in steps] == [StepState.SUCCEEDED, StepState.FAILED]
    assert "KafkaTopic kafka/invoices" in world.status.message
    assert "nothing was written" in world.status.message


def test_nothing_is_written_while_strimzis_resources_cannot_be_read() -> None:
    world = World(
        request(alter_config("orders")), cluster=MANAGED, strimzi=StrimziResources(MANAGEMENT)
    )
    approved(world)
    world.strimzi = None
    world.strimzi_problem = "kafkatopics is forbidden"
    phase = world.run(limit=20)

    assert phase is Phase.EXECUTING
    assert world.runs == []
    ready = next(c for c in world.status.conditions if c.type == "Ready")
    assert "kafkatopics is forbidden; waiting for them" in ready.message
