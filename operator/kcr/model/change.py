"""What a KafkaChangeRequest asks for, and the parts its kinds share.

Each kind's own model lives with its behaviour (:mod:`kcr.kinds`); this module holds the
union that carries one of them and the field types several kinds use. Field names are
kcr's public API; the validators say Kafka's own rules in plain words.
"""

from datetime import datetime
from typing import Annotated, ClassVar, Literal, Self

from pydantic import Field, ValidationError, ValidationInfo, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from kcr.model.base import KubeModel
from kcr.model.names import KubeName, KubeNamespace, TopicName
from kcr.model.topic_configs import config_problems
from kcr.model.union import KindUnion

MAX_PARTITIONS = 10_000
MAX_REPLICATION_FACTOR = 32
MAX_TOPICS_PER_CHANGE = 100
MAX_BINDINGS_PER_CHANGE = 100
MAX_CONFIG_KEYS = 64

ConfigValues = Annotated[
    dict[
        Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[a-zA-Z0-9._-]+$")],
        Annotated[str, Field(max_length=4096)],
    ],
    Field(max_length=MAX_CONFIG_KEYS, description="Topic configuration key → value, as strings"),
]
PartitionCount = Annotated[
    int,
    Field(ge=1, le=MAX_PARTITIONS, description=f"Number of partitions, 1 to {MAX_PARTITIONS}"),
]


def check_config_values(values: dict[str, str], info: ValidationInfo) -> dict[str, str]:
    """One error per bad key, located at that key, so the path reads ``set['retention.ms']``."""
    problems = config_problems(values, allow_unknown=bool(info.data.get("allow_unknown_keys")))
    if problems:
        raise ValidationError.from_exception_data(
            "topic configuration",
            [
                InitErrorDetails(
                    type=PydanticCustomError("topic_config", "{rule}", {"rule": rule}),
                    loc=(key,),
                    input=values[key],
                )
                for key, rule in problems.items()
            ],
        )
    return values


class PartitionOffset(KubeModel):
    topic: TopicName
    partition: Annotated[int, Field(ge=0, le=MAX_PARTITIONS - 1)]
    offset: Annotated[int, Field(ge=0, description="The next offset the group will read")]


class OffsetTarget(KubeModel):
    """Where the group's committed offsets go: exactly one of the five fields."""

    TARGETS: ClassVar[tuple[str, ...]] = ("earliest", "latest", "timestamp", "offsets", "shift_by")

    earliest: Literal[True] | None = Field(default=None, description="The log start offset")
    latest: Literal[True] | None = Field(default=None, description="The log end offset")
    timestamp: datetime | None = Field(
        default=None, description="The first offset at or after this RFC 3339 time"
    )
    offsets: (
        Annotated[list[PartitionOffset], Field(min_length=1, max_length=MAX_PARTITIONS)] | None
    ) = None
    shift_by: int | None = Field(
        default=None,
        description="Move each committed offset by N (negative replays), clamped to the log",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        chosen = [name for name in self.TARGETS if getattr(self, name) is not None]
        if len(chosen) != 1:
            raise ValueError(
                "choose exactly one of earliest, latest, timestamp, offsets, shiftBy "
                f"(got {len(chosen)})"
            )
        if self.offsets is not None:
            seen = [(o.topic, o.partition) for o in self.offsets]
            repeated = sorted({f"{t}/{p}" for t, p in seen if seen.count((t, p)) > 1})
            if repeated:
                raise ValueError(f"each partition may appear once; repeated: {', '.join(repeated)}")
        if self.timestamp is not None and self.timestamp.tzinfo is None:
            raise ValueError("timestamp needs a time zone, for example 2026-11-25T08:00:00Z")
        return self

    def describe(self) -> str:
        if self.earliest:
            return "earliest"
        if self.latest:
            return "latest"
        if self.timestamp is not None:
            return f"timestamp {self.timestamp.isoformat()}"
        if self.offsets is not None:
            return f"explicit offsets for {len(self.offsets)} partitions"
        return f"shift by {self.shift_by:+d}"


class DeploymentRef(KubeModel):
    namespace: KubeNamespace
    name: KubeName


class Change(KindUnion):
    """What to change: ``type`` plus exactly the one member field it names."""

    REQUESTABLE_ONLY: ClassVar[bool] = True

    def target(self) -> str:
        """The one-line target a reviewer reads in the TARGET column."""
        return self.kind.target(self.member)
