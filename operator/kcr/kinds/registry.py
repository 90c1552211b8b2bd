"""Register a kind, find it, and run its effects: the only dispatch on kinds there is."""

from datetime import UTC, datetime
from typing import Any, cast

from kcr.kafka.port import KafkaPort
from kcr.kafka.results import ApplyResult
from kcr.kinds.base import KindBase, StepPorts
from kcr.model import KINDS, Change, ObservedState, Operation
from kcr.model.base import KubeModel

AnyKind = KindBase[Any]


def register(kind: AnyKind) -> AnyKind:
    """Make ``kind`` known to validation, review, planning and execution."""
    KINDS.register(kind)
    return kind


def kind_of(member: KubeModel) -> AnyKind:
    return cast(AnyKind, KINDS.of(member))


def _member(value: Change | Operation | KubeModel) -> KubeModel:
    return value.member if isinstance(value, Change | Operation) else value


async def take_snapshot(
    ports: StepPorts | KafkaPort, change: Change | KubeModel, now: datetime | None = None
) -> ObservedState:
    """Exactly the live state the change's rollback and stale check need."""
    member = _member(change)
    return await kind_of(member).snapshot(_ports(ports), member, now or datetime.now(UTC))


async def apply(
    ports: StepPorts | KafkaPort,
    operation: Operation | KubeModel,
    *,
    snapshot: ObservedState | None = None,
) -> ApplyResult:
    """Compare, then write what differs: a repeat sends nothing and says AlreadyApplied."""
    member = _member(operation)
    return await kind_of(member).apply(_ports(ports), member, snapshot)


def _ports(ports: StepPorts | KafkaPort) -> StepPorts:
    return ports if isinstance(ports, StepPorts) else StepPorts(kafka=ports)
