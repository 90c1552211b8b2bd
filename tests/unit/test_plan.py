"""Staged plans, rollback plans from snapshots, and the hashes approvals bind to."""

import pytest

from kcr.kinds.alter_acls import AlterAcls
from kcr.kinds.alter_topic_config import AlterTopicConfig
from kcr.kinds.create_topic import CreateTopic
from kcr.kinds.delete_topic import DeleteTopic
from kcr.kinds.increase_partitions import IncreasePartitions
from kcr.kinds.reset_offsets import ResetConsumerGroupOffsets
from kcr.model import (
    AclBinding,
    ConfigSource,
    DeploymentRef,
    GroupState,
    KafkaChangeRequestSpec,
    ObservedDeployment,
    ObservedGroup,
    ObservedPartition,
    OffsetTarget,
    Rollout,
)
from kcr.plan import all_steps, build_plan, build_rollback, plan_hash, spec_hash

from .examples import observed, spec_of, topic

OVERRIDE = ConfigSource.TOPIC_OVERRIDE
DEFAULT = ConfigSource.DEFAULT


def stage_layout(spec: KafkaChangeRequestSpec) -> list[tuple[str, list[str]]]:
    return [(s.name, [step.id for step in s.steps]) for s in build_plan(spec).stages]


def test_config_change_runs_a_canary_then_batches() -> None:
    member = AlterTopicConfig(topics=["a", "b", "c", "d", "e"], set={"segment.ms": "60000"})
    spec = spec_of(member, rollout=Rollout(canary=1, batch_size=2))
    assert stage_layout(spec) == [
        ("canary", ["alter-config-a"]),
        ("batch-1", ["alter-config-b", "alter-config-c"]),
        ("batch-2", ["alter-config-d", "alter-config-e"]),
    ]
    first = build_plan(spec).stages[0].steps[0].operation.member
    assert first.topics == ["a"]
    assert first.set == {"segment.ms": "60000"}


def test_single_topic_config_change_is_one_stage() -> None:
    spec = spec_of(AlterTopicConfig(topics=["a"], set={"segment.ms": "60000"}))
    assert stage_layout(spec) == [("apply", ["alter-config-a"])]


def test_offset_reset_with_deployment_quiesces_resets_and_resumes() -> None:
    member = ResetConsumerGroupOffsets(
        group="billing",
        topics=["orders"],
        to=OffsetTarget(latest=True),
        scale_deployment=DeploymentRef(namespace="pay", name="billing"),
    )
    plan = build_plan(spec_of(member))
    assert [(s.name, [x.id for x in s.steps]) for s in plan.stages] == [
        ("quiesce", ["scale-down"]),
        ("apply", ["reset-offsets"]),
        ("resume", ["scale-up"]),
    ]
    assert plan.stages[0].steps[0].operation.member.replicas == 0
    assert plan.stages[2].steps[0].operation.member.replicas is None
    assert "the replicas it had before" in plan.stages[2].steps[0].description


def test_acls_are_granted_before_they_are_revoked() -> None:
    old = AclBinding.model_validate(
        {
            "resourceType": "Topic",
            "resourceName": "t",
            "principal": "User:old",
            "operation": "Write",
        }
    )
    new = AclBinding.model_validate(old.model_dump() | {"principal": "User:new"})
    assert stage_layout(spec_of(AlterAcls(add=[new], remove=[old]))) == [
        ("add", ["add-acls"]),
        ("remove", ["remove-acls"]),
    ]


def test_idempotence_keys_are_stable_and_differ_per_step() -> None:
    member = AlterTopicConfig(topics=["a", "b"], set={"segment.ms": "60000"})
    first = [s.idempotence_key for s in all_steps(build_plan(spec_of(member)))]
    again = [s.idempotence_key for s in all_steps(build_plan(spec_of(member)))]
    assert first == again
    assert len(set(first)) == 2
    assert first[0].startswith("AlterTopicConfig:topic/a:")


RESET_SEEN = observed(
    topic("orders", 2),
    consumer_groups=[
        ObservedGroup(
            group="billing",
            state=GroupState.EMPTY,
            partitions=[
                ObservedPartition(topic="orders", partition=0, committed=40, log_end=100),
                ObservedPartition(topic="orders", partition=1, committed=None, log_end=80),
            ],
        )
    ],
    deployments=[ObservedDeployment(namespace="pay", name="billing", replicas=3)],
)


@pytest.mark.parametrize(
    ("member", "snapshot", "reversible", "undo", "reason"),
    [
        (
            CreateTopic(topic="t", partitions=1, replication_factor=1),
            None,
            True,
            [("undo-create-topic", "delete topic t and all its data")],
            None,
        ),
        (
            IncreasePartitions(topic="t", partitions=8),
            None,
            False,
            [],
            "partitions added to t cannot be removed",
        ),
        (DeleteTopic(topic="t"), None, False, [], "topic t and its records cannot be brought back"),
        (
            AlterTopicConfig(topics=["t"], set={"flush.ms": "60000", "max.message.bytes": "1"}),
            observed(
                topic("t", flush_ms=("3600000", OVERRIDE), max_message_bytes=("1048588", DEFAULT))
            ),
            True,
            [
                (
                    "undo-alter-config-t",
                    "on t: flush.ms=3600000; remove max.message.bytes override",
                )
            ],
            None,
        ),
        (
            AlterTopicConfig(topics=["t"], delete=["flush.ms"]),
            observed(topic("t", flush_ms=("3600000", OVERRIDE))),
            True,
            [("undo-alter-config-t", "on t: flush.ms=3600000")],
            None,
        ),
        (
            AlterTopicConfig(topics=["t"], set={"retention.ms": "3600000"}),
            observed(topic("t", retention_ms=("604800000", OVERRIDE))),
            False,
            [("undo-alter-config-t", "on t: retention.ms=604800000")],
            "restoring the old value does not bring them back",
        ),
        (
            AlterTopicConfig(topics=["t"], set={"segment.ms": "1"}),
            None,
            False,
            [],
            "previous configuration of t was not observed",
        ),
        (
            ResetConsumerGroupOffsets(
                group="billing", topics=["orders"], to=OffsetTarget(earliest=True)
            ),
            RESET_SEEN,
            False,
            [
                (
                    "undo-reset-offsets",
                    "reset offsets of group billing on orders to explicit offsets for 1 partitions",
                )
            ],
            "restores the old offsets, not the side effects",
        ),
        (
            ResetConsumerGroupOffsets(
                group="other", topics=["orders"], to=OffsetTarget(earliest=True)
            ),
            RESET_SEEN,
            False,
            [],
            "group other had no committed offsets on orders",
        ),
    ],
    ids=[
        "create",
        "increase",
        "delete",
        "config-restore-and-drop",
        "config-delete-restore",
        "retention-decrease",
        "config-unobserved",
        "reset",
        "reset-no-offsets",
    ],
)
def test_rollback_per_change_kind(member, snapshot, reversible, undo, reason) -> None:  # type: ignore[no-untyped-def]
    rollback = build_rollback(build_plan(spec_of(member)), snapshot)
    assert rollback.reversible is reversible
    assert [(s.id, s.description) for s in rollback.steps] == undo
    if reason:
        assert any(reason in r for r in rollback.irreversible_reasons), (
            rollback.irreversible_reasons
        )
    for step in rollback.steps:
        assert step.undoes == step.id.removeprefix("undo-")


def test_offset_rollback_restores_exact_previous_offsets_and_deployment_order() -> None:
    member = ResetConsumerGroupOffsets(
        group="billing",
        topics=["orders"],
        to=OffsetTarget(earliest=True),
        scale_deployment=DeploymentRef(namespace="pay", name="billing"),
    )
    rollback = build_rollback(build_plan(spec_of(member)), RESET_SEEN)
    assert [s.id for s in rollback.steps] == [
        "undo-scale-up",
        "undo-reset-offsets",
        "undo-scale-down",
    ]
    restore = rollback.steps[1].operation.member
    assert [(o.topic, o.partition, o.offset) for o in restore.to.offsets] == [("orders", 0, 40)]
    assert rollback.steps[0].operation.member.replicas == 0
    assert rollback.steps[2].operation.member.replicas is None


def test_acl_rollback_only_touches_bindings_the_change_made_or_removed() -> None:
    existing = AclBinding.model_validate(
        {
            "resourceType": "Topic",
            "resourceName": "t",
            "principal": "User:old",
            "operation": "Write",
        }
    )
    already = AclBinding.model_validate(existing.model_dump() | {"principal": "User:kept"})
    new = AclBinding.model_validate(existing.model_dump() | {"principal": "User:new"})
    missing = AclBinding.model_validate(existing.model_dump() | {"principal": "User:ghost"})
    snapshot = observed(acls=[existing, already])
    plan = build_plan(spec_of(AlterAcls(add=[new, already], remove=[existing, missing])))
    rollback = build_rollback(plan, snapshot)
    undo_remove, undo_add = (s.operation.member for s in rollback.steps)
    assert [b.principal for b in undo_remove.add] == ["User:old"]
    assert undo_remove.remove == []
    assert [b.principal for b in undo_add.remove] == ["User:new"]


def test_spec_hash_ignores_spelling_but_not_content() -> None:
    member = AlterTopicConfig(topics=["t"], set={"segment.ms": "60000", "max.message.bytes": "1"})
    spec = spec_of(member)
    reordered = KafkaChangeRequestSpec.model_validate(
        dict(reversed(list(spec.model_dump(by_alias=True, exclude_none=True).items())))
    )
    assert spec_hash(spec) == spec_hash(reordered)
    assert len(spec_hash(spec)) == 64
    changed = spec_of(
        AlterTopicConfig(topics=["t"], set={"segment.ms": "60001", "max.message.bytes": "1"})
    )
    assert spec_hash(changed) != spec_hash(spec)
    assert spec_hash(spec.model_copy(update={"reason": "other"})) != spec_hash(spec)


def test_plan_hash_ignores_progress_but_not_steps() -> None:
    plan = build_plan(spec_of(AlterTopicConfig(topics=["a", "b"], set={"segment.ms": "1"})))
    before = plan_hash(plan)
    assert plan.hash == before
    plan.stages[0].steps[0].state = "Succeeded"
    plan.stages[0].steps[0].result = "applied"
    assert plan_hash(plan) == before
    other = build_plan(spec_of(AlterTopicConfig(topics=["a", "c"], set={"segment.ms": "1"})))
    assert plan_hash(other) != before


def test_a_previous_value_kcr_would_not_write_is_reported_not_crashed_on() -> None:
    member = AlterTopicConfig(topics=["orders"], set={"compression.type": "zstd"})
    seen = observed(topic("orders", compression_type=("brotli", OVERRIDE)))
    rollback = build_rollback(build_plan(spec_of(member)), seen)
    assert rollback.steps == []
    assert not rollback.reversible
    assert any(
        "previous configuration of orders cannot be restored automatically" in r
        and "'brotli'" in r
        and "restore it by hand" in r
        for r in rollback.irreversible_reasons
    ), rollback.irreversible_reasons
