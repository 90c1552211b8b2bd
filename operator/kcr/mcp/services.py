"""Everything the tools reach: the Kafka port, the cluster, drafts, Kubernetes, runbooks."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from kcr.kafka import KafkaPort, LagReport
from kcr.mcp.cluster import ClusterContext
from kcr.mcp.connect import ConnectPort
from kcr.mcp.diagnosis import Thresholds
from kcr.mcp.drafts import DraftSink
from kcr.mcp.evidence import EvidenceLedger
from kcr.mcp.incidents import IncidentLibrary
from kcr.mcp.kube import KubePort
from kcr.mcp.prometheus import PrometheusPort
from kcr.mcp.report_snapshots import ReportSnapshots
from kcr.mcp.runbooks import RunbookLibrary
from kcr.mcp.sampler import GroupSampler, utc_now
from kcr.mcp.schemas import SchemaRegistryClient
from kcr.mcp.shared_reads import SharedReads


@dataclass
class Services:
    kafka: KafkaPort
    cluster: ClusterContext
    drafts: DraftSink
    runbooks: RunbookLibrary
    sampler: GroupSampler
    kube: KubePort | None = None
    connect: ConnectPort | None = None
    prometheus: PrometheusPort | None = None
    incidents: IncidentLibrary = field(default_factory=IncidentLibrary)
    schemas: SchemaRegistryClient | None = None
    ledger: EvidenceLedger = field(default_factory=EvidenceLedger)
    thresholds: Thresholds = field(default_factory=Thresholds)
    clock: Callable[[], datetime] = utc_now
    shared: SharedReads = field(init=False)
    lag_snapshots: ReportSnapshots[LagReport] = field(init=False)

    def __post_init__(self) -> None:
        self.shared = SharedReads(self.clock)
        self.lag_snapshots = ReportSnapshots(self.clock)
