"""Committed offsets through kafka-python, judged: a moving coordinator is asked again for
its groups only; a refusal is typed and names the group; rows keep the port's shape.

The coordinator here is scripted at the level of the broker's answers (error codes and rows
as kafka-python parses them); the wire itself is covered on tansu and Apache Kafka in
``test_offset_fetch_batching.py`` and ``test_apache_coordinator_moves.py``.
"""

from typing import Any

import pytest

from kcr.kafka import AuthorizationError, GroupOffsets, TopicPartition, UnavailableError
from kcr.kafka.confluent.moving import MAX_ATTEMPTS
from kcr.kafka.kafkapython import KafkaPythonAdmin
from kcr.kafka.kafkapython_offsets import GroupAnswer, Wanted
from kcr.kafka.readmodel import CommittedOffset
from kcr.kafka.settings import ClientSettings

pytestmark = pytest.mark.asyncio

NOT_COORDINATOR, LOADING, GROUP_AUTHORIZATION_FAILED = 16, 14, 30
TOPIC_AUTHORIZATION_FAILED, UNKNOWN_TOPIC_OR_PARTITION = 29, 3
ROWS = [("orders", 1, 7, 0), ("orders", 0, 5, 0), ("audit", 0, -1, 0)]


class Coordinator:
    """Answers each group with its scripted codes in turn (0: the rows), then the rows."""

    def __init__(self, script: dict[str, list[int]], rows: list[tuple[str, int, int, int]]):
        self.script = script
        self.rows = rows
        self.asked: list[list[str]] = []

    def committed_of(self, groups: list[str], wanted: Wanted) -> dict[str, GroupAnswer]:
        self.asked.append(groups)
        answers = {}
        for group in groups:
            codes = self.script.get(group, [])
            code = codes.pop(0) if codes else 0
            answers[group] = GroupAnswer(code, rows=[] if code else list(self.rows))
        return answers


class Scripted(KafkaPythonAdmin):
    def __init__(self, coordinator: Coordinator) -> None:
        super().__init__({}, ClientSettings(request_timeout=2.0))
        self.coordinator = coordinator

    def _open(self) -> Any:
        return self.coordinator


def offsets(*rows: tuple[str, int, int | None]) -> list[CommittedOffset]:
    return [CommittedOffset(topic=t, partition=p, offset=o) for t, p, o in rows]


@pytest.mark.parametrize(
    ("code", "failures"),
    [(NOT_COORDINATOR, 2), (LOADING, 1), (NOT_COORDINATOR, MAX_ATTEMPTS - 1)],
    ids=["not-coordinator-twice", "loading-once", "moving-until-the-last-attempt"],
)
async def test_only_the_group_whose_coordinator_moved_is_asked_again(
    code: int, failures: int
) -> None:
    coordinator = Coordinator({"billing": [code] * failures}, ROWS)

    found = await Scripted(coordinator).committed(["audit", "billing"], None)

    expected = offsets(("orders", 0, 5), ("orders", 1, 7))
    assert found == [GroupOffsets(group=g, offsets=expected) for g in ("audit", "billing")]
    assert coordinator.asked == [["audit", "billing"]] + [["billing"]] * failures


async def test_a_coordinator_that_keeps_moving_is_unavailable_and_retriable() -> None:
    coordinator = Coordinator({"billing": [NOT_COORDINATOR] * (MAX_ATTEMPTS + 1)}, ROWS)

    with pytest.raises(UnavailableError, match="group billing") as caught:
        await Scripted(coordinator).committed(["billing"], None)

    assert caught.value.code == "NOT_COORDINATOR"
    assert caught.value.retriable
    assert len(coordinator.asked) == MAX_ATTEMPTS


async def test_a_refused_group_is_an_authorization_error_asked_once() -> None:
    coordinator = Coordinator(
        {"billing": [GROUP_AUTHORIZATION_FAILED], "audit": [NOT_COORDINATOR]}, ROWS
    )

    with pytest.raises(AuthorizationError, match="fetch committed offsets of group billing"):
        await Scripted(coordinator).committed(["audit", "billing"], None)

    assert coordinator.asked == [["audit", "billing"]]


async def test_many_refused_groups_are_counted_in_one_message() -> None:
    groups = [f"team-{n}" for n in range(5)]
    coordinator = Coordinator({g: [GROUP_AUTHORIZATION_FAILED] for g in groups}, ROWS)

    with pytest.raises(AuthorizationError, match=r"group team-0: .*and 4 other group\(s\)"):
        await Scripted(coordinator).committed(groups, None)


@pytest.mark.parametrize(
    ("rows", "partitions", "expected"),
    [
        (ROWS, None, offsets(("orders", 0, 5), ("orders", 1, 7))),
        (
            ROWS,
            [TopicPartition(topic="orders", partition=p) for p in (1, 0, 2)],
            offsets(("orders", 1, 7), ("orders", 0, 5), ("orders", 2, None)),
        ),
        (
            [("gone", 0, -1, UNKNOWN_TOPIC_OR_PARTITION)],
            [TopicPartition(topic="gone", partition=0)],
            offsets(("gone", 0, None)),
        ),
        ([("gone", 0, -1, UNKNOWN_TOPIC_OR_PARTITION)], None, []),
    ],
    ids=["committed-only-sorted", "asked-order-null-without-commit", "missing-topic", "empty"],
)
async def test_rows_keep_the_ports_shape(
    rows: list[tuple[str, int, int, int]],
    partitions: list[TopicPartition] | None,
    expected: list[CommittedOffset],
) -> None:
    (found,) = await Scripted(Coordinator({}, rows)).committed(["billing"], partitions)
    assert found == GroupOffsets(group="billing", offsets=expected)


async def test_a_refused_partition_is_an_authorization_error_naming_the_group() -> None:
    rows = [("orders", 0, -1, TOPIC_AUTHORIZATION_FAILED)]
    with pytest.raises(AuthorizationError, match="group billing"):
        await Scripted(Coordinator({}, rows)).committed(["billing"], None)


async def test_no_groups_ask_nothing() -> None:
    coordinator = Coordinator({}, ROWS)
    assert await Scripted(coordinator).committed([], None) == []
    assert coordinator.asked == []
