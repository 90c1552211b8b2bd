"""The engine on a Strimzi-managed cluster: no write without a fresh read of Strimzi's
resources, and none at all once a KafkaTopic owns what the next step changes."""

import pytest
import yaml
from engine_world import World, approved, gated, ok, request, reviewed
from kcr_builders import alter_acls, alter_config, reset_offsets

from kcr.engine import RunStep, StepOutcome
from kcr.model import KafkaClusterSpec, Phase, StepState
from kcr.model.strimzi import (
    ManagedBy,
    StrimziManagement,
    StrimziResources,
    StrimziTopic,
    StrimziUser,
)

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


def test_strimzi_is_listed_for_the_review_and_right_before_each_write_only() -> None:
    """A bake, a manual gate and the waits around them list nothing: one read per write."""
    spec = gated(alter_config("orders", "invoices", "payments"), batch_size=1)
    spec = spec.model_copy(update={"rollout": spec.rollout.model_copy(update={"bake_seconds": 60})})
    world = World(request(spec), cluster=MANAGED, strimzi=StrimziResources(MANAGEMENT))
    approved(world)
    assert world.strimzi_reads == [Phase.PENDING]
    for stage in ("canary", "batch-1"):
        world.run()
        for _ in range(5):  # waiting at the manual gate: decisions, no listing
            world.decide()
        assert len(world.strimzi_reads) == 1 + len(world.runs), stage
        world.annotate({"kcr.dev/continue": stage})
    assert world.run() is Phase.SUCCEEDED
    assert len(world.runs) == 3
    assert world.strimzi_reads == [Phase.PENDING] + [Phase.EXECUTING] * 3


def test_an_acl_for_a_user_without_kafkauser_is_reviewed_with_a_warning_and_a_kafkauser() -> None:
    world = World(request(alter_acls()), cluster=MANAGED, strimzi=StrimziResources(MANAGEMENT))
    reviewed(world)

    assert world.phase is Phase.AWAITING_APPROVAL
    message = world.status.message
    assert "User:bob has no KafkaUser 'bob' in Strimzi cluster kafka/prod" in message
    assert "deletes its ACLs and quotas at its next periodic reconciliation" in message
    proposed = yaml.safe_load(message[message.index("apiVersion: ") :].split("\n. needs")[0])
    assert proposed["kind"] == "KafkaUser"
    assert proposed["metadata"] == {
        "name": "bob",
        "namespace": "kafka",
        "labels": {"strimzi.io/cluster": "prod"},
    }
    assert proposed["spec"]["authorization"]["acls"] == [
        {
            "resource": {"type": "topic", "name": "orders", "patternType": "literal"},
            "operations": ["Read"],
            "host": "*",
            "type": "allow",
        }
    ]


TLS_BOB = StrimziUser("bob", "kafka", {"authentication": {"type": "tls"}})


@pytest.mark.parametrize(
    ("users", "pattern"),
    [
        # The User Operator decodes User:bob to bob and finds KafkaUser bob: it deletes
        # nothing, and bob's own reconciliation touches User:CN=bob only.
        pytest.param((TLS_BOB,), None, id="a-kafkauser-of-that-name"),
        pytest.param((), "bo.*", id="ignored-users-pattern-matches"),
    ],
)
def test_no_warning_for_a_principal_strimzi_leaves_alone(
    users: tuple[StrimziUser, ...], pattern: str | None
) -> None:
    management = MANAGEMENT.model_copy(update={"ignored_users_pattern": pattern})
    cluster = KafkaClusterSpec(
        bootstrap_servers="kafka:9092", managed_by=ManagedBy(strimzi=management)
    )
    world = World(
        request(alter_acls()), cluster=cluster, strimzi=StrimziResources(management, users=users)
    )
    reviewed(world)
    assert "KafkaUser" not in world.status.message


def test_a_change_strimzi_could_not_own_never_lists_its_resources() -> None:
    """An offset reset writes nothing a KafkaTopic or KafkaUser holds: even while they
    cannot be read, it is reviewed and runs without listing them."""
    world = World(request(reset_offsets()), cluster=MANAGED, strimzi=None)
    world.strimzi_problem = "kafkatopics is forbidden"
    approved(world)
    assert world.run() is Phase.SUCCEEDED
    assert world.strimzi_reads == []
    assert len(world.runs) == 1
