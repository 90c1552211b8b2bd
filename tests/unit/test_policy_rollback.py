"""The risk of a rollback after Succeeded, from its own steps against today's state."""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from kcr.kinds.alter_acls import AlterAcls
from kcr.kinds.alter_topic_config import AlterTopicConfig
from kcr.kinds.delete_topic import DeleteTopic
from kcr.model import (
    AclBinding,
    ClusterPolicy,
    ConfigSource,
    ObservedConfig,
    ObservedState,
    ObservedTopic,
    Risk,
)
from kcr.model.base import KubeModel
from kcr.plan.steps import make_step
from kcr.policy.rollback_risk import assess_rollback

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
BINDING = AclBinding.model_validate(
    {
        "resourceType": "Topic",
        "resourceName": "orders",
        "patternType": "Literal",
        "principal": "User:bob",
        "host": "*",
        "operation": "Read",
        "permission": "Allow",
    }
)


def live(records: int | None = None, retention: str = "172800000") -> ObservedState:
    config = ObservedConfig(value=retention, source=ConfigSource.TOPIC_OVERRIDE)
    topic = ObservedTopic(
        name="orders", partitions=3, configs={"retention.ms": config}, records=records
    )
    return ObservedState(captured_at=NOW, topics=[topic])


@dataclass
class Case:
    id: str
    undo: KubeModel
    state: ObservedState
    risk: Risk
    says: str


CASES = [
    Case(
        "delete-a-topic-that-holds-records",
        DeleteTopic(topic="orders"),
        live(records=42),
        Risk.CRITICAL,
        "topic orders holds 42 records that the deletion destroys",
    ),
    Case(
        "delete-an-empty-topic-is-still-a-deletion",
        DeleteTopic(topic="orders"),
        live(records=0),
        Risk.CRITICAL,
        "topic orders holds no records",
    ),
    Case(
        "delete-a-topic-whose-size-was-not-read",
        DeleteTopic(topic="orders"),
        live(),
        Risk.CRITICAL,
        "was not read; assume it holds data",
    ),
    Case(
        "restore-a-shorter-retention",
        AlterTopicConfig(topics=["orders"], set={"retention.ms": "86400000"}),
        live(retention="172800000"),
        Risk.HIGH,
        "lowering retention.ms on orders from 172800000 to 86400000",
    ),
    Case(
        "restore-a-longer-retention",
        AlterTopicConfig(topics=["orders"], set={"retention.ms": "604800000"}),
        live(retention="172800000"),
        Risk.MEDIUM,
        "changes retention.ms on topics that carry live traffic",
    ),
    Case(
        "grant-back-a-removed-binding",
        AlterAcls(add=[BINDING]),
        live(),
        Risk.LOW,
        "only grants access",
    ),
    Case(
        "revoke-an-added-binding",
        AlterAcls(remove=[BINDING]),
        live(),
        Risk.HIGH,
        "removes 1 ACL bindings",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_rollback_is_weighed_by_its_own_steps(case: Case) -> None:
    step = make_step("undo-change", case.undo)
    found = assess_rollback([step], case.state, ClusterPolicy())
    assert found.risk is case.risk
    assert any(case.says in text for text in [*found.reasons, *found.irreversible]), found
