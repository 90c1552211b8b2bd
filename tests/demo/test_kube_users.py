"""The emulator as people reach it: who they are, lists with a kind, printer-column tables."""

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from kcr.embedded.kube_tables import age, evaluate
from kcr.embedded.kube_users import PeopleKube

NAMESPACE = "team-a"
REQUESTS = f"/apis/kcr.dev/v1alpha1/namespaces/{NAMESPACE}/kafkachangerequests"
CLUSTERS = f"/apis/kcr.dev/v1alpha1/namespaces/{NAMESPACE}/kafkaclusters"
TABLE = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def kube() -> Iterator[PeopleKube]:
    running = PeopleKube(namespaces=(NAMESPACE,)).start()
    try:
        body = {
            "apiVersion": "kcr.dev/v1alpha1",
            "kind": "KafkaChangeRequest",
            "metadata": {"name": "raise-retention", "namespace": NAMESPACE},
            "spec": {
                "cluster": "prod",
                "change": {"type": "DeleteTopic", "deleteTopic": {"topic": "orders"}},
                "requestedBy": {"principal": "assistant", "channel": "mcp"},
            },
            "status": {"phase": "AwaitingApproval", "risk": "CRITICAL", "target": "topic/orders"},
        }
        httpx.post(f"{running.url}{REQUESTS}", json=body).raise_for_status()
        yield running
    finally:
        running.stop()


def whoami(kubeconfig: Path) -> str:
    api = config.new_client_from_config(config_file=str(kubeconfig), persist_config=False)
    try:
        review = client.AuthenticationV1Api(api).create_self_subject_review(
            client.V1SelfSubjectReview()
        )
    finally:
        api.close()
    return str(review.status.user_info.username)


def test_each_kubeconfig_is_its_own_user(kube: PeopleKube, tmp_path: Path) -> None:
    bob = kube.write_kubeconfig(tmp_path / "bob", "bob")
    carol = kube.write_kubeconfig(tmp_path / "carol", "carol")

    assert (whoami(bob), whoami(carol)) == ("bob", "carol")
    assert bob.stat().st_mode & 0o777 == 0o600


def test_an_unknown_token_is_nobody(kube: PeopleKube, tmp_path: Path) -> None:
    path = kube.write_kubeconfig(tmp_path / "dave", "dave")
    path.write_text(path.read_text().replace("token: dave-", "token: forged-"))

    with pytest.raises(ApiException) as refused:
        whoami(path)
    assert refused.value.status == 401


def test_lists_say_their_kind(kube: PeopleKube) -> None:
    listed = httpx.get(f"{kube.url}{REQUESTS}").json()

    assert (listed["apiVersion"], listed["kind"]) == ("kcr.dev/v1alpha1", "KafkaChangeRequestList")
    assert [item["metadata"]["name"] for item in listed["items"]] == ["raise-retention"]


def test_tables_use_the_crd_printer_columns(kube: PeopleKube) -> None:
    listed = httpx.get(f"{kube.url}{REQUESTS}", headers=TABLE).json()
    one = httpx.get(f"{kube.url}{REQUESTS}/raise-retention", headers=TABLE).json()

    names = [c["name"] for c in listed["columnDefinitions"]]
    assert names == [
        "Name", "Phase", "Risk", "Change", "Target", "Requested-By", "Approved-By", "Age"
    ]  # fmt: skip
    (row,) = listed["rows"]
    assert row["cells"][:7] == [
        "raise-retention", "AwaitingApproval", "CRITICAL", "DeleteTopic", "topic/orders",
        "assistant", "<none>",
    ]  # fmt: skip
    assert row["object"]["metadata"]["namespace"] == NAMESPACE
    assert one["rows"][0]["cells"][:7] == row["cells"][:7]


def test_discovery_gives_short_names_to_the_resource_only(kube: PeopleKube) -> None:
    found = httpx.get(f"{kube.url}/apis/kcr.dev/v1alpha1").json()["resources"]
    short = {r["name"]: r["shortNames"] for r in found}

    assert "kcr" in short["kafkachangerequests"]
    assert short["kafkachangerequests/status"] == []


@pytest.mark.usefixtures("kubectl_path")
def test_kubectl_get_prints_the_review_columns(kube: PeopleKube, tmp_path: Path) -> None:
    kubeconfig = kube.write_kubeconfig(tmp_path / "erin", "erin")
    result = subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), "get", "kcr"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "could also match" not in result.stderr
    header, row = result.stdout.splitlines()
    assert header.split() == [
        "NAME", "PHASE", "RISK", "CHANGE", "TARGET", "REQUESTED-BY", "APPROVED-BY", "AGE"
    ]  # fmt: skip
    assert row.split()[:7] == [
        "raise-retention", "AwaitingApproval", "CRITICAL", "DeleteTopic", "topic/orders",
        "assistant", "<none>",
    ]  # fmt: skip


CLUSTER: dict[str, Any] = {
    "spec": {"bootstrapServers": "kafka:9092"},
    "status": {
        "brokers": 3,
        "conditions": [
            {"type": "Degraded", "status": "False"},
            {"type": "Ready", "status": "True"},
        ],
    },
}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (".spec.bootstrapServers", "kafka:9092"),
        (".status.brokers", 3),
        ('.status.conditions[?(@.type=="Ready")].status', "True"),
        ('.status.conditions[?(@.type=="Missing")].status', None),
        (".status.absent.deeper", None),
        (".spec.bootstrapServers.notAMapping", None),
    ],
    ids=["dotted", "integer", "filtered", "filter-misses", "absent", "through-a-string"],
)
def test_printer_column_paths(path: str, value: object) -> None:
    assert evaluate(CLUSTER, path) == value


@pytest.mark.parametrize(
    ("ago", "shown"),
    [
        (timedelta(seconds=5), "5s"),
        (timedelta(seconds=119), "119s"),
        (timedelta(minutes=12), "12m"),
        (timedelta(hours=5), "5h"),
        (timedelta(days=3), "3d"),
    ],
    ids=["seconds", "under-two-minutes", "minutes", "hours", "days"],
)
def test_ages_read_as_kubectl_prints_them(ago: timedelta, shown: str) -> None:
    stamp = (NOW - ago).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert age(stamp, NOW) == shown


def test_clusters_get_their_printer_columns(kube: PeopleKube) -> None:
    body = {
        "apiVersion": "kcr.dev/v1alpha1",
        "kind": "KafkaCluster",
        "metadata": {"name": "prod", "namespace": NAMESPACE},
        **CLUSTER,
    }
    httpx.post(f"{kube.url}{CLUSTERS}", json=body).raise_for_status()
    listed = httpx.get(f"{kube.url}{CLUSTERS}", headers=TABLE).json()

    assert [c["name"] for c in listed["columnDefinitions"]] == ["Name", "Bootstrap", "Age"]
    assert listed["rows"][0]["cells"][:2] == ["prod", "kafka:9092"]
