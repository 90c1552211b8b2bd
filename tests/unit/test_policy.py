"""Risk, irreversibility, blast radius, approvals, limits and change windows."""

from datetime import UTC, datetime, time

import pytest

from kcr.kinds.alter_acls import AlterAcls
from kcr.kinds.alter_topic_config import AlterTopicConfig
from kcr.kinds.create_topic import CreateTopic
from kcr.kinds.delete_topic import DeleteTopic
from kcr.kinds.increase_partitions import IncreasePartitions
from kcr.kinds.reset_offsets import ResetConsumerGroupOffsets
from kcr.model import (
    AclBinding,
    Change,
    ChangeWindow,
    ClusterPolicy,
    ConfigSource,
    Limits,
    ObservedTopic,
    OffsetTarget,
    Risk,
)
from kcr.policy import assess, blast_radius, change_window, evaluate_approvals, limit_violations
from kcr.policy.approvals import parse_approvers
from kcr.policy.protected import prefix_reaches

from .examples import observed, topic

OVERRIDE = ConfigSource.TOPIC_OVERRIDE
DEFAULT = ConfigSource.DEFAULT


def binding(**fields: str) -> AclBinding:
    base = {
        "resource_type": "Topic",
        "resource_name": "orders",
        "principal": "User:bob",
        "operation": "Read",
    }
    return AclBinding.model_validate(base | fields)


READ = binding()
DENY = binding(permission="Deny")
POLICY = ClusterPolicy()


@pytest.mark.parametrize(
    ("member", "seen", "risk", "irreversible"),
    [
        (CreateTopic(topic="new", partitions=3, replication_factor=3), None, Risk.LOW, None),
        (
            IncreasePartitions(topic="orders", partitions=12),
            observed(topic("orders", 6)),
            Risk.HIGH,
            "going from 6 to 12 partitions on orders is permanent",
        ),
        (
            AlterTopicConfig(topics=["orders"], set={"max.message.bytes": "2097152"}),
            None,
            Risk.MEDIUM,
            None,
        ),
        (
            AlterTopicConfig(topics=["orders"], set={"retention.ms": "3600000"}),
            observed(topic("orders", retention_ms=("604800000", OVERRIDE))),
            Risk.HIGH,
            "lowering retention.ms on orders from 604800000 to 3600000",
        ),
        (
            AlterTopicConfig(topics=["orders"], set={"retention.ms": "3600000"}),
            observed(topic("orders", retention_ms=("-1", DEFAULT))),
            Risk.HIGH,
            "lowering retention.ms",
        ),
        (
            AlterTopicConfig(topics=["orders"], set={"retention.ms": "2592000000"}),
            observed(topic("orders", retention_ms=("604800000", DEFAULT))),
            Risk.MEDIUM,
            None,
        ),
        (
            AlterTopicConfig(topics=["orders"], set={"retention.ms": "86400000"}),
            None,
            Risk.HIGH,
            "its current value was not observed",
        ),
        (
            AlterTopicConfig(topics=["orders"], delete=["retention.bytes"]),
            None,
            Risk.HIGH,
            "falls back to the cluster default",
        ),
        (
            AlterTopicConfig(topics=["orders"], set={"cleanup.policy": "compact"}),
            None,
            Risk.HIGH,
            "turning on compaction",
        ),
        (
            ResetConsumerGroupOffsets(
                group="billing", topics=["orders"], to=OffsetTarget(earliest=True)
            ),
            None,
            Risk.HIGH,
            None,
        ),
        (AlterAcls(add=[READ]), None, Risk.LOW, None),
        (AlterAcls(add=[DENY]), None, Risk.MEDIUM, None),
        (AlterAcls(remove=[READ]), None, Risk.HIGH, None),
        (
            DeleteTopic(topic="orders"),
            observed(topic("orders", 48)),
            Risk.CRITICAL,
            "destroys its 48 partitions and every record",
        ),
        (
            CreateTopic(topic="__consumer_offsets2", partitions=1, replication_factor=1),
            None,
            Risk.CRITICAL,
            None,
        ),
    ],
    ids=[
        "create",
        "increase-partitions",
        "config-no-data",
        "retention-decrease",
        "retention-from-forever",
        "retention-increase",
        "retention-unobserved",
        "retention-override-removed",
        "compaction",
        "offset-reset",
        "acl-grant",
        "acl-deny",
        "acl-remove",
        "delete",
        "protected",
    ],
)
def test_risk_and_irreversibility(member, seen, risk, irreversible) -> None:  # type: ignore[no-untyped-def]
    assessment = assess(Change.of(member), seen, POLICY)
    assert assessment.risk is risk
    if irreversible is None:
        assert assessment.reversible, assessment.irreversible
    else:
        assert any(irreversible in line for line in assessment.irreversible), (
            assessment.irreversible
        )


def test_protected_topics_make_any_change_critical_and_say_which_pattern() -> None:
    policy = ClusterPolicy(protected_topics=["payments.*"])
    change = AlterTopicConfig(topics=["payments.ledger"], set={"segment.ms": "60000"})
    assessment = assess(Change.of(change), None, policy)
    assert assessment.risk is Risk.CRITICAL
    assert "payments.ledger (matches 'payments.*')" in assessment.reasons[-1]


def test_internal_topics_are_protected_whatever_the_policy_lists() -> None:
    policy = ClusterPolicy(protected_topics=["payments.*"])
    change = AlterTopicConfig(topics=["__consumer_offsets"], set={"segment.ms": "60000"})
    assert assess(Change.of(change), None, policy).risk is Risk.CRITICAL


@pytest.mark.parametrize(
    ("fields", "risk", "reason"),
    [
        ({}, Risk.LOW, "only grants access"),
        (
            {"resource_name": "_", "pattern_type": "Prefixed", "operation": "All"},
            Risk.CRITICAL,
            "on Topic prefixed '_' covers protected or internal topics matching '__*'",
        ),
        (
            {"resource_name": "pay", "pattern_type": "Prefixed"},
            Risk.CRITICAL,
            "covers protected or internal topics matching 'payments.*'",
        ),
        ({"resource_name": "orders", "pattern_type": "Prefixed"}, Risk.LOW, "only grants"),
        (
            {"resource_name": "__consumer_offsets"},
            Risk.CRITICAL,
            "covers protected or internal topics matching '__*'",
        ),
        (
            {"resource_name": "*", "permission": "Deny", "principal": "User:*"},
            Risk.CRITICAL,
            "covers protected or internal topics matching 'payments.*', '__*', '_schemas'",
        ),
        (
            {"resource_type": "Group", "resource_name": "*"},
            Risk.HIGH,
            "covers every group, present and future",
        ),
        (
            {"resource_type": "Group", "resource_name": "etl", "principal": "User:*"},
            Risk.HIGH,
            "applies to every authenticated client",
        ),
        (
            {
                "resource_type": "Cluster",
                "resource_name": "kafka-cluster",
                "operation": "All",
                "principal": "User:*",
            },
            Risk.HIGH,
            "grants a cluster-wide operation",
        ),
        (
            {"resource_type": "Cluster", "resource_name": "kafka-cluster", "operation": "Alter"},
            Risk.HIGH,
            "Allow Alter for User:bob on Cluster named 'kafka-cluster' grants a cluster-wide",
        ),
        (
            {"resource_type": "Group", "resource_name": "*", "permission": "Deny"},
            Risk.HIGH,
            "covers every group",
        ),
    ],
    ids=[
        "narrow-grant",
        "prefix-reaches-internal",
        "prefix-reaches-policy-glob",
        "prefix-misses",
        "literal-internal",
        "deny-everything-to-everyone",
        "every-group",
        "every-client",
        "cluster-all-to-everyone",
        "cluster-grant",
        "deny-every-group",
    ],
)
def test_acl_risk_weighs_how_far_a_binding_reaches(
    fields: dict[str, str], risk: Risk, reason: str
) -> None:
    policy = ClusterPolicy(protected_topics=["payments.*"])
    assessment = assess(Change.of(AlterAcls(add=[binding(**fields)])), None, policy)
    assert assessment.risk is risk
    assert any(reason in line for line in assessment.reasons), assessment.reasons


def test_removing_a_wildcard_binding_is_critical_when_it_covers_protected_topics() -> None:
    removal = AlterAcls(remove=[binding(resource_name="*")])
    assert assess(Change.of(removal), None, POLICY).risk is Risk.CRITICAL


@pytest.mark.parametrize(
    ("prefix", "pattern", "reaches"),
    [
        ("_", "__*", True),
        ("__c", "__*", True),
        ("_s", "_schemas", True),
        ("_schemas.x", "_schemas", False),
        ("a", "__*", False),
        ("pay", "pay?ents.*", True),
        ("payx", "pay[mn]ents.*", False),
        ("paym", "pay[mn]ents.*", True),
        ("", "anything", True),
    ],
)
def test_a_prefix_reaches_a_glob_when_some_longer_name_matches(
    prefix: str, pattern: str, reaches: bool
) -> None:
    assert prefix_reaches(prefix, pattern) is reaches


def test_blast_radius_counts_partitions_groups_and_principals() -> None:
    seen = observed(topic("a", 6), topic("b", 12), consumers_of_topics=["indexer"])
    radius = blast_radius(
        Change.of(AlterTopicConfig(topics=["a", "b"], set={"segment.ms": "60000"})), seen
    )
    assert (radius.topics, radius.partitions, radius.consumer_groups) == (
        ["a", "b"],
        18,
        ["indexer"],
    )
    reset = ResetConsumerGroupOffsets(group="billing", topics=["a"], to=OffsetTarget(latest=True))
    assert blast_radius(Change.of(reset), seen).consumer_groups == ["billing", "indexer"]
    grant = AlterAcls(add=[READ, binding(principal="User:eve")])
    assert blast_radius(Change.of(grant), None).principals == ["User:bob", "User:eve"]
    assert (
        blast_radius(
            Change.of(CreateTopic(topic="n", partitions=7, replication_factor=1)), None
        ).partitions
        == 7
    )


@pytest.mark.parametrize(
    ("approvers", "hash_given", "risk", "satisfied", "message"),
    [
        ([], "h", Risk.LOW, False, "0 of 1 required approvals (none yet)"),
        (["bob"], "h", Risk.LOW, True, "approved by bob"),
        (["bob"], "other", Risk.LOW, False, "does not match status.specHash"),
        (["bob"], None, Risk.LOW, False, "kcr.dev/approved-spec-hash missing does not match"),
        (["alice"], "h", Risk.LOW, False, "alice requested this change and may not approve it"),
        (["ALICE", "bob"], "h", Risk.LOW, False, "ALICE requested this change"),
        (["bob"], "h", Risk.HIGH, False, "1 of 2 required approvals (bob)"),
        (["bob", "carol"], "h", Risk.CRITICAL, True, "approved by bob, carol"),
    ],
    ids=[
        "none",
        "one",
        "wrong-hash",
        "no-hash",
        "requester",
        "requester-case",
        "too-few",
        "enough",
    ],
)
def test_approvals(approvers, hash_given, risk, satisfied, message) -> None:  # type: ignore[no-untyped-def]
    verdict = evaluate_approvals(
        approvers=approvers,
        approved_spec_hash=hash_given,
        spec_hash="h",
        requester="User:alice",
        risk=risk,
        policy=POLICY,
    )
    assert verdict.satisfied is satisfied
    assert message in verdict.message


def test_approver_annotation_is_parsed_without_blanks_or_repeats() -> None:
    assert parse_approvers(" bob, carol,,bob ,") == ["bob", "carol"]
    assert parse_approvers(None) == []


@pytest.mark.parametrize(
    ("member", "seen", "expected"),
    [
        (
            CreateTopic(topic="t", partitions=2000, replication_factor=3),
            None,
            "createTopic.partitions: 2000 is above this cluster's limit of 1000",
        ),
        (
            CreateTopic(topic="t", partitions=3, replication_factor=1),
            None,
            "replicationFactor: 1 is below this cluster's minimum of 2",
        ),
        (
            CreateTopic(topic="t", partitions=3, replication_factor=5),
            observed(),
            "5 copies need as many brokers, and the cluster has 3",
        ),
        (
            CreateTopic(
                topic="t", partitions=3, replication_factor=3, configs={"min.insync.replicas": "4"}
            ),
            None,
            "configs['min.insync.replicas']: 4 is more than the replication factor 3",
        ),
        (
            CreateTopic(topic="t", partitions=3, replication_factor=3),
            observed(topic("t")),
            "createTopic.topic: topic t already exists",
        ),
        (
            CreateTopic(
                topic="t", partitions=3, replication_factor=3, configs={"retention.ms": "1000"}
            ),
            None,
            "configs['retention.ms']: 1000 ms is below this cluster's minimum retention",
        ),
        (
            IncreasePartitions(topic="t", partitions=6),
            observed(topic("t", 6)),
            "the new total 6 must be more than the current 6",
        ),
        (
            IncreasePartitions(topic="t", partitions=8),
            observed(topic("t").model_validate(topic("t").model_dump() | {"exists": False})),
            "increasePartitions.topic: topic t does not exist",
        ),
        (
            AlterTopicConfig(topics=["t"], set={"min.insync.replicas": "3"}),
            observed(topic("t", rf=2)),
            "3 is more than the replication factor 2 of t",
        ),
        (
            AlterTopicConfig(topics=[f"t{i}" for i in range(30)], set={"segment.ms": "1"}),
            None,
            "30 topics in one change is above this cluster's limit of 20",
        ),
        (
            AlterTopicConfig(topics=["t"], set={"x.y": "1"}, allow_unknown_keys=True),
            None,
            "allowUnknownKeys: the cluster policy does not allow unknown configuration keys",
        ),
        (
            DeleteTopic(topic="t"),
            observed(topic("t").model_validate(topic("t").model_dump() | {"exists": False})),
            "deleteTopic.topic: topic t does not exist",
        ),
    ],
    ids=[
        "max-partitions",
        "min-rf",
        "rf-brokers",
        "min-isr",
        "exists",
        "min-retention",
        "not-more",
        "missing",
        "isr-rf",
        "too-many",
        "unknown-keys",
        "delete-missing",
    ],
)
def test_limit_violations_name_field_and_rule(member, seen, expected) -> None:  # type: ignore[no-untyped-def]
    policy = ClusterPolicy(limits=Limits(min_replication_factor=2))
    found = limit_violations(Change.of(member), seen, policy)
    assert any(expected in line for line in found), found


def test_a_change_inside_every_limit_has_no_violations() -> None:
    member = CreateTopic(
        topic="t", partitions=12, replication_factor=3, configs={"min.insync.replicas": "2"}
    )
    assert limit_violations(Change.of(member), observed(), POLICY) == []


WINDOW = ChangeWindow(days=["Mon", "Tue"], start=time(9), end=time(17), time_zone="Europe/Berlin")
NIGHT = ChangeWindow(days=["Fri"], start=time(22), end=time(2), time_zone="UTC")


@pytest.mark.parametrize(
    ("windows", "risk", "now", "is_open", "message"),
    [
        ([], Risk.HIGH, datetime(2026, 11, 28, 3, 0, tzinfo=UTC), True, "no change windows"),
        (
            [WINDOW],
            Risk.LOW,
            datetime(2026, 11, 28, 3, 0, tzinfo=UTC),
            True,
            "LOW changes are not bound",
        ),
        (
            [WINDOW],
            Risk.HIGH,
            datetime(2026, 11, 23, 8, 30, tzinfo=UTC),
            True,
            "inside the change window Mon,Tue 09:00-17:00",
        ),
        (
            [WINDOW],
            Risk.HIGH,
            datetime(2026, 11, 23, 7, 30, tzinfo=UTC),
            False,
            "next one opens at 2026-11-23T09:00:00+01:00",
        ),
        (
            [WINDOW],
            Risk.HIGH,
            datetime(2026, 11, 25, 12, 0, tzinfo=UTC),
            False,
            "next one opens at 2026-11-30T09:00:00+01:00",
        ),
        ([NIGHT], Risk.MEDIUM, datetime(2026, 11, 28, 1, 0, tzinfo=UTC), True, "inside"),
        (
            [NIGHT],
            Risk.MEDIUM,
            datetime(2026, 11, 28, 3, 0, tzinfo=UTC),
            False,
            "outside every change window",
        ),
    ],
    ids=[
        "none",
        "low-exempt",
        "inside",
        "before-start",
        "wednesday",
        "past-midnight",
        "after-midnight-end",
    ],
)
def test_change_windows(windows, risk, now, is_open, message) -> None:  # type: ignore[no-untyped-def]
    verdict = change_window(ClusterPolicy(change_windows=windows), risk, now)
    assert verdict.open is is_open
    assert message in verdict.message


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown IANA time zone 'Mars/Olympus'"):
        ChangeWindow(days=["Mon"], start=time(9), end=time(17), time_zone="Mars/Olympus")


@pytest.mark.parametrize(
    ("fields", "topics", "groups", "pattern"),
    [
        ({"resource_name": "*"}, [], [], "Topic:Literal:*"),
        ({"resource_name": "a:b"}, [], [], "Topic:Literal:a:b"),
        ({"resource_name": "pay.", "pattern_type": "Prefixed"}, [], [], "Topic:Prefixed:pay."),
        ({"resource_type": "Group", "resource_name": "*"}, [], [], "Group:Literal:*"),
        (
            {"resource_type": "Group", "resource_name": "etl:1"},
            [],
            ["etl:1"],
            "Group:Literal:etl:1",
        ),
        ({"resource_name": "orders"}, ["orders"], [], "Topic:Literal:orders"),
    ],
    ids=["topic-wildcard", "topic-colon", "topic-prefix", "group-wildcard", "group", "topic"],
)
def test_blast_radius_keeps_acl_patterns_apart_from_names(
    fields: dict[str, str], topics: list[str], groups: list[str], pattern: str
) -> None:
    radius = blast_radius(Change.of(AlterAcls(add=[binding(**fields)])), None)
    assert (radius.topics, radius.consumer_groups, radius.acl_resources) == (
        topics,
        groups,
        [pattern],
    )


@pytest.mark.parametrize(
    ("new", "existing", "collides"),
    [
        ("payments.refunds", "payments_refunds", True),
        ("payments_refunds", "payments.refunds", True),
        ("a.b_c", "a_b.c", True),
        ("payments.refunds", "payments-refunds", False),
        ("payments.refunds", "payments.refund", False),
    ],
)
def test_a_new_topic_colliding_in_metric_names_with_an_existing_one_is_invalid(
    new: str, existing: str, collides: bool
) -> None:
    create = CreateTopic(topic=new, partitions=3, replication_factor=3)
    seen = observed(topic(existing), ObservedTopic(name=new, exists=False))
    found = limit_violations(Change.of(create), seen, POLICY)
    expected = (
        [
            f"spec.change.createTopic.topic: topic {new} collides with existing topic {existing}: "
            "Kafka maps '.' and '_' to the same metric name and refuses to create it; choose "
            "another name"
        ]
        if collides
        else []
    )
    assert found == expected


def test_a_collision_with_a_topic_that_is_gone_is_no_violation() -> None:
    create = CreateTopic(topic="a.b", partitions=3, replication_factor=3)
    seen = observed(ObservedTopic(name="a_b", exists=False))
    assert limit_violations(Change.of(create), seen, POLICY) == []
