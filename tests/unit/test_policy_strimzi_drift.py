"""What Strimzi will do about each difference with Kafka, who the User Operator strips, and
the KafkaRebalance a replica move becomes where Cruise Control runs."""

from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from kcr.kinds.alter_client_quotas import AlterClientQuotas
from kcr.model import AclBinding, Change, KafkaClusterSpec, explain
from kcr.model.strimzi import (
    StrimziManagement,
    StrimziResources,
    StrimziUser,
    parse_topic,
    parse_user,
    user_name,
)
from kcr.policy.strimzi import user_operator_warnings
from kcr.policy.strimzi_drift import LiveTopic, stripped_users, topic_drift, user_drift
from kcr.policy.strimzi_rebalance import (
    RebalanceMode,
    rebalance_name,
    rebalance_problems,
    rebalance_spec,
)
from kcr.policy.strimzi_specs import user_acls_edit
from kcr.policy.strimzi_users import UserState

MANAGEMENT = StrimziManagement(namespace="kafka", cluster_name="prod")


def kafka_topic(spec: dict[str, Any], **annotations: str) -> Any:
    return parse_topic(
        {
            "metadata": {"name": "orders", "namespace": "kafka", "annotations": annotations},
            "spec": spec,
        }
    )


def live(partitions: int = 3, replicas: int = 3, **overrides: str | None) -> LiveTopic:
    configs = {"cleanup.policy": "delete", "retention.ms": "604800000"}
    named = {k.replace("_", "."): v for k, v in overrides.items()}
    return LiveTopic(partitions, replicas, configs | named, frozenset(named))


def actions(rows: list[Any]) -> list[tuple[str, str | None, str | None, str]]:
    return [(r.spec_path, r.strimzi, r.kafka, r.action) for r in rows]


@pytest.mark.parametrize(
    ("spec", "held", "cruise_control", "expected"),
    [
        pytest.param(
            {"partitions": 3, "replicas": 3, "config": {"cleanup.policy": "delete"}},
            live(),
            False,
            [],
            id="spec-matches-effective-values",
        ),
        pytest.param(
            {"partitions": 6},
            live(),
            False,
            [
                (
                    "spec.partitions",
                    "6",
                    "3",
                    "the Topic Operator adds 3 partition(s), up to 6 (cannot be undone)",
                )
            ],
            id="more-partitions",
        ),
        pytest.param(
            {"partitions": 2},
            live(),
            False,
            [
                (
                    "spec.partitions",
                    "2",
                    "3",
                    "the Topic Operator cannot remove partitions: marks "
                    "the KafkaTopic NotReady and leaves 3; set spec.partitions to 3",
                )
            ],
            id="fewer-partitions",
        ),
        pytest.param(
            {"replicas": 2},
            live(),
            False,
            [
                (
                    "spec.replicas",
                    "2",
                    "3",
                    "the Topic Operator cannot change the replication factor without Cruise "
                    "Control: marks the KafkaTopic NotReady and leaves 3; set spec.replicas to 3",
                )
            ],
            id="replicas-without-cruise-control",
        ),
        pytest.param(
            {"replicas": 2},
            live(),
            True,
            [
                (
                    "spec.replicas",
                    "2",
                    "3",
                    "the Topic Operator asks Cruise Control to change the "
                    "replication factor from 3 to 2 (status.replicasChange shows its progress)",
                )
            ],
            id="replicas-with-cruise-control",
        ),
        pytest.param(
            {"config": {"retention.ms": 86400000, "compression.type": ["zstd"]}},
            live(retention_ms="172800000"),
            False,
            [
                (
                    "spec.config['compression.type']",
                    "zstd",
                    None,
                    "the Topic Operator sets compression.type back to the spec's value",
                ),
                (
                    "spec.config['retention.ms']",
                    "86400000",
                    "172800000",
                    "the Topic Operator sets retention.ms back to the spec's value",
                ),
            ],
            id="config-set-back",
        ),
        pytest.param(
            {"config": {}},
            live(segment_bytes="1048576"),
            False,
            [
                (
                    "spec.config['segment.bytes']",
                    None,
                    "1048576",
                    "the Topic Operator deletes the "
                    "override of segment.bytes: it falls back to the broker's default",
                )
            ],
            id="override-not-in-spec-deleted",
        ),
        pytest.param(
            {"config": {"message.downconversion.enable": True}},
            live(message_downconversion_enable="true"),
            False,
            [],
            id="booleans-compared-as-kafka-writes-them",
        ),
        pytest.param(
            {"config": {"sasl.jaas.config": "x"}},
            live(sasl_jaas_config=None),
            False,
            [],
            id="a-hidden-value-is-not-compared",
        ),
    ],
)
def test_topic_drift(
    spec: dict[str, Any], held: LiveTopic, cruise_control: bool, expected: list[Any]
) -> None:
    rows = topic_drift(kafka_topic(spec), held, cruise_control=cruise_control)
    assert actions(rows) == expected


def test_a_paused_kafkatopic_is_left_alone_until_resumed() -> None:
    paused = kafka_topic({"partitions": 6}, **{"strimzi.io/pause-reconciliation": "true"})
    [row] = topic_drift(paused, live(), cruise_control=False)
    assert row.action.startswith(
        "nothing while reconciliation is paused (strimzi.io/pause-reconciliation); once "
        "resumed the Topic Operator adds 3 partition(s)"
    )


def test_a_kafkatopic_without_its_topic_creates_it() -> None:
    [row] = topic_drift(kafka_topic({"partitions": 1}), None, cruise_control=False)
    assert row.action == "the Topic Operator creates topic orders from the spec"


def bob(operation: str, principal: str = "User:bob", topic: str = "orders") -> AclBinding:
    return AclBinding(
        resource_type="Topic", resource_name=topic, principal=principal, operation=operation
    )


RULE = {
    "resource": {"type": "topic", "name": "orders", "patternType": "literal"},
    "operations": ["Read", "Describe"],
    "host": "*",
    "type": "allow",
}


def test_user_drift_deletes_and_creates_acls_and_sets_quotas_back() -> None:
    user = parse_user(
        {
            "metadata": {"name": "bob", "namespace": "kafka"},
            "spec": {
                "authentication": {"type": "scram-sha-512"},
                "authorization": {"type": "simple", "acls": [RULE]},
                "quotas": {"producerByteRate": 2048, "requestPercentage": 25},
            },
        }
    )
    held = UserState(
        acls=(bob("Read"), bob("Write")),
        quotas={
            "producer_byte_rate": 1024.0,
            "consumer_byte_rate": 10.0,
            "request_percentage": 25.0,
        },
    )
    assert actions(user_drift(user, held)) == [
        (
            "spec.authorization.acls",
            None,
            bob("Write").key(),
            f"the User Operator deletes the ACL {bob('Write').key()}",
        ),
        (
            "spec.authorization.acls",
            bob("Describe").key(),
            None,
            f"the User Operator creates the ACL {bob('Describe').key()}",
        ),
        (
            "spec.quotas.producerByteRate",
            "2048",
            "1024",
            "the User Operator sets producer_byte_rate to 2048",
        ),
        (
            "spec.quotas.consumerByteRate",
            None,
            "10",
            "the User Operator removes consumer_byte_rate",
        ),
    ]


def test_a_kafkauser_without_simple_authorization_loses_every_acl() -> None:
    user = StrimziUser("bob", "kafka", {"authentication": {"type": "scram-sha-512"}})
    rows = user_drift(user, UserState(acls=(bob("Read"),)))
    assert [r.action for r in rows] == [f"the User Operator deletes the ACL {bob('Read').key()}"]


@pytest.mark.parametrize(
    ("authentication", "principal"),
    [
        pytest.param("tls", "User:CN=bob", id="tls"),
        pytest.param("tls-external", "User:CN=bob", id="tls-external"),
        pytest.param("scram-sha-512", "User:bob", id="scram"),
        pytest.param(None, "User:bob", id="no-authentication"),
    ],
)
def test_a_kafkauser_owns_the_principal_kafka_knows_it_by(
    authentication: str | None, principal: str
) -> None:
    spec = {"authentication": {"type": authentication}} if authentication else {}
    assert StrimziUser("bob", "kafka", spec).principal == principal


@pytest.mark.parametrize(
    ("principal", "name"),
    [
        ("User:bob", "bob"),
        ("User:CN=bob", "bob"),
        ("User:CN=bob,O=Example,C=CZ", "bob"),
        ("Group:admins", None),
    ],
)
def test_the_kafkauser_name_the_user_operator_derives(principal: str, name: str | None) -> None:
    assert user_name(principal) == name


@pytest.mark.parametrize(
    ("pattern", "principal", "ignored"),
    [
        (None, "User:ANONYMOUS", False),
        ("ANONYMOUS|\\*", "User:ANONYMOUS", True),
        ("ANONYMOUS|\\*", "User:*", True),
        ("^CN=foo|bar", "User:CN=foo", True),
        ("^CN=foo|bar", "User:CN=bar", False),  # the whole name must match, as in Java
        ("^CN=foo|bar", "User:bar", True),
        ("svc-.*", "Group:svc-x", False),
    ],
)
def test_the_ignored_users_pattern_matches_the_whole_kafka_name(
    pattern: str | None, principal: str, ignored: bool
) -> None:
    management = MANAGEMENT.model_copy(update={"ignored_users_pattern": pattern})
    assert management.ignores(principal) is ignored


def test_a_pattern_kcr_cannot_evaluate_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as raised:
        KafkaClusterSpec.model_validate(
            {
                "bootstrapServers": "kafka:9092",
                "managedBy": {
                    "strimzi": {
                        "namespace": "kafka",
                        "clusterName": "prod",
                        "ignoredUsersPattern": "a(b",
                    }
                },
            }
        )
    [line] = explain(raised.value, root="spec")
    assert line.startswith(
        "spec.managedBy.strimzi.ignoredUsersPattern: is not a regular expression kcr can "
        "evaluate (missing ): a(b)"
    )


def test_stripped_users_are_those_no_kafkauser_claims_nor_the_pattern_spares() -> None:
    management = MANAGEMENT.model_copy(update={"ignored_users_pattern": "ANONYMOUS"})
    resources = StrimziResources(
        management, users=(StrimziUser("bob", "kafka", {"authentication": {"type": "tls"}}),)
    )
    states = {
        "User:CN=bob": UserState(acls=(bob("Read", "User:CN=bob"),)),
        "User:ANONYMOUS": UserState(acls=(bob("Read", "User:ANONYMOUS"),)),
        "User:Alice_Svc": UserState(quotas={"producer_byte_rate": 1.0}),
        "User:carol": UserState(acls=(bob("Read", "User:carol"),)),
    }
    rows = {r.subject: r for r in stripped_users(resources, states)}
    assert set(rows) == {"User:Alice_Svc", "User:carol"}
    assert "'Alice_Svc' is not a valid Kubernetes name" in (rows["User:Alice_Svc"].proposal or "")
    assert "kind: KafkaUser" in (rows["User:carol"].proposal or "")


def test_an_acl_joins_the_rule_for_its_resource() -> None:
    spec = {"authorization": {"type": "simple", "acls": [RULE]}}
    edit = user_acls_edit(spec, "User:bob", add=[bob("Write")], remove=[bob("Describe")])
    assert edit.spec is not None
    assert edit.spec["authorization"]["acls"] == [{**RULE, "operations": ["Read", "Write"]}]


@pytest.mark.parametrize(
    ("mode", "brokers", "problem"),
    [
        (RebalanceMode.FULL, [], None),
        (RebalanceMode.ADD_BROKERS, [3], None),
        (RebalanceMode.REMOVE_BROKERS, [3], None),
        (RebalanceMode.FULL, [3], "brokers: a full rebalance spreads replicas"),
        (RebalanceMode.ADD_BROKERS, [], "brokers: mode add-brokers needs the brokers"),
        (RebalanceMode.ADD_BROKERS, [9], "brokers: 9 not in the cluster (its brokers: 0, 1, 2, 3)"),
        (RebalanceMode.REMOVE_BROKERS, [2, 3], "leaves 2, fewer than the largest replication"),
    ],
)
def test_rebalance_problems_name_the_brokers(
    mode: RebalanceMode, brokers: list[int], problem: str | None
) -> None:
    found = rebalance_problems(mode, brokers, [0, 1, 2, 3], 3)
    if problem is None:
        assert found == []
    else:
        [line] = found
        assert problem in line


def test_a_rebalance_spec_is_strimzis_and_its_name_follows_it() -> None:
    spec = rebalance_spec(RebalanceMode.REMOVE_BROKERS, [4, 3, 4], ["RackAwareGoal"], True)
    assert spec == {
        "mode": "remove-brokers",
        "brokers": [3, 4],
        "goals": ["RackAwareGoal"],
        "skipHardGoalCheck": True,
    }
    assert rebalance_name(spec) == rebalance_name(dict(reversed(list(spec.items()))))
    assert rebalance_name(spec).startswith("kcr-remove-brokers-")


@pytest.mark.parametrize(
    ("entity", "warned"),
    [
        pytest.param({"user": "svc"}, True, id="a-users-own-quota"),
        pytest.param({"user": "svc", "clientId": "ingest"}, False, id="user-and-client-id"),
        pytest.param({"clientId": "ingest"}, False, id="a-client-id"),
    ],
)
def test_a_quota_for_a_user_strimzi_would_strip_is_warned_about(
    entity: dict[str, str], warned: bool
) -> None:
    change = Change.of(
        AlterClientQuotas.model_validate(
            {"entities": [{**entity, "quotas": {"producer_byte_rate": 2048}}]}
        )
    )
    held = {"User:svc": UserState(quotas={"consumer_byte_rate": 4096.0})}
    warnings = user_operator_warnings(
        change.kind, change.member, StrimziResources(MANAGEMENT), held
    )
    assert bool(warnings) is warned
    if warned:
        [warning] = warnings
        proposed = yaml.safe_load(warning[warning.index("apiVersion: ") :])
        assert proposed["spec"] == {"quotas": {"consumerByteRate": 4096, "producerByteRate": 2048}}
