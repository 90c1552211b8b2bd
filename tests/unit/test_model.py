"""The model refuses what Kafka refuses, and says which field and which rule."""

import pytest
from pydantic import ValidationError

from kcr.model import AclBinding, BlastRadius, Change, KafkaChangeRequest, explain
from kcr.model.acl import REPORTED_BY_BROKER
from kcr.model.names import check_group_id, check_topic_name, topic_name_warnings
from kcr.model.topic_configs import value_problem


def errors_of(document: dict[str, object]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        Change.model_validate(document)
    return explain(caught.value, "spec.change")


def create(**fields: object) -> dict[str, object]:
    body = {"topic": "orders", "partitions": 3, "replicationFactor": 3, **fields}
    return {"type": "CreateTopic", "createTopic": body}


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("a/b", "may only use ASCII letters"),
        ("", "may only use"),
        (".", "reserves '.' and '..'"),
        ("..", "reserves '.' and '..'"),
        ("x" * 250, "at most 249"),
        ("ordérs", "found 'é'"),
        ("orders events", "found ' '"),
    ],
    ids=["slash", "empty", "dot", "dotdot", "too-long", "non-ascii", "space"],
)
def test_illegal_topic_names_are_refused_with_the_rule(name: str, rule: str) -> None:
    with pytest.raises(ValueError, match="topic name") as caught:
        check_topic_name(name)
    assert rule in str(caught.value)


@pytest.mark.parametrize("name", ["orders", "a", "x" * 249, "payments.refunds-v2_eu"])
def test_legal_topic_names_pass(name: str) -> None:
    assert check_topic_name(name) == name


def test_dot_and_underscore_collision_is_a_warning_not_an_error() -> None:
    assert topic_name_warnings("orders") == []
    assert "differs only in those characters" in topic_name_warnings("payments.refunds")[0]
    assert (
        Change.model_validate(create(topic="payments_refunds")).member.topic == "payments_refunds"
    )


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (create(partitions=0), "spec.change.createTopic.partitions: must be at least 1, got 0"),
        (create(partitions=10_001), "spec.change.createTopic.partitions: must be at most 10000"),
        (
            create(replicationFactor=0),
            "spec.change.createTopic.replicationFactor: must be at least 1",
        ),
        (
            create(configs={"retention.ms": "-5"}),
            "spec.change.createTopic.configs['retention.ms']: must be a whole number of "
            "milliseconds ≥ -1 (-1 keeps data forever), got '-5'",
        ),
        (create(configs={"retention.ms": "1d"}), "['retention.ms']: must be a whole number"),
        (
            create(configs={"cleanup.policy": "delete,shrink"}),
            "['cleanup.policy']: must be a comma",
        ),
        (create(configs={"min.cleanable.dirty.ratio": "1.5"}), "≤ 1, got '1.5'"),
        (create(configs={"compression.type": "brotli"}), "['compression.type']: must be one of"),
        (create(configs={"preallocate": "yes"}), "configs.preallocate: must be 'true' or 'false'"),
        (
            create(configs={"retension.ms": "1"}),
            "'retension.ms' is not a known topic configuration key",
        ),
        (create(topic="a/b"), "spec.change.createTopic.topic: topic name 'a/b'"),
        (create(extra=1), "spec.change.createTopic.extra: is not a field here"),
        (
            {
                "type": "DeleteTopic",
                "deleteTopic": {"topic": "a"},
                "createTopic": create()["createTopic"],
            },
            "spec.change: type DeleteTopic needs exactly the member 'deleteTopic' set and no "
            "other (set: createTopic, deleteTopic)",
        ),
        (
            {"type": "DeleteTopic"},
            "needs exactly the member 'deleteTopic' set and no other (set: none)",
        ),
        (
            {"type": "CreateTopic", "deleteTopic": {"topic": "a"}},
            "type CreateTopic needs exactly the member 'createTopic'",
        ),
        ({"type": "Shrink", "deleteTopic": {"topic": "a"}}, "spec.change.type: must be one of"),
        (
            {"type": "IncreasePartitions", "increasePartitions": {"topic": "t", "partitions": 1}},
            "increasePartitions.partitions: must be at least 2",
        ),
        (
            {"type": "AlterTopicConfig", "alterTopicConfig": {"topics": ["t"]}},
            "nothing to change",
        ),
        (
            {
                "type": "AlterTopicConfig",
                "alterTopicConfig": {"topics": ["t", "t"], "set": {"retention.ms": "1"}},
            },
            "each topic may appear once; repeated: t",
        ),
        (
            {
                "type": "AlterTopicConfig",
                "alterTopicConfig": {
                    "topics": ["t"],
                    "set": {"retention.ms": "1"},
                    "delete": ["retention.ms"],
                },
            },
            "both set and deleted: retention.ms",
        ),
        (
            {
                "type": "AlterTopicConfig",
                "alterTopicConfig": {"topics": ["t"], "delete": ["no.such.key"]},
            },
            "alterTopicConfig.delete: 'no.such.key' is not a known topic configuration key",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 40 else None,
)
def test_bad_changes_name_the_field_and_the_rule(
    document: dict[str, object], expected: str
) -> None:
    assert any(expected in line for line in errors_of(document)), errors_of(document)


def test_every_bad_config_value_is_reported_in_one_run() -> None:
    lines = errors_of(create(configs={"retention.ms": "-5", "segment.ms": "0", "foo": "x"}))
    assert [line.split(":", 1)[0] for line in lines] == [
        "spec.change.createTopic.configs['retention.ms']",
        "spec.change.createTopic.configs['segment.ms']",
        "spec.change.createTopic.configs.foo",
    ]


@pytest.mark.parametrize(
    ("key", "value", "legal"),
    [
        ("retention.ms", "86400000", True),
        ("retention.ms", "-1", True),
        ("retention.ms", "1_000", False),
        ("retention.ms", "\uff11\uff12", False),
        ("retention.ms", "+5", False),
        ("retention.ms", " 5", False),
        ("retention.ms", "1e3", False),
        ("retention.ms", "9223372036854775808", False),
        ("min.insync.replicas", "2147483648", False),
        ("min.cleanable.dirty.ratio", "0.5", True),
        ("min.cleanable.dirty.ratio", ".5", True),
        ("min.cleanable.dirty.ratio", "1", True),
        ("min.cleanable.dirty.ratio", "nan", False),
        ("min.cleanable.dirty.ratio", "inf", False),
        ("min.cleanable.dirty.ratio", "5e-1", True),
        ("min.cleanable.dirty.ratio", "1.0E-4", True),
        ("min.cleanable.dirty.ratio", "5e1", False),
        ("min.cleanable.dirty.ratio", "0_5", False),
        ("compression.gzip.level", "-1", True),
        ("compression.gzip.level", "1", True),
        ("compression.gzip.level", "9", True),
        ("compression.gzip.level", "0", False),
        ("compression.gzip.level", "10", False),
        ("compression.gzip.level", "-2", False),
    ],
)
def test_config_values_are_parsed_as_strictly_as_kafka(key: str, value: str, legal: bool) -> None:
    document = create(configs={key: value})
    if legal:
        assert Change.model_validate(document).member.configs == {key: value}
    else:
        lines = errors_of(document)
        assert lines == [f"spec.change.createTopic.configs[{key!r}]: {value_problem(key, value)}"]
        assert f"got {value!r}" in lines[0]


def test_unknown_keys_pass_when_explicitly_allowed() -> None:
    change = Change.model_validate(
        create(configs={"confluent.placement.constraints": "{}"}, allowUnknownKeys=True)
    )
    assert change.member.configs == {"confluent.placement.constraints": "{}"}


def reset(to: dict[str, object], topics: list[str] | None = None) -> dict[str, object]:
    return {
        "type": "ResetConsumerGroupOffsets",
        "resetConsumerGroupOffsets": {"group": "billing", "topics": topics or ["orders"], "to": to},
    }


@pytest.mark.parametrize(
    ("to", "description"),
    [
        ({"earliest": True}, "earliest"),
        ({"latest": True}, "latest"),
        ({"timestamp": "2026-11-25T05:55:00Z"}, "timestamp 2026-11-25T05:55:00+00:00"),
        (
            {"offsets": [{"topic": "orders", "partition": 0, "offset": 10}]},
            "explicit offsets for 1 partitions",
        ),
        ({"shiftBy": -100}, "shift by -100"),
    ],
    ids=["earliest", "latest", "timestamp", "offsets", "shift-by"],
)
def test_each_offset_target_is_accepted(to: dict[str, object], description: str) -> None:
    assert Change.model_validate(reset(to)).member.to.describe() == description


@pytest.mark.parametrize(
    ("to", "expected"),
    [
        ({}, "choose exactly one of earliest, latest, timestamp, offsets, shiftBy (got 0)"),
        ({"earliest": True, "shiftBy": 3}, "(got 2)"),
        ({"earliest": False}, "earliest: Input should be True"),
        ({"timestamp": "2026-11-25T05:55:00"}, "timestamp needs a time zone"),
        (
            {"offsets": [{"topic": "other", "partition": 0, "offset": 1}]},
            "names topics not listed in topics: other",
        ),
        (
            {"offsets": [{"topic": "orders", "partition": 0, "offset": -1}]},
            "offset: must be at least 0",
        ),
        (
            {
                "offsets": [
                    {"topic": "orders", "partition": 0, "offset": 1},
                    {"topic": "orders", "partition": 0, "offset": 2},
                ]
            },
            "each partition may appear once; repeated: orders/0",
        ),
    ],
    ids=[
        "none",
        "two",
        "earliest-false",
        "naive-timestamp",
        "foreign-topic",
        "negative",
        "repeated",
    ],
)
def test_bad_offset_targets_are_refused(to: dict[str, object], expected: str) -> None:
    assert any(expected in line for line in errors_of(reset(to))), errors_of(reset(to))


def acl(**fields: object) -> dict[str, object]:
    binding = {
        "resourceType": "Topic",
        "resourceName": "orders",
        "principal": "User:bob",
        "operation": "Read",
        **fields,
    }
    return {"type": "AlterAcls", "alterAcls": {"add": [binding]}}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"resourceType": "Group", "operation": "Write"},
            "operation Write does not apply to a Group",
        ),
        (
            {"resourceType": "Cluster", "operation": "Alter"},
            "a Cluster resource is always named 'kafka-cluster'",
        ),
        (
            {"resourceName": "*", "patternType": "Prefixed"},
            "'*' matches every resource only with patternType Literal",
        ),
        ({"principal": "bob"}, "principal 'bob' must look like 'User:alice'"),
        ({"principal": "User:bob\nUser:eve"}, "must look like 'User:alice'"),
        ({"principal": "User: CN=app"}, "without control characters or surrounding spaces"),
        ({"operation": "Obliterate"}, "operation: must be one of"),
        ({"permission": "Maybe"}, "permission: must be one of"),
        ({"patternType": "Match"}, "patternType: must be one of"),
    ],
    ids=[
        "group-write",
        "cluster-name",
        "wildcard-prefixed",
        "principal-type",
        "line-break",
        "leading-space",
        "op",
        "perm",
        "pattern",
    ],
)
def test_bad_acl_bindings_are_refused(fields: dict[str, object], expected: str) -> None:
    assert any(expected in line for line in errors_of(acl(**fields))), errors_of(acl(**fields))


def test_acl_change_needs_something_and_not_both_ways() -> None:
    assert "nothing to change" in errors_of({"type": "AlterAcls", "alterAcls": {}})[0]
    binding = acl()["alterAcls"]["add"][0]  # type: ignore[index]
    both = {"type": "AlterAcls", "alterAcls": {"add": [binding], "remove": [binding]}}
    assert "both added and removed" in errors_of(both)[0]


def test_a_change_round_trips_through_its_kubernetes_spelling() -> None:
    document = reset({"timestamp": "2026-11-25T05:55:00Z"})
    change = Change.model_validate(document)
    dumped = change.model_dump(mode="json", exclude_none=True)
    assert dumped["resetConsumerGroupOffsets"]["to"] == {"timestamp": "2026-11-25T05:55:00Z"}
    assert Change.model_validate(dumped) == change


def test_spec_is_frozen() -> None:
    change = Change.model_validate(create())
    with pytest.raises(ValidationError, match="frozen"):
        change.member.partitions = 5  # type: ignore[misc]


def test_request_requires_requested_by_and_reason() -> None:
    document = {
        "apiVersion": "kcr.dev/v1alpha1",
        "kind": "KafkaChangeRequest",
        "metadata": {"name": "x"},
        "spec": {"cluster": "prod", "change": create()},
    }
    with pytest.raises(ValidationError) as caught:
        KafkaChangeRequest.model_validate(document)
    lines = explain(caught.value)
    assert "spec.requestedBy: is required" in lines
    assert "spec.reason: is required" in lines


def test_blast_radius_reads_as_one_line() -> None:
    radius = BlastRadius(
        topics=["orders"],
        partitions=6,
        consumer_groups=["billing"],
        acl_resources=["Topic:Literal:*"],
    )
    assert radius.describe() == (
        "topics orders; 6 partitions; groups billing; principals -; ACL patterns Topic:Literal:*"
    )
    assert BlastRadius().describe() == "topics -; 0 partitions; groups -; principals -"


@pytest.mark.parametrize(
    "principal",
    [
        "User:alice",
        "User:*",
        "Group:ops",
        "User:CN=app.example.com,OU=payments,O=Example Corp",
        "User:CN=app,O=Example\\, Inc.",
        "User:auth0|5f7c0e",
        "User:svc-kafka$",
    ],
    ids=["user", "everyone", "other-type", "tls-name", "escaped-comma", "oauth", "ad-account"],
)
def test_principals_as_kafka_names_them(principal: str) -> None:
    binding = AclBinding(
        resource_type="Topic", resource_name="orders", principal=principal, operation="Read"
    )
    assert binding.principal == principal


@pytest.mark.parametrize(
    ("group", "valid"),
    [
        ("billing", True),
        ("connect-orders sink", True),
        ("flink/job@eu", True),
        ("", False),
        ("line\nbreak", False),
        ("x" * 256, False),
    ],
    ids=["plain", "kafka-connect", "slash-at", "empty", "control", "long"],
)
def test_group_ids_as_kafka_allows_them(group: str, valid: bool) -> None:
    try:
        check_group_id(group)
    except ValueError:
        assert not valid
    else:
        assert valid


def test_acl_bindings_name_groups_and_transactions_as_kafka_allows() -> None:
    for resource_type, name in (("Group", "connect-orders sink"), ("TransactionalId", "tx/eu@1")):
        binding = AclBinding(
            resource_type=resource_type,
            resource_name=name,
            principal="User:app",
            operation="Read" if resource_type == "Group" else "Write",
        )
        assert binding.resource_name == name


def test_a_binding_a_broker_reports_is_kept_even_where_kcr_would_not_write_it() -> None:
    odd = {
        "resourceType": "Group",
        "resourceName": "billing",
        "principal": "User:app",
        "operation": "Write",
    }
    with pytest.raises(ValidationError, match="operation Write does not apply to a Group"):
        AclBinding.model_validate(odd)
    kept = AclBinding.model_validate(odd, context={REPORTED_BY_BROKER: True})
    assert kept.operation == "Write"
