"""Replica moves on a cluster Strimzi runs: a new replication factor goes through the
KafkaTopic, placement alone is left to kcr, and Cruise Control declared on the Strimzi side
is the policy flag the review reads."""

import pytest
import yaml
from pydantic import ValidationError

from kcr.kinds.elect_leaders import ElectLeaders
from kcr.kinds.reassign_partitions import ReassignPartitions
from kcr.model import Change, KafkaClusterSpec
from kcr.model.strimzi import StrimziManagement, StrimziResources, parse_topic
from kcr.policy.strimzi import strimzi_refusals

TOPIC = {
    "metadata": {"name": "orders-kt", "namespace": "kafka"},
    "spec": {"topicName": "orders", "partitions": 1, "replicas": 2},
}
RESOURCES = StrimziResources(
    management=StrimziManagement(namespace="kafka", cluster_name="prod"),
    topics=(parse_topic(TOPIC),),
)


def _move(replicas: list[int], rf: int | None = None) -> ReassignPartitions:
    topic: dict[str, object] = {
        "topic": "orders",
        "partitions": [{"partition": 0, "replicas": replicas}],
    }
    if rf is not None:
        topic["replicationFactor"] = rf
    return ReassignPartitions.model_validate({"topics": [topic], "throttleBytesPerSecond": 1 << 20})


@pytest.mark.parametrize(
    "member",
    [
        _move([2, 3]),
        _move([2, 3], rf=2),
        ElectLeaders.model_validate({"topics": [{"topic": "orders"}]}),
    ],
    ids=["placement", "same-factor", "election"],
)
def test_what_the_topic_operator_does_not_hold_is_left_to_kcr(member: object) -> None:
    change = Change.of(member)  # type: ignore[arg-type]
    assert strimzi_refusals(change.kind, change.member, RESOURCES) == []


def test_a_new_replication_factor_is_proposed_on_the_kafkatopic() -> None:
    change = Change.of(_move([1, 2, 3], rf=3))
    (refusal,) = strimzi_refusals(change.kind, change.member, RESOURCES)
    assert refusal.resource == "KafkaTopic kafka/orders-kt"
    assert refusal.edit is not None
    assert refusal.edit.summary == "set spec.replicas to 3"
    assert yaml.safe_load(refusal.edit.yaml)["spec"]["replicas"] == 3


def _cluster(**spec: object) -> KafkaClusterSpec:
    return KafkaClusterSpec.model_validate({"bootstrapServers": "kafka:9092", **spec})


def test_cruise_control_on_strimzi_is_the_policy_the_review_reads() -> None:
    strimzi = {"strimzi": {"namespace": "kafka", "clusterName": "prod", "cruiseControl": True}}
    assert _cluster(managedBy=strimzi).policy.cruise_control is True
    assert _cluster().policy.cruise_control is None
    with pytest.raises(ValidationError, match=r"policy\.cruiseControl: false contradicts"):
        _cluster(managedBy=strimzi, policy={"cruiseControl": False})
