"""Reading the live Kafka state a request depends on, through the Kafka port.

The KafkaCluster and its credentials are read with the person's own Kubernetes access;
the port's ``snapshot`` reads exactly what the operator's stale check reads.
"""

import asyncio
from datetime import UTC, datetime

from pydantic import ValidationError

from kcr import kinds
from kcr.kafka import KafkaPortError
from kcr.kafka.connect import open_kafka
from kcr.kafka.credentials import resolve_credentials
from kcr.kafka.port import KafkaPort
from kcr.kube.errors import KubeError
from kcr.kubectl.client import PluginKube
from kcr.kubectl.diff import observed_diff
from kcr.model import KafkaChangeRequestSpec, KafkaClusterSpec, ObservedState, explain
from kcr.model.cluster import SecretKeyRef

DIFF_TIMEOUT_SECONDS = 60.0


async def cluster_spec(kube: PluginKube, name: str) -> KafkaClusterSpec:
    raw = await kube.get_cluster(name)
    try:
        return KafkaClusterSpec.model_validate(raw.get("spec") or {})
    except ValidationError as error:
        raise KubeError(f"KafkaCluster {name} is invalid: {'; '.join(explain(error))}") from error


async def live_state(
    kube: PluginKube, spec: KafkaChangeRequestSpec, bootstrap: str | None = None
) -> ObservedState:
    """``bootstrap`` replaces the KafkaCluster's servers when they are only reachable from
    inside the cluster (a port-forward or NodePort from here); credentials stay its own."""
    cluster = await cluster_spec(kube, spec.cluster)
    if bootstrap:
        cluster = cluster.model_copy(update={"bootstrap_servers": bootstrap})

    async def read(ref: SecretKeyRef) -> str:
        return await kube.read_secret(ref.name, ref.key)

    port: KafkaPort = open_kafka(cluster, await resolve_credentials(cluster, read))
    try:
        return await kinds.take_snapshot(port, spec.change, datetime.now(UTC))
    finally:
        await port.close()


def diff_against_live(
    kube: PluginKube, spec: KafkaChangeRequestSpec, bootstrap: str | None = None
) -> list[str]:
    """The unified diff from ``spec.observed`` to Kafka now; Kafka errors read as KubeError."""

    async def bounded() -> ObservedState:
        return await asyncio.wait_for(live_state(kube, spec, bootstrap), DIFF_TIMEOUT_SECONDS)

    try:
        live = kube.run(bounded())
    except KafkaPortError as error:
        raise KubeError(f"reading Kafka for cluster {spec.cluster}: {error}") from error
    except TimeoutError as error:
        raise KubeError(
            f"reading Kafka for cluster {spec.cluster} took over {DIFF_TIMEOUT_SECONDS:.0f}s"
        ) from error
    return observed_diff(spec.observed, live)
