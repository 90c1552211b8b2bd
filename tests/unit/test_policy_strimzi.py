"""Which changes Strimzi owns, and the KafkaTopic or KafkaUser edit proposed instead."""

from typing import Any

import pytest
import yaml

from kcr.kinds.alter_acls import AlterAcls
from kcr.kinds.alter_client_quotas import AlterClientQuotas
from kcr.kinds.alter_topic_config import AlterTopicConfig
from kcr.kinds.create_topic import CreateTopic
from kcr.kinds.delete_topic import DeleteTopic
from kcr.kinds.increase_partitions import IncreasePartitions
from kcr.kinds.reset_offsets import ResetConsumerGroupOffsets
from kcr.model import AclBinding, Change, OffsetTarget
from kcr.model.base import KubeModel
from kcr.model.strimzi import StrimziManagement, StrimziResources, parse_topic, parse_user
from kcr.policy.strimzi import strimzi_refusals

TOPIC_SPEC = {"topicName": "orders", "partitions": 3, "replicas": 3, "config": {"segment.ms": "1"}}


def resources(*, managed: str = "true") -> StrimziResources:
    topic = {
        "metadata": {
            "name": "orders-kt",
            "namespace": "kafka",
            "annotations": {"strimzi.io/managed": managed},
        },
        "spec": TOPIC_SPEC,
    }
    user = {"metadata": {"name": "bob", "namespace": "kafka"}, "spec": {}}
    return StrimziResources(
        management=StrimziManagement(namespace="kafka", cluster_name="prod"),
        topics=(parse_topic(topic),),
        users=(parse_user(user),),
    )


def read(member: KubeModel) -> dict[str, Any] | None:
    change = Change.of(member)
    found = strimzi_refusals(change.kind, change.member, resources())
    if not found:
        return None
    assert len(found) == 1
    edit = found[0].edit
    assert edit is not None
    return yaml.safe_load(edit.yaml) if edit.yaml else {"delete": edit.summary}


def bob(operation: str) -> AclBinding:
    return AclBinding(
        resource_type="Topic", resource_name="orders", principal="User:bob", operation=operation
    )


@pytest.mark.parametrize(
    ("member", "path", "expected"),
    [
        pytest.param(
            AlterTopicConfig(
                topics=["orders"], set={"retention.ms": "1000"}, delete=["segment.ms"]
            ),
            ("spec", "config"),
            {"retention.ms": "1000"},
            id="config-set-and-delete",
        ),
        pytest.param(
            IncreasePartitions(topic="orders", partitions=6),
            ("spec", "partitions"),
            6,
            id="partitions",
        ),
        pytest.param(
            CreateTopic(topic="orders", partitions=4, replication_factor=3),
            ("spec", "partitions"),
            4,
            id="create",
        ),
        pytest.param(
            AlterAcls(add=[bob("Read")]),
            ("spec", "authorization", "acls"),
            [
                {
                    "resource": {"type": "topic", "name": "orders", "patternType": "literal"},
                    "operations": ["Read"],
                    "host": "*",
                    "type": "allow",
                }
            ],
            id="acl-for-a-kafkauser",
        ),
        pytest.param(
            AlterClientQuotas.model_validate(
                {"entities": [{"user": "bob", "quotas": {"producer_byte_rate": 8192}}]}
            ),
            ("spec", "quotas"),
            {"producerByteRate": 8192},
            id="quota-of-a-kafkauser",
        ),
    ],
)
def test_a_managed_resource_gets_its_spec_edit(
    member: KubeModel, path: tuple[str, ...], expected: object
) -> None:
    found: Any = read(member)
    assert found is not None
    for key in path:
        found = found[key]
    assert found == expected


def test_deleting_a_managed_topic_proposes_deleting_its_kafkatopic() -> None:
    assert read(DeleteTopic(topic="orders")) == {
        "delete": "delete the KafkaTopic (Strimzi then deletes the topic)"
    }


@pytest.mark.parametrize(
    "member",
    [
        pytest.param(
            ResetConsumerGroupOffsets(
                group="billing", topics=["orders"], to=OffsetTarget(earliest=True)
            ),
            id="offsets-are-not-strimzis",
        ),
        pytest.param(IncreasePartitions(topic="payments", partitions=6), id="another-topic"),
        pytest.param(
            AlterAcls(add=[bob("Read").model_copy(update={"principal": "User:carol"})]),
            id="principal-without-kafkauser",
        ),
        pytest.param(
            AlterClientQuotas.model_validate(
                {
                    "entities": [
                        {"user": "bob", "clientId": "app", "quotas": {"request_percentage": 5}}
                    ]
                }
            ),
            id="quota-of-a-user-and-client-id",
        ),
    ],
)
def test_what_strimzi_does_not_own_is_not_refused(member: KubeModel) -> None:
    assert read(member) is None


def test_an_unmanaged_kafkatopic_does_not_refuse() -> None:
    change = Change.of(IncreasePartitions(topic="orders", partitions=6))
    assert strimzi_refusals(change.kind, change.member, resources(managed="false")) == []
