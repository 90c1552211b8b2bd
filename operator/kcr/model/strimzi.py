"""Strimzi's resources as kcr sees them: who manages a topic or a principal besides Kafka.

Strimzi's Topic Operator resets every topic config and partition count to its KafkaTopic
spec at each resync, and its User Operator rewrites the ACLs and quotas of the users it
manages. A write made around them is undone within minutes, so kcr reads these facts
before review and before each write, and proposes the spec change to make there instead.
"""

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import re2
from pydantic import Field, field_validator

from kcr.model.base import KubeModel
from kcr.model.names import KubeName, KubeNamespace

STRIMZI_GROUP_VERSION = "kafka.strimzi.io/v1beta2"
CLUSTER_LABEL = "strimzi.io/cluster"
MANAGED_ANNOTATION = "strimzi.io/managed"
PAUSE_ANNOTATION = "strimzi.io/pause-reconciliation"
USER_PREFIX = "User:"
TLS_AUTHENTICATIONS = frozenset({"tls", "tls-external"})
"""A KafkaUser authenticated by certificate is known to Kafka as ``CN=<name>``."""
MAX_PATTERN_LENGTH = 1024


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
    ignored_users_pattern: str | None = Field(
        default=None,
        max_length=MAX_PATTERN_LENGTH,
        description="The User Operator's STRIMZI_IGNORED_USERS_PATTERN, if set: a user whose "
        "whole Kafka name (CN=<name> for TLS users) matches keeps its ACLs and quotas "
        "without a KafkaUser; every other user without one loses them",
    )

    @field_validator("ignored_users_pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        """kcr matches it with RE2 (linear time): a pattern it cannot compile is refused."""
        if pattern is not None:
            try:
                _compile(pattern)
            except re2.error as error:
                why = error.args[0] if error.args else error
                if isinstance(why, bytes):
                    why = why.decode(errors="replace")
                raise ValueError(
                    f"is not a regular expression kcr can evaluate ({why}); kcr uses RE2 "
                    "syntax, which has no lookaround or backreferences"
                ) from None
        return pattern

    def ignores(self, principal: str) -> bool:
        """Whether the User Operator leaves ``principal`` alone: the pattern must match its
        whole name as Kafka gives it, as Java's ``Pattern.matches`` does."""
        if self.ignored_users_pattern is None or not principal.startswith(USER_PREFIX):
            return False
        name = principal.removeprefix(USER_PREFIX)
        return _compile(self.ignored_users_pattern).fullmatch(name) is not None


@functools.lru_cache(maxsize=16)
def _compile(pattern: str) -> Any:
    """Quietly: RE2 would log a bad pattern to stderr besides raising."""
    options = re2.Options()
    options.log_errors = False
    return re2.compile(pattern, options)


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
    paused: bool = False
    """Annotated ``strimzi.io/pause-reconciliation: "true"``: nothing is enforced until resumed."""


@dataclass(frozen=True)
class StrimziUser:
    """One KafkaUser: the ``User:<name>`` principal whose ACLs and quotas Strimzi owns."""

    name: str
    namespace: str
    spec: Mapping[str, Any]
    paused: bool = False

    @property
    def authentication(self) -> str | None:
        found = (self.spec.get("authentication") or {}).get("type")
        return str(found) if found else None

    @property
    def kafka_name(self) -> str:
        """The user's name in Kafka: ``CN=<name>`` for certificate users, else its own."""
        if self.authentication in TLS_AUTHENTICATIONS:
            return f"CN={self.name}"
        return self.name

    @property
    def principal(self) -> str:
        return f"{USER_PREFIX}{self.kafka_name}"


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

    def claims(self, principal: str) -> bool:
        """Whether the User Operator counts ``principal`` as one of its users' at periodic
        reconciliation: it decodes ``CN=<name>`` to ``<name>`` and looks for that KafkaUser."""
        name = user_name(principal)
        return name is not None and any(u.name == name for u in self.users)


def user_name(principal: str) -> str | None:
    """The KafkaUser name the User Operator derives from a ``User:`` principal (the CN of an
    X.500 name), or None for another principal type."""
    if not principal.startswith(USER_PREFIX):
        return None
    name = principal.removeprefix(USER_PREFIX)
    if "CN=" not in name:
        return name
    parts = (part.strip() for part in name.split(","))
    return "".join(part[3:] for part in parts if part[:3].upper() == "CN=")


def strimzi_resources(
    management: StrimziManagement,
    topics: Sequence[Mapping[str, Any]] | None,
    users: Sequence[Mapping[str, Any]] | None,
) -> StrimziResources:
    """From the listed objects; a kind listed as None is one the API server does not serve."""
    missing = tuple(
        kind for kind, found in (("KafkaTopic", topics), ("KafkaUser", users)) if found is None
    )
    return StrimziResources(
        management=management,
        topics=tuple(parse_topic(t) for t in topics or []),
        users=tuple(parse_user(u) for u in users or []),
        missing=missing,
    )


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
        paused=_paused(annotations),
    )


def parse_user(body: Mapping[str, Any]) -> StrimziUser:
    meta = body.get("metadata") or {}
    return StrimziUser(
        name=str(meta.get("name", "")),
        namespace=str(meta.get("namespace", "")),
        spec=dict(body.get("spec") or {}),
        paused=_paused(meta.get("annotations") or {}),
    )


def _paused(annotations: Mapping[str, Any]) -> bool:
    return str(annotations.get(PAUSE_ANNOTATION, "false")).lower() == "true"


@dataclass(frozen=True)
class ResourceEdit:
    """The spec a KafkaTopic or KafkaUser should have for a change to be made through it."""

    spec: Mapping[str, Any] | None
    """None: delete the resource (Strimzi then deletes the topic)."""
    summary: str
    """``set spec.config['retention.ms'] to 86400000 in KafkaTopic team-a/orders``."""
    yaml: str = ""
    """The whole resource with ``spec`` in it, for a pull request; filled in by policy."""
