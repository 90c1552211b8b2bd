"""The lag report's rows as the MCP tools return them: one object per partition, kept lean.

A page holds up to ``MAX_LAG_ROWS`` partition rows and every client checks each value of it
against the output schema, so a row says only what its topic does not: no topic name (the
row sits in its topic), and plain dicts built straight from the read model rather than a
pydantic model per row (CPython's collector also leaves dicts of numbers alone, where every
model is one more object to walk).
"""

from typing import Annotated

from pydantic import ConfigDict, Field, with_config
from pydantic.alias_generators import to_camel
from typing_extensions import TypedDict

from kcr.kafka import GroupLag, PartitionLag, TopicLag
from kcr.model import GroupState
from kcr.model.base import KubeModel

MAX_LAG_ROWS = 2000


@with_config(
    ConfigDict(
        alias_generator=to_camel,
        extra="forbid",
        serialize_by_alias=True,
        validate_by_alias=True,
        validate_by_name=True,
    )
)
class PartitionRow(TypedDict):
    partition: Annotated[int, Field(ge=0)]
    committed: Annotated[int | None, Field(description="Null when the group never committed")]
    log_start: Annotated[int, Field(ge=0)]
    log_end: Annotated[int, Field(ge=0, description="High watermark")]
    lag: Annotated[
        int | None, Field(ge=0, description="Log end minus committed; null without a commit")
    ]
    hot: Annotated[bool, Field(description="Listed in hotPartitions with its siblings' mean")]


class TopicRows(KubeModel):
    topic: str
    total_lag: Annotated[int, Field(ge=0)]
    max_lag: Annotated[int, Field(ge=0)]
    partitions: list[PartitionRow] = Field(description="Partition rows of this topic, by number")


class GroupRows(KubeModel):
    group: str
    state: GroupState
    members: Annotated[int, Field(ge=0)] | None = Field(
        description="Null when the report skipped group descriptions"
    )
    total_lag: Annotated[int, Field(ge=0)]
    topics: list[TopicRows]


def group_rows(row: GroupLag, room: int | None = None) -> GroupRows:
    """``row`` with at most ``room`` partition rows (all when None), topics in order."""
    topics = []
    for topic in row.topics:
        if room is not None and room <= 0:
            break
        shown = topic.partitions if room is None else topic.partitions[:room]
        topics.append(_topic_rows(topic, shown))
        if room is not None:
            room -= len(shown)
    return GroupRows(
        group=row.group,
        state=row.state,
        members=row.members,
        total_lag=row.total_lag,
        topics=topics,
    )


def page_rows(rows: list[GroupLag], most: int = MAX_LAG_ROWS) -> tuple[list[GroupRows], bool]:
    """Every group of a page with its totals; partition rows until ``most`` are shown."""
    shown, room = [], most
    for row in rows:
        shown.append(group_rows(row, room))
        room -= sum(len(t.partitions) for t in shown[-1].topics)
    total = sum(len(t.partitions) for row in rows for t in row.topics)
    return shown, total > most - room


def _topic_rows(topic: TopicLag, partitions: list[PartitionLag]) -> TopicRows:
    return TopicRows(
        topic=topic.topic,
        total_lag=topic.total_lag,
        max_lag=topic.max_lag,
        partitions=[
            {
                "partition": p.partition,
                "committed": p.committed,
                "log_start": p.log_start,
                "log_end": p.log_end,
                "lag": p.lag,
                "hot": p.hot,
            }
            for p in partitions
        ],
    )
