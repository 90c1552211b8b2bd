"""etcd and kube-apiserver, built by ``make apiserver``, started on free loopback ports.

The API server authenticates people with static tokens (``--token-auth-file``, each with
its groups), authorizes with RBAC only, and signs ServiceAccount tokens with a key made
for the run, so TokenRequest and TokenReview work as in a cluster. Nothing else of a
cluster runs: no controller manager, no scheduler, no nodes.
"""

import csv
import os
import re
import shutil
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from kcr.embedded.processes import Child, Children, ProcessError
from kcr.embedded.tansu import LOOPBACK, free_port

BUILD_MODULE = Path(__file__).resolve().parent / "go" / "go.mod"
BIN_ENV = "KCR_APISERVER_BIN"
ISSUER = "https://kcr.test"
"""The ServiceAccount token issuer, and so the API server's own token audience."""
START_SECONDS = 120.0
POLL_SECONDS = 0.25


@dataclass(frozen=True)
class Person:
    """Someone the API server knows by a static token."""

    name: str
    groups: tuple[str, ...] = ()

    @property
    def token(self) -> str:
        return f"token-{self.name}"


@dataclass(frozen=True)
class ApiServer:
    url: str
    ca_file: Path
    """The self-signed serving certificate and its CA, as the API server wrote them."""
    directory: Path

    def client(self, token: str, headers: list[tuple[str, str]] | None = None) -> httpx.Client:
        """Requests as whoever ``token`` names, over TLS checked against the server's CA."""
        return httpx.Client(
            base_url=self.url,
            verify=ssl.create_default_context(cafile=self.ca_file),
            headers=[("Authorization", f"Bearer {token}"), *(headers or [])],
            timeout=30.0,
        )


def pinned_versions() -> tuple[str, str]:
    """(Kubernetes, etcd) as the build module pins them."""
    text = BUILD_MODULE.read_text()
    kubernetes = re.search(r"^\s*k8s\.io/kubernetes (v\S+)", text, re.MULTILINE)
    etcd = re.search(r"^\s*go\.etcd\.io/etcd/server/v3 (v\S+)", text, re.MULTILINE)
    assert kubernetes, f"{BUILD_MODULE} requires no k8s.io/kubernetes"
    assert etcd, f"{BUILD_MODULE} requires no go.etcd.io/etcd/server/v3"
    return kubernetes.group(1), etcd.group(1)


def binary_dir() -> Path:
    """Where tests/apiserver/build.sh puts the binaries (the same rule as the script)."""
    if os.environ.get(BIN_ENV):
        return Path(os.environ[BIN_ENV])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    kubernetes, etcd = pinned_versions()
    return cache / "kcr" / "apiserver" / f"{kubernetes}-etcd-{etcd}"


def missing_binaries() -> list[Path]:
    directory = binary_dir()
    return [
        directory / name
        for name in ("etcd", "kube-apiserver")
        if not os.access(directory / name, os.X_OK)
    ]


def write_token_file(path: Path, people: list[Person]) -> None:
    """``token,user,uid,"group1,group2"``: the static token file's CSV format."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        for person in people:
            groups = [",".join(person.groups)] if person.groups else []
            writer.writerow([person.token, person.name, person.name, *groups])
    path.chmod(0o600)


def write_signing_key(path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def start_etcd(children: Children, directory: Path) -> str:
    client_port, peer_port = free_port(), free_port()
    client_url, peer_url = f"http://{LOOPBACK}:{client_port}", f"http://{LOOPBACK}:{peer_port}"
    children.launch(
        "etcd",
        [
            str(binary_dir() / "etcd"),
            "--name=kcr-test",
            f"--data-dir={directory / 'etcd'}",
            f"--listen-client-urls={client_url}",
            f"--advertise-client-urls={client_url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=kcr-test={peer_url}",
            # A test store is thrown away afterwards; syncing each write to disk only slows it.
            "--unsafe-no-fsync",
        ],
    )
    return client_url


def start_kube_apiserver(
    children: Children, directory: Path, etcd_url: str, token_file: Path, key_file: Path
) -> tuple[Child, str]:
    port = free_port()
    cert_dir = directory / "certs"
    cert_dir.mkdir()
    child = children.launch(
        "kube-apiserver",
        [
            str(binary_dir() / "kube-apiserver"),
            f"--etcd-servers={etcd_url}",
            f"--bind-address={LOOPBACK}",
            f"--advertise-address={LOOPBACK}",
            f"--secure-port={port}",
            f"--cert-dir={cert_dir}",
            f"--token-auth-file={token_file}",
            "--authorization-mode=RBAC",
            "--anonymous-auth=false",
            f"--service-account-issuer={ISSUER}",
            f"--service-account-key-file={key_file}",
            f"--service-account-signing-key-file={key_file}",
            "--service-cluster-ip-range=10.96.0.0/24",
            "--endpoint-reconciler-type=none",
        ],
        grace=20.0,
    )
    return child, f"https://{LOOPBACK}:{port}"


def wait_ready(child: Child, url: str, ca_file: Path, admin_token: str) -> None:
    """Poll /readyz until it answers ok, the process exits, or START_SECONDS pass."""
    deadline = time.monotonic() + START_SECONDS
    last = "no answer yet"
    while time.monotonic() < deadline:
        if not child.running:
            raise child.exited()
        if ca_file.exists():
            try:
                answer = httpx.get(
                    f"{url}/readyz",
                    verify=ssl.create_default_context(cafile=ca_file),
                    headers={"Authorization": f"Bearer {admin_token}"},
                    timeout=5.0,
                )
                if answer.status_code == 200:
                    return
                last = f"{answer.status_code}: {answer.text[-500:]}"
            except httpx.HTTPError as error:
                last = str(error)
        time.sleep(POLL_SECONDS)
    raise ProcessError(
        f"kube-apiserver at {url} not ready in {START_SECONDS:.0f}s ({last}); "
        f"its log ends with:\n{child.log_tail()}"
    )


@contextmanager
def api_server(directory: Path, people: list[Person], admin: Person) -> Iterator[ApiServer]:
    """etcd and kube-apiserver for the duration of the block, stopped by pid afterwards."""
    token_file, key_file = directory / "tokens.csv", directory / "service-accounts.key"
    write_token_file(token_file, [admin, *people])
    write_signing_key(key_file)
    children = Children(directory)
    try:
        etcd_url = start_etcd(children, directory)
        child, url = start_kube_apiserver(children, directory, etcd_url, token_file, key_file)
        ca_file = directory / "certs" / "apiserver.crt"
        wait_ready(child, url, ca_file, admin.token)
        yield ApiServer(url=url, ca_file=ca_file, directory=directory)
    finally:
        children.stop_all()
        shutil.rmtree(directory / "etcd", ignore_errors=True)
