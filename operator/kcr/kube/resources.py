"""The kcr.dev API group and the custom resources kcr reads and writes in it.

Kept apart from any client so the operator's httpx port, the MCP server and the kubectl
plugin name the same group, version and plurals without importing each other.
"""

from dataclasses import dataclass
from typing import Any

GROUP = "kcr.dev"
VERSION = "v1alpha1"
GROUP_VERSION = f"{GROUP}/{VERSION}"

KubeObject = dict[str, Any]
"""An object as the API serves it: plain JSON, camelCase; the kcr models parse it."""


@dataclass(frozen=True)
class ApiResource:
    """A kcr.dev custom resource: its kind for messages, its plural for URLs."""

    kind: str
    plural: str

    @property
    def kinds(self) -> str:
        return f"{self.kind}s"


CHANGE_REQUESTS = ApiResource("KafkaChangeRequest", "kafkachangerequests")
KAFKA_CLUSTERS = ApiResource("KafkaCluster", "kafkaclusters")
