"""The Prometheus JMX exporter as a java agent on embedded brokers, for real broker metrics.

Each node serves ``/metrics`` on its own 127.0.0.1 port; the rules in
``maven/jmx/jmx-exporter.yaml`` name the broker metric families kcr reads
(``kcr.mcp.broker_metrics``) the way common Kafka exporter configurations (Strimzi's among
them) name them. The agent jar comes from Maven Central
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

RULES = Path(__file__).with_name("maven") / "jmx" / "jmx-exporter.yaml"


def agent_jar(*, offline: bool = False) -> str:
    return resolve_classpath(offline=offline, pom=POM, name=NAME)


@dataclass
class MetricsAgents:
    """Gives each node its ``-javaagent:`` argument and remembers its metrics port."""

    jar: str
    ports: dict[int, int] = field(default_factory=dict)

    def __call__(self, node: KraftNode) -> str:
        port = self.ports.setdefault(node.node_id, free_port())
        return f"{self.jar}={LOOPBACK}:{port}:{RULES}"


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    try:
        sys.stdout.write(f"Prometheus JMX exporter agent: {agent_jar()}\n")
    except KraftError as error:
        sys.stderr.write(f"{error}\n")
        sys.exit(1)
