"""The MCP server's Kubernetes port over kcr's one client (:mod:`kcr.kube.client`).

The server acts as its own identity (its ServiceAccount, or the kubeconfig it was given);
every call carries a timeout so no tool waits for ever.
"""

import logging
from collections.abc import Callable
from functools import partial

from kcr.kube.client import KubeClient
from kcr.kube.config import (
    REQUEST_TIMEOUT_SECONDS,
    Credentials,
    KubeconfigError,
    NotInClusterError,
    from_kubeconfig,
    in_cluster,
    load_in_cluster,
    load_kubeconfig,
)
from kcr.kube.errors import KubeError
from kcr.kube.resources import CHANGE_REQUESTS, KAFKA_CLUSTERS, ApiResource, KubeObject, segment
from kcr.kube.secrets import read_secret
from kcr.kube.strimzi import list_strimzi
from kcr.mcp.kube import ReviewedUser

log = logging.getLogger(__name__)


def open_kube(
    kubeconfig: str | None = None, context: str | None = None, namespace: str | None = None
) -> "KubernetesApi":
    """From the kubeconfig (``KUBECONFIG`` or ~/.kube/config), else the in-cluster account."""
    login: Callable[[], Credentials] = partial(load_kubeconfig, kubeconfig, context)
    try:
        connection = from_kubeconfig(kubeconfig, context, namespace)
    except KubeconfigError as error:
        if kubeconfig is not None:
            raise
        try:
            connection = in_cluster(namespace)
        except NotInClusterError as inner:
            raise KubeError(
                f"no kubeconfig found ({error}) and not running in a cluster ({inner})"
            ) from inner
        login = load_in_cluster
    client = KubeClient(
        login,
        timeout=REQUEST_TIMEOUT_SECONDS,
        user_agent="kcr-mcp",
        credentials=connection.credentials,
    )
    return KubernetesApi(client, connection.namespace)


class KubernetesApi:
    def __init__(self, client: KubeClient, namespace: str) -> None:
        self.client = client
        self.namespace = namespace

    async def close(self) -> None:
        await self.client.aclose()

    async def create_change_request(self, body: KubeObject) -> None:
        await self.client.create(
            CHANGE_REQUESTS.path(self.namespace),
            body,
            f"creating KafkaChangeRequest {self.namespace}/{body['metadata']['name']}",
        )

    async def get_change_request(self, name: str) -> KubeObject | None:
        return await self._get(CHANGE_REQUESTS, name)

    async def list_change_requests(self) -> list[KubeObject]:
        return await self._list(CHANGE_REQUESTS)

    async def get_kafka_cluster(self, name: str) -> KubeObject | None:
        return await self._get(KAFKA_CLUSTERS, name)

    async def list_kafka_clusters(self) -> list[KubeObject]:
        return await self._list(KAFKA_CLUSTERS)

    async def _get(self, resource: ApiResource, name: str) -> KubeObject | None:
        return await self.client.find(
            resource.path(self.namespace, name), f"reading {resource.kind} {self.namespace}/{name}"
        )

    async def _list(self, resource: ApiResource) -> list[KubeObject]:
        return await self.client.list_objects(
            resource.path(self.namespace), f"listing {resource.kinds} in {self.namespace}"
        )

    async def list_deployments(self, label_selector: str) -> list[KubeObject]:
        return await self.client.list_objects(
            "/apis/apps/v1/deployments", "listing Deployments", labelSelector=label_selector
        )

    async def list_replica_sets(self, namespace: str, label_selector: str) -> list[KubeObject]:
        return await self.client.list_objects(
            f"/apis/apps/v1/namespaces/{segment(namespace)}/replicasets",
            f"listing ReplicaSets in {namespace}",
            labelSelector=label_selector,
        )

    async def read_secret(self, name: str, key: str) -> str:
        return await read_secret(self.client, self.namespace, name, key)

    async def list_strimzi(
        self, namespace: str, plural: str, cluster_name: str
    ) -> list[KubeObject] | None:
        return await list_strimzi(self.client, namespace, plural, cluster_name)

    async def review_token(self, token: str, audience: str) -> ReviewedUser | None:
        """Only a token issued for ``audience`` passes: the API server must say so.

        An authenticator that ignores audiences answers with none, and a token meant for the
        API server itself (or another service) must not open this one.
        """
        review = await self.client.create(
            "/apis/authentication.k8s.io/v1/tokenreviews",
            {
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenReview",
                "spec": {"token": token, "audiences": [audience]},
            },
            "reviewing a bearer token (TokenReview)",
        )
        status = review.get("status") or {}
        user = status.get("user") or {}
        if not status.get("authenticated") or not user.get("username"):
            log.info("TokenReview refused a token", extra={"reason": status.get("error", "")})
            return None
        if audience not in (status.get("audiences") or []):
            log.info(
                "TokenReview accepted a token not issued for this server",
                extra={"audience": audience, "audiences": status.get("audiences") or []},
            )
            return None
        return ReviewedUser(username=str(user["username"]), groups=list(user.get("groups") or []))
