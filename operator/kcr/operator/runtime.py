"""Everything the handlers of one operator process share: its ports, metrics and claims."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import kopf

from kcr.operator.claims import ClaimBook
from kcr.operator.clusters import KafkaClients
from kcr.operator.kube import KubernetesPort
from kcr.operator.metrics import Metrics
from kcr.operator.prometheus import PrometheusPort
from kcr.operator.settings import OperatorConfig


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    config: OperatorConfig
    login: Callable[[], kopf.ConnectionInfo]
    kube: KubernetesPort
    kafka: KafkaClients
    prometheus: Callable[[str], PrometheusPort]
    metrics: Metrics
    claims: ClaimBook = field(default_factory=ClaimBook)
    clock: Callable[[], datetime] = utc_now
    metrics_port: int | None = None
    """The port ``/metrics`` is served on, once the operator runs."""

    async def aclose(self) -> None:
        await self.kafka.aclose()
        await self.kube.aclose()
