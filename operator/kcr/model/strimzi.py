"""Strimzi's resources as kcr sees them: who manages a topic or a principal besides Kafka.

Strimzi's Topic Operator resets every topic config and partition count to its KafkaTopic
spec at each resync, and its User Operator rewrites the ACLs and quotas of the users it
manages. A write made around them is undone within minutes, so kcr reads these facts
before review and before each write, and proposes the spec change to make there instead.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import Field

from kcr.model.base import KubeModel
from kcr.model.names import KubeName, KubeNamespace

STRIMZI_GROUP_VERSION = "kafka.strimzi.io/v1beta2"
CLUSTER_LABEL = "strimzi.io/cluster"
MANAGED_ANNOTATION = "strimzi.io/managed"
USER_PREFIX = "User:"


class StrimziManagement(KubeModel):
    """Where the Strimzi Kafka resource that runs this cluster lives."""

    namespace: Annotated[
        KubeNamespace,
        Field(description="Namespace of its Kafka, KafkaTopics and KafkaUsers"),
    ]
    cluster_name: Annotated[
        KubeName, Field(description="Name of the Strimzi Kafka resource (label strimzi.io/cluster)")
    ]
    cruise_control: bool = Field(
        default=False,
        description="Cruise Control runs: replica moves go through a KafkaRebalance",
    )


class ManagedBy(KubeModel):
    """Which operator owns the cluster's topics and users; kcr writes through it."""

    strimzi: StrimziManagement | None = None


@dataclass(frozen=True)
class StrimziTopic:
    """One KafkaTopic: the Kafka topic it names and the spec Strimzi enforces on it."""

    name: str
    namespace: str
    topic_name: str
    spec: Mapping[str, Any]
    managed: bool = True
    """False when annotated ``strimzi.io/managed: "false"``: Strimzi leaves the topic alone."""


@dataclass(frozen=True)
class StrimziUser:
    """One KafkaUser: the ``User:<name>`` principal whose ACLs and quotas Strimzi owns."""

    name: str
    namespace: str
    spec: Mapping[str, Any]

    @property
    def principal(self) -> str:
        return f"{USER_PREFIX}{self.name}"


@dataclass(frozen=True)
class StrimziResources:
    """The KafkaTopics and KafkaUsers of one Strimzi cluster, as read just now."""

    management: StrimziManagement
    topics: tuple[StrimziTopic, ...] = ()
    users: tuple[StrimziUser, ...] = ()
    missing: tuple[str, ...] = field(default=())
    """Strimzi kinds the API server does not serve (CRD not installed): none of those exist."""

    def topic(self, name: str) -> StrimziTopic | None:
        """The KafkaTopic Strimzi enforces on topic ``name``, if any."""
        return next((t for t in self.topics if t.topic_name == name and t.managed), None)

    def user(self, principal: str) -> StrimziUser | None:
        return next((u for u in self.users if u.principal == principal), None)


def parse_topic(body: Mapping[str, Any]) -> StrimziTopic:
    meta = body.get("metadata") or {}
    spec = body.get("spec") or {}
    annotations = meta.get("annotations") or {}
    return StrimziTopic(
        name=str(meta.get("name", "")),
        namespace=str(meta.get("namespace", "")),
        topic_name=str(spec.get("topicName") or meta.get("name", "")),
        spec=dict(spec),
        managed=str(annotations.get(MANAGED_ANNOTATION, "true")).lower() != "false",
    )


def parse_user(body: Mapping[str, Any]) -> StrimziUser:
    meta = body.get("metadata") or {}
    return StrimziUser(
        name=str(meta.get("name", "")),
        namespace=str(meta.get("namespace", "")),
        spec=dict(body.get("spec") or {}),
    )


@dataclass(frozen=True)
class ResourceEdit:
    """The spec a KafkaTopic or KafkaUser should have for a change to be made through it."""

    spec: Mapping[str, Any] | None
    """None: delete the resource (Strimzi then deletes the topic)."""
    summary: str
    """``set spec.config['retention.ms'] to 86400000 in KafkaTopic team-a/orders``."""
    yaml: str = ""
    """The whole resource with ``spec`` in it, for a pull request; filled in by policy."""
