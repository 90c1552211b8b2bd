"""Exactly when a live state makes a reviewed plan stale, and when it does not."""

import pytest
from kcr_builders import (
    alter_acls,
    alter_config,
    create_topic,
    delete_topic,
    increase_partitions,
    reset_offsets,
    state,
    topic,
)

from kcr.engine import plan_facts, stale_differences
from kcr.model import (
    ClusterPolicy,
    ConfigSource,
    KafkaChangeRequestSpec,
    ObservedConfig,
    ObservedGroup,
    ObservedPartition,
    ObservedState,
    ObservedTopic,
)

POLICY = ClusterPolicy()


def observed(spec: KafkaChangeRequestSpec) -> ObservedState:
    assert spec.observed is not None
    return spec.observed


def with_topic(spec: KafkaChangeRequestSpec, seen: ObservedTopic) -> ObservedState:
    others = [t for t in observed(spec).topics if t.name != seen.name]
    return observed(spec).model_copy(update={"topics": [*others, seen]})


def group_at(committed: dict[int, int | None], members: int = 0) -> ObservedGroup:
    return ObservedGroup(
        group="billing",
        members=members,
        partitions=[
            ObservedPartition(topic="orders", partition=p, committed=c, log_end=100)
            for p, c in committed.items()
        ],
    )


STALE = [
    pytest.param(
        alter_config(),
        lambda s: with_topic(s, topic("orders", retention_ms="3600000")),
        "topic orders: retention.ms was 86400000 (TopicOverride) in spec.observed and is 3600000 "
        "(TopicOverride) now",
        id="config-value-moved",
    ),
    pytest.param(
        alter_config(),
        lambda s: with_topic(
            s,
            topic("orders").model_copy(
                update={
                    "configs": {
                        "retention.ms": ObservedConfig(
                            value="86400000", source=ConfigSource.DEFAULT
                        )
                    }
                }
            ),
        ),
        "was 86400000 (TopicOverride) in spec.observed and is 86400000 (Default) now",
        id="override-removed-same-value",
    ),
    pytest.param(
        increase_partitions(),
        lambda s: with_topic(s, topic("orders", 4)),
        "topic orders: partitions was 3 in spec.observed and is 4 now",
        id="partitions-added-meanwhile",
    ),
    pytest.param(
        increase_partitions(),
        lambda s: with_topic(s, topic("orders", 6)),
        "the new total 6 must be more than the current 6; Kafka can only add partitions",
        id="already-at-target",
    ),
    pytest.param(
        create_topic(),
        lambda s: with_topic(s, topic("payments")),
        "topic payments: exists was false in spec.observed and is true now",
        id="topic-created-meanwhile",
    ),
    pytest.param(
        delete_topic(),
        lambda s: with_topic(s, ObservedTopic(name="orders", exists=False)),
        "topic orders: exists was true in spec.observed and is false now",
        id="topic-deleted-meanwhile",
    ),
    pytest.param(
        reset_offsets(),
        lambda s: observed(s).model_copy(update={"consumer_groups": [group_at({0: 5})]}),
        "partitions of orders with a committed offset was 0,1,2 in spec.observed and is 0 now",
        id="committed-partitions-changed",
    ),
    pytest.param(
        alter_acls(add=True, remove=True),
        lambda s: observed(s).model_copy(update={"acls": []}),
        "was present in spec.observed and is absent now",
        id="binding-to-remove-is-gone",
    ),
]


@pytest.mark.parametrize(("spec", "live", "says"), STALE)
def test_stale(spec: KafkaChangeRequestSpec, live: object, says: str) -> None:
    differences = stale_differences(spec, live(spec), POLICY)  # type: ignore[operator]
    assert any(says in d for d in differences), differences


FRESH = [
    pytest.param(alter_config(), observed, id="identical"),
    pytest.param(
        reset_offsets(),
        lambda s: observed(s).model_copy(
            update={"consumer_groups": [group_at({0: 90, 1: 91, 2: 92}, members=3)]}
        ),
        id="offsets-and-members-move-on-their-own",
    ),
    pytest.param(
        alter_config(),
        lambda s: with_topic(s, topic("orders", 12, retention_ms="86400000", segment_ms="1")),
        id="untouched-keys-and-partitions",
    ),
    pytest.param(
        alter_config(),
        lambda s: observed(s).model_copy(update={"consumers_of_topics": ["new-group"]}),
        id="new-consumers",
    ),
]


@pytest.mark.parametrize(("spec", "live"), FRESH)
def test_not_stale(spec: KafkaChangeRequestSpec, live: object) -> None:
    assert stale_differences(spec, live(spec), POLICY) == []  # type: ignore[operator]


def test_without_a_draft_state_only_the_live_violations_count() -> None:
    spec = create_topic().model_copy(update={"observed": None})
    assert (
        stale_differences(spec, state(ObservedTopic(name="payments", exists=False)), POLICY) == []
    )
    differences = stale_differences(spec, state(topic("payments")), POLICY)
    assert differences == [
        "spec.change.createTopic.topic: topic payments already exists (in the live state)"
    ]


def test_facts_name_only_what_the_plan_depends_on() -> None:
    facts = plan_facts(alter_config(), observed(alter_config()))
    assert facts == {
        "topic orders: exists": "true",
        "topic orders: retention.ms": "86400000 (TopicOverride)",
    }
