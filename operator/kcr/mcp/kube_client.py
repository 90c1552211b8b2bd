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

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from urllib3.exceptions import HTTPError

from kcr.mcp.kube import (
    CLUSTERS,
    GROUP,
    REQUESTS,
    VERSION,
    KubeConflictError,
    KubeError,
    KubeNotFoundError,
    KubeObject,
    ReviewedUser,
)

REQUEST_TIMEOUT_SECONDS = 10.0
T = TypeVar("T")
# The config loaders are untyped; the client APIs are typed for preloaded models, while
# these calls ask for the raw JSON (``_preload_content=False``).
_config: Any = config

log = logging.getLogger(__name__)


def open_kube(
    kubeconfig: str | None = None, context: str | None = None, namespace: str | None = None
) -> "KubernetesApi":
    """From the kubeconfig (``KUBECONFIG`` or ~/.kube/config), else the in-cluster account."""
    try:
        api = _config.new_client_from_config(
            config_file=kubeconfig, context=context, persist_config=False
        )
        chosen = namespace or _context_namespace(kubeconfig, context)
    except (ConfigException, FileNotFoundError, TypeError) as error:
        if kubeconfig is not None:
            raise KubeError(f"cannot load the kubeconfig {kubeconfig}: {error}") from error
        try:
            _config.load_incluster_config()
        except ConfigException as inner:
            raise KubeError(
                f"no kubeconfig found ({error}) and not running in a cluster ({inner})"
            ) from inner
        api = client.ApiClient()
        chosen = namespace or _incluster_namespace()
    return KubernetesApi(api, chosen)


def _context_namespace(kubeconfig: str | None, context: str | None) -> str:
    contexts, active = _config.list_kube_config_contexts(config_file=kubeconfig)
    if context is not None:
        active = next((c for c in contexts if c["name"] == context), active)
    namespace: str = (active or {}).get("context", {}).get("namespace") or "default"
    return namespace


def _incluster_namespace() -> str:
    path = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip() or "default"
    except OSError:
        return "default"


class KubernetesApi:
    def __init__(self, api: Any, namespace: str) -> None:
        self.api = api
        self.namespace = namespace
        self._objects: Any = client.CustomObjectsApi(api)
        self._apps: Any = client.AppsV1Api(api)
        self._core: Any = client.CoreV1Api(api)
        self._authn: Any = client.AuthenticationV1Api(api)

    async def close(self) -> None:
        await asyncio.to_thread(self.api.close)

    async def _run(self, doing: str, call: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(call)
        except ApiException as error:
            raise _explain(error, doing) from error
        except (HTTPError, OSError) as error:
            raise KubeError(f"{doing}: the Kubernetes API did not answer: {error}") from error

    async def create_change_request(self, body: KubeObject) -> None:
        await self._run(
            f"creating KafkaChangeRequest {self.namespace}/{body['metadata']['name']}",
            lambda: self._objects.create_namespaced_custom_object(
                GROUP,
                VERSION,
                self.namespace,
                REQUESTS,
                body,
                _request_timeout=REQUEST_TIMEOUT_SECONDS,
            ),
        )

    async def get_change_request(self, name: str) -> KubeObject | None:
        return await self._get(REQUESTS, name, "KafkaChangeRequest")

    async def list_change_requests(self) -> list[KubeObject]:
        return await self._list(REQUESTS, "KafkaChangeRequests")

    async def get_kafka_cluster(self, name: str) -> KubeObject | None:
        return await self._get(CLUSTERS, name, "KafkaCluster")

    async def list_kafka_clusters(self) -> list[KubeObject]:
        return await self._list(CLUSTERS, "KafkaClusters")

    async def _get(self, plural: str, name: str, kind: str) -> KubeObject | None:
        try:
            found: KubeObject = await self._run(
                f"reading {kind} {self.namespace}/{name}",
                lambda: self._objects.get_namespaced_custom_object(
                    GROUP,
                    VERSION,
                    self.namespace,
                    plural,
                    name,
                    _request_timeout=REQUEST_TIMEOUT_SECONDS,
                ),
            )
        except KubeNotFoundError:
            return None
        return found

    async def _list(self, plural: str, kinds: str) -> list[KubeObject]:
        found = await self._run(
            f"listing {kinds} in {self.namespace}",
            lambda: self._objects.list_namespaced_custom_object(
                GROUP, VERSION, self.namespace, plural, _request_timeout=REQUEST_TIMEOUT_SECONDS
            ),
        )
        items: list[KubeObject] = (found or {}).get("items", [])
        return items

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

    async def review_token(self, token: str) -> ReviewedUser | None:
        body: KubeObject = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": token},
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
        return ReviewedUser(username=str(user["username"]), groups=list(user.get("groups") or []))


def _explain(error: ApiException, doing: str) -> KubeError:
    message = error.reason or "error"
    if error.body:
        try:
            message = json.loads(error.body).get("message", message)
        except (ValueError, AttributeError):
            message = str(error.body)[:500]
    text = f"{doing}: {message} (HTTP {error.status})"
    if error.status == 404:
        return KubeNotFoundError(text)
    if error.status == 409:
        return KubeConflictError(text)
    return KubeError(text)
