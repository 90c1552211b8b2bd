"""Configuration changes that destroy data: classified, explained, and named in the rollback."""

import re
import zipfile
from pathlib import Path

import pytest

from kcr.kinds.alter_topic_config import AlterTopicConfig
from kcr.model import Change, ClusterPolicy, ConfigSource, Risk
from kcr.model.topic_configs import TOPIC_CONFIGS
from kcr.plan import build_plan, build_rollback
from kcr.policy import assess
from kcr.policy.config_effects import CONFIG_EFFECTS, Loss

from .examples import observed, spec_of, topic

OVERRIDE = ConfigSource.TOPIC_OVERRIDE
DEFAULT = ConfigSource.DEFAULT
COMPACTED = ("compact", OVERRIDE)


def alter(set_: dict[str, str] | None = None, delete: list[str] | None = None) -> AlterTopicConfig:
    return AlterTopicConfig(topics=["orders"], set=set_ or {}, delete=delete or [])


LOSSES = [
    pytest.param(
        alter({"cleanup.policy": "delete"}),
        observed(topic("orders", cleanup_policy=COMPACTED)),
        Risk.CRITICAL,
        "cleanup.policy on orders goes from compact to delete, the broker then deletes",
        id="compact-to-delete",
    ),
    pytest.param(
        alter({"cleanup.policy": "compact,delete"}),
        observed(topic("orders", cleanup_policy=COMPACTED)),
        Risk.CRITICAL,
        "including the latest value of each key",
        id="compact-to-compact-and-delete",
    ),
    pytest.param(
        alter(delete=["cleanup.policy"]),
        observed(topic("orders", cleanup_policy=COMPACTED)),
        Risk.CRITICAL,
        "removing the compact override on orders falls back to the cluster default",
        id="compact-override-removed",
    ),
    pytest.param(
        alter({"remote.storage.enable": "false", "remote.log.delete.on.disable": "true"}),
        observed(topic("orders", remote_storage_enable=("true", OVERRIDE))),
        Risk.CRITICAL,
        "deletes every segment held in remote storage",
        id="tiered-storage-off-and-deleted",
    ),
    pytest.param(
        alter({"remote.storage.enable": "false"}),
        observed(
            topic(
                "orders",
                remote_storage_enable=("true", OVERRIDE),
                remote_log_delete_on_disable=("true", OVERRIDE),
            )
        ),
        Risk.CRITICAL,
        "deletes every segment held in remote storage",
        id="tiered-storage-off-with-delete-already-set",
    ),
    pytest.param(
        alter({"unclean.leader.election.enable": "true"}),
        observed(topic("orders", unclean_leader_election_enable=("false", DEFAULT))),
        Risk.HIGH,
        "the acknowledged records it missed are dropped",
        id="unclean-election-on",
    ),
    pytest.param(
        alter({"min.compaction.lag.ms": "0"}),
        observed(
            topic("orders", cleanup_policy=COMPACTED, min_compaction_lag_ms=("3600000", OVERRIDE))
        ),
        Risk.HIGH,
        "lowering min.compaction.lag.ms on orders from 3600000 to 0",
        id="min-compaction-lag-lower",
    ),
    pytest.param(
        alter({"delete.retention.ms": "1000"}),
        observed(
            topic("orders", cleanup_policy=COMPACTED, delete_retention_ms=("86400000", DEFAULT))
        ),
        Risk.HIGH,
        "miss deletions",
        id="tombstone-retention-lower",
    ),
    pytest.param(
        alter({"max.compaction.lag.ms": "60000"}),
        observed(
            topic(
                "orders",
                cleanup_policy=COMPACTED,
                max_compaction_lag_ms=("9223372036854775807", DEFAULT),
            )
        ),
        Risk.HIGH,
        "removes superseded values of a key sooner",
        id="max-compaction-lag-lower",
    ),
    pytest.param(
        alter({"min.cleanable.dirty.ratio": "0.01"}),
        observed(
            topic("orders", cleanup_policy=COMPACTED, min_cleanable_dirty_ratio=("0.5", DEFAULT))
        ),
        Risk.HIGH,
        "lowering min.cleanable.dirty.ratio",
        id="dirty-ratio-lower",
    ),
    pytest.param(
        alter({"segment.ms": "60000"}),
        observed(topic("orders", segment_ms=("604800000", DEFAULT))),
        Risk.HIGH,
        "segments roll sooner",
        id="segment-ms-lower",
    ),
    pytest.param(
        alter({"segment.bytes": "1048576"}),
        observed(topic("orders", segment_bytes=("1073741824", DEFAULT))),
        Risk.HIGH,
        "lowering segment.bytes on orders",
        id="segment-bytes-lower",
    ),
    pytest.param(
        alter({"min.insync.replicas": "1"}),
        observed(topic("orders", min_insync_replicas=("2", OVERRIDE))),
        Risk.HIGH,
        "an acknowledged record can be lost with its leader",
        id="min-insync-lower",
    ),
    pytest.param(
        alter({"local.retention.ms": "3600000"}),
        observed(topic("orders", local_retention_ms=("-2", DEFAULT))),
        Risk.HIGH,
        "lowering local.retention.ms on orders from -2 to 3600000",
        id="local-retention-lower",
    ),
]


@pytest.mark.parametrize(("member", "seen", "risk", "note"), LOSSES)
def test_changes_that_destroy_data_are_classified_with_risk_and_a_plain_note(  # type: ignore[no-untyped-def]
    member, seen, risk, note
) -> None:
    assessment = assess(Change.of(member), seen, ClusterPolicy())
    assert assessment.risk is risk
    assert not assessment.reversible
    assert any(note in line for line in assessment.irreversible), assessment.irreversible
    assert "cannot" in " ".join(assessment.irreversible) or "does not bring" in " ".join(
        assessment.irreversible
    )


@pytest.mark.parametrize(("member", "seen", "risk", "note"), LOSSES)
def test_the_rollback_plan_says_what_cannot_come_back(member, seen, risk, note) -> None:  # type: ignore[no-untyped-def]
    rollback = build_rollback(build_plan(spec_of(member)), seen)
    assert not rollback.reversible
    assert any(note in reason for reason in rollback.irreversible_reasons), (
        rollback.irreversible_reasons
    )


SAFE = [
    pytest.param(
        alter({"cleanup.policy": "delete"}),
        observed(topic("orders", cleanup_policy=("delete", DEFAULT))),
        id="delete-stays-delete",
    ),
    pytest.param(
        alter({"remote.storage.enable": "false", "remote.log.delete.on.disable": "true"}),
        observed(topic("orders", remote_storage_enable=("false", DEFAULT))),
        id="tiered-storage-already-off",
    ),
    pytest.param(
        alter({"min.compaction.lag.ms": "0"}),
        observed(
            topic(
                "orders",
                cleanup_policy=("delete", DEFAULT),
                min_compaction_lag_ms=("3600000", OVERRIDE),
            )
        ),
        id="compaction-lag-on-a-delete-topic",
    ),
    pytest.param(
        alter({"segment.ms": "86400000"}),
        observed(topic("orders", segment_ms=("3600000", OVERRIDE))),
        id="segment-ms-higher",
    ),
    pytest.param(
        alter({"unclean.leader.election.enable": "false"}),
        observed(topic("orders", unclean_leader_election_enable=("true", OVERRIDE))),
        id="unclean-election-off",
    ),
    pytest.param(
        alter({"compression.type": "zstd"}),
        observed(topic("orders", compression_type=("producer", DEFAULT))),
        id="compression",
    ),
]


@pytest.mark.parametrize(("member", "seen"), SAFE)
def test_changes_that_keep_every_record_stay_medium_and_reversible(member, seen) -> None:  # type: ignore[no-untyped-def]
    assessment = assess(Change.of(member), seen, ClusterPolicy())
    assert assessment.risk is Risk.MEDIUM
    assert assessment.reversible, assessment.irreversible


def test_every_key_kcr_validates_has_its_effect_on_data_noted() -> None:
    assert set(TOPIC_CONFIGS) <= set(CONFIG_EFFECTS)
    assert all(effect.effect for effect in CONFIG_EFFECTS.values())
    numeric = [e for e in CONFIG_EFFECTS.values() if e.loss not in {Loss.NEVER, Loss.OWN_RULE}]
    assert all(effect.lost for effect in numeric), "each losing direction says what is lost"


def _kafka_topic_config_keys() -> set[str]:
    """Every dotted key among the UTF-8 constants of TopicConfig in a local kafka-clients jar."""
    jars = sorted(Path.home().glob(".m2/repository/org/apache/kafka/kafka-clients/*/*.jar"))
    if not jars:
        pytest.skip("no kafka-clients jar in ~/.m2 to read TopicConfig from")
    with zipfile.ZipFile(jars[-1]) as jar:
        code = jar.read("org/apache/kafka/common/config/TopicConfig.class")
    # A constant-pool UTF-8 entry is tag 1, a two-byte length, then exactly that many bytes.
    entries = re.finditer(rb"\x01\x00(.)([a-z]+(?:\.[a-z0-9]+)+)", code, re.DOTALL)
    return {m[2].decode() for m in entries if m[1][0] == len(m[2])}


def test_the_table_covers_kafkas_whole_topic_config_catalogue() -> None:
    keys = _kafka_topic_config_keys()
    assert "retention.ms" in keys
    assert keys - set(CONFIG_EFFECTS) == set()
