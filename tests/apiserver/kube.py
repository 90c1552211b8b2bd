"""The API server as each person reaches it: plain REST over httpx, as kubectl sends it.

Plain REST keeps every refusal exactly as the API server wrote it (status code, reason and
message), which is what these tests assert.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

REQUESTS = "/apis/kcr.dev/v1alpha1/namespaces/{namespace}/kafkachangerequests"
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
WAIT_SECONDS = 60.0
POLL_SECONDS = 0.2

# Resource (plural) and whether it is namespaced, for each kind the manifests hold.
KINDS: dict[str, tuple[str, bool]] = {
    "CustomResourceDefinition": ("customresourcedefinitions", False),
    "Namespace": ("namespaces", False),
    "ConfigMap": ("configmaps", True),
    "ServiceAccount": ("serviceaccounts", True),
    "ClusterRole": ("clusterroles", False),
    "ClusterRoleBinding": ("clusterrolebindings", False),
    "Role": ("roles", True),
    "RoleBinding": ("rolebindings", True),
    "ValidatingAdmissionPolicy": ("validatingadmissionpolicies", False),
    "ValidatingAdmissionPolicyBinding": ("validatingadmissionpolicybindings", False),
    "KafkaChangeRequest": ("kafkachangerequests", True),
    "KafkaCluster": ("kafkaclusters", True),
}


def collection_path(document: dict[str, Any]) -> str:
    plural, namespaced = KINDS[document["kind"]]
    version = document["apiVersion"]
    group = "/api/v1" if version == "v1" else f"/apis/{version}"
    namespace = document["metadata"].get("namespace")
    assert namespace or not namespaced, f"{document['kind']} needs a namespace"
    return f"{group}/namespaces/{namespace}/{plural}" if namespaced else f"{group}/{plural}"


def documents(paths: Iterable[Path]) -> list[dict[str, Any]]:
    return [doc for path in paths for doc in yaml.safe_load_all(path.read_text()) if doc]


def refusal(response: httpx.Response) -> str:
    """The API server's own message for a refused request; fails if it was accepted."""
    assert response.is_error, f"accepted ({response.status_code}): {response.text[:500]}"
    body = response.json()
    assert body.get("kind") == "Status", response.text[:500]
    return str(body["message"])


@dataclass
class Kube:
    """One person's session with the API server."""

    http: httpx.Client

    def create(self, document: dict[str, Any], *, dry_run: bool = False) -> httpx.Response:
        """``kubectl create``, which asks for strict field validation: unknown fields fail."""
        params = {"fieldValidation": "Strict", **({"dryRun": "All"} if dry_run else {})}
        return self.http.post(collection_path(document), json=document, params=params)

    def apply_all(self, docs: Iterable[dict[str, Any]]) -> None:
        """Create each document; one that exists already is left as it is."""
        for document in docs:
            response = self.create(document)
            assert response.status_code in (201, 409), (
                f"{document['kind']} {document['metadata']['name']}: {response.text[:500]}"
            )

    def request_path(self, namespace: str, name: str = "") -> str:
        path = REQUESTS.format(namespace=namespace)
        return f"{path}/{name}" if name else path

    def get_request(self, namespace: str, name: str) -> dict[str, Any]:
        response = self.http.get(self.request_path(namespace, name))
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def annotate(self, namespace: str, name: str, **annotations: str | None) -> httpx.Response:
        """``kubectl annotate``: a merge patch of the request's annotations."""
        return self.http.patch(
            self.request_path(namespace, name),
            json={"metadata": {"annotations": annotations}},
            headers=MERGE_PATCH,
        )

    def patch_status(self, namespace: str, name: str, status: dict[str, Any]) -> httpx.Response:
        return self.http.patch(
            self.request_path(namespace, name) + "/status",
            json={"status": status},
            headers=MERGE_PATCH,
        )

    def service_account_token(self, namespace: str, name: str, audience: str | None) -> str:
        """A token from the TokenRequest API; ``None`` asks for the API server's audience."""
        spec: dict[str, Any] = {"expirationSeconds": 3600}
        if audience is not None:
            spec["audiences"] = [audience]
        response = self.http.post(
            f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
            json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec},
        )
        assert response.status_code == 201, response.text[:500]
        return str(response.json()["status"]["token"])

    def can(
        self, user: str, verb: str, resource: str, namespace: str, subresource: str = ""
    ) -> bool:
        """A SubjectAccessReview: what RBAC answers for ``user``."""
        groups = ["system:serviceaccounts"] if user.startswith("system:serviceaccount:") else []
        response = self.http.post(
            "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            json={
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SubjectAccessReview",
                "spec": {
                    "user": user,
                    "groups": groups,
                    "resourceAttributes": {
                        "group": "kcr.dev",
                        "resource": resource,
                        "subresource": subresource,
                        "verb": verb,
                        "namespace": namespace,
                    },
                },
            },
        )
        assert response.status_code == 201, response.text[:500]
        return bool(response.json()["status"].get("allowed"))


def wait_until(check: Callable[[], str | None], what: str, timeout: float = WAIT_SECONDS) -> None:
    """Poll ``check`` (None when satisfied, else why not) until it passes or time runs out."""
    deadline = time.monotonic() + timeout
    why: str | None = "not checked"
    while time.monotonic() < deadline:
        why = check()
        if why is None:
            return
        time.sleep(POLL_SECONDS)
    raise AssertionError(f"{what} not reached in {timeout:.0f}s: {why}")
