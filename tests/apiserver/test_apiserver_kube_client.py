"""kcr's one Kubernetes client against the real API server: each refusal becomes the error
callers handle, with the status, whether to retry, what kcr was doing and the API server's
own words (an admission denial reads as the policy wrote it)."""

import asyncio
import base64
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import pytest

from kcr.kube.client import KubeClient
from kcr.kube.config import Credentials, from_kubeconfig, load_kubeconfig
from kcr.kube.errors import KubeConflictError, KubeError, KubeForbiddenError, KubeNotFoundError
from kcr.kube.resources import CHANGE_REQUESTS
from kcr.kube.secrets import SecretKeyError, read_secret
from kcr.mcp.gate.shared_ratelimit import LeaseBuckets
from kcr.operator.kube import OperatorKube

from .cluster import (
    ADMIN,
    ALICE,
    BOB,
    CAROL,
    MCP_ACCOUNT,
    NAMESPACE,
    OPERATOR_ACCOUNT,
    POLICY,
    SYSTEM_NAMESPACE,
    Cluster,
    account_user,
    change_request,
)

TIMEOUT_SECONDS = 10.0


def client(cluster: Cluster, who: str, token: str) -> KubeClient:
    """As the plugin and the MCP server connect: from a kubeconfig naming ``token``."""
    path = str(cluster.kubeconfig(who, token))
    connection = from_kubeconfig(path, None, None)
    return KubeClient(
        partial(load_kubeconfig, path),
        timeout=TIMEOUT_SECONDS,
        credentials=connection.credentials,
    )


def run(kube: KubeClient, call: Callable[[KubeClient], Awaitable[Any]]) -> Any:
    async def once() -> Any:
        try:
            return await call(kube)
        finally:
            await kube.aclose()

    return asyncio.run(once())


def refused(kube: KubeClient, call: Callable[[KubeClient], Awaitable[Any]]) -> KubeError:
    with pytest.raises(KubeError) as raised:
        run(kube, call)
    return raised.value


def test_a_missing_object_is_not_found_and_not_retried(cluster: Cluster, name: str) -> None:
    alice = client(cluster, ALICE.name, ALICE.token)
    error = refused(
        alice, lambda kube: kube.get(CHANGE_REQUESTS.path(NAMESPACE, name), f"reading {name}")
    )
    assert type(error) is KubeNotFoundError
    assert (error.status, error.retriable) == (404, False)
    assert str(error) == (
        f'reading {name}: kafkachangerequests.kcr.dev "{name}" not found (HTTP 404)'
    )


def test_find_answers_none_for_a_missing_object(cluster: Cluster, name: str) -> None:
    alice = client(cluster, ALICE.name, ALICE.token)
    assert run(alice, lambda kube: kube.find(CHANGE_REQUESTS.path(NAMESPACE, name), "x")) is None


def test_rbac_refusal_names_the_user_and_is_not_retried(cluster: Cluster, name: str) -> None:
    """The operator may read Kafka credentials in its own namespace only."""
    operator = OperatorKube(
        client(cluster, "kcr-operator", cluster.account_token(OPERATOR_ACCOUNT))
    )

    async def read() -> str:
        try:
            return await operator.read_secret(NAMESPACE, name, "password")
        finally:
            await operator.aclose()

    with pytest.raises(KubeError) as raised:
        asyncio.run(read())
    error = raised.value
    assert type(error) is KubeForbiddenError
    assert (error.status, error.retriable) == (403, False)
    assert str(error).startswith(f"reading Secret {NAMESPACE}/{name}: ")
    assert (
        f'secrets "{name}" is forbidden: User "{account_user(OPERATOR_ACCOUNT)}" cannot get '
        f'resource "secrets" in API group "" in the namespace "{NAMESPACE}"'
    ) in str(error)


def test_an_admission_denial_reads_as_the_policy_wrote_it(cluster: Cluster, name: str) -> None:
    assert cluster.as_person(ALICE).create(change_request(name, ALICE.name)).status_code == 201
    bob = client(cluster, BOB.name, BOB.token)
    error = refused(
        bob,
        lambda kube: kube.merge_patch(
            CHANGE_REQUESTS.path(NAMESPACE, name),
            {"metadata": {"annotations": {"kcr.dev/approved-by": CAROL.name}}},
            f"annotating KafkaChangeRequest {NAMESPACE}/{name}",
        ),
    )
    assert type(error) is KubeForbiddenError
    assert (error.status, error.retriable) == (403, False)
    assert str(error).startswith(f"annotating KafkaChangeRequest {NAMESPACE}/{name}: ")
    assert f"{POLICY} with binding 'kcr-approvals' denied request: " in str(error)
    assert (
        f"kcr.dev/approved-by may only gain the requesting user {BOB.name}; each approver "
        f"approves as themselves (added: {CAROL.name}) (HTTP 403)"
    ) in str(error)


def test_a_name_taken_is_a_conflict_worth_retrying(cluster: Cluster, name: str) -> None:
    body = change_request(name, ALICE.name)
    alice = client(cluster, ALICE.name, ALICE.token)

    async def twice(kube: KubeClient) -> None:
        for _ in range(2):
            await kube.create(CHANGE_REQUESTS.path(NAMESPACE), body, f"creating {name}")

    error = refused(alice, twice)
    assert type(error) is KubeConflictError
    assert (error.status, error.retriable) == (409, True)
    assert f'kafkachangerequests.kcr.dev "{name}" already exists (HTTP 409)' in str(error)


def test_a_stale_resource_version_is_a_conflict(cluster: Cluster, name: str) -> None:
    """``kubectl kcr approve`` writes with the resourceVersion it read, and reads again."""
    assert cluster.as_person(ALICE).create(change_request(name, ALICE.name)).status_code == 201
    admin = client(cluster, ADMIN.name, ADMIN.token)
    patch = {"metadata": {"resourceVersion": "1", "labels": {"team": "a"}}}
    error = refused(
        admin,
        lambda kube: kube.merge_patch(CHANGE_REQUESTS.path(NAMESPACE, name), patch, "labelling"),
    )
    assert type(error) is KubeConflictError
    assert (error.status, error.retriable) == (409, True)
    assert "the object has been modified" in str(error)


def test_a_lease_written_since_it_was_read_is_a_conflict(cluster: Cluster, name: str) -> None:
    """The shared rate limit's optimistic write, as the MCP server's own account makes it."""
    mcp = client(cluster, "kcr-mcp", cluster.account_token(MCP_ACCOUNT))
    leases = LeaseBuckets(mcp, SYSTEM_NAMESPACE, refill_seconds=60)

    async def race(_: KubeClient) -> None:
        await leases.create(name, "User:alice", 4.0, 1_000.0)
        read = await leases.read(name)
        assert read is not None
        assert (read.tokens, read.updated) == (4.0, 1_000.0)
        await leases.update(name, read.resource_version, 3.0, 1_001.0)
        await leases.update(name, read.resource_version, 2.0, 1_002.0)  # the stale one

    error = refused(mcp, race)
    assert type(error) is KubeConflictError
    assert error.retriable is True
    assert f"updating Lease {SYSTEM_NAMESPACE}/{name}: changed since it was read" in str(error)


def test_an_unknown_token_is_refused_after_one_login_again(cluster: Cluster) -> None:
    logins: list[str] = []

    def login() -> Credentials:
        logins.append("login")
        return Credentials(
            server=cluster.server.url,
            ca_file=str(cluster.server.ca_file),
            authorization="Bearer not-a-token",
        )

    kube = KubeClient(login, timeout=TIMEOUT_SECONDS)
    error = refused(kube, lambda kube: kube.get("/api/v1/namespaces", "listing namespaces"))
    assert (error.status, error.retriable) == (401, False)
    assert str(error) == "listing namespaces: Unauthorized (HTTP 401)"
    assert len(logins) == 2, "logged in once, and once again after the 401"


def test_a_rotated_token_is_picked_up_on_401(cluster: Cluster) -> None:
    """A service account token or an exec plugin's token expires: the next login has a new one."""
    tokens = iter(["Bearer expired", f"Bearer {ADMIN.token}"])

    def login() -> Credentials:
        return Credentials(
            server=cluster.server.url,
            ca_file=str(cluster.server.ca_file),
            authorization=next(tokens),
        )

    kube = KubeClient(login, timeout=TIMEOUT_SECONDS)
    found = run(kube, lambda kube: kube.get(f"/api/v1/namespaces/{NAMESPACE}", "reading"))
    assert found["metadata"]["name"] == NAMESPACE


SECRET_DATA = {
    "password": base64.b64encode(b"s3cret").decode(),
    "keystore": base64.b64encode(b"\xff\xfe\x00binary").decode(),
}


@pytest.mark.parametrize(
    ("key", "answer"),
    [
        ("password", "s3cret"),
        ("username", "has no key username"),
        ("keystore", "key keystore is not base64-encoded UTF-8 text"),
    ],
    ids=["decoded", "missing-key", "not-text"],
)
def test_a_secret_key_is_read_or_named(cluster: Cluster, name: str, key: str, answer: str) -> None:
    created = cluster.admin.http.post(
        f"/api/v1/namespaces/{NAMESPACE}/secrets",
        json={
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name},
            "data": SECRET_DATA,
        },
    )
    assert created.status_code == 201, created.text[:500]
    admin = client(cluster, ADMIN.name, ADMIN.token)
    if key == "password":
        assert run(admin, lambda kube: read_secret(kube, NAMESPACE, name, key)) == answer
        return
    error = refused(admin, lambda kube: read_secret(kube, NAMESPACE, name, key))
    assert type(error) is SecretKeyError
    assert error.retriable is False
    assert str(error) == f"Secret {NAMESPACE}/{name} {answer}"


@pytest.mark.parametrize(
    "name", ["../../../../api/v1/namespaces/kcr-system/secrets/kcr-kafka-ca", "..", "."]
)
def test_a_name_stays_one_path_segment(cluster: Cluster, name: str) -> None:
    """A name from a model's arguments cannot climb to another resource (here a Secret)."""
    admin = client(cluster, ADMIN.name, ADMIN.token)
    error = refused(admin, lambda kube: kube.get(CHANGE_REQUESTS.path(NAMESPACE, name), "reading"))
    assert error.status in (400, 404), str(error)
