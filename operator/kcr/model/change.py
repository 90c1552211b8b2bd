"""The six kinds of change a KafkaChangeRequest may ask for.

Field names are kcr's public API; the validators say Kafka's own rules in plain words.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar, Literal, Self

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from kcr.model.acl import AclBinding
from kcr.model.base import KubeModel
from kcr.model.names import GroupId, KubeName, KubeNamespace, TopicName
from kcr.model.topic_configs import check_config_key, config_problems
from kcr.model.union import TaggedUnion

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


def _check_config_values(values: dict[str, str], info: ValidationInfo) -> dict[str, str]:
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


class CreateTopic(KubeModel):
    topic: TopicName
    partitions: PartitionCount
    replication_factor: Annotated[
        int,
        Field(
            ge=1,
            le=MAX_REPLICATION_FACTOR,
            description="Copies of each partition; at most the number of brokers",
        ),
    ]
    allow_unknown_keys: bool = Field(
        default=False, description="Pass configuration keys kcr does not know to the broker"
    )
    configs: ConfigValues = Field(default_factory=dict)

    _configs_are_legal = field_validator("configs")(_check_config_values)


class IncreasePartitions(KubeModel):
    topic: TopicName
    partitions: Annotated[
        int,
        Field(
            ge=2,
            le=MAX_PARTITIONS,
            description="The new total number of partitions (Kafka can only add partitions)",
        ),
    ]


class AlterTopicConfig(KubeModel):
    topics: Annotated[
        list[TopicName],
        Field(
            min_length=1,
            max_length=MAX_TOPICS_PER_CHANGE,
            description="Topics to change; the first is the canary",
        ),
    ]
    allow_unknown_keys: bool = Field(
        default=False, description="Pass configuration keys kcr does not know to the broker"
    )
    set: ConfigValues = Field(default_factory=dict)
    delete: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=255)]],
        Field(max_length=MAX_CONFIG_KEYS, description="Keys whose topic override is removed"),
    ] = Field(default_factory=list)

    _set_is_legal = field_validator("set")(_check_config_values)

    @field_validator("delete")
    @classmethod
    def _delete_keys_known(cls, keys: list[str], info: ValidationInfo) -> list[str]:
        for key in keys:
            check_config_key(key, allow_unknown=bool(info.data.get("allow_unknown_keys")))
        return keys

    @field_validator("topics")
    @classmethod
    def _topics_unique(cls, topics: list[str]) -> list[str]:
        duplicates = sorted({t for t in topics if topics.count(t) > 1})
        if duplicates:
            raise ValueError(f"each topic may appear once; repeated: {', '.join(duplicates)}")
        return topics

    @model_validator(mode="after")
    def _keys_are_legal(self) -> Self:
        if not self.set and not self.delete:
            raise ValueError("nothing to change: give at least one key in 'set' or 'delete'")
        both = sorted(set(self.set) & set(self.delete))
        if both:
            raise ValueError(f"a key cannot be both set and deleted: {', '.join(both)}")
        return self


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


class ResetConsumerGroupOffsets(KubeModel):
    group: GroupId
    topics: Annotated[list[TopicName], Field(min_length=1, max_length=MAX_TOPICS_PER_CHANGE)]
    to: OffsetTarget
    scale_deployment: DeploymentRef | None = Field(
        default=None,
        description="Scale this Deployment to zero before the reset and back after it",
    )

    @model_validator(mode="after")
    def _offsets_within_topics(self) -> Self:
        if len(set(self.topics)) != len(self.topics):
            raise ValueError("each topic may appear once in topics")
        if self.to.offsets is not None:
            outside = sorted({o.topic for o in self.to.offsets} - set(self.topics))
            if outside:
                raise ValueError(
                    f"to.offsets names topics not listed in topics: {', '.join(outside)}"
                )
        return self


class AlterAcls(KubeModel):
    add: Annotated[list[AclBinding], Field(max_length=MAX_BINDINGS_PER_CHANGE)] = Field(
        default_factory=list
    )
    remove: Annotated[list[AclBinding], Field(max_length=MAX_BINDINGS_PER_CHANGE)] = Field(
        default_factory=list
    )

    @model_validator(mode="after")
    def _something_to_do(self) -> Self:
        if not self.add and not self.remove:
            raise ValueError("nothing to change: give at least one binding in 'add' or 'remove'")
        both = {b.key() for b in self.add} & {b.key() for b in self.remove}
        if both:
            raise ValueError(f"a binding cannot be both added and removed: {sorted(both)[0]}")
        return self


class DeleteTopic(KubeModel):
    topic: TopicName


class ChangeType(StrEnum):
    CREATE_TOPIC = "CreateTopic"
    INCREASE_PARTITIONS = "IncreasePartitions"
    ALTER_TOPIC_CONFIG = "AlterTopicConfig"
    RESET_CONSUMER_GROUP_OFFSETS = "ResetConsumerGroupOffsets"
    ALTER_ACLS = "AlterAcls"
    DELETE_TOPIC = "DeleteTopic"


ChangeMember = (
    CreateTopic
    | IncreasePartitions
    | AlterTopicConfig
    | ResetConsumerGroupOffsets
    | AlterAcls
    | DeleteTopic
)

_CHANGE_MEMBERS = {
    ChangeType.CREATE_TOPIC: "create_topic",
    ChangeType.INCREASE_PARTITIONS: "increase_partitions",
    ChangeType.ALTER_TOPIC_CONFIG: "alter_topic_config",
    ChangeType.RESET_CONSUMER_GROUP_OFFSETS: "reset_consumer_group_offsets",
    ChangeType.ALTER_ACLS: "alter_acls",
    ChangeType.DELETE_TOPIC: "delete_topic",
}


class Change(TaggedUnion):
    """What to change: ``type`` plus exactly the one member field it names."""

    MEMBERS: ClassVar[dict[str, str]] = {str(k): v for k, v in _CHANGE_MEMBERS.items()}

    type: ChangeType
    create_topic: CreateTopic | None = None
    increase_partitions: IncreasePartitions | None = None
    alter_topic_config: AlterTopicConfig | None = None
    reset_consumer_group_offsets: ResetConsumerGroupOffsets | None = None
    alter_acls: AlterAcls | None = None
    delete_topic: DeleteTopic | None = None

    @classmethod
    def of(cls, member: ChangeMember) -> "Change":
        """Wrap a member in its union, setting ``type`` from the member's class."""
        kind = ChangeType(type(member).__name__)
        return cls.model_validate({"type": kind, _CHANGE_MEMBERS[kind]: member})

    def target(self) -> str:
        """The one-line target a reviewer reads in the TARGET column."""
        member = self.member
        if isinstance(member, AlterTopicConfig):
            first = member.topics[0]
            more = len(member.topics) - 1
            return f"topic/{first}" + (f" +{more}" if more else "")
        if isinstance(member, ResetConsumerGroupOffsets):
            return f"group/{member.group}"
        if isinstance(member, AlterAcls):
            principals = sorted({b.principal for b in [*member.add, *member.remove]})
            more = len(principals) - 1
            return principals[0] + (f" +{more}" if more else "")
        return f"topic/{member.topic}"
