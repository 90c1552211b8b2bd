"""The Kubernetes port of the operator: the few reads and writes kcr does beyond kopf.

kopf watches and posts Events; this port writes status, removes acted-upon annotations,
reads KafkaClusters and their Secrets, scales Deployments through their ``scale``
subresource and restarts them as ``kubectl rollout restart`` does. Status and annotations
are JSON merge patches: lists are replaced, ``null`` removes a key, so a full status
written twice is written once.
"""

import asyncio
import base64
import ssl
from collections.abc import Callable
from typing import Any, Protocol

import httpx
import kopf

from kcr.kinds.restart_workload import RESTARTED_AT
from kcr.kube.resources import CHANGE_REQUESTS, GROUP_VERSION, KAFKA_CLUSTERS

MERGE = {"Content-Type": "application/merge-patch+json"}
MAX_CONCURRENT_REQUESTS = 20
"""Requests in flight to the API server at once; the others wait their turn here.

A thousand requests reviewed at once would otherwise all queue in the HTTP client's
connection pool, which scans its whole queue each time a connection frees: the operator
spent its time in that scan, and its requests timed out while queued."""


class KubernetesError(RuntimeError):
    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def retriable(self) -> bool:
        return self.status is None or self.status in (409, 429) or self.status >= 500


class KubernetesPort(Protocol):
    async def get_cluster(self, namespace: str, name: str) -> dict[str, Any] | None: ...

    async def patch_status(
        self, namespace: str, name: str, status: dict[str, Any]
    ) -> dict[str, Any]: ...

    async def remove_annotations(self, namespace: str, name: str, keys: list[str]) -> None: ...

    async def read_secret(self, namespace: str, name: str, key: str) -> str: ...

    async def deployment_replicas(self, namespace: str, name: str) -> int | None: ...

    async def deployment_labels(self, namespace: str, name: str) -> dict[str, str] | None: ...

    async def scale_deployment(self, namespace: str, name: str, replicas: int) -> None: ...

    async def deployment_template_annotations(
        self, namespace: str, name: str
    ) -> dict[str, str] | None: ...

    async def restart_deployment(self, namespace: str, name: str, stamp: str) -> None: ...

    async def aclose(self) -> None: ...


def _path(namespace: str, plural: str, name: str, sub: str = "") -> str:
    base = f"/apis/{GROUP_VERSION}/namespaces/{namespace}/{plural}/{name}"
    return f"{base}/{sub}" if sub else base


def _deployment(namespace: str, name: str) -> str:
    return f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}"


def _scale(namespace: str, name: str) -> str:
    return f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"


class HttpKubernetes:
    """httpx over the same credentials kopf uses; logs in again once on a 401."""

    def __init__(self, login: Callable[[], kopf.ConnectionInfo], *, timeout: float = 30.0) -> None:
        self._login = login
        self._timeout = timeout
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_REQUESTS)
        self._client = self._connect(login())

    def _connect(self, info: kopf.ConnectionInfo) -> httpx.AsyncClient:
        headers = {"User-Agent": "kcr-operator"}
        if info.token:
            headers["Authorization"] = f"{info.scheme or 'Bearer'} {info.token}"
        auth = (info.username, info.password) if info.username and info.password else None
        verify: ssl.SSLContext | bool = False if info.insecure else ssl.create_default_context()
        if isinstance(verify, ssl.SSLContext):
            if info.ca_path:
                verify.load_verify_locations(cafile=info.ca_path)
            elif info.ca_data:
                data = info.ca_data
                verify.load_verify_locations(
                    cadata=data.decode() if isinstance(data, bytes) else data
                )
            if info.certificate_path and info.private_key_path:
                verify.load_cert_chain(info.certificate_path, info.private_key_path)
        return httpx.AsyncClient(
            base_url=info.server,
            headers=headers,
            auth=auth,
            verify=verify,
            timeout=self._timeout,
            limits=httpx.Limits(
                max_connections=MAX_CONCURRENT_REQUESTS,
                max_keepalive_connections=MAX_CONCURRENT_REQUESTS,
            ),
        )

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        for attempt in range(2):
            try:
                async with self._slots:
                    response = await self._client.request(method, path, **kwargs)
            except httpx.HTTPError as error:
                raise KubernetesError(f"{method} {path}: {error}") from error
            if response.status_code == 401 and attempt == 0:
                await self._client.aclose()
                self._client = self._connect(self._login())
                continue
            return response
        return response

    async def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any] | None:
        response = await self._request(method, path, **kwargs)
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise KubernetesError(
                f"{method} {path}: HTTP {response.status_code}: {_reason(response)}",
                status=response.status_code,
            )
        body: dict[str, Any] = response.json()
        return body

    async def _must(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        body = await self._json(method, path, **kwargs)
        if body is None:
            raise KubernetesError(f"{method} {path}: not found", status=404)
        return body

    async def get_cluster(self, namespace: str, name: str) -> dict[str, Any] | None:
        return await self._json("GET", _path(namespace, KAFKA_CLUSTERS.plural, name))

    async def patch_status(
        self, namespace: str, name: str, status: dict[str, Any]
    ) -> dict[str, Any]:
        path = _path(namespace, CHANGE_REQUESTS.plural, name, "status")
        return await self._must("PATCH", path, json={"status": status}, headers=MERGE)

    async def remove_annotations(self, namespace: str, name: str, keys: list[str]) -> None:
        patch = {"metadata": {"annotations": dict.fromkeys(keys)}}
        path = _path(namespace, CHANGE_REQUESTS.plural, name)
        await self._must("PATCH", path, json=patch, headers=MERGE)

    async def read_secret(self, namespace: str, name: str, key: str) -> str:
        secret = await self._must("GET", f"/api/v1/namespaces/{namespace}/secrets/{name}")
        data = (secret.get("data") or {}).get(key)
        if data is None:
            raise KubernetesError(f"secret {namespace}/{name} has no key {key}", status=404)
        return base64.b64decode(data).decode()

    async def deployment_replicas(self, namespace: str, name: str) -> int | None:
        scale = await self._json("GET", _scale(namespace, name))
        if scale is None:
            return None
        return int((scale.get("spec") or {}).get("replicas", 0))

    async def deployment_labels(self, namespace: str, name: str) -> dict[str, str] | None:
        """The labels that say which consumer group a Deployment runs; None when it is gone."""
        path = f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}"
        body = await self._json("GET", path)
        if body is None:
            return None
        labels = (body.get("metadata") or {}).get("labels") or {}
        return {str(key): str(value) for key, value in labels.items()}

    async def scale_deployment(self, namespace: str, name: str, replicas: int) -> None:
        patch = {"spec": {"replicas": replicas}}
        await self._must("PATCH", _scale(namespace, name), json=patch, headers=MERGE)

    async def deployment_template_annotations(
        self, namespace: str, name: str
    ) -> dict[str, str] | None:
        body = await self._json("GET", _deployment(namespace, name))
        if body is None:
            return None
        template = (body.get("spec") or {}).get("template") or {}
        annotations = (template.get("metadata") or {}).get("annotations") or {}
        return {str(key): str(value) for key, value in annotations.items()}

    async def restart_deployment(self, namespace: str, name: str, stamp: str) -> None:
        """What ``kubectl rollout restart`` sends: a new pod template, so new pods."""
        patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
        await self._must("PATCH", _deployment(namespace, name), json=patch, headers=MERGE)

    async def aclose(self) -> None:
        await self._client.aclose()


def _reason(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message", response.text))[:500]
    except ValueError:
        return response.text[:500]
