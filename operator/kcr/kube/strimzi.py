"""Listing a Strimzi cluster's resources, for the operator and the MCP server alike."""

from kcr.kube.client import KubeClient
from kcr.kube.errors import KubeNotFoundError
from kcr.kube.resources import KubeObject, strimzi_path
from kcr.model.strimzi import CLUSTER_LABEL


async def list_strimzi(
    client: KubeClient, namespace: str, plural: str, cluster_name: str
) -> list[KubeObject] | None:
    """The cluster's KafkaTopics or KafkaUsers; None when Strimzi's CRD is not served.

    The label selector is checked again here: a server that ignored it must not hand kcr
    another Strimzi cluster's resources.
    """
    selector = f"{CLUSTER_LABEL}={cluster_name}"
    try:
        items = await client.list_objects(
            strimzi_path(namespace, plural),
            f"listing {plural} of Strimzi cluster {namespace}/{cluster_name}",
            labelSelector=selector,
        )
    except KubeNotFoundError:
        return None
    return [i for i in items if _labels(i).get(CLUSTER_LABEL) == cluster_name]


def _labels(body: KubeObject) -> dict[str, str]:
    return dict((body.get("metadata") or {}).get("labels") or {})
