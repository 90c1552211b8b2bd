"""Strimzi's KafkaTopic and KafkaUser served by the emulator, and kubectl for them.

The CRDs are written here from Strimzi's documented v1beta2 fields (KafkaTopic:
``spec.topicName``, ``partitions``, ``replicas``, ``config``; KafkaUser:
``spec.authentication``, ``authorization.acls``, ``quotas``), enough for kcr to read.
"""

from typing import Any

import httpx
from operator_harness import CLUSTER_PATH, MERGE, NAMESPACE

from kcr.embedded.kube_emulator import EmbeddedKube, declare_crd

STRIMZI = "kafka.strimzi.io"
KAFKA_NAME = "prod-kafka"


def strimzi_crd(kind: str, plural: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{STRIMZI}"},
        "spec": {
            "group": STRIMZI,
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
            "versions": [
                {
                    "name": "v1beta2",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {"type": "object", "properties": spec},
                                "status": {
                                    "type": "object",
                                    "x-kubernetes-preserve-unknown-fields": True,
                                },
                            },
                        }
                    },
                }
            ],
        },
    }


KAFKA_TOPIC_CRD = strimzi_crd(
    "KafkaTopic",
    "kafkatopics",
    {
        "topicName": {"type": "string"},
        "partitions": {"type": "integer", "minimum": 1},
        "replicas": {"type": "integer", "minimum": 1, "maximum": 32767},
        "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    },
)
KAFKA_USER_CRD = strimzi_crd(
    "KafkaUser",
    "kafkausers",
    {
        "authentication": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        "authorization": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        "quotas": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    },
)


def serve_strimzi(kube: EmbeddedKube) -> None:
    for crd in (KAFKA_TOPIC_CRD, KAFKA_USER_CRD):
        declare_crd(kube.emulator, crd)


async def manage_with_strimzi(client: httpx.AsyncClient) -> None:
    """The KafkaCluster ``prod`` says Strimzi's ``prod-kafka`` in the same namespace runs it."""
    strimzi = {"namespace": NAMESPACE, "clusterName": KAFKA_NAME}
    response = await client.patch(
        f"{CLUSTER_PATH}/prod", json={"spec": {"managedBy": {"strimzi": strimzi}}}, headers=MERGE
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
    kind = {"kafkatopics": "KafkaTopic", "kafkausers": "KafkaUser"}[plural]
    body = {
        "apiVersion": f"{STRIMZI}/v1beta2",
        "kind": kind,
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "labels": {"strimzi.io/cluster": cluster},
            "annotations": annotations or {},
        },
        "spec": spec,
    }
    response = await client.post(
        f"/apis/{STRIMZI}/v1beta2/namespaces/{NAMESPACE}/{plural}", json=body
    )
    response.raise_for_status()
