"""The Kubernetes error family: which answers are worth retrying, and an API server that
never answers, named with the network's own reason."""

import asyncio
import socket
from pathlib import Path

import pytest

from kcr.kube.client import KubeClient
from kcr.kube.config import Credentials, KubeconfigError
from kcr.kube.errors import (
    KubeConflictError,
    KubeError,
    KubeForbiddenError,
    KubeNotFoundError,
    KubeUnreachableError,
    answered,
)
from kcr.kube.resources import CHANGE_REQUESTS
from kcr.kube.secrets import SecretKeyError


@pytest.mark.parametrize(
    ("status", "kind", "retriable"),
    [
        (400, KubeError, False),
        (401, KubeError, False),
        (403, KubeForbiddenError, False),
        (404, KubeNotFoundError, False),
        (409, KubeConflictError, True),
        (422, KubeError, False),
        (429, KubeError, True),
        (500, KubeError, True),
        (503, KubeError, True),
        (504, KubeError, True),
    ],
    ids=lambda value: str(value) if isinstance(value, int | bool) else value.__name__,
)
def test_each_status_is_its_error_and_says_whether_to_retry(
    status: int, kind: type[KubeError], retriable: bool
) -> None:
    error = answered(status, "the server's words", "reading KafkaCluster team-a/prod")
    assert type(error) is kind
    assert (error.status, error.retriable) == (status, retriable)
    assert str(error) == f"reading KafkaCluster team-a/prod: the server's words (HTTP {status})"


@pytest.mark.parametrize(
    ("error", "retriable"),
    [
        (KubeUnreachableError("no answer"), True),
        (KubeNotFoundError("Deployment billing/api was not found"), False),
        (KubeconfigError("cannot load the kubeconfig"), False),
        (SecretKeyError("Secret a/b has no key c"), False),
    ],
    ids=["unreachable", "not-found-by-kcr", "kubeconfig", "secret-key"],
)
def test_errors_raised_by_kcr_itself(error: KubeError, retriable: bool) -> None:
    assert error.retriable is retriable


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_an_api_server_that_does_not_answer_is_named() -> None:
    server = f"https://127.0.0.1:{closed_port()}"
    kube = KubeClient(lambda: Credentials(server=server), timeout=5.0)

    async def read() -> None:
        try:
            await kube.get(CHANGE_REQUESTS.path("team-a", "orders"), "reading orders")
        finally:
            await kube.aclose()

    with pytest.raises(KubeUnreachableError) as raised:
        asyncio.run(read())
    assert (raised.value.status, raised.value.retriable) == (None, True)
    assert str(raised.value) == (
        f"reading orders: cannot reach the Kubernetes API server {server}: Connection refused"
    )


def test_a_ca_file_that_is_not_one_is_named(tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.crt"
    ca_file.write_text("not a certificate")
    credentials = Credentials(server="https://127.0.0.1:6443", ca_file=str(ca_file))
    with pytest.raises(KubeError) as raised:
        KubeClient(lambda: credentials, timeout=5.0)
    assert str(raised.value).startswith(
        f"cannot use the TLS files {ca_file} for the Kubernetes API server https://127.0.0.1:6443: "
    )


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("orders", "/apis/kcr.dev/v1alpha1/namespaces/team-a/kafkachangerequests/orders"),
        ("a/b", "/apis/kcr.dev/v1alpha1/namespaces/team-a/kafkachangerequests/a%2Fb"),
        ("..", "/apis/kcr.dev/v1alpha1/namespaces/team-a/kafkachangerequests/%2E%2E"),
    ],
    ids=["plain", "slash", "dots"],
)
def test_a_name_is_one_path_segment(name: str, path: str) -> None:
    assert CHANGE_REQUESTS.path("team-a", name) == path


def test_an_api_server_that_never_answers_times_out() -> None:
    """Every call is bounded: a server that accepts the connection and stays silent."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        server = f"http://127.0.0.1:{silent.getsockname()[1]}"
        kube = KubeClient(lambda: Credentials(server=server), timeout=0.5)

        async def read() -> None:
            try:
                await kube.get(CHANGE_REQUESTS.path("team-a", "orders"), "reading orders")
            finally:
                await kube.aclose()

        with pytest.raises(KubeUnreachableError) as raised:
            asyncio.run(asyncio.wait_for(read(), 10))
    assert str(raised.value) == (
        f"reading orders: cannot reach the Kubernetes API server {server}: no answer within 0.5s"
    )
