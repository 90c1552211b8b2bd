"""From a request's ``spec.cluster`` to a Kafka port: the KafkaCluster, its Secrets, a client.

Clients are kept per KafkaCluster and replaced when its spec changes, so a rotated
password or a new bootstrap address is picked up without a restart.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError

from kcr.kafka import KafkaPort
from kcr.kafka.credentials import Credentials, resolve_credentials
from kcr.kube.errors import KubeError
from kcr.model import KafkaClusterSpec, explain
from kcr.model.cluster import SecretKeyRef
from kcr.operator.kube import KubernetesPort
from kcr.operator.metrics import Metrics

KafkaFactory = Callable[[KafkaClusterSpec, Credentials], KafkaPort]


@dataclass(frozen=True)
class ClusterRead:
    spec: KafkaClusterSpec | None
    problem: str = ""


async def read_cluster(kube: KubernetesPort, namespace: str, name: str) -> ClusterRead:
    try:
        body = await kube.get_cluster(namespace, name)
    except KubeError as error:
        return ClusterRead(None, f"KafkaCluster {namespace}/{name} could not be read: {error}")
    if body is None:
        return ClusterRead(None, f"KafkaCluster {namespace}/{name} was not found")
    try:
        return ClusterRead(KafkaClusterSpec.model_validate(body.get("spec") or {}))
    except ValidationError as error:
        lines = "; ".join(explain(error, root="spec"))
        return ClusterRead(None, f"KafkaCluster {namespace}/{name} is invalid: {lines}")


class KafkaClients:
    def __init__(self, kube: KubernetesPort, factory: KafkaFactory, metrics: Metrics) -> None:
        self._kube = kube
        self._factory = factory
        self._metrics = metrics
        self._ports: dict[tuple[str, str], tuple[str, KafkaPort]] = {}

    async def port(self, namespace: str, name: str, spec: KafkaClusterSpec) -> KafkaPort:
        key = (namespace, name)
        fingerprint = json.dumps(spec.model_dump(mode="json"), sort_keys=True)
        known = self._ports.get(key)
        if known is not None and known[0] == fingerprint:
            return known[1]

        async def read(ref: SecretKeyRef) -> str:
            return await self._kube.read_secret(namespace, ref.name, ref.key)

        credentials = await resolve_credentials(spec, read)
        port = self._metrics.timed_kafka(self._factory(spec, credentials))
        self._ports[key] = (fingerprint, port)
        if known is not None:
            await known[1].close()
        return port

    async def aclose(self) -> None:
        for _, port in self._ports.values():
            await port.close()
        self._ports.clear()
