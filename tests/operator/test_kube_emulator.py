"""The embedded Kubernetes API: CRDs served, metadata stamped, kubeconfig usable."""

from pathlib import Path

import httpx
import kubernetes
import pytest

from kcr.crd import render_crds
from kcr.embedded.kube_emulator import EmulatorThread

pytestmark = pytest.mark.slow

KCR = "/apis/kcr.dev/v1alpha1/namespaces/default/kafkachangerequests"


def test_kubeconfig_works_with_the_kubernetes_client(tmp_path: Path) -> None:
    with EmulatorThread() as emulator:
        assert emulator.kube is not None
        path = emulator.kube.write_kubeconfig(tmp_path / "kubeconfig")
        client = kubernetes.config.new_client_from_config(config_file=str(path))
        api = kubernetes.client.CustomObjectsApi(client)
        body = {
            "apiVersion": "kcr.dev/v1alpha1",
            "kind": "KafkaChangeRequest",
            "metadata": {"name": "one"},
            "spec": {"cluster": "prod"},
        }
        api.create_namespaced_custom_object(
            "kcr.dev", "v1alpha1", "default", "kafkachangerequests", body
        )
        listed = api.list_namespaced_custom_object(
            "kcr.dev", "v1alpha1", "default", "kafkachangerequests"
        )
        crds = kubernetes.client.ApiextensionsV1Api(client).list_custom_resource_definition()

    assert [item["metadata"]["name"] for item in listed["items"]] == ["one"]
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert sorted(c.metadata.name for c in crds.items) == [
        "kafkachangerequests.kcr.dev",
        "kafkaclusters.kcr.dev",
    ]


def test_objects_get_the_metadata_the_api_server_adds() -> None:
    with EmulatorThread() as emulator:
        assert emulator.kube is not None
        client = httpx.Client(base_url=emulator.kube.url)
        created = client.post(
            KCR,
            json={"metadata": {"name": "one"}, "spec": {"cluster": "a"}},
        ).json()
        status = client.patch(
            f"{KCR}/one/status",
            json={"status": {"phase": "Pending"}},
            headers={"Content-Type": "application/merge-patch+json"},
        ).json()
        respec = client.patch(
            f"{KCR}/one",
            json={"spec": {"cluster": "b"}},
            headers={"Content-Type": "application/merge-patch+json"},
        ).json()
        event = client.post(
            "/api/v1/namespaces/default/events",
            json={"metadata": {"generateName": "kcr-"}, "reason": "Test"},
        ).json()
        stale = client.patch(
            f"{KCR}/one",
            json=[{"op": "test", "path": "/metadata/resourceVersion", "value": "1"}],
            headers={"Content-Type": "application/json-patch+json"},
        )
        client.close()

    meta = created["metadata"]
    assert meta["uid"]
    assert meta["creationTimestamp"]
    assert meta["generation"] == 1
    assert int(status["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])
    assert status["metadata"]["generation"] == 1
    assert respec["metadata"]["generation"] == 2
    assert event["metadata"]["name"].startswith("kcr-")
    assert stale.status_code == 422


def test_deployments_scale_through_the_subresource() -> None:
    with EmulatorThread() as emulator:
        assert emulator.kube is not None
        with httpx.Client(base_url=emulator.kube.url) as client:
            path = "/apis/apps/v1/namespaces/apps/deployments"
            client.post(path, json={"metadata": {"name": "billing"}, "spec": {"replicas": 3}})
            client.patch(
                f"{path}/billing/scale",
                json={"spec": {"replicas": 0}},
                headers={"Content-Type": "application/merge-patch+json"},
            )
            scale = client.get(f"{path}/billing/scale").json()
    assert scale["spec"]["replicas"] == 0


def test_crds_can_come_from_a_directory(tmp_path: Path) -> None:
    for name, text in render_crds().items():
        (tmp_path / name).write_text(text)
    with EmulatorThread(crd_dir=tmp_path) as emulator, httpx.Client() as client:
        assert emulator.kube is not None
        listing = client.get(f"{emulator.kube.url}/apis/kcr.dev/v1alpha1").json()
    assert {r["name"] for r in listing["resources"]} >= {"kafkachangerequests", "kafkaclusters"}


def test_a_directory_without_crds_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="no CustomResourceDefinition found"):
        EmulatorThread(crd_dir=tmp_path).start()
