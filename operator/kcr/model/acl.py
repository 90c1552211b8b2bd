"""Kafka ACL bindings in Kubernetes spelling (CamelCase enum values)."""

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, ValidationInfo, model_validator

from kcr.model.base import KubeModel
from kcr.model.names import PRINTABLE_PATTERN, Principal

CLUSTER_RESOURCE_NAME = "kafka-cluster"
REPORTED_BY_BROKER = "reportedByBroker"
"""Validation context key: the binding was read from a broker, not written by a person."""


class AclResourceType(StrEnum):
    TOPIC = "Topic"
    GROUP = "Group"
    CLUSTER = "Cluster"
    TRANSACTIONAL_ID = "TransactionalId"
    DELEGATION_TOKEN = "DelegationToken"  # noqa: S105 (a resource type, not a secret)
    USER = "User"


class AclPatternType(StrEnum):
    LITERAL = "Literal"
    PREFIXED = "Prefixed"


class AclOperation(StrEnum):
    ALL = "All"
    READ = "Read"
    WRITE = "Write"
    CREATE = "Create"
    DELETE = "Delete"
    ALTER = "Alter"
    DESCRIBE = "Describe"
    CLUSTER_ACTION = "ClusterAction"
    DESCRIBE_CONFIGS = "DescribeConfigs"
    ALTER_CONFIGS = "AlterConfigs"
    IDEMPOTENT_WRITE = "IdempotentWrite"
    CREATE_TOKENS = "CreateTokens"
    DESCRIBE_TOKENS = "DescribeTokens"


class AclPermission(StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


# Operations Kafka's authorizer evaluates per resource type (AclEntry.supportedOperations).
SUPPORTED_OPERATIONS: dict[AclResourceType, frozenset[AclOperation]] = {
    AclResourceType.TOPIC: frozenset(
        {
            AclOperation.READ,
            AclOperation.WRITE,
            AclOperation.CREATE,
            AclOperation.DESCRIBE,
            AclOperation.DELETE,
            AclOperation.ALTER,
            AclOperation.DESCRIBE_CONFIGS,
            AclOperation.ALTER_CONFIGS,
        }
    ),
    AclResourceType.GROUP: frozenset(
        {AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DELETE}
    ),
    AclResourceType.CLUSTER: frozenset(
        {
            AclOperation.CREATE,
            AclOperation.CLUSTER_ACTION,
            AclOperation.DESCRIBE_CONFIGS,
            AclOperation.ALTER_CONFIGS,
            AclOperation.IDEMPOTENT_WRITE,
            AclOperation.ALTER,
            AclOperation.DESCRIBE,
        }
    ),
    AclResourceType.TRANSACTIONAL_ID: frozenset({AclOperation.DESCRIBE, AclOperation.WRITE}),
    AclResourceType.DELEGATION_TOKEN: frozenset({AclOperation.DESCRIBE}),
    AclResourceType.USER: frozenset({AclOperation.CREATE_TOKENS, AclOperation.DESCRIBE_TOKENS}),
}


class AclBinding(KubeModel):
    """One allow or deny rule, as Kafka's CreateAcls and DeleteAcls take it."""

    resource_type: AclResourceType
    resource_name: Annotated[
        str,
        Field(
            min_length=1,
            max_length=255,
            pattern=PRINTABLE_PATTERN,
            description="Topic, group or transactional id; '*' for all (Literal only)",
        ),
    ]
    pattern_type: AclPatternType = AclPatternType.LITERAL
    principal: Principal
    host: Annotated[
        str,
        Field(
            min_length=1,
            max_length=255,
            pattern=r"^[^\s\x00-\x1f\x7f]+$",
            description="Client address the binding applies to (an IP address, or '*')",
        ),
    ] = "*"
    operation: AclOperation
    permission: AclPermission = AclPermission.ALLOW

    @model_validator(mode="after")
    def _kafka_rules(self, info: ValidationInfo) -> Self:
        # A broker keeps what the AdminClient sent it, e.g. Write on a Group: what it reports
        # is shown as it is; only what kcr writes must make sense.
        reported = bool(info.context and info.context.get(REPORTED_BY_BROKER))
        if (
            not reported
            and self.operation is not AclOperation.ALL
            and self.operation not in SUPPORTED_OPERATIONS[self.resource_type]
        ):
            allowed = ", ".join(sorted(SUPPORTED_OPERATIONS[self.resource_type]))
            raise ValueError(
                f"operation {self.operation.value} does not apply to a {self.resource_type.value}"
                f" resource; use one of All, {allowed}"
            )
        if (
            self.resource_type is AclResourceType.CLUSTER
            and self.resource_name != CLUSTER_RESOURCE_NAME
        ):
            raise ValueError(
                f"a Cluster resource is always named {CLUSTER_RESOURCE_NAME!r}, "
                f"not {self.resource_name!r}"
            )
        if self.resource_name == "*" and self.pattern_type is not AclPatternType.LITERAL:
            raise ValueError(
                "resourceName '*' matches every resource only with patternType Literal"
            )
        return self

    def key(self) -> str:
        """A stable text form, used for idempotence keys and for comparing bindings."""
        return (
            f"{self.permission} {self.principal} {self.operation} "
            f"{self.resource_type}:{self.pattern_type}:{self.resource_name} "
            f"from {self.host}"
        )
