"""The Kubernetes port over the official client, each call run in a worker thread.

The client is synchronous; ``asyncio.to_thread`` keeps the server's event loop free, and
every request carries a timeout so no call waits for ever.
"""

import asyncio
import base64
import binascii
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from kubernetes import client
from kubernetes.config.config_exception import ConfigException

from kcr.kube.config import (
    REQUEST_TIMEOUT_SECONDS,
    KubeconfigError,
    from_kubeconfig,
    in_cluster,
)
from kcr.kube.errors import KubeError, KubeNotFoundError
from kcr.kube.objects import CustomObjects, explained
from kcr.kube.resources import CHANGE_REQUESTS, KAFKA_CLUSTERS, ApiResource, KubeObject
from kcr.mcp.kube import ReviewedUser

T = TypeVar("T")

log = logging.getLogger(__name__)


def open_kube(
    kubeconfig: str | None = None, context: str | None = None, namespace: str | None = None
) -> "KubernetesApi":
    """From the kubeconfig (``KUBECONFIG`` or ~/.kube/config), else the in-cluster account."""
    try:
        connection = from_kubeconfig(kubeconfig, context, namespace)
    except KubeconfigError as error:
        if kubeconfig is not None:
            raise
        try:
            connection = in_cluster(namespace)
        except ConfigException as inner:
            raise KubeError(
                f"no kubeconfig found ({error}) and not running in a cluster ({inner})"
            ) from inner
    return KubernetesApi(connection.api, connection.namespace)


class KubernetesApi:
    def __init__(self, api: Any, namespace: str) -> None:
        self.api = api
        self.namespace = namespace
        self._kcr = CustomObjects(api, timeout=REQUEST_TIMEOUT_SECONDS)
        self._apps: Any = client.AppsV1Api(api)
        self._core: Any = client.CoreV1Api(api)
        self._authn: Any = client.AuthenticationV1Api(api)

    async def close(self) -> None:
        await asyncio.to_thread(self.api.close)

    async def _run(self, doing: str, call: Callable[[], T]) -> T:
        with explained(doing, self.api.configuration.host):
            return await asyncio.to_thread(call)

    async def create_change_request(self, body: KubeObject) -> None:
        await self._run(
            f"creating KafkaChangeRequest {self.namespace}/{body['metadata']['name']}",
            lambda: self._kcr.create(CHANGE_REQUESTS, self.namespace, body),
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
        try:
            return await self._run(
                f"reading {resource.kind} {self.namespace}/{name}",
                lambda: self._kcr.get(resource, self.namespace, name),
            )
        except KubeNotFoundError:
            return None

    async def _list(self, resource: ApiResource) -> list[KubeObject]:
        return await self._run(
            f"listing {resource.kinds} in {self.namespace}",
            lambda: self._kcr.list(resource, self.namespace),
        )

    async def list_deployments(self, label_selector: str) -> list[KubeObject]:
        return await self._raw(
            "listing Deployments",
            lambda: self._apps.list_deployment_for_all_namespaces(
                label_selector=label_selector,
                _preload_content=False,
                _request_timeout=REQUEST_TIMEOUT_SECONDS,
            ),
        )

    async def list_replica_sets(self, namespace: str, label_selector: str) -> list[KubeObject]:
        return await self._raw(
            f"listing ReplicaSets in {namespace}",
            lambda: self._apps.list_namespaced_replica_set(
                namespace,
                label_selector=label_selector,
                _preload_content=False,
                _request_timeout=REQUEST_TIMEOUT_SECONDS,
            ),
        )

    async def _raw(self, doing: str, call: Callable[[], Any]) -> list[KubeObject]:
        response = await self._run(doing, call)
        items: list[KubeObject] = json.loads(response.data).get("items") or []
        return items

    async def read_secret(self, name: str, key: str) -> str:
        response = await self._run(
            f"reading Secret {self.namespace}/{name}",
            lambda: self._core.read_namespaced_secret(
                name,
                self.namespace,
                _preload_content=False,
                _request_timeout=REQUEST_TIMEOUT_SECONDS,
            ),
        )
        data = json.loads(response.data).get("data") or {}
        if key not in data:
            raise KubeError(f"Secret {self.namespace}/{name} has no key {key}")
        try:
            return base64.b64decode(data[key]).decode()
        except (binascii.Error, UnicodeDecodeError) as error:
            raise KubeError(f"Secret {self.namespace}/{name} key {key} is not text") from error

    async def review_token(self, token: str, audience: str) -> ReviewedUser | None:
        """Only a token issued for ``audience`` passes: the API server must say so.

        An authenticator that ignores audiences answers with none, and a token meant for the
        API server itself (or another service) must not open this one.
        """
        body: KubeObject = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": token, "audiences": [audience]},
        }
        response = await self._run(
            "reviewing a bearer token (TokenReview)",
            lambda: self._authn.create_token_review(
                body, _preload_content=False, _request_timeout=REQUEST_TIMEOUT_SECONDS
            ),
        )
        status = json.loads(response.data).get("status") or {}
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
