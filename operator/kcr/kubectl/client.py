"""The Kubernetes side of the kubectl plugin: kubeconfig, KafkaChangeRequests, identity.

Everything goes through the official client with the user's own kubeconfig, so RBAC and
the kcr-approvals admission policy see the person, not kcr.
"""

import base64
import json
import logging
from dataclasses import dataclass
from typing import Any, cast

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

GROUP = "kcr.dev"
VERSION = "v1alpha1"
REQUESTS = "kafkachangerequests"
CLUSTERS = "kafkaclusters"

log = logging.getLogger(__name__)


class KubeError(Exception):
    """A Kubernetes API answer a person should read: what failed and the server's reason."""


class NotFoundError(KubeError):
    pass


class ConflictError(KubeError):
    """The object changed since it was read; read it again and retry."""


@dataclass(frozen=True)
class Target:
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None


class KubeClient:
    def __init__(self, target: Target) -> None:
        try:
            self.api = config.new_client_from_config(  # type: ignore[no-untyped-call]
                config_file=target.kubeconfig, context=target.context, persist_config=False
            )
        except (ConfigException, FileNotFoundError) as error:
            raise KubeError(f"cannot load the kubeconfig: {error}") from error
        self.namespace = target.namespace or _context_namespace(target)
        self.objects = client.CustomObjectsApi(self.api)

    def close(self) -> None:
        self.api.close()

    def whoami(self) -> str | None:
        """The user name the API server authenticates us as (SelfSubjectReview, 1.28+)."""
        try:
            review = client.AuthenticationV1Api(self.api).create_self_subject_review(
                client.V1SelfSubjectReview()
            )
        except ApiException as error:
            if error.status in {404, 405}:
                log.debug("SelfSubjectReview is not served: %s", error.reason)
                return None
            raise _explain(error, "asking who you are") from error
        user = review.status.user_info if review is not None and review.status else None
        return user.username if user is not None and user.username else None

    def list_requests(self, namespace: str | None) -> list[dict[str, Any]]:
        """Requests in ``namespace``, or in every namespace when it is None."""
        try:
            if namespace is None:
                found = self.objects.list_cluster_custom_object(GROUP, VERSION, REQUESTS)
            else:
                found = self.objects.list_namespaced_custom_object(
                    GROUP, VERSION, namespace, REQUESTS
                )
        except ApiException as error:
            raise _explain(error, "listing KafkaChangeRequests") from error
        items = cast(list[dict[str, Any]], cast(dict[str, Any], found or {}).get("items", []))
        return sorted(
            items,
            key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]),
        )

    def get_request(self, name: str) -> dict[str, Any]:
        return self._get(REQUESTS, name, "KafkaChangeRequest")

    def get_cluster(self, name: str) -> dict[str, Any]:
        return self._get(CLUSTERS, name, "KafkaCluster")

    def _get(self, plural: str, name: str, kind: str) -> dict[str, Any]:
        try:
            found = self.objects.get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, plural, name
            )
        except ApiException as error:
            raise _explain(error, f"reading {kind} {self.namespace}/{name}") from error
        return cast(dict[str, Any], found)

    def patch_annotations(
        self, name: str, annotations: dict[str, str | None], resource_version: str
    ) -> dict[str, Any]:
        """Merge-patch annotations, only if nobody wrote the object since we read it."""
        body = {"metadata": {"annotations": annotations, "resourceVersion": resource_version}}
        try:
            patched = self.objects.patch_namespaced_custom_object(
                GROUP, VERSION, self.namespace, REQUESTS, name, body
            )
        except ApiException as error:
            doing = f"annotating KafkaChangeRequest {self.namespace}/{name}"
            raise _explain(error, doing) from error
        return cast(dict[str, Any], patched)

    def read_secret(self, name: str, key: str) -> str:
        try:
            secret = client.CoreV1Api(self.api).read_namespaced_secret(name, self.namespace)
        except ApiException as error:
            raise _explain(error, f"reading Secret {self.namespace}/{name}") from error
        data = secret.data or {}
        if key not in data:
            raise KubeError(f"Secret {self.namespace}/{name} has no key {key}")
        return base64.b64decode(data[key]).decode()


def _context_namespace(target: Target) -> str:
    """The namespace of the chosen (or current) context, as kubectl would use it."""
    try:
        contexts, active = config.list_kube_config_contexts(  # type: ignore[no-untyped-call]
            config_file=target.kubeconfig
        )
    except (ConfigException, FileNotFoundError) as error:
        raise KubeError(f"cannot load the kubeconfig: {error}") from error
    if target.context is not None:
        active = next((c for c in contexts if c["name"] == target.context), active)
    namespace = (active or {}).get("context", {}).get("namespace") or "default"
    return str(namespace)


def _explain(error: ApiException, doing: str) -> KubeError:
    """The API server's own message (an admission denial reads as the policy wrote it)."""
    message = error.reason or "error"
    if error.body:
        try:
            message = json.loads(error.body).get("message", message)
        except (ValueError, AttributeError):
            message = str(error.body)[:500]
    text = f"{doing}: {message} (HTTP {error.status})"
    if error.status == 404:
        return NotFoundError(text)
    if error.status == 409:
        return ConflictError(text)
    return KubeError(text)
