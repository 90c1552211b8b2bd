"""What the port reads about replicas: sizes on disk, leader elections, replication throttles."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from kcr.model.base import KubeModel


class ReplicaLogSize(KubeModel):
    """One replica's log on one broker (DescribeLogDirs): what a move of it has to copy."""

    topic: str
    partition: Annotated[int, Field(ge=0)]
    broker: int
    log_dir: str = Field(description="The absolute log directory path on the broker")
    size: Annotated[int, Field(ge=0, description="Bytes of the log segments")]
    offset_lag: int = Field(
        default=0, description="How far this replica's log end is behind the high watermark"
    )
    future: bool = Field(
        default=False, description="A copy being made in another log dir of the same broker"
    )


class Election(StrEnum):
    """Kafka's ElectionType: the preferred (first) replica, or any replica at all."""

    PREFERRED = "Preferred"
    UNCLEAN = "Unclean"


class ElectionOutcome(StrEnum):
    ELECTED = "Elected"
    NOT_NEEDED = "NotNeeded"  # the wanted leader already leads: success
    FAILED = "Failed"


class ElectionResult(KubeModel):
    topic: str
    partition: Annotated[int, Field(ge=0)]
    outcome: ElectionOutcome
    code: str | None = Field(default=None, description="Kafka's error name when it failed")
    message: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.outcome is not ElectionOutcome.FAILED


LEADER_THROTTLE_RATE = "leader.replication.throttled.rate"
FOLLOWER_THROTTLE_RATE = "follower.replication.throttled.rate"
LEADER_THROTTLED_REPLICAS = "leader.replication.throttled.replicas"
FOLLOWER_THROTTLED_REPLICAS = "follower.replication.throttled.replicas"
# Kafka's ThrottledReplicaListValidator: the literal '*' or partition:broker pairs.
THROTTLED_REPLICAS_PATTERN = r"^(\*|[0-9]+:[0-9]+(,[0-9]+:[0-9]+)*)$"
ThrottledReplicas = Annotated[
    str,
    Field(
        pattern=THROTTLED_REPLICAS_PATTERN,
        max_length=1_000_000,
        description="Kafka's form: '*' for every replica, or partition:broker pairs",
    ),
]


class BrokerThrottle(KubeModel):
    """A broker's own replication rates (dynamic per-broker configs), in bytes per second."""

    broker: int
    leader_rate: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description=LEADER_THROTTLE_RATE + "; null when not set on the broker"
    )
    follower_rate: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description=FOLLOWER_THROTTLE_RATE + "; null when not set on the broker"
    )


class TopicThrottle(KubeModel):
    """Which replicas of a topic the brokers' rates hold back (topic configs)."""

    topic: str
    leader_replicas: ThrottledReplicas | None = Field(
        default=None, description=LEADER_THROTTLED_REPLICAS + ": the replicas sending a copy"
    )
    follower_replicas: ThrottledReplicas | None = Field(
        default=None, description=FOLLOWER_THROTTLED_REPLICAS + ": the replicas receiving one"
    )


class ReplicationThrottles(KubeModel):
    brokers: list[BrokerThrottle] = Field(default_factory=list)
    topics: list[TopicThrottle] = Field(default_factory=list)
    observed_at: datetime

    @property
    def throttled(self) -> bool:
        """Whether anything is still throttled (a move that ended must leave nothing)."""
        rates = any(b.leader_rate is not None or b.follower_rate is not None for b in self.brokers)
        return rates or any(
            t.leader_replicas is not None or t.follower_replicas is not None for t in self.topics
        )
