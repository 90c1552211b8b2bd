"""Fixtures of the MCP suite: the incident on the broker, the Kubernetes emulator, servers.

The broker is the session's ``kafka_bootstrap`` (tansu, or ``KCR_KAFKA_BOOTSTRAP``); the
emulator runs in its own thread on a free 127.0.0.1 port; server subprocesses are started
on free ports and stopped by process id.
"""

import contextlib
import os
import signal
import socket
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kmock
import pytest
import yaml
from mcp_servers import (
    API_SERVER_TOKEN,
    KCR,
    REVIEWED_TOKEN,
    REVIEWED_USER,
    TOKENS,
    UNAWARE_TOKEN,
    Emulated,
    HttpServer,
)
from mcp_support import NAMESPACE, Incident, make_incident, wait_until
from oidc_issuer import Issuer, running_issuer

from kcr.embedded.kube_emulator import EmulatorThread
from kcr.mcp.gate.access_file import token_digest

REPLICA_SETS = "apps/v1/replicasets"
VERBS = {"get", "list", "watch", "create", "update", "patch", "delete"}


@pytest.fixture(scope="session")
def incident(kafka_bootstrap: str) -> Incident:
    return make_incident(kafka_bootstrap, f"kcr-mcp-{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulated]:
    with EmulatorThread(namespaces=(NAMESPACE,)) as thread:
        kube = thread.kube
        assert kube is not None
        kube.emulator.resources[REPLICA_SETS] = kmock.ResourceInfo(
            kind="ReplicaSet", singular="replicaset", namespaced=True, verbs=VERBS
        )
        path = kube.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config", NAMESPACE)
        yield Emulated(kube=kube, kubeconfig=path)


@pytest.fixture(scope="session")
def access_file(tmp_path_factory: pytest.TempPathFactory, incident: Incident) -> Path:
    """alice drafts within the incident's prefix; victor only views; burst is rate-limited."""
    prefix = incident.orders.rsplit(".", 1)[0] + "."
    document = {
        "tokens": [
            {
                "tokenSha256": token_digest(TOKENS["alice"]),
                "principal": "alice",
                "kubernetesUser": "oidc:alice",
                "roles": ["viewer", "drafter"],
                "tenant": "team-a",
                "topicPrefixes": [prefix],
                "groupPrefixes": [prefix],
            },
            {
                "token": TOKENS["victor"],
                "principal": "victor",
                "roles": ["viewer"],
                "topicPrefixes": ["*"],
                "groupPrefixes": ["*"],
            },
            {
                "token": TOKENS["burst"],
                "principal": "burst",
                "roles": ["viewer"],
                "topicPrefixes": ["*"],
                "groupPrefixes": ["*"],
            },
        ]
    }
    path = tmp_path_factory.mktemp("access") / "access.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


@pytest.fixture(scope="module")
def http_server(
    tmp_path_factory: pytest.TempPathFactory,
    kafka_bootstrap: str,
    emulator: Emulated,
    access_file: Path,
) -> Iterator[HttpServer]:
    """``kcr mcp --transport http`` with the access file, drafting into the emulator."""
    yield from serve_http(
        tmp_path_factory.mktemp("http"),
        kafka_bootstrap,
        emulator,
        f"--token-file={access_file}",
        "--rate-burst=12",
        "--rate-limit=1",
    )


def token_review(emulator: Emulated) -> Callable[[Any], dict[str, Any]]:
    """The API server's TokenReview, scripted: each known token has its audiences (None for
    an authenticator that ignores them); the answer names the audiences both sides share.

    A real API server keeps no TokenReview objects; the emulator stores each one, so the
    reaction forgets them again.
    """
    audiences_of: dict[str, list[str] | None] = {
        REVIEWED_TOKEN: ["kcr-mcp"],
        API_SERVER_TOKEN: ["https://kubernetes.default.svc"],
        UNAWARE_TOKEN: None,
    }

    def review(request: Any) -> dict[str, Any]:
        stored = emulator.kube.emulator.objects
        for key in [k for k in list(stored) if "tokenreviews" in str(k[0])]:
            stored[key].delete()
        spec = request.data["spec"]
        token, wanted = spec["token"], spec.get("audiences") or []
        status: dict[str, Any] = {"authenticated": False, "error": "invalid bearer token"}
        if token in audiences_of:
            issued = audiences_of[token]
            shared = None if issued is None else [a for a in wanted if a in issued]
            if shared is None or shared:
                status = {
                    "authenticated": True,
                    "user": {"username": REVIEWED_USER, "groups": ["kafka-oncall"]},
                }
                if shared:
                    status["audiences"] = shared
            else:
                status["error"] = "token audiences are invalid for the target audiences"
        return {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "status": status}

    return review


@pytest.fixture(scope="module")
def review_server(
    tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str, emulator: Emulated
) -> Iterator[HttpServer]:
    """``--token-review``: the emulator's TokenReview names the user, the file its grant."""
    emulator.kube.emulator["post /apis/authentication.k8s.io/v1/tokenreviews"] << token_review(
        emulator
    )
    workdir = tmp_path_factory.mktemp("review")
    access = workdir / "subjects.yaml"
    access.write_text(
        yaml.safe_dump(
            {
                "subjects": [
                    {
                        "group": "kafka-oncall",
                        "roles": ["viewer"],
                        "tenant": "oncall",
                        "topicPrefixes": ["*"],
                        "groupPrefixes": ["*"],
                    }
                ]
            }
        )
    )
    yield from serve_http(
        workdir, kafka_bootstrap, emulator, "--token-review", f"--token-file={access}"
    )


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    with running_issuer() as running:
        yield running


@pytest.fixture(scope="module")
def oidc_server(
    tmp_path_factory: pytest.TempPathFactory,
    kafka_bootstrap: str,
    emulator: Emulated,
    incident: Incident,
    issuer: Issuer,
) -> Iterator[HttpServer]:
    """JWTs from the issuer, beside a static token and TokenReview, all in one server.

    Names follow the API server's rules with the prefix ``oidc:``: alice drafts within the
    incident's prefix, the group kafka-oncall views everything.
    """
    emulator.kube.emulator["post /apis/authentication.k8s.io/v1/tokenreviews"] << token_review(
        emulator
    )
    prefix = incident.orders.rsplit(".", 1)[0] + "."
    workdir = tmp_path_factory.mktemp("oidc")
    access = workdir / "access.yaml"
    everything = {"topicPrefixes": ["*"], "groupPrefixes": ["*"]}
    access.write_text(
        yaml.safe_dump(
            {
                "tokens": [
                    {"token": TOKENS["victor"], "principal": "victor", "roles": ["viewer"]}
                    | everything
                ],
                "subjects": [
                    {
                        "user": "oidc:alice",
                        "roles": ["viewer", "drafter"],
                        "tenant": "team-a",
                        "topicPrefixes": [prefix],
                        "groupPrefixes": [prefix],
                    },
                    {"group": "oidc:kafka-oncall", "roles": ["viewer"], "tenant": "oncall"}
                    | everything,
                    {"group": "kafka-oncall", "roles": ["viewer"]} | everything,
                ],
            }
        )
    )
    yield from serve_http(
        workdir,
        kafka_bootstrap,
        emulator,
        f"--token-file={access}",
        f"--oidc-issuer={issuer.url}",
        "--oidc-username-claim=preferred_username",
        "--oidc-username-prefix=oidc:",
        "--oidc-groups-prefix=oidc:",
        "--token-review",
    )


@pytest.fixture(scope="module")
def replicas(
    tmp_path_factory: pytest.TempPathFactory,
    kafka_bootstrap: str,
    emulator: Emulated,
    access_file: Path,
) -> Iterator[tuple[HttpServer, HttpServer]]:
    """Two ``kcr mcp`` replicas counting rate limits in the emulator's Leases."""
    flags = (
        f"--token-file={access_file}",
        "--rate-limit-store=kubernetes",
        "--rate-burst=3",
        "--rate-limit=1",
    )
    first = serve_http(tmp_path_factory.mktemp("replica-a"), kafka_bootstrap, emulator, *flags)
    second = serve_http(tmp_path_factory.mktemp("replica-b"), kafka_bootstrap, emulator, *flags)
    with contextlib.closing(first), contextlib.closing(second):
        yield next(first), next(second)


@pytest.fixture(scope="module")
def sampling_replicas(
    tmp_path_factory: pytest.TempPathFactory,
    kafka_bootstrap: str,
    emulator: Emulated,
    access_file: Path,
) -> Iterator[tuple[HttpServer, HttpServer]]:
    """Two ``kcr mcp`` replicas electing their one group sampler with a Lease (3 s)."""
    flags = (
        f"--token-file={access_file}",
        "--sample-store=kubernetes",
        "--sample-interval=1",
        "--sample-lease-seconds=3",
    )
    first = serve_http(tmp_path_factory.mktemp("sampler-a"), kafka_bootstrap, emulator, *flags)
    second = serve_http(tmp_path_factory.mktemp("sampler-b"), kafka_bootstrap, emulator, *flags)
    with contextlib.closing(first), contextlib.closing(second):
        yield next(first), next(second)


@pytest.fixture(scope="module")
def guarded_server(
    tmp_path_factory: pytest.TempPathFactory,
    kafka_bootstrap: str,
    emulator: Emulated,
    access_file: Path,
) -> Iterator[HttpServer]:
    """Behind a real host name: only ``kcr.example:8000`` may appear in the Host header."""
    yield from serve_http(
        tmp_path_factory.mktemp("guarded"),
        kafka_bootstrap,
        emulator,
        f"--token-file={access_file}",
        "--allowed-host=kcr.example:8000",
    )


def serve_http(
    workdir: Path, kafka_bootstrap: str, emulator: Emulated, *extra: str
) -> Iterator[HttpServer]:
    port, metrics_port = free_port(), free_port()
    audit_log, log = workdir / "audit.jsonl", workdir / "server.log"
    arguments = [
        *KCR,
        "mcp",
        "--transport=http",
        f"--port={port}",
        f"--kafka-bootstrap={kafka_bootstrap}",
        f"--kubeconfig={emulator.kubeconfig}",
        f"--namespace={NAMESPACE}",
        "--cluster=prod",
        f"--audit-log={audit_log}",
        f"--metrics-port={metrics_port}",
        "--sample-interval=0",
        *extra,
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            arguments, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_until(
            lambda: listening(port) or process.poll() is not None, "the HTTP server to listen"
        )
        if process.poll() is not None:
            pytest.fail(f"kcr mcp exited with {process.returncode}: {log.read_text()[-2000:]}")
        yield HttpServer(f"http://127.0.0.1:{port}/mcp", audit_log, metrics_port, process, log)
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)
