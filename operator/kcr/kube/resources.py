"""The kcr.dev API group, the custom resources kcr reads and writes in it, and their paths.

Kept apart from any client so the operator, the MCP server and the kubectl plugin name the
same group, version and plurals without importing each other.
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

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

    def path(self, namespace: str | None, name: str = "", subresource: str = "") -> str:
        """The collection in ``namespace`` (every namespace when None), or one object."""
        where = f"/namespaces/{segment(namespace)}" if namespace is not None else ""
        path = f"/apis/{GROUP_VERSION}{where}/{self.plural}"
        if name:
            path += f"/{segment(name)}"
        if subresource:
            path += f"/{subresource}"
        return path


CHANGE_REQUESTS = ApiResource("KafkaChangeRequest", "kafkachangerequests")
KAFKA_CLUSTERS = ApiResource("KafkaCluster", "kafkaclusters")


def strimzi_path(namespace: str, plural: str) -> str:
    """A Strimzi collection (``kafkatopics``, ``kafkausers``) in one namespace."""
    return f"/apis/kafka.strimzi.io/v1beta2/namespaces/{segment(namespace)}/{segment(plural)}"


def deployment_path(namespace: str, name: str, subresource: str = "") -> str:
    path = f"/apis/apps/v1/namespaces/{segment(namespace)}/deployments/{segment(name)}"
    return f"{path}/{subresource}" if subresource else path


def segment(value: str) -> str:
    """One path segment, whatever a caller (or a model's argument) put in the name: a slash
    is escaped and a dot-only name cannot climb to another resource's path."""
    if value.strip(".") == "":
        return value.replace(".", "%2E")
    return quote(value, safe="")
