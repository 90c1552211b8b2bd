"""The Kubernetes side of the kubectl plugin: kubeconfig, KafkaChangeRequests, identity.

Everything goes through kcr's one client with the user's own kubeconfig, so RBAC and the
kcr-approvals admission policy see the person, not kcr. The commands are synchronous, so
the plain methods are too; each runs on one event loop kept for the plugin's run, where a
longer task (a diff against Kafka) runs whole through :meth:`PluginKube.run` and uses the
async methods.
"""

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from kcr.kube.client import KubeClient
from kcr.kube.config import from_kubeconfig, load_kubeconfig
from kcr.kube.errors import KubeError
from kcr.kube.resources import CHANGE_REQUESTS, KAFKA_CLUSTERS, ApiResource, KubeObject
from kcr.kube.secrets import read_secret

PLUGIN_TIMEOUT_SECONDS = 30.0
"""A bound on each call, so a person is never left waiting on a silent API server."""

T = TypeVar("T")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None


class PluginKube:
    """The person's session with the API server, for one run of the plugin."""

    def __init__(self, target: Target) -> None:
        connection = from_kubeconfig(target.kubeconfig, target.context, target.namespace)
        self.namespace = connection.namespace
        self.client = KubeClient(
            partial(load_kubeconfig, target.kubeconfig, target.context),
            timeout=PLUGIN_TIMEOUT_SECONDS,
            user_agent="kubectl-kcr",
            credentials=connection.credentials,
        )
        self._loop = asyncio.Runner()

    def run(self, call: Coroutine[Any, Any, T]) -> T:
        """One call (or a whole async task, such as a diff) on the plugin's event loop."""
        return self._loop.run(call)

    def close(self) -> None:
        self.run(self.client.aclose())
        self._loop.close()

    def whoami(self) -> str | None:
        """The user name the API server authenticates us as (SelfSubjectReview, 1.28+)."""
        return self.run(self._whoami())

    async def _whoami(self) -> str | None:
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        try:
            review = await self.client.create(
                "/apis/authentication.k8s.io/v1/selfsubjectreviews", body, "asking who you are"
            )
        except KubeError as error:
            if error.status in {404, 405}:
                log.debug("SelfSubjectReview is not served: %s", error)
                return None
            raise
        user = (review.get("status") or {}).get("userInfo") or {}
        return str(user["username"]) if user.get("username") else None

    def list_requests(self, namespace: str | None) -> list[KubeObject]:
        """Requests in ``namespace``, or in every namespace when it is None."""
        items = self.run(
            self.client.list_objects(
                CHANGE_REQUESTS.path(namespace), f"listing {CHANGE_REQUESTS.kinds}"
            )
        )
        return sorted(
            items,
            key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]),
        )

    def get_request(self, name: str) -> KubeObject:
        return self.run(self._get(CHANGE_REQUESTS, name))

    async def get_cluster(self, name: str) -> KubeObject:
        return await self._get(KAFKA_CLUSTERS, name)

    async def _get(self, resource: ApiResource, name: str) -> KubeObject:
        return await self.client.get(
            resource.path(self.namespace, name), f"reading {resource.kind} {self.namespace}/{name}"
        )

    def patch_annotations(
        self, name: str, annotations: dict[str, str | None], resource_version: str
    ) -> KubeObject:
        """Merge-patch annotations, only if nobody wrote the object since we read it."""
        body: dict[str, Any] = {
            "metadata": {"annotations": annotations, "resourceVersion": resource_version}
        }
        return self.run(
            self.client.merge_patch(
                CHANGE_REQUESTS.path(self.namespace, name),
                body,
                f"annotating KafkaChangeRequest {self.namespace}/{name}",
            )
        )

    async def read_secret(self, name: str, key: str) -> str:
        return await read_secret(self.client, self.namespace, name, key)
