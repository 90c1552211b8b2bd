"""One executable step's action: a change kind on one target, or a Deployment scale.

Steps reuse the change members, so a step is checked by the same rules as the request
that produced it, and a rollback step is just another operation.
"""

from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field

from kcr.model.base import KubeModel
from kcr.model.change import (
    AlterAcls,
    AlterTopicConfig,
    ChangeMember,
    CreateTopic,
    DeleteTopic,
    IncreasePartitions,
    ResetConsumerGroupOffsets,
)
from kcr.model.names import KubeName, KubeNamespace
from kcr.model.union import TaggedUnion


class ScaleDeployment(KubeModel):
    namespace: KubeNamespace
    name: KubeName
    replicas: Annotated[int, Field(ge=0, le=10_000)] | None = Field(
        default=None,
        description="Target replicas; null restores the count recorded in status.snapshot",
    )


class OperationType(StrEnum):
    CREATE_TOPIC = "CreateTopic"
    INCREASE_PARTITIONS = "IncreasePartitions"
    ALTER_TOPIC_CONFIG = "AlterTopicConfig"
    RESET_CONSUMER_GROUP_OFFSETS = "ResetConsumerGroupOffsets"
    ALTER_ACLS = "AlterAcls"
    DELETE_TOPIC = "DeleteTopic"
    SCALE_DEPLOYMENT = "ScaleDeployment"


OperationMember = ChangeMember | ScaleDeployment

_OPERATION_MEMBERS = {
    OperationType.CREATE_TOPIC: "create_topic",
    OperationType.INCREASE_PARTITIONS: "increase_partitions",
    OperationType.ALTER_TOPIC_CONFIG: "alter_topic_config",
    OperationType.RESET_CONSUMER_GROUP_OFFSETS: "reset_consumer_group_offsets",
    OperationType.ALTER_ACLS: "alter_acls",
    OperationType.DELETE_TOPIC: "delete_topic",
    OperationType.SCALE_DEPLOYMENT: "scale_deployment",
}


class Operation(TaggedUnion):
    """What one step does."""

    MEMBERS: ClassVar[dict[str, str]] = {str(k): v for k, v in _OPERATION_MEMBERS.items()}

    type: OperationType
    create_topic: CreateTopic | None = None
    increase_partitions: IncreasePartitions | None = None
    alter_topic_config: AlterTopicConfig | None = None
    reset_consumer_group_offsets: ResetConsumerGroupOffsets | None = None
    alter_acls: AlterAcls | None = None
    delete_topic: DeleteTopic | None = None
    scale_deployment: ScaleDeployment | None = None

    @classmethod
    def of(cls, member: OperationMember) -> "Operation":
        kind = OperationType(type(member).__name__)
        return cls.model_validate({"type": kind, _OPERATION_MEMBERS[kind]: member})
