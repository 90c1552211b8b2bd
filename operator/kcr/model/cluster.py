"""KafkaCluster: how to reach one Kafka cluster, who owns what in it, and its change policy.

Namespaced on purpose: the cluster's credentials are Secrets in the same namespace, so a
team that may read change requests there may not read another team's Kafka password.
"""

from datetime import time
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, field_validator, model_validator

from kcr.model.base import KubeModel
from kcr.model.names import KubeName
from kcr.model.progress import ConsumerProgressGate
from kcr.model.risk import Risk
from kcr.model.strimzi import ManagedBy

BOOTSTRAP_PATTERN = r"^[A-Za-z0-9.-]+:[0-9]{1,5}(,[A-Za-z0-9.-]+:[0-9]{1,5})*$"


class SecretKeyRef(KubeModel):
    name: KubeName
    key: Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[-._a-zA-Z0-9]+$")]


class Tls(KubeModel):
    enabled: bool = True
    ca: SecretKeyRef | None = Field(default=None, description="CA bundle (PEM)")
    certificate: SecretKeyRef | None = Field(default=None, description="Client certificate")
    key: SecretKeyRef | None = Field(default=None, description="Client private key")

    @model_validator(mode="after")
    def _pair(self) -> Self:
        if (self.certificate is None) != (self.key is None):
            raise ValueError("a client certificate and its key are given together or not at all")
        return self


class SaslMechanism(StrEnum):
    PLAIN = "PLAIN"
    SCRAM_SHA_256 = "SCRAM-SHA-256"
    SCRAM_SHA_512 = "SCRAM-SHA-512"


class Sasl(KubeModel):
    mechanism: SaslMechanism
    username: SecretKeyRef
    password: SecretKeyRef


class Ownership(KubeModel):
    """Who to call about a slice of the cluster."""

    team: Annotated[str, Field(min_length=1, max_length=128)]
    contact: Annotated[str, Field(max_length=256)] = ""
    topic_prefixes: Annotated[
        list[Annotated[str, Field(max_length=249)]], Field(max_length=100)
    ] = Field(default_factory=list)
    group_prefixes: Annotated[
        list[Annotated[str, Field(max_length=255)]], Field(max_length=100)
    ] = Field(default_factory=list)
    runbooks: Annotated[list[Annotated[str, Field(max_length=1024)]], Field(max_length=20)] = Field(
        default_factory=list
    )


class Weekday(StrEnum):
    MON = "Mon"
    TUE = "Tue"
    WED = "Wed"
    THU = "Thu"
    FRI = "Fri"
    SAT = "Sat"
    SUN = "Sun"


class ChangeWindow(KubeModel):
    """When changes of ``minRisk`` or above may start; outside it they wait as Approved."""

    days: Annotated[list[Weekday], Field(min_length=1, max_length=7)]
    start: time = Field(description="Local start time, HH:MM")
    end: time = Field(description="Local end time, HH:MM; before start means past midnight")
    time_zone: Annotated[str, Field(min_length=1, max_length=64)] = "UTC"

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415

        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown IANA time zone {zone!r}, for example Europe/Berlin"
            ) from None
        return zone


class Limits(KubeModel):
    max_partitions: Annotated[int, Field(ge=1, le=10_000)] = 1000
    min_replication_factor: Annotated[int, Field(ge=1, le=32)] = 1
    min_retention_ms: Annotated[int, Field(ge=-1)] = 3_600_000
    max_topics_per_change: Annotated[int, Field(ge=1, le=100)] = 20


class PromQLGate(KubeModel):
    """Alert-style: the query selects unhealthy series; any result fails the gate."""

    name: Annotated[str, Field(min_length=1, max_length=63, pattern=r"^[a-zA-Z0-9_-]+$")]
    query: Annotated[str, Field(min_length=1, max_length=2048)]


class HealthGates(KubeModel):
    no_offline_partitions: bool = True
    under_replicated_not_above_baseline: bool = True
    isr_at_least_min_insync: bool = True
    consumer_progress: ConsumerProgressGate | None = Field(
        default=None,
        description="Affected groups must keep reading at their pre-change rate during the "
        "bake; unset turns the check off",
    )
    promql: Annotated[list[PromQLGate], Field(max_length=10)] = Field(default_factory=list)
    manual: bool = Field(default=False, description="Wait for kcr.dev/continue between stages")


def _default_approvals() -> dict[Risk, int]:
    return {Risk.LOW: 1, Risk.MEDIUM: 1, Risk.HIGH: 2, Risk.CRITICAL: 2}


class ClusterPolicy(KubeModel):
    protected_topics: Annotated[
        list[Annotated[str, Field(max_length=249)]], Field(max_length=100)
    ] = Field(
        default_factory=lambda: ["__*", "_schemas", "_confluent*"],
        description="Glob patterns; any change touching them is CRITICAL",
    )
    required_approvals: Annotated[
        dict[Risk, Annotated[int, Field(ge=1, le=5)]], Field(max_length=len(Risk))
    ] = Field(default_factory=_default_approvals)
    change_windows: Annotated[list[ChangeWindow], Field(max_length=20)] = Field(
        default_factory=list, description="Empty means changes may start at any time"
    )
    change_windows_from_risk: Risk = Risk.MEDIUM
    limits: Limits = Field(default_factory=Limits)
    default_gates: HealthGates = Field(default_factory=HealthGates)
    allow_unknown_config_keys: bool = False
    cruise_control: bool | None = Field(
        default=None,
        description="true: Cruise Control balances this cluster's replicas (on Strimzi, "
        "through a KafkaRebalance), so kcr refuses to move replicas itself and the two never "
        "fight; unset or false: kcr moves them",
    )
    rollback_window_seconds: Annotated[int, Field(ge=60, le=365 * 86_400)] | None = Field(
        default=None,
        description="How long after Succeeded a rollback may be asked for and started; "
        "unset means at any time",
    )

    def approvals_for(self, risk: Risk) -> int:
        return self.required_approvals.get(risk, _default_approvals()[risk])


class Storage(StrEnum):
    LOCAL = "Local"
    TIERED = "Tiered"
    SHARED = "Shared"


class KafkaClusterSpec(KubeModel):
    bootstrap_servers: Annotated[
        str, Field(pattern=BOOTSTRAP_PATTERN, max_length=2048, description="host:port[,host:port]")
    ]
    tls: Tls | None = None
    sasl: Sasl | None = None
    prometheus_url: Annotated[str, Field(pattern=r"^https?://[^\s]+$", max_length=1024)] | None = (
        None
    )
    connect_url: Annotated[
        str | None,
        Field(
            pattern=r"^https?://[^\s]+$",
            max_length=1024,
            description="Kafka Connect's REST API, read for connector and task states",
        ),
    ] = None
    schema_registry_url: Annotated[
        str | None,
        Field(
            pattern=r"^https?://[^\s]+$",
            max_length=1024,
            description="A Confluent-compatible schema registry (Apicurio: .../apis/ccompat/v7)",
        ),
    ] = None
    storage: Storage = Field(
        default=Storage.LOCAL,
        description="Where brokers keep partition data: Local disks, Tiered (older segments in "
        "object storage) or Shared (every broker reads one object store, so replica moves "
        "copy almost nothing)",
    )
    ownership: Annotated[list[Ownership], Field(max_length=200)] = Field(default_factory=list)
    policy: ClusterPolicy = Field(default_factory=ClusterPolicy)
    managed_by: ManagedBy | None = Field(
        default=None,
        description="The operator that owns topics and users (Strimzi): kcr refuses to write "
        "around it and proposes the KafkaTopic or KafkaUser change instead",
    )

    @model_validator(mode="after")
    def _cruise_control_in_policy(self) -> Self:
        """Strimzi's Cruise Control is the policy's: the review reads one flag."""
        strimzi = self.managed_by.strimzi if self.managed_by else None
        if strimzi is None or not strimzi.cruise_control:
            return self
        if self.policy.cruise_control is False:
            raise ValueError(
                "policy.cruiseControl: false contradicts managedBy.strimzi.cruiseControl: true; "
                "remove one of them"
            )
        policy = self.policy.model_copy(update={"cruise_control": True})
        object.__setattr__(self, "policy", policy)
        return self


class ClusterMeta(KubeModel):
    model_config = KubeModel.model_config | {"extra": "allow"}

    name: KubeName
    namespace: str | None = None


class KafkaCluster(KubeModel):
    api_version: str = "kcr.dev/v1alpha1"
    kind: str = "KafkaCluster"
    metadata: ClusterMeta
    spec: KafkaClusterSpec
