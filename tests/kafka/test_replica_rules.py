"""The pure rules behind moves, throttles and quotas: what a move throttles, how many bytes
it has left, and which quota arguments are refused before anything is sent."""

import pytest
from pydantic import ValidationError

from kcr.kafka import (
    ClientQuotaFilter,
    QuotaAlteration,
    QuotaEntityType,
    QuotaFilterComponent,
    QuotaKey,
    QuotaMatch,
    Reassignment,
    ReplicaLogSize,
    TopicThrottle,
    move_throttle,
)
from kcr.kafka.moves import bytes_left
from kcr.kafka.quota_model import entity_label
from kcr.kafka.readmodel import PartitionInfo, TopicInfo

USER, CLIENT = QuotaEntityType.USER, QuotaEntityType.CLIENT_ID


def test_a_moves_throttle_is_what_kafkas_reassign_tool_sets() -> None:
    """Leader throttle on every current replica of a moving partition, follower throttle on
    the replicas it adds, pairs sorted as text; a partition that does not move is left out."""
    topic = TopicInfo(
        name="orders",
        partitions=[
            PartitionInfo(partition=0, leader=1, replicas=[1, 2], isr=[1, 2]),
            PartitionInfo(partition=1, leader=2, replicas=[2, 3], isr=[2, 3]),
            PartitionInfo(partition=10, leader=3, replicas=[3, 1], isr=[3, 1]),
        ],
    )
    throttle = move_throttle(topic, {0: [3, 1], 10: [3, 2]})
    assert throttle == TopicThrottle(
        topic="orders", leader_replicas="0:1,0:2,10:1,10:3", follower_replicas="0:3,10:2"
    )
    assert move_throttle(topic, {}) == TopicThrottle(topic="orders")


def _size(broker: int, size: int, *, future: bool = False) -> ReplicaLogSize:
    return ReplicaLogSize(
        topic="orders", partition=0, broker=broker, log_dir="/d", size=size, future=future
    )


MOVE = Reassignment(topic="orders", partition=0, replicas=[3, 4, 1], adding=[3, 4], removing=[1])


@pytest.mark.parametrize(
    ("sizes", "left"),
    [
        pytest.param([_size(1, 1000)], 2000, id="nothing-copied-yet"),
        pytest.param([_size(1, 1000), _size(3, 400), _size(4, 1000)], 600, id="one-caught-up"),
        pytest.param([_size(1, 1000), _size(3, 1200)], 1000, id="never-negative"),
        pytest.param([_size(1, 1000), _size(3, 900, future=True)], 2000, id="future-logs-ignored"),
        pytest.param([], 0, id="no-log-dirs"),
    ],
)
def test_bytes_left_is_what_the_adding_brokers_lack(sizes: list[ReplicaLogSize], left: int) -> None:
    assert bytes_left(MOVE, sizes) == left


def test_a_moves_target_is_its_replicas_without_the_removed_ones() -> None:
    assert MOVE.target == [3, 4]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param(
            {"entity": {}, "values": {"producer_byte_rate": 1}}, "at least 1", id="no-entity"
        ),
        pytest.param({"entity": {"user": "a"}, "values": {}}, "at least 1", id="no-values"),
        pytest.param(
            {"entity": {"user": ""}, "values": {"producer_byte_rate": 1}},
            "entity user: an empty name; use null for the default",
            id="empty-name",
        ),
        pytest.param(
            {"entity": {"ip": "1.2.3.4"}, "values": {"producer_byte_rate": 1}},
            "entity.ip",
            id="ip-entities-are-not-kcrs",
        ),
        pytest.param(
            {"entity": {"user": "a"}, "values": {"controller_mutation_rate": 1}},
            "values.controller_mutation_rate",
            id="unknown-key",
        ),
    ],
)
def test_quota_alterations_are_refused_naming_the_field(
    arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        QuotaAlteration.model_validate(arguments)


def test_a_filter_component_takes_a_name_only_to_match_exactly() -> None:
    with pytest.raises(ValidationError, match="user: an Exact match needs a name"):
        QuotaFilterComponent(entity_type=USER, match=QuotaMatch.EXACT)
    with pytest.raises(ValidationError, match="client-id: an Exact match needs a name"):
        QuotaFilterComponent(entity_type=CLIENT, match=QuotaMatch.DEFAULT, name="app")
    exact = ClientQuotaFilter.exactly({CLIENT: None, USER: "alice"})
    assert exact.strict
    assert [(c.entity_type, c.match, c.name) for c in exact.components] == [
        (CLIENT, QuotaMatch.DEFAULT, None),
        (USER, QuotaMatch.EXACT, "alice"),
    ]


def test_an_entity_is_labelled_as_kafkas_tools_print_it() -> None:
    assert entity_label({USER: "alice", CLIENT: None}) == "client-id=<default>,user=alice"
    assert QuotaKey("request_percentage") is QuotaKey.REQUEST_PERCENTAGE
