"""Read a Strimzi-managed cluster's KafkaTopics and KafkaUsers when the engine asks."""

from kcr.engine import StrimziRead
from kcr.kube.errors import KubeError
from kcr.model import KafkaClusterSpec
from kcr.model.strimzi import strimzi_resources
from kcr.operator.kube import KubernetesPort


async def read_strimzi(kube: KubernetesPort, cluster: KafkaClusterSpec | None) -> StrimziRead:
    """A problem when they could not be read, or Strimzi no longer manages the cluster."""
    managed = cluster.managed_by.strimzi if cluster and cluster.managed_by else None
    if managed is None:
        return StrimziRead(None, "the KafkaCluster no longer names a Strimzi cluster")
    where = f"{managed.namespace}/{managed.cluster_name}"
    try:
        topics = await kube.strimzi_objects(managed.namespace, "kafkatopics", managed.cluster_name)
        users = await kube.strimzi_objects(managed.namespace, "kafkausers", managed.cluster_name)
    except KubeError as error:
        return StrimziRead(None, f"Strimzi cluster {where} could not be read: {error}")
    return StrimziRead(strimzi_resources(managed, topics, users))
