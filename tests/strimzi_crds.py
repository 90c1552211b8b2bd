"""Strimzi's KafkaTopic, KafkaUser and KafkaRebalance as CRDs any test emulator can serve.

Written from Strimzi's documented v1beta2 fields (KafkaTopic: ``spec.topicName``,
``partitions``, ``replicas``, ``config``; KafkaUser: ``spec.authentication``,
``authorization.acls``, ``quotas``; KafkaRebalance: ``spec.mode``, ``brokers``, ``goals``,
``skipHardGoalCheck`` and the movement limits), enough for kcr to read and for a person to
apply what kcr drafts.
"""

from typing import Any

from kcr.embedded.kube_emulator import EmbeddedKube, declare_crd

STRIMZI = "kafka.strimzi.io"
VERSION = "v1beta2"
KINDS = {
    "kafkatopics": "KafkaTopic",
    "kafkausers": "KafkaUser",
    "kafkarebalances": "KafkaRebalance",
}


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
                    "name": VERSION,
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


FREE_OBJECT = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
KAFKA_TOPIC_CRD = strimzi_crd(
    "KafkaTopic",
    "kafkatopics",
    {
        "topicName": {"type": "string"},
        "partitions": {"type": "integer", "minimum": 1},
        "replicas": {"type": "integer", "minimum": 1, "maximum": 32767},
        "config": FREE_OBJECT,
    },
)
KAFKA_USER_CRD = strimzi_crd(
    "KafkaUser",
    "kafkausers",
    {"authentication": FREE_OBJECT, "authorization": FREE_OBJECT, "quotas": FREE_OBJECT},
)
KAFKA_REBALANCE_CRD = strimzi_crd(
    "KafkaRebalance",
    "kafkarebalances",
    {
        "mode": {
            "type": "string",
            "enum": ["full", "add-brokers", "remove-brokers", "remove-disks"],
        },
        "brokers": {"type": "array", "items": {"type": "integer"}},
        "goals": {"type": "array", "items": {"type": "string"}},
        "skipHardGoalCheck": {"type": "boolean"},
        "excludedTopics": {"type": "string"},
        "concurrentPartitionMovementsPerBroker": {"type": "integer", "minimum": 0},
        "concurrentLeaderMovements": {"type": "integer", "minimum": 0},
        "replicationThrottle": {"type": "integer", "minimum": 0},
    },
)


def serve_strimzi(kube: EmbeddedKube) -> None:
    for crd in (KAFKA_TOPIC_CRD, KAFKA_USER_CRD, KAFKA_REBALANCE_CRD):
        declare_crd(kube.emulator, crd)


def strimzi_body(
    plural: str,
    namespace: str,
    name: str,
    spec: dict[str, Any],
    *,
    cluster: str,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "apiVersion": f"{STRIMZI}/{VERSION}",
        "kind": KINDS[plural],
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"strimzi.io/cluster": cluster},
            "annotations": annotations or {},
        },
        "spec": spec,
    }


def strimzi_path(namespace: str, plural: str) -> str:
    return f"/apis/{STRIMZI}/{VERSION}/namespaces/{namespace}/{plural}"


def requests_to(kube: EmbeddedKube, plural: str) -> list[tuple[str, str]]:
    """(method, path) of every request the emulator kept that named ``plural``; set the
    emulator's ``kept_requests`` high enough first."""
    return [
        (str(r.method.value).upper(), r.url.path)
        for r in list(kube.emulator)
        if r.resource is not None and r.resource.plural == plural
    ]
