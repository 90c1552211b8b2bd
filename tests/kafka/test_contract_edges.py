"""Empty and malformed requests: the same typed answer from the fake and the broker.

confluent-kafka refuses empty lists and empty names with ``ValueError`` before sending;
the port answers an empty question with an empty answer and a malformed one with
``InvalidRequestError``, so nothing but the port's typed errors escapes.
"""

import pytest

from kcr import kinds
from kcr.kafka import GroupOffsets, InvalidRequestError, TopicPartition
from kcr.kinds.reset_offsets import ResetConsumerGroupOffsets
from kcr.model import OffsetTarget

from .conftest import World

pytestmark = pytest.mark.asyncio


async def test_committed_offsets_on_no_topics_are_empty(world: World, unique: str) -> None:
    group = f"{unique}-g"
    assert await world.kafka.committed_offsets([group], topics=[]) == [
        GroupOffsets(group=group, offsets=[])
    ]


async def test_primitives_answer_empty_lists_with_empty_results(world: World, unique: str) -> None:
    group = f"{unique}-g"
    assert await world.backend.committed([group], []) == [GroupOffsets(group=group, offsets=[])]
    assert await world.backend.committed([]) == []
    assert await world.backend.describe_groups([]) == []
    assert await world.backend.topic_configs([]) == []
    assert await world.backend.log_offsets([]) == []
    assert await world.backend.offsets_for_timestamp([], 0) == {}


async def test_reset_snapshot_of_a_missing_topic(world: World, unique: str) -> None:
    topic, group = f"{unique}-gone", f"{unique}-g"
    change = ResetConsumerGroupOffsets(group=group, topics=[topic], to=OffsetTarget(latest=True))
    snapshot = await kinds.take_snapshot(world.kafka, change)
    seen_topic, seen_group = snapshot.topic(topic), snapshot.group(group)
    assert seen_topic is not None
    assert not seen_topic.exists
    assert seen_group is not None
    assert seen_group.partitions == []


@pytest.mark.parametrize(
    ("call", "words"),
    [
        ("describe_topics", "topics must not contain an empty name"),
        ("topic_configs", "topics must not contain an empty name"),
        ("describe_consumer_groups", "groups must not contain an empty name"),
        ("committed_offsets", "groups must not contain an empty name"),
    ],
)
async def test_an_empty_name_is_an_invalid_request(world: World, call: str, words: str) -> None:
    with pytest.raises(InvalidRequestError, match=words):
        await getattr(world.kafka, call)([""])


async def test_a_request_the_client_refuses_is_an_invalid_request(world: World) -> None:
    """Past the port's checks: the client's own refusal comes back typed."""
    unnamed = [TopicPartition(topic="", partition=0)]
    with pytest.raises(InvalidRequestError, match=r"refused the request .*nothing was sent"):
        await world.backend.log_offsets(unnamed)
    with pytest.raises(InvalidRequestError, match=r"refused the request .*nothing was sent"):
        await world.backend.offsets_for_timestamp(unnamed, 0)
