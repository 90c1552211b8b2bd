"""AlterClientQuotas: the rules a request must keep, its review, its plan and its undo."""

from typing import Any

import pytest
from pydantic import ValidationError

from kcr.engine.staleness import stale_differences
from kcr.kinds.alter_client_quotas import AlterClientQuotas
from kcr.kinds.client_quota_entity import ClientQuotaEntity
from kcr.model import (
    ClusterPolicy,
    ObservedClientQuota,
    Risk,
    Rollout,
    explain,
)
from kcr.plan import build_plan, build_rollback, review_spec, spec_hash

from .examples import NOW, observed, spec_of

PRODUCE, CONSUME, SHARE = "producer_byte_rate", "consumer_byte_rate", "request_percentage"


def quotas(*entities: dict[str, Any]) -> AlterClientQuotas:
    return AlterClientQuotas.model_validate({"entities": list(entities)})


def seen(user: str | None = None, client_id: str | None = None, **values: float) -> Any:
    return ObservedClientQuota(user=user, client_id=client_id, values=values)


@pytest.mark.parametrize(
    ("entity", "problem"),
    [
        pytest.param({"quotas": {PRODUCE: 1024}}, "name a user, a clientId, or both", id="nobody"),
        pytest.param(
            {"user": "alice", "quotas": {PRODUCE: 0}},
            "entities[0].quotas.producer_byte_rate: must be more than 0.0, got 0",
            id="zero-rate",
        ),
        pytest.param(
            {"user": "alice", "quotas": {SHARE: -5}},
            "entities[0].quotas.request_percentage: must be more than 0.0, got -5",
            id="negative-share",
        ),
        pytest.param(
            {"user": "alice", "quotas": {CONSUME: 10.5}},
            "consumer_byte_rate is bytes a second, a whole number; got 10.5",
            id="fractional-rate",
        ),
        pytest.param(
            {"user": "alice", "quotas": {"producer.byte.rate": 1024}},
            "unknown quota key 'producer.byte.rate': Kafka keeps producer_byte_rate, "
            "consumer_byte_rate, request_percentage",
            id="unknown-key",
        ),
        pytest.param(
            {"user": "alice", "quotas": {PRODUCE: float("inf")}},
            "producer_byte_rate must be greater than 0, got inf",
            id="infinite",
        ),
        pytest.param(
            {"user": "", "quotas": {PRODUCE: 1024}},
            "user: must be at least 1 characters, got ''",
            id="empty-user",
        ),
        pytest.param(
            {"user": "User:alice", "quotas": {PRODUCE: 1024}},
            "entities[0].user: give the user's name without 'User:' (alice)",
            id="principal-not-name",
        ),
        pytest.param({"user": "alice", "quotas": {}}, "at least 1 item", id="no-keys"),
    ],
)
def test_bad_entities_are_refused_naming_field_and_rule(
    entity: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        quotas(entity)
    said = "; ".join(explain(caught.value, "alterClientQuotas"))
    assert problem in said
    assert "alterClientQuotas.entities[0]" in said


def test_an_entity_appears_once() -> None:
    with pytest.raises(ValidationError, match="repeated: client-id=app,user=alice"):
        quotas(
            {"user": "alice", "clientId": "app", "quotas": {PRODUCE: 1024}},
            {"clientId": "app", "user": "alice", "quotas": {CONSUME: 1024}},
        )


def test_defaults_and_removals_are_kept_as_written() -> None:
    member = quotas(
        {"user": "<default>", "clientId": "app", "quotas": {PRODUCE: 1024, SHARE: None}}
    )
    (entity,) = member.entities
    assert entity.label == "client-id=app,user=<default>"
    assert entity.entity() == {"user": None, "client-id": "app"}
    dumped = member.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert dumped["entities"][0]["quotas"] == {PRODUCE: 1024, SHARE: None}


@pytest.mark.parametrize(
    ("entity", "before", "risk", "reason"),
    [
        pytest.param(
            {"user": "alice", "quotas": {PRODUCE: 4096}},
            seen("alice", **{PRODUCE: 1024}),
            Risk.LOW,
            "raises producer_byte_rate of user=alice from 1024 to 4096",
            id="raise",
        ),
        pytest.param(
            {"user": "alice", "quotas": {PRODUCE: 1024}},
            seen("alice", **{PRODUCE: 4096}),
            Risk.MEDIUM,
            "lowers producer_byte_rate of user=alice from 4096 to 1024: its clients that run "
            "faster are throttled",
            id="lower",
        ),
        pytest.param(
            {"clientId": "app", "quotas": {CONSUME: 1024}},
            seen(client_id="app"),
            Risk.MEDIUM,
            "sets consumer_byte_rate of client-id=app to 1024 where none was set",
            id="new-limit",
        ),
        pytest.param(
            {"user": "<default>", "quotas": {SHARE: 10}},
            seen("<default>", **{SHARE: 50}),
            Risk.HIGH,
            "lowers request_percentage of user=<default> from 50 to 10: every client without "
            "a quota of its own",
            id="lower-default",
        ),
        pytest.param(
            {"user": "alice", "quotas": {PRODUCE: None}},
            seen("alice", **{PRODUCE: 4096}),
            Risk.LOW,
            "removes producer_byte_rate of user=alice (was 4096)",
            id="remove",
        ),
        pytest.param(
            {"user": "alice", "quotas": {PRODUCE: 1024}},
            None,
            Risk.MEDIUM,
            "the current quotas of user=alice were not observed",
            id="not-observed",
        ),
    ],
)
def test_risk_follows_what_clients_feel(
    entity: dict[str, Any], before: Any, risk: Risk, reason: str
) -> None:
    state = observed(client_quotas=[before]) if before is not None else None
    review = review_spec(spec_of(quotas(entity), state), ClusterPolicy(), NOW)
    assert review.risk is risk
    assert reason in "; ".join(review.risk_reasons)
    assert review.data_movement.bytes == 0
    assert "no records move between brokers" in review.data_movement.summary


def test_one_step_per_entity_canary_first_then_batches() -> None:
    member = quotas(*({"clientId": f"app-{n}", "quotas": {PRODUCE: 1024}} for n in range(5)))
    plan = build_plan(spec_of(member, rollout=Rollout(canary=1, batch_size=2)))
    assert [(s.name, [step.id for step in s.steps]) for s in plan.stages] == [
        ("canary", ["quota-0"]),
        ("batch-1", ["quota-1", "quota-2"]),
        ("batch-2", ["quota-3", "quota-4"]),
    ]
    step = plan.stages[1].steps[1]
    assert step.description == "client quotas of client-id=app-2: producer_byte_rate=1024"
    assert [e.client_id for e in step.operation.member.entities] == ["app-2"]


def test_undo_restores_each_key_exactly_and_removes_what_was_unset() -> None:
    member = quotas(
        {"user": "alice", "clientId": "app", "quotas": {PRODUCE: 1024, CONSUME: 2048, SHARE: None}}
    )
    snapshot = observed(client_quotas=[seen("alice", "app", **{PRODUCE: 8192, SHARE: 25.5})])
    rollback = build_rollback(build_plan(spec_of(member)), snapshot)
    assert rollback.reversible
    (undo,) = rollback.steps
    (restored,) = undo.operation.member.entities
    assert (restored.user, restored.client_id) == ("alice", "app")
    assert restored.quotas == {PRODUCE: 8192, CONSUME: None, SHARE: 25.5}
    assert undo.undoes == "quota-0"


def test_undo_without_a_snapshot_says_why() -> None:
    member = quotas({"user": "alice", "quotas": {PRODUCE: 1024}})
    rollback = build_rollback(build_plan(spec_of(member)), observed())
    assert not rollback.reversible
    assert rollback.irreversible_reasons == [
        "the quotas of user=alice before the change were not observed, so they cannot be restored"
    ]


def test_a_quota_moved_since_the_draft_makes_the_plan_stale() -> None:
    member = quotas({"user": "alice", "quotas": {PRODUCE: 1024}})
    draft = observed(client_quotas=[seen("alice", **{PRODUCE: 4096})])
    live = observed(client_quotas=[seen("alice", **{PRODUCE: 2048})])
    spec = spec_of(member, draft)
    assert stale_differences(spec, live, ClusterPolicy()) == [
        "client quota user=alice: producer_byte_rate was 4096 in spec.observed and is 2048 now"
    ]
    assert stale_differences(spec, draft, ClusterPolicy()) == []


def test_claims_scope_and_hash_name_each_entity() -> None:
    member = quotas(
        {"user": "alice", "quotas": {PRODUCE: 1024}},
        {"user": "<default>", "clientId": "<default>", "quotas": {CONSUME: 1024}},
    )
    spec = spec_of(member)
    kind = spec.change.kind
    assert kind.claims(member) == ["quota/user=alice", "quota/client-id=<default>,user=<default>"]
    assert kind.quota_entities(member) == [
        {"user": "alice"},
        {"user": None, "client-id": None},
    ]
    assert spec.change.target() == "quota/user=alice +1"
    assert kind.blast_radius(member, None).principals == ["User:alice"]
    assert spec_hash(spec) == spec_hash(
        spec_of(
            AlterClientQuotas.model_validate(
                spec.change.member.model_dump(mode="json", by_alias=True)
            )
        )
    )


def test_whole_byte_rates_read_as_whole_numbers() -> None:
    entity = ClientQuotaEntity(user="alice", quotas={PRODUCE: 1048576.0, SHARE: 12.5})
    assert entity.model_dump(mode="json")["quotas"] == {PRODUCE: 1048576, SHARE: 12.5}
    assert entity.describe() == "user=alice: producer_byte_rate=1048576, request_percentage=12.5"


def test_on_strimzi_the_kafkausers_quotas_carry_the_change() -> None:
    member = quotas({"user": "bob", "quotas": {PRODUCE: 4096, CONSUME: None}})
    kind = spec_of(member).change.kind
    spec = {
        "authentication": {"type": "scram-sha-512"},
        "quotas": {"producerByteRate": 1, "consumerByteRate": 2},
    }
    edit = kind.strimzi_user_edit(member, "User:bob", spec)
    assert edit is not None
    assert edit.spec == {
        "authentication": {"type": "scram-sha-512"},
        "quotas": {"producerByteRate": 4096},
    }
    assert edit.summary == "in spec.quotas producerByteRate: 4096; remove consumerByteRate"
    assert kind.strimzi_user_edit(member, "User:carol", spec) is None
