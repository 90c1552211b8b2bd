"""Strimzi served by the emulator for the operator tests, and kubectl for its resources."""

from typing import Any

import httpx
from operator_harness import CLUSTER_PATH, MERGE, NAMESPACE
from tests.strimzi_crds import serve_strimzi, strimzi_body, strimzi_path

KAFKA_NAME = "prod-kafka"

__all__ = ["KAFKA_NAME", "create_strimzi", "manage_with_strimzi", "serve_strimzi"]


async def manage_with_strimzi(client: httpx.AsyncClient, **strimzi: Any) -> None:
    """The KafkaCluster ``prod`` says Strimzi's ``prod-kafka`` in the same namespace runs it."""
    declared = {"namespace": NAMESPACE, "clusterName": KAFKA_NAME, **strimzi}
    response = await client.patch(
        f"{CLUSTER_PATH}/prod", json={"spec": {"managedBy": {"strimzi": declared}}}, headers=MERGE
    )
    response.raise_for_status()


async def create_strimzi(
    client: httpx.AsyncClient,
    plural: str,
    name: str,
    spec: dict[str, Any],
    *,
    cluster: str = KAFKA_NAME,
    annotations: dict[str, str] | None = None,
) -> None:
    body = strimzi_body(plural, NAMESPACE, name, spec, cluster=cluster, annotations=annotations)
    response = await client.post(strimzi_path(NAMESPACE, plural), json=body)
    response.raise_for_status()
