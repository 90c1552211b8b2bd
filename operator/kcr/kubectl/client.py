"""The Kubernetes side of the kubectl plugin: kubeconfig, KafkaChangeRequests, identity.

Everything goes through the official client with the user's own kubeconfig, so RBAC and
the kcr-approvals admission policy see the person, not kcr.
"""

import base64
import logging
from dataclasses import dataclass
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from kcr.kube.config import from_kubeconfig
from kcr.kube.errors import KubeError, explain, unreachable
from kcr.kube.objects import CustomObjects, explained
from kcr.kube.resources import CHANGE_REQUESTS, KAFKA_CLUSTERS, ApiResource, KubeObject

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None


class KubeClient:
    def __init__(self, target: Target) -> None:
        connection = from_kubeconfig(target.kubeconfig, target.context, target.namespace)
        self.api = connection.api
        self.namespace = connection.namespace
        self.server = str(self.api.configuration.host)
        self.objects = CustomObjects(self.api)

    def close(self) -> None:
        self.api.close()

    def whoami(self) -> str | None:
        """The user name the API server authenticates us as (SelfSubjectReview, 1.28+)."""
        doing = "asking who you are"
        try:
            review = client.AuthenticationV1Api(self.api).create_self_subject_review(
                client.V1SelfSubjectReview()
            )
        except ApiException as error:
            if error.status in {404, 405}:
                log.debug("SelfSubjectReview is not served: %s", error.reason)
                return None
            raise explain(error, doing) from error
        except (HTTPError, OSError) as error:
            raise unreachable(error, self.server, doing) from error
        user = review.status.user_info if review is not None and review.status else None
        return user.username if user is not None and user.username else None

    def list_requests(self, namespace: str | None) -> list[KubeObject]:
        """Requests in ``namespace``, or in every namespace when it is None."""
        with explained(f"listing {CHANGE_REQUESTS.kinds}", self.server):
            items = self.objects.list(CHANGE_REQUESTS, namespace)
        return sorted(
            items,
            key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]),
        )

    def get_request(self, name: str) -> KubeObject:
        return self._get(CHANGE_REQUESTS, name)

    def get_cluster(self, name: str) -> KubeObject:
        return self._get(KAFKA_CLUSTERS, name)

    def _get(self, resource: ApiResource, name: str) -> KubeObject:
        with explained(f"reading {resource.kind} {self.namespace}/{name}", self.server):
            return self.objects.get(resource, self.namespace, name)

    def patch_annotations(
        self, name: str, annotations: dict[str, str | None], resource_version: str
    ) -> KubeObject:
        """Merge-patch annotations, only if nobody wrote the object since we read it."""
        body: dict[str, Any] = {
            "metadata": {"annotations": annotations, "resourceVersion": resource_version}
        }
        with explained(f"annotating KafkaChangeRequest {self.namespace}/{name}", self.server):
            return self.objects.patch(CHANGE_REQUESTS, self.namespace, name, body)

    def read_secret(self, name: str, key: str) -> str:
        with explained(f"reading Secret {self.namespace}/{name}", self.server):
            secret = client.CoreV1Api(self.api).read_namespaced_secret(name, self.namespace)
        data = secret.data or {}
        if key not in data:
            raise KubeError(f"Secret {self.namespace}/{name} has no key {key}")
        return base64.b64decode(data[key]).decode()
