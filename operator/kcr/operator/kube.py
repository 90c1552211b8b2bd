"""The Kubernetes port of the operator: the few reads and writes kcr does beyond kopf.

kopf watches and posts Events; this port writes status, removes acted-upon annotations,
reads KafkaClusters and their Secrets, scales Deployments through their ``scale``
subresource and restarts them as ``kubectl rollout restart`` does. Status and annotations
are JSON merge patches: lists are replaced, ``null`` removes a key, so a full status
written twice is written once. Failures are :class:`~kcr.kube.errors.KubeError`, whose
``retriable`` says whether to try again.
"""

from typing import Any, Protocol

from kcr.kinds.restart_workload import RESTARTED_AT
from kcr.kube.client import KubeClient
from kcr.kube.resources import CHANGE_REQUESTS, KAFKA_CLUSTERS, deployment_path
from kcr.kube.secrets import read_secret
from kcr.kube.strimzi import list_strimzi

OPERATOR_TIMEOUT_SECONDS = 30.0


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

    async def strimzi_objects(
        self, namespace: str, plural: str, cluster_name: str
    ) -> list[dict[str, Any]] | None: ...

    async def aclose(self) -> None: ...


class OperatorKube:
    """The port over kcr's client, logged in as kopf is (see :mod:`kcr.operator.login`)."""

    def __init__(self, client: KubeClient) -> None:
        self._client = client

    async def get_cluster(self, namespace: str, name: str) -> dict[str, Any] | None:
        return await self._client.find(
            KAFKA_CLUSTERS.path(namespace, name), f"reading KafkaCluster {namespace}/{name}"
        )

    async def patch_status(
        self, namespace: str, name: str, status: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._client.merge_patch(
            CHANGE_REQUESTS.path(namespace, name, "status"),
            {"status": status},
            f"writing the status of KafkaChangeRequest {namespace}/{name}",
        )

    async def remove_annotations(self, namespace: str, name: str, keys: list[str]) -> None:
        await self._client.merge_patch(
            CHANGE_REQUESTS.path(namespace, name),
            {"metadata": {"annotations": dict.fromkeys(keys)}},
            f"removing annotations {', '.join(keys)} from KafkaChangeRequest {namespace}/{name}",
        )

    async def read_secret(self, namespace: str, name: str, key: str) -> str:
        return await read_secret(self._client, namespace, name, key)

    async def deployment_replicas(self, namespace: str, name: str) -> int | None:
        scale = await self._client.find(
            deployment_path(namespace, name, "scale"),
            f"reading the scale of Deployment {namespace}/{name}",
        )
        if scale is None:
            return None
        return int((scale.get("spec") or {}).get("replicas", 0))

    async def deployment_labels(self, namespace: str, name: str) -> dict[str, str] | None:
        """The labels that say which consumer group a Deployment runs; None when it is gone."""
        body = await self._client.find(
            deployment_path(namespace, name), f"reading Deployment {namespace}/{name}"
        )
        if body is None:
            return None
        labels = (body.get("metadata") or {}).get("labels") or {}
        return {str(key): str(value) for key, value in labels.items()}

    async def scale_deployment(self, namespace: str, name: str, replicas: int) -> None:
        await self._client.merge_patch(
            deployment_path(namespace, name, "scale"),
            {"spec": {"replicas": replicas}},
            f"scaling Deployment {namespace}/{name} to {replicas} replicas",
        )

    async def deployment_template_annotations(
        self, namespace: str, name: str
    ) -> dict[str, str] | None:
        body = await self._client.find(
            deployment_path(namespace, name), f"reading Deployment {namespace}/{name}"
        )
        if body is None:
            return None
        template = (body.get("spec") or {}).get("template") or {}
        annotations = (template.get("metadata") or {}).get("annotations") or {}
        return {str(key): str(value) for key, value in annotations.items()}

    async def restart_deployment(self, namespace: str, name: str, stamp: str) -> None:
        """What ``kubectl rollout restart`` sends: a new pod template, so new pods."""
        await self._client.merge_patch(
            deployment_path(namespace, name),
            {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}},
            f"restarting Deployment {namespace}/{name}",
        )

    async def strimzi_objects(
        self, namespace: str, plural: str, cluster_name: str
    ) -> list[dict[str, Any]] | None:
        """The cluster's KafkaTopics or KafkaUsers; None when Strimzi's CRD is not served."""
        return await list_strimzi(self._client, namespace, plural, cluster_name)

    async def aclose(self) -> None:
        await self._client.aclose()
