"""The Kubernetes port of the MCP server: change requests, clusters, workloads, identity,
Strimzi's resources.

Objects travel as plain JSON dictionaries (camelCase, as the API serves them); the tools
parse what they need with the kcr models. :mod:`kcr.mcp.kube_client` implements it over
kcr's one client (:mod:`kcr.kube.client`); tests run it against the kmock emulator and the
real API server.
"""

from dataclasses import dataclass
from typing import Protocol

from kcr.kube.resources import KubeObject


@dataclass(frozen=True)
class ReviewedUser:
    """Who the API server says a bearer token belongs to (TokenReview)."""

    username: str
    groups: list[str]


class KubePort(Protocol):
    namespace: str

    async def create_change_request(self, body: KubeObject) -> None:
        """Create in ``namespace``; ``KubeConflictError`` when the name is taken."""
        ...

    async def get_change_request(self, name: str) -> KubeObject | None: ...

    async def list_change_requests(self) -> list[KubeObject]: ...

    async def get_kafka_cluster(self, name: str) -> KubeObject | None: ...

    async def list_kafka_clusters(self) -> list[KubeObject]: ...

    async def list_deployments(self, label_selector: str) -> list[KubeObject]:
        """Deployments in every namespace the server may read, matching the selector."""
        ...

    async def list_replica_sets(self, namespace: str, label_selector: str) -> list[KubeObject]:
        """ReplicaSets of one namespace: their revisions are a Deployment's rollouts."""
        ...

    async def read_secret(self, name: str, key: str) -> str: ...

    async def list_strimzi(
        self, namespace: str, plural: str, cluster_name: str
    ) -> list[KubeObject] | None:
        """A Strimzi cluster's KafkaTopics or KafkaUsers (read only: kcr writes none of
        Strimzi's resources); None when the API server does not serve the kind."""
        ...

    async def review_token(self, token: str, audience: str) -> ReviewedUser | None:
        """Who the token belongs to, if the API server says it was issued for ``audience``."""
        ...

    async def close(self) -> None: ...
