"""The Prometheus JMX exporter as a java agent on embedded brokers, for real broker metrics.

Each node serves ``/metrics`` on its own 127.0.0.1 port; the rules below name the broker
metric families kcr reads (``kcr.mcp.broker_metrics``) the way common Kafka exporter
configurations (Strimzi's among them) name them. The agent jar comes from Maven Central
through ``maven/jmx/pom.xml``.
"""

import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

from kcr.embedded.kraft import KraftError, KraftNode, resolve_classpath
from kcr.embedded.tansu import LOOPBACK, free_port

POM = Path(__file__).with_name("maven") / "jmx" / "pom.xml"
NAME = "jmx-prometheus-javaagent-1.0.1"

RULES = """\
lowercaseOutputName: true
lowercaseOutputLabelNames: true
rules:
  - pattern: "kafka.server<type=BrokerTopicMetrics, name=(BytesIn|BytesOut)PerSec, topic=(.+)><>Count"
    name: kafka_server_brokertopicmetrics_$1_total
    type: COUNTER
    labels: {topic: "$2"}
  - pattern: "kafka.server<type=BrokerTopicMetrics, name=(BytesIn|BytesOut)PerSec><>Count"
    name: kafka_server_brokertopicmetrics_$1_total
    type: COUNTER
  - pattern: "kafka.network<type=RequestMetrics, name=(TotalTimeMs|ThrottleTimeMs), request=(Produce|FetchConsumer)><>(\\\\d+)thPercentile"
    name: kafka_network_requestmetrics_$1
    type: GAUGE
    labels: {request: "$2", quantile: "0.$3"}
  - pattern: "kafka.network<type=RequestMetrics, name=(TotalTimeMs|ThrottleTimeMs), request=(Produce|FetchConsumer)><>Mean"
    name: kafka_network_requestmetrics_$1_mean
    type: GAUGE
    labels: {request: "$2"}
  - pattern: "kafka.server<type=KafkaRequestHandlerPool, name=RequestHandlerAvgIdlePercent><>OneMinuteRate"
    name: kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent
    type: GAUGE
  - pattern: "kafka.server<type=ReplicaManager, name=UnderReplicatedPartitions><>Value"
    name: kafka_server_replicamanager_underreplicatedpartitions
    type: GAUGE
  - pattern: "kafka.log<type=Log, name=Size, topic=(.+), partition=(.+)><>Value"
    name: kafka_log_log_size
    type: GAUGE
    labels: {topic: "$1", partition: "$2"}
"""


def agent_jar(*, offline: bool = False) -> str:
    return resolve_classpath(offline=offline, pom=POM, name=NAME)


@dataclass
class MetricsAgents:
    """Gives each node its ``-javaagent:`` argument and remembers its metrics port."""

    jar: str
    ports: dict[int, int] = field(default_factory=dict)

    def __call__(self, node: KraftNode) -> str:
        config = node.directory.parent / "jmx-exporter.yaml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(RULES)
        port = self.ports.setdefault(node.node_id, free_port())
        return f"{self.jar}={LOOPBACK}:{port}:{config}"


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    try:
        sys.stdout.write(f"Prometheus JMX exporter agent: {agent_jar()}\n")
    except KraftError as error:
        sys.stderr.write(f"{error}\n")
        sys.exit(1)
